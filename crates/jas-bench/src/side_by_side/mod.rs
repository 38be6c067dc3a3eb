//! Side by side with kyverno/policy-reporter's Jira target (`jas-bench --side-by-side BINARY`), a
//! benchmark run by hand: the same PolicyReports (1,000 failing results over 200 Deployments),
//! each tool in its own namespace against its own fresh `jira-emulator` (Jira Cloud's rate limits
//! on, same seed, project SEC, issue type Task), one after the other. Phase one: tickets made,
//! Jira calls, time to the last ticket, peak RSS. Phase two: the tool restarted and 10% of the
//! results flipped to `pass`: duplicates made, tickets closed. Writes `docs/side-by-side.json`
//! (run from the repository's root, as `scripts/bench` does).

mod crds;
mod phases;
mod policy_reporter;
pub mod render;
mod reports;
mod results;
mod tickets;
mod tool;

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::json;

use crate::cluster;
use crate::jira::Emulator;
use results::SideBySide;
use tool::{Stage, Tool};

/// The tools, in the order they run.
const TOOLS: [Tool; 3] = [
    Tool::JiraActiveSync,
    Tool::PolicyReporter {
        skip_existing_on_startup: true,
    },
    Tool::PolicyReporter {
        skip_existing_on_startup: false,
    },
];

/// Runs every tool through both phases, writes the results file and prints the table.
pub async fn run(binary: &Path, commit: Option<&str>) -> anyhow::Result<()> {
    if !binary.is_file() {
        bail!("{} is not a policy-reporter binary", binary.display());
    }
    let binary = binary
        .canonicalize()
        .with_context(|| format!("locating {}", binary.display()))?;
    let dir = std::env::temp_dir().join(format!("jas-side-by-side-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!(
        "side-by-side: logs in {}; starting the control plane",
        dir.display()
    );
    let plane = cluster::up(&dir.join("control-plane")).await?;
    crds::install(&plane.client).await?;
    let mut runs = Vec::new();
    for tool in TOOLS {
        let emulator =
            Emulator::start(&dir.join(format!("{}-emulator.log", tool.namespace())), 0).await?;
        let stage = Stage {
            plane: &plane,
            emulator: &emulator,
            dir: &dir,
            binary: &binary,
        };
        let run = phases::run(&stage, tool)
            .await
            .with_context(|| format!("{} (logs in {})", tool.name(), dir.display()))?;
        runs.push(run);
    }
    let results = SideBySide {
        command: std::env::args().collect(),
        time: jiff::Timestamp::now().to_string(),
        machine: crate::machine(),
        policy_reporter: json!({"binary": binary, "commit": commit}),
        workload: json!({
            "reports": reports::RESOURCES,
            "failingResults": reports::failing_results(),
            "flippedToPass": reports::flipped_results(),
            "emulator": "jira-emulator --rate-limits (Jira Cloud), a fresh one per tool, project SEC, issue type Task",
        }),
        tools: runs,
    };
    std::fs::write(results::PATH, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("writing {}", results::PATH))?;
    println!("{}", render::full_table(&results));
    eprintln!("side-by-side: wrote {}", results::PATH);
    Ok(())
}
