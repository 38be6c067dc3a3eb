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

const NOT_SUPPORTED: &str = "Unsupported value";
const REQUIRED: &str = "Required value";
const DUPLICATE: &str = "Duplicate value";
const TOO_SHORT: &str = "should be at least 1 chars long";
const TOO_LONG: &str = "may not be more than 255";
const NOT_A_DATE: &str = "must be of type date";
const CHECK: &str = "check must start with a letter or digit";
const EMAIL: &str = "assignee must be an email address";
const DNS_LABEL: &str = "must be a DNS label";
const HTTPS: &str = "url must use https (plain http is allowed only for loopback hosts";
const ABSOLUTE_URL: &str = "url must be an absolute URL";
const PROJECT_KEYS: &str = "allowedProjects must hold Jira project keys";
const PROJECT_KEY: &str = "project must be a Jira project key";
const ISSUE_KEY: &str = "epic must be a Jira issue key such as SEC-100";
const LABEL_SPACE: &str = "a Jira label cannot contain spaces";
const LABEL_EMPTY: &str = "a Jira label cannot be empty";
const POLL: &str = "pollInterval must be a duration between 10s and 1h";
const CHECKS: &str = "scope.checks must hold check names";

/// An invalid input: the field at a JSON pointer set to a value (`null` removes it), and text
/// the server's message must contain besides the field.
type Invalid = (&'static str, Value, &'static str);

/// Invalid inputs by kind, each put into the example of its kind.
#[rustfmt::skip] // a table: one row per line reads best
fn invalid_inputs() -> Vec<(&'static str, Vec<Invalid>)> {
    let long = "x".repeat(256);
    vec![
        ("ComplianceTask", vec![
            ("/spec/severity", json!("Urgent"), NOT_SUPPORTED),
            ("/spec/state", json!("Done"), NOT_SUPPORTED),
            ("/spec/check", json!("-vulns"), CHECK),
            ("/spec/check", json!("vulnerability management"), CHECK),
            ("/spec/check", json!(""), TOO_SHORT),
            ("/spec/check", json!(null), REQUIRED),
            ("/spec/title", json!("   "), "title cannot be empty"),
            ("/spec/title", json!(long), TOO_LONG),
            ("/spec/assignee", json!("alice"), EMAIL),
            ("/spec/assignee", json!("alice smith@example.com"), EMAIL),
            ("/spec/dueDate", json!("31/12/2026"), NOT_A_DATE),
            ("/spec/dueDate", json!("2026-02-30"), NOT_A_DATE),
            ("/spec/dueDate", json!("2026-12-31T00:00:00Z"), NOT_A_DATE),
        ]),
        ("JiraConnection", vec![
            ("/spec/url", json!("http://acme.atlassian.net"), HTTPS),
            ("/spec/url", json!("http://10.0.0.1:8080"), HTTPS),
            ("/spec/url", json!("http://127.0.0.1.example.com"), HTTPS),
            ("/spec/url", json!("http://localhost@evil.example.com"), HTTPS),
            ("/spec/url", json!("ftp://jira.example.com"), HTTPS),
            ("/spec/url", json!("acme.atlassian.net"), ABSOLUTE_URL),
            ("/spec/flavor", json!("Server"), NOT_SUPPORTED),
            ("/spec/auth/type", json!("OAuth"), NOT_SUPPORTED),
            ("/spec/auth/secretRef/name", json!("Jira_Credentials"), DNS_LABEL),
            ("/spec/webhook/secretRef/name", json!("jira-webhook-"), DNS_LABEL),
            ("/spec/allowedProjects", json!(["SEC", "ops"]), PROJECT_KEYS),
            ("/spec/allowedProjects", json!(["SEC", "SEC"]), DUPLICATE),
            ("/spec/rateLimit/requestsPerSecond", json!(0), "greater than or equal to 1"),
        ]),
        ("JiraActiveSync", vec![
            ("/spec/mode", json!("Single"), NOT_SUPPORTED),
            ("/spec/closure/when", json!("Sometimes"), NOT_SUPPORTED),
            ("/spec/jiraCompletion", json!("Ignore"), NOT_SUPPORTED),
            ("/spec/deletionPolicy", json!("Orphan"), NOT_SUPPORTED),
            ("/spec/jira/project", json!("sec"), PROJECT_KEY),
            ("/spec/jira/project", json!("S"), PROJECT_KEY),
            ("/spec/jira/project", json!("SEC-1"), PROJECT_KEY),
            ("/spec/jira/project", json!(null), REQUIRED),
            ("/spec/jira/epic", json!("SEC"), ISSUE_KEY),
            ("/spec/jira/epic", json!("SEC-0"), ISSUE_KEY),
            ("/spec/jira/epic", json!("sec-100"), ISSUE_KEY),
            ("/spec/jira/labels", json!(["compliance", "soc 2"]), LABEL_SPACE),
            ("/spec/jira/labels", json!(["tab\there"]), LABEL_SPACE),
            ("/spec/jira/labels", json!([""]), LABEL_EMPTY),
            ("/spec/jira/labels", json!([long]), TOO_LONG),
            ("/spec/pollInterval", json!("5s"), POLL),
            ("/spec/pollInterval", json!("9999ms"), POLL),
            ("/spec/pollInterval", json!("61m"), POLL),
            ("/spec/pollInterval", json!("2h"), POLL),
            ("/spec/pollInterval", json!("soon"), POLL),
            ("/spec/pollInterval", json!("60"), POLL),
            ("/spec/scope/checks", json!(["a-check", "a-check"]), DUPLICATE),
            ("/spec/scope/checks", json!(["vulnerability management"]), CHECKS),
            ("/spec/scope/checks", json!([""]), TOO_SHORT),
            ("/spec/connectionRef/name", json!("Acme-Jira"), DNS_LABEL),
            ("/spec/connectionRef/name", json!(""), TOO_SHORT),
        ]),
    ]
}

