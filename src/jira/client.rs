//! The client type: construction, connection check, and the look-ups the planner resolves names with.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use tokio::sync::OnceCell;

use super::config::{ClientConfig, Flavor};
use super::error::JiraError;
use super::model::{IssueType, JiraUser, Priority, Project, ServerInfo};
use super::retry::Safety;
use super::transport::{Request, Transport};
use super::users::UserCache;
use super::wire::{self, EpicField, FieldWire, PriorityPage, PriorityWire, ProjectWire, UserWire};

/// A Jira client for one connection. Cheap to clone; clones share the HTTP pool, the token bucket,
/// rate-limit pauses and caches.
#[derive(Debug, Clone)]
pub struct JiraClient {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub transport: Arc<Transport>,
    pub flavor: Flavor,
    epic_field: OnceCell<EpicField>,
    users: UserCache,
    user_ttl: Duration,
}

impl JiraClient {
    /// A client for the connection; fails on an unusable URL or credentials.
    pub fn new(config: ClientConfig) -> Result<JiraClient, JiraError> {
        Ok(JiraClient {
            inner: Arc::new(Inner {
                transport: Transport::new(&config)?,
                flavor: config.flavor,
                epic_field: OnceCell::new(),
                users: config.users,
                user_ttl: config.user_cache_ttl,
            }),
        })
    }

    /// Cloud or Data Center.
    pub fn flavor(&self) -> Flavor {
        self.inner.flavor
    }

