//! The audit trail in the sync's status: its last actions on tickets (`status.recentActions`),
//! newest first and bounded, recorded as their Events are made and written with the next status.
//! The full story of a ticket lives on the ticket itself (see docs/audit.md).

use super::conditions::truncate;
use super::context::Context;
use super::executor::Target;
use super::steps::StepEvent;
use crate::api::RecentAction;

/// How many actions the status keeps.
pub const RECENT_ACTIONS: usize = 20;
/// Task names kept per action; the rest are counted.
const LISTED_TASKS: usize = 10;
/// The longest message kept (as an Event note).
const MESSAGE_LIMIT: usize = 1024;

/// A sync's recent actions as this process knows them: those its status recorded when first
/// read (a restart keeps them), and those made since. The process's list is the newer one: a
/// status read from the cache can lag behind the last status written.
#[derive(Debug, Default)]
pub struct RecentActions {
    restored: bool,
    actions: Vec<RecentAction>,
}

impl RecentActions {
    /// Adds an action, keeping the newest [`RECENT_ACTIONS`].
    pub fn record(&mut self, action: RecentAction) {
        self.actions.insert(0, action);
        self.actions.truncate(RECENT_ACTIONS);
    }

    /// The list to write: on the first call, those the status records are taken in too.
    pub fn merged_with(&mut self, recorded: &[RecentAction]) -> Vec<RecentAction> {
        if !std::mem::replace(&mut self.restored, true) {
            self.actions.extend(recorded.iter().cloned());
            self.actions.sort_by_key(|a| std::cmp::Reverse(a.time));
            self.actions.truncate(RECENT_ACTIONS);
        }
        self.actions.clone()
    }
}

/// Records what an Event tells of an action on `ticket`.
pub fn record(ctx: &Context, target: &Target<'_>, ticket: Option<&str>, event: &StepEvent) {
    let tasks = &event.subject.tasks;
    let action = RecentAction {
        time: jiff::Timestamp::now(),
        action: event.action.to_owned(),
        reason: event.reason.to_owned(),
        ticket: ticket.map(str::to_owned),
        tasks: tasks.iter().take(LISTED_TASKS).cloned().collect(),
        task_count: u32::try_from(tasks.len()).unwrap_or(u32::MAX),
        message: truncate(&event.note, MESSAGE_LIMIT),
    };
    ctx.memory.with(&target.sync, |m| m.recent.record(action));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(second: i64, ticket: &str) -> RecentAction {
        RecentAction {
            time: jiff::Timestamp::from_second(1_800_000_000 + second).expect("valid"),
            action: "Close".into(),
            reason: "TicketClosed".into(),
            ticket: Some(ticket.into()),
            tasks: vec!["a".into()],
            task_count: 1,
            message: format!("closed {ticket}"),
        }
    }

    #[test]
    fn the_newest_twenty_are_kept_with_those_the_status_recorded_before_a_restart() {
        let mut recent = RecentActions::default();
        recent.record(action(100, "SEC-100"));
        let recorded: Vec<RecentAction> = (0..25)
            .rev()
            .map(|i| action(i, &format!("SEC-{i}")))
            .collect();
        let merged = recent.merged_with(&recorded);
        assert_eq!(merged.len(), RECENT_ACTIONS);
        assert_eq!(merged[0].ticket.as_deref(), Some("SEC-100"));
        assert_eq!(merged[1].ticket.as_deref(), Some("SEC-24"));
        assert_eq!(merged[19].ticket.as_deref(), Some("SEC-6"));
        let stale = [action(-5, "SEC-OLD")];
        assert_eq!(
            recent.merged_with(&stale),
            merged,
            "a lagging status read later adds nothing"
        );
        recent.record(action(200, "SEC-200"));
        let again = recent.merged_with(&[]);
        assert_eq!(again[0].ticket.as_deref(), Some("SEC-200"));
        assert_eq!(again.len(), RECENT_ACTIONS);
    }
}
