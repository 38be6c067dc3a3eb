//! The README's table and docs/performance.md's runs, generated from a results file, so that the
//! documents show exactly what a run measured.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::report::{Case, Summary, ratio_text, summaries};

/// The README's generated part.
const README: &str = "README.md";
/// The performance document's generated part.
const PERFORMANCE: &str = "docs/performance.md";

/// What a run wrote.
#[derive(Debug, Deserialize)]
struct Results {
    time: String,
    machine: serde_json::Value,
    cases: Vec<Case>,
}

/// Rewrites the generated parts of README.md and docs/performance.md from `results`.
pub fn documents(results_path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(results_path)
        .with_context(|| format!("reading {}", results_path.display()))?;
    let results: Results = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a results file of this bench (written before floors were measured in the \
             same run?); run scripts/bench again",
            results_path.display()
        )
    })?;
    if results.cases.is_empty() {
        bail!("{} holds no case", results_path.display());
    }
    replace_between(Path::new(README), "bench:summary", &summary_table(&results))?;
    replace_between(Path::new(PERFORMANCE), "bench:runs", &runs_table(&results))?;
    eprintln!("bench: rewrote the tables of {README} and {PERFORMANCE}");
    Ok(())
}

/// Writes to `output` the cases of every file of `inputs` (results files of separate runs, in
/// order), with each run's command and time, the machine of the first and summaries over all.
pub fn merge(inputs: &[std::path::PathBuf], output: &Path) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut first: Option<serde_json::Value> = None;
    for input in inputs {
        let text = std::fs::read_to_string(input)
            .with_context(|| format!("reading {}", input.display()))?;
        let mut results: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", input.display()))?;
        let taken: Vec<Case> = serde_json::from_value(results["cases"].take())
            .with_context(|| format!("the cases of {}", input.display()))?;
        // A file merged before keeps its list of runs.
        match results["runs"].take() {
            serde_json::Value::Array(merged) => runs.extend(merged),
            _ => runs.push(serde_json::json!({"command": results["command"], "time": results["time"], "cases": taken.len()})),
        }
        cases.extend(taken);
        first.get_or_insert(results);
    }
    let Some(first) = first else {
        bail!("--merge names no results file");
    };
    let latest = runs.iter().filter_map(|r| r["time"].as_str()).max();
    let merged = serde_json::json!({
        "runs": runs,
        "time": latest,
        "machine": first["machine"],
        "connectionRateLimit": first["connectionRateLimit"],
        "summary": summaries(&cases),
        "cases": cases,
    });
    std::fs::write(output, serde_json::to_string_pretty(&merged)?)
        .with_context(|| format!("writing {}", output.display()))?;
    eprintln!(
        "bench: merged {} cases into {}",
        cases.len(),
        output.display()
    );
    Ok(())
}

/// Replaces what lies between `<!-- {marker}:start -->` and `<!-- {marker}:end -->` in `path`.
pub fn replace_between(path: &Path, marker: &str, generated: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (start, end) = (
        format!("<!-- {marker}:start -->"),
        format!("<!-- {marker}:end -->"),
    );
    let (Some(from), Some(to)) = (text.find(&start), text.find(&end)) else {
        bail!("{} lacks the markers {start} and {end}", path.display());
    };
    let rewritten = format!("{}{start}\n{generated}{}", &text[..from], &text[to..]);
    std::fs::write(path, rewritten).with_context(|| format!("writing {}", path.display()))
}

/// The line saying where and when the figures were measured.
fn provenance(results: &Results, summaries: &[Summary]) -> String {
    let machine = &results.machine;
    let low = summaries
        .iter()
        .map(|s| s.load_average.0)
        .fold(f64::INFINITY, f64::min);
    let high = summaries
        .iter()
        .map(|s| s.load_average.1)
        .fold(0.0, f64::max);
    format!(
        "Measured {} on {} CPUs ({}), {:.1} GiB, 1-minute load {low:.1}-{high:.1}. Each floor is the \
         fastest of its runs in the same run as the case (two before it, one after it).\n\n",
        results.time,
        machine["cpus"],
        machine["cpuModel"].as_str().unwrap_or("unknown CPU"),
        machine["memoryGiB"].as_f64().unwrap_or(f64::NAN),
    )
}

