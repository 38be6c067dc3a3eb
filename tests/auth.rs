//! Jira access as sites run it: each auth type on its flavor makes tickets through the real operator
//! binary, the real control plane and the emulator — Basic on Cloud, a Bearer personal access token
//! on Data Center, a scoped API token through Cloud's gateway, OAuth 2.0 client credentials on Cloud
//! (through the gateway) and on Data Center. Access tokens that expire mid-sync fail no action; a
//! revoked client, an under-scoped token and an untrusted CA each give a condition saying what to do;
//! a private CA (the emulator over HTTPS) is trusted through `tls.caSecretRef`.

mod support;

use std::time::Duration;

use jira_active_sync::api::JiraConnection;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::{Value, json};

use jira_active_sync::jira::Flavor;
use support::emulator::{EMAIL, Emulator, SEED_TOKEN};
use support::operator::{Operator, OperatorOptions};
use support::site::{CONNECTION, condition_of, recorded_keys};
use support::{Mode, TestNamespace, eventually};

/// How long the operator may take to make the tickets of a few tasks.
const PATIENCE: Duration = Duration::from_secs(90);
/// Every classic scope the operator's calls need on Cloud.
const CLOUD_SCOPES: [&str; 3] = ["read:jira-work", "write:jira-work", "read:jira-user"];

/// A namespace, an emulator and an operator watching the namespace.
struct AuthSite {
    ns: TestNamespace,
    jira: Emulator,
    operator: Option<Operator>,
}

impl AuthSite {
    /// A namespace named after `test` and an emulator of `flavor` (over HTTPS with a CA of its
    /// own when `tls`).
    async fn new(test: &str, flavor: Flavor, tls: bool) -> AuthSite {
        AuthSite {
            ns: TestNamespace::new(test).await,
            jira: Emulator::start_with(Mode::Process, flavor, false, tls).await,
            operator: None,
        }
    }

    /// Adds a service credential to the emulator (`POST /_emulator/credentials`).
    async fn credential(&self, credential: Value) {
        self.jira
            .admin(reqwest::Method::POST, "credentials", Some(credential))
            .await;
    }

    /// A scoped API token of the admin with `scopes`.
    async fn scoped_token(&self, name: &str, token: &str, scopes: &[&str]) {
        let credential = json!({"name": name, "type": "scopedToken", "email": EMAIL,
                                "token": token, "scopes": scopes});
        self.credential(credential).await;
    }

    /// An OAuth 2.0 client `id` of a service account with `scopes` (and `extra` settings).
    async fn oauth_client(
        &self,
        name: &str,
        (id, secret): (&str, &str),
        scopes: &[&str],
        extra: Value,
    ) {
        let mut credential = json!({"name": name, "type": "oauthClient", "email": EMAIL,
                                    "clientId": id, "clientSecret": secret, "scopes": scopes});
        support::site::merge(&mut credential, extra);
        self.credential(credential).await;
    }

    /// The emulator's cloud id.
    async fn cloud_id(&self) -> String {
        let listed = self
            .jira
            .admin(reqwest::Method::GET, "credentials", None)
            .await;
        listed["cloudId"].as_str().expect("cloudId").to_owned()
    }

    /// The Secret `name` with `data`.
    async fn secret(&self, name: &str, data: Value) {
        self.ns
            .create::<Secret>(json!({"metadata": {"name": name}, "stringData": data}))
            .await;
    }

    /// The connection `name` with `spec`.
    async fn connection(&self, name: &str, spec: Value) {
        self.ns
            .create::<JiraConnection>(json!({
                "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
                "metadata": {"name": name}, "spec": spec
            }))
            .await;
    }

    /// `count` open tasks of check `auth` and an Individual sync of them into SEC through the
    /// connection `connection`.
    async fn tasks_and_sync(&self, connection: &str, first: usize, count: usize) -> Vec<String> {
        let names: Vec<String> = (first..first + count).map(|i| format!("t{i:03}")).collect();
        for name in &names {
            self.ns
                .create::<jira_active_sync::api::ComplianceTask>(json!({
                    "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
                    "metadata": {"name": name},
                    "spec": {"check": "auth", "title": format!("Fix {name}"),
                             "instructions": "Do it", "howToFix": "Like so", "severity": "High"}
                }))
                .await;
        }
        if first == 0 {
            self.ns
                .create::<jira_active_sync::api::JiraActiveSync>(json!({
                    "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
                    "metadata": {"name": "s"},
                    "spec": {"connectionRef": {"name": connection}, "scope": {"checks": ["auth"]},
                             "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s"}
                }))
                .await;
        }
        names
    }

