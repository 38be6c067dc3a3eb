//! `ComplianceTask`: one unit of compliance work, the system of record for tasks.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::sync::Mode;

/// One unit of compliance work, produced by a scanner, a CI job, a GitOps repository or another operator.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Hash)]
#[kube(
    group = "activesync.dev",
    version = "v1alpha1",
    kind = "ComplianceTask",
    namespaced,
    status = "ComplianceTaskStatus",
    shortname = "ctask",
    category = "activesync",
    doc = "One unit of compliance work; a JiraActiveSync keeps a Jira ticket in step with it.",
    printcolumn = r#"{"name": "Check", "type": "string", "jsonPath": ".spec.check"}"#,
    printcolumn = r#"{"name": "Assignee", "type": "string", "jsonPath": ".spec.assignee"}"#,
    printcolumn = r#"{"name": "State", "type": "string", "jsonPath": ".spec.state"}"#,
    printcolumn = r#"{"name": "Jira", "type": "string", "jsonPath": ".status.jira.key"}"#,
    printcolumn = r#"{"name": "Jira Status", "type": "string", "jsonPath": ".status.jira.status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceTaskSpec {
    /// The check this task belongs to, e.g. `vulnerability-management`; syncs select tasks by check.
    #[schemars(length(min = 1, max = 127))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9][A-Za-z0-9._-]*$')").message(
        "check must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"
    ))]
    pub check: String,
    /// A one-line title; becomes the Jira summary in Individual mode.
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("size(self.trim()) > 0").message("title cannot be empty"))]
    pub title: String,
    /// Email of the person responsible; the grouping key in Batch mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 254))]
    #[x_kube(validation = Rule::new("self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')").message(
        "assignee must be an email address such as alice@example.com"
    ))]
    pub assignee: Option<String>,
    /// What to do (plain text or Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32768))]
    pub instructions: Option<String>,
    /// Remediation guidance: how to fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32768))]
    pub how_to_fix: Option<String>,
    /// How severe the finding is; maps to the Jira priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Due date (YYYY-MM-DD); becomes the Jira due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<jiff::civil::Date>,
    /// `Open` or `Completed`, written by the task's producer.
    #[serde(default)]
    pub state: TaskState,
}

/// How severe a task is.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum Severity {
    /// Fix now.
    Critical,
    /// Fix soon.
    High,
    /// Fix in the normal course of work.
    Medium,
    /// Fix when convenient.
    Low,
}

/// Whether a task still needs work.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum TaskState {
    /// Work remains.
    #[default]
    Open,
    /// The work is done.
    Completed,
}

/// The task as the operator sees it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceTaskStatus {
    /// The Jira ticket that carries this task, as last seen in Jira.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jira: Option<TaskJiraStatus>,
}

/// The Jira ticket status shown for a task.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskJiraStatus {
    /// The JiraActiveSync that owns this task.
    pub sync: String,
    /// The ticket's key, e.g. `SEC-42`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Link to the ticket in Jira.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The ticket's status name, e.g. `In Progress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The status category: `new`, `indeterminate` or `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<String>,
    /// Whether the ticket is this task's own (`Individual`) or shared by the assignee's tasks (`Batch`).
    pub mode: Mode,
    /// When the operator last brought the ticket and this status in step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<jiff::Timestamp>,
}
