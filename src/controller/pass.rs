//! The pure rules of a pass's outcome: which conditions it sets and when the sync is looked at
//! again. Unit-tested without an API server or Jira.

use std::time::Duration;

use kube::ResourceExt;

use super::conditions::Cond;
use super::error::Error;
use crate::api::{ABANDON_CLEANUP, DeletionPolicy, JiraActiveSync};
use crate::jira::JiraError;
use crate::planner::Warning;

/// How soon a sync that could not reach Jira or its connection tries again.
pub const RETRY: Duration = Duration::from_secs(15);
/// How soon a sync tries again after the API server refused a write as conflicting.
pub const CONFLICT_RETRY: Duration = Duration::from_secs(1);
/// The shortest wait for a create that search may not show yet.
const SEARCH_WAIT_FLOOR: Duration = Duration::from_millis(200);

/// The reason of a move no path of available transitions makes: the sync is `Stalled`.
pub const NO_WORKFLOW_PATH: &str = "NoWorkflowPath";
/// The reason of fields Jira refused on a ticket (the rest of the ticket's steps went on).
pub const FIELD_REFUSED: &str = "FieldRefused";
/// The reason of a transition Jira refused for its screen's fields (a required one missing, or a
/// value it does not take): the sync is `Stalled` until `closure.fields` (or the workflow) changes.
pub const SCREEN_REFUSED: &str = "TransitionScreenRefused";

/// When a failed action can succeed by being tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A write conflict: a fresh look is all it needs.
    AtOnce,
    /// It may pass by itself (rate limits, outages).
    Soon,
    /// Jira refused the input: only a change helps, so it waits for the next poll.
    OnChange,
}

impl Retry {
    /// For a failed Jira call.
    pub fn of_jira(error: &JiraError) -> Retry {
        if error.is_retryable() {
            Retry::Soon
        } else {
            Retry::OnChange
        }
    }

    /// For a failed Kubernetes write.
    pub fn of_kube(error: &Error) -> Retry {
        if error.is_conflict() {
            Retry::AtOnce
        } else {
            Retry::Soon
        }
    }
}

/// One action of a pass that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// PascalCase reason.
    pub reason: &'static str,
    /// What failed, with Jira's messages.
    pub message: String,
    /// When trying again can help.
    pub retry: Retry,
}

/// A task this sync claims that an older sync naming the same check owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The task.
    pub task: String,
    /// The sync that keeps it.
    pub winner: String,
}

/// What stands between a sync and Jira: the conditions to set and when to try again by itself
/// (`None`: when something it watches changes, or at the next poll).
#[derive(Debug)]
pub struct Blocked {
    /// PascalCase reason.
    pub reason: &'static str,
    /// What blocks the sync (the conditions add when it tries again).
    pub message: String,
    /// The conditions to set.
    pub conditions: Vec<Cond>,
    /// When to try again.
    pub retry: Option<Duration>,
}

/// What a condition adds when the sync tries again by itself: when.
pub fn retry_note(retry: Duration) -> String {
    format!("; retrying in {}s", retry.as_secs().max(1))
}

impl Blocked {
    /// Ready and Synced False for `reason`; JiraConnected says whether the connection is fine.
    pub fn by(
        reason: &'static str,
        message: String,
        connected: bool,
        retry: Option<Duration>,
    ) -> Blocked {
        let noted = match retry {
            Some(retry) => format!("{message}{}", retry_note(retry)),
            None => message.clone(),
        };
        let connection = if connected {
            Cond::yes("JiraConnected", "Connected", "the connection is ready")
        } else {
            Cond::no("JiraConnected", reason, noted.clone())
        };
        Blocked {
            reason,
            conditions: vec![
                Cond::no("Ready", reason, noted.clone()),
                Cond::no("Synced", reason, noted),
                connection,
            ],
            message,
            retry,
        }
    }

