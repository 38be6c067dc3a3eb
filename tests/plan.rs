//! `plan` and `explain` against a real kube-apiserver + etcd and the Jira emulator, both over real
//! HTTP. `plan` runs as the real binary through a proxy in front of the API server that counts
//! writes: it makes none, asks Jira only to read, and changes no resourceVersion; and what it prints
//! is what the operator (the real binary) then does, as the sync's `status.recentActions` records
//! it, for a new sync, a changed scope, a changed mode and a deletion. `explain` answers for an
//! owned task, a conflicting one and an orphan, as `kubectl jas` too.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, RecentAction};
use jira_active_sync::cli::PlanOutput;
use jira_active_sync::controller::explain::{Explanation, Target, explain};
use jira_active_sync::controller::preview::{PlanRequest, Preview, preview};
use kube::ResourceExt;
use serde_json::{Value, json};
use support::Mode;
use support::apiserver_proxy::ApiServerProxy;
use support::cluster::cluster;
use support::emulator::SEED_TOKEN;
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(90);
/// The sync the scenarios change.
const SYNC: &str = "vuln";

/// The sync's spec: Individual or Batch over `checks`, deleting its tickets when removed.
fn spec(checks: &[&str], mode: &str) -> Value {
    json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": checks},
           "jira": {"project": "SEC", "issueType": "Task", "labels": ["compliance"]},
           "mode": mode, "deletionPolicy": "Delete", "pollInterval": "10s"})
}

/// The sync as a file `plan -f` reads, with another kind beside it (skipped).
fn write_sync_file(site: &Site, spec: &Value) -> PathBuf {
    let path = std::env::temp_dir().join(format!("jas-plan-{}.yaml", site.ns.name));
    let connection = json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
                            "metadata": {"name": CONNECTION}, "spec": {}});
    let sync = json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
                      "metadata": {"name": SYNC}, "spec": spec});
    let text = format!(
        "{}---\n{}",
        serde_yaml::to_string(&connection).expect("YAML"),
        serde_yaml::to_string(&sync).expect("YAML")
    );
    std::fs::write(&path, text).expect("write the sync file");
    path
}

/// What a run of the binary gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary (as `program`, e.g. a `kubectl-jas` link) with `args`.
async fn run(program: &Path, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    run_command(command).await
}

/// Runs `command` without `KUBECONFIG`: the kubeconfig is always given as a flag.
async fn run_command(mut command: tokio::process::Command) -> Run {
    let output = command
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("the command runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jira-active-sync"))
}

/// The resourceVersions of every sync and task of the namespace.
async fn versions(site: &Site) -> BTreeMap<String, String> {
    let syncs = site
        .ns
        .api::<JiraActiveSync>()
        .list(&Default::default())
        .await;
    let tasks = site
        .ns
        .api::<ComplianceTask>()
        .list(&Default::default())
        .await;
    let syncs = syncs
        .expect("syncs")
        .items
        .into_iter()
        .map(|s| (format!("jas/{}", s.name_any()), s.resource_version()));
    let tasks = tasks
        .expect("tasks")
        .items
        .into_iter()
        .map(|t| (format!("ctask/{}", t.name_any()), t.resource_version()));
    syncs
        .chain(tasks)
        .map(|(name, version)| (name, version.unwrap_or_default()))
        .collect()
}

/// Whether a logged Jira request only reads: GETs, and the POSTs of search and bulk fetch.
fn reads_only(request: &Value) -> bool {
    let method = request["method"].as_str().unwrap_or_default();
    let path = request["path"].as_str().unwrap_or_default();
    method == "GET"
        || (method == "POST"
            && (path.ends_with("/search/jql")
                || path.ends_with("/search")
                || path.ends_with("/issue/bulkfetch")))
}