    /// Starts the operator on this namespace.
    async fn start_operator(&mut self) {
        let options = OperatorOptions {
            namespace: self.ns.name.clone(),
            search_settle: "10s",
            rust_log: "info,jira_active_sync=debug,kube=warn,tower=warn,hyper=warn",
            kubeconfig: None,
            also_watch: Vec::new(),
        };
        let log = std::env::temp_dir().join(format!("jas-operator-{}.log", self.ns.name));
        self.operator = Some(Operator::start(Mode::Process, &options, log).await);
    }

    fn operator(&self) -> &Operator {
        self.operator.as_ref().expect("the operator runs")
    }

    /// Waits until every task of `names` records a ticket.
    async fn until_ticketed(&self, names: &[String]) {
        let log = self.operator().log.display().to_string();
        eventually(
            &format!(
                "a ticket for each of {} tasks (operator log {log})",
                names.len()
            ),
            PATIENCE,
            || async {
                let recorded = recorded_keys(&self.ns).await;
                names.iter().all(|n| recorded.contains_key(n)).then_some(())
            },
        )
        .await;
    }

    /// The connection's condition `type_`, once it has `status`.
    async fn connection_condition(
        &self,
        name: &str,
        type_: &str,
        status: &str,
    ) -> (String, String) {
        let connections = self.ns.api::<JiraConnection>();
        let (_, reason, message) = eventually(
            &format!("connection {name} {type_}={status}"),
            PATIENCE,
            || async {
                condition_of(&connections, name, type_)
                    .await
                    .filter(|(s, ..)| s == status)
            },
        )
        .await;
        (reason, message)
    }

    /// Jira's API requests from the request log (token endpoint, tenant info and admin excluded).
    async fn api_requests(&self) -> Vec<Value> {
        self.jira
            .requests(0)
            .await
            .into_iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/rest/api/"))
            })
            .collect()
    }

    /// Calls to a path, from the request log.
    async fn calls_to(&self, path: &str) -> Vec<Value> {
        self.jira
            .requests(0)
            .await
            .into_iter()
            .filter(|r| r["path"] == path)
            .collect()
    }

    /// Lines of `/metrics` counting actions that did not succeed.
    async fn failed_actions(&self) -> Vec<String> {
        let metrics = self.operator().get("/metrics").await.expect("metrics");
        metrics
            .lines()
            .filter(|l| l.starts_with("jira_active_sync_actions_total{"))
            .filter(|l| !l.contains(r#"outcome="ok""#))
            .map(str::to_owned)
            .collect()
    }

    async fn finish(self) {
        if let Some(operator) = self.operator {
            operator.remove_log();
            operator.kill().await;
        }
    }
}

#[tokio::test]
async fn basic_on_cloud_makes_tickets() {
    let mut site = AuthSite::new("auth-basic", Flavor::Cloud, false).await;
    site.secret("creds", json!({"email": EMAIL, "apiToken": SEED_TOKEN}))
        .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "auth": {"type": "Basic", "secretRef": {"name": "creds"}}}),
    )
    .await;
    let names = site.tasks_and_sync(CONNECTION, 0, 3).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    let (reason, _) = site
        .connection_condition(CONNECTION, "Authenticated", "True")
        .await;
    println!("auth: Basic on Cloud made {} tickets", names.len());
    assert_eq!(reason, "Authenticated");
    site.finish().await;
}

#[tokio::test]
async fn a_personal_access_token_on_data_center_makes_tickets() {
    let mut site = AuthSite::new("auth-pat", Flavor::DataCenter, false).await;
    site.secret("creds", json!({"token": "emulator-pat"})).await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "flavor": "DataCenter",
               "auth": {"type": "Bearer", "secretRef": {"name": "creds"}}}),
    )
    .await;
    let names = site.tasks_and_sync(CONNECTION, 0, 3).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    let v2 = site.api_requests().await;
    println!("auth: Bearer PAT on Data Center, {} API requests", v2.len());
    assert!(
        v2.iter().all(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/rest/api/2/"))),
        "Data Center is called on REST v2 only"
    );
    site.finish().await;
}

