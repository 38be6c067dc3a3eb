//! What the operator knows of each sync's tickets between full searches. A full label search reads
//! every ticket of a sync (N / 100 pages); most events concern a few tickets only — a webhook names
//! one, the executor knows which it wrote — so those few are re-read by key and the rest is taken
//! from the last read. A full search still runs on the first reconcile, after a spec change, while
//! creates may be missing from search, and every poll interval (the safety net for missed webhooks).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::planner::ObservedTicket;

/// A sync, by namespace and name.
pub type SyncKey = (String, String);

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

/// The known tickets of every sync of a scope, and the keys to re-read before each one plans.
#[derive(Debug, Default)]
pub struct TicketCache {
    known: Mutex<HashMap<SyncKey, Known>>,
    stale: Mutex<HashMap<SyncKey, BTreeSet<String>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TicketCache {
    /// Marks tickets of a sync to be re-read before it plans next.
    pub fn mark_stale<I: IntoIterator<Item = String>>(&self, sync: &SyncKey, keys: I) {
        lock(&self.stale)
            .entry(sync.clone())
            .or_default()
            .extend(keys);
    }

    /// The syncs whose known tickets include `key`.
    pub fn syncs_knowing(&self, key: &str) -> Vec<SyncKey> {
        lock(&self.known)
            .iter()
            .filter(|(_, known)| known.tickets.contains_key(key))
            .map(|(sync, _)| sync.clone())
            .collect()
    }

    /// What to read for `sync` now. Takes the stale keys: whatever is read from here on covers
    /// them, and keys marked later wait for the next reconcile.
    pub fn reading(&self, sync: &SyncKey, freshness: &Freshness) -> Reading {
        let stale: Vec<String> = lock(&self.stale)
            .remove(sync)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let known = lock(&self.known);
        match known.get(sync) {
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
    pub fn searched(&self, sync: &SyncKey, freshness: &Freshness, found: Vec<Arc<ObservedTicket>>) {
        let tickets = found.into_iter().map(|t| (t.key.clone(), t)).collect();
        lock(&self.known).insert(
            sync.clone(),
            Known {
                tickets,
                searched: freshness.now,
                generation: freshness.generation,
                site: freshness.site.clone(),
            },
        );
    }

    /// Records tickets re-read by key: `asked` were read, `found` is what exists of them and
    /// still carries the sync's label. Before a first search nothing is known, and this is kept
    /// out: the search will read them.
    pub fn refreshed(&self, sync: &SyncKey, asked: &[String], found: Vec<Arc<ObservedTicket>>) {
        let mut known = lock(&self.known);
        let Some(entry) = known.get_mut(sync) else {
            return;
        };
        for key in asked {
            entry.tickets.remove(key);
        }
        entry
            .tickets
            .extend(found.into_iter().map(|t| (t.key.clone(), t)));
    }

    /// Every known ticket of the sync.
    pub fn known(&self, sync: &SyncKey) -> Vec<Arc<ObservedTicket>> {
        lock(&self.known)
            .get(sync)
            .map(|k| k.tickets.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a deleted sync.
    pub fn forget(&self, sync: &SyncKey) {
        lock(&self.known).remove(sync);
        lock(&self.stale).remove(sync);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> SyncKey {
        ("ns".into(), "s".into())
    }

    fn ticket(key: &str) -> Arc<ObservedTicket> {
        Arc::new(ObservedTicket {
            key: key.into(),
            url: String::new(),
            project: "SEC".into(),
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
        let cache = TicketCache::default();
        let now = Instant::now();
        assert_eq!(
            cache.reading(&sync(), &fresh(now)),
            Reading::Search {
                known: vec![],
                stale: vec![]
            }
        );
    }

    #[test]
    fn after_a_search_only_stale_keys_are_read_and_merged() {
        let cache = TicketCache::default();
        let now = Instant::now();
        cache.searched(&sync(), &fresh(now), vec![ticket("SEC-1"), ticket("SEC-2")]);
        assert_eq!(cache.reading(&sync(), &fresh(now)), Reading::Keys(vec![]));
        cache.mark_stale(&sync(), ["SEC-2".to_owned(), "SEC-3".to_owned()]);
        assert_eq!(
            cache.reading(&sync(), &fresh(now)),
            Reading::Keys(vec!["SEC-2".into(), "SEC-3".into()])
        );
        // Taken: the next reading has nothing stale.
        assert_eq!(cache.reading(&sync(), &fresh(now)), Reading::Keys(vec![]));
        // SEC-2 is gone (deleted, or lost the label), SEC-3 is new.
        cache.refreshed(
            &sync(),
            &["SEC-2".into(), "SEC-3".into()],
            vec![ticket("SEC-3")],
        );
        assert_eq!(keys(&cache.known(&sync())), ["SEC-1", "SEC-3"]);
    }

    #[test]
    fn a_full_search_is_due_after_the_poll_interval_a_spec_change_another_site_or_pending_creates()
    {
        let now = Instant::now();
        let reading = |f: Freshness| {
            let cache = TicketCache::default();
            cache.searched(&sync(), &fresh(now), vec![ticket("SEC-1")]);
            cache.mark_stale(&sync(), ["SEC-9".to_owned()]);
            cache.reading(&sync(), &f)
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
    fn forgetting_a_sync_brings_back_the_full_search_and_its_webhook_lookup() {
        let cache = TicketCache::default();
        let now = Instant::now();
        cache.searched(&sync(), &fresh(now), vec![ticket("SEC-1")]);
        assert_eq!(cache.syncs_knowing("SEC-1"), vec![sync()]);
        assert!(cache.syncs_knowing("SEC-2").is_empty());
        cache.forget(&sync());
        assert!(cache.syncs_knowing("SEC-1").is_empty());
        assert!(matches!(
            cache.reading(&sync(), &fresh(now)),
            Reading::Search { .. }
        ));
    }

    #[test]
    fn tickets_read_before_any_search_are_left_to_the_search() {
        let cache = TicketCache::default();
        cache.refreshed(&sync(), &["SEC-1".into()], vec![ticket("SEC-1")]);
        assert!(cache.known(&sync()).is_empty());
        assert!(cache.syncs_knowing("SEC-1").is_empty());
    }
}
