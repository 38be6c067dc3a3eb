//! Comments on issues.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::Value;

use super::{Params, json_body, permitted_issue, visible_issue};
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::fields::{FieldContext, Screen};
use crate::model::{Permission, RichText};
use crate::state::Shared;
use crate::store::Store;

fn comment_id(text: &str) -> ApiResult<u64> {
    text.parse().map_err(|_| {
        ApiError::message(
            StatusCode::NOT_FOUND,
            format!("Can not find a comment for the id: {text}."),
        )
    })
}

fn read_body(store: &Store, ctx: &Ctx, body: &Bytes) -> ApiResult<RichText> {
    let body = json_body(body)?;
    let parser = FieldContext {
        store,
        api: ctx.api,
        flavor: ctx.flavor,
        screen: Screen::Edit,
    };
    parser
        .comment_body(body.get("body").unwrap_or(&Value::Null))
        .map_err(|message| ApiError::field("comment", message))
}

/// `GET /issue/{issueIdOrKey}/comment`.
pub async fn list(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 5000)?.min(5000);
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    Ok(Json(ctx.render().comment_page(
        &store,
        issue,
        start_at,
        max_results,
    )))
}

/// `POST /issue/{issueIdOrKey}/comment`: 201 with the comment.
pub async fn add(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let (event, rendered) = {
        let mut store = state.store_mut();
        let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
        let body = read_body(&store, &ctx, &body)?;
        let event =
            store.add_comment(id, body, &ctx.account_id, Timestamp::now(), Instant::now())?;
        let rendered = event
            .comment
            .as_ref()
            .map(|c| ctx.render().comment(&store, &event.issue, c))
            .unwrap_or_default();
        (event, rendered)
    };
    state.publish(vec![event]);
    Ok((StatusCode::CREATED, Json(rendered)).into_response())
}

/// `GET /issue/{issueIdOrKey}/comment/{id}`.
pub async fn get(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, comment)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let comment_id = comment_id(&comment)?;
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let comment = issue
        .comments
        .iter()
        .find(|c| c.id == comment_id)
        .ok_or_else(|| {
            ApiError::message(
                StatusCode::NOT_FOUND,
                format!("Can not find a comment for the id: {comment_id}."),
            )
        })?;
    Ok(Json(ctx.render().comment(&store, issue, comment)))
}

/// `PUT /issue/{issueIdOrKey}/comment/{id}`.
pub async fn update(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, comment)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let comment_id = comment_id(&comment)?;
    let mut store = state.store_mut();
    let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
    let body = read_body(&store, &ctx, &body)?;
    let comment = store.update_comment(
        id,
        comment_id,
        body,
        &ctx.account_id,
        Timestamp::now(),
        Instant::now(),
    )?;
    let issue = store
        .issue_by_id(id)
        .ok_or_else(ApiError::issue_not_found)?;
    Ok(Json(ctx.render().comment(&store, issue, &comment)))
}

/// `DELETE /issue/{issueIdOrKey}/comment/{id}`.
pub async fn delete(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, comment)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let comment_id = comment_id(&comment)?;
    let mut store = state.store_mut();
    let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
    store.delete_comment(id, comment_id, Instant::now())?;
    Ok(StatusCode::NO_CONTENT)
}
