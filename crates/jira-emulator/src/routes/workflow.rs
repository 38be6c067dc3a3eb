//! Listing and taking workflow transitions.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Params, json_body, permitted_issue, visible_issue};
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::fields::{FieldContext, Screen};
use crate::model::Permission;
use crate::state::Shared;

/// `GET /issue/{issueIdOrKey}/transitions`: what the caller can do from the current status.
pub async fn list(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let may_edit = store
        .project(&issue.project_id)
        .is_some_and(|p| ctx.may(p, Permission::Edit));
    let with_fields = params
        .list("expand")
        .iter()
        .any(|e| e == "transitions.fields");
    let only = params.get("transitionId");
    let transitions: Vec<Value> = store
        .transitions()
        .iter()
        .filter(|_| may_edit)
        .filter(|t| t.available_from(&issue.status_id))
        .filter(|t| only.is_none_or(|id| id == t.id))
        .map(|t| ctx.render().transition(&store, t, with_fields))
        .collect();
    Ok(Json(
        json!({"expand": "transitions", "transitions": transitions}),
    ))
}

/// `POST /issue/{issueIdOrKey}/transitions`: moves the issue, with the transition screen's fields.
pub async fn transition(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body = json_body(&body)?;
    let transition_id = match body.pointer("/transition/id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => return Err(ApiError::bad_request("Missing 'transition' identifier")),
    };
    let event = {
        let mut store = state.store_mut();
        let id = permitted_issue(&store, &ctx, &issue, Permission::Edit)?;
        let status = store
            .issue_by_id(id)
            .map(|i| i.status_id.clone())
            .unwrap_or_default();
        let transition = store
            .transitions()
            .iter()
            .find(|t| t.id == transition_id && t.available_from(&status))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Transition id '{transition_id}' is not valid for this issue."
                ))
            })?;
        let changes = FieldContext {
            store: &store,
            api: ctx.api,
            flavor: ctx.flavor,
            screen: Screen::Transition(transition),
        }
        .parse(&body)?;
        store.transition_issue(
            id,
            &transition_id,
            &changes,
            &ctx.account_id,
            Timestamp::now(),
            Instant::now(),
        )?
    };
    state.publish(vec![event]);
    Ok(StatusCode::NO_CONTENT)
}
