//! JQL search: Cloud's `/search/jql` with `nextPageToken`, Data Center's `/search` with `startAt`,
//! and the 410 Cloud answers on the removed `/search`.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Params, json_body};
use crate::auth::Ctx;
use crate::config::Flavor;
use crate::error::{ApiError, ApiResult};
use crate::issue_fields::IssueView;
use crate::jql::{self, JqlError, Query};
use crate::model::Permission;
use crate::render::FieldSelection;
use crate::state::Shared;
use crate::store::Store;

/// Jira Cloud's answer on the removed search endpoints.
const REMOVED: &str = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046";

/// A search as either endpoint receives it.
struct SearchRequest {
    jql: String,
    fields: Vec<String>,
    expand: Vec<String>,
    properties: Vec<String>,
    max_results: Option<usize>,
    start_at: usize,
    next_page_token: Option<String>,
}

impl SearchRequest {
    fn from_params(params: &Params) -> ApiResult<Self> {
        Ok(Self {
            jql: params.get("jql").unwrap_or_default().to_owned(),
            fields: params.list("fields"),
            expand: params.list("expand"),
            properties: params.list("properties"),
            max_results: params
                .get("maxResults")
                .map(|_| params.number("maxResults", 50))
                .transpose()?,
            start_at: params.number("startAt", 0)?,
            next_page_token: params.get("nextPageToken").map(str::to_owned),
        })
    }

    fn from_body(body: &Bytes) -> ApiResult<Self> {
        let body = json_body(body)?;
        let list = |name: &str| -> Vec<String> {
            match body.get(name) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Some(Value::String(s)) => s
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
                _ => Vec::new(),
            }
        };
        let number = |name: &str| -> ApiResult<Option<usize>> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "The value '{v}' is invalid for the parameter '{name}'."
                        ))
                    }),
            }
        };
        Ok(Self {
            jql: body
                .get("jql")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            fields: list("fields"),
            expand: list("expand"),
            properties: list("properties"),
            max_results: number("maxResults")?,
            start_at: number("startAt")?.unwrap_or(0),
            next_page_token: body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

fn jql_error(error: &JqlError) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        messages: error.messages().to_vec(),
        errors: Default::default(),
    }
}

/// Refuses values the site has not got, as Jira does (`project = NOPE`); projects and issues the
/// caller may not browse count as absent.
fn check_named_values(store: &Store, ctx: &Ctx, query: &Query) -> ApiResult<()> {
    for named in query.named_values() {
        let value = named.value.as_str();
        let exists = match named.field {
            "project" => store
                .project(value)
                .is_some_and(|p| ctx.may(p, Permission::Browse)),
            "status" => store
                .statuses()
                .iter()
                .any(|s| s.id == value || s.name.eq_ignore_ascii_case(value)),
            "issuetype" => store.issue_type(value).is_some(),
            "statuscategory" => [
                "new",
                "indeterminate",
                "done",
                "to do",
                "in progress",
                "2",
                "3",
                "4",
                "undefined",
                "1",
            ]
            .contains(&value.to_lowercase().as_str()),
            "assignee" => {
                store.user_by_reference(value).is_some()
                    || store
                        .users()
                        .iter()
                        .any(|u| u.display_name.eq_ignore_ascii_case(value))
            }
            // Cloud answers `key in (...)` with the issues it finds; a single missing key, and
            // any on Data Center, fails the search.
            "key" if named.in_list && ctx.flavor == Flavor::Cloud => true,
            "key" => {
                if super::visible_issue(store, ctx, value).is_err() {
                    return Err(jql_error(&match ctx.flavor {
                        Flavor::Cloud => JqlError::issue_does_not_exist(),
                        Flavor::Datacenter => {
                            JqlError::issue_key_does_not_exist(&named.written_field, value)
                        }
                    }));
                }
                true
            }
            _ => true,
        };
        if !exists {
            return Err(jql_error(&JqlError::value_does_not_exist(
                &named.written_field,
                value,
            )));
        }
    }
    Ok(())
}

