//! Creates sent to Jira that its search may not show yet. Until a label search shows one (or the
//! settle window passes), the planner waits for it rather than making the ticket twice; the sync's
//! status records them so that a process started after a crash waits too.
//!
//! This process knows its own creates exactly. The status holds one group per pass (when it was
//! sent, how many, and its identities) and stays small at any size: past 64 KB of identities each
//! group keeps a Bloom filter of them instead, so 20,000 creates take about 32 KB. A process that
//! restores a filter cannot tell when search shows each of its creates, so such a group waits out
//! the settle window.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::api::{PendingCreate, PendingCreateGroup};

/// Filter bits per identity: with [`PROBES`] probes, about 1 false match in 100.
const BITS_PER_IDENTITY: usize = 10;
/// Probes per identity.
const PROBES: u64 = 7;
/// The smallest filter, in bytes.
const MIN_FILTER_BYTES: usize = 8;
/// Up to this many bytes of identities, the record lists them.
const LISTED_IDENTITIES: usize = 64 * 1024;

/// The pending creates of one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingCreates {
    /// This process's creates, by identity label, with when each was sent.
    exact: BTreeMap<String, Timestamp>,
    /// Groups an earlier process recorded.
    restored: Vec<(Timestamp, IdentityFilter)>,
}

impl PendingCreates {
    /// Notes that a create of `identity` was sent at `at`.
    pub fn note(&mut self, identity: String, at: Timestamp) {
        self.exact.insert(identity, at);
    }

    /// Forgets a create that Jira refused or that was never sent: it cannot turn up in search.
    pub fn forget(&mut self, identity: &str) {
        self.exact.remove(identity);
    }

    /// Takes what a sync's status records (written by an earlier process). A time in the future (a
    /// hand-edited status) counts from now, which also keeps the settle arithmetic far from the end
    /// of time. A group whose filter cannot be read is kept as matching everything: waiting out
    /// the settle window is safe, a duplicate is not.
    pub fn restore(
        &mut self,
        groups: &[PendingCreateGroup],
        legacy: &[PendingCreate],
        now: Timestamp,
    ) {
        for group in groups {
            let sent = group.sent.min(now);
            if !group.identities.is_empty() {
                for identity in &group.identities {
                    self.exact.entry(identity.clone()).or_insert(sent);
                }
                continue;
            }
            let filter = group.filter.as_deref().and_then(IdentityFilter::decode);
            let mut filter = filter.unwrap_or_default();
            filter.count = group.count;
            self.restored.push((sent, filter));
        }
        for entry in legacy {
            self.exact
                .entry(entry.identity.clone())
                .or_insert(entry.sent.min(now));
        }
    }

    /// Drops the creates a label search now shows (`indexed`, the operator labels it returned) and
    /// those older than the settle window. Only a label search settles a create: a ticket read by
    /// key is known to this process alone, while one started after a crash finds tickets by search.
    pub fn settle(&mut self, indexed: &[String], now: Timestamp, window: SignedDuration) {
        let pending = |sent: &Timestamp| sent.checked_add(window).unwrap_or(Timestamp::MAX) > now;
        self.exact
            .retain(|identity, sent| !indexed.contains(identity) && pending(sent));
        self.restored.retain(|(sent, _)| pending(sent));
    }

    /// When the create of `identity` was sent, if it may be pending.
    pub fn sent(&self, identity: &str) -> Option<Timestamp> {
        let restored = self
            .restored
            .iter()
            .filter(|(_, filter)| filter.may_hold(identity))
            .map(|(sent, _)| *sent);
        self.exact
            .get(identity)
            .copied()
            .into_iter()
            .chain(restored)
            .max()
    }

    /// When the last pending create's settle window ends (search must show it by then), if any
    /// create is pending.
    pub fn settled_by(&self, window: SignedDuration) -> Option<Timestamp> {
        let restored = self.restored.iter().map(|(sent, _)| sent);
        self.exact
            .values()
            .chain(restored)
            .max()
            .map(|sent| sent.checked_add(window).unwrap_or(Timestamp::MAX))
    }

