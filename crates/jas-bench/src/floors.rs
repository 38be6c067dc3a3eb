//! The floors a case is compared with, measured in the same run as the case: each floor several
//! times, interleaved with the case (before and after it), with the parallelism the operator itself
//! uses, the fastest run kept. A floor measured once, at another moment, moves with the machine's
//! load and can make the operator look faster than the floor.

use std::time::{Duration, Instant};

use anyhow::bail;
use futures::{StreamExt, stream};
use jira_active_sync::jira::{BULK_CREATE_LIMIT, Description, NewIssue, TaskSection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cluster::namespace;
use crate::jira::Emulator;
use crate::scenario::{ASSIGNEES, Bench};
use crate::tasks::{self, task_name};

/// Floor runs before the case; one more runs after it.
pub const RUNS_BEFORE: usize = 2;

/// A sync sends one bulk create at a time (`controller::creates`).
pub const BULK_CALLS_PER_SYNC: usize = 1;
/// A sync writes 16 task statuses at once (`controller::executor`).
pub const STATUS_WRITERS_PER_SYNC: usize = 16;

/// The floors of one case and the operator's ratio to them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Floor {
    /// The API server alone, fastest run: N task status patches, seconds.
    pub api_server_seconds: f64,
    /// The emulator alone, fastest run: the tickets' bulk creates at Jira Cloud's limits, seconds.
    pub jira_seconds: f64,
    /// Every API server run, in the order measured (before, then after the case).
    pub api_server_runs: Vec<f64>,
    /// Every Jira run, in the order measured.
    pub jira_runs: Vec<f64>,
    /// Convergence / (API server + Jira): against doing both parts one after the other.
    pub ratio_to_sum: f64,
    /// Convergence / max(API server, Jira): against overlapping them perfectly. The ratio the
    /// targets speak of.
    pub ratio: f64,
    /// The ratio is under 1: the operator cannot beat the larger floor, so one of the figures was
    /// measured wrongly (e.g. under a load spike).
    pub measurement_fault: bool,
}

impl Floor {
    /// The floor of a case that converged in `convergence` seconds.
    pub fn of(convergence: f64, api_server_runs: Vec<f64>, jira_runs: Vec<f64>) -> Floor {
        let fastest = |runs: &[f64]| runs.iter().copied().fold(f64::INFINITY, f64::min);
        let (api, jira) = (fastest(&api_server_runs), fastest(&jira_runs));
        let ratio = convergence / api.max(jira);
        Floor {
            api_server_seconds: api,
            jira_seconds: jira,
            api_server_runs,
            jira_runs,
            ratio_to_sum: convergence / (api + jira),
            ratio,
            measurement_fault: ratio < 1.0,
        }
    }

    /// Slowest run over fastest, per floor: how much the machine moved during the case.
    pub fn spread(&self) -> (f64, f64) {
        let spread = |runs: &[f64]| {
            let slowest = runs.iter().copied().fold(0.0, f64::max);
            slowest / runs.iter().copied().fold(f64::INFINITY, f64::min)
        };
        (spread(&self.api_server_runs), spread(&self.jira_runs))
    }
}

/// The namespace of the API server floor for `n`: `n` tasks made once, patched by every run.
pub async fn prepare_api_server(bench: &Bench, n: usize) -> anyhow::Result<String> {
    let ns = format!("floor-{n}");
    namespace(&bench.plane.client, &ns).await?;
    tasks::create(&bench.plane.client, &ns, n, (ASSIGNEES, &["bench"])).await?;
    Ok(ns)
}

/// One API server floor run: the status patches of `n` tasks, `in_flight` at once (the operator's
/// status writers: 16 per sync being reconciled).
pub async fn api_server(
    bench: &Bench,
    floor_namespace: &str,
    n: usize,
    in_flight: usize,
) -> anyhow::Result<f64> {
    let took =
        tasks::status_patch_floor(&bench.plane.client, floor_namespace, n, in_flight).await?;
    Ok(took.as_secs_f64())
}

/// One Jira floor run: tickets shaped like the operator's, `(tickets, task sections each)` per
/// part of `shape`, created in bulk `in_flight` calls at a time (one per sync being reconciled, as
/// the operator sends them); the emulator is reset afterwards so the case starts from an empty
/// project.
pub async fn jira(
    emulator: &Emulator,
    shape: &[(usize, usize)],
    in_flight: usize,
) -> anyhow::Result<f64> {
    let client = emulator.client()?;
    let issues: Vec<NewIssue> = shape
        .iter()
        .flat_map(|&(tickets, sections)| (0..tickets).map(move |i| floor_issue(i, sections)))
        .collect();
    let started = Instant::now();
    let results: Vec<_> = stream::iter(issues.chunks(BULK_CREATE_LIMIT))
        .map(|chunk| client.bulk_create(chunk))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let took: Duration = started.elapsed();
    let failed = results.iter().flatten().filter(|r| r.is_err()).count();
    if failed > 0 {
        bail!("{failed} of the floor's creates failed");
    }
    emulator.reset().await?;
    Ok(took.as_secs_f64())
}

fn floor_issue(i: usize, tasks_per_ticket: usize) -> NewIssue {
    NewIssue {
        project: "SEC".to_owned(),
        issue_type: "Task".to_owned(),
        summary: format!("Patch CVE-2026-{i:05} on service-{}", i % 97),
        description: Description {
            intro: "Compliance tasks kept in step by jira-active-sync.".to_owned(),
            tasks: (0..tasks_per_ticket).map(floor_section).collect(),
        },
        labels: vec![
            "compliance".to_owned(),
            "jas@floor.floor.bench".to_owned(),
            format!("jas-task.floor.{i}"),
        ],
        priority: None,
        due_date: None,
        assignee: None,
        epic: None,
        properties: vec![(
            "activesync".to_owned(),
            json!({"sync": "floor/bench", "identity": format!("jas-task.floor.{i}")}),
        )],
    }
}

fn floor_section(t: usize) -> TaskSection {
    TaskSection {
        title: format!("Patch CVE-2026-{t:05}"),
        check: "bench".to_owned(),
        severity: Some("High".to_owned()),
        due_date: None,
        namespace: "floor".to_owned(),
        name: task_name(t),
        state: "Open".to_owned(),
        instructions: format!(
            "The image of service-{} ships a library affected by CVE-2026-{t:05}.",
            t % 97
        ),
        how_to_fix: "Bump the base image, rebuild and redeploy.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fastest_run_is_the_floor_and_a_ratio_under_one_is_a_fault() {
        let floor = Floor::of(12.0, vec![10.0, 8.0, 9.0], vec![2.0, 3.0, 2.5]);
        assert_eq!(floor.api_server_seconds, 8.0);
        assert_eq!(floor.jira_seconds, 2.0);
        assert_eq!(floor.ratio, 1.5);
        assert_eq!(floor.ratio_to_sum, 1.2);
        assert!(!floor.measurement_fault);
        assert_eq!(floor.spread(), (1.25, 1.5));
        let faulty = Floor::of(7.0, vec![8.0, 9.0, 8.5], vec![1.0, 1.0, 1.0]);
        assert!(faulty.measurement_fault, "{faulty:?}");
    }
}
