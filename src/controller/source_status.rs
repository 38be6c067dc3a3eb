//! A source's status after a pass: its counts and its `Ready` (reports can be read) and `Synced`
//! (its tasks are in step) conditions. Written only when something in it changed, so that an
//! unchanged resync writes nothing at all.

use kube::{Api, ResourceExt};

use super::conditions::{Cond, merge};
use super::error::Error;
use super::source::SourceContext;
use super::status::apply_status;
use crate::api::{ComplianceTaskSource, ComplianceTaskSourceStatus};
use crate::sources::SourceCounts;

/// What a pass found and did.
#[derive(Debug, Clone)]
pub struct Gathered {
    /// The plan's counts.
    pub counts: SourceCounts,
    /// Why kinds the source names could not be read.
    pub unreadable: Vec<String>,
    /// Reason and message of each task write that failed.
    pub failures: Vec<(&'static str, String)>,
    /// Whether any task was written.
    pub wrote: bool,
    /// The time of the pass.
    pub now: jiff::Timestamp,
}

/// The source's conditions after a pass.
fn conditions(gathered: &Gathered) -> [Cond; 2] {
    let counts = gathered.counts;
    let ready = if gathered.unreadable.is_empty() {
        Cond::yes(
            "Ready",
            "ReportsRead",
            format!(
                "read {} reports with {} results",
                counts.reports, counts.results
            ),
        )
    } else {
        Cond::no(
            "Ready",
            "ReportsUnavailable",
            gathered.unreadable.join("; "),
        )
    };
    let synced = match gathered.failures.first() {
        None => Cond::yes(
            "Synced",
            "TasksInStep",
            format!(
                "{} tasks open, {} completed",
                counts.tasks_open, counts.tasks_completed
            ),
        ),
        Some((reason, message)) => Cond::no(
            "Synced",
            reason,
            format!(
                "{} of the task writes failed; first: {message}",
                gathered.failures.len()
            ),
        ),
    };
    [ready, synced]
}

/// The status after a pass: `lastSyncTime` moves only when a task was written.
pub fn status_after(
    source: &ComplianceTaskSource,
    gathered: &Gathered,
) -> ComplianceTaskSourceStatus {
    let current = source.status.clone().unwrap_or_default();
    let generation = source.metadata.generation;
    let counts = gathered.counts;
    ComplianceTaskSourceStatus {
        observed_generation: generation,
        conditions: merge(
            &current.conditions,
            &conditions(gathered),
            generation,
            gathered.now,
        ),
        reports_read: counts.reports,
        results: counts.results,
        results_open: counts.results_open,
        tasks_open: counts.tasks_open,
        tasks_completed: counts.tasks_completed,
        last_sync_time: if gathered.wrote {
            Some(gathered.now)
        } else {
            current.last_sync_time
        },
    }
}

/// Writes the status when it changed.
pub async fn write_status(
    source: &ComplianceTaskSource,
    ctx: &SourceContext,
    gathered: &Gathered,
) -> Result<(), Error> {
    let status = status_after(source, gathered);
    if source.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let namespace = source
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let api: Api<ComplianceTaskSource> = Api::namespaced(ctx.kube.clone(), &namespace);
    apply_status(&api, &ctx.manager, &source.name_any(), &status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> ComplianceTaskSource {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTaskSource",
            "metadata": {"name": "findings", "namespace": "ns", "generation": 2}, "spec": {}
        }))
        .expect("a source")
    }

    fn gathered(unreadable: Vec<String>, wrote: bool, now: i64) -> Gathered {
        Gathered {
            counts: SourceCounts {
                reports: 3,
                results: 9,
                results_open: 4,
                tasks_open: 4,
                tasks_completed: 1,
            },
            unreadable,
            failures: Vec::new(),
            wrote,
            now: jiff::Timestamp::from_second(now).expect("a time"),
        }
    }

    #[test]
    fn a_pass_that_changes_nothing_gives_the_same_status() {
        let mut source = source();
        let first = status_after(&source, &gathered(Vec::new(), true, 1_000));
        assert_eq!(first.tasks_open, 4);
        assert_eq!(first.observed_generation, Some(2));
        source.status = Some(first.clone());
        let again = status_after(&source, &gathered(Vec::new(), false, 2_000));
        assert_eq!(
            again, first,
            "no write: the time moves only with a task write"
        );
    }

    #[test]
    fn an_unreadable_kind_makes_ready_false_with_its_reason() {
        let why =
            "PolicyReport (wgpolicyk8s.io/v1alpha2) is not installed in this cluster".to_owned();
        let status = status_after(&source(), &gathered(vec![why.clone()], false, 1_000));
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .expect("Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "ReportsUnavailable")
        );
        assert_eq!(ready.message, why);
        let synced = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Synced")
            .expect("Synced");
        assert_eq!(synced.status, "True");
    }
}
