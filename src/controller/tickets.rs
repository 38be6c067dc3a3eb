//! What the operator knows of each sync's tickets between full searches. A full label search reads
//! every ticket of a sync (N / 100 pages); most events concern a few tickets only — a webhook names
//! one, the executor knows which it wrote — so those few are re-read by key and the rest is taken
//! from the last read. Each poll interval (the safety net for missed webhooks) asks Jira only for
//! the sync's tickets updated since the last poll (with a margin); a full search runs on the first
//! reconcile, after a spec change, while creates may be missing from search, and every
//! [`FULL_SEARCH_EVERY`]th poll (which finds tickets deleted or unlabelled by hand). On Data Center,
//! whose search cannot return entity properties, a full search reuses the property of every ticket
//! Jira has not updated since it was read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::planner::ObservedTicket;

/// Every how many polls the poll is a full label search rather than one for updated tickets.
pub const FULL_SEARCH_EVERY: u32 = 10;

/// How far before the last poll a poll for updated tickets reaches back: Jira's search lags
/// behind its writes, and `updated` is compared at minute precision.
pub const POLL_MARGIN: Duration = Duration::from_secs(60);

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
    /// The sync's tickets Jira updated in the last `minutes` minutes (JQL `updated >= -Nm`), and
    /// the stale keys by key; the rest as last read.
    Changed {
        /// How far back, in whole minutes: since the last poll, plus [`POLL_MARGIN`].
        minutes: u64,
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

/// A ticket as read, with the time Jira last updated it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The planner's view of it.
    pub ticket: Arc<ObservedTicket>,
    /// Jira's `updated`, if it gave one.
    pub updated: Option<Timestamp>,
}

