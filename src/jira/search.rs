//! Reading many issues: JQL search with paging, and fetching known keys in bulk.

use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::json;

use super::client::{
    BULK_FETCH, JiraClient, SEARCH_JQL, SEARCH_V2, check_issue_key, check_property_key,
};
use super::config::Flavor;
use super::error::JiraError;
use super::model::Issue;
use super::retry::Safety;
use super::transport::Request;
use super::wire::{self, BulkFetchWire, EpicField, IssueWire, SearchPageV2, SearchPageV3};

/// Issues per search page (Jira Cloud's cap when fields are requested).
pub const SEARCH_PAGE_SIZE: usize = 100;

/// Most keys Jira takes in one bulk fetch.
pub const BULK_FETCH_LIMIT: usize = 100;

/// Most entity properties a Cloud search returns per issue.
pub const SEARCH_PROPERTY_LIMIT: usize = 5;

/// Property reads in flight at once when Data Center needs one call per issue.
const PROPERTY_READS_IN_FLIGHT: usize = 8;

/// At most five valid property keys, as Jira takes in one read of many issues.
fn check_properties(read: &str, properties: &[&str]) -> Result<(), JiraError> {
    if properties.len() > SEARCH_PROPERTY_LIMIT {
        return Err(JiraError::InvalidInput {
            message: format!(
                "{read} returns at most {SEARCH_PROPERTY_LIMIT} entity properties, {} were asked for",
                properties.len()
            ),
        });
    }
    properties
        .iter()
        .try_for_each(|property| check_property_key(property))
}

impl JiraClient {
    /// Every issue matching `jql`, with the managed fields only. Pages with `nextPageToken` on Cloud
    /// (`/search/jql`) and `startAt` on Data Center (`/search`).
    pub async fn search(&self, jql: &str) -> Result<Vec<Issue>, JiraError> {
        self.search_with_properties(jql, &[]).await
    }

    /// Like [`search`](Self::search), also returning the named issue entity properties (at most
    /// five) in [`Issue::properties`]. On Cloud they come inside the search at no extra cost; Data
    /// Center's search cannot return them, so each is read with one call per issue afterwards.
    pub async fn search_with_properties(
        &self,
        jql: &str,
        properties: &[&str],
    ) -> Result<Vec<Issue>, JiraError> {
        self.search_mapped(jql, properties, |issue| issue).await
    }

    /// Like [`search_with_properties`](Self::search_with_properties), each issue turned by `map` as
    /// its page arrives: a caller that keeps less than the whole issue (10,000 descriptions) never
    /// holds every issue at once.
    pub async fn search_mapped<T>(
        &self,
        jql: &str,
        properties: &[&str],
        map: impl FnMut(Issue) -> T,
    ) -> Result<Vec<T>, JiraError> {
        check_properties("a search", properties)?;
        let epic = self.epic_field().await?;
        match self.flavor() {
            Flavor::Cloud => self.search_v3(jql, &epic, properties, map).await,
            Flavor::DataCenter => {
                let issues = self.search_v2(jql, &epic, true).await?;
                let issues = self.read_properties(issues, properties).await?;
                Ok(issues.into_iter().map(map).collect())
            }
        }
    }

