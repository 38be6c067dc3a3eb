//! `ComplianceTaskSource`: findings in policy reports (PolicyReport, OpenReports Report) become tasks.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::common::Condition;

/// Turns the failing results of policy reports in its namespace into ComplianceTasks it owns.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "activesync.dev",
    version = "v1alpha1",
    kind = "ComplianceTaskSource",
    namespaced,
    status = "ComplianceTaskSourceStatus",
    shortname = "ctsrc",
    category = "activesync",
    doc = "Turns the failing results of policy reports (wgpolicyk8s.io PolicyReport, openreports.io Report) into ComplianceTasks.",
    printcolumn = r#"{"name": "Reports", "type": "integer", "jsonPath": ".status.reportsRead"}"#,
    printcolumn = r#"{"name": "Open", "type": "integer", "jsonPath": ".status.tasksOpen"}"#,
    printcolumn = r#"{"name": "Completed", "type": "integer", "jsonPath": ".status.tasksCompleted"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceTaskSourceSpec {
    /// Which report results make an open task; `warn` is opt-in.
    #[serde(default = "default_results")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(min = 1, max = 3))]
    #[x_kube(validation = Rule::new("size(self) >= 1").message(
        "results must name at least one of fail, error and warn"
    ))]
    pub results: Vec<ResultKind>,
    /// Which report kinds to read. Cluster-scoped kinds are read only where the operator runs with
    /// `--cluster-reports` (chart value `taskSources.clusterReports`).
    #[serde(default = "default_reports")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(min = 1, max = 4))]
    #[x_kube(validation = Rule::new("size(self) >= 1").message(
        "reports must name at least one of PolicyReport, Report, ClusterPolicyReport and ClusterReport"
    ))]
    pub reports: Vec<ReportKind>,
    /// Only results matching every list given here; an empty or absent list matches all.
    #[serde(default)]
    pub filter: FindingFilter,
    /// Who each task is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<AssigneeRule>,
    /// Days from when a finding was first seen to its task's due date, per severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_days: Option<DueDays>,
    /// How-to-fix text per policy name, in place of what the report says.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "how_to_fix_schema")]
    pub how_to_fix: BTreeMap<String, String>,
    /// What deleting this source does to its tasks: `Complete` (syncs then close the tickets by
    /// their closure rule) or `Delete`.
    #[serde(default)]
    pub task_deletion_policy: TaskDeletionPolicy,
}

/// Policy names to their how-to-fix text; bounded so the API server can cost the object.
fn how_to_fix_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "How-to-fix text per policy name, in place of what the report says.",
        "maxProperties": 256,
        "additionalProperties": {"type": "string", "maxLength": 32768},
    })
}

/// Annotation values to emails, with the CEL rule on each value (bounded, so it can be costed).
fn owner_map_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Annotation values (e.g. team names) to the email they stand for.",
        "maxProperties": 1024,
        "additionalProperties": {
            "type": "string",
            "maxLength": 254,
            "x-kubernetes-validations": [{
                "rule": EMAIL_RULE,
                "message": "every value of assignee.map must be an email address such as alice@example.com",
            }],
        },
    })
}

/// The email rule of `ComplianceTask.spec.assignee`.
const EMAIL_RULE: &str = "self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')";

fn default_results() -> Vec<ResultKind> {
    vec![ResultKind::Fail, ResultKind::Error]
}

fn default_reports() -> Vec<ReportKind> {
    vec![ReportKind::PolicyReport, ReportKind::Report]
}

/// A report result value that can open a task.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    /// The policy failed.
    Fail,
    /// The policy could not be evaluated.
    Error,
    /// The policy warned.
    Warn,
}

/// A kind of policy report.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum ReportKind {
    /// `wgpolicyk8s.io/v1alpha2` PolicyReport of the source's namespace.
    PolicyReport,
    /// `openreports.io/v1alpha1` Report of the source's namespace.
    Report,
    /// `wgpolicyk8s.io/v1alpha2` ClusterPolicyReport (where the install allows).
    ClusterPolicyReport,
    /// `openreports.io/v1alpha1` ClusterReport (where the install allows).
    ClusterReport,
}