/// Runs `plan` through the write-counting proxy and checks that nothing was written, in the
/// cluster or in Jira; gives the preview and the exit code.
async fn plan_read_only(site: &Site, spec: &Value, extra: &[&str]) -> (Preview, i32) {
    let file = write_sync_file(site, spec);
    let proxy = ApiServerProxy::admin().await;
    let before = versions(site).await;
    let jira_mark = site.jira.requests(0).await.len();
    let kubeconfig = proxy.kubeconfig.to_string_lossy().into_owned();
    let file_arg = file.to_string_lossy().into_owned();
    let mut args = vec!["plan", "-f", &file_arg, "--kubeconfig", &kubeconfig];
    args.extend(["-n", &site.ns.name, "-o", "json"]);
    args.extend(extra);
    let done = run(&binary(), &args).await;
    assert!(
        done.code == 0 || done.code == 2,
        "plan failed ({}): {}",
        done.code,
        done.stderr
    );
    let figures = proxy.figures();
    assert!(
        figures.requests > 0,
        "plan read the cluster through the proxy"
    );
    assert_eq!(figures.writes, 0, "plan wrote to the API server");
    assert_eq!(versions(site).await, before, "a sync or task changed");
    let requests = site.jira.requests(0).await;
    let jira: Vec<&Value> = requests.iter().skip(jira_mark).collect();
    assert!(!jira.is_empty(), "plan read Jira");
    let writes: Vec<&&Value> = jira.iter().filter(|r| !reads_only(r)).collect();
    assert!(writes.is_empty(), "plan wrote to Jira: {writes:?}");
    let output: PlanOutput = serde_json::from_str(&done.stdout).expect("plan -o json");
    assert_eq!(
        output.plans.len(),
        1,
        "the JiraConnection of the file is skipped"
    );
    assert_eq!(done.code == 2, output.changes, "exit code 2 means changes");
    (
        output.plans.into_iter().next().expect("one plan"),
        done.code,
    )
}

/// An action the operator's audit trail records, as (action, ticket, tasks); a create's ticket is
/// not known before it is made.
type Audited = (String, Option<String>, Vec<String>);

/// The audited actions a preview announces: every action that makes an Event.
fn announced(preview: &Preview) -> Vec<Audited> {
    let mut out: Vec<Audited> = preview
        .actions
        .iter()
        .filter(|a| match a.action.as_str() {
            "Comment" => false,
            "Update" => a.changes.iter().any(|c| c.field != "recorded tasks"),
            _ => true,
        })
        .map(|a| {
            let mut tasks = a.tasks.clone();
            tasks.sort();
            (a.action.clone(), a.ticket.clone(), tasks)
        })
        .collect();
    out.sort();
    out
}

/// The actions the sync's status records since `mark`.
fn audited(actions: &[RecentAction], mark: jiff::Timestamp) -> Vec<Audited> {
    let mut out: Vec<Audited> = actions
        .iter()
        .filter(|a| a.time >= mark)
        .map(|a| {
            let mut tasks = a.tasks.clone();
            tasks.sort();
            let ticket = (a.action != "Create").then(|| a.ticket.clone()).flatten();
            (a.action.clone(), ticket, tasks)
        })
        .collect();
    out.sort();
    out
}

/// The site's operator, started for one step and stopped before the next plan.
async fn operate(site: &Site) -> Operator {
    let options = site.operator_options("2s");
    Operator::start(Mode::Process, &options, site.log_path()).await
}

/// The sync, planned in this process, until nothing is left to do.
async fn settled(site: &Site, spec: &Value) {
    let sync: JiraActiveSync = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": SYNC, "namespace": site.ns.name}, "spec": spec
    }))
    .expect("a sync");
    let installation = cluster().await.installation().await;
    eventually("the operator carries the plan out", PATIENCE, || {
        let request = PlanRequest {
            sync: sync.clone(),
            delete: false,
            search_settle: "2s".parse().expect("duration"),
            installation: installation.clone(),
        };
        async move {
            let preview = preview(&site.ns.client, request).await.ok()?;
            (!preview.changes).then_some(())
        }
    })
    .await;
}