    /// Also `Stalled=True`: nothing changes until the user changes the spec or Jira.
    pub fn stalled(mut self, reason: &str, message: String) -> Blocked {
        self.conditions.push(Cond::yes("Stalled", reason, message));
        self
    }
}

/// Whether a sync's deletion policy needs Jira (and so its connection): not under `Retain`, nor
/// when its cleanup is abandoned through the annotation.
pub fn needs_jira_to_delete(sync: &JiraActiveSync) -> bool {
    sync.spec.deletion_policy != DeletionPolicy::Retain && !cleanup_abandoned(sync)
}

/// Whether a person gave up the sync's cleanup through the annotation.
pub fn cleanup_abandoned(sync: &JiraActiveSync) -> bool {
    sync.annotations()
        .get(ABANDON_CLEANUP)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The longest wait between two attempts at a blocked deletion.
const DELETION_RETRY_CAP: Duration = Duration::from_secs(300);

/// The wait before attempt `attempts + 1` at a blocked deletion: [`RETRY`], doubling each time, at
/// most five minutes.
pub fn deletion_backoff(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    RETRY.saturating_mul(1 << doublings).min(DELETION_RETRY_CAP)
}

/// When to look at the sync again after a pass: at the poll interval, soon after failures that may
/// pass, at once after a conflict, and when a create search may not show yet is due.
pub fn requeue_after(
    poll: Duration,
    failures: &[Failure],
    wait_until: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Duration {
    let mut requeue = poll;
    if failures.iter().any(|f| f.retry == Retry::Soon) {
        requeue = requeue.min(RETRY);
    }
    if failures.iter().any(|f| f.retry == Retry::AtOnce) {
        requeue = requeue.min(CONFLICT_RETRY);
    }
    if let Some(until) = wait_until {
        let wait = Duration::try_from(until.duration_since(now)).unwrap_or_default();
        requeue = requeue.min(wait.max(SEARCH_WAIT_FLOOR));
    }
    requeue
}

/// The conditions after a pass that reached Jira.
pub fn pass_conditions(
    suspended: bool,
    conflicts: &[Conflict],
    failures: &[Failure],
    warnings: &[Warning],
    requeue: Duration,
) -> Vec<Cond> {
    let conflict = match conflicts.first() {
        Some(first) => Cond::yes(
            "Conflict",
            "ClaimedByOlderSync",
            format!(
                "{} task(s) this sync claims belong to the older sync {}, which names the same check (first: {})",
                conflicts.len(),
                first.winner,
                first.task
            ),
        ),
        None => Cond::no("Conflict", "NoConflict", "no other sync claims these tasks"),
    };
    let stuck = failures
        .iter()
        .find(|f| f.reason == NO_WORKFLOW_PATH || f.reason == SCREEN_REFUSED);
    let stalled = match stuck {
        Some(stuck) => Cond::yes("Stalled", stuck.reason, stuck.message.clone()),
        None => Cond::no("Stalled", "NotStalled", ""),
    };
    let mut conditions = vec![
        conflict,
        Cond::yes("JiraConnected", "Connected", "the connection is ready"),
        stalled,
    ];
    let retrying = failures.iter().any(|f| f.retry != Retry::OnChange);
    conditions.extend(outcome_conditions(
        suspended,
        failures,
        warnings,
        retrying.then_some(requeue),
    ));
    conditions
}

/// Ready and Synced after a pass; a failed pass names its first failure and, when the sync tries
/// again by itself, when.
fn outcome_conditions(
    suspended: bool,
    failures: &[Failure],
    warnings: &[Warning],
    retry: Option<Duration>,
) -> Vec<Cond> {
    let (ready, reason, message) = if suspended {
        let message = "spec.suspend is true: nothing is written to Jira or to tasks";
        (false, "Suspended", message.to_owned())
    } else if let Some(first) = failures.first() {
        let message = format!(
            "{} of the sync's actions failed; first: {}{}",
            failures.len(),
            first.message,
            retry.map(retry_note).unwrap_or_default()
        );
        (false, first.reason, message)
    } else {
        (true, "Synced", healthy_message(warnings))
    };
    let make = if ready { Cond::yes } else { Cond::no };
    vec![
        make("Ready", reason, message.clone()),
        make("Synced", reason, message),
    ]
}

fn healthy_message(warnings: &[Warning]) -> String {
    let note = warnings
        .iter()
        .map(|Warning::UnknownAssignee { email, .. }| {
            format!("no Jira user has the email {email}; its tickets are unassigned")
        })
        .collect::<Vec<_>>()
        .join("; ");
    if note.is_empty() {
        "every ticket is in step".to_owned()
    } else {
        note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + second).expect("valid")
    }

    fn failed(reason: &'static str, message: &str, retry: Retry) -> Failure {
        Failure {
            reason,
            message: message.to_owned(),
            retry,
        }
    }

    /// The Ready condition after a pass with `failures`.
    fn ready_after(failures: &[Failure], requeue: Duration) -> Cond {
        let conditions = pass_conditions(false, &[], failures, &[], requeue);
        let ready = conditions.into_iter().find(|c| c.type_ == "Ready");
        ready.expect("a Ready condition")
    }

    #[test]
    fn a_close_with_no_workflow_path_stalls_the_sync_naming_the_status_and_transitions() {
        let message = "closing SEC-3: SEC-3 is in status \"Closed\": no path of available transitions leads to a status in category \"new\" (transitions offered there: none)";
        let failures = [
            failed(
                FIELD_REFUSED,
                "Jira refused priority of SEC-2",
                Retry::OnChange,
            ),
            failed(NO_WORKFLOW_PATH, message, Retry::OnChange),
        ];
        let conditions = pass_conditions(false, &[], &failures, &[], Duration::from_secs(60));
        let stalled = conditions.iter().find(|c| c.type_ == "Stalled");
        let stalled = stalled.expect("a Stalled condition");
        assert!(stalled.status);
        assert_eq!(stalled.reason, NO_WORKFLOW_PATH);
        assert_eq!(stalled.message, message);
        let screen = [failed(
            SCREEN_REFUSED,
            "closing SEC-4: customfield_10300: Review notes is required.",
            Retry::OnChange,
        )];
        let conditions = pass_conditions(false, &[], &screen, &[], Duration::from_secs(60));
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == "Stalled" && c.status && c.reason == SCREEN_REFUSED),
            "a screen Jira refuses stalls the sync too"
        );
        let refused_only =
            pass_conditions(false, &[], &failures[..1], &[], Duration::from_secs(60));
        assert!(
            refused_only
                .iter()
                .any(|c| c.type_ == "Stalled" && !c.status),
            "a refused field does not stall the sync"
        );
    }

    #[test]
    fn a_failed_pass_names_its_first_failure_and_when_it_tries_again() {
        let failures = [failed(
            "JiraRateLimited",
            "closing SEC-2: POST /rest/api/3/issue/SEC-2/transitions: rate limited by Jira (jira-per-issue-on-write), retry after 1.0s",
            Retry::Soon,
        )];
        let ready = ready_after(&failures, Duration::from_secs(10));
        assert!(!ready.status);
        assert_eq!(ready.reason, "JiraRateLimited");
        assert!(
            ready.message.contains("jira-per-issue-on-write")
                && ready.message.ends_with("; retrying in 10s"),
            "{}",
            ready.message
        );
        let refused = [failed(
            "JiraRejectedInput",
            "updating SEC-1: bad",
            Retry::OnChange,
        )];
        let ready = ready_after(&refused, Duration::from_secs(60));
        assert!(!ready.message.contains("retrying"), "{}", ready.message);
    }

    #[test]
    fn a_healthy_pass_is_ready_and_names_unknown_assignees() {
        let healthy = pass_conditions(false, &[], &[], &[], Duration::from_secs(60));
        let ready: Vec<_> = healthy
            .iter()
            .filter(|c| c.type_ == "Ready" || c.type_ == "Synced")
            .collect();
        assert!(ready.iter().all(|c| c.status && c.reason == "Synced"));
        let warnings = [Warning::UnknownAssignee {
            email: "carol@example.com".into(),
            tasks: vec!["a".into()],
        }];
        let noted = pass_conditions(false, &[], &[], &warnings, Duration::from_secs(60));
        assert!(
            noted
                .iter()
                .any(|c| c.type_ == "Ready" && c.status && c.message.contains("carol@example.com"))
        );
        let suspended = pass_conditions(true, &[], &[], &[], Duration::from_secs(60));
        assert!(
            suspended
                .iter()
                .any(|c| c.type_ == "Ready" && c.reason == "Suspended")
        );
    }

    #[test]
    fn a_conflict_names_the_winner_and_counts_the_tasks() {
        let conflicts = [
            Conflict {
                task: "a".into(),
                winner: "older".into(),
            },
            Conflict {
                task: "b".into(),
                winner: "older".into(),
            },
        ];
        let conditions = pass_conditions(false, &conflicts, &[], &[], Duration::from_secs(60));
        let conflict = conditions.iter().find(|c| c.type_ == "Conflict").unwrap();
        assert!(conflict.status);
        assert_eq!(
            conflict.message,
            "2 task(s) this sync claims belong to the older sync older, which names the same check (first: a)"
        );
    }

    #[test]
    fn requeue_is_the_soonest_of_poll_retry_conflict_and_search_wait() {
        let poll = Duration::from_secs(60);
        assert_eq!(requeue_after(poll, &[], None, at(0)), poll);
        let soon = [failed("JiraUnavailable", "x", Retry::Soon)];
        assert_eq!(requeue_after(poll, &soon, None, at(0)), RETRY);
        let conflict = [failed("KubernetesConflict", "x", Retry::AtOnce)];
        assert_eq!(requeue_after(poll, &conflict, None, at(0)), CONFLICT_RETRY);
        let refused = [failed("JiraRejectedInput", "x", Retry::OnChange)];
        assert_eq!(requeue_after(poll, &refused, None, at(0)), poll);
        assert_eq!(
            requeue_after(poll, &[], Some(at(5)), at(0)),
            Duration::from_secs(5)
        );
        assert_eq!(
            requeue_after(poll, &[], Some(at(-5)), at(0)),
            SEARCH_WAIT_FLOOR,
            "a wait already due still leaves the index a moment"
        );
    }

    #[test]
    fn a_blocked_deletion_backs_off_to_five_minutes() {
        let waits: Vec<u64> = (1..=7).map(|a| deletion_backoff(a).as_secs()).collect();
        assert_eq!(waits, [15, 30, 60, 120, 240, 300, 300]);
        assert_eq!(deletion_backoff(0), RETRY);
        assert_eq!(deletion_backoff(u32::MAX), DELETION_RETRY_CAP);
    }

    #[test]
    fn a_blocked_sync_says_when_it_tries_again() {
        let blocked = Blocked::by(
            "JiraUnavailable",
            "searching the sync's tickets: POST /rest/api/3/search/jql: transient failure (503): Service Unavailable".into(),
            false,
            Some(RETRY),
        );
        for condition in &blocked.conditions {
            assert!(!condition.status);
            assert_eq!(condition.reason, "JiraUnavailable");
            assert!(
                condition
                    .message
                    .ends_with("(503): Service Unavailable; retrying in 15s"),
                "{}",
                condition.message
            );
        }
        let stuck = Blocked::by(
            "ProjectNotAllowed",
            "project X is not allowed".into(),
            true,
            None,
        )
        .stalled("InvalidJiraTarget", "project X is not allowed".into());
        assert_eq!(stuck.conditions[0].message, "project X is not allowed");
        assert!(
            stuck
                .conditions
                .iter()
                .any(|c| c.type_ == "Stalled" && c.status)
        );
    }
}
