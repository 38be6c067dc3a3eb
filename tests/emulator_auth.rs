//! The emulator's service credentials over real HTTP: Cloud's and Data Center's token endpoints,
//! the gateway path form and `/_edge/tenant_info`, scopes, and expiry and revocation through the
//! admin API — each answered with the status and body the real products use.

mod support;

use jira_active_sync::jira::Flavor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::Mode;
use support::emulator::{EMAIL, Emulator};

async fn emulator(flavor: Flavor) -> Emulator {
    Emulator::start(Mode::InProcess, flavor, false).await
}

/// Sends a request and gives its status and JSON body (`null` when it is not JSON).
async fn call(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("answer");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn cloud_client_credentials_work_through_the_gateway_only() {
    let jira = emulator(Flavor::Cloud).await;
    let base = jira.url.as_str();
    jira.admin(
        reqwest::Method::POST,
        "credentials",
        Some(json!({"name": "svc", "type": "oauthClient", "email": EMAIL,
                        "clientId": "id", "clientSecret": "secret", "scopes": ["read:jira-work"]})),
    )
    .await;
    let http = reqwest::Client::new();
    let (status, refused) = call(http.post(format!("{base}/oauth/token")).json(
        &json!({"grant_type": "client_credentials", "client_id": "id", "client_secret": "wrong"}),
    ))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    let (status, token) = call(http.post(format!("{base}/oauth/token")).json(
        &json!({"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(token["scope"], "read:jira-work");
    let bearer = token["access_token"].as_str().expect("token").to_owned();

    let (_, tenant) = call(http.get(format!("{base}/_edge/tenant_info"))).await;
    let cloud_id = tenant["cloudId"].as_str().expect("cloud id");
    let gateway = format!("{base}/ex/jira/{cloud_id}");
    let (status, _) = call(
        http.get(format!("{base}/rest/api/3/project/SEC"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "refused at the site URL");
    let (status, project) = call(
        http.get(format!("{gateway}/rest/api/3/project/SEC"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{project}");
    let (status, body) = call(
        http.get(format!("{gateway}/rest/api/3/myself"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "read:jira-user is not granted"
    );
    assert_eq!(
        body,
        json!({"code": 403, "message": "Unauthorized; scope does not match"})
    );
    let (status, _) = call(
        http.get(format!(
            "{base}/ex/jira/not-this-site/rest/api/3/project/SEC"
        ))
        .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    jira.admin(reqwest::Method::POST, "credentials/svc/expire", None)
        .await;
    let (status, body) = call(
        http.get(format!("{gateway}/rest/api/3/project/SEC"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired token");
    assert_eq!(body, json!({"code": 401, "message": "Unauthorized"}));
}

#[tokio::test]
async fn data_center_grants_form_encoded_requests_within_the_clients_scope() {
    let jira = emulator(Flavor::DataCenter).await;
    let base = jira.url.as_str();
    jira.admin(
        reqwest::Method::POST,
        "credentials",
        Some(json!({"name": "svc", "type": "oauthClient", "email": EMAIL,
                        "clientId": "id", "clientSecret": "secret", "scopes": ["READ"],
                        "tokenLifetimeSecs": 60})),
    )
    .await;
    let http = reqwest::Client::new();
    let grant = |scope: &'static str| {
        http.post(format!("{base}/rest/oauth2/latest/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "id"),
                ("client_secret", "secret"),
                ("scope", scope),
            ])
    };
    let (status, refused) = call(grant("WRITE")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "invalid_scope");
    let (status, token) = call(grant("READ")).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["expires_in"], 60);
    let bearer = token["access_token"].as_str().expect("token").to_owned();
    let (status, _) = call(
        http.get(format!("{base}/rest/api/2/project/SEC"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a Data Center token works at the site"
    );
    let (status, body) = call(
        http.post(format!("{base}/rest/api/2/issue"))
            .bearer_auth(&bearer)
            .json(&json!({"fields": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "READ may not write");
    assert!(
        body["errorMessages"].is_array(),
        "Jira's error body: {body}"
    );
    let (status, _) = call(http.get(format!("{base}/_edge/tenant_info"))).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Data Center has no tenant info"
    );

    jira.admin(reqwest::Method::POST, "credentials/svc/revoke", None)
        .await;
    let (status, _) = call(
        http.get(format!("{base}/rest/api/2/project/SEC"))
            .bearer_auth(&bearer),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked client's token");
    let (status, refused) = call(grant("READ")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused["error"], "invalid_client");
}

#[tokio::test]
async fn a_scoped_api_token_is_refused_at_the_site_and_expires() {
    let jira = emulator(Flavor::Cloud).await;
    let base = jira.url.as_str();
    jira.admin(
        reqwest::Method::POST,
        "credentials",
        Some(
            json!({"name": "scoped", "type": "scopedToken", "email": EMAIL,
                        "token": "tok", "scopes": ["read:jira-user"]}),
        ),
    )
    .await;
    let listed = jira.admin(reqwest::Method::GET, "credentials", None).await;
    let cloud_id = listed["cloudId"].as_str().expect("cloud id");
    let http = reqwest::Client::new();
    let myself = |url: String| http.get(url).basic_auth(EMAIL, Some("tok"));
    let (status, _) = call(myself(format!("{base}/rest/api/3/myself"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let through = format!("{base}/ex/jira/{cloud_id}/rest/api/3/myself");
    let (status, me) = call(myself(through.clone())).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["emailAddress"], EMAIL);
    let logged = jira
        .admin(reqwest::Method::GET, "requests?since=0", None)
        .await;
    let gateway_marks: Vec<&Value> = logged["requests"]
        .as_array()
        .expect("log")
        .iter()
        .map(|r| &r["gateway"])
        .collect();
    assert_eq!(gateway_marks, vec![&Value::Null, &Value::Bool(true)]);
    jira.admin(reqwest::Method::POST, "credentials/scoped/expire", None)
        .await;
    let (status, _) = call(myself(through)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