    async fn search_v3<T>(
        &self,
        jql: &str,
        epic: &EpicField,
        properties: &[&str],
        mut map: impl FnMut(Issue) -> T,
    ) -> Result<Vec<T>, JiraError> {
        let path = format!("{}/search/jql", self.api());
        let label = format!("POST {path}");
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({
                "jql": jql,
                "fields": wire::fields_to_fetch(epic),
                "maxResults": SEARCH_PAGE_SIZE,
            });
            if let Some(token) = &token {
                body["nextPageToken"] = json!(token);
            }
            if !properties.is_empty() {
                body["properties"] = json!(properties);
            }
            let request = Request::new(Method::POST, path.clone(), SEARCH_JQL, Safety::Idempotent)
                .json(&body)?;
            let page: SearchPageV3 = self.send(request).await?.decode()?;
            let empty = page.issues.is_empty();
            issues.extend(
                self.decode_all(page.issues, epic, &label)?
                    .into_iter()
                    .map(&mut map),
            );
            match page.next_page_token {
                Some(next)
                    if !empty && page.is_last != Some(true) && token.as_ref() != Some(&next) =>
                {
                    token = Some(next);
                }
                _ => return Ok(issues),
            }
        }
    }

    /// `validate`: whether Jira should reject the query for unknown values (a bulk fetch by key must
    /// not fail because one issue was deleted).
    async fn search_v2(
        &self,
        jql: &str,
        epic: &EpicField,
        validate: bool,
    ) -> Result<Vec<Issue>, JiraError> {
        let path = format!("{}/search", self.api());
        let label = format!("POST {path}");
        let mut issues = Vec::new();
        loop {
            let mut body = json!({
                "jql": jql,
                "fields": wire::fields_to_fetch(epic),
                "startAt": issues.len(),
                "maxResults": SEARCH_PAGE_SIZE,
            });
            if !validate {
                body["validateQuery"] = json!(false);
            }
            let request = Request::new(Method::POST, path.clone(), SEARCH_V2, Safety::Idempotent)
                .json(&body)?;
            let page: SearchPageV2 = self.send(request).await?.decode()?;
            let empty = page.issues.is_empty();
            issues.extend(self.decode_all(page.issues, epic, &label)?);
            if empty || issues.len() >= page.total {
                return Ok(issues);
            }
        }
    }

    /// Fills in the named properties of each issue, a few reads at a time (one
    /// `GET /issue/{key}/properties/{name}` per issue and property).
    pub async fn read_properties(
        &self,
        issues: Vec<Issue>,
        properties: &[&str],
    ) -> Result<Vec<Issue>, JiraError> {
        if properties.is_empty() {
            return Ok(issues);
        }
        stream::iter(issues)
            .map(|mut issue| async move {
                for name in properties {
                    if let Some(value) = self.get_property(&issue.key, name).await? {
                        issue.properties.insert((*name).to_owned(), value);
                    }
                }
                Ok::<Issue, JiraError>(issue)
            })
            .buffered(PROPERTY_READS_IN_FLIGHT)
            .try_collect()
            .await
    }

    /// The issues with these keys that exist and are visible (missing ones are left out), at most
    /// 100 per call: `/issue/bulkfetch` on Cloud, a `key in (...)` search on Data Center.
    pub async fn bulk_fetch(&self, keys: &[String]) -> Result<Vec<Issue>, JiraError> {
        self.bulk_fetch_with_properties(keys, &[]).await
    }

    /// Like [`bulk_fetch`](Self::bulk_fetch), also returning the named entity properties (at most
    /// five). A key missing from a Data Center search (its index may lag behind a create) is read on
    /// its own, so an issue that exists is never reported missing.
    pub async fn bulk_fetch_with_properties(
        &self,
        keys: &[String],
        properties: &[&str],
    ) -> Result<Vec<Issue>, JiraError> {
        for key in keys {
            check_issue_key(key)?;
        }
        check_properties("a bulk fetch", properties)?;
        let epic = self.epic_field().await?;
        let mut issues = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BULK_FETCH_LIMIT) {
            match self.flavor() {
                Flavor::Cloud => {
                    let path = format!("{}/issue/bulkfetch", self.api());
                    let label = format!("POST {path}");
                    let mut body = json!({
                        "issueIdsOrKeys": chunk,
                        "fields": wire::fields_to_fetch(&epic),
                    });
                    if !properties.is_empty() {
                        body["properties"] = json!(properties);
                    }
                    let request = Request::new(Method::POST, path, BULK_FETCH, Safety::Idempotent)
                        .json(&body)?;
                    let answer: BulkFetchWire = self.send(request).await?.decode()?;
                    if !answer.issue_errors.is_empty() {
                        tracing::warn!(errors = ?answer.issue_errors, "bulk fetch could not return some issues");
                    }
                    issues.extend(self.decode_all(answer.issues, &epic, &label)?);
                }
                Flavor::DataCenter => {
                    let Some(in_keys) = super::jql::in_list("key", chunk) else {
                        continue;
                    };
                    let jql = format!("{in_keys} ORDER BY key ASC");
                    let found = self.search_v2(&jql, &epic, false).await?;
                    let unindexed = self.unindexed(chunk, &found).await?;
                    let found = found.into_iter().chain(unindexed).collect();
                    issues.extend(self.read_properties(found, properties).await?);
                }
            }
        }
        Ok(issues)
    }

    /// The issues among `keys` that a search did not return but that exist (read one by one).
    async fn unindexed(&self, keys: &[String], found: &[Issue]) -> Result<Vec<Issue>, JiraError> {
        // Owned keys: a stream of borrowed ones makes the future not `Send` for every lifetime.
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !found.iter().any(|f| &f.key == *k))
            .cloned()
            .collect();
        let read: Vec<Option<Issue>> = stream::iter(missing)
            .map(|key| async move {
                match self.get_issue(&key).await {
                    Ok(issue) => Ok(Some(issue)),
                    Err(JiraError::NotFound { .. }) => Ok(None),
                    Err(other) => Err(other),
                }
            })
            .buffered(PROPERTY_READS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(read.into_iter().flatten().collect())
    }

    fn decode_all(
        &self,
        wires: Vec<IssueWire>,
        epic: &EpicField,
        label: &str,
    ) -> Result<Vec<Issue>, JiraError> {
        wires
            .into_iter()
            .map(|issue| {
                let key = issue.key().to_owned();
                issue.into_issue(self.base_url(), epic).map_err(|message| {
                    JiraError::UnexpectedResponse {
                        request: label.to_owned(),
                        message: format!("issue {key}: {message}"),
                    }
                })
            })
            .collect()
    }
}
