//! Admin webhooks delivered by the emulator to a real receiver over HTTP, and Cloud rate limits.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use jira_emulator::webhooks::RetryPolicy;
use jira_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Default)]
struct Received {
    deliveries: Vec<(HeaderMap, Bytes)>,
    failures_left: u32,
}

type Receiver = Arc<Mutex<Received>>;

async fn receive(State(received): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut received = received.lock().unwrap();
    received.deliveries.push((headers, body));
    if received.failures_left > 0 {
        received.failures_left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn receiver(failures: u32) -> (String, Receiver) {
    let received: Receiver = Arc::new(Mutex::new(Received {
        deliveries: Vec::new(),
        failures_left: failures,
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn emulator(rate_limits: bool) -> EmulatorHandle {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let webhook_retry = RetryPolicy {
        max_retries: 3,
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
    };
    Emulator::start(
        listen,
        EmulatorConfig {
            rate_limits,
            webhook_retry,
            ..EmulatorConfig::default()
        },
    )
    .await
    .unwrap()
}

/// Sends `method {base}{path}` with a JSON body, as the seeded admin.
async fn call(http: &Client, base: &str, method: Method, path: &str, body: Value) -> Response {
    http.request(method, format!("{base}{path}"))
        .basic_auth("admin@example.com", Some("emulator-token"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn wait_for(received: &Receiver, count: usize) -> Vec<(HeaderMap, Value)> {
    for _ in 0..100 {
        {
            let received = received.lock().unwrap();
            if received.deliveries.len() >= count {
                return received
                    .deliveries
                    .iter()
                    .map(|(h, b)| (h.clone(), serde_json::from_slice(b).unwrap()))
                    .collect();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {count} deliveries arrived");
}

#[tokio::test]
async fn issue_events_reach_matching_webhooks_signed_identified_and_retried() {
    let (url, received) = receiver(1).await;
    let jira = emulator(false).await;
    let http = Client::new();
    let base = jira.base_url().to_owned();
    let registration = json!({
        "name": "operator", "url": url, "secret": "s3cret",
        "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
        "filters": {"issue-related-events-section": "project = SEC"},
    });
    let response = call(
        &http,
        &base,
        Method::POST,
        "/rest/webhooks/1.0/webhook",
        registration,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let ops = json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "filtered out"}});
    call(&http, &base, Method::POST, "/rest/api/3/issue", ops).await;
    let sec = json!({"fields": {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "watched"}});
    let created: Value = call(&http, &base, Method::POST, "/rest/api/3/issue", sec)
        .await
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap();

    // The first attempt fails with 500, so the same delivery comes again as retry 1.
    let deliveries = wait_for(&received, 2).await;
    let (first_headers, first) = &deliveries[0];
    let (retry_headers, retried) = &deliveries[1];
    assert_eq!(first["webhookEvent"], "jira:issue_created");
    assert_eq!(first["issue"]["key"], key);
    assert_eq!(first, retried);
    assert_eq!(
        first_headers["x-atlassian-webhook-identifier"],
        retry_headers["x-atlassian-webhook-identifier"]
    );
    assert!(first_headers.get("x-atlassian-webhook-retry").is_none());
    assert_eq!(retry_headers["x-atlassian-webhook-retry"], "1");
    let raw = received.lock().unwrap().deliveries[1].1.clone();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&raw);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        retry_headers["x-hub-signature"],
        format!("sha256={expected}").as_str()
    );

    let transition = json!({"transition": {"id": "11"}});
    let response = call(
        &http,
        &base,
        Method::POST,
        &format!("/rest/api/3/issue/{key}/transitions"),
        transition,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let deliveries = wait_for(&received, 3).await;
    let (_, updated) = &deliveries[2];
    assert_eq!(updated["webhookEvent"], "jira:issue_updated");
    assert_eq!(updated["issue_event_type_name"], "issue_generic");
    let item = &updated["changelog"]["items"][0];
    assert_eq!(
        (item["field"].as_str(), item["toString"].as_str()),
        (Some("status"), Some("In Progress"))
    );
    assert_eq!(
        updated["issue"]["fields"]["status"]["statusCategory"]["key"],
        "indeterminate"
    );

    let report: Value = http
        .get(format!("{base}/_emulator/webhooks/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        report["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["delivered"] == true)
    );
}

#[tokio::test]
async fn cloud_rate_limits_refuse_a_burst_of_writes_to_one_issue_with_jiras_headers() {
    let jira = emulator(true).await;
    let http = Client::new();
    let base = jira.base_url().to_owned();
    let ok = http
        .get(format!("{base}/rest/api/3/myself"))
        .basic_auth("admin@example.com", Some("emulator-token"))
        .send()
        .await
        .unwrap();
    assert!(ok.headers().contains_key("x-ratelimit-remaining"));
    let mut refused = None;
    for i in 0..25 {
        let edit = json!({"fields": {"summary": format!("edit {i}")}});
        let response = call(&http, &base, Method::PUT, "/rest/api/3/issue/SEC-1", edit).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((i, response));
            break;
        }
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let (attempt, response) = refused.expect("the per-issue write limit applies");
    assert_eq!(attempt, 20, "20 writes per 2 s pass");
    assert_eq!(
        response.headers()["ratelimit-reason"],
        "jira-per-issue-on-write"
    );
    assert!(response.headers().contains_key("retry-after"));
    let toggle = http
        .patch(format!("{base}/_emulator/config"))
        .json(&json!({"rateLimits": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(toggle.status(), StatusCode::OK);
    let edit = json!({"fields": {"summary": "after turning limits off"}});
    let response = call(&http, &base, Method::PUT, "/rest/api/3/issue/SEC-1", edit).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
