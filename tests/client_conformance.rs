//! The operator's Jira client, driven through every operation it has against the emulator on both
//! flavors, sends only requests Atlassian's OpenAPI documents describe: each request the emulator
//! logged is checked against its operation (which must exist in the document), its documented query
//! parameters and its request schema.

mod support;

use jira_active_sync::jira::{
    ClientConfig, Credentials, Description, Flavor, IssueUpdate, JiraClient, NewIssue,
    StatusCategory, TaskSection, TransitionTarget,
};
use serde_json::json;
use support::Mode;
use support::conformance::request_problems;
use support::emulator::{EMAIL, Emulator, SEED_TOKEN};
use support::openapi::document;

/// An in-process emulator of `flavor` and a client of it with its own default settings (Basic
/// authentication as the seeded admin on both flavors).
async fn start(flavor: Flavor) -> (Emulator, JiraClient) {
    let emulator = Emulator::start(Mode::InProcess, flavor, false).await;
    let credentials = Credentials::Basic {
        email: EMAIL.to_owned(),
        api_token: SEED_TOKEN.to_owned(),
    };
    let client = JiraClient::new(ClientConfig::new(&emulator.url, flavor, credentials)).unwrap();
    (emulator, client)
}

fn description() -> Description {
    Description {
        intro: "Tasks synced by jira-active-sync.".to_owned(),
        tasks: vec![TaskSection {
            title: "Patch CVE-2026-1234 on payments-api".to_owned(),
            check: "vulnerability-management".to_owned(),
            severity: Some("High".to_owned()),
            due_date: None,
            namespace: "payments".to_owned(),
            name: "cve-2026-1234".to_owned(),
            state: "Open".to_owned(),
            instructions: "Upgrade libfoo to 1.2.4.".to_owned(),
            how_to_fix: "Bump the version in `Cargo.toml`, then *redeploy*.".to_owned(),
        }],
    }
}

fn new_issue(summary: &str, assignee: Option<String>) -> NewIssue {
    NewIssue {
        project: "SEC".to_owned(),
        issue_type: "Task".to_owned(),
        summary: summary.to_owned(),
        description: description(),
        labels: vec!["compliance".to_owned(), "jas-sync-vuln".to_owned()],
        priority: Some("High".to_owned()),
        due_date: Some("2026-12-31".parse().unwrap()),
        assignee,
        epic: Some("SEC-1".to_owned()),
        properties: vec![(
            "jas.meta".to_owned(),
            json!({"sync": "vuln-sync", "tasks": ["t1"]}),
        )],
    }
}

/// Drives every client operation once, asserting each succeeds.
async fn drive(client: &JiraClient) {
    client.myself().await.unwrap();
    client.server_info().await.unwrap();
    client.project("SEC").await.unwrap();
    assert!(!client.issue_types("SEC").await.unwrap().is_empty());
    client.epic_field().await.unwrap();
    assert!(!client.priorities().await.unwrap().is_empty());
    let alice = client.user_by_email("alice@example.com").await.unwrap();
    let assignee = alice.map(|user| user.account_id);
    assert!(assignee.is_some(), "alice is a seeded user");

    let created = client
        .create_issue(&new_issue("Single", assignee.clone()))
        .await
        .unwrap();
    let bulk = client
        .bulk_create(&[
            new_issue("Bulk one", None),
            new_issue("Bulk two", assignee.clone()),
        ])
        .await;
    assert!(bulk.iter().all(Result::is_ok), "{bulk:?}");

    let update = IssueUpdate {
        summary: Some("Single, renamed".to_owned()),
        description: Some(description()),
        labels: Some(vec!["compliance".to_owned(), "urgent".to_owned()]),
        priority: Some("Medium".to_owned()),
        due_date: Some(None),
        assignee: Some(None),
        epic: Some(None),
        issue_type: None,
    };
    client.edit_issue(&created.key, &update).await.unwrap();
    let issue = client.get_issue(&created.key).await.unwrap();
    assert_eq!(issue.summary, "Single, renamed");

    let found = client
        .search_with_properties("labels = compliance ORDER BY key", &["jas.meta"])
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    client
        .search("project = SEC AND statusCategory != Done")
        .await
        .unwrap();
    let keys: Vec<String> = found.iter().map(|i| i.key.clone()).collect();
    assert_eq!(client.bulk_fetch(&keys).await.unwrap().len(), 3);

    assert!(!client.transitions(&created.key).await.unwrap().is_empty());
    client
        .transition(
            &created.key,
            &TransitionTarget::Category(StatusCategory::Indeterminate),
            None,
            None,
        )
        .await
        .unwrap();
    client
        .transition(
            &created.key,
            &TransitionTarget::Category(StatusCategory::Done),
            Some("Done"),
            Some("Completed by jira-active-sync: all tasks are done."),
        )
        .await
        .unwrap();
    client
        .add_comment(&created.key, "Task *t1* completed.")
        .await
        .unwrap();
    client
        .set_property(&created.key, "jas.meta", &json!({"sync": "vuln-sync"}))
        .await
        .unwrap();
    assert!(
        client
            .get_property(&created.key, "jas.meta")
            .await
            .unwrap()
            .is_some()
    );
    client.delete_issue(&created.key).await.unwrap();
}

/// Checks every logged request against the document of the emulator's flavor; returns the
/// divergences, answers refused by the emulator included.
async fn check_logged_requests(emulator: &Emulator) -> Vec<String> {
    let spec = document(emulator.flavor().into());
    let requests = emulator.logged().await;
    assert!(
        requests.len() >= 20,
        "the client's requests were logged: {requests:?}"
    );
    let refused = requests
        .iter()
        .filter(|request| request.status >= 400)
        .map(|request| {
            format!(
                "{} {} was answered {}",
                request.method, request.path, request.status
            )
        });
    let failures = refused
        .chain(
            requests
                .iter()
                .flat_map(|request| request_problems(spec, request)),
        )
        .collect();
    // Creates, bulk create, edit, searches, transitions, comment and property all send bodies.
    let bodies_checked = requests
        .iter()
        .filter(|request| request.body.as_ref().is_some_and(|body| !body.is_null()))
        .count();
    assert!(
        bodies_checked >= 9,
        "only {bodies_checked} request bodies were checked"
    );
    failures
}

async fn conforms(flavor: Flavor) {
    let (emulator, client) = start(flavor).await;
    drive(&client).await;
    let failures = check_logged_requests(&emulator).await;
    assert!(
        failures.is_empty(),
        "{} requests of the {flavor:?} client diverge from the document:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn the_cloud_client_sends_only_documented_v3_requests() {
    conforms(Flavor::Cloud).await;
}

#[tokio::test]
async fn the_data_center_client_sends_only_documented_v2_requests() {
    conforms(Flavor::DataCenter).await;
}
