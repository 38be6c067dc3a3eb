//! The site's catalogues clients look names up in: issue types, statuses, status categories,
//! priorities, resolutions; and an issue's edit metadata.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::{Params, visible_issue};
use crate::auth::Ctx;
use crate::config::Flavor;
use crate::error::ApiResult;
use crate::fields::EPIC_LINK_FIELD;
use crate::model::Permission;
use crate::render::field_name;
use crate::seed::Category;
use crate::state::Shared;

/// `GET /issuetype`: the issue types of the projects the caller can browse.
pub async fn issue_types(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let store = state.store();
    let mut ids: Vec<&String> = store
        .projects()
        .iter()
        .filter(|p| ctx.may(p, Permission::Browse))
        .flat_map(|p| p.issue_types.iter())
        .collect();
    ids.sort();
    ids.dedup();
    Json(Value::Array(
        ids.into_iter()
            .filter_map(|id| store.issue_type(id))
            .map(|t| ctx.render().issue_type(t))
            .collect(),
    ))
}

/// `GET /status`.
pub async fn statuses(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let store = state.store();
    Json(Value::Array(
        store
            .statuses()
            .iter()
            .map(|s| ctx.render().status(s))
            .collect(),
    ))
}

/// `GET /statuscategory`.
pub async fn status_categories(ctx: Ctx) -> Json<Value> {
    Json(Value::Array(
        [Category::New, Category::Indeterminate, Category::Done]
            .into_iter()
            .map(|c| ctx.render().status_category(c))
            .collect(),
    ))
}

/// `GET /priority`.
pub async fn priorities(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let store = state.store();
    Json(Value::Array(
        store
            .priorities()
            .iter()
            .map(|p| ctx.render().priority(p))
            .collect(),
    ))
}

/// `GET /priority/search` (Cloud): the priorities a page at a time, `startAt`/`maxResults`.
pub async fn priority_search(
    State(state): State<Shared>,
    ctx: Ctx,
    params: Params,
) -> ApiResult<Json<Value>> {
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 50)?.clamp(1, 100);
    let store = state.store();
    let all = store.priorities();
    let values: Vec<Value> = all
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|p| ctx.render().priority(p))
        .collect();
    let is_last = start_at.saturating_add(values.len()) >= all.len();
    Ok(Json(json!({
        "self": format!("{}/rest/api/3/priority/search?startAt={start_at}&maxResults={max_results}", ctx.base_url),
        "startAt": start_at,
        "maxResults": max_results,
        "total": all.len(),
        "isLast": is_last,
        "values": values,
    })))
}

/// `GET /resolution`.
pub async fn resolutions(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let store = state.store();
    Json(Value::Array(
        store
            .resolutions()
            .iter()
            .map(|r| ctx.render().resolution(r))
            .collect(),
    ))
}

/// `GET /issue/{issueIdOrKey}/editmeta`: the fields the edit screen offers (none without edit permission).
pub async fn edit_meta(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(issue): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let issue = visible_issue(&store, &ctx, &issue)?;
    let may_edit = store
        .project(&issue.project_id)
        .is_some_and(|p| ctx.may(p, Permission::Edit));
    let epic = match ctx.flavor {
        Flavor::Cloud => "parent",
        Flavor::Datacenter => EPIC_LINK_FIELD,
    };
    let mut fields = Map::new();
    if may_edit {
        for (id, kind, operations) in [
            ("summary", "string", &["set"][..]),
            ("description", "string", &["set"][..]),
            ("labels", "array", &["add", "set", "remove"][..]),
            ("priority", "priority", &["set"][..]),
            ("assignee", "user", &["set"][..]),
            ("reporter", "user", &["set"][..]),
            ("duedate", "date", &["set"][..]),
            ("issuetype", "issuetype", &["set"][..]),
            (epic, "any", &["set"][..]),
            ("comment", "comments-page", &["add", "edit", "remove"][..]),
        ] {
            fields.insert(
                id.to_owned(),
                json!({
                    "required": id == "summary" || id == "issuetype",
                    "schema": {"type": kind, "system": id},
                    "name": field_name(id),
                    "key": id,
                    "operations": operations,
                }),
            );
        }
    }
    Ok(Json(json!({ "fields": fields })))
}
