//! The side-by-side tables of README.md (short) and docs/performance.md (every figure), generated
//! from `docs/side-by-side.json` between the markers `bench:side-by-side`.

use std::path::Path;

use anyhow::Context as _;

use super::results::{SideBySide, ToolRun};
use crate::render::replace_between;
use crate::report::Calls;

/// The marker of both generated parts.
const MARKER: &str = "bench:side-by-side";

/// Rewrites the side-by-side tables of README.md and docs/performance.md from `results_path`.
pub fn documents(results_path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(results_path)
        .with_context(|| format!("reading {}", results_path.display()))?;
    let results: SideBySide = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a side-by-side results file",
            results_path.display()
        )
    })?;
    replace_between(Path::new("README.md"), MARKER, &short_table(&results))?;
    replace_between(
        Path::new("docs/performance.md"),
        MARKER,
        &full_table(&results),
    )?;
    eprintln!("side-by-side: rewrote the tables of README.md and docs/performance.md");
    Ok(())
}

fn provenance(results: &SideBySide) -> String {
    let machine = &results.machine;
    let commit = results.policy_reporter["commit"]
        .as_str()
        .unwrap_or("an unrecorded commit");
    format!(
        "Measured {} on {} CPUs ({}), policy-reporter built from {commit}.\n\n",
        results.time,
        machine["cpus"],
        machine["cpuModel"].as_str().unwrap_or("unknown CPU"),
    )
}

fn calls(calls: &Calls) -> String {
    format!("{}r+{}w", calls.reads, calls.writes)
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |s| format!("{s:.1}"))
}

/// One row a tool: tickets, calls, time to the last ticket, memory, then duplicates and closes.
pub fn short_table(results: &SideBySide) -> String {
    let mut out = provenance(results);
    out.push_str(
        "| tool | tickets for 1,000 failing results | Jira calls | s to last ticket | peak RSS MiB | \
         duplicates after a restart | tickets closed for 100 passing |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for run in &results.tools {
        let (a, b) = (&run.initial, &run.flip);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {} | {} |\n",
            run.tool,
            a.tickets_made,
            a.calls.reads + a.calls.writes,
            seconds(a.seconds_to_last_ticket),
            a.peak_rss_mib.max(b.peak_rss_mib),
            b.duplicates,
            b.tickets_closed,
        ));
    }
    out
}

fn full_row(run: &ToolRun) -> String {
    let (a, b) = (&run.initial, &run.flip);
    format!(
        "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1}/{:.1} |\n",
        run.tool,
        a.tickets_made,
        calls(&a.calls),
        a.rate_limited,
        seconds(a.seconds_to_last_ticket),
        seconds(a.seconds_to_last_call),
        a.peak_rss_mib,
        a.cpu_seconds,
        b.tickets_made,
        b.duplicates,
        b.tickets_closed,
        calls(&b.calls),
        b.rate_limited,
        seconds(b.seconds_to_last_call),
        b.peak_rss_mib,
        run.load_average.0,
        run.load_average.1,
    )
}

/// Every figure of both phases, a row a tool.
pub fn full_table(results: &SideBySide) -> String {
    let mut out = provenance(results);
    out.push_str(
        "| tool | tickets | calls | 429 | s to last ticket | s to last call | RSS MiB | CPU s | \
         new tickets | duplicates | closed | calls | 429 | s to last call | RSS MiB | load |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n",
    );
    for run in &results.tools {
        out.push_str(&full_row(run));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::side_by_side::results::{Flip, Initial};

    fn calls(reads: u64, writes: u64) -> Calls {
        Calls {
            per: 1,
            reads,
            writes,
            by_endpoint: BTreeMap::new(),
            seconds: 1.0,
        }
    }

    fn sample() -> SideBySide {
        let initial = Initial {
            failing_results: 1_000,
            tickets_made: 1_000,
            duplicates: 0,
            seconds_to_last_ticket: None,
            seconds_to_last_call: Some(12.0),
            calls: calls(3, 1_000),
            rate_limited: 7,
            peak_rss_mib: 40.0,
            cpu_seconds: 2.0,
        };
        let flip = Flip {
            results_flipped: 100,
            tickets_made: 900,
            duplicates: 900,
            tickets_closed: 0,
            seconds_to_last_call: None,
            calls: calls(0, 900),
            rate_limited: 0,
            peak_rss_mib: 45.5,
            cpu_seconds: 2.0,
        };
        SideBySide {
            command: vec![],
            time: "2026-12-03T12:00:00Z".to_owned(),
            machine: json!({"cpus": 2, "cpuModel": "CPU"}),
            policy_reporter: json!({"commit": "abc"}),
            workload: json!({}),
            tools: vec![ToolRun {
                tool: "t".to_owned(),
                namespace: "n".to_owned(),
                configuration: json!(null),
                initial,
                flip,
                load_average: (1.0, 2.0),
            }],
        }
    }

    #[test]
    fn the_short_table_has_a_row_per_tool() {
        let table = short_table(&sample());
        assert!(table.contains("policy-reporter built from abc"));
        assert!(
            table.ends_with("| t | 1000 | 1003 | - | 45.5 | 900 | 0 |\n"),
            "{table}"
        );
    }

    #[test]
    fn the_full_table_shows_both_phases() {
        let table = full_table(&sample());
        assert!(
            table.ends_with("| t | 1000 | 3r+1000w | 7 | - | 12.0 | 40.0 | 2.0 | 900 | 900 | 0 | 0r+900w | 0 | - | 45.5 | 1.0/2.0 |\n"),
            "{table}"
        );
    }
}