/// Applies `spec` after planning it, runs the operator until done, and checks it did what the plan
/// said; gives the plan.
async fn plan_then_apply(site: &Site, spec: &Value) -> Preview {
    let (plan, code) = plan_read_only(site, spec, &[]).await;
    assert_eq!(code, 2, "{plan:#?}");
    let mark = jiff::Timestamp::now();
    let api = site.ns.api::<JiraActiveSync>();
    if api.get_opt(SYNC).await.expect("get").is_some() {
        site.patch_spec::<JiraActiveSync>(SYNC, spec.clone()).await;
    } else {
        site.sync(SYNC, spec.clone()).await;
    }
    let mut operator = operate(site).await;
    settled(site, spec).await;
    let expected = announced(&plan).len();
    let status = eventually(
        "the status records the pass's actions",
        PATIENCE,
        || async {
            let status = api.get(SYNC).await.ok()?.status?;
            (audited(&status.recent_actions, mark).len() >= expected).then_some(status)
        },
    )
    .await;
    operator.terminate().await;
    assert_eq!(
        audited(&status.recent_actions, mark),
        announced(&plan),
        "what the operator did (status.recentActions) against what plan said"
    );
    let (again, code) = plan_read_only(site, spec, &[]).await;
    assert_eq!((code, again.changes), (0, false), "{again:#?}");
    plan
}

fn actions_of<'p>(
    plan: &'p Preview,
    action: &str,
) -> Vec<&'p jira_active_sync::controller::preview::PreviewAction> {
    plan.actions.iter().filter(|a| a.action == action).collect()
}

#[tokio::test]
async fn plan_writes_nothing_and_says_what_the_operator_then_does() {
    let site = Site::new("plan-then-apply", SEED_TOKEN, json!({})).await;
    site.task("a", "vuln", Some("alice@example.com")).await;
    site.task("b", "vuln", Some("bob@example.com")).await;
    site.task("d", "other", Some("alice@example.com")).await;
    site.task("e", "other", Some("alice@example.com")).await;

    // A new sync: a ticket per task of its check.
    let first = spec(&["vuln"], "Individual");
    let new = plan_then_apply(&site, &first).await;
    assert!(!new.exists);
    assert_eq!(actions_of(&new, "Create").len(), 2, "{new:#?}");
    let file = write_sync_file(&site, &first)
        .to_string_lossy()
        .into_owned();
    let config = kubeconfig().await;
    let text = run(
        &binary(),
        &[
            "plan",
            "-f",
            &file,
            "-n",
            &site.ns.name,
            "--kubeconfig",
            &config,
        ],
    )
    .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("No changes"), "{}", text.stdout);

    // A changed scope: the tickets of the tasks that leave are closed and released, new ones made.
    let scope = spec(&["other"], "Individual");
    let moved = plan_then_apply(&site, &scope).await;
    assert_eq!(actions_of(&moved, "Close").len(), 2, "{moved:#?}");
    assert_eq!(actions_of(&moved, "Release").len(), 2);
    assert_eq!(actions_of(&moved, "Create").len(), 2);
    assert!(
        moved
            .ownership
            .iter()
            .all(|c| c.change == "Release" && c.sync.is_none())
    );

    // A changed mode: one ticket for alice's two tasks; the individual ones close.
    let batch = spec(&["other"], "Batch");
    let grouped = plan_then_apply(&site, &batch).await;
    let creates = actions_of(&grouped, "Create");
    assert_eq!(creates.len(), 1, "{grouped:#?}");
    assert_eq!(creates[0].tasks, ["d", "e"]);
    assert!(
        creates[0].grouping.contains("alice@example.com"),
        "{}",
        creates[0].grouping
    );
    assert_eq!(actions_of(&grouped, "Close").len(), 2);

    // The deletion: its policy deletes the ticket it keeps and the four it released earlier (the
    // Individual tickets the mode change closed; they keep the sync's released label).
    let (deletion, code) = plan_read_only(&site, &batch, &["--delete"]).await;
    assert_eq!(code, 2);
    let mut planned: Vec<String> = deletion
        .actions
        .iter()
        .filter(|a| a.action == "Delete")
        .filter_map(|a| a.ticket.clone())
        .collect();
    planned.sort();
    assert_eq!(planned.len(), 5, "{deletion:#?}");
    let mark = site.jira.requests(0).await.len();
    let mut operator = operate(&site).await;
    site.delete_sync(SYNC, PATIENCE).await;
    operator.terminate().await;
    let requests = site.jira.requests(0).await;
    let mut deleted: Vec<String> = requests[mark..]
        .iter()
        .filter(|r| r["method"] == "DELETE")
        .filter_map(|r| r["path"].as_str()?.rsplit('/').next().map(str::to_owned))
        .collect();
    deleted.sort();
    deleted.dedup();
    assert_eq!(
        deleted, planned,
        "the operator deleted what plan --delete said"
    );
}