/// A scoped API token is refused at the site URL and works through the gateway, whose cloud id the
/// operator asks of the site's `/_edge/tenant_info`.
#[tokio::test]
async fn a_scoped_token_works_through_the_gateway_with_a_discovered_cloud_id() {
    let mut site = AuthSite::new("auth-scoped", Flavor::Cloud, false).await;
    site.scoped_token("scoped", "scoped-token-1", &CLOUD_SCOPES)
        .await;
    let at_site = reqwest::Client::new()
        .get(format!("{}/rest/api/3/myself", site.jira.url))
        .basic_auth(EMAIL, Some("scoped-token-1"))
        .send()
        .await
        .expect("myself");
    assert_eq!(
        at_site.status(),
        401,
        "a scoped token is refused at the site URL"
    );
    site.jira.clear_requests().await;
    site.secret(
        "creds",
        json!({"email": EMAIL, "apiToken": "scoped-token-1"}),
    )
    .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "gateway": {"url": site.jira.url},
               "auth": {"type": "Basic", "secretRef": {"name": "creds"}}}),
    )
    .await;
    let names = site.tasks_and_sync(CONNECTION, 0, 3).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    let requests = site.api_requests().await;
    let direct: Vec<&Value> = requests.iter().filter(|r| r["gateway"] != true).collect();
    let tenant_info = site.calls_to("/_edge/tenant_info").await;
    println!(
        "auth: scoped token, {} API requests through the gateway, {} direct, tenant_info asked {} time(s)",
        requests.len() - direct.len(),
        direct.len(),
        tenant_info.len()
    );
    assert!(
        direct.is_empty(),
        "requests bypassed the gateway: {direct:#?}"
    );
    assert!(!tenant_info.is_empty(), "the cloud id was discovered");
    site.finish().await;
}

/// OAuth 2.0 client credentials on Cloud: tokens from the token endpoint (JSON), used through the
/// gateway. Tokens live 3 s, and one is made to expire early: tickets keep being made across
/// several tokens and no action fails.
#[tokio::test]
async fn oauth_client_credentials_on_cloud_survive_expiring_tokens() {
    let mut site = AuthSite::new("auth-oauth-cloud", Flavor::Cloud, false).await;
    let client = ("svc-client", "svc-secret");
    let lifetime = json!({"tokenLifetimeSecs": 3});
    site.oauth_client("svc", client, &CLOUD_SCOPES, lifetime)
        .await;
    let cloud_id = site.cloud_id().await;
    site.secret(
        "creds",
        json!({"clientId": "svc-client", "clientSecret": "svc-secret"}),
    )
    .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url,
               "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "creds"},
                        "tokenUrl": format!("{}/oauth/token", site.jira.url)},
               "gateway": {"url": site.jira.url, "cloudId": cloud_id}}),
    )
    .await;
    let mut names = site.tasks_and_sync(CONNECTION, 0, 3).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    // Past the first token's lifetime, then an early expiry Jira answers with 401.
    tokio::time::sleep(Duration::from_secs(4)).await;
    names.extend(site.tasks_and_sync(CONNECTION, 3, 3).await);
    site.until_ticketed(&names).await;
    site.jira
        .admin(reqwest::Method::POST, "credentials/svc/expire", None)
        .await;
    names.extend(site.tasks_and_sync(CONNECTION, 6, 3).await);
    site.until_ticketed(&names).await;
    let tokens = site.calls_to("/oauth/token").await;
    let refused: Vec<Value> = site
        .api_requests()
        .await
        .into_iter()
        .filter(|r| r["status"] == 401)
        .collect();
    let failed = site.failed_actions().await;
    println!(
        "auth: OAuth on Cloud, {} tasks ticketed with {} tokens, {} request(s) refused and retried, failed actions {failed:?}",
        names.len(),
        tokens.len(),
        refused.len()
    );
    assert!(tokens.len() >= 2, "tokens were renewed: {tokens:#?}");
    assert!(
        tokens.iter().all(|t| t["status"] == 200),
        "every token request succeeded"
    );
    assert!(failed.is_empty(), "actions failed: {failed:?}");
    let log = site.operator().log_text();
    assert!(
        log.contains("fetched an OAuth 2.0 access token"),
        "debug logs were on"
    );
    for secret in ["svc-secret", "emu-at-"] {
        assert!(!log.contains(secret), "the operator logged {secret}");
    }
    let (reason, _) = site.connection_condition(CONNECTION, "Ready", "True").await;
    assert_eq!(reason, "Connected");
    site.finish().await;
}

