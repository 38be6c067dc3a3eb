//! One case of the bench: N tasks synced in one mode, through every phase the issue asks for —
//! initial sync, a resync with nothing changed, completing 10%, then both latencies — and the
//! floors it is compared with.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use jira_active_sync::api::{JiraActiveSync, JiraConnection, condition_status};
use jira_active_sync::planner::{Installation, SyncLabels};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use tokio::sync::mpsc;

use crate::Mode;
use crate::cluster::{ControlPlane, namespace};
use crate::floors::{self, Floor};
use crate::jira::{ADMIN, CLOUD_REQUESTS_PER_SECOND, Emulator, StatusChange, status_observer};
use crate::operator::Operator;
use crate::report::{Calls, Case, Latency, Resources, load_average};
use crate::tasks::{self, TaskBoard, all_show, task_name};

/// Assignees of the tasks (Batch mode makes a ticket per assignee).
pub const ASSIGNEES: usize = 50;
/// The HMAC secret shared by the emulator's webhook and the connection.
const WEBHOOK_SECRET: &str = "bench-webhook-secret";
/// The sync's name in every case.
const SYNC: &str = "bench";
/// How long one latency event may take before it counts as missed.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long nothing must happen (no Jira call, no reconcile) for the operator to count as quiet.
const QUIET: Duration = Duration::from_secs(2);

/// What every case shares.
pub struct Bench {
    /// The control plane.
    pub plane: ControlPlane,
    /// Where logs go.
    pub dir: PathBuf,
    /// Latency events per direction.
    pub events: usize,
}

/// The tasks that move together: one task (Individual) or one assignee's tasks (Batch).
fn units(n: usize, mode: Mode) -> Vec<Vec<String>> {
    match mode {
        Mode::Individual => (0..n).map(|i| vec![task_name(i)]).collect(),
        Mode::Batch => (0..ASSIGNEES.min(n))
            .map(|g| (g..n).step_by(ASSIGNEES).map(task_name).collect())
            .collect(),
    }
}

/// Where a case runs: its size and mode, which repetition it is, and the namespace of its API
/// server floor.
pub struct CaseRun<'a> {
    pub n: usize,
    pub mode: Mode,
    pub repetition: usize,
    pub floor_namespace: &'a str,
}

