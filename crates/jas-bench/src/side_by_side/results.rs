//! What a side-by-side run writes to `docs/side-by-side.json`, and the docs are rendered from.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::Calls;

/// Where the results go, relative to the repository.
pub const PATH: &str = "docs/side-by-side.json";

/// The first phase: every result fails, the tool creates tickets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initial {
    /// Failing results in the reports.
    pub failing_results: usize,
    pub tickets_made: usize,
    pub duplicates: usize,
    /// From the first report written to the last ticket's `created` time; none without tickets.
    pub seconds_to_last_ticket: Option<f64>,
    /// From the first report written to the tool's last Jira call of the phase (the phase ends
    /// after 10 s without a Jira call or reconcile).
    pub seconds_to_last_call: Option<f64>,
    /// Jira calls of the phase (429 answers included).
    pub calls: Calls,
    /// Calls the emulator answered with 429 (Jira Cloud's rate limits).
    pub rate_limited: u64,
    /// The process's peak RSS (VmHWM), MiB.
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
}

/// The second phase: the tool restarted, then 10% of the results flipped to `pass`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flip {
    pub results_flipped: usize,
    /// Tickets made in this phase (the restart and the flip).
    pub tickets_made: usize,
    /// Tickets for a finding that already had one, over every ticket at the end.
    pub duplicates: usize,
    /// Tickets in a done status at the end.
    pub tickets_closed: usize,
    /// From the flip to the tool's last Jira call after it; none without a call. The flip is
    /// written once the restarted tool has been quiet for 10 s.
    pub seconds_to_last_call: Option<f64>,
    /// Jira calls of the restart and the flip (429 answers included).
    pub calls: Calls,
    pub rate_limited: u64,
    /// The restarted process's peak RSS, MiB.
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
}

/// One tool through both phases.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolRun {
    pub tool: String,
    pub namespace: String,
    /// What it was configured with (policy-reporter's config file, or the operator's resources).
    pub configuration: Value,
    pub initial: Initial,
    pub flip: Flip,
    /// 1-minute load average at the start and the end.
    pub load_average: (f64, f64),
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideBySide {
    pub command: Vec<String>,
    pub time: String,
    pub machine: Value,
    /// The binary compared and the commit it was built from.
    pub policy_reporter: Value,
    /// The reports and the emulator.
    pub workload: Value,
    pub tools: Vec<ToolRun>,
}
