//! `JiraActiveSync`: what to sync, where, and how.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Condition, ConnectionRef, JiraLabel};
use super::task::Severity;

/// What to sync (a scope of tasks), where (a Jira project), and how (mode, closure, deletion).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "activesync.dev",
    version = "v1alpha1",
    kind = "JiraActiveSync",
    namespaced,
    status = "JiraActiveSyncStatus",
    shortname = "jas",
    category = "activesync",
    doc = "Keeps a Jira ticket in step with every ComplianceTask in its scope, in both directions.",
    printcolumn = r#"{"name": "Mode", "type": "string", "jsonPath": ".spec.mode"}"#,
    printcolumn = r#"{"name": "Project", "type": "string", "jsonPath": ".spec.jira.project"}"#,
    printcolumn = r#"{"name": "Tasks", "type": "integer", "jsonPath": ".status.tasksInScope"}"#,
    printcolumn = r#"{"name": "Tickets", "type": "integer", "jsonPath": ".status.tickets"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct JiraActiveSyncSpec {
    /// The JiraConnection to use, in the same namespace. Immutable.
    pub connection_ref: ConnectionRef,
    /// Which tasks of this namespace the sync takes.
    #[serde(default)]
    pub scope: Scope,
    /// Where and how tickets are made in Jira.
    pub jira: TicketTemplate,
    /// `Individual`: one ticket per task. `Batch`: one ticket per assignee.
    #[serde(default)]
    pub mode: Mode,
    /// When tickets are closed.
    #[serde(default)]
    pub closure: Closure,
    /// What a ticket reaching "done" in Jira does while its tasks are still open.
    #[serde(default)]
    pub jira_completion: JiraCompletion,
    /// What happens to the tickets when this sync is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// How often Jira is polled for changes, as the safety net for missed webhooks (10s to 1h).
    #[serde(default = "default_poll_interval")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new(
        "self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('10s') && duration(self) <= duration('1h')"
    ).message("pollInterval must be a duration between 10s and 1h, such as 60s or 5m"))]
    pub poll_interval: String,
    /// Stop all writes to Jira and to tasks until set back to false.
    #[serde(default)]
    pub suspend: bool,
}

fn default_poll_interval() -> String {
    "60s".to_owned()
}

/// Which tasks a sync takes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// The checks whose tasks this sync takes; empty takes every task in the namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 256), inner(length(min = 1, max = 127)))]
    #[x_kube(validation = Rule::new("self.all(c, c.matches('^[A-Za-z0-9][A-Za-z0-9._-]*$'))").message(
        "scope.checks must hold check names: letters, digits, '.', '_' and '-', starting with a letter or digit"
    ))]
    pub checks: Vec<String>,
    /// Only tasks whose labels match this selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_selector: Option<LabelSelector>,
}

/// Where and how tickets are made.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketTemplate {
    /// The Jira project key, e.g. `SEC`.
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Z][A-Z0-9_]+$')").message(
        "project must be a Jira project key: an upper-case letter followed by upper-case letters, digits or '_', e.g. SEC"
    ))]
    pub project: String,
    /// The issue type of the tickets, e.g. `Task`.
    #[serde(default = "default_issue_type")]
    #[schemars(length(min = 1, max = 255))]
    pub issue_type: String,
    /// The epic the tickets belong to, e.g. `SEC-100` (Cloud: `parent`; Data Center: Epic Link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Z][A-Z0-9_]+-[1-9][0-9]*$')").message(
        "epic must be a Jira issue key such as SEC-100"
    ))]
    pub epic: Option<String>,
    /// Labels added to every ticket, beside the operator's own identity labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub labels: Vec<JiraLabel>,
    /// Jira priority name for each task severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_map: Option<PriorityMap>,
}

fn default_issue_type() -> String {
    "Task".to_owned()
}

/// The Jira priority name for each task severity; a severity left out sets no priority.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct PriorityMap {
    /// Priority for `Critical` tasks, e.g. `Highest`.
    #[serde(rename = "Critical", default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<String>,
    /// Priority for `High` tasks.
    #[serde(rename = "High", default, skip_serializing_if = "Option::is_none")]
    pub high: Option<String>,
    /// Priority for `Medium` tasks.
    #[serde(rename = "Medium", default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// Priority for `Low` tasks.
    #[serde(rename = "Low", default, skip_serializing_if = "Option::is_none")]
    pub low: Option<String>,
}

impl PriorityMap {
    /// The Jira priority for a severity, if the map names one.
    pub fn priority_for(&self, severity: Severity) -> Option<&str> {
        match severity {
            Severity::Critical => self.critical.as_deref(),
            Severity::High => self.high.as_deref(),
            Severity::Medium => self.medium.as_deref(),
            Severity::Low => self.low.as_deref(),
        }
    }
}

/// How tasks map to tickets.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum Mode {
    /// One ticket per task.
    #[default]
    Individual,
    /// One ticket per assignee, listing all of the assignee's tasks.
    Batch,
}

