//! The Kubernetes-side names of a finding's task: its object name (a DNS label), its check (what
//! `scope.checks` accepts) and label values, each cut to the API's limits without losing
//! uniqueness (a hash suffix stands in for what is cut).

use super::finding::digest;

/// Longest object name made (a DNS-1123 label).
const NAME_MAX: usize = 63;
/// Longest check (the ComplianceTask schema's limit).
const CHECK_MAX: usize = 127;
/// Longest label value.
const LABEL_MAX: usize = 63;

/// The task name of a finding for the source `source_name`: readable words of the policy and the
/// resource, then a hash of the source and the identity, so that two sources in one namespace
/// never share a task.
pub fn task_name(
    source_name: &str,
    identity: &str,
    policy: &str,
    resource: Option<&str>,
) -> String {
    let hash = &digest(&[source_name, identity])[..10];
    let words = match resource {
        Some(resource) => format!("{policy}-{resource}"),
        None => policy.to_owned(),
    };
    let slug = dns_slug(&words, NAME_MAX - hash.len() - 1);
    if slug.is_empty() {
        format!("finding-{hash}")
    } else {
        format!("{slug}-{hash}")
    }
}

/// `text` in lower-case letters, digits and single dashes, at most `max` bytes, starting and
/// ending with a letter or digit (possibly empty).
fn dns_slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_owned()
}

/// The check of a finding, `<source>-<policy>` in the characters `scope.checks` accepts
/// (letters, digits, `.`, `_`, `-`, starting with a letter or digit), lower-case.
pub fn check(source: &str, policy: &str) -> String {
    let text = format!("{source}-{policy}").to_ascii_lowercase();
    let clean = label_chars(&text);
    if clean.is_empty() {
        return "finding".to_owned();
    }
    fit(clean, &text, CHECK_MAX)
}

/// A label value for `text`, or `None` when nothing of it is left: letters, digits, `.`, `_`
/// and `-`, starting and ending with a letter or digit, at most 63 characters.
pub fn label_value(text: &str) -> Option<String> {
    let clean = label_chars(text);
    (!clean.is_empty()).then(|| fit(clean, text, LABEL_MAX))
}

/// `text` with every other character turned into `-`, runs of `-` folded, and trimmed to start
/// and end with a letter or digit.
fn label_chars(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// `clean` when it fits in `max`, else its start and a hash of the original `text`, so that two
/// long values that share a start stay apart.
fn fit(clean: String, text: &str, max: usize) -> String {
    if clean.len() <= max {
        return clean;
    }
    let hash = &digest(&[text])[..8];
    let head = clean[..max - hash.len() - 1].trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!("{head}-{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dns_label(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }

    #[test]
    fn names_are_dns_labels_and_read_as_policy_and_resource() {
        let name = task_name(
            "ctsrc",
            "id-1",
            "require-run-as-non-root",
            Some("payments-api"),
        );
        assert!(
            name.starts_with("require-run-as-non-root-payments-api-"),
            "{name}"
        );
        assert!(is_dns_label(&name), "{name}");
        let long = "x".repeat(300);
        let odd = task_name("ctsrc", "id-2", "Change thread namespace!", Some(&long));
        assert!(is_dns_label(&odd), "{odd}");
        assert_eq!(odd.len(), 63);
        let empty = task_name("ctsrc", "id-3", "::", None);
        assert!(
            empty.starts_with("finding-") && is_dns_label(&empty),
            "{empty}"
        );
    }

    #[test]
    fn names_differ_by_source_and_identity_only_through_the_hash() {
        let a = task_name("a", "id", "p", Some("r"));
        let b = task_name("b", "id", "p", Some("r"));
        let c = task_name("a", "id2", "p", Some("r"));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, task_name("a", "id", "p", Some("r")));
    }

    #[test]
    fn checks_are_what_scope_checks_accepts() {
        assert_eq!(check("kyverno", "require-labels"), "kyverno-require-labels");
        assert_eq!(
            check("kube-bench-adapter", "api-server:anonymous-auth"),
            "kube-bench-adapter-api-server-anonymous-auth"
        );
        assert_eq!(
            check("falco", "Change thread namespace"),
            "falco-change-thread-namespace"
        );
        assert_eq!(
            check("trivy-operator", "CVE-2026-1234"),
            "trivy-operator-cve-2026-1234"
        );
        let long = check("kyverno", &"p".repeat(400));
        assert_eq!(long.len(), 127);
        assert_ne!(long, check("kyverno", &format!("{}q", "p".repeat(400))));
        assert_eq!(check("", ":::"), "finding");
    }

    #[test]
    fn label_values_keep_to_the_label_rules() {
        assert_eq!(label_value("API Server").as_deref(), Some("API-Server"));
        assert_eq!(
            label_value("api-server:basic-auth-file").as_deref(),
            Some("api-server-basic-auth-file")
        );
        assert_eq!(label_value("--"), None);
        let long = label_value(&"a".repeat(100)).expect("a value");
        assert_eq!(long.len(), 63);
        assert!(
            long.chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        );
    }
}
