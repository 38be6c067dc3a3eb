//! The comments the operator leaves on tickets, each within Jira's limit of 32,767 characters: a
//! long list of tasks names the first ones and counts the rest ("and 1,500 more").

use super::inputs::{ObservedTicket, PlanInput};
use super::steps::ReopenReason;

/// Jira's limit on a comment's text, in characters.
pub const COMMENT_LIMIT: usize = 32_767;

/// The characters a comment's list may take, leaving room for the sentence around it.
const LIST_ROOM: usize = COMMENT_LIMIT - 4_000;

/// "Closed: every task of this ticket is completed: ns/a, ns/b."
pub(super) fn closed(namespace: &str, tasks: &[String]) -> String {
    let list = qualified(namespace, tasks);
    format!("Closed: every task of this ticket is completed: {list}.")
}

/// Why a ticket is re-opened, naming the tasks.
pub(super) fn reopened(reason: &ReopenReason, namespace: &str, tasks: &[String]) -> String {
    let list = qualified(namespace, tasks);
    match reason {
        ReopenReason::TasksReopened => {
            format!("Re-opened: these tasks are open again or joined this ticket: {list}.")
        }
        ReopenReason::DoneInJiraWhileOpen => format!(
            "Re-opened: this ticket was marked done in Jira while these tasks are still open: \
             {list}. The tasks are the source of truth (jiraCompletion: Reopen); complete them in \
             Kubernetes to close this ticket."
        ),
    }
}

/// Why a ticket no task needs is closed and released.
pub(super) fn orphaned(input: &PlanInput<'_>, ticket: &ObservedTicket) -> String {
    let sync = &input.sync;
    format!(
        "Closed by the JiraActiveSync {}/{}: {}. This ticket is no longer kept in step.",
        sync.namespace,
        sync.name,
        orphan_why(input, ticket)
    )
}

/// What became of each task an orphaned ticket records.
fn orphan_why(input: &PlanInput<'_>, ticket: &ObservedTicket) -> String {
    let namespace = input.sync.namespace;
    let recorded = ticket.property.as_ref();
    let fates = recorded.iter().flat_map(|p| p.tasks.keys()).map(|name| {
        let task = format!("{namespace}/{name}");
        match input.others.get(name) {
            None if input.tasks.iter().any(|t| &t.name == name) => {
                format!("{task} moved to another ticket of this sync")
            }
            None => format!("{task} was deleted"),
            Some(other) => match &other.owner {
                Some(owner) => format!("{task} is now kept by the sync {owner}"),
                None => format!("{task} left the scope of this sync"),
            },
        }
    });
    let listed = recorded.map_or(0, |p| p.tasks.len());
    let total = recorded.map_or(0, |p| p.task_count());
    match capped(fates, "; ", total.saturating_sub(listed)) {
        list if list.is_empty() => "its tasks are no longer in this sync".to_owned(),
        list => list,
    }
}

/// `ns/a, ns/b`, cut to fit a comment with "and N more".
pub(super) fn qualified(namespace: &str, names: &[String]) -> String {
    capped(names.iter().map(|n| format!("{namespace}/{n}")), ", ", 0)
}

/// The items joined by `separator` while they fit in [`LIST_ROOM`]; the items left out, and
/// `beyond` more known only by count, are counted at the end.
fn capped(items: impl Iterator<Item = String>, separator: &str, beyond: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let mut more = beyond;
    for item in items {
        let cost = item.chars().count() + separator.chars().count();
        if more > beyond || used + cost > LIST_ROOM {
            more += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(separator);
        }
        out.push_str(&item);
        used += cost;
    }
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_is_whole_and_a_long_one_is_counted() {
        let names: Vec<String> = (0..3).map(|i| format!("t{i}")).collect();
        assert_eq!(qualified("ns", &names), "ns/t0, ns/t1, ns/t2");
        let many: Vec<String> = (0..2_000)
            .map(|i| format!("a-task-with-a-long-name-{i:04}"))
            .collect();
        let text = closed("payments", &many);
        assert!(text.chars().count() <= COMMENT_LIMIT, "{}", text.len());
        let listed = text.matches("payments/").count();
        assert!(
            text.ends_with(&format!(" and {} more.", 2_000 - listed)),
            "{text}"
        );
        let reason = ReopenReason::DoneInJiraWhileOpen;
        assert!(reopened(&reason, "payments", &many).chars().count() <= COMMENT_LIMIT);
    }
}