/// OAuth 2.0 client credentials on Data Center: the default token URL `{url}/rest/oauth2/latest/token`
/// with a form-encoded grant asking for `WRITE`, and the token used at the site URL.
#[tokio::test]
async fn oauth_client_credentials_on_data_center_make_tickets() {
    let mut site = AuthSite::new("auth-oauth-dc", Flavor::DataCenter, false).await;
    let client = ("dc-client", "dc-secret");
    site.oauth_client("svc", client, &["WRITE"], json!({}))
        .await;
    site.secret(
        "creds",
        json!({"clientId": "dc-client", "clientSecret": "dc-secret"}),
    )
    .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "flavor": "DataCenter",
               "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "creds"},
                        "scopes": ["WRITE"]}}),
    )
    .await;
    let names = site.tasks_and_sync(CONNECTION, 0, 3).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    let tokens = site.calls_to("/rest/oauth2/latest/token").await;
    println!(
        "auth: OAuth on Data Center, {} token request(s)",
        tokens.len()
    );
    assert!(
        !tokens.is_empty(),
        "the Data Center token endpoint was used"
    );
    assert_eq!(
        tokens[0]["body"],
        json!(
            "grant_type=client_credentials&client_id=dc-client&client_secret=dc-secret&scope=WRITE"
        ),
        "the grant is form-encoded with the scope"
    );
    site.finish().await;
}

/// A revoked client: the connection says the credentials were refused and which Secret keys to
/// rotate; the refusals are counted; a new client secret in the Secret brings it back.
#[tokio::test]
async fn a_revoked_client_gives_a_condition_and_a_rotated_secret_recovers() {
    let mut site = AuthSite::new("auth-revoked", Flavor::Cloud, false).await;
    for (name, id) in [("old", "client-old"), ("new", "client-new")] {
        let secret = format!("{id}-secret");
        site.oauth_client(name, (id, &secret), &CLOUD_SCOPES, json!({}))
            .await;
    }
    site.secret(
        "creds",
        json!({"clientId": "client-old", "clientSecret": "client-old-secret"}),
    )
    .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url,
               "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "creds"},
                        "tokenUrl": format!("{}/oauth/token", site.jira.url)},
               "gateway": {"url": site.jira.url}}),
    )
    .await;
    let mut names = site.tasks_and_sync(CONNECTION, 0, 2).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    site.jira
        .admin(reqwest::Method::POST, "credentials/old/revoke", None)
        .await;
    names.extend(site.tasks_and_sync(CONNECTION, 2, 1).await);
    let (reason, message) = site
        .connection_condition(CONNECTION, "Authenticated", "False")
        .await;
    let (ready, _) = site
        .connection_condition(CONNECTION, "Ready", "False")
        .await;
    let metrics = site.operator().get("/metrics").await.expect("metrics");
    let counted = metrics
        .lines()
        .find(|l| l.starts_with("jira_active_sync_authentication_failures_total{"))
        .map(str::to_owned);
    println!("auth: revoked client -> {reason}: {message}; metric {counted:?}");
    assert_eq!(reason, "AuthenticationFailed");
    assert_eq!(ready, "AuthenticationFailed");
    assert!(message.contains("Unauthorized"), "Jira's words: {message}");
    assert!(
        message.contains("Secret creds (keys clientId, clientSecret)"),
        "what to rotate: {message}"
    );
    assert!(!message.contains("client-old-secret"), "{message}");
    assert!(counted.is_some(), "authentication failures are counted");

    site.ns
        .api::<Secret>()
        .patch(
            "creds",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"stringData": {
                "clientId": "client-new", "clientSecret": "client-new-secret"}})),
        )
        .await
        .expect("rotate the Secret");
    site.until_ticketed(&names).await;
    site.connection_condition(CONNECTION, "Authenticated", "True")
        .await;
    site.finish().await;
}

