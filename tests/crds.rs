//! The CRDs on a real API server: they install and become Established, the examples are
//! accepted, every invalid input is rejected with its message, the status subresource keeps spec
//! and status apart, and the printer columns render.

mod support;

use std::path::Path;

use jira_active_sync::api::{self, ComplianceTask, JiraActiveSync, JiraConnection};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Resource};
use serde::Deserialize;
use serde_json::{Value, json};
use support::TestNamespace;

/// Every document of `examples/`, as JSON, in file order.
fn examples() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            serde_yaml::Deserializer::from_str(&text)
                .map(|document| Value::deserialize(document).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The first example of `kind`.
fn example(kind: &str) -> Value {
    examples()
        .into_iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("examples/ has no {kind}"))
}

fn resource_of(kind: &str) -> ApiResource {
    match kind {
        "ComplianceTask" => ApiResource::erase::<ComplianceTask>(&()),
        "JiraActiveSync" => ApiResource::erase::<JiraActiveSync>(&()),
        "JiraConnection" => ApiResource::erase::<JiraConnection>(&()),
        "Secret" => ApiResource::erase::<Secret>(&()),
        other => panic!("no test resource for kind {other}"),
    }
}

fn dynamic_api(ns: &TestNamespace, kind: &str) -> Api<DynamicObject> {
    Api::namespaced_with(ns.client.clone(), &ns.name, &resource_of(kind))
}

/// Creates `object` (JSON of any kind above) in the namespace.
async fn create(ns: &TestNamespace, object: &Value) -> Result<DynamicObject, kube::Error> {
    let kind = object["kind"].as_str().unwrap();
    let object: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    dynamic_api(ns, kind)
        .create(&PostParams::default(), &object)
        .await
}

#[tokio::test]
async fn every_crd_is_established_under_its_names() {
    let ns = TestNamespace::new("crds-established").await;
    let crds = Api::<CustomResourceDefinition>::all(ns.client.clone());
    for generated in api::crds() {
        let name = generated.metadata.name.clone().unwrap();
        let served = crds.get(&name).await.unwrap();
        let conditions = served.status.and_then(|s| s.conditions).unwrap_or_default();
        for wanted in ["Established", "NamesAccepted"] {
            assert!(
                conditions
                    .iter()
                    .any(|c| c.type_ == wanted && c.status == "True"),
                "{name}: condition {wanted} is not True: {conditions:?}"
            );
        }
        assert_eq!(
            served.spec.names.short_names, generated.spec.names.short_names,
            "{name}"
        );
        assert_eq!(
            served.spec.names.categories,
            Some(vec!["activesync".to_owned()]),
            "{name}"
        );
        let version = &served.spec.versions[0];
        assert!(version.served && version.storage, "{name}");
        assert!(
            version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some()),
            "{name} has no status subresource"
        );
    }
}

#[tokio::test]
async fn every_example_is_accepted_and_defaulted() {
    let ns = TestNamespace::new("crds-examples").await;
    let documents = examples();
    assert!(!documents.is_empty());
    for document in &documents {
        if let Err(e) = create(&ns, document).await {
            panic!(
                "{} {} rejected: {e}",
                document["kind"], document["metadata"]["name"]
            );
        }
    }
    // Each kind reads back through its typed API, with the schema's defaults filled in.
    let tasks = ns
        .api::<ComplianceTask>()
        .list(&Default::default())
        .await
        .unwrap();
    let count = |kind: &str| documents.iter().filter(|d| d["kind"] == kind).count();
    assert_eq!(tasks.items.len(), count("ComplianceTask"));
    for document in documents.iter().filter(|d| d["kind"] == "ComplianceTask") {
        let task = tasks
            .items
            .iter()
            .find(|t| t.metadata.name.as_deref() == document["metadata"]["name"].as_str())
            .unwrap();
        if document["spec"].get("state").is_none() {
            assert_eq!(
                task.spec.state,
                api::TaskState::Open,
                "state defaults to Open"
            );
        }
    }
    let syncs = ns
        .api::<JiraActiveSync>()
        .list(&Default::default())
        .await
        .unwrap();
    assert_eq!(syncs.items.len(), count("JiraActiveSync"));
    let batch = syncs
        .items
        .iter()
        .find(|s| s.spec.mode == api::Mode::Batch)
        .unwrap();
    assert_eq!(
        batch.spec.scope,
        api::Scope::default(),
        "an absent scope defaults to every task"
    );
    let connections = ns
        .api::<JiraConnection>()
        .list(&Default::default())
        .await
        .unwrap();
    assert_eq!(connections.items.len(), count("JiraConnection"));
}

