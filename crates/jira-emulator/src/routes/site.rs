//! Who am I, which Jira is this, and finding users by email.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::Params;
use crate::auth::Ctx;
use crate::config::Flavor;
use crate::error::{ApiError, ApiResult};
use crate::render::timestamp;
use crate::state::Shared;

/// `GET /myself`.
pub async fn myself(State(state): State<Shared>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let store = state.store();
    let user = store
        .user(&ctx.account_id)
        .ok_or_else(|| ApiError::bad_request("The calling user no longer exists."))?;
    let mut value = ctx.render().user(user);
    value["locale"] = json!("en_US");
    value["groups"] = json!({"size": 1, "items": []});
    value["applicationRoles"] = json!({"size": 1, "items": []});
    value["expand"] = json!("groups,applicationRoles");
    Ok(Json(value))
}

/// `GET /serverInfo`.
pub async fn server_info(ctx: Ctx) -> Json<Value> {
    let now = timestamp(Timestamp::now());
    let (version, numbers, deployment, build) = match ctx.flavor {
        Flavor::Cloud => ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud", 100_283),
        Flavor::Datacenter => ("10.3.0", [10, 3, 0], "Server", 10_030_000),
    };
    let mut info = json!({
        "baseUrl": ctx.base_url,
        "version": version,
        "versionNumbers": numbers,
        "deploymentType": deployment,
        "buildNumber": build,
        "buildDate": "2026-01-01T00:00:00.000+0000",
        "serverTime": now,
        "scmInfo": "jira-emulator",
        "serverTitle": "Jira Emulator",
    });
    // Cloud's ServerInformation schema allows no other property; Data Center answers its locale.
    if ctx.flavor == Flavor::Datacenter {
        info["defaultLocale"] = json!({"locale": "en_US"});
    }
    Json(info)
}

/// `GET /user/search?query=` (Cloud) or `?username=` (Data Center): users whose email, name or display
/// name starts with the text, case-insensitively.
pub async fn user_search(
    State(state): State<Shared>,
    ctx: Ctx,
    params: Params,
) -> ApiResult<Json<Value>> {
    let text = params
        .get("query")
        .or_else(|| params.get("username"))
        .or_else(|| params.get("accountId"))
        .unwrap_or_default()
        .to_lowercase();
    if text.is_empty() {
        return Err(ApiError::bad_request(match ctx.flavor {
            Flavor::Cloud => "The query parameter 'query' or 'accountId' is required.",
            Flavor::Datacenter => "The username query parameter was not provided",
        }));
    }
    let start_at = params.number("startAt", 0)?;
    let max_results = params.number("maxResults", 50)?.min(1000);
    let store = state.store();
    let users: Vec<Value> = store
        .users()
        .iter()
        .filter(|u| {
            u.account_id == text
                || u.email.to_lowercase().starts_with(&text)
                || u.name.to_lowercase().starts_with(&text)
                || u.display_name
                    .to_lowercase()
                    .split(' ')
                    .any(|w| w.starts_with(&text))
        })
        .skip(start_at)
        .take(max_results)
        .map(|u| ctx.render().user(u))
        .collect();
    Ok(Json(Value::Array(users)))
}
