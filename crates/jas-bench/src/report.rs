//! The figures of a run: one record per (N, mode), printed as a table and written as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::floors::Floor;
use crate::jira::is_read;

/// Jira calls made during one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

    pub fn summary(&self) -> String {
        format!(
            "{:.3}r+{:.3}w",
            self.per_task(self.reads),
            self.per_task(self.writes)
        )
    }
}

/// Latencies of one direction.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Operator process figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub peak_rss_mib: f64,
    /// CPU seconds of the initial sync (start to converged and quiet).
    pub cpu_seconds_initial_sync: f64,
    /// CPU seconds of the whole case (all phases).
    pub cpu_seconds_total: f64,
}

/// Everything measured for one (N, mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub mode: String,
    pub tasks: usize,
    /// Which run of this (N, mode) it is, from 0.
    pub repetition: usize,
    pub tickets: usize,
    /// Namespaces the tasks are spread over.
    #[serde(default = "one")]
    pub namespaces: usize,
    /// Syncs (a fleet case: half Individual, half Batch).
    #[serde(default = "one")]
    pub syncs: usize,
    pub convergence_seconds: f64,
    pub floor: Floor,
    pub initial_sync: Calls,
    pub resync_no_change: Calls,
    /// A running operator's resync with nothing changed that searches in full and plans every
    /// ticket (the sync's poll interval changed).
    #[serde(default)]
    pub full_resync_no_change: Option<Calls>,
    /// The Jira emulated: Cloud or DataCenter.
    #[serde(default = "cloud")]
    pub flavor: String,
    /// The operator restarted with nothing changed: every sync searches its tickets in full and
    /// plans every ticket.
    #[serde(default)]
    pub restart_no_change: Option<Calls>,
    pub complete_ten_percent: Calls,
    pub task_to_jira: Latency,
    pub jira_to_task: Latency,
    /// Operator CPU per latency event, milliseconds: (task -> Jira, Jira -> task).
    #[serde(default)]
    pub cpu_ms_per_event: Option<(f64, f64)>,
    pub operator: Resources,
    /// Load average (1 min) when the case started and ended: the machine is shared.
    pub load_average: (f64, f64),
}

fn one() -> usize {
    1
}

fn cloud() -> String {
    "Cloud".to_owned()
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Prints the table: one row per run; `!` marks a ratio under 1 (a measurement fault).
pub fn print_table(cases: &[Case]) {
    println!(
        "\n{:<10} {:>6} {:>3} {:>7} {:>8} {:>8} {:>8} {:>7} {:>15} {:>15} {:>15} {:>13} {:>13} {:>8} {:>7} {:>9}",
        "mode",
        "N",
        "run",
        "tickets",
        "conv s",
        "api s",
        "jira s",
        "ratio",
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
            "{:<10} {:>6} {:>3} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>15} {:>15} {:>15} {:>13} {:>13} {:>8.1} {:>7.1} {:>9}",
            c.mode,
            c.tasks,
            c.repetition,
            c.tickets,
            c.convergence_seconds,
            c.floor.api_server_seconds,
            c.floor.jira_seconds,
            ratio_text(&c.floor),
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
        "\nCalls are reads (r) + writes (w) per task; complete/task divides by the tasks completed. \
         ratio = conv / max(api, jira), each floor the fastest of its runs; ! = under 1, a \
         measurement fault."
    );
    for c in cases {
        let (api, jira) = c.floor.spread();
        println!(
            "{} N={} run {}: floor runs api {:?} (spread {api:.2}), jira {:?} (spread {jira:.2})",
            c.mode, c.tasks, c.repetition, c.floor.api_server_runs, c.floor.jira_runs
        );
    }
    for summary in summaries(cases) {
        println!("{summary}");
    }
}

/// The ratio, marked when it is a measurement fault.
pub fn ratio_text(floor: &Floor) -> String {
    match floor.measurement_fault {
        true => format!("{:.2}!", floor.ratio),
        false => format!("{:.2}", floor.ratio),
    }
}

/// The runs of one (mode, N): medians and ranges.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub mode: String,
    pub flavor: String,
    pub tasks: usize,
    pub runs: usize,
    /// Convergence seconds: (min, median, max).
    pub convergence_seconds: (f64, f64, f64),
    /// Ratio to the larger floor: (min, median, max).
    pub ratio: (f64, f64, f64),
    /// Runs whose ratio is under 1.
    pub measurement_faults: usize,
    /// Lowest and highest 1-minute load average seen at the start or end of a run.
    pub load_average: (f64, f64),
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (c, r) = (self.convergence_seconds, self.ratio);
        write!(
            f,
            "{} N={} over {} runs: conv {:.2}s (min {:.2}, max {:.2}), ratio {:.2} (min {:.2}, max \
             {:.2}), {} measurement faults, load {:.1}-{:.1}",
            self.mode,
            self.tasks,
            self.runs,
            c.1,
            c.0,
            c.2,
            r.1,
            r.0,
            r.2,
            self.measurement_faults,
            self.load_average.0,
            self.load_average.1
        )
    }
}

/// One summary per (mode, N), in the order the cases ran.
pub fn summaries(cases: &[Case]) -> Vec<Summary> {
    let mut keys: Vec<(String, usize, String)> = Vec::new();
    for c in cases {
        let key = (c.mode.clone(), c.tasks, c.flavor.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(mode, tasks, flavor)| {
            let runs: Vec<&Case> = cases
                .iter()
                .filter(|c| c.mode == mode && c.tasks == tasks && c.flavor == flavor)
                .collect();
            let loads = runs
                .iter()
                .flat_map(|c| [c.load_average.0, c.load_average.1]);
            Summary {
                runs: runs.len(),
                convergence_seconds: spread(runs.iter().map(|c| c.convergence_seconds)),
                ratio: spread(runs.iter().map(|c| c.floor.ratio)),
                measurement_faults: runs.iter().filter(|c| c.floor.measurement_fault).count(),
                load_average: (
                    loads.clone().fold(f64::INFINITY, f64::min),
                    loads.fold(0.0, f64::max),
                ),
                mode,
                tasks,
                flavor,
            }
        })
        .collect()
}

/// (min, median, max) of the values.
fn spread(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => (f64::NAN, f64::NAN, f64::NAN),
        n => (values[0], values[n / 2], values[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_gives_min_median_and_max() {
        assert_eq!(spread([3.0, 1.0, 2.0].into_iter()), (1.0, 2.0, 3.0));
        assert_eq!(spread([4.0].into_iter()), (4.0, 4.0, 4.0));
        assert!(spread(std::iter::empty()).0.is_nan());
    }
}