    /// The site root (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.inner.transport.base_url()
    }

    /// `/rest/api/3` or `/rest/api/2`.
    pub(super) fn api(&self) -> String {
        format!("/rest/api/{}", self.inner.flavor.api_version())
    }

    /// Template of an API path, for rate-limit scoping (e.g. `/rest/api/3/issue/{issueIdOrKey}`).
    pub(super) fn template(&self, path: &'static str) -> &'static str {
        match (self.inner.flavor, path) {
            (Flavor::Cloud, _) => path,
            (Flavor::DataCenter, _) => TEMPLATES_V2
                .iter()
                .find(|(v3, _)| *v3 == path)
                .map_or(path, |(_, v2)| v2),
        }
    }

    pub(super) async fn send(
        &self,
        request: Request<'_>,
    ) -> Result<super::transport::Answer, JiraError> {
        self.inner.transport.send(request).await
    }

    /// The account the client acts as (connection check, part 1).
    pub async fn myself(&self) -> Result<JiraUser, JiraError> {
        let path = format!("{}/myself", self.api());
        let answer = self
            .send(Request::new(
                Method::GET,
                path,
                self.template(MYSELF),
                Safety::Idempotent,
            ))
            .await?;
        let label = format!("GET {}/myself", self.api());
        answer
            .decode::<UserWire>()?
            .into_user(self.flavor())
            .ok_or_else(|| JiraError::UnexpectedResponse {
                request: label,
                message: "the account has neither an accountId nor a name".to_owned(),
            })
    }

    /// The scopes the operator needs that the credentials' OAuth 2.0 token lacks, as its token
    /// endpoint told them (connection check, part 3); empty for other credentials.
    pub async fn missing_scopes(&self) -> Result<Vec<&'static str>, JiraError> {
        let granted = self.inner.transport.granted_scopes().await?;
        Ok(granted
            .map(|granted| super::scopes::missing(self.flavor(), &granted))
            .unwrap_or_default())
    }

    /// What the site runs (connection check, part 2).
    pub async fn server_info(&self) -> Result<ServerInfo, JiraError> {
        let path = format!("{}/serverInfo", self.api());
        let answer = self
            .send(Request::new(
                Method::GET,
                path,
                self.template(SERVER_INFO),
                Safety::Idempotent,
            ))
            .await?;
        Ok(answer.decode::<wire::ServerInfoWire>()?.into())
    }

    /// A project by key, with its issue types.
    pub async fn project(&self, key: &str) -> Result<Project, JiraError> {
        check_project_key(key)?;
        let path = format!("{}/project/{key}", self.api());
        let answer = self
            .send(Request::new(
                Method::GET,
                path,
                self.template(PROJECT),
                Safety::Idempotent,
            ))
            .await?;
        Ok(answer.decode::<ProjectWire>()?.into())
    }

    /// The issue types a project offers.
    pub async fn issue_types(&self, project: &str) -> Result<Vec<IssueType>, JiraError> {
        Ok(self.project(project).await?.issue_types)
    }

    /// Every priority of the site (paged `/priority/search` on Cloud, `/priority` on Data Center).
    pub async fn priorities(&self) -> Result<Vec<Priority>, JiraError> {
        match self.flavor() {
            Flavor::DataCenter => {
                let path = format!("{}/priority", self.api());
                let answer = self
                    .send(Request::new(
                        Method::GET,
                        path,
                        PRIORITY_V2,
                        Safety::Idempotent,
                    ))
                    .await?;
                Ok(answer
                    .decode::<Vec<PriorityWire>>()?
                    .into_iter()
                    .map(Priority::from)
                    .collect())
            }
            Flavor::Cloud => {
                let mut priorities = Vec::new();
                loop {
                    let path = format!("{}/priority/search", self.api());
                    let request =
                        Request::new(Method::GET, path, PRIORITY_SEARCH, Safety::Idempotent)
                            .query("startAt", priorities.len().to_string())
                            .query("maxResults", "100");
                    let page: PriorityPage = self.send(request).await?.decode()?;
                    let empty = page.values.is_empty();
                    priorities.extend(page.values.into_iter().map(Priority::from));
                    if page.is_last || empty {
                        return Ok(priorities);
                    }
                }
            }
        }
    }

    /// Where this site keeps epics: `parent` on Cloud; on Data Center the Epic Link custom field,
    /// discovered from `/rest/api/2/field` once per client.
    pub async fn epic_field(&self) -> Result<EpicField, JiraError> {
        let field = self
            .inner
            .epic_field
            .get_or_try_init(|| async {
                match self.flavor() {
                    Flavor::Cloud => Ok(EpicField::Parent),
                    Flavor::DataCenter => {
                        let path = format!("{}/field", self.api());
                        let answer = self
                            .send(Request::new(
                                Method::GET,
                                path,
                                FIELD_V2,
                                Safety::Idempotent,
                            ))
                            .await?;
                        Ok(wire::epic_link_field(&answer.decode::<Vec<FieldWire>>()?))
                    }
                }
            })
            .await?;
        Ok(field.clone())
    }

    /// The user with this email, or `None` when Jira knows no such (visible) user. Answers, including
    /// "none", are cached for the client's user cache expiry.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<JiraUser>, JiraError> {
        let email_key = email.trim().to_lowercase();
        if email_key.is_empty() || !email_key.contains('@') {
            return Err(JiraError::InvalidInput {
                message: format!("{email:?} is not an email address"),
            });
        }
        // One lookup of an email at a time: the syncs of many namespaces starting together would
        // otherwise all miss the cache and ask Jira for the same person.
        let _turn = self.inner.users.turn(&email_key).await;
        if let Some(cached) = self.inner.users.get(&email_key, self.inner.user_ttl) {
            return Ok(cached);
        }
        let path = format!("{}/user/search", self.api());
        let param = match self.flavor() {
            Flavor::Cloud => "query",
            Flavor::DataCenter => "username",
        };
        let request = Request::new(
            Method::GET,
            path,
            self.template(USER_SEARCH),
            Safety::Idempotent,
        )
        .query(param, email_key.clone());
        let found: Vec<UserWire> = self.send(request).await?.decode()?;
        let users: Vec<JiraUser> = found
            .into_iter()
            .filter_map(|u| u.into_user(self.flavor()))
            .filter(|u| u.active)
            .collect();
        let exact = users
            .iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&email_key))
            })
            .cloned();
        // Cloud hides emails by privacy setting; a single match for the query is then the user.
        let user = exact.or_else(|| match users.as_slice() {
            [only] if only.email.is_none() => Some(only.clone()),
            _ => None,
        });
        self.inner.users.put(email_key, user.clone());
        Ok(user)
    }
}