/// The admin kubeconfig of the test cluster, for the binary's `--kubeconfig`.
async fn kubeconfig() -> String {
    support::cluster::cluster()
        .await
        .kubeconfig()
        .expect("the test cluster's kubeconfig")
        .to_string_lossy()
        .into_owned()
}

/// Runs kubectl (`scripts/control-plane kubectl`: the machine's, or one it builds) with `args`, the
/// directory of `plugin` first on PATH.
async fn kubectl_with_plugin(plugin: &Path, args: &[&str]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane");
    let dir = plugin.parent().expect("the plugin's directory");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = tokio::process::Command::new(script);
    command.arg("kubectl").args(args).env("PATH", path);
    run_command(command).await
}

/// The binary as `kubectl-jas`: a link of that name, as krew installs it.
fn kubectl_jas() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jas-kubectl-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("plugin directory");
    let link = dir.join("kubectl-jas");
    if !link.exists() {
        std::os::unix::fs::symlink(binary(), &link).expect("link kubectl-jas");
    }
    link
}

fn claim_of<'e>(explained: &'e Explanation, sync: &str) -> (&'e str, &'e str) {
    let Explanation::ComplianceTask(task) = explained else {
        panic!("a task's explanation: {explained:?}");
    };
    let claim = task
        .claims
        .iter()
        .find(|c| c.sync == sync)
        .expect("a claim per sync");
    (claim.outcome.as_str(), claim.why.as_str())
}

