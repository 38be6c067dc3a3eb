//! Who a finding's task is assigned to: the annotation `fromAnnotation` on the resource, then on
//! its namespace (an email as is, or a name the `map` turns into one), else `default`.

use std::collections::BTreeMap;

use super::finding::Finding;
use super::report::ResourceRef;
use crate::api::AssigneeRule;

/// Identifies a resource for an annotation lookup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API version, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped resources.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ResourceKey {
    /// The key of a reference that names its API version, kind and name.
    pub fn of(resource: &ResourceRef) -> Option<ResourceKey> {
        Some(ResourceKey {
            api_version: resource.api_version.clone()?,
            kind: resource.kind.clone()?,
            namespace: resource.namespace.clone().unwrap_or_default(),
            name: resource.name.clone()?,
        })
    }
}

/// The values of the `fromAnnotation` annotation that the controller read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    /// On resources.
    pub resources: BTreeMap<ResourceKey, String>,
    /// On namespaces, by name.
    pub namespaces: BTreeMap<String, String>,
}

/// The email a finding's task is assigned to, if any.
pub fn assignee(
    rule: Option<&AssigneeRule>,
    finding: &Finding<'_>,
    owners: &Owners,
) -> Option<String> {
    let rule = rule?;
    let resource = finding.resource;
    let on_resource = resource
        .and_then(ResourceKey::of)
        .and_then(|key| owners.resources.get(&key));
    let namespace = resource
        .and_then(|r| r.namespace.as_deref())
        .or(finding.report.namespace.as_deref());
    let on_namespace = namespace.and_then(|ns| owners.namespaces.get(ns));
    [on_resource, on_namespace]
        .into_iter()
        .flatten()
        .find_map(|value| resolve(rule, value))
        .or_else(|| rule.default.clone())
}

/// An annotation value as an email: itself when it is one, else what the map says.
fn resolve(rule: &AssigneeRule, value: &str) -> Option<String> {
    let value = value.trim();
    if is_email(value) {
        return Some(value.to_owned());
    }
    rule.map.get(value).cloned()
}

/// The ComplianceTask schema's email rule: something, `@`, something with a dot, no spaces.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let plain = |s: &str| !s.is_empty() && !s.contains('@') && !s.chars().any(char::is_whitespace);
    plain(local)
        && plain(domain)
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && text.len() <= 254
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_task_schema() {
        assert!(is_email("alice@example.com"));
        assert!(!is_email("alice"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@example.com"));
        assert!(!is_email("a@b@example.com"));
    }
}