impl ReportKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ReportKind; 4] = [
        ReportKind::PolicyReport,
        ReportKind::Report,
        ReportKind::ClusterPolicyReport,
        ReportKind::ClusterReport,
    ];

    /// The API group and version of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            ReportKind::PolicyReport | ReportKind::ClusterPolicyReport => "wgpolicyk8s.io/v1alpha2",
            ReportKind::Report | ReportKind::ClusterReport => "openreports.io/v1alpha1",
        }
    }

    /// The kind's name, e.g. `PolicyReport`.
    pub fn kind(self) -> &'static str {
        match self {
            ReportKind::PolicyReport => "PolicyReport",
            ReportKind::Report => "Report",
            ReportKind::ClusterPolicyReport => "ClusterPolicyReport",
            ReportKind::ClusterReport => "ClusterReport",
        }
    }

    /// The kind's resource name, e.g. `policyreports`.
    pub fn plural(self) -> &'static str {
        match self {
            ReportKind::PolicyReport => "policyreports",
            ReportKind::Report => "reports",
            ReportKind::ClusterPolicyReport => "clusterpolicyreports",
            ReportKind::ClusterReport => "clusterreports",
        }
    }

    /// Whether reports of this kind are cluster-scoped.
    pub fn cluster_scoped(self) -> bool {
        matches!(
            self,
            ReportKind::ClusterPolicyReport | ReportKind::ClusterReport
        )
    }
}

/// Which results a source takes; each list left empty matches everything.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingFilter {
    /// Policy engines, e.g. `kyverno`, `trivy-operator`, `kube-bench-adapter`, `falco`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(min = 1, max = 253)))]
    pub sources: Vec<String>,
    /// Policy names, e.g. `require-run-as-non-root`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(min = 1, max = 253)))]
    pub policies: Vec<String>,
    /// Result categories, e.g. `Pod Security Standards (Baseline)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(min = 1, max = 253)))]
    pub categories: Vec<String>,
    /// Result severities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub severities: Vec<FindingSeverity>,
}

/// A result's severity, as the report formats spell it.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
    /// Informational.
    Info,
}

/// Who a task is assigned to: the annotation on the resource, then on its namespace (an email, or a
/// name `map` turns into one); otherwise `default`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssigneeRule {
    /// Annotation key read on the resource, then on its namespace, e.g. `activesync.dev/owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 316))]
    #[x_kube(validation = Rule::new(
        "self.matches('^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')"
    ).message("fromAnnotation must be an annotation key such as activesync.dev/owner"))]
    pub from_annotation: Option<String>,
    /// Annotation values (e.g. team names) to the email they stand for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "owner_map_schema")]
    pub map: BTreeMap<String, String>,
    /// The email of tasks no annotation assigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 254))]
    #[x_kube(validation = Rule::new("self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')").message(
        "assignee.default must be an email address such as secops@example.com"
    ))]
    pub default: Option<String>,
}

/// Days to a task's due date per severity, counted from when its finding was first seen.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
pub struct DueDays {
    /// Days for critical findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 3650").message(
        "dueDays must be whole days between 1 and 3650"
    ))]
    pub critical: Option<u32>,
    /// Days for high findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 3650").message(
        "dueDays must be whole days between 1 and 3650"
    ))]
    pub high: Option<u32>,
    /// Days for medium findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 3650").message(
        "dueDays must be whole days between 1 and 3650"
    ))]
    pub medium: Option<u32>,
    /// Days for low findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 3650").message(
        "dueDays must be whole days between 1 and 3650"
    ))]
    pub low: Option<u32>,
    /// Days for informational findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 3650").message(
        "dueDays must be whole days between 1 and 3650"
    ))]
    pub info: Option<u32>,
}

impl DueDays {
    /// The days given for a severity.
    pub fn for_severity(&self, severity: FindingSeverity) -> Option<u32> {
        match severity {
            FindingSeverity::Critical => self.critical,
            FindingSeverity::High => self.high,
            FindingSeverity::Medium => self.medium,
            FindingSeverity::Low => self.low,
            FindingSeverity::Info => self.info,
        }
    }
}

/// What deleting a source does to its tasks.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum TaskDeletionPolicy {
    /// Mark the tasks Completed, so that syncs close their tickets by their closure rule.
    #[default]
    Complete,
    /// Delete the tasks.
    Delete,
}

/// What the source read and made, by Kubernetes API conventions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceTaskSourceStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Synced`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Reports read in the last pass.
    #[serde(default)]
    pub reports_read: u32,
    /// Results in those reports.
    #[serde(default)]
    pub results: u32,
    /// Of those, results that the spec turns into open tasks.
    #[serde(default)]
    pub results_open: u32,
    /// Tasks of this source that are open.
    #[serde(default)]
    pub tasks_open: u32,
    /// Tasks of this source that are completed.
    #[serde(default)]
    pub tasks_completed: u32,
    /// When the source last finished a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<jiff::Timestamp>,
}
