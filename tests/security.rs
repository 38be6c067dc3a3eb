//! Credentials never leak: the operator binary runs a sync at debug log level, then its log, the
//! namespace's Events, every status and `/metrics` are searched for the API token and its Basic-auth
//! encoding. And no namespace reaches another's: a sync or connection naming a connection or Secret
//! that exists only in another namespace gets nothing from it.

mod support;

use std::time::Duration;

use base64::Engine;
use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use jira_active_sync::jira::Flavor;
use support::Mode;
use support::emulator::{EMAIL, Emulator};
use support::operator::Operator;
use support::site::{condition_of, recorded_keys};
use support::{Site, TestNamespace, eventually};

/// Every object of kind `K` in `ns`, as JSON text.
async fn listed<K>(ns: &TestNamespace) -> String
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let objects = ns
        .api::<K>()
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", K::kind(&())));
    serde_json::to_string(&objects.items).expect("json")
}

#[tokio::test]
async fn the_token_appears_in_no_log_event_status_or_metric() {
    let token = "leak-canary-9d1c2f7e4b";
    let site = Site::new("security", token, json!({})).await;
    let names = site.tasks(5, "sec").await;
    site.individual_sync("s", "sec").await;
    let mut options = site.operator_options("10s");
    options.rust_log = "debug";
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
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
    let events = listed::<Event>(&site.ns).await;
    let statuses = [
        listed::<JiraConnection>(&site.ns).await,
        listed::<JiraActiveSync>(&site.ns).await,
        listed::<ComplianceTask>(&site.ns).await,
    ]
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

/// Namespace B holds a working Secret and connection (to its own emulator); namespace A names them
/// from a sync and from a connection of its own (whose emulator takes B's token). The operator
/// watches both, yet A gets "not found in A" conditions, no request reaches A's emulator and no
/// ticket is made anywhere.
#[tokio::test]
async fn a_namespace_cannot_use_another_namespaces_connection_or_secret() {
    let token_b = "namespace-b-token-7f3a";
    let b = Site::new("xns-b", token_b, json!({})).await;
    let a = TestNamespace::new("xns-a").await;
    // Had A's connection read B's Secret, its requests would succeed here.
    let jira_a = Emulator::start(Mode::Process, Flavor::Cloud, false).await;
    jira_a.set_admin_token(token_b).await;
    a.create::<JiraConnection>(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": "own"},
        "spec": {"url": jira_a.url, "auth": {"type": "Basic", "secretRef": {"name": "jira-credentials"}},
                 "webhook": {"secretRef": {"name": "jira-credentials", "key": "webhook"}}}
    }))
    .await;
    for (sync, connection) in [("borrows-b", "acme"), ("uses-own", "own")] {
        a.create::<JiraActiveSync>(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
            "metadata": {"name": sync},
            "spec": {"connectionRef": {"name": connection}, "scope": {"checks": [sync]},
                     "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s"}
        }))
        .await;
        a.create::<ComplianceTask>(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
            "metadata": {"name": format!("{sync}-task")},
            "spec": {"check": sync, "title": "Fix it", "instructions": "Do it", "howToFix": "Like so",
                     "severity": "High"}
        }))
        .await;
    }
    let mut options = b.operator_options("10s");
    options.also_watch = vec![a.name.clone()];
    let operator = Operator::start(Mode::Process, &options, b.log_path()).await;

    let patience = Duration::from_secs(60);
    eventually("B's own connection is ready", patience, || async {
        let (status, ..) = condition_of(&b.ns.api::<JiraConnection>(), "acme", "Ready").await?;
        (status == "True").then_some(())
    })
    .await;
    let (_, reason, message) = eventually("A's connection is refused", patience, || async {
        condition_of(&a.api::<JiraConnection>(), "own", "Authenticated")
            .await
            .filter(|(status, ..)| status == "False")
    })
    .await;
    assert_eq!(reason, "CredentialsInvalid", "{message}");
    assert!(
        message.contains(&format!("Secret {}/jira-credentials not found", a.name)),
        "{message}"
    );
    let syncs = a.api::<JiraActiveSync>();
    let sync_condition = |sync: &'static str| {
        let syncs = syncs.clone();
        async move {
            let (status, reason, message) = condition_of(&syncs, sync, "JiraConnected").await?;
            (status == "False").then_some((reason, message))
        }
    };
    let (reason, message) = eventually("the borrowing sync is blocked", patience, || {
        sync_condition("borrows-b")
    })
    .await;
    assert_eq!(reason, "ConnectionNotFound", "{message}");
    assert!(
        message.contains(&format!("JiraConnection {}/acme does not exist", a.name)),
        "{message}"
    );
    let (reason, message) = eventually("the sync of A's connection is blocked", patience, || {
        sync_condition("uses-own")
    })
    .await;
    assert_eq!(reason, "ConnectionNotReady", "{message}");

    tokio::time::sleep(Duration::from_secs(3)).await;
    let reached_a = jira_a.requests(0).await;
    let writes_to_b: Vec<Value> = b
        .jira
        .requests(0)
        .await
        .into_iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap_or("").contains("search"))
        .collect();
    let recorded = recorded_keys(&a).await;
    println!(
        "security: cross-namespace refs=2 requests_to_a={} writes_to_b={} tickets_recorded={}",
        reached_a.len(),
        writes_to_b.len(),
        recorded.len()
    );
    assert!(reached_a.is_empty(), "A's Jira was called: {reached_a:#?}");
    assert!(
        writes_to_b.is_empty(),
        "B's Jira was written: {writes_to_b:#?}"
    );
    assert!(recorded.is_empty(), "tickets recorded in A: {recorded:?}");
    operator.kill().await;
}

