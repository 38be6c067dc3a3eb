//! Creates sent to Jira that its search may not show yet. Until a label search shows one (or the
//! settle window passes), the planner waits for it rather than making the ticket twice; the sync's
//! status records them so that a process started after a crash waits too.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::api::PendingCreate;

/// The pending creates of one sync, by identity label, with when each was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingCreates(BTreeMap<String, Timestamp>);

impl PendingCreates {
    /// Notes that a create of `identity` was sent at `at`.
    pub fn note(&mut self, identity: String, at: Timestamp) {
        self.0.insert(identity, at);
    }

    /// Forgets a create that Jira refused or that was never sent: it cannot turn up in search.
    pub fn forget(&mut self, identity: &str) {
        self.0.remove(identity);
    }

    /// Takes the creates a sync's status records (written by an earlier process) where this one
    /// knows nothing newer. A time in the future (a hand-edited status) counts from now, which
    /// also keeps the settle arithmetic far from the end of time.
    pub fn restore(&mut self, recorded: &[PendingCreate], now: Timestamp) {
        for entry in recorded {
            self.0
                .entry(entry.identity.clone())
                .or_insert(entry.sent.min(now));
        }
    }

    /// Drops the creates a label search now shows (`indexed`, the operator labels it returned) and
    /// those older than the settle window. Only a label search settles a create: a ticket read by
    /// key is known to this process alone, while one started after a crash finds tickets by search.
    pub fn settle(&mut self, indexed: &[String], now: Timestamp, window: SignedDuration) {
        self.0.retain(|identity, sent| {
            !indexed.contains(identity) && sent.checked_add(window).unwrap_or(Timestamp::MAX) > now
        });
    }

    /// When the create of `identity` was sent, if it is pending.
    pub fn sent(&self, identity: &str) -> Option<Timestamp> {
        self.0.get(identity).copied()
    }

    /// Whether no create is pending.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As the sync's status records them.
    pub fn records(&self) -> Vec<PendingCreate> {
        self.0
            .iter()
            .map(|(identity, sent)| PendingCreate {
                identity: identity.clone(),
                sent: *sent,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).expect("valid")
    }

    #[test]
    fn a_create_settles_when_search_shows_it_or_the_window_passes() {
        let window = SignedDuration::from_secs(30);
        let mut pending = PendingCreates::default();
        pending.note("jas-task.a".into(), at(0));
        pending.note("jas-task.b".into(), at(0));
        pending.note("jas-task.c".into(), at(20));
        pending.settle(&["jas-task.a".into()], at(10), window);
        assert_eq!(pending.sent("jas-task.a"), None);
        assert_eq!(pending.sent("jas-task.b"), Some(at(0)));
        pending.settle(&[], at(30), window);
        assert_eq!(pending.sent("jas-task.b"), None, "its window passed");
        assert_eq!(pending.sent("jas-task.c"), Some(at(20)));
        pending.forget("jas-task.c");
        assert!(pending.is_empty());
    }

    #[test]
    fn restored_records_yield_to_newer_notes_and_never_lie_in_the_future() {
        let mut pending = PendingCreates::default();
        pending.note("jas-task.a".into(), at(50));
        let recorded = [
            PendingCreate {
                identity: "jas-task.a".into(),
                sent: at(5),
            },
            PendingCreate {
                identity: "jas-task.b".into(),
                sent: at(1_000),
            },
        ];
        pending.restore(&recorded, at(60));
        assert_eq!(pending.sent("jas-task.a"), Some(at(50)));
        assert_eq!(pending.sent("jas-task.b"), Some(at(60)));
        assert_eq!(pending.records().len(), 2);
    }

    #[test]
    fn an_endless_window_never_settles_by_time_and_does_not_overflow() {
        let mut pending = PendingCreates::default();
        pending.note("jas-task.a".into(), at(0));
        pending.settle(&[], at(1_000_000), SignedDuration::MAX);
        assert_eq!(pending.sent("jas-task.a"), Some(at(0)));
    }
}
