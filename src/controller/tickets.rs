//! What the operator knows of each sync's tickets between full searches. A full label search reads
//! every ticket of a sync (N / 100 pages); most events concern a few tickets only — a webhook names
//! one, the executor knows which it wrote — so those few are re-read by key and the rest is taken
//! from the last read. A full search still runs on the first reconcile, after a spec change, while
//! creates may be missing from search, and every poll interval (the safety net for missed webhooks).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::planner::ObservedTicket;

/// What a reconcile must read from Jira before it plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Every ticket of the sync, by label. Search may lag behind what the operator itself wrote or
    /// what a webhook reported, so the stale keys, and known keys the search misses, are then
    /// re-read by key.
    Search {
        /// Tickets known before the search.
        known: Vec<String>,
        /// Tickets reported changed since they were read.
        stale: Vec<String>,
    },
    /// Only these tickets, by key; the rest as last read.
    Keys(Vec<String>),
}

/// Why a full search is due, if it is.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// The sync's spec generation.
    pub generation: i64,
    /// The Jira site the sync's connection points at.
    pub site: String,
    /// The sync's poll interval.
    pub poll: Duration,
    /// Whether creates were sent that search may not show yet.
    pub pending_creates: bool,
    /// Now.
    pub now: Instant,
}

/// The tickets of one sync as last read.
#[derive(Debug, Clone)]
struct Known {
    tickets: BTreeMap<String, Arc<ObservedTicket>>,
    searched: Instant,
    generation: i64,
    site: String,
}

/// What is known of one sync's tickets, and the keys to re-read before it plans.
#[derive(Debug, Default)]
pub struct TicketKnowledge {
    known: Option<Known>,
    stale: BTreeSet<String>,
}

impl TicketKnowledge {
    /// Marks tickets to be re-read before the sync plans next.
    pub fn mark_stale<I: IntoIterator<Item = String>>(&mut self, keys: I) {
        self.stale.extend(keys);
    }

    /// Whether `key` is among the known tickets.
    pub fn knows(&self, key: &str) -> bool {
        self.known
            .as_ref()
            .is_some_and(|k| k.tickets.contains_key(key))
    }

    /// What to read now. Takes the stale keys: whatever is read from here on covers them, and keys
    /// marked later wait for the next reconcile.
    pub fn reading(&mut self, freshness: &Freshness) -> Reading {
        let stale: Vec<String> = std::mem::take(&mut self.stale).into_iter().collect();
        match &self.known {
            Some(k)
                if !freshness.pending_creates
                    && k.generation == freshness.generation
                    && k.site == freshness.site
                    && freshness.now.saturating_duration_since(k.searched) < freshness.poll =>
            {
                Reading::Keys(stale)
            }
            Some(k) => Reading::Search {
                known: k.tickets.keys().cloned().collect(),
                stale,
            },
            None => Reading::Search {
                known: Vec::new(),
                stale,
            },
        }
    }

    /// Records a full search: `found` are the search's tickets plus those re-read by key that
    /// still carry the sync's label.
    pub fn searched(&mut self, freshness: &Freshness, found: Vec<Arc<ObservedTicket>>) {
        self.known = Some(Known {
            tickets: found.into_iter().map(|t| (t.key.clone(), t)).collect(),
            searched: freshness.now,
            generation: freshness.generation,
            site: freshness.site.clone(),
        });
    }

    /// Records tickets re-read by key: `asked` were read, `found` is what exists of them and
    /// still carries the sync's label. Before a first search nothing is known, and this is kept
    /// out: the search will read them.
    pub fn refreshed(&mut self, asked: &[String], found: Vec<Arc<ObservedTicket>>) {
        let Some(known) = &mut self.known else {
            return;
        };
        for key in asked {
            known.tickets.remove(key);
        }
        known
            .tickets
            .extend(found.into_iter().map(|t| (t.key.clone(), t)));
    }

