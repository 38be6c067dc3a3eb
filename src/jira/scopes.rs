//! The OAuth 2.0 scope each operation of the client needs, so that a 403 to a scoped credential can
//! say which scope to grant. Cloud's classic scopes are those the Cloud OpenAPI document lists per
//! operation (`x-atlassian-oauth2-scopes`); Data Center's are its levels `READ` and `WRITE`.

use reqwest::Method;

use super::config::Flavor;

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
}
