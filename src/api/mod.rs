//! The custom resources of `activesync.dev/v1alpha1`: their Rust types are the single source of the CRDs.

mod common;
mod connection;
mod source;
mod sync;
mod task;

pub use common::{
    Condition, ConnectionRef, JiraLabel, LocalObjectRef, SecretKeyRef, condition_status,
};
pub use connection::{
    AuthType, CaSecretRef, ConnectionAuth, Flavor, Gateway, JiraAccount, JiraConnection,
    JiraConnectionSpec, JiraConnectionStatus, RateLimit, ServerInfo, TlsConfig, WebhookConfig,
};
pub use source::{
    AssigneeRule, ComplianceTaskSource, ComplianceTaskSourceSpec, ComplianceTaskSourceStatus,
    DueDays, FindingFilter, FindingSeverity, ReportKind, ResultKind, TaskDeletionPolicy,
};
pub use sync::{
    Closure, ClosureWhen, DeletionPolicy, JiraActiveSync, JiraActiveSyncSpec, JiraActiveSyncStatus,
    JiraCompletion, Mode, PendingCreate, PendingCreateGroup, PriorityMap, RecentAction, Scope,
    TicketTemplate,
};
pub use task::{
    ComplianceTask, ComplianceTaskSpec, ComplianceTaskStatus, Severity, TaskJiraStatus, TaskState,
};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every kind of this operator.
pub const GROUP: &str = "activesync.dev";

/// The finalizer that runs a sync's deletion policy before the sync goes away.
pub const FINALIZER: &str = "activesync.dev/cleanup";

/// The finalizer a JiraConnection keeps while a sync still needs it for its deletion policy (like
/// `kubernetes.io/pvc-protection`), so that deleting a directory or a namespace in any order
/// finishes with each sync's policy applied.
pub const IN_USE: &str = "activesync.dev/in-use";

/// The annotation that gives up a sync's blocked cleanup deliberately: the sync goes, its tickets
/// stay as they are (as under `deletionPolicy: Retain`).
pub const ABANDON_CLEANUP: &str = "activesync.dev/abandon-cleanup";

/// The finalizer that completes (or deletes) a task source's tasks before the source goes away.
pub const SOURCE_FINALIZER: &str = "activesync.dev/tasks";

/// Every CRD of the operator, in the order `crds/` lists them.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        ComplianceTask::crd(),
        ComplianceTaskSource::crd(),
        JiraActiveSync::crd(),
        JiraConnection::crd(),
    ]
}

/// One CRD as the YAML document `crds/` holds for it.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(crd)
}

/// The file name under `crds/` for a CRD, e.g. `activesync.dev_compliancetasks.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
