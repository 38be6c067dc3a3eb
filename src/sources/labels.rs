//! The labels and annotation a source puts on its tasks: who made the task and from which
//! finding (so a pass finds it again), and the finding's engine, policy, rule, resource and
//! severity (so syncs can select on them).

use std::collections::BTreeMap;

use super::finding::{Finding, digest};
use super::naming::label_value;

/// The ComplianceTaskSource that made the task.
pub const TASK_SOURCE: &str = "activesync.dev/task-source";
/// A hash of the finding's identity: how a pass finds the task again.
pub const FINDING: &str = "activesync.dev/finding";
/// The kind of report the finding is in.
pub const REPORT_KIND: &str = "activesync.dev/report-kind";
/// The engine that reported it, e.g. `kyverno`.
pub const ENGINE: &str = "activesync.dev/engine";
/// The policy.
pub const POLICY: &str = "activesync.dev/policy";
/// The rule.
pub const RULE: &str = "activesync.dev/rule";
/// The resource's kind.
pub const RESOURCE_KIND: &str = "activesync.dev/resource-kind";
/// The resource's name.
pub const RESOURCE_NAME: &str = "activesync.dev/resource-name";
/// The finding's severity as the report spells it.
pub const SEVERITY: &str = "activesync.dev/severity";
/// When the finding was first seen failing (RFC 3339): due dates count from it, since engines'
/// own timestamps are not reliable.
pub const FIRST_SEEN: &str = "activesync.dev/first-seen";

/// Every label the source owns on its tasks.
const OWNED: [&str; 9] = [
    TASK_SOURCE,
    FINDING,
    REPORT_KIND,
    ENGINE,
    POLICY,
    RULE,
    RESOURCE_KIND,
    RESOURCE_NAME,
    SEVERITY,
];

/// The `FINDING` label value of an identity.
pub fn finding_label(identity: &str) -> String {
    digest(&[identity])[..40].to_owned()
}

/// The labels of `labels` the source owns.
pub fn owned_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| OWNED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether two label sets agree on every label the source owns.
pub fn same_owned(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    OWNED.iter().all(|k| a.get(*k) == b.get(*k))
}

/// The labels of a finding's task made by the source `source_name`.
pub fn finding_labels(source_name: &str, finding: &Finding<'_>) -> BTreeMap<String, String> {
    let result = finding.result;
    let resource = finding.resource;
    let severity = finding
        .severity
        .map(|s| format!("{s:?}").to_ascii_lowercase());
    let values = [
        (TASK_SOURCE, Some(source_name.to_owned())),
        (FINDING, Some(finding_label(&finding.identity))),
        (REPORT_KIND, Some(finding.report.kind.kind().to_owned())),
        (ENGINE, Some(finding.source.to_owned())),
        (POLICY, Some(result.policy.clone())),
        (RULE, result.rule.clone()),
        (RESOURCE_KIND, resource.and_then(|r| r.kind.clone())),
        (RESOURCE_NAME, resource.and_then(|r| r.name.clone())),
        (SEVERITY, severity),
    ];
    values
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), label_value(&v?)?)))
        .collect()
}
