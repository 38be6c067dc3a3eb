//! The human form of a preview, in the manner of `terraform plan`: one line per action with its
//! details indented below, then a summary line.

use std::fmt::Write as _;

use super::report::{Operation, OwnershipChange, Preview, PreviewAction};

/// The preview as text.
pub fn render(preview: &Preview) -> String {
    let mut out = header(preview);
    section(
        &mut out,
        "Ownership",
        preview.ownership.iter().map(ownership_line),
    );
    let mut actions = String::new();
    for action in &preview.actions {
        action_lines(&mut actions, action);
    }
    if !actions.is_empty() {
        let _ = write!(out, "\nJira:\n{actions}");
    }
    let namespace = &preview.namespace;
    section(
        &mut out,
        "Tasks",
        preview.task_writes.iter().map(|w| {
            let ticket = w
                .ticket
                .as_deref()
                .map_or(String::new(), |t| format!(" {t}"));
            format!(
                "~ {namespace}/{}: {}{ticket}",
                w.task,
                w.write.to_lowercase()
            )
        }),
    );
    section(
        &mut out,
        "Warnings",
        preview.warnings.iter().map(|w| format!("! {w}")),
    );
    if let Some(deletion) = preview
        .on_deletion
        .as_ref()
        .filter(|_| preview.operation == Operation::Apply)
    {
        let _ = write!(
            out,
            "\nOn deletion (deletionPolicy: {:?}): {}.\n",
            deletion.policy, deletion.effect
        );
    }
    out.push('\n');
    out.push_str(&summary(preview));
    out.push('\n');
    for other in &preview.affected {
        out.push_str("\nWhich changes another sync's tasks:\n");
        for line in render(other).lines() {
            let _ = writeln!(out, "  |{}{line}", if line.is_empty() { "" } else { " " });
        }
    }
    out
}

fn header(preview: &Preview) -> String {
    let state = match (preview.operation, preview.exists) {
        (Operation::Delete, _) => {
            return match &preview.on_deletion {
                Some(deletion) => format!(
                    "JiraActiveSync {}/{} (deletion, deletionPolicy: {:?}): {}\n",
                    preview.namespace, preview.sync, deletion.policy, deletion.effect
                ),
                None => format!(
                    "JiraActiveSync {}/{} (deletion)\n",
                    preview.namespace, preview.sync
                ),
            };
        }
        (Operation::Apply, true) => "existing",
        (Operation::Apply, false) => "new",
    };
    let mut out = format!(
        "JiraActiveSync {}/{} ({state}, {:?} mode): {} task(s) in scope, {} completed, {} ticket(s)\n",
        preview.namespace,
        preview.sync,
        preview.mode,
        preview.counts.tasks_in_scope,
        preview.counts.tasks_completed,
        preview.counts.tickets
    );
    if preview.suspended {
        out.push_str("spec.suspend is true: nothing is written to Jira or to tasks\n");
    }
    out
}

fn section(out: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

fn ownership_line(change: &OwnershipChange) -> String {
    let other = change.sync.as_deref();
    match (change.change.as_str(), other) {
        ("TakeOver", Some(from)) => format!("+ {}: taken over from the sync {from}", change.task),
        ("Release", Some(to)) => format!("- {}: released to the sync {to}", change.task),
        ("Release", None) => format!("- {}: released; no sync claims it", change.task),
        (_, other) => format!(
            "! {}: claimed, but the older sync {} keeps it (Conflict)",
            change.task,
            other.unwrap_or("?")
        ),
    }
}

fn action_lines(out: &mut String, action: &PreviewAction) {
    let sign = match action.action.as_str() {
        "Create" => '+',
        "Update" | "Comment" => '~',
        "Reopen" => '^',
        "Delete" => 'x',
        _ => '-',
    };
    let ticket = action.ticket.as_deref().unwrap_or("new ticket");
    let reason = action
        .reason
        .as_deref()
        .map_or(String::new(), |r| format!(" ({r})"));
    let verb = action.action.to_lowercase();
    let _ = writeln!(
        out,
        "  {sign} {verb:<8}{ticket}{reason} for {}",
        action.grouping
    );
    if let Some(summary) = &action.summary {
        let _ = writeln!(out, "      summary: {summary:?}");
    }
    for change in &action.changes {
        let to = change.to.as_deref().unwrap_or("(none)");
        match &change.from {
            Some(from) => {
                let _ = writeln!(out, "      {}: {from:?} -> {to:?}", change.field);
            }
            None => {
                let _ = writeln!(out, "      {}: -> {to:?}", change.field);
            }
        }
    }
    if let Some(comment) = &action.comment {
        let _ = writeln!(out, "      comment: {comment:?}");
    }
}

/// "Plan: 2 to create, ..." or "No changes."
fn summary(preview: &Preview) -> String {
    if !preview.changes {
        return format!(
            "No changes: JiraActiveSync {}/{} is in step with Jira.",
            preview.namespace, preview.sync
        );
    }
    let count = |kind: &str| preview.actions.iter().filter(|a| a.action == kind).count();
    format!(
        "Plan: {} to create, {} to update, {} to close, {} to re-open, {} to release, {} to delete; {} task write(s).",
        count("Create"),
        count("Update"),
        count("Close") + count("Retire"),
        count("Reopen"),
        count("Release"),
        count("Delete"),
        preview.task_writes.len()
    )
}