/// When and how tickets are closed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Closure {
    /// `AllTasksCompleted`: close a ticket once all its tasks are completed. `Never`: people close tickets.
    #[serde(default)]
    pub when: ClosureWhen,
    /// Target status name; default: any transition into the "done" category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub transition: Option<String>,
    /// Resolution to set where a transition screen takes one; default: the first one Jira lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub resolution: Option<String>,
    /// Values for fields that transition screens require (field id -> value in Jira's REST form,
    /// e.g. `customfield_10300: "Closed by the operator"` or `{value: Yes}`), each sent on the
    /// transitions whose screen has that field.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(schema_with = "closure_fields_schema")]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Comment on the ticket naming the tasks that completed it.
    #[serde(default = "yes")]
    pub comment: bool,
    /// Re-open the ticket when a task re-opens or a new task joins a done batch.
    #[serde(default = "yes")]
    pub reopen: bool,
}

fn yes() -> bool {
    true
}

/// Field ids to values of any JSON shape (Jira's REST form of each field).
fn closure_fields_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "Values for fields that transition screens require: field id (e.g. customfield_10300) -> value in Jira's REST form, sent on the transitions whose screen has that field.",
        "maxProperties": 64,
        "additionalProperties": {"x-kubernetes-preserve-unknown-fields": true},
    })
}

impl Default for Closure {
    fn default() -> Self {
        Self {
            when: ClosureWhen::default(),
            transition: None,
            resolution: None,
            fields: serde_json::Map::new(),
            comment: true,
            reopen: true,
        }
    }
}

/// When tickets are closed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ClosureWhen {
    /// Once every task of the ticket is completed.
    #[default]
    AllTasksCompleted,
    /// Never by the operator.
    Never,
}

/// What a ticket reaching "done" in Jira does while its tasks are open.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum JiraCompletion {
    /// Show the ticket's status on the tasks; nothing else.
    #[default]
    Reflect,
    /// Mark the ticket's tasks Completed.
    CompleteTasks,
    /// The task is the source of truth: re-open the ticket, with a comment.
    Reopen,
}

/// What happens to a sync's tickets when the sync is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Leave the tickets as they are.
    #[default]
    Retain,
    /// Delete the tickets (found by label, not only by recorded keys).
    Delete,
    /// Transition the tickets to done, with a comment.
    Close,
}

/// What the sync has done, by Kubernetes API conventions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JiraActiveSyncStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `JiraConnected`, `Synced`, `Conflict` and `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Tasks this sync owns.
    #[serde(default)]
    pub tasks_in_scope: u32,
    /// Of those, tasks completed.
    #[serde(default)]
    pub tasks_completed: u32,
    /// Tickets the sync keeps.
    #[serde(default)]
    pub tickets: u32,
    /// Of those, tickets in the "done" category.
    #[serde(default)]
    pub tickets_done: u32,
    /// When the sync last finished a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<jiff::Timestamp>,
    /// Tickets whose create was sent but which Jira's search may not show yet, one group per pass
    /// that sent creates. Recorded before the creates go out, so that an operator restarted after a
    /// crash does not repeat a create whose answer was lost. Bounded: while the identities take
    /// under 64 KB they are listed; past that each group holds a filter of them (about 1.2 bytes
    /// each). Always written (empty included) so that settled groups are removed.
    #[serde(default)]
    pub pending_create_groups: Vec<PendingCreateGroup>,
    /// The same, one entry per create, as operators before pending-create groups wrote it: read
    /// after an upgrade, then written empty.
    #[serde(default)]
    pub pending_creates: Vec<PendingCreate>,
    /// The sync's last actions on tickets, newest first (at most 20): what `explain` shows, kept
    /// after the Events (one hour by default) are gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_actions: Vec<RecentAction>,
}

/// One action of the sync on a ticket, as its Event told it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecentAction {
    /// When it was done.
    pub time: jiff::Timestamp,
    /// What was done: `Create`, `Update`, `Close`, `Reopen`, `Release`, `Retire`, `Delete`, `Sync`
    /// (a failed step).
    pub action: String,
    /// The Event's reason, e.g. `TicketCreated`, `TicketClosed`, `JiraActionFailed`.
    pub reason: String,
    /// The ticket, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The ticket's tasks (the first ten).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// How many tasks the ticket has.
    #[serde(default)]
    pub task_count: u32,
    /// What, why and for whom, as the Event's note said.
    pub message: String,
}

/// The creates one pass sent, which Jira's search may not show yet.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingCreateGroup {
    /// When the creates were sent.
    pub sent: jiff::Timestamp,
    /// How many creates.
    pub count: u32,
    /// The creates' identity labels, while all groups' identities take under 64 KB.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
    /// Otherwise a Bloom filter of them (base64; 7 SHA-256-derived probes per identity): a create
    /// whose identity it holds is not repeated until the search settle window has passed. A false
    /// match (about 1 in 100) only delays a create by that window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// A create sent to Jira and not yet seen in its search.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingCreate {
    /// The ticket's identity label.
    pub identity: String,
    /// When the create was sent.
    pub sent: jiff::Timestamp,
}
