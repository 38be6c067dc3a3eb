//! The human form of an explanation.

use std::fmt::Write as _;

use super::{Explanation, SyncExplanation, TaskExplanation};
use crate::api::RecentAction;

/// The explanation as text.
pub fn render(explanation: &Explanation) -> String {
    match explanation {
        Explanation::ComplianceTask(task) => task_text(task),
        Explanation::JiraActiveSync(sync) => sync_text(sync),
    }
}

fn task_text(task: &TaskExplanation) -> String {
    let mut out = format!(
        "ComplianceTask {}/{}: check {}, {}, assignee {}\n",
        task.namespace,
        task.task,
        task.check,
        task.state,
        task.assignee.as_deref().unwrap_or("(none)")
    );
    match &task.owner {
        Some(owner) => {
            let _ = writeln!(out, "Owner: JiraActiveSync {owner}");
        }
        None => out.push_str("Owner: none: no sync of the namespace claims this task\n"),
    }
    out.push_str("\nClaims:\n");
    if task.claims.is_empty() {
        out.push_str("  (the namespace has no JiraActiveSync)\n");
    }
    for claim in &task.claims {
        let _ = writeln!(
            out,
            "  {:<24} {:<11} {}",
            claim.sync, claim.outcome, claim.why
        );
    }
    out.push_str("\nTicket: ");
    match &task.ticket {
        Some(ticket) => {
            let _ = writeln!(
                out,
                "{} ({}), recorded by {}{}",
                ticket.key.as_deref().unwrap_or("none yet"),
                ticket.status.as_deref().unwrap_or("status unknown"),
                ticket.sync,
                ticket
                    .url
                    .as_deref()
                    .map_or(String::new(), |url| format!(", {url}"))
            );
        }
        None => out.push_str("none recorded on the task\n"),
    }
    if let Some(grouping) = &task.grouping {
        let _ = writeln!(out, "Grouping: {grouping}");
    }
    actions(&mut out, &task.recent_actions);
    out
}

fn sync_text(sync: &SyncExplanation) -> String {
    let counts = sync.counts;
    let (tasks, completed) = (counts.tasks_in_scope, counts.tasks_completed);
    let (tickets, done) = (counts.tickets, counts.tickets_done);
    let checks = if sync.checks.is_empty() {
        "every task of the namespace".to_owned()
    } else {
        format!("checks {}", sync.checks.join(", "))
    };
    let mut out = format!(
        "JiraActiveSync {}/{}: {:?} mode into {}, {checks}\n\
         {tasks} task(s) ({completed} completed), {tickets} ticket(s) ({done} done); last pass: {}\n",
        sync.namespace,
        sync.sync,
        sync.mode,
        sync.project,
        sync.last_sync_time
            .map_or_else(|| "never".to_owned(), |t| t.to_string())
    );
    out.push_str("\nConditions:\n");
    for condition in &sync.conditions {
        let _ = writeln!(out, "  {condition}");
    }
    out.push_str("\nTickets:\n");
    if sync.tickets.is_empty() {
        out.push_str("  (none recorded on tasks)\n");
    }
    for ticket in &sync.tickets {
        let _ = writeln!(
            out,
            "  {:<10} {:<14} {}",
            ticket.key,
            ticket.status,
            ticket.tasks.join(", ")
        );
    }
    if !sync.conflicts.is_empty() {
        out.push_str("\nConflicts (an older sync naming the same check keeps these):\n");
        for (task, winner) in &sync.conflicts {
            let _ = writeln!(out, "  {task}: kept by {winner}");
        }
    }
    actions(&mut out, &sync.recent_actions);
    out
}

fn actions(out: &mut String, actions: &[RecentAction]) {
    out.push_str("\nRecent actions (newest first):\n");
    if actions.is_empty() {
        out.push_str("  (none recorded)\n");
    }
    for action in actions {
        let _ = writeln!(
            out,
            "  {}  {:<8} {:<8} {}",
            action.time.strftime("%Y-%m-%d %H:%M:%SZ"),
            action.action,
            action.ticket.as_deref().unwrap_or("-"),
            action.message
        );
    }
}
