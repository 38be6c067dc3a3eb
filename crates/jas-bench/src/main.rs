//! `jas-bench`, the operator benchmark (`scripts/bench`): the release operator and `jira-emulator` (Jira Cloud's
//! rate limits on) as separate processes, against a real kube-apiserver + etcd, for N tasks in
//! Individual and Batch mode. Prints a table and writes `bench-results.json`.

mod cluster;
mod fleet;
mod floors;
mod jira;
mod operator;
mod phases;
mod render;
mod report;
mod scenario;
mod side_by_side;
mod tasks;

/// A binary built next to this one (`jira-active-sync`, `jira-emulator`).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the bench executable")?;
    let path = exe.with_file_name(name);
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build it with `cargo build --release --bins`",
        path.display()
    );
    Ok(path)
}

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use serde_json::json;

/// The sync mode of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// A ticket per task.
    Individual,
    /// A ticket per assignee (50 assignees).
    Batch,
}

impl Mode {
    /// The name the CRD uses.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Individual => "Individual",
            Mode::Batch => "Batch",
        }
    }
}

/// Which Jira the emulator plays.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FlavorArg {
    Cloud,
    DataCenter,
}

/// Measures convergence, Jira API cost, latency and memory from 100 to 10,000 tasks.
#[derive(Debug, Parser)]
struct Args {
    /// N = 100 only (a few minutes).
    #[arg(long)]
    quick: bool,
    /// Task counts (default 100,1000,10000).
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<usize>,
    /// Modes (default both).
    #[arg(long, value_enum, value_delimiter = ',')]
    modes: Vec<Mode>,
    /// The Jira the single-sync cases run against (fleets run against Cloud).
    #[arg(long, value_enum, default_value = "cloud")]
    flavor: FlavorArg,
    /// Latency events per direction and case.
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Fleet sizes: N tasks over 50 namespaces and 100 syncs (half Individual, half Batch) on
    /// one operator, e.g. 10000,50000. With --fleet and no --sizes, only fleets run.
    #[arg(long, value_delimiter = ',')]
    fleet: Vec<usize>,
    /// Measure nothing: merge these results files (each written by a run) into --output, their
    /// cases one after the other, so the documents can be rendered from one file.
    #[arg(long, value_delimiter = ',', value_name = "RESULTS")]
    merge: Vec<PathBuf>,
    /// Runs of each (N, mode); the table gives the spread over them.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Where the JSON goes.
    #[arg(long, default_value = "bench-results.json")]
    output: PathBuf,
    /// Measure nothing: regenerate the tables of README.md and docs/performance.md from this
    /// results file (written by an earlier run).
    #[arg(long, value_name = "RESULTS")]
    render: Option<PathBuf>,
    /// Instead of the bench: side by side with kyverno/policy-reporter's Jira target, this
    /// binary of it; writes docs/side-by-side.json (see docs/performance.md).
    #[arg(long, value_name = "POLICY_REPORTER")]
    side_by_side: Option<PathBuf>,
    /// The policy-reporter commit that binary was built from, for the results.
    #[arg(long, value_name = "COMMIT", requires = "side_by_side")]
    policy_reporter_commit: Option<String>,
    /// Measure nothing: regenerate the side-by-side tables of README.md and docs/performance.md
    /// from this results file.
    #[arg(long, value_name = "RESULTS")]
    render_side_by_side: Option<PathBuf>,
}

fn machine() -> serde_json::Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0);
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpuModel": model,
        "memoryGiB": memory_gib,
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "note": "shared with other engineers' builds; see each case's loadAverage",
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(results) = &args.render {
        return render::documents(results);
    }
    if let Some(results) = &args.render_side_by_side {
        return side_by_side::render::documents(results);
    }
    if let Some(binary) = &args.side_by_side {
        return side_by_side::run(binary, args.policy_reporter_commit.as_deref()).await;
    }
    if !args.merge.is_empty() {
        return render::merge(&args.merge, &args.output);
    }
    let dir = std::env::temp_dir().join(format!("jas-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    eprintln!(
        "bench: logs in {}; starting the control plane",
        dir.display()
    );
    let plane = cluster::up(&dir.join("control-plane")).await?;
    let bench = scenario::Bench {
        plane,
        dir,
        events: args.events,
        flavor: match args.flavor {
            FlavorArg::Cloud => jira_active_sync::jira::Flavor::Cloud,
            FlavorArg::DataCenter => jira_active_sync::jira::Flavor::DataCenter,
        },
    };
    let mut cases = Vec::new();
    single_syncs(&bench, &args, &mut cases).await?;
    fleets(&bench, &args, &mut cases).await?;
    let results = json!({
        "command": std::env::args().collect::<Vec<_>>(),
        "time": jiff::Timestamp::now().to_string(),
        "machine": machine(),
        "connectionRateLimit": {"requestsPerSecond": jira::CLOUD_REQUESTS_PER_SECOND, "burst": jira::CLOUD_REQUESTS_PER_SECOND},
        "summary": report::summaries(&cases),
        "cases": cases,
    });
    std::fs::write(&args.output, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("bench: wrote {}", args.output.display());
    Ok(())
}

/// The cases of one sync: every size and mode asked for, `--repeat` runs each.
async fn single_syncs(
    bench: &scenario::Bench,
    args: &Args,
    cases: &mut Vec<report::Case>,
) -> anyhow::Result<()> {
    let sizes = match (args.quick, args.sizes.is_empty(), args.fleet.is_empty()) {
        (true, _, _) => vec![100],
        (false, true, true) => vec![100, 1_000, 10_000],
        (false, true, false) => Vec::new(),
        (false, false, _) => args.sizes.clone(),
    };
    let modes = if args.modes.is_empty() {
        vec![Mode::Individual, Mode::Batch]
    } else {
        args.modes.clone()
    };
    for &n in &sizes {
        let floor_namespace = floors::prepare_api_server(bench, n).await?;
        for &mode in &modes {
            for repetition in 0..args.repeat.max(1) {
                let run = scenario::CaseRun {
                    n,
                    mode,
                    repetition,
                    floor_namespace: &floor_namespace,
                };
                let case = scenario::run(bench, &run)
                    .await
                    .with_context(|| format!("N={n} {} run {repetition}", mode.name()))?;
                cases.push(case);
                report::print_table(cases);
            }
        }
    }
    Ok(())
}

/// The fleet cases, `--repeat` runs each.
async fn fleets(
    bench: &scenario::Bench,
    args: &Args,
    cases: &mut Vec<report::Case>,
) -> anyhow::Result<()> {
    for &n in &args.fleet {
        let floor_namespace = floors::prepare_api_server(bench, n).await?;
        for repetition in 0..args.repeat.max(1) {
            let case = fleet::run(bench, (n, repetition, &floor_namespace))
                .await
                .with_context(|| format!("fleet N={n} run {repetition}"))?;
            cases.push(case);
            report::print_table(cases);
        }
    }
    Ok(())
}