    /// Whether no create is pending.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.restored.is_empty()
    }

    /// As the sync's status records them: one group per send time, listing the identities while
    /// they take under 64 KB, else with a filter of them.
    pub fn records(&self) -> Vec<PendingCreateGroup> {
        let mut by_sent: BTreeMap<Timestamp, Vec<&str>> = BTreeMap::new();
        for (identity, sent) in &self.exact {
            by_sent.entry(*sent).or_default().push(identity);
        }
        let listed = self.exact.keys().map(String::len).sum::<usize>() <= LISTED_IDENTITIES;
        let exact = by_sent.into_iter().map(|(sent, identities)| {
            let count = u32::try_from(identities.len()).unwrap_or(u32::MAX);
            let filter = (!listed).then(|| IdentityFilter::of(&identities).encode());
            let identities = match listed {
                true => identities.into_iter().map(str::to_owned).collect(),
                false => Vec::new(),
            };
            PendingCreateGroup {
                sent,
                count,
                identities,
                filter,
            }
        });
        let restored = self
            .restored
            .iter()
            .map(|(sent, filter)| PendingCreateGroup {
                sent: *sent,
                count: filter.count,
                identities: Vec::new(),
                filter: Some(filter.encode()),
            });
        exact.chain(restored).collect()
    }
}

/// A Bloom filter of identity labels. The empty filter (as from an unreadable record) matches
/// every identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct IdentityFilter {
    bits: Vec<u8>,
    count: u32,
}

impl IdentityFilter {
    fn of(identities: &[&str]) -> IdentityFilter {
        let bytes = (identities.len() * BITS_PER_IDENTITY)
            .div_ceil(8)
            .max(MIN_FILTER_BYTES);
        let mut filter = IdentityFilter {
            bits: vec![0; bytes],
            count: u32::try_from(identities.len()).unwrap_or(u32::MAX),
        };
        for identity in identities {
            for bit in filter.probes(identity) {
                filter.bits[bit / 8] |= 1 << (bit % 8);
            }
        }
        filter
    }

