//! The phases every case goes through, whatever its shape: the connection, the syncs, waiting for
//! the operator to go quiet, a restart with nothing changed, and the two latencies.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use jira_active_sync::api::{JiraActiveSync, JiraConnection, condition_status};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

use crate::Mode;
use crate::jira::{ADMIN, CLOUD_REQUESTS_PER_SECOND, Emulator, StatusChange};
use crate::operator::{Operator, Usage};
use crate::report::Calls;
use crate::tasks::{self, TaskBoard, all_show};
use jira_active_sync::jira::Credentials;

/// The HMAC secret shared by the emulator's webhook and the connection.
pub const WEBHOOK_SECRET: &str = "bench-webhook-secret";
/// How long one latency event may take before it counts as missed.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long nothing must happen (no Jira call, no reconcile) for the operator to count as quiet.
const QUIET: Duration = Duration::from_secs(2);

/// Latency samples of one direction, and the events missed.
#[derive(Debug, Default)]
pub struct Samples {
    pub taken: Vec<Duration>,
    pub missed: usize,
}

impl Samples {
    pub fn record(&mut self, sample: Option<Duration>) {
        match sample {
            Some(took) => self.taken.push(took),
            None => self.missed += 1,
        }
    }
}

/// The credentials Secret and the JiraConnection to `emulator` (Basic with an API token on Cloud,
/// a personal access token on Data Center), with Jira Cloud's ceiling as its rate limit.
pub async fn connection(
    client: &kube::Client,
    ns: &str,
    emulator: &Emulator,
) -> anyhow::Result<()> {
    let (flavor, auth, token) = match emulator.credentials() {
        Credentials::Bearer { token } => ("DataCenter", "Bearer", token),
        _ => ("Cloud", "Basic", ADMIN.1.to_owned()),
    };
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "bench-jira"},
        "stringData": {"email": ADMIN.0, "apiToken": ADMIN.1, "token": token, "webhook": WEBHOOK_SECRET}
    }))?;
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await?;
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": "bench"},
        "spec": {"url": emulator.base_url, "flavor": flavor, "auth": {"type": auth, "secretRef": {"name": "bench-jira"}},
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

/// A sync `name` of the tasks of `check` in `mode`, on the connection `bench`.
pub async fn create_sync(
    client: &kube::Client,
    ns: &str,
    (name, check): (&str, &str),
    mode: Mode,
) -> anyhow::Result<()> {
    let sync: JiraActiveSync = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": name},
        // The poll is the safety net; an hour keeps it out of the counted phases.
        "spec": {"connectionRef": {"name": "bench"}, "scope": {"checks": [check]},
                 "jira": {"project": "SEC", "labels": ["compliance"]}, "mode": mode.name(), "pollInterval": "1h"}
    }))?;
    Api::<JiraActiveSync>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &sync)
        .await?;
    Ok(())
}

/// Waits until neither Jira calls nor reconciles happened for [`QUIET`].
pub async fn quiet(emulator: &Emulator, operator: &Operator) -> anyhow::Result<()> {
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

/// Where latency events happen: the tasks of one namespace, as its board sees them.
pub struct EventSite<'a> {
    pub client: &'a kube::Client,
    pub namespace: &'a str,
    pub board: &'a TaskBoard,
}

/// Task completion (or re-opening) of `unit` to its ticket's transition, seen through the
/// emulator's webhook; `None` if it did not come within the timeout. `completed` tracks the tasks
/// completed so far.
pub async fn task_event(
    site: &EventSite<'_>,
    unit: &[String],
    completed: &mut HashSet<String>,
    changes: &mut mpsc::UnboundedReceiver<StatusChange>,
) -> anyhow::Result<Option<Duration>> {
    let key = site
        .board
        .get(&unit[0])
        .and_then(|s| s.key)
        .context("a task without a ticket")?;
    let completing = !unit.iter().all(|t| completed.contains(t));
    let (state, expect) = match completing {
        true => ("Completed", "Done"),
        false => ("Open", "To Do"),
    };
    while changes.try_recv().is_ok() {}
    let before = Instant::now();
    let after = tasks::set_state(site.client, site.namespace, unit, state).await?;
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
    let sample = match seen {
        Ok(Some(at)) => Some(at.saturating_duration_since(from)),
        _ => {
            eprintln!("  {key}: no transition to {expect} within {EVENT_TIMEOUT:?}");
            None
        }
    };
    // Let every task show the outcome before the next event, so events do not pile up.
    let outcome = if completing { "Done" } else { "To Do" };
    let _ = site
        .board
        .wait("the tasks to show the transition", EVENT_TIMEOUT, |b| {
            all_show(b, unit, outcome).is_some()
        })
        .await;
    Ok(sample)
}

/// `events` task events over `units` in turn.
pub async fn task_to_jira(
    site: &EventSite<'_>,
    units: &[Vec<String>],
    events: usize,
    completed: &mut HashSet<String>,
    changes: &mut mpsc::UnboundedReceiver<StatusChange>,
) -> anyhow::Result<Samples> {
    let mut samples = Samples::default();
    for i in 0..events {
        let unit = &units[i % units.len()];
        samples.record(task_event(site, unit, completed, changes).await?);
    }
    Ok(samples)
}