/// No reference can name a namespace: the CRDs served by the API server declare only `name` (and
/// `key`) on `connectionRef` and the Secret refs and keep no unknown fields, so a strict apply of a
/// `namespace` is refused and a lax create stores the reference without it.
#[tokio::test]
async fn references_cannot_name_another_namespace() {
    let ns = TestNamespace::new("xns-refs").await;
    let crds = Api::<CustomResourceDefinition>::all(ns.client.clone());
    let refs = [
        ("jiraactivesyncs.activesync.dev", "/spec/connectionRef"),
        ("jiraconnections.activesync.dev", "/spec/auth/secretRef"),
        ("jiraconnections.activesync.dev", "/spec/webhook/secretRef"),
    ];
    for (crd, at) in refs {
        let served = serde_json::to_value(crds.get(crd).await.expect("CRD")).expect("json");
        let schema_path = at
            .split('/')
            .skip(1)
            .map(|p| format!("/properties/{p}"))
            .collect::<String>();
        let schema = served
            .pointer(&format!(
                "/spec/versions/0/schema/openAPIV3Schema{schema_path}"
            ))
            .unwrap_or_else(|| panic!("{crd} has no {at}"));
        let mut fields: Vec<&String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
        fields.sort();
        assert!(
            fields == ["key", "name"] || fields == ["name"],
            "{crd} {at}: {fields:?}"
        );
        assert!(
            schema.get("x-kubernetes-preserve-unknown-fields").is_none(),
            "{crd} {at} keeps unknown fields"
        );
    }
    let sync = json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": "elsewhere"},
        "spec": {"connectionRef": {"name": "acme", "namespace": "kube-system"},
                 "jira": {"project": "SEC"}}
    });
    let api = Api::<DynamicObject>::namespaced_with(
        ns.client.clone(),
        &ns.name,
        &ApiResource::erase::<JiraActiveSync>(&()),
    );
    let strict = api
        .patch(
            "elsewhere",
            &PatchParams::apply("jas-tests").validation_strict(),
            &Patch::Apply(&sync),
        )
        .await
        .expect_err("a strict apply naming a namespace is refused");
    assert!(
        strict.to_string().contains("spec.connectionRef.namespace"),
        "{strict}"
    );
    let object: DynamicObject = serde_json::from_value(sync).expect("object");
    let stored = api
        .create(&PostParams::default(), &object)
        .await
        .expect("a lax create prunes the unknown field");
    assert_eq!(
        stored.data["spec"]["connectionRef"],
        json!({"name": "acme"}),
        "the stored reference names no namespace"
    );
}