/// An API token that expired (Cloud's expire after 1 to 365 days): the sync meets the 401 and wakes
/// the connection, which names the Secret keys to rotate; a new token in the Secret is used without
/// a restart.
#[tokio::test]
async fn an_expired_api_token_is_named_and_a_rotated_one_recovers() {
    let mut site = AuthSite::new("auth-expired", Flavor::Cloud, false).await;
    for (name, token) in [("first", "token-one"), ("second", "token-two")] {
        site.scoped_token(name, token, &CLOUD_SCOPES).await;
    }
    site.secret("creds", json!({"email": EMAIL, "apiToken": "token-one"}))
        .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "gateway": {"url": site.jira.url},
               "auth": {"type": "Basic", "secretRef": {"name": "creds"}}}),
    )
    .await;
    let mut names = site.tasks_and_sync(CONNECTION, 0, 2).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    site.jira
        .admin(reqwest::Method::POST, "credentials/first/expire", None)
        .await;
    names.extend(site.tasks_and_sync(CONNECTION, 2, 1).await);
    let (reason, message) = site
        .connection_condition(CONNECTION, "Authenticated", "False")
        .await;
    println!("auth: expired API token -> {reason}: {message}");
    assert_eq!(reason, "AuthenticationFailed");
    assert!(
        message.contains("rotate them in Secret creds (keys email, apiToken)"),
        "{message}"
    );
    site.ns
        .api::<Secret>()
        .patch(
            "creds",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"stringData": {"apiToken": "token-two"}})),
        )
        .await
        .expect("rotate the Secret");
    site.until_ticketed(&names).await;
    site.connection_condition(CONNECTION, "Ready", "True").await;
    site.finish().await;
}

/// A scoped token without `read:jira-user`: the connection check (which reads `myself`) is
/// refused with 403, and the condition names the scope to grant.
#[tokio::test]
async fn an_under_scoped_token_names_the_missing_scope() {
    let mut site = AuthSite::new("auth-scope", Flavor::Cloud, false).await;
    let scopes = ["read:jira-work", "write:jira-work"];
    site.scoped_token("narrow", "narrow-token", &scopes).await;
    site.secret("creds", json!({"email": EMAIL, "apiToken": "narrow-token"}))
        .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "gateway": {"url": site.jira.url},
               "auth": {"type": "Basic", "secretRef": {"name": "creds"}}}),
    )
    .await;
    site.start_operator().await;
    let (reason, message) = site
        .connection_condition(CONNECTION, "Ready", "False")
        .await;
    println!("auth: under-scoped token -> {reason}: {message}");
    assert_eq!(reason, "Forbidden");
    assert!(
        message.contains("scope does not match"),
        "Jira's words: {message}"
    );
    assert!(
        message.contains("read:jira-user"),
        "the scope to grant: {message}"
    );
    site.finish().await;
}

/// A service account whose OAuth 2.0 token cannot write: the connection check reads the scopes the
/// token endpoint granted and names the missing one before the sync writes anything.
#[tokio::test]
async fn an_oauth_token_without_write_scope_is_named_before_any_write() {
    let mut site = AuthSite::new("auth-oauth-scope", Flavor::Cloud, false).await;
    let scopes = ["read:jira-work", "read:jira-user"];
    let client = ("reader", "reader-secret");
    site.oauth_client("reader", client, &scopes, json!({}))
        .await;
    site.secret(
        "creds",
        json!({"clientId": "reader", "clientSecret": "reader-secret"}),
    )
    .await;
    site.connection(
        CONNECTION,
        json!({"url": site.jira.url, "gateway": {"url": site.jira.url},
               "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "creds"},
                        "tokenUrl": format!("{}/oauth/token", site.jira.url)}}),
    )
    .await;
    site.tasks_and_sync(CONNECTION, 0, 1).await;
    site.start_operator().await;
    let (reason, message) = site
        .connection_condition(CONNECTION, "Ready", "False")
        .await;
    let writes: Vec<Value> = site
        .api_requests()
        .await
        .into_iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap_or("").contains("search"))
        .collect();
    println!(
        "auth: read-only OAuth token -> {reason}: {message}; writes {}",
        writes.len()
    );
    assert_eq!(reason, "Forbidden");
    assert!(
        message.contains("lacks the scopes write:jira-work"),
        "{message}"
    );
    assert!(writes.is_empty(), "{writes:#?}");
    site.finish().await;
}