/// The tickets of one sync as last read.
#[derive(Debug, Clone)]
struct Known {
    tickets: BTreeMap<String, Seen>,
    /// When the last full search or poll for updated tickets started.
    polled: Instant,
    /// Polls for updated tickets since the last full search.
    polls: u32,
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
        let Some(k) = &self.known else {
            return Reading::Search {
                known: Vec::new(),
                stale,
            };
        };
        let since = freshness.now.saturating_duration_since(k.polled);
        let same = k.generation == freshness.generation && k.site == freshness.site;
        if same && !freshness.pending_creates && since < freshness.poll {
            Reading::Keys(stale)
        } else if same && !freshness.pending_creates && k.polls + 1 < FULL_SEARCH_EVERY {
            Reading::Changed {
                minutes: (since + POLL_MARGIN).as_secs().div_ceil(60),
                stale,
            }
        } else {
            Reading::Search {
                known: k.tickets.keys().cloned().collect(),
                stale,
            }
        }
    }

    /// Records a full search: `found` are the search's tickets plus those re-read by key that
    /// still carry the sync's label.
    pub fn searched(&mut self, freshness: &Freshness, found: Vec<Seen>) {
        self.known = Some(Known {
            tickets: found
                .into_iter()
                .map(|t| (t.ticket.key.clone(), t))
                .collect(),
            polled: freshness.now,
            polls: 0,
            generation: freshness.generation,
            site: freshness.site.clone(),
        });
    }

    /// Records a poll for updated tickets: `asked` are the stale keys re-read by key, `found` the
    /// updated tickets and what exists of `asked` that still carries the sync's label.
    pub fn polled(&mut self, freshness: &Freshness, asked: &[String], found: Vec<Seen>) {
        self.refreshed(asked, found);
        if let Some(known) = &mut self.known {
            known.polled = freshness.now;
            known.polls += 1;
        }
    }

    /// Records tickets re-read by key: `asked` were read, `found` is what exists of them and
    /// still carries the sync's label. Before a first search nothing is known, and this is kept
    /// out: the search will read them.
    pub fn refreshed(&mut self, asked: &[String], found: Vec<Seen>) {
        let Some(known) = &mut self.known else {
            return;
        };
        for key in asked {
            known.tickets.remove(key);
        }
        known
            .tickets
            .extend(found.into_iter().map(|t| (t.ticket.key.clone(), t)));
    }

    /// The known ticket `key` if Jira has not updated it since it was read (`updated` is what
    /// Jira says now): what it was read with, its entity property included, still holds.
    pub fn unchanged(&self, key: &str, updated: Option<Timestamp>) -> Option<Arc<ObservedTicket>> {
        let seen = self.known.as_ref()?.tickets.get(key)?;
        (updated.is_some() && seen.updated == updated).then(|| seen.ticket.clone())
    }

    /// Every known ticket.
    pub fn known(&self) -> Vec<Arc<ObservedTicket>> {
        self.known
            .as_ref()
            .map(|k| k.tickets.values().map(|s| s.ticket.clone()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(key: &str) -> Seen {
        seen(key, 0)
    }

    /// `key` as Jira last updated it `at` seconds into the test.
    fn seen(key: &str, at: i64) -> Seen {
        Seen {
            ticket: Arc::new(ObservedTicket {
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
            }),
            updated: Some(Timestamp::from_second(1_800_000_000 + at).expect("valid")),
        }
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

    const MINUTE: Duration = Duration::from_secs(60);

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
    fn a_poll_reads_the_tickets_updated_since_the_last_with_a_margin_and_every_tenth_searches() {
        let start = Instant::now();
        let mut cache = TicketKnowledge::default();
        cache.searched(&fresh(start), vec![ticket("SEC-1")]);
        cache.mark_stale(["SEC-9".to_owned()]);
        let mut now = start + MINUTE;
        for poll in 1..FULL_SEARCH_EVERY {
            let changed = Reading::Changed {
                minutes: 2,
                stale: if poll == 1 {
                    vec!["SEC-9".into()]
                } else {
                    vec![]
                },
            };
            assert_eq!(cache.reading(&fresh(now)), changed, "poll {poll}");
            cache.polled(&fresh(now), &[], vec![seen("SEC-2", 60)]);
            now += MINUTE;
        }
        let search = Reading::Search {
            known: vec!["SEC-1".into(), "SEC-2".into()],
            stale: vec![],
        };
        assert_eq!(cache.reading(&fresh(now)), search, "the tenth poll");
        // A late poll reaches back to the last one, rounded up to whole minutes.
        cache.searched(&fresh(now), vec![ticket("SEC-1")]);
        let late = now + Duration::from_secs(5 * 60 + 1);
        let changed = cache.reading(&fresh(late));
        assert_eq!(
            changed,
            Reading::Changed {
                minutes: 7,
                stale: vec![]
            }
        );
    }

    #[test]
    fn a_full_search_is_due_after_a_spec_change_another_site_or_pending_creates() {
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
        let changed = |f: Freshness| Freshness {
            now: now + MINUTE,
            ..f
        };
        for due in [
            Freshness {
                generation: 2,
                ..fresh(now)
            },
            Freshness {
                site: "https://other.example".into(),
                ..fresh(now)
            },
            Freshness {
                pending_creates: true,
                ..fresh(now)
            },
        ] {
            assert_eq!(reading(due.clone()), search, "{due:?}");
            assert_eq!(reading(changed(due)), search);
        }
        assert_eq!(
            reading(fresh(now + Duration::from_secs(59))),
            Reading::Keys(vec!["SEC-9".into()])
        );
    }

    #[test]
    fn a_ticket_jira_has_not_updated_since_it_was_read_is_reused() {
        let mut cache = TicketKnowledge::default();
        let at = |s: i64| Some(Timestamp::from_second(1_800_000_000 + s).expect("valid"));
        assert!(
            cache.unchanged("SEC-1", at(0)).is_none(),
            "nothing known yet"
        );
        cache.searched(&fresh(Instant::now()), vec![seen("SEC-1", 0)]);
        assert!(cache.unchanged("SEC-1", at(0)).is_some());
        assert!(cache.unchanged("SEC-1", at(1)).is_none(), "updated since");
        assert!(
            cache.unchanged("SEC-1", None).is_none(),
            "no time to compare"
        );
        assert!(cache.unchanged("SEC-2", at(0)).is_none());
    }

    #[test]
    fn tickets_read_before_any_search_are_left_to_the_search() {
        let mut cache = TicketKnowledge::default();
        cache.refreshed(&["SEC-1".into()], vec![ticket("SEC-1")]);
        assert!(cache.known().is_empty());
        assert!(!cache.knows("SEC-1"));
    }
}
