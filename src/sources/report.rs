//! The part of a policy report a source reads. Both formats (wgpolicyk8s.io PolicyReport and
//! openreports.io Report, namespaced or cluster-scoped) share the result's fields, so one type
//! reads them all.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api::ReportKind;

/// One policy report, as read from the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which of the four kinds it is.
    pub kind: ReportKind,
    /// Its namespace; `None` for cluster-scoped reports.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The engine that wrote it, from its labels (`policy.kubernetes.io/engine`) when its body does not say.
    pub engine: Option<String>,
    /// What the report says.
    pub body: ReportBody,
}

/// The fields of a report body that turn into tasks; everything else is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportBody {
    /// The engine that wrote the report (OpenReports only; results may override it).
    #[serde(default)]
    pub source: Option<String>,
    /// The one resource all results are about (Kyverno's per-resource reports), if any.
    #[serde(default)]
    pub scope: Option<ResourceRef>,
    /// The results.
    #[serde(default)]
    pub results: Vec<PolicyResult>,
}

/// One result of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResult {
    /// The engine that produced it, e.g. `kyverno`.
    #[serde(default)]
    pub source: Option<String>,
    /// The policy, e.g. `require-run-as-non-root` or `CVE-2026-1234`.
    #[serde(default)]
    pub policy: String,
    /// The policy's rule.
    #[serde(default)]
    pub rule: Option<String>,
    /// The policy's category.
    #[serde(default)]
    pub category: Option<String>,
    /// `critical`, `high`, `medium`, `low` or `info`.
    #[serde(default)]
    pub severity: Option<String>,
    /// `pass`, `fail`, `warn`, `error` or `skip`.
    #[serde(default)]
    pub result: Option<String>,
    /// What the engine says about it.
    #[serde(default)]
    pub message: Option<String>,
    /// Free-form details, e.g. `resultID`, `remediation`, `fixedVersion`, `primaryLink`.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// The resources it is about.
    #[serde(default)]
    pub resources: Vec<ResourceRef>,
}

/// A reference to the resource a result is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    /// Its API version, e.g. `apps/v1`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Its kind, e.g. `Deployment`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Its namespace, if namespaced.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its UID.
    #[serde(default)]
    pub uid: Option<String>,
}

/// The label some engines (Falco through falcosidekick) name themselves by.
pub const ENGINE_LABEL: &str = "policy.kubernetes.io/engine";

impl Report {
    /// A report from its kind, place, labels and JSON body.
    pub fn from_json(
        kind: ReportKind,
        namespace: Option<String>,
        name: String,
        labels: &BTreeMap<String, String>,
        body: serde_json::Value,
    ) -> Result<Report, serde_json::Error> {
        Ok(Report {
            kind,
            namespace,
            name,
            engine: labels.get(ENGINE_LABEL).cloned(),
            body: serde_json::from_value(body)?,
        })
    }
}

impl ResourceRef {
    /// `Kind namespace/name`, or what of it is known.
    pub fn describe(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("resource");
        let name = self.name.as_deref().unwrap_or("(unnamed)");
        match &self.namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        }
    }
}