/// Sets the field at a JSON pointer, creating parent objects as needed.
fn set_field(object: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut target = &mut *object;
    for part in parent.split('/').skip(1) {
        target = target
            .as_object_mut()
            .unwrap()
            .entry(part)
            .or_insert_with(|| json!({}));
    }
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
}

#[tokio::test]
async fn every_invalid_input_is_rejected_with_its_message() {
    let ns = TestNamespace::new("crds-invalid").await;
    let mut failures = Vec::new();
    let mut row = 0;
    for (kind, cases) in invalid_inputs() {
        for (pointer, value, message) in cases {
            row += 1;
            let shown = format!("row {row}: {kind} {pointer} = {value}");
            // The server names the field by its path, e.g. spec.jira.labels[1].
            let field = pointer.trim_start_matches('/').replace('/', ".");
            let mut object = example(kind);
            object["metadata"] = json!({"name": format!("invalid-{row}")});
            set_field(&mut object, pointer, value);
            match create(&ns, &object).await {
                Err(kube::Error::Api(status)) if status.code == 422 => {
                    if !(status.message.contains(&field) && status.message.contains(message)) {
                        failures.push(format!(
                            "{shown}: wanted {field} … {message}, got: {}",
                            status.message
                        ));
                    }
                }
                Err(e) => failures.push(format!("{shown}: wanted 422, got {e}")),
                Ok(_) => failures.push(format!("{shown}: accepted")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} invalid inputs were not rejected as expected:\n{}",
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

    let changed = syncs
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"connectionRef": {"name": "other-jira"}}})),
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
            &Patch::Merge(
                json!({"spec": {"pollInterval": "5m", "connectionRef": {"name": "acme-jira"}}}),
            ),
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