/// The units none of whose tasks is completed: those a Jira transition can move.
pub fn open_units<'u>(units: &'u [Vec<String>], completed: &HashSet<String>) -> Vec<&'u [String]> {
    units
        .iter()
        .filter(|u| u.iter().all(|t| !completed.contains(t)))
        .map(Vec::as_slice)
        .collect()
}

/// A transition made in Jira on `unit`'s ticket to every task of the unit showing the new status,
/// through the emulator's signed webhook to the operator; `None` if it did not within the timeout.
pub async fn jira_event(
    emulator: &Emulator,
    board: &TaskBoard,
    unit: &[String],
) -> anyhow::Result<Option<Duration>> {
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
        eprintln!("  {key}: transition {transition} refused: {error:#}");
        return Ok(None);
    }
    let shown = board
        .wait("the tasks to show the Jira status", EVENT_TIMEOUT, |b| {
            all_show(b, unit, expect).is_some()
        })
        .await;
    match shown {
        Ok(()) => {
            let at = all_show(board, unit, expect).context("the status went away")?;
            Ok(Some(at.saturating_duration_since(started)))
        }
        Err(error) => {
            eprintln!("  {key}: {error:#}");
            Ok(None)
        }
    }
}

/// `events` Jira events over the open `units` in turn.
pub async fn jira_to_task(
    emulator: &Emulator,
    board: &TaskBoard,
    units: &[&[String]],
    events: usize,
) -> anyhow::Result<Samples> {
    if units.is_empty() {
        bail!("no open tasks left to move in Jira");
    }
    let mut samples = Samples::default();
    for i in 0..events {
        samples.record(jira_event(emulator, board, units[i % units.len()]).await?);
    }
    Ok(samples)
}

/// A resync of `sync` with nothing changed, woken the way a webhook wakes it; calls per task of
/// its `n`.
pub async fn poked_resync(
    (ns, sync, n): (&str, &str, usize),
    emulator: &Emulator,
    operator: &Operator,
) -> anyhow::Result<Calls> {
    let label = crate::operator::sync_label(ns, sync)?;
    let poke = operator.poke(WEBHOOK_SECRET, &label, "bench-resync");
    resynced((emulator, operator), n, "the poked resync", poke).await
}

/// A resync of `sync` with nothing changed that searches its tickets in full and plans every
/// ticket, in a running operator: its spec changes in a way that changes no ticket (the poll
/// interval); calls per task of its `n`.
pub async fn full_resync(
    client: &kube::Client,
    (ns, sync, n): (&str, &str, usize),
    emulator: &Emulator,
    operator: &Operator,
) -> anyhow::Result<Calls> {
    let patch = json!({"spec": {"pollInterval": "59m"}});
    let api = Api::<JiraActiveSync>::namespaced(client.clone(), ns);
    let change = async {
        api.patch(sync, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        anyhow::Ok(())
    };
    let what = "the resync after the spec change";
    resynced((emulator, operator), n, what, change).await
}

/// Wakes the operator with `wake`, waits for its pass and for it to go quiet: the calls made
/// meanwhile.
async fn resynced(
    (emulator, operator): (&Emulator, &Operator),
    n: usize,
    what: &str,
    wake: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Calls> {
    let before = emulator.counters().await?;
    let reconciles = operator.reconciles().await?;
    let started = Instant::now();
    wake.await?;
    while operator.reconciles().await? == reconciles {
        if started.elapsed() > Duration::from_secs(300) {
            bail!("{what} did not run within 300s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    quiet(emulator, operator).await?;
    let after = emulator.counters().await?;
    Ok(Calls::between(&before, &after, n, started.elapsed()))
}

/// Stops `operator` and starts it again on `namespaces` with nothing changed, and counts the Jira
/// calls of its first passes (each sync searches its tickets in full and plans every ticket) until
/// it is quiet; `syncs` reconciles must have run. Gives the new process, the calls and what the
/// first process used.
pub async fn restart(
    operator: Operator,
    emulator: &Emulator,
    (kubeconfig, namespaces, log): (&std::path::Path, &[String], &std::path::Path),
    (syncs, per): (u64, usize),
) -> anyhow::Result<(Operator, Calls, Usage)> {
    let listen = operator.listen;
    let used = operator.usage()?;
    operator.stop().await?;
    let before = emulator.counters().await?;
    let started = Instant::now();
    let log = log.with_extension("restarted.log");
    let operator = Operator::start_on(listen, kubeconfig, namespaces, &log).await?;
    while operator.reconciles().await? < syncs {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the restarted operator did not reconcile its {syncs} syncs within 600s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    quiet(emulator, &operator).await?;
    let calls = Calls::between(&before, &emulator.counters().await?, per, started.elapsed());
    Ok((operator, calls, used))
}
