//! What search sees: a copy of the issues that trails the store by the configured lag, like Jira's index.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::model::Issue;

/// The indexed copy of the issues, with changes waiting to become visible.
#[derive(Debug, Default)]
pub struct SearchIndex {
    visible: BTreeMap<u64, Issue>,
    pending: VecDeque<(Instant, u64, Option<Issue>)>,
}

impl SearchIndex {
    /// Queues the new state of an issue (`None`: deleted), visible after `lag`.
    pub fn record(&mut self, id: u64, issue: Option<Issue>, lag: Duration, now: Instant) {
        if lag.is_zero() && self.pending.is_empty() {
            self.apply(id, issue);
        } else {
            self.pending.push_back((now + lag, id, issue));
        }
    }

    /// Makes every change whose time has come visible, in the order they happened.
    pub fn catch_up(&mut self, now: Instant) {
        while self.pending.front().is_some_and(|(at, _, _)| *at <= now) {
            if let Some((_, id, issue)) = self.pending.pop_front() {
                self.apply(id, issue);
            }
        }
    }

    /// The issues search can see, by id.
    pub fn visible(&self) -> impl Iterator<Item = &Issue> {
        self.visible.values()
    }

    fn apply(&mut self, id: u64, issue: Option<Issue>) {
        match issue {
            Some(issue) => {
                self.visible.insert(id, issue);
            }
            None => {
                self.visible.remove(&id);
            }
        }
    }
}
