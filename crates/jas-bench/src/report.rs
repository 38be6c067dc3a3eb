//! The figures of a run: one record per (N, mode), printed as a table and written as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::jira::is_read;

/// Jira calls made during one phase.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calls {
    /// Tasks the figures per task divide by.
    pub per: usize,
    /// Calls that only read.
    pub reads: u64,
    /// Calls that write.
    pub writes: u64,
    /// Calls per `METHOD /route`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Wall time of the phase until the operator went quiet, seconds.
    pub seconds: f64,
}

impl Calls {
    /// The calls between two counter snapshots.
    pub fn between(
        before: &BTreeMap<String, u64>,
        after: &BTreeMap<String, u64>,
        per: usize,
        took: Duration,
    ) -> Calls {
        let by_endpoint: BTreeMap<String, u64> = after
            .iter()
            .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect();
        let reads = by_endpoint
            .iter()
            .filter(|(k, _)| is_read(k))
            .map(|(_, v)| v)
            .sum();
        let writes = by_endpoint
            .iter()
            .filter(|(k, _)| !is_read(k))
            .map(|(_, v)| v)
            .sum();
        Calls {
            per,
            reads,
            writes,
            by_endpoint,
            seconds: took.as_secs_f64(),
        }
    }

    fn per_task(&self, n: u64) -> f64 {
        n as f64 / self.per.max(1) as f64
    }

    fn summary(&self) -> String {
        format!(
            "{:.3}r+{:.3}w",
            self.per_task(self.reads),
            self.per_task(self.writes)
        )
    }
}

/// Latencies of one direction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Events measured.
    pub events: usize,
    /// Events not seen within the timeout (left out of the percentiles).
    pub timeouts: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Percentiles (nearest rank) of the samples.
    pub fn of(mut samples: Vec<Duration>, timeouts: usize) -> Latency {
        samples.sort();
        let rank = |p: f64| -> f64 {
            if samples.is_empty() {
                return f64::NAN;
            }
            let i = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i].as_secs_f64() * 1000.0
        };
        Latency {
            events: samples.len(),
            timeouts,
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: rank(1.0),
        }
    }
}

/// The floor of the run and the operator's ratio to it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Floor {
    /// The API server alone: N task status patches, seconds.
    pub api_server_seconds: f64,
    /// The emulator alone: the tickets' bulk creates at Jira Cloud's rate limits, seconds.
    pub jira_seconds: f64,
    /// Convergence / (API server + Jira): against doing both parts one after the other.
    pub ratio_to_sum: f64,
    /// Convergence / max(API server, Jira): against overlapping them perfectly.
    pub ratio_to_max: f64,
}

/// Operator process figures.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub peak_rss_mib: f64,
    /// CPU seconds of the initial sync (start to converged and quiet).
    pub cpu_seconds_initial_sync: f64,
    /// CPU seconds of the whole case (all phases).
    pub cpu_seconds_total: f64,
}

/// Everything measured for one (N, mode).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub mode: String,
    pub tasks: usize,
    pub tickets: usize,
    pub convergence_seconds: f64,
    pub floor: Floor,
    pub initial_sync: Calls,
    pub resync_no_change: Calls,
    pub complete_ten_percent: Calls,
    pub task_to_jira: Latency,
    pub jira_to_task: Latency,
    pub operator: Resources,
    /// Load average (1 min) when the case started and ended: the machine is shared.
    pub load_average: (f64, f64),
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Prints the table.
pub fn print_table(cases: &[Case]) {
    println!(
        "\n{:<10} {:>6} {:>7} {:>8} {:>8} {:>8} {:>6} {:>6} {:>15} {:>15} {:>15} {:>13} {:>13} {:>8} {:>7} {:>9}",
        "mode",
        "N",
        "tickets",
        "conv s",
        "api s",
        "jira s",
        "r/sum",
        "r/max",
        "initial/task",
        "resync/task",
        "complete/task",
        "t->J p50/p99",
        "J->t p50/p99",
        "RSS MiB",
        "CPU s",
        "load"
    );
    for c in cases {
        println!(
            "{:<10} {:>6} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>6.2} {:>6.2} {:>15} {:>15} {:>15} {:>13} {:>13} {:>8.1} {:>7.1} {:>9}",
            c.mode,
            c.tasks,
            c.tickets,
            c.convergence_seconds,
            c.floor.api_server_seconds,
            c.floor.jira_seconds,
            c.floor.ratio_to_sum,
            c.floor.ratio_to_max,
            c.initial_sync.summary(),
            c.resync_no_change.summary(),
            c.complete_ten_percent.summary(),
            format!("{:.0}/{:.0}", c.task_to_jira.p50_ms, c.task_to_jira.p99_ms),
            format!("{:.0}/{:.0}", c.jira_to_task.p50_ms, c.jira_to_task.p99_ms),
            c.operator.peak_rss_mib,
            c.operator.cpu_seconds_total,
            format!("{:.1}/{:.1}", c.load_average.0, c.load_average.1),
        );
    }
    println!(
        "\nCalls are reads (r) + writes (w) per task; complete/task divides by the tasks completed."
    );
    for c in cases {
        for (phase, calls) in [
            ("initial", &c.initial_sync),
            ("resync", &c.resync_no_change),
            ("complete 10%", &c.complete_ten_percent),
        ] {
            let endpoints: Vec<String> = calls
                .by_endpoint
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            println!(
                "{} N={} {phase} ({:.1}s): {}",
                c.mode,
                c.tasks,
                calls.seconds,
                endpoints.join(", ")
            );
        }
    }
}
