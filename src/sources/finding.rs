//! A finding: one result about one resource, with what a task needs read out of the report's
//! fields (engine, severity, category fall back to the result's properties, where some engines
//! put them), and its stable identity.

use sha2::{Digest, Sha256};

use super::report::{PolicyResult, Report, ResourceRef};
use crate::api::{FindingSeverity, ResultKind};

/// One result about one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<'a> {
    /// The report it was read from.
    pub report: &'a Report,
    /// The result.
    pub result: &'a PolicyResult,
    /// The resource it is about, if the result or the report names one.
    pub resource: Option<&'a ResourceRef>,
    /// The engine, e.g. `kyverno` (`unknown` when nothing says).
    pub source: &'a str,
    /// Its severity, if the result or its properties give one the formats know.
    pub severity: Option<FindingSeverity>,
    /// Its category, if the result or its properties give one.
    pub category: Option<&'a str>,
    /// The result's value, if it is one that can open a task.
    pub outcome: Option<ResultKind>,
    /// Stable across message and result changes: `properties.resultID`, else a hash of engine,
    /// policy, rule and resource.
    pub identity: String,
}

/// Every finding of a report: a result naming several resources is one finding per resource; one
/// naming none is about the report's scope, or the report itself.
pub fn findings(report: &Report) -> Vec<Finding<'_>> {
    let mut out = Vec::new();
    for result in &report.body.results {
        if result.resources.is_empty() {
            out.push(finding(report, result, report.body.scope.as_ref(), false));
        }
        let several = result.resources.len() > 1;
        for resource in &result.resources {
            out.push(finding(report, result, Some(resource), several));
        }
    }
    out
}

fn finding<'a>(
    report: &'a Report,
    result: &'a PolicyResult,
    resource: Option<&'a ResourceRef>,
    several: bool,
) -> Finding<'a> {
    let source = result
        .source
        .as_deref()
        .or(report.body.source.as_deref())
        .or(report.engine.as_deref())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or("unknown");
    let severity = result
        .severity
        .as_deref()
        .or(result.properties.get("severity").map(String::as_str))
        .and_then(parse_severity);
    let category = result
        .category
        .as_deref()
        .or(result.properties.get("category").map(String::as_str));
    let identity = identity(report, result, resource, source, several);
    Finding {
        report,
        result,
        resource,
        source,
        severity,
        category,
        outcome: result.result.as_deref().and_then(parse_outcome),
        identity,
    }
}

/// The identity of a finding. A `resultID` names a result, so a result naming several resources
/// adds the resource to it; without one, the hash covers what stays the same while a finding
/// lasts (never the message, the result or a timestamp).
fn identity(
    report: &Report,
    result: &PolicyResult,
    resource: Option<&ResourceRef>,
    source: &str,
    several: bool,
) -> String {
    let resource_key = match resource {
        Some(r) => r.uid.clone().unwrap_or_else(|| {
            let part = |p: &Option<String>| p.clone().unwrap_or_default();
            let (kind, ns, name) = (part(&r.kind), part(&r.namespace), part(&r.name));
            format!("{kind}/{ns}/{name}")
        }),
        None => report_key(report),
    };
    if let Some(id) = result
        .properties
        .get("resultID")
        .filter(|id| !id.is_empty())
    {
        return if several {
            format!("{id}/{resource_key}")
        } else {
            id.clone()
        };
    }
    let rule = result.rule.as_deref().unwrap_or_default();
    digest(&[source, &result.policy, rule, &resource_key])
}

/// A report's own place, for results about no resource (a node benchmark, an audit alert).
fn report_key(report: &Report) -> String {
    let ns = report.namespace.as_deref().unwrap_or_default();
    format!("{}/{ns}/{}", report.kind.kind(), report.name)
}

/// SHA-256 over the parts, each ended by a NUL so that no two part lists run together, as hex.
pub fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn parse_severity(text: &str) -> Option<FindingSeverity> {
    match text.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(FindingSeverity::Critical),
        "high" => Some(FindingSeverity::High),
        "medium" => Some(FindingSeverity::Medium),
        "low" => Some(FindingSeverity::Low),
        "info" | "informational" => Some(FindingSeverity::Info),
        _ => None,
    }
}

fn parse_outcome(text: &str) -> Option<ResultKind> {
    match text {
        "fail" => Some(ResultKind::Fail),
        "error" => Some(ResultKind::Error),
        "warn" => Some(ResultKind::Warn),
        _ => None,
    }
}
