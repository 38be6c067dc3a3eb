//! Credentials never leak: the operator binary runs a sync at debug log level, then its log, the
//! namespace's Events, every status and `/metrics` are searched for the API token and its Basic-auth
//! encoding.

mod rig;
mod support;

use std::time::Duration;

use base64::Engine;
use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use k8s_openapi::api::core::v1::Event;
use kube::api::ListParams;
use serde_json::json;

use rig::{EMAIL, OperatorProcess, Site, eventually};

#[tokio::test]
async fn the_token_appears_in_no_log_event_status_or_metric() {
    let token = "leak-canary-9d1c2f7e4b";
    let site = Site::new("security", token, json!({})).await;
    let names = site.tasks(5, "sec").await;
    site.individual_sync("s", "sec").await;
    let mut options = site.operator_options("10s");
    options.rust_log = "debug";
    let operator = OperatorProcess::start(&options, site.log_path()).await;
    eventually(
        "every task has its ticket",
        Duration::from_secs(90),
        || async {
            let expected = names.iter().map(|n| (n.clone(), false)).collect();
            site.reckon(&expected).await.exact().then_some(())
        },
    )
    .await;
    site.set_state(&names[0], "Completed").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = operator.get("/metrics").await.expect("metrics");
    let log = std::fs::read_to_string(&operator.log).expect("operator log");
    let events = serde_json::to_string(
        &site
            .ns
            .api::<Event>()
            .list(&ListParams::default())
            .await
            .expect("events")
            .items,
    )
    .expect("json");
    let statuses = [
        serde_json::to_string(
            &site
                .ns
                .api::<JiraConnection>()
                .list(&ListParams::default())
                .await
                .expect("connections")
                .items,
        ),
        serde_json::to_string(
            &site
                .ns
                .api::<JiraActiveSync>()
                .list(&ListParams::default())
                .await
                .expect("syncs")
                .items,
        ),
        serde_json::to_string(
            &site
                .ns
                .api::<ComplianceTask>()
                .list(&ListParams::default())
                .await
                .expect("tasks")
                .items,
        ),
    ]
    .map(|s| s.expect("json"))
    .join("\n");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{token}"));
    let mut leaks = Vec::new();
    for (place, text) in [
        ("log", &log),
        ("events", &events),
        ("statuses", &statuses),
        ("metrics", &metrics),
    ] {
        for secret in [token, basic.as_str()] {
            if text.contains(secret) {
                leaks.push(format!("{place} contains {secret}"));
            }
        }
    }
    println!(
        "security: searched log={}B events={}B statuses={}B metrics={}B; leaks={}",
        log.len(),
        events.len(),
        statuses.len(),
        metrics.len(),
        leaks.len()
    );
    assert!(log.contains("DEBUG"), "the operator logged at debug level");
    assert!(events.contains("TicketCreated"), "Events were published");
    assert!(leaks.is_empty(), "{leaks:#?}");
    operator.kill().await;
}
