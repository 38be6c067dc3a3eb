//! The Kubernetes side: creating and changing `ComplianceTask`s, and a board that watches them so
//! the bench learns when each task's status changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt, TryStreamExt, stream};
use jira_active_sync::api::ComplianceTask;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::watch;

use crate::jira::assignee;

/// Requests the bench keeps in flight against the API server.
pub const CONCURRENCY: usize = 16;

/// The name of task `i`.
pub fn task_name(i: usize) -> String {
    format!("task-{i:05}")
}

/// Creates `n` tasks, assigned round-robin to `assignees` people, their checks taken round-robin
/// from `checks`.
pub async fn create(
    client: &Client,
    namespace: &str,
    n: usize,
    (assignees, checks): (usize, &[&str]),
) -> anyhow::Result<()> {
    let api: Api<ComplianceTask> = Api::namespaced(client.clone(), namespace);
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let task: ComplianceTask = serde_json::from_value(json!({
                    "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
                    "metadata": {"name": task_name(i)},
                    "spec": {"check": checks[i % checks.len()], "title": format!("Patch CVE-2026-{i:05} on service-{}", i % 97),
                             "assignee": assignee((i / checks.len()) % assignees), "severity": "High",
                             "instructions": format!("The image of service-{} ships a library affected by CVE-2026-{i:05}.", i % 97),
                             "howToFix": "Bump the base image, rebuild and redeploy."}
                }))?;
                api.create(&PostParams::default(), &task)
                    .await
                    .with_context(|| format!("creating task {i}"))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
}

/// Sets `spec.state` of the named tasks; returns when the last write is acknowledged.
pub async fn set_state(
    client: &Client,
    namespace: &str,
    names: &[String],
    state: &str,
) -> anyhow::Result<Instant> {
    let api: Api<ComplianceTask> = Api::namespaced(client.clone(), namespace);
    let patch = json!({"spec": {"state": state}});
    stream::iter(names)
        .map(|name| {
            let (api, patch) = (api.clone(), &patch);
            async move {
                api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .with_context(|| format!("setting {name} {state}"))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(Instant::now())
}

/// The API server floor: `n` task status patches of the operator's shape, `in_flight` at once, on
/// tasks created beforehand in `namespace`.
pub async fn status_patch_floor(
    client: &Client,
    namespace: &str,
    n: usize,
    in_flight: usize,
) -> anyhow::Result<Duration> {
    let api: Api<ComplianceTask> = Api::namespaced(client.clone(), namespace);
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let patch = json!({"status": {"jira": {
                    "sync": "floor", "key": format!("SEC-{}", i + 2), "url": format!("http://127.0.0.1/browse/SEC-{}", i + 2),
                    "status": "To Do", "statusCategory": "new", "mode": "Individual",
                    "lastSyncTime": jiff::Timestamp::now().to_string()}}});
                patch_status_again_if_dropped(&api, &task_name(i), &patch)
                    .await
                    .with_context(|| format!("patching the status of task {i}"))
            }
        })
        .buffer_unordered(in_flight)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(started.elapsed())
}

/// A status patch, sent once more when the connection carrying it closed before the answer (seen
/// with 1,600 patches in flight); any other error is the floor's.
async fn patch_status_again_if_dropped(
    api: &Api<ComplianceTask>,
    name: &str,
    patch: &serde_json::Value,
) -> Result<(), kube::Error> {
    let params = PatchParams::default();
    match api.patch_status(name, &params, &Patch::Merge(patch)).await {
        Err(kube::Error::Service(_) | kube::Error::HyperError(_)) => {
            api.patch_status(name, &params, &Patch::Merge(patch))
                .await?;
            Ok(())
        }
        other => other.map(drop),
    }
}

/// What the board knows of one task's Jira status.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Ticket key.
    pub key: Option<String>,
    /// Ticket status name.
    pub status: Option<String>,
    /// When the bench saw this status arrive.
    pub at: Instant,
}

#[derive(Default)]
struct Board {
    tasks: HashMap<String, Seen>,
    with_key: usize,
}

/// Every task of a namespace as the watch last reported it.
#[derive(Clone)]
pub struct TaskBoard {
    board: Arc<Mutex<Board>>,
    version: watch::Receiver<u64>,
}

impl TaskBoard {
    /// Starts watching the tasks of `namespace`.
    pub fn watch(client: &Client, namespace: &str) -> TaskBoard {
        let api: Api<ComplianceTask> = Api::namespaced(client.clone(), namespace);
        let board = Arc::new(Mutex::new(Board::default()));
        let (tx, version) = watch::channel(0u64);
        let shared = board.clone();
        tokio::spawn(async move {
            let mut events = std::pin::pin!(
                watcher(api, watcher::Config::default())
                    .default_backoff()
                    .applied_objects()
            );
            while let Some(Ok(task)) = events.next().await {
                let jira = task.status.and_then(|s| s.jira);
                let key = jira.as_ref().and_then(|j| j.key.clone());
                let status = jira.and_then(|j| j.status);
                let mut board = shared.lock().unwrap_or_else(PoisonError::into_inner);
                let name = task.metadata.name.clone().unwrap_or_default();
                let previous = board
                    .tasks
                    .get(&name)
                    .map(|s| (s.key.is_some(), s.status.clone()));
                if previous.as_ref().map(|(_, s)| s) == Some(&status)
                    && previous.as_ref().map(|(k, _)| *k) == Some(key.is_some())
                {
                    continue;
                }
                match (previous.as_ref().is_some_and(|(k, _)| *k), key.is_some()) {
                    (false, true) => board.with_key += 1,
                    (true, false) => board.with_key -= 1,
                    _ => {}
                }
                board.tasks.insert(
                    name,
                    Seen {
                        key,
                        status,
                        at: Instant::now(),
                    },
                );
                drop(board);
                tx.send_modify(|v| *v += 1);
            }
        });
        TaskBoard { board, version }
    }

    /// The board's view of a task.
    pub fn get(&self, name: &str) -> Option<Seen> {
        self.board
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tasks
            .get(name)
            .cloned()
    }

    /// Tasks that have a ticket key.
    pub fn with_key(&self) -> usize {
        self.board
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .with_key
    }

    /// Waits until `done` holds (re-checked on every change), or fails after `timeout`.
    pub async fn wait(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&TaskBoard) -> bool,
    ) -> anyhow::Result<()> {
        let mut version = self.version.clone();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            version.borrow_and_update();
            if done(self) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, version.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => bail!("the task watch ended while waiting for {what}"),
                Err(_) => bail!("timed out after {timeout:?} waiting for {what}"),
            }
        }
    }

    /// Names of the tasks seen (for sanity checks).
    pub fn len(&self) -> usize {
        self.board
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tasks
            .len()
    }
}

/// Whether every task named has a key and the status `status`; the latest arrival time if so.
pub fn all_show(board: &TaskBoard, names: &[String], status: &str) -> Option<Instant> {
    let mut latest: Option<Instant> = None;
    for name in names {
        let seen = board.get(name)?;
        if seen.status.as_deref() != Some(status) {
            return None;
        }
        latest = Some(latest.map_or(seen.at, |l| l.max(seen.at)));
    }
    latest
}