/// Runs one case, with its floors measured before and after it.
pub async fn run(bench: &Bench, case: &CaseRun<'_>) -> anyhow::Result<Case> {
    let (n, mode) = (case.n, case.mode);
    let load_start = load_average();
    let client = &bench.plane.client;
    let ns = format!(
        "bench-{}-{n}-{}",
        mode.name().to_lowercase(),
        case.repetition
    );
    namespace(client, &ns).await?;
    let emulator =
        Emulator::start(&bench.dir.join(format!("{ns}-emulator.log")), ASSIGNEES).await?;
    let shape = (
        units(n, mode).len(),
        n.div_ceil(units(n, mode).len().max(1)),
    );
    let (mut api_runs, mut jira_runs) = (Vec::new(), Vec::new());
    for _ in 0..floors::RUNS_BEFORE {
        api_runs.push(floors::api_server(bench, case.floor_namespace, n).await?);
        jira_runs.push(floors::jira(&emulator, shape.0, shape.1).await?);
    }
    let (observer, mut changes) = status_observer().await?;
    emulator
        .register_webhook(
            "bench observer",
            &format!("http://{observer}/observe"),
            None,
        )
        .await?;
    connection(client, &ns, &emulator.base_url).await?;
    tasks::create(client, &ns, n, ASSIGNEES).await?;
    let board = TaskBoard::watch(client, &ns);
    board
        .wait("the task list", Duration::from_secs(120), |b| b.len() == n)
        .await?;
    let operator = Operator::start(
        &bench.plane.kubeconfig,
        &ns,
        &bench.dir.join(format!("{ns}-operator.log")),
    )
    .await?;
    emulator
        .register_webhook(
            "jira-active-sync",
            &format!("http://{}/webhooks/jira/{ns}/bench", operator.listen),
            Some(WEBHOOK_SECRET),
        )
        .await?;
    connection_ready(client, &ns).await?;
    eprintln!("[{ns}] {n} tasks, operator ready; initial sync");

    // Initial sync: from creating the sync to every task showing its ticket.
    let before = emulator.counters().await?;
    let started = Instant::now();
    create_sync(client, &ns, mode).await?;
    let patience = Duration::from_secs(120) + Duration::from_millis(60 * n as u64);
    board
        .wait("every task to show its ticket", patience, |b| {
            b.with_key() == n
        })
        .await?;
    let convergence = started.elapsed();
    quiet(&emulator, &operator).await?;
    let initial_sync = Calls::between(&before, &emulator.counters().await?, n, started.elapsed());
    let cpu_initial = operator.usage()?.cpu_seconds;
    let tickets: HashSet<String> = (0..n)
        .filter_map(|i| board.get(&task_name(i))?.key)
        .collect();
    eprintln!(
        "[{ns}] converged in {:.2}s ({} tickets); resync",
        convergence.as_secs_f64(),
        tickets.len()
    );

    // A resync with nothing changed, woken the way a webhook wakes it.
    let before = emulator.counters().await?;
    let reconciles = operator.reconciles().await?;
    let started = Instant::now();
    operator
        .poke(WEBHOOK_SECRET, &bench_sync_label(&ns)?, "bench-resync")
        .await?;
    while operator.reconciles().await? == reconciles {
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the poked resync did not run within 300s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    quiet(&emulator, &operator).await?;
    let resync_no_change =
        Calls::between(&before, &emulator.counters().await?, n, started.elapsed());

    // Completing 10% of the tasks: whole assignee groups, so Batch tickets close too.
    eprintln!("[{ns}] completing 10%");
    let ten: Vec<String> = (0..n)
        .filter(|i| i % ASSIGNEES < ASSIGNEES / 10)
        .map(task_name)
        .collect();
    let before = emulator.counters().await?;
    let started = Instant::now();
    tasks::set_state(client, &ns, &ten, "Completed").await?;
    board
        .wait("the completed tasks to show Done", patience, |b| {
            all_show(b, &ten, "Done").is_some()
        })
        .await?;
    quiet(&emulator, &operator).await?;
    let complete_ten_percent = Calls::between(
        &before,
        &emulator.counters().await?,
        ten.len(),
        started.elapsed(),
    );

    let units = units(n, mode);
    let mut completed: HashSet<String> = ten.into_iter().collect();
    eprintln!("[{ns}] latency task -> Jira ({} events)", bench.events);
    let task_to_jira = task_to_jira(
        bench,
        client,
        &ns,
        &board,
        &units,
        &mut completed,
        &mut changes,
    )
    .await?;
    eprintln!("[{ns}] latency Jira -> task ({} events)", bench.events);
    let jira_to_task = jira_to_task(bench, &emulator, &board, &units, &completed).await?;

    let usage = operator.usage()?;
    operator.stop().await?;
    eprintln!("[{ns}] floors after the case");
    emulator.reset().await?;
    api_runs.push(floors::api_server(bench, case.floor_namespace, n).await?);
    jira_runs.push(floors::jira(&emulator, shape.0, shape.1).await?);
    let converged = convergence.as_secs_f64();
    Ok(Case {
        mode: mode.name().to_owned(),
        tasks: n,
        repetition: case.repetition,
        tickets: tickets.len(),
        convergence_seconds: converged,
        floor: Floor::of(converged, api_runs, jira_runs),
        initial_sync,
        resync_no_change,
        complete_ten_percent,
        task_to_jira,
        jira_to_task,
        operator: Resources {
            peak_rss_mib: usage.peak_rss_mib,
            cpu_seconds_initial_sync: cpu_initial,
            cpu_seconds_total: usage.cpu_seconds,
        },
        load_average: (load_start, load_average()),
    })
}

/// The credentials Secret and the JiraConnection, with Jira Cloud's ceiling as its rate limit.
pub async fn connection(client: &kube::Client, ns: &str, url: &str) -> anyhow::Result<()> {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "bench-jira"},
        "stringData": {"email": ADMIN.0, "apiToken": ADMIN.1, "webhook": WEBHOOK_SECRET}
    }))?;
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await?;
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": "bench"},
        "spec": {"url": url, "auth": {"type": "Basic", "secretRef": {"name": "bench-jira"}},
                 "webhook": {"secretRef": {"name": "bench-jira", "key": "webhook"}},
                 "rateLimit": {"requestsPerSecond": CLOUD_REQUESTS_PER_SECOND, "burst": CLOUD_REQUESTS_PER_SECOND}}
    }))?;
    Api::<JiraConnection>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &connection)
        .await?;
    Ok(())
}

pub async fn connection_ready(client: &kube::Client, ns: &str) -> anyhow::Result<()> {
    let api = Api::<JiraConnection>::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let connection = api.get("bench").await?;
        let conditions = connection.status.map(|s| s.conditions).unwrap_or_default();
        if condition_status(&conditions, "Ready") == Some("True") {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("JiraConnection bench not Ready within 60s: {conditions:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create_sync(client: &kube::Client, ns: &str, mode: Mode) -> anyhow::Result<()> {
    let sync: JiraActiveSync = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": SYNC},
        // The poll is the safety net; an hour keeps it out of the counted phases.
        "spec": {"connectionRef": {"name": "bench"}, "scope": {"checks": ["bench"]},
                 "jira": {"project": "SEC", "labels": ["compliance"]}, "mode": mode.name(), "pollInterval": "1h"}
    }))?;
    Api::<JiraActiveSync>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &sync)
        .await?;
    Ok(())
}

