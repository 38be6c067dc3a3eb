//! The comments the operator leaves on tickets, each within Jira's limit of 32,767 characters: a
//! long list of tasks names the first ones and counts the rest ("and 1,500 more"). Items are measured
//! as the site will store them: on Data Center, escaped wiki markup (every `-` becomes `\-`).

use super::inputs::{ObservedTicket, PlanInput};
use super::steps::ReopenReason;
use crate::jira::Flavor;
use crate::jira::description::wiki;

/// Jira's limit on a comment's text, in characters.
pub const COMMENT_LIMIT: usize = 32_767;

/// The characters a comment's list may take, leaving room for the sentence around it.
const LIST_ROOM: usize = COMMENT_LIMIT - 4_000;

/// "Closed: every task of this ticket is completed: ns/a, ns/b."
pub(super) fn closed(flavor: Flavor, namespace: &str, tasks: &[String]) -> String {
    let list = qualified(flavor, namespace, tasks);
    format!("Closed: every task of this ticket is completed: {list}.")
}

/// Why a ticket is re-opened, naming the tasks.
pub(super) fn reopened(
    flavor: Flavor,
    reason: &ReopenReason,
    namespace: &str,
    tasks: &[String],
) -> String {
    let list = qualified(flavor, namespace, tasks);
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
    match capped(input.sync.flavor, fates, "; ", total.saturating_sub(listed)) {
        list if list.is_empty() => "its tasks are no longer in this sync".to_owned(),
        list => list,
    }
}

/// `ns/a, ns/b`, cut to fit a comment with "and N more".
pub(super) fn qualified(flavor: Flavor, namespace: &str, names: &[String]) -> String {
    let items = names.iter().map(|n| format!("{namespace}/{n}"));
    capped(flavor, items, ", ", 0)
}

/// The items joined by `separator` while they fit in [`LIST_ROOM`] as the site stores them; the
/// items left out, and `beyond` more known only by count, are counted at the end.
fn capped(
    flavor: Flavor,
    items: impl Iterator<Item = String>,
    separator: &str,
    beyond: usize,
) -> String {
    let mut out = String::new();
    let mut used = 0;
    let mut more = beyond;
    let separator_cost = stored_len(flavor, separator);
    for item in items {
        // Once one item is left out, the rest are only counted, not measured.
        if more > beyond {
            more += 1;
            continue;
        }
        let cost = stored_len(flavor, &item) + separator_cost;
        if used + cost > LIST_ROOM {
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

/// The characters `text` takes in the comment Jira stores.
fn stored_len(flavor: Flavor, text: &str) -> usize {
    match flavor {
        Flavor::Cloud => text.chars().count(),
        Flavor::DataCenter => wiki::escape(text).chars().count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::description::comment_body;

    /// The length of the wiki markup Data Center stores for the comment `text`.
    fn stored_on_data_center(text: &str) -> usize {
        match comment_body(Flavor::DataCenter, text) {
            serde_json::Value::String(wiki) => wiki.chars().count(),
            other => panic!("a Data Center comment is wiki text, not {other}"),
        }
    }

    #[test]
    fn a_short_list_is_whole_and_a_long_one_is_counted() {
        let names: Vec<String> = (0..3).map(|i| format!("t{i}")).collect();
        assert_eq!(
            qualified(Flavor::Cloud, "ns", &names),
            "ns/t0, ns/t1, ns/t2"
        );
        let many: Vec<String> = (0..2_000)
            .map(|i| format!("a-task-with-a-long-name-{i:04}"))
            .collect();
        let text = closed(Flavor::Cloud, "payments", &many);
        assert!(text.chars().count() <= COMMENT_LIMIT, "{}", text.len());
        let listed = text.matches("payments/").count();
        assert!(
            text.ends_with(&format!(" and {} more.", 2_000 - listed)),
            "{text}"
        );
        let reason = ReopenReason::DoneInJiraWhileOpen;
        let text = reopened(Flavor::Cloud, &reason, "payments", &many);
        assert!(text.chars().count() <= COMMENT_LIMIT);
    }

    #[test]
    fn hyphen_dense_names_fit_once_escaped_for_data_center() {
        let many: Vec<String> = (0..2_000)
            .map(|i| format!("require-run-as-non-root-pod-web-5-b-{i:04}-1f2e3d4c"))
            .collect();
        let namespace = "big-batch-data-center";
        for text in [
            closed(Flavor::DataCenter, namespace, &many),
            reopened(
                Flavor::DataCenter,
                &ReopenReason::TasksReopened,
                namespace,
                &many,
            ),
        ] {
            let length = stored_on_data_center(&text);
            assert!(length <= COMMENT_LIMIT, "{length} characters stored");
            assert!(
                length > COMMENT_LIMIT - 4_000 - 200,
                "{length}: room wasted"
            );
        }
        let cloud = closed(Flavor::Cloud, namespace, &many);
        let data_center = closed(Flavor::DataCenter, namespace, &many);
        assert!(
            data_center.matches(namespace).count() < cloud.matches(namespace).count(),
            "Data Center lists fewer tasks, since each takes more once escaped"
        );
    }
}