#[tokio::test]
async fn server_applies_the_schema_defaults() {
    let ns = TestNamespace::new("crds-defaults").await;
    let minimal_task = json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
        "metadata": {"name": "minimal"},
        "spec": {"check": "access-review", "title": "Review access"},
    });
    create(&ns, &minimal_task).await.unwrap();
    let task = ns.api::<ComplianceTask>().get("minimal").await.unwrap();
    assert_eq!(task.spec.state, api::TaskState::Open);

    let minimal_sync = json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": "minimal"},
        "spec": {"connectionRef": {"name": "acme-jira"}, "jira": {"project": "SEC"}},
    });
    create(&ns, &minimal_sync).await.unwrap();
    let raw = dynamic_api(&ns, "JiraActiveSync")
        .get("minimal")
        .await
        .unwrap();
    let spec = &raw.data["spec"];
    assert_eq!(spec["mode"], "Individual");
    assert_eq!(spec["pollInterval"], "60s");
    assert_eq!(spec["deletionPolicy"], "Retain");
    assert_eq!(spec["jiraCompletion"], "Reflect");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["jira"]["issueType"], "Task");
    assert_eq!(
        spec["closure"],
        json!({"when": "AllTasksCompleted", "comment": true, "reopen": true})
    );
}

/// One invalid input: the example of `kind` with the field at `pointer` set to `value` (or
/// removed, for `None`), and what the server must say about it.
struct Invalid {
    kind: &'static str,
    pointer: &'static str,
    value: Option<Value>,
    /// The field the server must name.
    field: &'static str,
    /// Text the server's message must contain.
    message: &'static str,
}

fn invalid(
    kind: &'static str,
    pointer: &'static str,
    value: Value,
    field: &'static str,
    message: &'static str,
) -> Invalid {
    Invalid {
        kind,
        pointer,
        value: Some(value),
        field,
        message,
    }
}

const NOT_SUPPORTED: &str = "Unsupported value";
const DNS_LABEL: &str = "must be a DNS label";
const HTTPS: &str = "url must use https (plain http is allowed only for loopback hosts";
const POLL: &str = "pollInterval must be a duration between 10s and 1h";
const PROJECT_KEY: &str = "project must be a Jira project key";
const ISSUE_KEY: &str = "epic must be a Jira issue key such as SEC-100";

