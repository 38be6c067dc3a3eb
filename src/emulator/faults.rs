//! Injected faults: the next N requests matching a method and path fail, or are carried out with their
//! response lost (the connection closes, as when a proxy drops it).

use serde::{Deserialize, Serialize};

/// What a matching request suffers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum FaultAction {
    /// Answer with this status (and Jira's error body) without running the request.
    #[serde(rename_all = "camelCase")]
    Error {
        /// HTTP status, e.g. 503 or 429.
        status: u16,
        /// Seconds for a `Retry-After` header (429/503).
        #[serde(default)]
        retry_after_secs: Option<u64>,
        /// Message for the error body.
        #[serde(default)]
        message: Option<String>,
    },
    /// Run the request (its changes are committed) and then close the connection without answering.
    DropResponse,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path to match: exact, or a prefix when it ends with `*`.
    pub path: String,
    /// How many more requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// What happens to them.
    #[serde(flatten)]
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_ok && path_ok && self.count > 0
    }
}

/// The active fault rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Rules, first match wins.
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Takes one use of the first rule matching the request, if any.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let rule = self.rules.iter_mut().find(|r| r.matches(method, path))?;
        rule.count -= 1;
        let action = rule.action.clone();
        self.rules.retain(|r| r.count > 0);
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_applies_to_its_count_of_matching_requests_only() {
        let mut faults = Faults::default();
        faults.add(FaultRule {
            method: Some("POST".into()),
            path: "/rest/api/3/issue*".into(),
            count: 2,
            action: FaultAction::DropResponse,
        });
        assert_eq!(faults.take("GET", "/rest/api/3/issue/SEC-1"), None);
        assert_eq!(
            faults.take("post", "/rest/api/3/issue"),
            Some(FaultAction::DropResponse)
        );
        assert_eq!(
            faults.take("POST", "/rest/api/3/issue/bulk"),
            Some(FaultAction::DropResponse)
        );
        assert_eq!(faults.take("POST", "/rest/api/3/issue"), None);
        assert!(faults.rules.is_empty());
    }
}
