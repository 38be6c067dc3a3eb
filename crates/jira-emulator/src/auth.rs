//! Who is calling: Basic `email:api-token` or Bearer personal access token, answered with 401 otherwise;
//! plus the per-request context (API version, flavor) handlers need.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::config::{Api, Flavor};
use super::error::ApiError;
use super::model::{Permission, Project};
use super::render::RenderCtx;
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
        }
    }
}

/// The API version a request path names.
pub fn api_of(path: &str) -> Api {
    if path.starts_with("/rest/api/3/") {
        Api::V3
    } else {
        Api::V2
    }
}

/// The account id the credentials in `authorization` belong to.
pub fn authenticate(store: &Store, authorization: &str) -> Option<String> {
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        let token = token.trim();
        return store
            .users()
            .iter()
            .find(|u| u.personal_access_token.as_deref() == Some(token))
            .map(|u| u.account_id.clone());
    }
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (login, secret) = decoded.split_once(':')?;
    store
        .users()
        .iter()
        .find(|u| {
            (u.email.eq_ignore_ascii_case(login) || u.name == login)
                && u.api_token.as_deref() == Some(secret)
        })
        .map(|u| u.account_id.clone())
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
        let account_id = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| authenticate(&state.store(), h))
            .ok_or(Rejection::Unauthenticated(flavor))?;
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
        };
        Err(ApiError::message(
            StatusCode::FORBIDDEN,
            format!("You do not have permission to {action} this project."),
        ))
    }
}
