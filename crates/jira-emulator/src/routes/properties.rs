//! Issue entity properties.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{json_body, permitted_issue, visible_issue};
use crate::auth::Ctx;
use crate::error::ApiResult;
use crate::fields::check_property;
use crate::model::Permission;
use crate::state::Shared;
use crate::store::property_not_found;

fn property_url(ctx: &Ctx, issue_id: u64, key: &str) -> String {
    format!(
        "{}/rest/api/{}/issue/{issue_id}/properties/{key}",
        ctx.base_url,
        ctx.api.number()
    )
}

/// `GET /issue/{issueIdOrKey}/properties`: the keys.
pub async fn keys(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let keys: Vec<Value> = issue
        .properties
        .keys()
        .map(|k| json!({"self": property_url(&ctx, issue.id, k), "key": k}))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

/// `GET /issue/{issueIdOrKey}/properties/{propertyKey}`.
pub async fn get(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let value = issue
        .properties
        .get(&key)
        .ok_or_else(|| property_not_found(&key))?;
    Ok(Json(json!({"key": key, "value": value})))
}

/// `PUT /issue/{issueIdOrKey}/properties/{propertyKey}`: 201 when new, 200 when replaced.
pub async fn set(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, key)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let value = json_body(&body)?;
    check_property(&key, &value)?;
    let mut store = state.store_mut();
    let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
    let created = store.set_property(id, &key, value, Instant::now())?;
    Ok(if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

/// `DELETE /issue/{issueIdOrKey}/properties/{propertyKey}`.
pub async fn delete(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((issue, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = state.store_mut();
    let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
    store.delete_property(id, &key, Instant::now())?;
    Ok(StatusCode::NO_CONTENT)
}