    /// The bits an identity sets: double hashing over two halves of its SHA-256.
    fn probes(&self, identity: &str) -> impl Iterator<Item = usize> + use<> {
        let digest = Sha256::digest(identity.as_bytes());
        let half = |range: std::ops::Range<usize>| {
            digest[range]
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        };
        let (h1, h2) = (half(0..8), half(8..16) | 1);
        let bits = (self.bits.len() * 8) as u64;
        (0..PROBES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % bits) as usize)
    }

    fn may_hold(&self, identity: &str) -> bool {
        self.bits.is_empty()
            || self
                .probes(identity)
                .all(|bit| self.bits[bit / 8] & (1 << (bit % 8)) != 0)
    }

    fn encode(&self) -> String {
        STANDARD.encode(&self.bits)
    }

    fn decode(text: &str) -> Option<IdentityFilter> {
        let bits = STANDARD.decode(text).ok()?;
        (!bits.is_empty()).then_some(IdentityFilter { bits, count: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).expect("valid")
    }

    const WINDOW: SignedDuration = SignedDuration::from_secs(30);

    /// Creates of a, b (sent at 0) and c (sent at `c_sent`).
    fn three(c_sent: i64) -> PendingCreates {
        let mut pending = PendingCreates::default();
        for (identity, sent) in [("jas-task.a", 0), ("jas-task.b", 0), ("jas-task.c", c_sent)] {
            pending.note(identity.into(), at(sent));
        }
        pending
    }

    #[test]
    fn a_create_settles_when_search_shows_it_or_the_window_passes() {
        let mut pending = three(20);
        pending.settle(&["jas-task.a".into()], at(10), WINDOW);
        assert_eq!(pending.sent("jas-task.a"), None);
        assert_eq!(pending.sent("jas-task.b"), Some(at(0)));
        pending.settle(&[], at(30), WINDOW);
        assert_eq!(pending.sent("jas-task.b"), None, "its window passed");
        assert_eq!(pending.sent("jas-task.c"), Some(at(20)));
        assert_eq!(pending.settled_by(WINDOW), Some(at(50)));
        pending.forget("jas-task.c");
        assert!(pending.is_empty());
        assert_eq!(pending.settled_by(WINDOW), None);
    }

    #[test]
    fn a_restarted_process_waits_for_the_recorded_creates_and_only_those() {
        let first = three(5);
        let records = first.records();
        assert_eq!(records.len(), 2, "one group per send time");
        assert_eq!(records[0].count, 2);
        assert_eq!(records[0].identities, ["jas-task.a", "jas-task.b"]);
        let mut second = PendingCreates::default();
        second.restore(&records, &[], at(6));
        assert_eq!(second, first, "a listed record restores exactly");
        second.settle(&["jas-task.a".into()], at(10), WINDOW);
        assert_eq!(second.sent("jas-task.a"), None, "search shows it");
        assert_eq!(second.sent("jas-task.b"), Some(at(0)));
    }

    #[test]
    fn a_restored_filter_waits_out_the_window() {
        let filter = IdentityFilter::of(&["jas-task.a", "jas-task.b"]);
        let group = PendingCreateGroup {
            sent: at(0),
            count: 2,
            identities: Vec::new(),
            filter: Some(filter.encode()),
        };
        let mut pending = PendingCreates::default();
        pending.restore(std::slice::from_ref(&group), &[], at(6));
        assert_eq!(pending.sent("jas-task.a"), Some(at(0)));
        assert_eq!(pending.sent("jas-task.other"), None);
        assert_eq!(pending.records(), [group], "carried forward unchanged");
        // It cannot tell which of its creates search shows.
        pending.settle(&["jas-task.a".into()], at(29), WINDOW);
        assert_eq!(pending.sent("jas-task.a"), Some(at(0)));
        pending.settle(&[], at(35), WINDOW);
        assert!(pending.is_empty());
    }

    #[test]
    fn records_of_earlier_versions_and_unreadable_groups_are_honoured() {
        let legacy = [PendingCreate {
            identity: "jas-task.a".into(),
            sent: at(1_000),
        }];
        let garbled = PendingCreateGroup {
            sent: at(0),
            count: 3,
            identities: Vec::new(),
            filter: Some("not base64!".into()),
        };
        let mut pending = PendingCreates::default();
        pending.restore(&[garbled], &legacy, at(60));
        assert_eq!(
            pending.sent("jas-task.a"),
            Some(at(60)),
            "never in the future"
        );
        assert_eq!(
            pending.sent("jas-task.anything"),
            Some(at(0)),
            "an unreadable filter matches everything until its window passes"
        );
    }

    #[test]
    fn an_endless_window_never_settles_by_time_and_does_not_overflow() {
        let mut pending = PendingCreates::default();
        pending.note("jas-task.a".into(), at(0));
        pending.settle(&[], at(1_000_000), SignedDuration::MAX);
        assert_eq!(pending.sent("jas-task.a"), Some(at(0)));
    }

    #[test]
    fn twenty_thousand_long_creates_record_in_under_100_kb_with_few_false_matches() {
        let name = |i: usize| {
            format!(
                "jas-task.{}-{i:05}",
                "patch-cve-2026-1234-on-payments-api".repeat(5)
            )
        };
        let mut pending = PendingCreates::default();
        for i in 0..20_000 {
            pending.note(name(i), at(0));
        }
        let records = pending.records();
        assert!(
            records
                .iter()
                .all(|g| g.identities.is_empty() && g.filter.is_some())
        );
        let size = serde_json::to_vec(&records).expect("serialises").len();
        assert!(size < 100 * 1024, "{size} bytes");
        let mut restored = PendingCreates::default();
        restored.restore(&records, &[], at(1));
        assert!(
            (0..20_000).all(|i| restored.sent(&name(i)).is_some()),
            "no create forgotten"
        );
        let false_matches = (20_000..40_000)
            .filter(|i| restored.sent(&name(*i)).is_some())
            .count();
        assert!(
            false_matches < 400,
            "{false_matches} of 20,000 false matches"
        );
    }
}