fn invalid_inputs() -> Vec<Invalid> {
    const TASK: &str = "ComplianceTask";
    const CONNECTION: &str = "JiraConnection";
    const SYNC: &str = "JiraActiveSync";
    vec![
        // ComplianceTask
        invalid(
            TASK,
            "/spec/severity",
            json!("Urgent"),
            "spec.severity",
            NOT_SUPPORTED,
        ),
        invalid(
            TASK,
            "/spec/state",
            json!("Done"),
            "spec.state",
            NOT_SUPPORTED,
        ),
        invalid(
            TASK,
            "/spec/check",
            json!("-vulns"),
            "spec.check",
            "check must start with a letter or digit",
        ),
        invalid(
            TASK,
            "/spec/check",
            json!("vulnerability management"),
            "spec.check",
            "check must start with a letter or digit",
        ),
        invalid(
            TASK,
            "/spec/check",
            json!(""),
            "spec.check",
            "should be at least 1 chars long",
        ),
        invalid(
            TASK,
            "/spec/title",
            json!("   "),
            "spec.title",
            "title cannot be empty",
        ),
        invalid(
            TASK,
            "/spec/title",
            json!("x".repeat(256)),
            "spec.title",
            "may not be more than 255",
        ),
        invalid(
            TASK,
            "/spec/assignee",
            json!("alice"),
            "spec.assignee",
            "assignee must be an email address",
        ),
        invalid(
            TASK,
            "/spec/assignee",
            json!("alice smith@example.com"),
            "spec.assignee",
            "assignee must be an email address",
        ),
        invalid(
            TASK,
            "/spec/dueDate",
            json!("31/12/2026"),
            "spec.dueDate",
            "must be of type date",
        ),
        invalid(
            TASK,
            "/spec/dueDate",
            json!("2026-02-30"),
            "spec.dueDate",
            "must be of type date",
        ),
        invalid(
            TASK,
            "/spec/dueDate",
            json!("2026-12-31T00:00:00Z"),
            "spec.dueDate",
            "must be of type date",
        ),
        Invalid {
            kind: TASK,
            pointer: "/spec/check",
            value: None,
            field: "spec.check",
            message: "Required value",
        },
        // JiraConnection
        invalid(
            CONNECTION,
            "/spec/url",
            json!("http://acme.atlassian.net"),
            "spec.url",
            HTTPS,
        ),
        invalid(
            CONNECTION,
            "/spec/url",
            json!("http://10.0.0.1:8080"),
            "spec.url",
            HTTPS,
        ),
        invalid(
            CONNECTION,
            "/spec/url",
            json!("ftp://jira.example.com"),
            "spec.url",
            HTTPS,
        ),
        invalid(
            CONNECTION,
            "/spec/url",
            json!("acme.atlassian.net"),
            "spec.url",
            "url must be an absolute URL",
        ),
        invalid(
            CONNECTION,
            "/spec/flavor",
            json!("Server"),
            "spec.flavor",
            NOT_SUPPORTED,
        ),
        invalid(
            CONNECTION,
            "/spec/auth/type",
            json!("OAuth"),
            "spec.auth.type",
            NOT_SUPPORTED,
        ),
        invalid(
            CONNECTION,
            "/spec/auth/secretRef/name",
            json!("Jira_Credentials"),
            "spec.auth.secretRef.name",
            DNS_LABEL,
        ),
        invalid(
            CONNECTION,
            "/spec/webhook/secretRef/name",
            json!("jira-webhook-"),
            "spec.webhook.secretRef.name",
            DNS_LABEL,
        ),
        invalid(
            CONNECTION,
            "/spec/allowedProjects",
            json!(["SEC", "ops"]),
            "spec.allowedProjects",
            "allowedProjects must hold Jira project keys",
        ),
        invalid(
            CONNECTION,
            "/spec/allowedProjects",
            json!(["SEC", "SEC"]),
            "spec.allowedProjects[1]",
            "Duplicate value",
        ),
        invalid(
            CONNECTION,
            "/spec/rateLimit/requestsPerSecond",
            json!(0),
            "spec.rateLimit.requestsPerSecond",
            "should be greater than or equal to 1",
        ),
        // JiraActiveSync
        invalid(
            SYNC,
            "/spec/mode",
            json!("Single"),
            "spec.mode",
            NOT_SUPPORTED,
        ),
        invalid(
            SYNC,
            "/spec/closure/when",
            json!("Sometimes"),
            "spec.closure.when",
            NOT_SUPPORTED,
        ),
        invalid(
            SYNC,
            "/spec/jiraCompletion",
            json!("Ignore"),
            "spec.jiraCompletion",
            NOT_SUPPORTED,
        ),
        invalid(
            SYNC,
            "/spec/deletionPolicy",
            json!("Orphan"),
            "spec.deletionPolicy",
            NOT_SUPPORTED,
        ),
        invalid(
            SYNC,
            "/spec/jira/project",
            json!("sec"),
            "spec.jira.project",
            PROJECT_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/project",
            json!("S"),
            "spec.jira.project",
            PROJECT_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/project",
            json!("SEC-1"),
            "spec.jira.project",
            PROJECT_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/epic",
            json!("SEC"),
            "spec.jira.epic",
            ISSUE_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/epic",
            json!("SEC-0"),
            "spec.jira.epic",
            ISSUE_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/epic",
            json!("sec-100"),
            "spec.jira.epic",
            ISSUE_KEY,
        ),
        invalid(
            SYNC,
            "/spec/jira/labels",
            json!(["compliance", "soc 2"]),
            "spec.jira.labels[1]",
            "a Jira label cannot contain spaces",
        ),
        invalid(
            SYNC,
            "/spec/jira/labels",
            json!(["tab\there"]),
            "spec.jira.labels[0]",
            "a Jira label cannot contain spaces",
        ),
        invalid(
            SYNC,
            "/spec/jira/labels",
            json!([""]),
            "spec.jira.labels[0]",
            "a Jira label cannot be empty",
        ),
        invalid(
            SYNC,
            "/spec/jira/labels",
            json!(["l".repeat(256)]),
            "spec.jira.labels[0]",
            "may not be more than 255",
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("5s"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("9999ms"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("61m"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("2h"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("soon"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/pollInterval",
            json!("60"),
            "spec.pollInterval",
            POLL,
        ),
        invalid(
            SYNC,
            "/spec/scope/checks",
            json!(["vulnerability-management", "vulnerability-management"]),
            "spec.scope.checks[1]",
            "Duplicate value",
        ),
        invalid(
            SYNC,
            "/spec/scope/checks",
            json!(["vulnerability management"]),
            "spec.scope.checks",
            "scope.checks must hold check names",
        ),
        invalid(
            SYNC,
            "/spec/scope/checks",
            json!([""]),
            "spec.scope.checks[0]",
            "should be at least 1 chars long",
        ),
        invalid(
            SYNC,
            "/spec/connectionRef/name",
            json!("Acme-Jira"),
            "spec.connectionRef.name",
            DNS_LABEL,
        ),
        invalid(
            SYNC,
            "/spec/connectionRef/name",
            json!(""),
            "spec.connectionRef.name",
            "should be at least 1 chars long",
        ),
        Invalid {
            kind: SYNC,
            pointer: "/spec/jira/project",
            value: None,
            field: "spec.jira.project",
            message: "Required value",
        },
    ]
}

/// Sets (or removes) the field at a JSON pointer, creating parent objects as needed.
fn set_field(object: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut target = &mut *object;
    for part in parent.split('/').skip(1) {
        target = target
            .as_object_mut()
            .unwrap()
            .entry(part)
            .or_insert_with(|| json!({}));
    }
    let target = target.as_object_mut().unwrap();
    match value {
        Some(value) => target.insert(key.to_owned(), value),
        None => target.remove(key),
    };
}

#[tokio::test]
async fn every_invalid_input_is_rejected_with_its_message() {
    let ns = TestNamespace::new("crds-invalid").await;
    let mut failures = Vec::new();
    for (row, case) in invalid_inputs().into_iter().enumerate() {
        let mut object = example(case.kind);
        object["metadata"] = json!({"name": format!("invalid-{row}")});
        let shown = format!(
            "row {row}: {} {} = {:?}",
            case.kind, case.pointer, case.value
        );
        set_field(&mut object, case.pointer, case.value);
        match create(&ns, &object).await {
            Err(kube::Error::Api(status)) if status.code == 422 => {
                let wanted = format!("{}: ", case.field);
                if !(status.message.contains(&wanted) && status.message.contains(case.message)) {
                    failures.push(format!(
                        "{shown}: wanted `{}` … `{}`, got: {}",
                        case.field, case.message, status.message
                    ));
                }
            }
            Err(e) => failures.push(format!("{shown}: wanted 422, got {e}")),
            Ok(_) => failures.push(format!("{shown}: accepted")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the invalid inputs were not rejected as expected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn urls_of_loopback_hosts_may_use_plain_http() {
    let ns = TestNamespace::new("crds-loopback").await;
    let urls = [
        "https://acme.atlassian.net",
        "https://jira.example.com:8443/jira",
        "http://localhost:18080",
        "http://127.0.0.1:18080",
        "http://127.0.0.2",
        "http://[::1]:18080",
    ];
    for (i, url) in urls.iter().enumerate() {
        let mut connection = example("JiraConnection");
        connection["metadata"] = json!({"name": format!("url-{i}")});
        connection["spec"]["url"] = json!(url);
        if let Err(e) = create(&ns, &connection).await {
            panic!("{url} rejected: {e}");
        }
    }
}

#[tokio::test]
async fn connection_ref_cannot_change_but_the_rest_of_a_sync_can() {
    let ns = TestNamespace::new("crds-immutable").await;
    create(&ns, &example("JiraActiveSync")).await.unwrap();
    let name = example("JiraActiveSync")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let syncs = ns.api::<JiraActiveSync>();
    let merge = |patch: Value| Patch::Merge(patch);

    let changed = syncs
        .patch(
            &name,
            &PatchParams::default(),
            &merge(json!({"spec": {"connectionRef": {"name": "other-jira"}}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&changed, kube::Error::Api(s) if s.code == 422 && s.message.contains("connectionRef is immutable")),
        "{changed:?}"
    );

    let updated = syncs
        .patch(
            &name,
            &PatchParams::default(),
            &merge(json!({"spec": {"pollInterval": "5m", "connectionRef": {"name": "acme-jira"}}})),
        )
        .await
        .unwrap();
    assert_eq!(updated.spec.poll_interval, "5m");
    assert_eq!(updated.spec.connection_ref.name, "acme-jira");
}

#[tokio::test]
async fn status_subresource_keeps_spec_and_status_apart() {
    let ns = TestNamespace::new("crds-status").await;
    let tasks = ns.api::<ComplianceTask>();
    let jira_status = json!({"jira": {"sync": "vuln-sync", "key": "SEC-42", "status": "In Progress", "mode": "Individual"}});

    // Status sent with a create is dropped.
    let mut task = example("ComplianceTask");
    task["status"] = jira_status.clone();
    create(&ns, &task).await.unwrap();
    let name = task["metadata"]["name"].as_str().unwrap();
    let created = tasks.get(name).await.unwrap();
    assert_eq!(created.status, None, "status on create must be ignored");
    let generation = created.meta().generation;

    // A status write changes status only, whatever spec it carries.
    let status_write = json!({"spec": {"title": "changed through status"}, "status": jira_status});
    let after_status = tasks
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status_write))
        .await
        .unwrap();
    assert_eq!(
        after_status.spec.title, created.spec.title,
        "spec changed through the status subresource"
    );
    assert_eq!(
        after_status
            .status
            .as_ref()
            .unwrap()
            .jira
            .as_ref()
            .unwrap()
            .key
            .as_deref(),
        Some("SEC-42")
    );
    assert_eq!(
        after_status.meta().generation,
        generation,
        "a status write bumped the generation"
    );

    // A spec write changes spec only, whatever status it carries.
    let spec_write = json!({"spec": {"state": "Completed"}, "status": {"jira": {"sync": "other", "mode": "Batch"}}});
    let after_spec = tasks
        .patch(name, &PatchParams::default(), &Patch::Merge(&spec_write))
        .await
        .unwrap();
    assert_eq!(after_spec.spec.state, api::TaskState::Completed);
    assert_eq!(
        after_spec.status, after_status.status,
        "status changed through the main resource"
    );
    assert!(
        after_spec.meta().generation > generation,
        "a spec write must bump the generation"
    );
}

/// Lists `plural` in the namespace as a server-side Table, as `kubectl get` does.
async fn table(ns: &TestNamespace, plural: &str) -> Value {
    let request = http::Request::get(format!(
        "/apis/activesync.dev/v1alpha1/namespaces/{}/{plural}",
        ns.name
    ))
    .header(
        http::header::ACCEPT,
        "application/json;as=Table;v=v1;g=meta.k8s.io",
    )
    .body(Vec::new())
    .unwrap();
    ns.client.request::<Value>(request).await.unwrap()
}

/// The cell of `column` in the row of object `name`.
fn cell<'t>(table: &'t Value, name: &str, column: &str) -> &'t Value {
    let columns = table["columnDefinitions"].as_array().unwrap();
    let index = columns
        .iter()
        .position(|c| c["name"] == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][0] == name)
        .unwrap_or_else(|| panic!("no row for {name} in {table}"));
    &row["cells"][index]
}

#[tokio::test]
async fn printer_columns_render() {
    let ns = TestNamespace::new("crds-columns").await;
    for kind in ["JiraConnection", "JiraActiveSync", "ComplianceTask"] {
        create(&ns, &example(kind)).await.unwrap();
    }
    let task = example("ComplianceTask");
    let task_name = task["metadata"]["name"].as_str().unwrap();
    ns.api::<ComplianceTask>()
        .patch_status(
            task_name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"jira": {"sync": "vuln-sync", "key": "SEC-42", "status": "In Progress", "mode": "Individual"}}})),
        )
        .await
        .unwrap();

    for crd in api::crds() {
        let table = table(&ns, &crd.spec.names.plural).await;
        let columns: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let mut wanted = vec!["Name"];
        wanted.extend(
            crd.spec.versions[0]
                .additional_printer_columns
                .iter()
                .flatten()
                .map(|c| c.name.as_str()),
        );
        assert_eq!(columns, wanted, "{}", crd.spec.names.kind);
    }

    let tasks = table(&ns, "compliancetasks").await;
    assert_eq!(cell(&tasks, task_name, "Check"), &task["spec"]["check"]);
    assert_eq!(
        cell(&tasks, task_name, "Assignee"),
        &task["spec"]["assignee"]
    );
    assert_eq!(cell(&tasks, task_name, "State"), "Open");
    assert_eq!(cell(&tasks, task_name, "Jira"), "SEC-42");
    assert_eq!(cell(&tasks, task_name, "Jira Status"), "In Progress");

    let sync = example("JiraActiveSync");
    let syncs = table(&ns, "jiraactivesyncs").await;
    let sync_name = sync["metadata"]["name"].as_str().unwrap();
    assert_eq!(cell(&syncs, sync_name, "Mode"), &sync["spec"]["mode"]);
    assert_eq!(
        cell(&syncs, sync_name, "Project"),
        &sync["spec"]["jira"]["project"]
    );

    let connection = example("JiraConnection");
    let connections = table(&ns, "jiraconnections").await;
    let connection_name = connection["metadata"]["name"].as_str().unwrap();
    assert_eq!(
        cell(&connections, connection_name, "URL"),
        &connection["spec"]["url"]
    );
    assert_eq!(
        cell(&connections, connection_name, "Flavor"),
        &connection["spec"]["flavor"]
    );
}
