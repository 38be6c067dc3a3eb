//! Creating (one or in bulk), reading, editing and deleting issues.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Params, json_body, permitted_issue, visible_issue};
use crate::auth::Ctx;
use crate::config::Flavor;
use crate::error::{ApiError, ApiResult};
use crate::fields::{FieldContext, Screen, check_assignable};
use crate::model::Permission;
use crate::render::FieldSelection;
use crate::state::Shared;
use crate::store::{IssueEvent, Store};

/// Most issues one bulk create takes.
const MAX_BULK_CREATE: usize = 50;
/// Most issues one bulk fetch takes.
const MAX_BULK_FETCH: usize = 100;

fn create_one(store: &mut Store, ctx: &Ctx, body: &Value) -> ApiResult<IssueEvent> {
    let changes = FieldContext {
        store,
        api: ctx.api,
        flavor: ctx.flavor,
        screen: Screen::Create,
    }
    .parse(body)?;
    let project_id = changes.project_id.clone().unwrap_or_default();
    let project = store
        .project(&project_id)
        .filter(|p| ctx.may(p, Permission::Browse))
        .ok_or_else(|| ApiError::field("project", "Specify a valid project ID or key"))?;
    ctx.require(project, Permission::Create)?;
    check_assignable(store, &project_id, &changes)?;
    store.create_issue(changes, &ctx.account_id, Timestamp::now(), Instant::now())
}

fn created(ctx: &Ctx, event: &IssueEvent) -> Value {
    json!({
        "id": event.issue.id.to_string(),
        "key": event.issue.key,
        "self": format!("{}/rest/api/{}/issue/{}", ctx.base_url, ctx.api.number(), event.issue.id),
    })
}

/// `POST /issue`.
pub async fn create(State(state): State<Shared>, ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let event = create_one(&mut state.store_mut(), &ctx, &body)?;
    let response = (StatusCode::CREATED, Json(created(&ctx, &event))).into_response();
    state.publish(vec![event]);
    Ok(response)
}

/// `POST /issue/bulk`: up to 50 issues; each failure is reported with its `failedElementNumber`.
pub async fn create_bulk(
    State(state): State<Shared>,
    ctx: Ctx,
    body: Bytes,
) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let updates = body
        .get("issueUpdates")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("Field 'issueUpdates' is required."))?;
    if updates.len() > MAX_BULK_CREATE {
        return Err(ApiError::bad_request(format!(
            "The number of issues to create ({}) exceeds the maximum of {MAX_BULK_CREATE} issues per request.",
            updates.len()
        )));
    }
    let mut issues = Vec::new();
    let mut errors = Vec::new();
    let mut events = Vec::new();
    {
        let mut store = state.store_mut();
        for (i, update) in updates.iter().enumerate() {
            match create_one(&mut store, &ctx, update) {
                Ok(event) => {
                    issues.push(created(&ctx, &event));
                    events.push(event);
                }
                Err(e) => errors.push(json!({
                    "status": e.status.as_u16(),
                    "elementErrors": e.body(),
                    "failedElementNumber": i,
                })),
            }
        }
    }
    let status = if issues.is_empty() && !errors.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::CREATED
    };
    let response = (status, Json(json!({"issues": issues, "errors": errors}))).into_response();
    state.publish(events);
    Ok(response)
}

/// `GET /issue/{issueIdOrKey}`.
pub async fn get(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let selection = FieldSelection::parse(&params.list("fields"), "*all");
    Ok(Json(ctx.render().issue(
        &store,
        issue,
        &selection,
        &params.list("expand"),
        &params.list("properties"),
    )))
}

/// `PUT /issue/{issueIdOrKey}`: 204, or 200 with the issue when `returnIssue=true` (Cloud).
pub async fn edit(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    params: Params,
    body: Bytes,
) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let (event, returned) = {
        let mut store = state.store_mut();
        let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
        let changes = FieldContext {
            store: &store,
            api: ctx.api,
            flavor: ctx.flavor,
            screen: Screen::Edit,
        }
        .parse(&body)?;
        let project_id = store
            .issue_by_id(id)
            .map(|i| i.project_id.clone())
            .unwrap_or_default();
        check_assignable(&store, &project_id, &changes)?;
        let event = store.edit_issue(
            id,
            &changes,
            &ctx.account_id,
            Timestamp::now(),
            Instant::now(),
        )?;
        let returned = (ctx.flavor == Flavor::Cloud && params.flag("returnIssue")).then(|| {
            let selection = FieldSelection::parse(&params.list("fields"), "*all");
            ctx.render().issue(
                &store,
                &event.issue,
                &selection,
                &params.list("expand"),
                &[],
            )
        });
        (event, returned)
    };
    state.publish(vec![event]);
    Ok(match returned {
        Some(issue) => Json(issue).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `DELETE /issue/{issueIdOrKey}?deleteSubtasks=`.
pub async fn delete(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    params: Params,
) -> ApiResult<StatusCode> {
    let events = {
        let mut store = state.store_mut();
        let id = permitted_issue(&store, &ctx, &issue, Permission::Delete)?;
        store.delete_issue(
            id,
            params.flag("deleteSubtasks"),
            &ctx.account_id,
            Timestamp::now(),
            Instant::now(),
        )?
    };
    state.publish(events);
    Ok(StatusCode::NO_CONTENT)
}

fn string_list(body: &Value, name: &str) -> ApiResult<Vec<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::bad_request(format!("'{name}' must be a list of strings."))
                })
            })
            .collect(),
        Some(Value::String(s)) => Ok(s.split(',').map(|p| p.trim().to_owned()).collect()),
        Some(_) => Err(ApiError::bad_request(format!(
            "'{name}' must be a list of strings."
        ))),
    }
}

/// `POST /issue/bulkfetch` (Cloud): up to 100 issues by id or key; unknown ones are left out.
pub async fn bulk_fetch(
    State(state): State<Shared>,
    ctx: Ctx,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    if ctx.flavor == Flavor::Datacenter {
        return Err(ApiError::message(
            StatusCode::NOT_FOUND,
            "null for uri: /rest/api/2/issue/bulkfetch",
        ));
    }
    let body = json_body(&body)?;
    let wanted = string_list(&body, "issueIdsOrKeys")?;
    if wanted.is_empty() {
        return Err(ApiError::bad_request("issueIdsOrKeys must not be empty."));
    }
    if wanted.len() > MAX_BULK_FETCH {
        return Err(ApiError::bad_request(format!(
            "The number of issue IDs or keys ({}) exceeds the maximum of {MAX_BULK_FETCH}.",
            wanted.len()
        )));
    }
    let fields = string_list(&body, "fields")?;
    let selection = FieldSelection::parse(&fields, "*navigable");
    let expand = string_list(&body, "expand")?;
    let properties = string_list(&body, "properties")?;
    let store = state.store();
    let issues: Vec<Value> = wanted
        .iter()
        .filter_map(|w| visible_issue(&store, &ctx, w).ok())
        .map(|issue| {
            ctx.render()
                .issue(&store, issue, &selection, &expand, &properties)
        })
        .collect();
    Ok(Json(json!({"issues": issues, "issueErrors": []})))
}