#[tokio::test]
async fn explain_tells_who_owns_a_task_and_why_as_kubectl_jas_too() {
    let site = Site::new("explain", SEED_TOKEN, json!({})).await;
    site.task("o", "owned-check", Some("alice@example.com"))
        .await;
    site.task("a", "vuln", None).await;
    site.task("x", "nobody", None).await;
    let named = |checks: Value| {
        json!({"connectionRef": {"name": CONNECTION}, "scope": checks,
                                        "jira": {"project": "SEC"}, "pollInterval": "10s"})
    };
    site.sync("solo", named(json!({"checks": ["owned-check"]})))
        .await;
    site.sync("first", named(json!({"checks": ["vuln"]}))).await;
    site.sync("second", named(json!({"checks": ["vuln"]})))
        .await;
    site.sync(
        "picky",
        named(json!({"taskSelector": {"matchLabels": {"team": "payments"}}})),
    )
    .await;
    let mut operator = operate(&site).await;
    let keys = eventually("the owned tasks have tickets", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        (keys.len() == 2).then_some(keys)
    })
    .await;
    eventually("the audit trail records the create", PATIENCE, || async {
        let status = site
            .ns
            .api::<JiraActiveSync>()
            .get("solo")
            .await
            .ok()?
            .status?;
        (!status.recent_actions.is_empty()).then_some(())
    })
    .await;
    operator.terminate().await;
    let ns = &site.ns.name;
    let client = &site.ns.client;

    let owned = explain(client, ns, &Target::Task("o".into()))
        .await
        .expect("explain o");
    assert_eq!(
        claim_of(&owned, "solo"),
        ("Owner", "names the check owned-check")
    );
    let Explanation::ComplianceTask(task) = &owned else {
        unreachable!()
    };
    assert_eq!(task.owner.as_deref(), Some("solo"));
    assert_eq!(
        task.ticket.as_ref().and_then(|t| t.key.clone()),
        keys.get("o").cloned()
    );
    assert_eq!(task.recent_actions.len(), 1, "{task:#?}");
    assert_eq!(task.recent_actions[0].action, "Create");
    assert_eq!(task.recent_actions[0].ticket, keys.get("o").cloned());

    let contested = explain(client, ns, &Target::Task("a".into()))
        .await
        .expect("explain a");
    assert_eq!(claim_of(&contested, "first").0, "Owner");
    let (outcome, why) = claim_of(&contested, "second");
    assert_eq!(outcome, "Conflict");
    assert!(why.contains("older sync first"), "{why}");
    assert_eq!(claim_of(&contested, "picky").0, "NotClaimed");

    let orphan = explain(client, ns, &Target::Task("x".into()))
        .await
        .expect("explain x");
    let Explanation::ComplianceTask(task) = &orphan else {
        unreachable!()
    };
    assert_eq!(task.owner, None);
    assert!(task.ticket.is_none());
    assert_eq!(
        claim_of(&orphan, "solo"),
        ("NotClaimed", "names other checks (owned-check)")
    );
    assert_eq!(
        claim_of(&orphan, "picky"),
        (
            "NotClaimed",
            "its taskSelector does not match the task's labels"
        )
    );

    let config = kubeconfig().await;
    let plugin = kubectl_jas();
    let text = run(
        &plugin,
        &["explain", "ctask/x", "-n", ns, "--kubeconfig", &config],
    )
    .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("Owner: none: no sync of the namespace claims this task"),
        "{}",
        text.stdout
    );
    let text = run(
        &plugin,
        &[
            "explain",
            "jas/second",
            "--namespace",
            ns,
            "--kubeconfig",
            &config,
        ],
    )
    .await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("a: kept by first"), "{}", text.stdout);
    let text = run(
        &plugin,
        &[
            "explain",
            "jas/solo",
            "-n",
            ns,
            "--kubeconfig",
            &config,
            "-o",
            "json",
        ],
    )
    .await;
    let solo: Explanation = serde_json::from_str(&text.stdout).expect("explain -o json");
    let Explanation::JiraActiveSync(solo) = solo else {
        panic!("a sync's explanation")
    };
    assert_eq!(solo.tickets.len(), 1);
    assert_eq!(solo.tickets[0].tasks, ["o"]);
    // Through kubectl itself: it finds `kubectl-jas` on PATH and hands it the arguments.
    let through_kubectl = kubectl_with_plugin(
        &plugin,
        &[
            "jas",
            "explain",
            "ctask/o",
            "-n",
            ns,
            "--kubeconfig",
            &config,
        ],
    )
    .await;
    assert_eq!(through_kubectl.code, 0, "{}", through_kubectl.stderr);
    assert!(
        through_kubectl.stdout.contains("Owner: JiraActiveSync")
            && through_kubectl.stdout.contains("solo"),
        "{}",
        through_kubectl.stdout
    );
    let refused = run(&plugin, &["run"]).await;
    assert_eq!(
        refused.code, 1,
        "kubectl jas offers plan and explain only, and a usage error is not plan's 2"
    );

    // Deleting the older of two syncs naming a check hands its task to the other: the plan shows
    // what the other sync then does.
    let first = site
        .ns
        .api::<JiraActiveSync>()
        .get("first")
        .await
        .expect("first");
    let request = PlanRequest {
        sync: first,
        delete: true,
        search_settle: "2s".parse().expect("duration"),
        installation: cluster().await.installation().await,
    };
    let deletion = preview(client, request).await.expect("plan --delete");
    assert_eq!(deletion.affected.len(), 1, "{deletion:#?}");
    let second = &deletion.affected[0];
    assert_eq!(second.sync, "second");
    assert_eq!(second.ownership.len(), 1);
    assert_eq!(
        (
            second.ownership[0].task.as_str(),
            second.ownership[0].change.as_str()
        ),
        ("a", "TakeOver")
    );
    assert_eq!(second.ownership[0].sync.as_deref(), Some("first"));
    let creates = actions_of(second, "Create");
    assert_eq!(creates.len(), 1, "{second:#?}");
    assert_eq!(creates[0].tasks, ["a"]);
    assert!(deletion.changes);
}

