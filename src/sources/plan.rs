//! A source's pass as data: (source spec, reports, its existing tasks, owners, now) -> the task
//! writes that bring its tasks in step, and the counts for its status. Every open finding has an
//! open task; every other task of the source is completed (never deleted), unless the reports of
//! its kind could not be read this pass, in which case it is left as it is.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::assignee::{Owners, assignee};
use super::desired::{DesiredTask, desired_task, first_seen_of};
use super::finding::{Finding, findings};
use super::labels::{FINDING, REPORT_KIND, owned_labels};
use super::report::Report;
use crate::api::{ComplianceTaskSourceSpec, ComplianceTaskSpec, ReportKind, TaskState};

/// The source a pass is for.
#[derive(Debug, Clone, Copy)]
pub struct SourceView<'a> {
    /// Its namespace (where its tasks live and whose reports it reads).
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its spec.
    pub spec: &'a ComplianceTaskSourceSpec,
}

/// A task the source owns, as the API server has it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingTask {
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its spec.
    pub spec: ComplianceTaskSpec,
}

/// What a pass plans from.
#[derive(Debug, Clone)]
pub struct SourceInput<'a> {
    /// The source.
    pub source: SourceView<'a>,
    /// Reports of the kinds that could be read (others in the list are ignored).
    pub reports: &'a [Report],
    /// The kinds whose reports were read completely this pass.
    pub readable: &'a BTreeSet<ReportKind>,
    /// The tasks the source owns.
    pub tasks: &'a [ExistingTask],
    /// Values of the assignee annotation on resources and namespaces.
    pub owners: &'a Owners,
    /// The time of the pass.
    pub now: Timestamp,
}

/// Why a task is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WriteReason {
    /// A new finding.
    Create,
    /// The finding changed (message, properties, severity, assignee, ...).
    Update,
    /// The finding passes, or is gone.
    Complete,
    /// A completed finding fails again.
    Reopen,
}

/// A task as the source wants it: applied whole (server-side apply) under the source's manager.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskApply {
    /// Why.
    pub reason: WriteReason,
    /// The task.
    pub task: DesiredTask,
}

/// What the source's status counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    /// Reports read.
    pub reports: u32,
    /// Results in them.
    pub results: u32,
    /// Findings that make open tasks.
    pub results_open: u32,
    /// The source's tasks open after the pass.
    pub tasks_open: u32,
    /// The source's tasks completed after the pass.
    pub tasks_completed: u32,
}

/// The plan of a pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcePlan {
    /// Tasks to apply, in name order.
    pub applies: Vec<TaskApply>,
    /// The counts.
    pub counts: SourceCounts,
}

/// Plans a source's pass.
pub fn plan(input: &SourceInput<'_>) -> SourcePlan {
    let source = input.source;
    let reports: Vec<&Report> = input
        .reports
        .iter()
        .filter(|r| reads(source, input.readable, r))
        .collect();
    let open = open_findings(source.spec, &reports);
    let existing: BTreeMap<&str, &ExistingTask> = input
        .tasks
        .iter()
        .filter_map(|t| t.labels.get(FINDING).map(|f| (f.as_str(), t)))
        .collect();
    let mut applies = Vec::new();
    let mut wanted = BTreeSet::new();
    for finding in open.values() {
        let key = super::labels::finding_label(&finding.identity);
        let current = existing.get(key.as_str()).copied();
        let task = desired_task(input, finding, current);
        if let Some(apply) = open_write(current, task) {
            applies.push(apply);
        }
        wanted.insert(key);
    }
    for task in input.tasks {
        let finding = task.labels.get(FINDING);
        if finding.is_some_and(|f| wanted.contains(f)) || kept_unread(source, input.readable, task)
        {
            continue;
        }
        if task.spec.state == TaskState::Open {
            applies.push(completion(task));
        }
    }
    applies.sort_by(|a, b| a.task.name.cmp(&b.task.name));
    let counts = counts(input, &reports, open.len(), &applies);
    SourcePlan { applies, counts }
}

