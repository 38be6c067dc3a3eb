//! The operator's only door to Jira: one client type for Jira Cloud (REST v3, ADF, `parent` epics,
//! Basic email + API token) and Jira Data Center (REST v2, wiki markup, the Epic Link custom field,
//! Bearer personal access token), either with OAuth 2.0 client credentials (service accounts),
//! Cloud through its API gateway, and a private CA where the site has one. No controller logic
//! lives here.
//!
//! # Interface
//!
//! Build a [`JiraClient`] per `JiraConnection` from a [`ClientConfig`] (`base_url`, [`Flavor`],
//! [`Credentials`] whose `Debug` redacts secrets, [`RateLimit`], [`RetryPolicy`]). Clones are cheap and
//! share the HTTP pool, token bucket, rate-limit pauses and caches.
//!
//! | Operation | Cloud (v3) | Data Center (v2) |
//! |---|---|---|
//! | [`myself`](JiraClient::myself), [`server_info`](JiraClient::server_info) | `GET /myself`, `GET /serverInfo` | same |
//! | [`project`](JiraClient::project), [`issue_types`](JiraClient::issue_types) | `GET /project/{key}` | same |
//! | [`priorities`](JiraClient::priorities) | `GET /priority/search` (paged) | `GET /priority` |
//! | [`epic_field`](JiraClient::epic_field) | `parent` (no call) | `GET /field` once, cached |
//! | [`user_by_email`](JiraClient::user_by_email) (cached with expiry) | `GET /user/search?query=` | `GET /user/search?username=` |
//! | [`create_issue`](JiraClient::create_issue) (properties atomic with the create) | `POST /issue` | same |
//! | [`bulk_create`](JiraClient::bulk_create) (50 per call, per-element results) | `POST /issue/bulk` | same |
//! | [`edit_issue`](JiraClient::edit_issue), [`get_issue`](JiraClient::get_issue), [`delete_issue`](JiraClient::delete_issue) | `PUT`/`GET`/`DELETE /issue/{key}` | same |
//! | [`bulk_fetch`](JiraClient::bulk_fetch) (100 per call) | `POST /issue/bulkfetch` | `POST /search` with `key in (...)` |
//! | [`search`](JiraClient::search) (all pages, managed fields only) | `POST /search/jql` + `nextPageToken` | `POST /search` + `startAt` |
//! | [`search_with_properties`](JiraClient::search_with_properties) | the same, properties inside | the same, then `GET /issue/{key}/properties/{name}` per issue |
//! | [`transitions`](JiraClient::transitions), [`transition`](JiraClient::transition) | `GET`/`POST /issue/{key}/transitions` | same |
//! | [`add_comment`](JiraClient::add_comment) | `POST /issue/{key}/comment` (ADF) | same (wiki) |
//! | [`set_property`](JiraClient::set_property), [`get_property`](JiraClient::get_property) | `PUT`/`GET /issue/{key}/properties/{name}` | same |
//!
//! [`search_with_properties`](JiraClient::search_with_properties) also returns named entity
//! properties: inside the search on Cloud (no extra call); on Data Center, whose search cannot return
//! them, with one `GET /issue/{key}/properties/{name}` per issue and property after the search.
//!
//! [`jql`] quotes values into JQL so that labels and keys can never change a query's shape.
//!
//! Descriptions are built as a typed [`Description`] and rendered per flavor by
//! [`description`]; [`Issue::description_text`] and [`Description::plain_text`] give the canonical
//! plain text the planner compares for drift.
//!
//! # Politeness and retries
//!
//! Every request takes a token from the connection's bucket ([`RateLimit`]). A 429 (or a 503 naming a
//! rate limit) pauses what its `RateLimit-Reason` names for its `Retry-After`: one issue
//! (`jira-per-issue-on-write`), one method and endpoint (`jira-burst-based`), or the whole connection
//! (quota reasons, unknown reasons, no reason). Pauses longer than [`RetryPolicy::max_wait`] fail the
//! call at once with [`JiraError::RateLimited`] so reconcilers requeue instead of blocking. Other
//! failures back off exponentially with jitter. A request is repeated only when that is safe: reads,
//! PUTs, DELETEs and searches always; creates, comments and transitions only when Jira cannot have
//! acted (connection refused, 429). A create whose answer was lost fails with
//! [`JiraError::Transient`]; the caller finds the issue by its labels before creating again.
//!
//! # Errors
//!
//! [`JiraError`] kinds: authentication, permission, not found, validation (Jira's `errorMessages` and
//! field `errors`), rate limited, transient, removed API, no transition; [`JiraError::is_retryable`]
//! tells whether trying later can help. Errors name the request (method and path) and carry Jira's
//! messages; credentials never appear in errors, logs or `Debug` output.

mod authorization;
mod client;
mod config;
pub mod description;
mod error;
mod gateway;
mod issues;
pub mod jql;
mod model;
mod oauth;
mod path;
mod principal;
mod rate_limit;
mod retry;
mod scopes;
mod search;
mod throttle;
mod transport;
mod users;
mod wire;
mod workflow;

pub use client::JiraClient;
pub use config::{
    CLOUD_GATEWAY_URL, CLOUD_TOKEN_URL, ClientConfig, Credentials, Flavor, Gateway, OAuth2Client,
    RateLimit, RetryPolicy, TokenRequestEncoding,
};
pub use description::{Description, TaskSection};
pub use error::JiraError;
pub use issues::BULK_CREATE_LIMIT;
pub use model::{
    Issue, IssueRef, IssueType, IssueUpdate, JiraUser, NewIssue, Priority, Project, ScreenField,
    ServerInfo, Status, StatusCategory, Transition, TransitionTarget,
};
pub use path::{Hop, MAX_HOPS, next_hop};
pub use principal::PrincipalShares;
pub use rate_limit::PauseScope;
pub use search::{BULK_FETCH_LIMIT, SEARCH_PAGE_SIZE, SEARCH_PROPERTY_LIMIT};
pub use throttle::SitePauses;
pub use users::UserCache;
pub use wire::EpicField;
pub use workflow::{Walk, choose as choose_transition};