/// Waits until neither Jira calls nor reconciles happened for [`QUIET`].
async fn quiet(emulator: &Emulator, operator: &Operator) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = (BTreeMap::new(), u64::MAX);
    let mut since = Instant::now();
    loop {
        let now = (emulator.counters().await?, operator.reconciles().await?);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= QUIET {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("the operator did not go quiet within 900s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Task completion (or re-opening) to the ticket's transition, seen through the emulator's webhook.
async fn task_to_jira(
    bench: &Bench,
    client: &kube::Client,
    ns: &str,
    board: &TaskBoard,
    units: &[Vec<String>],
    completed: &mut HashSet<String>,
    changes: &mut mpsc::UnboundedReceiver<StatusChange>,
) -> anyhow::Result<Latency> {
    let mut samples = Vec::new();
    let mut missed = 0;
    for i in 0..bench.events {
        let unit = &units[i % units.len()];
        let key = board
            .get(&unit[0])
            .and_then(|s| s.key)
            .context("a task without a ticket")?;
        let completing = !unit.iter().all(|t| completed.contains(t));
        let (state, expect) = if completing {
            ("Completed", "Done")
        } else {
            ("Open", "To Do")
        };
        while changes.try_recv().is_ok() {}
        let before = Instant::now();
        let after = tasks::set_state(client, ns, unit, state).await?;
        // A batch closes when its last task completes, and re-opens when its first task re-opens.
        let from = if completing { after } else { before };
        for task in unit {
            if completing {
                completed.insert(task.clone());
            } else {
                completed.remove(task);
            }
        }
        let seen = tokio::time::timeout(EVENT_TIMEOUT, async {
            while let Some(change) = changes.recv().await {
                if change.key == key && change.to == expect {
                    return Some(change.at);
                }
            }
            None
        })
        .await;
        match seen {
            Ok(Some(at)) => samples.push(at.saturating_duration_since(from)),
            _ => {
                missed += 1;
                eprintln!("  {key}: no transition to {expect} within {EVENT_TIMEOUT:?}");
            }
        }
        // Let every task show the outcome before the next event, so events do not pile up.
        let outcome = if completing { "Done" } else { "To Do" };
        let _ = board
            .wait("the tasks to show the transition", EVENT_TIMEOUT, |b| {
                all_show(b, unit, outcome).is_some()
            })
            .await;
    }
    Ok(Latency::of(samples, missed))
}

/// A transition made in Jira to every task of the ticket showing the new status, through the
/// emulator's signed webhook to the operator.
async fn jira_to_task(
    bench: &Bench,
    emulator: &Emulator,
    board: &TaskBoard,
    units: &[Vec<String>],
    completed: &HashSet<String>,
) -> anyhow::Result<Latency> {
    let open: Vec<&Vec<String>> = units
        .iter()
        .filter(|u| u.iter().all(|t| !completed.contains(t)))
        .collect();
    if open.is_empty() {
        bail!("no open tasks left to move in Jira");
    }
    let mut samples = Vec::new();
    let mut missed = 0;
    for i in 0..bench.events {
        let unit = open[i % open.len()];
        let seen = board
            .get(&unit[0])
            .context("a task the board does not know")?;
        let key = seen.key.context("a task without a ticket")?;
        // The default workflow: 11 Start Progress (To Do -> In Progress), 31 Reopen (-> To Do).
        let (transition, expect) = if seen.status.as_deref() == Some("In Progress") {
            ("31", "To Do")
        } else {
            ("11", "In Progress")
        };
        let started = Instant::now();
        if let Err(error) = emulator.transition(&key, transition).await {
            missed += 1;
            eprintln!("  {key}: transition {transition} refused: {error:#}");
            continue;
        }
        match board
            .wait("the tasks to show the Jira status", EVENT_TIMEOUT, |b| {
                all_show(b, unit, expect).is_some()
            })
            .await
        {
            Ok(()) => {
                let at = all_show(board, unit, expect).context("the status went away")?;
                samples.push(at.saturating_duration_since(started));
            }
            Err(error) => {
                missed += 1;
                eprintln!("  {key}: {error:#}");
            }
        }
    }
    Ok(Latency::of(samples, missed))
}

/// The label of the benchmarked sync's tickets.
fn bench_sync_label(namespace: &str) -> anyhow::Result<String> {
    let installation = Installation::parse(crate::operator::INSTALLATION)?;
    Ok(SyncLabels::of(&installation, namespace, SYNC).current)
}