/// The emulator over HTTPS with a CA of its own: a connection trusting that CA (from a Secret)
/// makes tickets; one that does not says the certificate is untrusted and how to trust it.
#[tokio::test]
async fn a_private_ca_is_trusted_from_a_secret_and_an_untrusted_one_is_named() {
    let mut site = AuthSite::new("auth-tls", Flavor::DataCenter, true).await;
    assert!(site.jira.url.starts_with("https://"), "{}", site.jira.url);
    let ca = site.jira.ca_pem.clone().expect("the emulator's CA");
    site.secret("creds", json!({"token": "emulator-pat"})).await;
    site.secret("corp-ca", json!({"ca.crt": ca})).await;
    for (name, tls) in [
        (CONNECTION, json!({"caSecretRef": {"name": "corp-ca"}})),
        ("untrusting", Value::Null),
    ] {
        let mut spec = json!({"url": site.jira.url, "flavor": "DataCenter",
                              "auth": {"type": "Bearer", "secretRef": {"name": "creds"}}});
        if !tls.is_null() {
            spec["tls"] = tls;
        }
        site.connection(name, spec).await;
    }
    let names = site.tasks_and_sync(CONNECTION, 0, 2).await;
    site.start_operator().await;
    site.until_ticketed(&names).await;
    let (reason, message) = site
        .connection_condition("untrusting", "Ready", "False")
        .await;
    println!("auth: private CA trusted; without it -> {reason}: {message}");
    assert_eq!(reason, "CertificateUntrusted");
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("spec.tls.caSecretRef"), "{message}");
    site.finish().await;
}

/// The API server refuses what cannot work, with a message saying why.
#[tokio::test]
async fn the_api_server_refuses_impossible_auth_settings() {
    let ns = TestNamespace::new("auth-cel").await;
    let api = ns.api::<JiraConnection>();
    let cases = [
        (
            json!({"url": "https://acme.atlassian.net",
                   "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "c"}}}),
            "OAuth2ClientCredentials on Cloud needs gateway",
        ),
        (
            json!({"url": "https://jira.corp.example", "flavor": "DataCenter", "gateway": {},
                   "auth": {"type": "Bearer", "secretRef": {"name": "c"}}}),
            "remove it for a DataCenter connection",
        ),
        (
            json!({"url": "https://acme.atlassian.net", "gateway": {},
                   "auth": {"type": "Basic", "secretRef": {"name": "c"},
                            "tokenUrl": "https://auth.example/token"}}),
            "auth.tokenUrl applies only to auth.type OAuth2ClientCredentials",
        ),
        (
            json!({"url": "https://jira.corp.example", "flavor": "DataCenter",
                   "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "c"},
                            "tokenUrl": "http://auth.example/token"}}),
            "tokenUrl must use https",
        ),
    ];
    for (i, (spec, expected)) in cases.into_iter().enumerate() {
        let connection: JiraConnection = serde_json::from_value(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
            "metadata": {"name": format!("c{i}")}, "spec": spec
        }))
        .expect("a connection object");
        let refused = api
            .create(&PostParams::default(), &connection)
            .await
            .expect_err("the API server refuses it");
        assert!(
            refused.to_string().contains(expected),
            "case {i}: {refused}"
        );
    }
}

/// The client alone against an in-process emulator over HTTPS: refused without the CA, with a
/// certificate error no retry cures; served with it.
#[tokio::test]
async fn the_client_trusts_exactly_the_ca_it_is_given() {
    use jira_active_sync::jira::{self, ClientConfig, Credentials, JiraClient, JiraError};
    use jira_emulator::{Emulator, EmulatorConfig};
    let emulator = Emulator::start(
        "127.0.0.1:0".parse().expect("address"),
        EmulatorConfig {
            tls: true,
            ..EmulatorConfig::default()
        },
    )
    .await
    .expect("emulator");
    let ca = emulator.ca_pem().expect("a CA").as_bytes().to_vec();
    let config = ClientConfig::new(
        emulator.base_url(),
        jira::Flavor::Cloud,
        Credentials::Basic {
            email: EMAIL.into(),
            api_token: SEED_TOKEN.into(),
        },
    );
    let untrusting = JiraClient::new(config.clone()).expect("client");
    let refused = untrusting.server_info().await.expect_err("untrusted");
    assert!(
        matches!(refused, JiraError::UntrustedCertificate { .. }),
        "{refused:?}"
    );
    assert!(!refused.is_retryable());
    let trusting = JiraClient::new(ClientConfig {
        trusted_ca_pem: Some(ca),
        ..config
    })
    .expect("client");
    let info = trusting.server_info().await.expect("served over HTTPS");
    println!("auth: client over HTTPS: {info:?}; without the CA: {refused}");
    emulator.shutdown().await;
}
