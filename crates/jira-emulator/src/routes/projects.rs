//! Projects and the create metadata of their issue types.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::Params;
use crate::auth::Ctx;
use crate::config::Flavor;
use crate::error::{ApiError, ApiResult};
use crate::fields::EPIC_LINK_FIELD;
use crate::model::{Permission, Project};
use crate::render::{RenderCtx, field_name};
use crate::state::Shared;
use crate::store::Store;

fn browsable<'s>(store: &'s Store, ctx: &Ctx, id_or_key: &str) -> ApiResult<&'s Project> {
    store
        .project(id_or_key)
        .filter(|p| ctx.may(p, Permission::Browse))
        .ok_or_else(|| ApiError::project_not_found(id_or_key))
}

/// `GET /project/{projectIdOrKey}`.
pub async fn get(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(project): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let project = browsable(&store, &ctx, &project)?;
    Ok(Json(ctx.render().project(&store, project)))
}

/// `GET /project`: every project the caller can browse.
pub async fn list(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let store = state.store();
    Json(Value::Array(
        store
            .projects()
            .iter()
            .filter(|p| ctx.may(p, Permission::Browse))
            .map(|p| ctx.render().project(&store, p))
            .collect(),
    ))
}

/// `GET /project/search`: a page of the projects the caller can browse.
pub async fn search(
    State(state): State<Shared>,
    ctx: Ctx,
    params: Params,
) -> ApiResult<Json<Value>> {
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 50)?.min(100);
    let wanted = params.list("keys");
    let store = state.store();
    let matching: Vec<&Project> = store
        .projects()
        .iter()
        .filter(|p| ctx.may(p, Permission::Browse))
        .filter(|p| wanted.is_empty() || wanted.iter().any(|k| k.eq_ignore_ascii_case(&p.key)))
        .collect();
    let values: Vec<Value> = matching
        .iter()
        .skip(start_at)
        .take(max_results)
        .map(|p| ctx.render().project(&store, p))
        .collect();
    Ok(Json(json!({
        "self": format!("{}/rest/api/{}/project/search", ctx.base_url, ctx.api.number()),
        "startAt": start_at,
        "maxResults": max_results,
        "total": matching.len(),
        "isLast": start_at + values.len() >= matching.len(),
        "values": values,
    })))
}

fn page(
    ctx: &Ctx,
    items: Vec<Value>,
    start_at: usize,
    max_results: usize,
    cloud_name: &str,
) -> Value {
    let total = items.len();
    let values: Vec<Value> = items.into_iter().skip(start_at).take(max_results).collect();
    match ctx.flavor {
        Flavor::Cloud => json!({
            "startAt": start_at, "maxResults": max_results, "total": total, cloud_name: values,
        }),
        Flavor::Datacenter => json!({
            "startAt": start_at, "maxResults": max_results, "total": total,
            "isLast": start_at + values.len() >= total, "values": values,
        }),
    }
}

fn creatable<'s>(store: &'s Store, ctx: &Ctx, id_or_key: &str) -> ApiResult<&'s Project> {
    let project = browsable(store, ctx, id_or_key)?;
    ctx.require(project, Permission::Create)?;
    Ok(project)
}

/// `GET /issue/createmeta/{projectIdOrKey}/issuetypes`.
pub async fn createmeta_issue_types(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(project): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 50)?.min(200);
    let store = state.store();
    let project = creatable(&store, &ctx, &project)?;
    let render = ctx.render();
    let items = project
        .issue_types
        .iter()
        .filter_map(|id| store.issue_type(id))
        .map(|t| render.issue_type(t))
        .collect();
    Ok(Json(page(&ctx, items, start_at, max_results, "issueTypes")))
}

/// `GET /issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}`: the create screen's fields.
pub async fn createmeta_fields(
    State(state): State<Shared>,
    ctx: Ctx,
    Path((project, issue_type)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 50)?.min(200);
    let store = state.store();
    let project = creatable(&store, &ctx, &project)?;
    let issue_type = store
        .issue_type(&issue_type)
        .filter(|t| project.issue_types.contains(&t.id))
        .ok_or_else(|| ApiError::bad_request("The issue type selected is invalid."))?;
    let render = ctx.render();
    let mut items = vec![
        field_meta(
            "summary",
            true,
            json!({"type": "string", "system": "summary"}),
            &["set"],
            None,
        ),
        field_meta(
            "issuetype",
            true,
            json!({"type": "issuetype", "system": "issuetype"}),
            &[],
            Some(vec![render.issue_type(issue_type)]),
        ),
        field_meta(
            "project",
            true,
            json!({"type": "project", "system": "project"}),
            &["set"],
            Some(vec![render.project_ref(project)]),
        ),
        field_meta(
            "description",
            false,
            json!({"type": "string", "system": "description"}),
            &["set"],
            None,
        ),
        field_meta(
            "labels",
            false,
            json!({"type": "array", "items": "string", "system": "labels"}),
            &["add", "set", "remove"],
            None,
        ),
        field_meta(
            "priority",
            false,
            json!({"type": "priority", "system": "priority"}),
            &["set"],
            Some(
                store
                    .priorities()
                    .iter()
                    .map(|p| render.priority(p))
                    .collect(),
            ),
        ),
        field_meta(
            "assignee",
            false,
            json!({"type": "user", "system": "assignee"}),
            &["set"],
            None,
        ),
        field_meta(
            "reporter",
            false,
            json!({"type": "user", "system": "reporter"}),
            &["set"],
            None,
        ),
        field_meta(
            "duedate",
            false,
            json!({"type": "date", "system": "duedate"}),
            &["set"],
            None,
        ),
    ];
    items.push(epic_field(&render, issue_type.is_subtask()));
    Ok(Json(page(&ctx, items, start_at, max_results, "fields")))
}

fn epic_field(render: &RenderCtx<'_>, subtask: bool) -> Value {
    match render.flavor {
        Flavor::Cloud => field_meta(
            "parent",
            subtask,
            json!({"type": "issuelink", "system": "parent"}),
            &["set"],
            None,
        ),
        Flavor::Datacenter => field_meta(
            EPIC_LINK_FIELD,
            false,
            json!({
                "type": "any",
                "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
                "customId": 10100,
            }),
            &["set"],
            None,
        ),
    }
}

fn field_meta(
    id: &str,
    required: bool,
    schema: Value,
    operations: &[&str],
    allowed: Option<Vec<Value>>,
) -> Value {
    let mut value = json!({
        "required": required,
        "schema": schema,
        "name": field_name(id),
        "key": id,
        "fieldId": id,
        "hasDefaultValue": false,
        "operations": operations,
    });
    if let Some(allowed) = allowed {
        value["allowedValues"] = Value::Array(allowed);
    }
    value
}
