//! `JiraConnection`: how to reach one Jira site.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Condition, LocalObjectRef, SecretKeyRef};

/// How to reach one Jira site: its URL, flavor, credentials, way in, trusted CA, webhook secret and
/// client-side rate limit.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "activesync.dev",
    version = "v1alpha1",
    kind = "JiraConnection",
    namespaced,
    status = "JiraConnectionStatus",
    shortname = "jconn",
    category = "activesync",
    doc = "How to reach one Jira site: URL, flavor, credentials, webhook secret and client-side rate limit.",
    printcolumn = r#"{"name": "URL", "type": "string", "jsonPath": ".spec.url"}"#,
    printcolumn = r#"{"name": "Flavor", "type": "string", "jsonPath": ".spec.flavor"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.gateway) || self.flavor == 'Cloud'").message(
    "gateway is Jira Cloud's (api.atlassian.com): remove it for a DataCenter connection"
))]
#[x_kube(validation = Rule::new(
    "self.flavor != 'Cloud' || self.auth.type != 'OAuth2ClientCredentials' || has(self.gateway)"
).message(
    "auth.type OAuth2ClientCredentials on Cloud needs gateway (service account tokens work only through api.atlassian.com): add gateway: {} or gateway: {cloudId: ...}"
))]
pub struct JiraConnectionSpec {
    /// Base URL of the Jira site, e.g. `https://acme.atlassian.net`. Must be https, except for loopback hosts.
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self)").message("url must be an absolute URL such as https://acme.atlassian.net"))]
    // Loopback hosts are matched on the URL text: isIP()/ip() on url(self).getHostname() has an
    // unbounded estimated cost, and the API server refuses the CRD for it.
    #[x_kube(validation = Rule::new(
        "!isURL(self) || url(self).getScheme() == 'https' || self.matches('^http://(localhost|127(\\\\.[0-9]{1,3}){3}|\\\\[::1\\\\])(:[0-9]+)?([/?#].*)?$')"
    ).message("url must use https (plain http is allowed only for loopback hosts such as localhost or 127.0.0.1)"))]
    pub url: String,
    /// Which Jira: `Cloud` (REST v3, ADF descriptions) or `DataCenter` (REST v2, wiki markup).
    #[serde(default)]
    pub flavor: Flavor,
    /// Credentials, read from a Secret in the same namespace.
    pub auth: ConnectionAuth,
    /// Call Jira Cloud through Atlassian's API gateway (`https://api.atlassian.com/ex/jira/{cloudId}`)
    /// instead of the site URL: scoped API tokens and service accounts work only this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Gateway>,
    /// TLS settings: a private CA to trust for the site, the gateway and the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// The HMAC secret of the Jira admin webhook that reports ticket changes (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    /// Jira projects that syncs using this connection may write to; empty means any project.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 100), inner(length(max = 255)))]
    #[x_kube(validation = Rule::new("self.all(p, p.matches('^[A-Z][A-Z0-9_]+$'))").message(
        "allowedProjects must hold Jira project keys such as SEC or OPS"
    ))]
    pub allowed_projects: Vec<String>,
    /// Client-side ceiling on requests to this site, kept below Jira's own limits.
    #[serde(default)]
    pub rate_limit: RateLimit,
}

/// The Jira product a connection talks to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum Flavor {
    /// Jira Cloud: REST API v3, descriptions in Atlassian Document Format, epics via `parent`.
    #[default]
    Cloud,
    /// Jira Data Center / Server: REST API v2, descriptions in wiki markup, epics via the Epic Link field.
    DataCenter,
}

