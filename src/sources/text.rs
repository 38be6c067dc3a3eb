//! The words of a finding's task: its title, its instructions (the message and the properties)
//! and its how-to-fix (the source's override, the report's remediation, or for a vulnerability
//! the fixed version and link). Nothing volatile (timestamps) goes in, so that a report rewritten
//! with the same findings changes no task.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::finding::Finding;

/// Longest title (the ComplianceTask schema's limit).
const TITLE_MAX: usize = 255;
/// Longest instructions or how-to-fix text (the ComplianceTask schema's limit).
const TEXT_MAX: usize = 32_768;

/// `Policy (rule) on Kind name`, or what of it is known.
pub fn title(finding: &Finding<'_>) -> String {
    let result = finding.result;
    let mut title = if result.policy.trim().is_empty() {
        "Policy finding".to_owned()
    } else {
        result.policy.trim().to_owned()
    };
    if let Some(rule) = result
        .rule
        .as_deref()
        .filter(|r| !r.is_empty() && *r != result.policy)
    {
        let _ = write!(title, " ({rule})");
    }
    if let Some(resource) = finding.resource {
        let _ = write!(title, " on {}", resource.describe());
    }
    cut(&title, TITLE_MAX)
}

/// The message, then where the finding comes from, then every property (sorted, as reports do
/// not keep an order).
pub fn instructions(finding: &Finding<'_>) -> String {
    let result = finding.result;
    let mut text = String::new();
    if let Some(message) = result.message.as_deref().filter(|m| !m.trim().is_empty()) {
        let _ = writeln!(text, "{}\n", message.trim());
    }
    let report = finding.report;
    let place = match &report.namespace {
        Some(ns) => format!("{} {ns}/{}", report.kind.kind(), report.name),
        None => format!("{} {}", report.kind.kind(), report.name),
    };
    let mut facts: Vec<(&str, String)> = vec![
        ("Source", finding.source.to_owned()),
        ("Policy", result.policy.clone()),
    ];
    let optional = [
        ("Rule", result.rule.clone()),
        ("Category", finding.category.map(str::to_owned)),
        ("Severity", result.severity.clone()),
        ("Result", result.result.clone()),
        ("Resource", finding.resource.map(|r| r.describe())),
    ];
    facts.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    facts.push(("Report", place));
    for (key, value) in facts {
        let _ = writeln!(text, "- {key}: {value}");
    }
    properties(&mut text, &result.properties);
    cut(text.trim_end(), TEXT_MAX)
}

fn properties(text: &mut String, properties: &BTreeMap<String, String>) {
    if properties.is_empty() {
        return;
    }
    let _ = writeln!(text, "\nProperties:");
    for (key, value) in properties {
        let _ = writeln!(text, "- {key}: {value}");
    }
}

/// The source's text for the policy, else the report's `remediation`, else for a vulnerability
/// the version that fixes it and its link.
pub fn how_to_fix(finding: &Finding<'_>, overrides: &BTreeMap<String, String>) -> Option<String> {
    let result = finding.result;
    if let Some(text) = overrides.get(&result.policy) {
        return Some(cut(text, TEXT_MAX));
    }
    let property = |key: &str| result.properties.get(key).filter(|v| !v.trim().is_empty());
    if let Some(remediation) = property("remediation") {
        return Some(cut(remediation, TEXT_MAX));
    }
    let mut text = String::new();
    if let Some(fixed) = property("fixedVersion") {
        let package = property("resource").or(property("pkgName"));
        let installed = property("installedVersion");
        let _ = match (package, installed) {
            (Some(p), Some(i)) => write!(text, "Upgrade {p} from {i} to {fixed} or later."),
            (Some(p), None) => write!(text, "Upgrade {p} to {fixed} or later."),
            _ => write!(text, "Upgrade to {fixed} or later."),
        };
    }
    if let Some(link) = property("primaryLink").or(property("primaryURL")) {
        if !text.is_empty() {
            text.push(' ');
        }
        let _ = write!(text, "See {link}");
    }
    (!text.is_empty()).then(|| cut(&text, TEXT_MAX))
}

/// `text` cut to at most `limit` bytes on a character boundary.
fn cut(text: &str, limit: usize) -> String {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
