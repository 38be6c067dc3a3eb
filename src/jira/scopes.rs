//! The OAuth 2.0 scope each operation of the client needs, so that a 403 to a scoped credential can
//! say which scope to grant. Cloud's classic scopes are those the Cloud OpenAPI document lists per
//! operation (`x-atlassian-oauth2-scopes`); Data Center's are its levels `READ` and `WRITE`.

use reqwest::Method;

use super::config::Flavor;

/// Cloud's classic scopes the operator's calls need, together.
const CLOUD_NEEDS: [&str; 3] = ["read:jira-work", "write:jira-work", "read:jira-user"];
/// Data Center's levels that include `WRITE`, which covers every call the operator makes.
const DATA_CENTER_WRITES: [&str; 3] = ["WRITE", "ADMIN", "SYSTEM_ADMIN"];

/// The scopes the operator needs that `granted` lacks.
pub fn missing(flavor: Flavor, granted: &[String]) -> Vec<&'static str> {
    let has = |scope: &str| granted.iter().any(|g| g == scope);
    match flavor {
        Flavor::Cloud => CLOUD_NEEDS.into_iter().filter(|s| !has(s)).collect(),
        Flavor::DataCenter if DATA_CENTER_WRITES.iter().any(|s| has(s)) => Vec::new(),
        Flavor::DataCenter => vec!["WRITE"],
    }
}

/// The scope a call needs: `template` is its path template (e.g. `/rest/api/3/issue/{issueIdOrKey}`).
/// `None` for calls any credential may make (serverInfo).
pub fn needed(flavor: Flavor, method: &Method, template: &str) -> Option<&'static str> {
    let operation = template
        .trim_start_matches("/rest/api/3")
        .trim_start_matches("/rest/api/2");
    if operation == "/serverInfo" {
        return None;
    }
    // Searches and bulk fetches are POSTs that only read.
    let reads = *method == Method::GET
        || matches!(operation, "/search" | "/search/jql" | "/issue/bulkfetch");
    Some(match flavor {
        Flavor::Cloud if matches!(operation, "/myself" | "/user/search") => "read:jira-user",
        Flavor::Cloud if reads => "read:jira-work",
        Flavor::Cloud => "write:jira-work",
        Flavor::DataCenter if reads => "READ",
        Flavor::DataCenter => "WRITE",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_names_its_scope() {
        let cloud = |method: Method, template| needed(Flavor::Cloud, &method, template);
        assert_eq!(cloud(Method::GET, "/rest/api/3/serverInfo"), None);
        assert_eq!(
            cloud(Method::GET, "/rest/api/3/myself"),
            Some("read:jira-user")
        );
        assert_eq!(
            cloud(Method::GET, "/rest/api/3/user/search"),
            Some("read:jira-user")
        );
        assert_eq!(
            cloud(Method::POST, "/rest/api/3/search/jql"),
            Some("read:jira-work")
        );
        assert_eq!(
            cloud(Method::POST, "/rest/api/3/issue/bulk"),
            Some("write:jira-work")
        );
        assert_eq!(
            cloud(
                Method::PUT,
                "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"
            ),
            Some("write:jira-work")
        );
        let dc = |method: Method, template| needed(Flavor::DataCenter, &method, template);
        assert_eq!(dc(Method::POST, "/rest/api/2/search"), Some("READ"));
        assert_eq!(
            dc(Method::DELETE, "/rest/api/2/issue/{issueIdOrKey}"),
            Some("WRITE")
        );
    }

    #[test]
    fn missing_scopes_are_those_the_operator_needs_and_lacks() {
        let granted = |scopes: &[&str]| scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            missing(
                Flavor::Cloud,
                &granted(&["read:jira-work", "read:jira-user"])
            ),
            vec!["write:jira-work"]
        );
        assert!(missing(Flavor::Cloud, &granted(&CLOUD_NEEDS)).is_empty());
        assert_eq!(
            missing(Flavor::DataCenter, &granted(&["READ"])),
            vec!["WRITE"]
        );
        assert!(missing(Flavor::DataCenter, &granted(&["ADMIN"])).is_empty());
    }
}