/// Credentials for a Jira site.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.tokenUrl) || self.type == 'OAuth2ClientCredentials'").message(
    "auth.tokenUrl applies only to auth.type OAuth2ClientCredentials"
))]
#[x_kube(validation = Rule::new("!has(self.scopes) || self.type == 'OAuth2ClientCredentials'").message(
    "auth.scopes applies only to auth.type OAuth2ClientCredentials"
))]
pub struct ConnectionAuth {
    /// `Basic` (Secret keys `email` and `apiToken`), `Bearer` (key `token`: a personal access
    /// token) or `OAuth2ClientCredentials` (keys `clientId` and `clientSecret`: a service account).
    #[serde(rename = "type")]
    pub type_: AuthType,
    /// The Secret holding the credentials, in the same namespace as the connection.
    pub secret_ref: LocalObjectRef,
    /// OAuth2ClientCredentials only: the token endpoint. Default: Cloud
    /// `https://auth.atlassian.com/oauth/token`, Data Center `{url}/rest/oauth2/latest/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self)").message("tokenUrl must be an absolute URL such as https://auth.atlassian.com/oauth/token"))]
    #[x_kube(validation = Rule::new(
        "!isURL(self) || url(self).getScheme() == 'https' || self.matches('^http://(localhost|127(\\\\.[0-9]{1,3}){3}|\\\\[::1\\\\])(:[0-9]+)?([/?#].*)?$')"
    ).message("tokenUrl must use https (plain http is allowed only for loopback hosts such as localhost or 127.0.0.1)"))]
    pub token_url: Option<String>,
    /// OAuth2ClientCredentials only: scopes to ask the token endpoint for (Data Center, e.g.
    /// `WRITE`); empty asks for the client's own (Cloud service accounts get the scopes set on
    /// their credential).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[schemars(length(max = 50), inner(length(min = 1, max = 255)))]
    pub scopes: Vec<String>,
}

/// How the operator authenticates to Jira.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum AuthType {
    /// Email and API token, classic or scoped (Jira Cloud).
    Basic,
    /// Personal access token (Jira Data Center).
    Bearer,
    /// OAuth 2.0 client credentials of a service account (Cloud or Data Center).
    OAuth2ClientCredentials,
}

/// Atlassian Cloud's API gateway.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gateway {
    /// The site's cloud id; when absent, the operator asks the site's `/_edge/tenant_info` once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9-]+$')").message(
        "gateway.cloudId must be a cloud id such as a436116f-02ce-4520-8fbb-7301462a1674"
    ))]
    pub cloud_id: Option<String>,
    /// The gateway's base URL; default `https://api.atlassian.com`. Set it only for a proxy or an
    /// emulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("isURL(self)").message("gateway.url must be an absolute URL such as https://api.atlassian.com"))]
    #[x_kube(validation = Rule::new(
        "!isURL(self) || url(self).getScheme() == 'https' || self.matches('^http://(localhost|127(\\\\.[0-9]{1,3}){3}|\\\\[::1\\\\])(:[0-9]+)?([/?#].*)?$')"
    ).message("gateway.url must use https (plain http is allowed only for loopback hosts such as localhost or 127.0.0.1)"))]
    pub url: Option<String>,
}

/// TLS settings of a connection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// A Secret key holding the PEM certificate(s) of a private CA, trusted besides the public ones.
    pub ca_secret_ref: CaSecretRef,
}

/// A Secret key holding PEM CA certificates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaSecretRef {
    /// Name of the Secret, in the same namespace.
    #[schemars(schema_with = "super::common::object_name_schema")]
    pub name: String,
    /// Key within the Secret.
    #[serde(default = "default_ca_key")]
    pub key: String,
}

fn default_ca_key() -> String {
    "ca.crt".to_owned()
}

/// The Jira admin webhook that reports ticket changes to the operator.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    /// The Secret key holding the webhook's HMAC secret; deliveries with another signature are rejected.
    pub secret_ref: SecretKeyRef,
}

/// A token bucket: a steady rate and a burst.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Requests per second, sustained.
    #[serde(default = "default_requests_per_second")]
    #[schemars(range(min = 1, max = 1000))]
    pub requests_per_second: u32,
    /// Requests that may go at once after a quiet period.
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 2000))]
    pub burst: u32,
}

fn default_requests_per_second() -> u32 {
    20
}

fn default_burst() -> u32 {
    40
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests_per_second: default_requests_per_second(),
            burst: default_burst(),
        }
    }
}

/// What the operator found at the Jira site.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JiraConnectionStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Authenticated`, with reasons and messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The site's deployment type and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<ServerInfo>,
    /// The Jira account the operator acts as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<JiraAccount>,
}

/// A Jira site's own description of itself.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// `Cloud` or `Server`/`DataCenter`, as Jira reports it.
    pub deployment_type: String,
    /// Jira's version string.
    pub version: String,
}

/// A Jira account.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JiraAccount {
    /// The account id (Cloud) or user key/name (Data Center).
    pub account_id: String,
    /// The account's display name.
    pub display_name: String,
}