    /// Every known ticket.
    pub fn known(&self) -> Vec<Arc<ObservedTicket>> {
        self.known
            .as_ref()
            .map(|k| k.tickets.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(key: &str) -> Arc<ObservedTicket> {
        Arc::new(ObservedTicket {
            key: key.into(),
            url: String::new(),
            project: "SEC".into(),
            issue_type: "Task".into(),
            summary: String::new(),
            description_digest: crate::planner::TextDigest::default(),
            labels: Vec::new(),
            status: "To Do".into(),
            category: crate::jira::StatusCategory::New,
            priority: None,
            due_date: None,
            assignee: None,
            epic: None,
            property: None,
        })
    }

    fn fresh(now: Instant) -> Freshness {
        Freshness {
            generation: 1,
            site: "https://jira.example".into(),
            poll: Duration::from_secs(60),
            pending_creates: false,
            now,
        }
    }

    fn keys(tickets: &[Arc<ObservedTicket>]) -> Vec<&str> {
        tickets.iter().map(|t| t.key.as_str()).collect()
    }

    #[test]
    fn the_first_reading_is_a_full_search() {
        let mut cache = TicketKnowledge::default();
        let now = Instant::now();
        assert_eq!(
            cache.reading(&fresh(now)),
            Reading::Search {
                known: vec![],
                stale: vec![]
            }
        );
    }

    #[test]
    fn after_a_search_only_stale_keys_are_read_and_merged() {
        let mut cache = TicketKnowledge::default();
        let now = Instant::now();
        cache.searched(&fresh(now), vec![ticket("SEC-1"), ticket("SEC-2")]);
        assert_eq!(cache.reading(&fresh(now)), Reading::Keys(vec![]));
        cache.mark_stale(["SEC-2".to_owned(), "SEC-3".to_owned()]);
        assert_eq!(
            cache.reading(&fresh(now)),
            Reading::Keys(vec!["SEC-2".into(), "SEC-3".into()])
        );
        // Taken: the next reading has nothing stale.
        assert_eq!(cache.reading(&fresh(now)), Reading::Keys(vec![]));
        // SEC-2 is gone (deleted, or lost the label), SEC-3 is new.
        cache.refreshed(&["SEC-2".into(), "SEC-3".into()], vec![ticket("SEC-3")]);
        assert_eq!(keys(&cache.known()), ["SEC-1", "SEC-3"]);
        assert!(cache.knows("SEC-3") && !cache.knows("SEC-2"));
    }

    #[test]
    fn a_full_search_is_due_after_the_poll_interval_a_spec_change_another_site_or_pending_creates()
    {
        let now = Instant::now();
        let reading = |f: Freshness| {
            let mut cache = TicketKnowledge::default();
            cache.searched(&fresh(now), vec![ticket("SEC-1")]);
            cache.mark_stale(["SEC-9".to_owned()]);
            cache.reading(&f)
        };
        let search = Reading::Search {
            known: vec!["SEC-1".into()],
            stale: vec!["SEC-9".into()],
        };
        assert_eq!(reading(fresh(now + Duration::from_secs(60))), search);
        assert_eq!(
            reading(Freshness {
                generation: 2,
                ..fresh(now)
            }),
            search
        );
        assert_eq!(
            reading(Freshness {
                site: "https://other.example".into(),
                ..fresh(now)
            }),
            search
        );
        assert_eq!(
            reading(Freshness {
                pending_creates: true,
                ..fresh(now)
            }),
            search
        );
        assert_eq!(
            reading(fresh(now + Duration::from_secs(59))),
            Reading::Keys(vec!["SEC-9".into()])
        );
    }

    #[test]
    fn tickets_read_before_any_search_are_left_to_the_search() {
        let mut cache = TicketKnowledge::default();
        cache.refreshed(&["SEC-1".into()], vec![ticket("SEC-1")]);
        assert!(cache.known().is_empty());
        assert!(!cache.knows("SEC-1"));
    }
}