#[tokio::test]
async fn unknown_fields_are_refused_when_asked_for_and_never_stored() {
    let ns = TestNamespace::new("crds-unknown-fields").await;
    let syncs = ns.api::<JiraActiveSync>();
    let sync = example("JiraActiveSync");
    let name = sync["metadata"]["name"].as_str().unwrap().to_owned();
    create(&ns, &sync).await.unwrap();
    let typo = json!({"spec": {"pollIntervall": "5m"}});

    // fieldValidation=Strict (kubectl's default): the typo is an error naming the field.
    let strict = PatchParams::default().validation_strict();
    let refused = syncs
        .patch(&name, &strict, &Patch::Merge(&typo))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 422 && s.message.contains(r#"unknown field "spec.pollIntervall""#)),
        "{refused:?}"
    );

    // Server-side apply (GitOps tools) refuses fields the schema does not declare.
    let mut applied = sync.clone();
    applied["spec"]["pollIntervall"] = json!("5m");
    let refused = syncs
        .patch(
            &name,
            &PatchParams::apply("gitops").force(),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.message.contains(".spec.pollIntervall: field not declared in schema")),
        "{refused:?}"
    );

    // Otherwise the server prunes the field: it is never stored.
    let patched = syncs
        .patch(&name, &PatchParams::default(), &Patch::Merge(&typo))
        .await
        .unwrap();
    assert_eq!(patched.spec.poll_interval, "60s");
    let stored = dynamic_api(&ns, "JiraActiveSync").get(&name).await.unwrap();
    assert!(
        stored.data["spec"].get("pollIntervall").is_none(),
        "{}",
        stored.data
    );
}

#[tokio::test]
async fn server_side_apply_merges_set_lists_of_two_managers() {
    let ns = TestNamespace::new("crds-apply-sets").await;
    let syncs = ns.api::<JiraActiveSync>();
    let sync = example("JiraActiveSync");
    let name = sync["metadata"]["name"].as_str().unwrap().to_owned();
    syncs
        .patch(&name, &PatchParams::apply("gitops"), &Patch::Apply(&sync))
        .await
        .unwrap();

    // A second manager adds a check; x-kubernetes-list-type=set keeps both managers' items.
    let addition = json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": name},
        "spec": {"scope": {"checks": ["access-review"]}},
    });
    let merged = syncs
        .patch(
            &name,
            &PatchParams::apply("platform-team"),
            &Patch::Apply(&addition),
        )
        .await
        .unwrap();
    let mut wanted: Vec<String> =
        serde_json::from_value(sync["spec"]["scope"]["checks"].clone()).unwrap();
    wanted.push("access-review".to_owned());
    assert_eq!(merged.spec.scope.checks, wanted);

    // Each manager owns its own items: the second one withdrawing its check leaves the first's.
    let withdrawal = json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": name},
        "spec": {},
    });
    let after = syncs
        .patch(
            &name,
            &PatchParams::apply("platform-team"),
            &Patch::Apply(&withdrawal),
        )
        .await
        .unwrap();
    wanted.pop();
    assert_eq!(after.spec.scope.checks, wanted);
}

/// A pass that creates 20,000 tickets records them as pending before sending: the record must fit
/// in the sync's status on a real API server (etcd refuses objects over 1.5 MiB) and read back
/// whole, so a process started after a crash waits for every one of them.
#[tokio::test]
async fn pending_creates_of_20000_tasks_fit_in_the_status_and_read_back() {
    use jira_active_sync::planner::PendingCreates;
    let ns = TestNamespace::new("crds-pending").await;
    let sync = example("JiraActiveSync");
    create(&ns, &sync).await.unwrap();
    let name = sync["metadata"]["name"].as_str().unwrap().to_owned();
    let identity = |i: usize| {
        format!(
            "jas-task.{}-{i:05}",
            "patch-cve-2026-1234-in-the-payments-api-image".repeat(4)
        )
    };
    let sent = jiff::Timestamp::now();
    let mut pending = PendingCreates::default();
    for i in 0..20_000 {
        pending.note(identity(i), sent);
    }
    let patch = json!({"status": {"pendingCreateGroups": pending.records()}});
    let written = ns
        .api::<JiraActiveSync>()
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("the status takes 20,000 pending creates");
    let status = written.status.expect("status");
    let size = serde_json::to_vec(&status).unwrap().len();
    println!("pending creates: 20,000 tasks take {size} bytes of the sync's status");
    assert!(size < 100 * 1024, "status of {size} bytes");
    let mut restored = PendingCreates::default();
    restored.restore(&status.pending_create_groups, &status.pending_creates, sent);
    assert!((0..20_000).all(|i| restored.sent(&identity(i)).is_some()));
}
