//! The Jira REST API routes, mounted under both `/rest/api/2` and `/rest/api/3`.

mod catalogue;
mod comments;
mod field_list;
mod issues;
mod oauth;
mod projects;
mod properties;
mod search;
mod site;
mod webhooks;
mod workflow;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde_json::Value;

use super::auth::Ctx;
use super::error::{ApiError, ApiResult};
use super::model::{Issue, Permission};
use super::state::Shared;
use super::store::Store;

/// All Jira API routes.
pub fn router() -> Router<Shared> {
    let mut router = Router::new();
    for version in [2, 3] {
        let p = |path: &str| format!("/rest/api/{version}{path}");
        router = router
            .route(&p("/myself"), get(site::myself))
            .route(&p("/serverInfo"), get(site::server_info))
            .route(&p("/user/search"), get(site::user_search))
            .route(&p("/field"), get(field_list::list))
            .route(&p("/issuetype"), get(catalogue::issue_types))
            .route(&p("/status"), get(catalogue::statuses))
            .route(&p("/statuscategory"), get(catalogue::status_categories))
            .route(&p("/priority"), get(catalogue::priorities))
            .route(&p("/priority/search"), get(catalogue::priority_search))
            .route(&p("/resolution"), get(catalogue::resolutions))
            .route(&p("/issue/{issue}/editmeta"), get(catalogue::edit_meta))
            .route(&p("/project"), get(projects::list))
            .route(&p("/project/search"), get(projects::search))
            .route(&p("/project/{project}"), get(projects::get))
            .route(
                &p("/issue/createmeta/{project}/issuetypes"),
                get(projects::createmeta_issue_types),
            )
            .route(
                &p("/issue/createmeta/{project}/issuetypes/{issue_type}"),
                get(projects::createmeta_fields),
            )
            .route(&p("/issue"), post(issues::create))
            .route(&p("/issue/bulk"), post(issues::create_bulk))
            .route(&p("/issue/bulkfetch"), post(issues::bulk_fetch))
            .route(
                &p("/issue/{issue}"),
                get(issues::get).put(issues::edit).delete(issues::delete),
            )
            .route(
                &p("/issue/{issue}/transitions"),
                get(workflow::list).post(workflow::transition),
            )
            .route(
                &p("/issue/{issue}/comment"),
                get(comments::list).post(comments::add),
            )
            .route(
                &p("/issue/{issue}/comment/{comment}"),
                get(comments::get)
                    .put(comments::update)
                    .delete(comments::delete),
            )
            .route(&p("/issue/{issue}/properties"), get(properties::keys))
            .route(
                &p("/issue/{issue}/properties/{property}"),
                get(properties::get)
                    .put(properties::set)
                    .delete(properties::delete),
            )
            .route(
                &p("/search/jql"),
                get(search::jql_get).post(search::jql_post),
            )
            .route(
                &p("/search"),
                get(search::paged_get).post(search::paged_post),
            );
    }
    router
        .route("/oauth/token", post(oauth::cloud_token))
        .route("/rest/oauth2/latest/token", post(oauth::data_center_token))
        .route("/_edge/tenant_info", get(oauth::tenant_info))
        .route(
            "/rest/webhooks/1.0/webhook",
            get(webhooks::list).post(webhooks::register),
        )
        .route(
            "/rest/webhooks/1.0/webhook/{id}",
            get(webhooks::get)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
}

/// Query parameters, repeated ones kept (Jira takes `fields=a&fields=b` as well as `fields=a,b`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, comma lists split.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// A non-negative integer parameter.
    pub fn number(&self, name: &str, default: usize) -> ApiResult<usize> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "The value '{v}' is invalid for the parameter '{name}'."
                ))
            }),
        }
    }

    /// A boolean parameter.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// Parses a JSON request body, answering malformed JSON with Jira's 400.
pub fn json_body(body: &Bytes) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "No content to map due to end-of-input",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Unexpected character: {e}")))
}

/// An issue the caller may browse, or Jira's 404.
pub fn visible_issue<'s>(store: &'s Store, ctx: &Ctx, id_or_key: &str) -> ApiResult<&'s Issue> {
    let issue = store
        .issue(id_or_key)
        .ok_or_else(ApiError::issue_not_found)?;
    let project = store
        .project(&issue.project_id)
        .ok_or_else(ApiError::issue_not_found)?;
    if ctx.may(project, Permission::Browse) {
        Ok(issue)
    } else {
        Err(ApiError::issue_not_found())
    }
}

/// An issue the caller may browse and holds `permission` on (403 otherwise); returns its id.
pub fn permitted_issue(
    store: &Store,
    ctx: &Ctx,
    id_or_key: &str,
    permission: Permission,
) -> ApiResult<u64> {
    let issue = visible_issue(store, ctx, id_or_key)?;
    let project = store
        .project(&issue.project_id)
        .ok_or_else(ApiError::issue_not_found)?;
    ctx.require(project, permission)?;
    Ok(issue.id)
}