/// A file `plan -f` reads, holding `documents`.
fn file_of(site: &Site, name: &str, documents: &[Value]) -> String {
    let path = std::env::temp_dir().join(format!("jas-plan-{}-{name}.yaml", site.ns.name));
    let text = documents
        .iter()
        .map(|d| serde_yaml::to_string(d).expect("YAML"))
        .collect::<Vec<_>>()
        .join("---\n");
    std::fs::write(&path, text).expect("write the file");
    path.to_string_lossy().into_owned()
}

/// Runs `plan` on `file` and checks it failed as a CI gate needs: exit 1 (never 0 "no changes" or
/// 2 "changes"), nothing on stdout, a message on stderr; gives the message.
async fn plan_fails(site: &Site, file: &str, extra: &[&str]) -> String {
    let config = kubeconfig().await;
    let mut args = vec![
        "plan",
        "-f",
        file,
        "-n",
        &site.ns.name,
        "--kubeconfig",
        &config,
    ];
    args.extend(extra);
    let done = run(&binary(), &args).await;
    assert_eq!(done.code, 1, "{args:?}: {}{}", done.stdout, done.stderr);
    assert!(done.stdout.is_empty(), "{}", done.stdout);
    assert!(!done.stderr.trim().is_empty(), "no message for {args:?}");
    done.stderr
}

#[tokio::test]
async fn plan_exits_1_naming_what_went_wrong() {
    let site = Site::new("plan-errors", SEED_TOKEN, json!({})).await;
    site.task("a", "vuln", None).await;
    let sync = |name: &str, spec: Value| {
        json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
               "metadata": {"name": name}, "spec": spec})
    };
    let connection = json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
                            "metadata": {"name": CONNECTION}, "spec": {}});

    let no_sync = file_of(&site, "no-sync", std::slice::from_ref(&connection));
    let message = plan_fails(&site, &no_sync, &[]).await;
    assert!(message.contains("JiraActiveSync"), "{message}");

    let mut elsewhere = spec(&["vuln"], "Individual");
    elsewhere["connectionRef"]["name"] = json!("nowhere");
    let missing = file_of(&site, "missing", &[sync(SYNC, elsewhere)]);
    let message = plan_fails(&site, &missing, &[]).await;
    assert!(message.contains("nowhere"), "{message}");

    let not_there = file_of(
        &site,
        "absent",
        &[sync("absent", spec(&["vuln"], "Individual"))],
    );
    let message = plan_fails(&site, &not_there, &["--delete"]).await;
    assert!(message.contains("absent"), "{message}");

    let refused = json!({"path": "/rest/*", "count": 100000, "action": "error", "status": 401,
                         "message": "token revoked"});
    site.jira.fault(refused).await;
    let fine = file_of(&site, "fine", &[sync(SYNC, spec(&["vuln"], "Individual"))]);
    let message = plan_fails(&site, &fine, &[]).await;
    assert!(message.contains("401"), "{message}");
    site.jira.clear_faults().await;
}