/// One row per (mode, N): medians over the runs, ranges, the slowest latencies and the most memory.
fn summary_table(results: &Results) -> String {
    let summaries = summaries(&results.cases);
    let mut out = provenance(results, &summaries);
    out.push_str(
        "| mode | N | runs | tickets | converged s (min-max) | API-server floor s | Jira floor s | ratio (min-max) | \
         faults | t->Jira p99 ms | Jira->t p99 ms | peak RSS MiB |\n\
         |---|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|\n",
    );
    for s in &summaries {
        let runs: Vec<&Case> = results
            .cases
            .iter()
            .filter(|c| c.mode == s.mode && c.tasks == s.tasks && c.flavor == s.flavor)
            .collect();
        let fastest = |f: fn(&Case) -> f64| runs.iter().map(|c| f(c)).fold(f64::INFINITY, f64::min);
        let slowest = |f: fn(&Case) -> f64| runs.iter().map(|c| f(c)).fold(0.0, f64::max);
        let (c, r) = (s.convergence_seconds, s.ratio);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} ({:.2}-{:.2}) | {:.2} | {:.2} | {:.2} ({:.2}-{:.2}) | {} | {:.0} | {:.0} | {:.1} |\n",
            mode_text(runs[0]),
            s.tasks,
            s.runs,
            runs[0].tickets,
            c.1,
            c.0,
            c.2,
            fastest(|c| c.floor.api_server_seconds),
            fastest(|c| c.floor.jira_seconds),
            r.1,
            r.0,
            r.2,
            s.measurement_faults,
            slowest(|c| c.task_to_jira.p99_ms),
            slowest(|c| c.jira_to_task.p99_ms),
            slowest(|c| c.operator.peak_rss_mib),
        ));
    }
    out
}

/// The mode column: a fleet names its namespaces and syncs.
fn mode_text(case: &Case) -> String {
    let mode = match case.syncs {
        1 => case.mode.clone(),
        syncs => format!("{} ({} ns, {syncs} syncs)", case.mode, case.namespaces),
    };
    match case.flavor.as_str() {
        "Cloud" => mode,
        flavor => format!("{mode}, {flavor}"),
    }
}

/// Every run, with every floor run.
fn runs_table(results: &Results) -> String {
    let mut out = provenance(results, &summaries(&results.cases));
    out.push_str(
        "| mode | N | run | tickets | conv s | API-server floor runs s | Jira floor runs s | ratio | initial/task | \
         resync/task | full resync/task | restart/task | complete/task | t->J p50/p99 ms | J->t p50/p99 ms | CPU ms/event | RSS MiB | CPU s | load |\n\
         |---|---:|---:|---:|---:|---|---|---:|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n",
    );
    let runs = |values: &[f64]| {
        let text: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
        text.join(", ")
    };
    for c in &results.cases {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0}/{:.0} | {:.0}/{:.0} | {} | {:.1} | {:.1} | {:.1}/{:.1} |\n",
            mode_text(c),
            c.tasks,
            c.repetition,
            c.tickets,
            c.convergence_seconds,
            runs(&c.floor.api_server_runs),
            runs(&c.floor.jira_runs),
            ratio_text(&c.floor),
            c.initial_sync.summary(),
            c.resync_no_change.summary(),
            c.full_resync_no_change
                .as_ref()
                .map_or_else(|| "-".to_owned(), |r| r.summary()),
            c.restart_no_change
                .as_ref()
                .map_or_else(|| "-".to_owned(), |r| r.summary()),
            c.complete_ten_percent.summary(),
            c.task_to_jira.p50_ms,
            c.task_to_jira.p99_ms,
            c.jira_to_task.p50_ms,
            c.jira_to_task.p99_ms,
            c.cpu_ms_per_event
                .map_or_else(|| "-".to_owned(), |(t, j)| format!("{t:.1}/{j:.1}")),
            c.operator.peak_rss_mib,
            c.operator.cpu_seconds_total,
            c.load_average.0,
            c.load_average.1,
        ));
    }
    out
}
