//! The task a finding calls for: name, labels, first-seen time and spec (check, title,
//! assignee, instructions, how to fix, severity, due date, Open).

use std::collections::BTreeMap;

use jiff::{Timestamp, tz::TimeZone};

use super::finding::Finding;
use super::labels::{FIRST_SEEN, finding_labels, same_owned};
use super::naming::{check, task_name};
use super::plan::{ExistingTask, SourceInput, assignee_of};
use super::text::{how_to_fix, instructions, title};
use crate::api::{ComplianceTaskSpec, FindingSeverity, Severity, TaskState};

/// A task as the source wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredTask {
    /// Its name.
    pub name: String,
    /// The labels the source owns.
    pub labels: BTreeMap<String, String>,
    /// When its finding was first seen failing, if known.
    pub first_seen: Option<Timestamp>,
    /// Its spec.
    pub spec: ComplianceTaskSpec,
}

impl DesiredTask {
    /// The annotations the source owns.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.first_seen
            .iter()
            .map(|t| (FIRST_SEEN.to_owned(), t.to_string()))
            .collect()
    }

    /// Whether the task as it is differs from this in anything the source owns.
    pub fn differs_from(&self, task: &ExistingTask) -> bool {
        self.spec != task.spec
            || !same_owned(&self.labels, &task.labels)
            || task.annotations.get(FIRST_SEEN) != self.annotations().get(FIRST_SEEN)
    }
}

/// The task an open finding calls for; `current` is its task, if it has one.
pub fn desired_task(
    input: &SourceInput<'_>,
    finding: &Finding<'_>,
    current: Option<&ExistingTask>,
) -> DesiredTask {
    let source = input.source;
    let result = finding.result;
    // A task completed and failing again starts a new period: its due date counts from now.
    let first_seen = current
        .filter(|t| t.spec.state == TaskState::Open)
        .and_then(first_seen_of)
        .unwrap_or_else(|| whole_seconds(input.now));
    let resource_name = finding.resource.and_then(|r| r.name.as_deref());
    let name = current.map_or_else(
        || {
            task_name(
                source.name,
                &finding.identity,
                &result.policy,
                resource_name,
            )
        },
        |t| t.name.clone(),
    );
    let due_date = finding.severity.and_then(|severity| {
        let days = source.spec.due_days.as_ref()?.for_severity(severity)?;
        due(first_seen, days)
    });
    let spec = ComplianceTaskSpec {
        check: check(finding.source, &result.policy),
        title: title(finding),
        assignee: assignee_of(input, finding),
        instructions: Some(instructions(finding)),
        how_to_fix: how_to_fix(finding, &source.spec.how_to_fix),
        severity: finding.severity.and_then(task_severity),
        due_date,
        state: TaskState::Open,
    };
    DesiredTask {
        name,
        labels: finding_labels(source.name, finding),
        first_seen: Some(first_seen),
        spec,
    }
}

/// When a task's finding was first seen, from its annotation.
pub fn first_seen_of(task: &ExistingTask) -> Option<Timestamp> {
    task.annotations.get(FIRST_SEEN)?.parse().ok()
}

fn whole_seconds(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The date `days` after `first_seen` (UTC).
fn due(first_seen: Timestamp, days: u32) -> Option<jiff::civil::Date> {
    let date = first_seen.to_zoned(TimeZone::UTC).date();
    date.checked_add(jiff::Span::new().days(i64::from(days)))
        .ok()
}

/// The task severity of a finding's; `info` sets none (no Jira priority).
fn task_severity(severity: FindingSeverity) -> Option<Severity> {
    match severity {
        FindingSeverity::Critical => Some(Severity::Critical),
        FindingSeverity::High => Some(Severity::High),
        FindingSeverity::Medium => Some(Severity::Medium),
        FindingSeverity::Low => Some(Severity::Low),
        FindingSeverity::Info => None,
    }
}
