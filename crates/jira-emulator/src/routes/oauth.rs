//! The OAuth 2.0 client credentials grant, as each product serves it: Cloud's
//! `POST https://auth.atlassian.com/oauth/token` (JSON) and Data Center's
//! `POST {site}/rest/oauth2/latest/token` (form-encoded, with `scope`); and Cloud's
//! `GET /_edge/tenant_info`, which tells a site's cloud id.

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{Value, json};

use crate::config::Flavor;
use crate::credentials::{IssuedToken, TokenRefusal};
use crate::state::Shared;

/// An OAuth 2.0 error answer (RFC 6749 section 5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn not_here() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// The grant's parameters, however they were encoded.
struct Grant {
    grant_type: String,
    client_id: String,
    client_secret: String,
    scope: Option<Vec<String>>,
}

impl Grant {
    fn from_fields(fields: &HashMap<String, Value>) -> Grant {
        let text = |name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Grant {
            grant_type: text("grant_type"),
            client_id: text("client_id"),
            client_secret: text("client_secret"),
            scope: fields
                .get("scope")
                .and_then(Value::as_str)
                .map(|s| s.split_whitespace().map(str::to_owned).collect()),
        }
    }
}

/// Runs the grant and answers with the token, or the refusal each product gives.
fn grant(state: &Shared, flavor: Flavor, grant: Grant) -> Response {
    if grant.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only the client_credentials grant is supported.",
        );
    }
    let issued = state.credentials().issue(
        flavor,
        &grant.client_id,
        &grant.client_secret,
        grant.scope,
        Instant::now(),
    );
    match (issued, flavor) {
        (
            Ok(IssuedToken {
                access_token,
                expires_in,
                scopes,
            }),
            _,
        ) => Json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": scopes.join(" "),
        }))
        .into_response(),
        (Err(TokenRefusal::InvalidClient), Flavor::Cloud) => {
            oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized")
        }
        (Err(TokenRefusal::InvalidClient), Flavor::Datacenter) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        ),
        (Err(TokenRefusal::InvalidScope), _) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or exceeds the scope granted to the client.",
        ),
    }
}

/// `POST /oauth/token` (Cloud): a JSON body.
pub async fn cloud_token(State(state): State<Shared>, body: Bytes) -> Response {
    if state.settings().flavor != Flavor::Cloud {
        return not_here();
    }
    match serde_json::from_slice::<HashMap<String, Value>>(&body) {
        Ok(fields) => grant(&state, Flavor::Cloud, Grant::from_fields(&fields)),
        Err(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body must be a JSON object.",
        ),
    }
}

/// `POST /rest/oauth2/latest/token` (Data Center): a form-encoded body.
pub async fn data_center_token(
    State(state): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if state.settings().flavor != Flavor::Datacenter {
        return not_here();
    }
    let fields: HashMap<String, Value> = form
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    grant(&state, Flavor::Datacenter, Grant::from_fields(&fields))
}

/// `GET /_edge/tenant_info` (Cloud): the site's cloud id, without authentication.
pub async fn tenant_info(State(state): State<Shared>) -> Response {
    if state.settings().flavor != Flavor::Cloud {
        return not_here();
    }
    Json(json!({"cloudId": state.cloud_id})).into_response()
}