/// Issue keys (`SEC-42`) or numeric ids; anything else is refused before it reaches a URL path.
pub(super) fn check_issue_key(key: &str) -> Result<(), JiraError> {
    let valid = match key.rsplit_once('-') {
        Some((project, number)) => {
            !project.is_empty()
                && project
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()),
    };
    if valid {
        Ok(())
    } else {
        Err(JiraError::InvalidInput {
            message: format!("{key:?} is not a Jira issue key or id"),
        })
    }
}

fn check_project_key(key: &str) -> Result<(), JiraError> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(JiraError::InvalidInput {
            message: format!("{key:?} is not a Jira project key"),
        })
    }
}

/// Entity property keys: letters, digits, `.`, `_`, `-` (at most 255).
pub(super) fn check_property_key(key: &str) -> Result<(), JiraError> {
    let valid = !key.is_empty()
        && key.len() <= 255
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(JiraError::InvalidInput {
            message: format!("{key:?} is not a usable issue property key"),
        })
    }
}

pub(super) const MYSELF: &str = "/rest/api/3/myself";
pub(super) const SERVER_INFO: &str = "/rest/api/3/serverInfo";
pub(super) const PROJECT: &str = "/rest/api/3/project/{projectIdOrKey}";
pub(super) const USER_SEARCH: &str = "/rest/api/3/user/search";
pub(super) const PRIORITY_SEARCH: &str = "/rest/api/3/priority/search";
pub(super) const PRIORITY_V2: &str = "/rest/api/2/priority";
pub(super) const FIELD_V2: &str = "/rest/api/2/field";
pub(super) const ISSUE: &str = "/rest/api/3/issue";
pub(super) const ISSUE_BULK: &str = "/rest/api/3/issue/bulk";
pub(super) const ISSUE_ONE: &str = "/rest/api/3/issue/{issueIdOrKey}";
pub(super) const BULK_FETCH: &str = "/rest/api/3/issue/bulkfetch";
pub(super) const SEARCH_JQL: &str = "/rest/api/3/search/jql";
pub(super) const SEARCH_V2: &str = "/rest/api/2/search";
pub(super) const TRANSITIONS: &str = "/rest/api/3/issue/{issueIdOrKey}/transitions";
pub(super) const COMMENT: &str = "/rest/api/3/issue/{issueIdOrKey}/comment";
pub(super) const PROPERTY: &str = "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}";

/// The v2 spelling of each v3 template.
const TEMPLATES_V2: &[(&str, &str)] = &[
    (MYSELF, "/rest/api/2/myself"),
    (SERVER_INFO, "/rest/api/2/serverInfo"),
    (PROJECT, "/rest/api/2/project/{projectIdOrKey}"),
    (USER_SEARCH, "/rest/api/2/user/search"),
    (ISSUE, "/rest/api/2/issue"),
    (ISSUE_BULK, "/rest/api/2/issue/bulk"),
    (ISSUE_ONE, "/rest/api/2/issue/{issueIdOrKey}"),
    (TRANSITIONS, "/rest/api/2/issue/{issueIdOrKey}/transitions"),
    (COMMENT, "/rest/api/2/issue/{issueIdOrKey}/comment"),
    (
        PROPERTY,
        "/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_a_path_are_refused() {
        assert!(check_issue_key("SEC-42").is_ok());
        assert!(check_issue_key("MY_PROJ2-1").is_ok());
        assert!(check_issue_key("10001").is_ok());
        for bad in [
            "",
            "SEC",
            "SEC-",
            "-1",
            "../x-1",
            "SEC-1/comment",
            "SEC-1?x=1",
            "SEC 1",
        ] {
            assert!(check_issue_key(bad).is_err(), "{bad}");
        }
        assert!(check_property_key("activesync.dev.sync").is_ok());
        assert!(check_property_key("a/b").is_err());
        assert!(check_project_key("SEC").is_ok());
        assert!(check_project_key("SEC/1").is_err());
    }
}