/// Runs a query: the matching issues the caller may browse, in `ORDER BY` order. Only the page
/// `offset..offset + limit` is rendered (rendering is the costly part, and a full search pages
/// through every match); the total count comes with it.
fn run(
    state: &Shared,
    ctx: &Ctx,
    request: &SearchRequest,
    require_bounded: bool,
    selection: &FieldSelection,
    (offset, limit): (usize, usize),
) -> ApiResult<(Vec<Value>, usize)> {
    let query = jql::parse(&request.jql).map_err(|e| jql_error(&e))?;
    if require_bounded && !query.is_bounded() {
        return Err(jql_error(&JqlError::unbounded()));
    }
    let mut store = state.store_mut();
    store.catch_up_search(Instant::now());
    let store = &*store;
    check_named_values(store, ctx, &query)?;
    let now = Timestamp::now();
    let mut views: Vec<IssueView<'_>> = store
        .searchable()
        .filter(|issue| {
            store
                .project(&issue.project_id)
                .is_some_and(|p| ctx.may(p, Permission::Browse))
        })
        .map(|issue| IssueView { issue, store })
        .filter(|view| query.matches_as(view, now, Some(&ctx.account_id)))
        .collect();
    views.sort_by(|a, b| query.compare(a, b));
    let rendered = views
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| {
            ctx.render().issue(
                store,
                v.issue,
                selection,
                &request.expand,
                &request.properties,
            )
        })
        .collect();
    Ok((rendered, views.len()))
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_token(token: &str) -> ApiResult<usize> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_request("The provided next page token is invalid or expired."))
}

fn enhanced_search(state: &Shared, ctx: &Ctx, request: &SearchRequest) -> ApiResult<Json<Value>> {
    let selection = FieldSelection::parse(&request.fields, "id");
    // Jira pages up to 5000 issues when only ids or keys are asked for, 100 otherwise.
    let cap = if selection.only_identifiers() {
        5000
    } else {
        100
    };
    let max_results = request.max_results.unwrap_or(50).clamp(1, cap);
    let offset = request
        .next_page_token
        .as_deref()
        .map(decode_token)
        .transpose()?
        .unwrap_or(0);
    let (page, total) = run(state, ctx, request, true, &selection, (offset, max_results))?;
    let end = offset + page.len();
    let mut body = json!({ "issues": page, "isLast": end >= total });
    if end < total {
        body["nextPageToken"] = json!(encode_token(end));
    }
    Ok(Json(body))
}

fn only_cloud(ctx: &Ctx) -> ApiResult<()> {
    if ctx.flavor == Flavor::Datacenter {
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            "null for uri: /rest/api/2/search/jql",
        ));
    }
    Ok(())
}

/// `GET /search/jql` (Cloud).
pub async fn jql_get(
    State(state): State<Shared>,
    ctx: Ctx,
    params: Params,
) -> ApiResult<Json<Value>> {
    only_cloud(&ctx)?;
    enhanced_search(&state, &ctx, &SearchRequest::from_params(&params)?)
}

/// `POST /search/jql` (Cloud).
pub async fn jql_post(
    State(state): State<Shared>,
    ctx: Ctx,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    only_cloud(&ctx)?;
    enhanced_search(&state, &ctx, &SearchRequest::from_body(&body)?)
}

fn paged_search(state: &Shared, ctx: &Ctx, request: &SearchRequest) -> ApiResult<Json<Value>> {
    if ctx.flavor == Flavor::Cloud {
        return Err(ApiError::message(StatusCode::GONE, REMOVED));
    }
    let selection = FieldSelection::parse(&request.fields, "*navigable");
    let max_results = request.max_results.unwrap_or(50).min(1000);
    let (page, total) = run(
        state,
        ctx,
        request,
        false,
        &selection,
        (request.start_at, max_results),
    )?;
    Ok(Json(json!({
        "expand": "schema,names",
        "startAt": request.start_at,
        "maxResults": max_results,
        "total": total,
        "issues": page,
    })))
}

/// `GET /search`: Data Center's paged search; 410 on Cloud, where it was removed.
pub async fn paged_get(
    State(state): State<Shared>,
    ctx: Ctx,
    params: Params,
) -> ApiResult<Json<Value>> {
    paged_search(&state, &ctx, &SearchRequest::from_params(&params)?)
}

/// `POST /search`: as `GET`.
pub async fn paged_post(
    State(state): State<Shared>,
    ctx: Ctx,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    if ctx.flavor == Flavor::Cloud {
        return Err(ApiError::message(StatusCode::GONE, REMOVED));
    }
    paged_search(&state, &ctx, &SearchRequest::from_body(&body)?)
}
