//! Which OAuth 2.0 scope a request needs, and whether a credential's scopes grant it. Cloud uses its
//! classic scopes (as `x-atlassian-oauth2-scopes` of the Cloud OpenAPI document lists them per
//! operation); Data Center its ordered levels `READ` < `WRITE` < `ADMIN` < `SYSTEM_ADMIN`.

use axum::http::Method;

use super::config::Flavor;

/// The scope a request needs, or `None` when any credential may make it (serverInfo).
pub fn required(flavor: Flavor, method: &Method, path: &str) -> Option<&'static str> {
    let operation = path
        .trim_start_matches("/rest/api/2")
        .trim_start_matches("/rest/api/3");
    if operation == "/serverInfo" {
        return None;
    }
    let webhooks = path.starts_with("/rest/webhooks/");
    let reads = *method == Method::GET
        || *method == Method::HEAD
        || matches!(operation, "/search" | "/search/jql" | "/issue/bulkfetch");
    Some(match flavor {
        Flavor::Cloud if webhooks => "manage:jira-webhook",
        Flavor::Cloud if matches!(operation, "/myself" | "/user/search") => "read:jira-user",
        Flavor::Cloud if reads => "read:jira-work",
        Flavor::Cloud => "write:jira-work",
        Flavor::Datacenter if webhooks => "ADMIN",
        Flavor::Datacenter if reads => "READ",
        Flavor::Datacenter => "WRITE",
    })
}

/// The rank of a Data Center scope; higher ones include the lower.
fn data_center_level(scope: &str) -> Option<u8> {
    match scope {
        "READ" => Some(1),
        "WRITE" => Some(2),
        "ADMIN" => Some(3),
        "SYSTEM_ADMIN" => Some(4),
        _ => None,
    }
}

/// Whether `held` scopes grant `needed`.
pub fn grants(flavor: Flavor, held: &[String], needed: &str) -> bool {
    match flavor {
        Flavor::Cloud => held.iter().any(|s| s == needed),
        Flavor::Datacenter => {
            let best = held.iter().filter_map(|s| data_center_level(s)).max();
            best.is_some_and(|best| data_center_level(needed).is_some_and(|n| best >= n))
        }
    }
}

/// Whether every scope of `requested` is within `allowed`.
pub fn within(flavor: Flavor, allowed: &[String], requested: &[String]) -> bool {
    requested.iter().all(|s| grants(flavor, allowed, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_operations_need_their_classic_scope() {
        let need = |method: Method, path| required(Flavor::Cloud, &method, path);
        assert_eq!(need(Method::GET, "/rest/api/3/serverInfo"), None);
        assert_eq!(
            need(Method::GET, "/rest/api/3/myself"),
            Some("read:jira-user")
        );
        assert_eq!(
            need(Method::POST, "/rest/api/3/search/jql"),
            Some("read:jira-work")
        );
        assert_eq!(
            need(Method::POST, "/rest/api/3/issue/bulk"),
            Some("write:jira-work")
        );
        assert_eq!(
            need(Method::DELETE, "/rest/api/3/issue/SEC-1"),
            Some("write:jira-work")
        );
        assert_eq!(
            need(Method::POST, "/rest/webhooks/1.0/webhook"),
            Some("manage:jira-webhook")
        );
    }

    #[test]
    fn data_center_levels_include_the_lower_ones() {
        let held = vec!["WRITE".to_owned()];
        assert!(grants(Flavor::Datacenter, &held, "READ"));
        assert!(grants(Flavor::Datacenter, &held, "WRITE"));
        assert!(!grants(Flavor::Datacenter, &held, "ADMIN"));
        assert!(!grants(
            Flavor::Cloud,
            &["read:jira-work".into()],
            "write:jira-work"
        ));
        assert!(within(Flavor::Datacenter, &held, &["READ".into()]));
        assert!(!within(Flavor::Datacenter, &held, &["ADMIN".into()]));
    }
}
