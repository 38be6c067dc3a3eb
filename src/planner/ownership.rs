//! Which sync owns which task: a task belongs to at most one sync. A sync naming the task's check
//! takes precedence over an all-tasks sync; between syncs of equal precedence the older wins, and
//! the newer reports `Conflict` naming the winner.

use std::collections::{BTreeMap, BTreeSet};

use kube::core::{Selector, SelectorExt};

/// What one sync claims, as far as ownership is concerned.
#[derive(Debug, Clone)]
pub struct SyncClaim {
    /// The sync's name (syncs only take tasks of their own namespace).
    pub name: String,
    /// When the sync was created; the older of two equal claims wins.
    pub created: jiff::Timestamp,
    /// The checks it names; empty claims every task.
    pub checks: Vec<String>,
    /// Its task selector, already parsed; `None` selects every task.
    pub selector: Option<Selector>,
}

/// How strongly a sync claims a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precedence {
    /// An all-tasks sync.
    AllTasks,
    /// A sync that names the task's check.
    NamedCheck,
}

impl SyncClaim {
    /// How this sync claims a task of `check` with `labels`, if at all.
    pub fn claim(&self, check: &str, labels: &BTreeMap<String, String>) -> Option<Precedence> {
        if let Some(selector) = &self.selector
            && !selector.matches(labels)
        {
            return None;
        }
        if self.checks.is_empty() {
            Some(Precedence::AllTasks)
        } else if self.checks.iter().any(|c| c == check) {
            Some(Precedence::NamedCheck)
        } else {
            None
        }
    }

    /// Older first; names break ties so the choice is stable.
    fn seniority(&self) -> (jiff::Timestamp, &str) {
        (self.created, &self.name)
    }
}

/// The outcome for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership<'a> {
    /// The sync that owns the task.
    pub owner: &'a str,
    /// Syncs that claim the task as strongly as the owner but lose to it by age.
    pub losers: Vec<&'a str>,
}

/// The owner of a task of `check` with `labels` among `claims`, if any sync claims it.
pub fn owner_of<'a>(
    claims: &'a [SyncClaim],
    check: &str,
    labels: &BTreeMap<String, String>,
) -> Option<Ownership<'a>> {
    let claimed: Vec<(Precedence, &SyncClaim)> = claims
        .iter()
        .filter_map(|c| c.claim(check, labels).map(|p| (p, c)))
        .collect();
    let best = claimed.iter().map(|(p, _)| *p).max()?;
    let mut contenders: Vec<&SyncClaim> = claimed
        .into_iter()
        .filter(|(p, _)| *p == best)
        .map(|(_, c)| c)
        .collect();
    contenders.sort_by(|a, b| a.seniority().cmp(&b.seniority()));
    let (owner, losers) = contenders.split_first()?;
    Some(Ownership {
        owner: &owner.name,
        losers: losers.iter().map(|c| c.name.as_str()).collect(),
    })
}

/// The syncs whose set of tasks changes when a namespace's claims change from `before` to
/// `after` (a sync created, deleted, or its scope or selector changed): every sync that gains or
/// loses one of `tasks`, given as (check, labels).
pub fn moved_owners<'t>(
    before: &[SyncClaim],
    after: &[SyncClaim],
    tasks: impl IntoIterator<Item = (&'t str, &'t BTreeMap<String, String>)>,
) -> BTreeSet<String> {
    let mut moved = BTreeSet::new();
    for (check, labels) in tasks {
        let was = owner_of(before, check, labels).map(|o| o.owner);
        let is = owner_of(after, check, labels).map(|o| o.owner);
        if was != is {
            moved.extend(was.into_iter().chain(is).map(str::to_owned));
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(name: &str, age_secs: i64, checks: &[&str], selector: Option<&str>) -> SyncClaim {
        SyncClaim {
            name: name.into(),
            created: jiff::Timestamp::from_second(1_000_000 - age_secs).expect("valid"),
            checks: checks.iter().map(|c| c.to_string()).collect(),
            selector: selector.map(|s| {
                s.split(',')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').expect("k=v");
                        (k.to_string(), v.to_string())
                    })
                    .collect()
            }),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn named_check_beats_all_tasks_even_when_younger() {
        let claims = [
            claim("all", 100, &[], None),
            claim("vuln", 1, &["vuln"], None),
        ];
        let o = owner_of(&claims, "vuln", &labels(&[])).expect("owned");
        assert_eq!(o.owner, "vuln");
        assert!(o.losers.is_empty(), "precedence is no conflict");
        assert_eq!(
            owner_of(&claims, "other", &labels(&[]))
                .expect("owned")
                .owner,
            "all"
        );
    }

    #[test]
    fn older_of_two_naming_the_same_check_wins() {
        let claims = [
            claim("young", 1, &["vuln"], None),
            claim("old", 50, &["vuln"], None),
        ];
        let o = owner_of(&claims, "vuln", &labels(&[])).expect("owned");
        assert_eq!(o.owner, "old");
        assert_eq!(o.losers, vec!["young"]);
    }

    #[test]
    fn same_age_is_broken_by_name() {
        let claims = [claim("b", 5, &[], None), claim("a", 5, &[], None)];
        assert_eq!(
            owner_of(&claims, "x", &labels(&[])).expect("owned").owner,
            "a"
        );
    }

    #[test]
    fn selectors_partition_tasks_without_conflict() {
        let claims = [
            claim("pay", 10, &["vuln"], Some("team=payments")),
            claim("plat", 5, &["vuln"], Some("team=platform")),
        ];
        let o = owner_of(&claims, "vuln", &labels(&[("team", "platform")])).expect("owned");
        assert_eq!(o.owner, "plat");
        assert!(o.losers.is_empty());
        assert!(owner_of(&claims, "vuln", &labels(&[("team", "data")])).is_none());
    }

    #[test]
    fn unclaimed_task_has_no_owner() {
        let claims = [claim("vuln", 1, &["vuln"], None)];
        assert!(owner_of(&claims, "access", &labels(&[])).is_none());
        assert!(owner_of(&[], "access", &labels(&[])).is_none());
    }

    #[test]
    fn a_scope_change_moves_tasks_between_exactly_the_syncs_concerned() {
        let all = claim("all", 100, &[], None);
        let vuln = claim("vuln", 50, &["vuln"], None);
        let other = claim("other", 10, &["access"], Some("team=ops"));
        let before = [all.clone(), vuln.clone(), other.clone()];
        let (none, ops) = (labels(&[]), labels(&[("team", "ops")]));
        let tasks = [("vuln", &none), ("vuln", &ops), ("access", &none)];
        // vuln now also names access: the all-tasks sync loses that task, `other` nothing.
        let widened = claim("vuln", 50, &["vuln", "access"], None);
        let after = [all.clone(), widened, other.clone()];
        let moved = moved_owners(&before, &after, tasks);
        assert_eq!(moved, BTreeSet::from(["all".into(), "vuln".into()]));
        // Unchanged claims move nothing.
        assert!(moved_owners(&before, &before, tasks).is_empty());
        // Deleting vuln gives its tasks to the all-tasks sync.
        let gone = moved_owners(&before, &[all, other], tasks);
        assert_eq!(gone, BTreeSet::from(["all".into(), "vuln".into()]));
    }
}