/// Whether the pass reads a report: of a kind the spec names and that could be read, and of the
/// source's namespace unless cluster-scoped.
fn reads(source: SourceView<'_>, readable: &BTreeSet<ReportKind>, report: &Report) -> bool {
    source.spec.reports.contains(&report.kind)
        && readable.contains(&report.kind)
        && (report.kind.cluster_scoped() || report.namespace.as_deref() == Some(source.namespace))
}

/// A task from a kind the spec names but whose reports could not be read: nothing is known of
/// its finding, so it stays as it is.
fn kept_unread(
    source: SourceView<'_>,
    readable: &BTreeSet<ReportKind>,
    task: &ExistingTask,
) -> bool {
    ReportKind::ALL.into_iter().any(|kind| {
        task.labels.get(REPORT_KIND).map(String::as_str) == Some(kind.kind())
            && source.spec.reports.contains(&kind)
            && !readable.contains(&kind)
    })
}

/// The findings that make open tasks, by identity. A finding seen twice (two reports, or a
/// repeated result) counts once: the first in report order.
fn open_findings<'a>(
    spec: &ComplianceTaskSourceSpec,
    reports: &[&'a Report],
) -> BTreeMap<String, Finding<'a>> {
    let mut open = BTreeMap::new();
    for report in reports {
        for finding in findings(report) {
            if opens(spec, &finding) {
                open.entry(finding.identity.clone()).or_insert(finding);
            }
        }
    }
    open
}

/// Whether a finding makes an open task: its result is one the spec names, and it passes the filter.
fn opens(spec: &ComplianceTaskSourceSpec, finding: &Finding<'_>) -> bool {
    let filter = &spec.filter;
    let any = |list: &[String], value: Option<&str>| {
        list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
    };
    finding.outcome.is_some_and(|o| spec.results.contains(&o))
        && any(&filter.sources, Some(finding.source))
        && any(&filter.policies, Some(finding.result.policy.as_str()))
        && any(&filter.categories, finding.category)
        && (filter.severities.is_empty()
            || finding
                .severity
                .is_some_and(|s| filter.severities.contains(&s)))
}

/// The write an open finding needs, if any.
fn open_write(current: Option<&ExistingTask>, task: DesiredTask) -> Option<TaskApply> {
    let reason = match current {
        None => WriteReason::Create,
        Some(t) if t.spec.state == TaskState::Completed => WriteReason::Reopen,
        Some(t) if task.differs_from(t) => WriteReason::Update,
        Some(_) => return None,
    };
    Some(TaskApply { reason, task })
}

/// A task completed as it stands: its labels, annotations and spec, with state Completed.
pub fn completion(task: &ExistingTask) -> TaskApply {
    TaskApply {
        reason: WriteReason::Complete,
        task: DesiredTask {
            name: task.name.clone(),
            labels: owned_labels(&task.labels),
            first_seen: first_seen_of(task),
            spec: ComplianceTaskSpec {
                state: TaskState::Completed,
                ..task.spec.clone()
            },
        },
    }
}

fn counts(
    input: &SourceInput<'_>,
    reports: &[&Report],
    open: usize,
    applies: &[TaskApply],
) -> SourceCounts {
    let written: BTreeMap<&str, TaskState> = applies
        .iter()
        .map(|a| (a.task.name.as_str(), a.task.spec.state))
        .collect();
    let mut states: BTreeMap<&str, TaskState> = input
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.spec.state))
        .collect();
    states.extend(written);
    let of = |state| states.values().filter(|s| **s == state).count();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    SourceCounts {
        reports: count(reports.len()),
        results: count(reports.iter().map(|r| r.body.results.len()).sum()),
        results_open: count(open),
        tasks_open: count(of(TaskState::Open)),
        tasks_completed: count(of(TaskState::Completed)),
    }
}

/// A finding's assignee under the source's rule (re-exported for the desired task).
pub(super) fn assignee_of(input: &SourceInput<'_>, finding: &Finding<'_>) -> Option<String> {
    assignee(input.source.spec.assignee.as_ref(), finding, input.owners)
}
