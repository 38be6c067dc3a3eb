//! Who is calling: Basic `email:api-token` or Bearer personal access token, and the service
//! credentials (OAuth 2.0 access tokens, scoped API tokens) within their scopes, answered with 401
//! or 403 otherwise; plus the per-request context (API version, flavor) handlers need.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::config::{Api, Flavor};
use super::credentials::{CredentialRegistry, ServiceCaller};
use super::error::ApiError;
use super::gateway::ViaGateway;
use super::model::{Permission, Project};
use super::render::RenderCtx;
use super::scopes;
use super::state::Shared;
use super::store::Store;

/// The authenticated caller and the API they came through.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Account id of the caller.
    pub account_id: String,
    /// API version of the request path.
    pub api: Api,
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// Base URL of the site.
    pub base_url: String,
}

/// Why a request was refused before reaching its handler.
#[derive(Debug)]
pub enum Rejection {
    /// No or wrong credentials.
    Unauthenticated(Flavor),
    /// The API does not exist in this flavor (v3 on Data Center).
    NoSuchApi,
    /// The gateway was asked for a cloud id that is not this site's.
    UnknownCloud,
    /// A gateway request without valid credentials.
    GatewayUnauthenticated,
    /// A service credential used outside its scopes.
    OutOfScope(Flavor),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            // Jira Cloud answers 401 in plain text; Data Center with its JSON error body.
            Rejection::Unauthenticated(Flavor::Cloud) => (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
                "Client must be authenticated to access this resource.",
            )
                .into_response(),
            Rejection::Unauthenticated(Flavor::Datacenter) => ApiError::message(
                StatusCode::UNAUTHORIZED,
                "You are not authenticated. Authentication required to perform this operation.",
            )
            .into_response(),
            Rejection::NoSuchApi => ApiError::message(
                StatusCode::NOT_FOUND,
                "null for uri: the requested REST API version is not available on this server",
            )
            .into_response(),
            // The gateway answers in its own shape, `{"code": ..., "message": ...}`.
            Rejection::UnknownCloud => gateway_error(StatusCode::NOT_FOUND, "Not Found"),
            Rejection::GatewayUnauthenticated => {
                gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized")
            }
            Rejection::OutOfScope(Flavor::Cloud) => {
                gateway_error(StatusCode::FORBIDDEN, "Unauthorized; scope does not match")
            }
            Rejection::OutOfScope(Flavor::Datacenter) => ApiError::message(
                StatusCode::FORBIDDEN,
                "The OAuth 2.0 token's scope does not allow this request.",
            )
            .into_response(),
        }
    }
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// The API version a request path names.
pub fn api_of(path: &str) -> Api {
    if path.starts_with("/rest/api/3/") {
        Api::V3
    } else {
        Api::V2
    }
}

/// Who the credentials in `authorization` belong to: a user's own API token or personal access
/// token (account id, unrestricted), or a service credential (its user's email, and its scopes).
/// Service credentials on Cloud work only through the gateway.
fn identify(
    store: &Store,
    services: &CredentialRegistry,
    authorization: &str,
    service_allowed: bool,
) -> Option<Caller> {
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        let token = token.trim();
        if let Some(user) = store
            .users()
            .iter()
            .find(|u| u.personal_access_token.as_deref() == Some(token))
        {
            return Some(Caller::User(user.account_id.clone()));
        }
        return services
            .bearer(token, std::time::Instant::now())
            .filter(|_| service_allowed)
            .map(Caller::Service);
    }
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (login, secret) = decoded.split_once(':')?;
    if let Some(user) = store.users().iter().find(|u| {
        (u.email.eq_ignore_ascii_case(login) || u.name == login)
            && u.api_token.as_deref() == Some(secret)
    }) {
        return Some(Caller::User(user.account_id.clone()));
    }
    services
        .scoped_token(login, secret)
        .filter(|_| service_allowed)
        .map(Caller::Service)
}

/// An identified caller.
enum Caller {
    /// A user with their own credentials: every API, as their permissions allow.
    User(String),
    /// A service credential: its user's permissions, within its scopes.
    Service(ServiceCaller),
}

/// The account id of a caller allowed to make this request.
fn admit(
    state: &Shared,
    parts: &Parts,
    flavor: Flavor,
    gateway: bool,
) -> Result<String, Rejection> {
    let unauthenticated = || {
        if gateway {
            Rejection::GatewayUnauthenticated
        } else {
            Rejection::Unauthenticated(flavor)
        }
    };
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(unauthenticated)?;
    let store = state.store();
    // Cloud takes scoped tokens and OAuth access tokens only at the gateway (a site URL answers
    // 401); Data Center has no gateway and takes its OAuth tokens at the site.
    let service_allowed = gateway || flavor == Flavor::Datacenter;
    let caller = identify(&store, &state.credentials(), authorization, service_allowed)
        .ok_or_else(unauthenticated)?;
    match caller {
        Caller::User(account_id) => Ok(account_id),
        Caller::Service(service) => {
            if let Some(needed) = scopes::required(flavor, &parts.method, parts.uri.path())
                && !scopes::grants(flavor, &service.scopes, needed)
            {
                return Err(Rejection::OutOfScope(flavor));
            }
            store
                .users()
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(&service.email))
                .map(|u| u.account_id.clone())
                .ok_or_else(unauthenticated)
        }
    }
}

impl FromRequestParts<Shared> for Ctx {
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let flavor = state.settings().flavor;
        let api = api_of(parts.uri.path());
        if api == Api::V3 && flavor == Flavor::Datacenter {
            return Err(Rejection::NoSuchApi);
        }
        let gateway = match parts.extensions.get::<ViaGateway>() {
            Some(via) if via.cloud_id != state.cloud_id || flavor == Flavor::Datacenter => {
                return Err(Rejection::UnknownCloud);
            }
            via => via.is_some(),
        };
        let account_id = admit(state, parts, flavor, gateway)?;
        Ok(Ctx {
            account_id,
            api,
            flavor,
            base_url: state.base_url.clone(),
        })
    }
}

impl Ctx {
    /// How responses to this request are written.
    pub fn render(&self) -> RenderCtx<'_> {
        RenderCtx {
            base_url: &self.base_url,
            api: self.api,
            flavor: self.flavor,
        }
    }

    /// Whether the caller holds `permission` in `project`.
    pub fn may(&self, project: &Project, permission: Permission) -> bool {
        project.allows(permission, &self.account_id)
    }

    /// Refuses with Jira's 403 unless the caller holds `permission` in `project`.
    pub fn require(&self, project: &Project, permission: Permission) -> Result<(), ApiError> {
        if self.may(project, permission) {
            return Ok(());
        }
        let action = match permission {
            Permission::Browse => "browse",
            Permission::Create => "create issues in",
            Permission::Edit => "edit issues in",
            Permission::Delete => "delete issues in",
            Permission::Assignable => "be assigned issues in",
        };
        Err(ApiError::message(
            StatusCode::FORBIDDEN,
            format!("You do not have permission to {action} this project."),
        ))
    }
}
