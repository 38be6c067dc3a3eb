//! `jira-active-sync`: the operator binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use jira_active_sync::api;
use jira_active_sync::cli::{
    ExplainArgs, PlanArgs, UninstallArgs, run_explain, run_plan, run_uninstall,
};
use jira_active_sync::controller::{self, RunOptions, Settings};
use jira_active_sync::planner::Installation;

/// Keeps Jira tickets in step with compliance tasks, in both directions.
#[derive(Parser)]
#[command(name = "jira-active-sync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator against the current kube context (or in-cluster config).
    Run(RunArgs),
    /// Print every CRD as YAML (what `crds/` holds), or write one file per kind with `--output-dir`.
    Crd {
        /// Write `<group>_<plural>.yaml` files into this directory instead of printing.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// What the chart's pre-delete hook runs before `helm uninstall` removes the operator: detach
    /// the syncs (Jira untouched) or delete them, each applying its deletion policy.
    Uninstall(UninstallArgs),
    #[command(flatten)]
    Tool(Tool),
}

/// The commands that also work as `kubectl jas ...`.
#[derive(Subcommand)]
enum Tool {
    /// Show what applying (or, with --delete, deleting) a JiraActiveSync would do in Jira and to
    /// tasks, read from the live cluster and Jira without writing to either. Exit 0: no changes,
    /// 2: changes, 1: error.
    Plan(PlanArgs),
    /// Explain who owns a task and why (ctask/NAME), or what a sync keeps and did (jas/NAME).
    Explain(ExplainArgs),
}

/// `kubectl jas ...`: the binary installed as `kubectl-jas`.
#[derive(Parser)]
#[command(
    name = "kubectl jas",
    bin_name = "kubectl jas",
    version,
    about = "Jira Active Sync: plan and explain"
)]
struct KubectlCli {
    #[command(subcommand)]
    command: Tool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Address of the HTTP listener (/metrics, /healthz, /readyz, POST /webhooks/jira).
    #[arg(long, default_value = "0.0.0.0:8080", env = "JAS_LISTEN")]
    listen: SocketAddr,
    /// Namespace to watch (repeatable); by default every namespace.
    #[arg(long = "namespace", value_name = "NAMESPACE")]
    namespaces: Vec<String>,
    /// How long a created ticket may take to show in Jira's search; a create whose answer was lost is
    /// not repeated within it.
    #[arg(long, default_value = "30s", value_parser = parse_search_settle)]
    search_settle: jiff::SignedDuration,
    /// Take the leader Lease before running the controllers, so that HA replicas are safe
    /// (the Lease lives in POD_NAMESPACE, is held as POD_NAME and is named by JAS_LEASE_NAME).
    #[arg(long, env = "JAS_LEADER_ELECTION")]
    leader_election: bool,
    /// How long the Lease stays valid after its last renewal: the longest a dead leader keeps
    /// the other replicas waiting (whole seconds, at least 2).
    #[arg(long, default_value = "15s", value_parser = parse_lease_duration)]
    lease_duration: std::time::Duration,
    /// Let ComplianceTaskSources read cluster-scoped reports (ClusterPolicyReport, ClusterReport);
    /// needs cluster-wide read rights on them (chart value taskSources.clusterReports).
    #[arg(long, env = "JAS_CLUSTER_REPORTS")]
    cluster_reports: bool,
    /// This installation's identity, part of every ticket's labels so that installs sharing a Jira
    /// site never touch each other's tickets: 1 to 40 lower-case letters, digits and '-'. By default
    /// derived from the cluster (the kube-system namespace's UID); set it when one cluster runs two
    /// installs, and keep it when moving an install to a new cluster.
    #[arg(long, env = "JAS_INSTALLATION")]
    installation: Option<Installation>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "JAS_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn parse_duration(text: &str) -> Result<jiff::SignedDuration, String> {
    text.parse::<jiff::SignedDuration>()
        .map_err(|e| format!("{text:?} is not a duration such as 30s or 2m: {e}"))
}

/// Longest search settle window taken: Jira's index lags by seconds; a day is already absurd.
const MAX_SEARCH_SETTLE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

fn parse_search_settle(text: &str) -> Result<jiff::SignedDuration, String> {
    let settle = parse_duration(text)?;
    if settle.is_negative() || settle > MAX_SEARCH_SETTLE {
        return Err(format!("{text:?} must be between 0s and 24h"));
    }
    Ok(settle)
}

fn parse_lease_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration = std::time::Duration::try_from(parse_duration(text)?)
        .map_err(|_| format!("{text:?} is negative"))?;
    if duration.subsec_nanos() != 0 || duration.as_secs() < 2 {
        return Err(format!("{text:?} must be whole seconds, at least 2s"));
    }
    Ok(duration)
}

fn main() -> anyhow::Result<ExitCode> {
    if invoked_as_kubectl_plugin() {
        return match parse::<KubectlCli>() {
            Ok(cli) => run_tool(cli.command),
            Err(code) => Ok(code),
        };
    }
    let command = match parse::<Cli>() {
        Ok(cli) => cli.command,
        Err(code) => return Ok(code),
    };
    match command {
        Command::Crd { output_dir } => print_crds(output_dir).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => run(args).map(|()| ExitCode::SUCCESS),
        Command::Uninstall(args) => uninstall(&args),
        Command::Tool(tool) => run_tool(tool),
    }
}

/// The command line, or the exit code after clap printed help, the version or a usage error. A
/// usage error exits 1, not clap's 2: `plan`'s 2 means "changes".
fn parse<P: Parser>() -> Result<P, ExitCode> {
    P::try_parse().map_err(|error| {
        let _ = error.print();
        if error.use_stderr() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// Whether the binary runs as `kubectl-jas` (a link or copy of that name, as krew installs it).
fn invoked_as_kubectl_plugin() -> bool {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .is_some_and(|name| name == "kubectl-jas")
}

/// Runs `plan` or `explain`: exit 0 (for `plan`, no changes), 2 (`plan`: changes), 1 on error.
fn run_tool(tool: Tool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match tool {
        Tool::Plan(args) => {
            let (text, changes) = runtime.block_on(run_plan(&args))?;
            print!("{text}");
            Ok(if changes {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Tool::Explain(args) => {
            print!("{}", runtime.block_on(run_explain(&args))?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs the uninstall hook, printing what it did.
fn uninstall(args: &UninstallArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    print!("{}", runtime.block_on(run_uninstall(args))?);
    Ok(ExitCode::SUCCESS)
}

/// Keeps glibc's malloc to one arena. By default glibc gives busy threads arenas of their own (up to
/// eight per core), each keeping the memory freed into it: at 10,000 tasks that was 155-157 MiB
/// resident, against 119 MiB with one arena, for the same work and CPU time (two arenas: 155 MiB).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cap_malloc_arenas() {
    // SAFETY: mallopt only sets an allocator parameter. It runs before the runtime starts any
    // thread, and a refusal (0) leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_malloc_arenas() {}

fn run(args: RunArgs) -> anyhow::Result<()> {
    cap_malloc_arenas();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,kube=warn,tower=warn,hyper=warn")
    });
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Text => subscriber.init(),
        LogFormat::Json => subscriber.json().init(),
    }
    tokio::runtime::Runtime::new()
        .context("starting the async runtime")?
        .block_on(run_operator(args))
}

async fn run_operator(args: RunArgs) -> anyhow::Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to the cluster")?;
    let installation = match args.installation {
        Some(installation) => installation,
        None => controller::cluster_installation(&client).await?,
    };
    tracing::info!(%installation, "installation identity");
    let options = RunOptions {
        listen: args.listen,
        namespaces: args.namespaces,
        settings: Settings {
            search_settle: args.search_settle,
            manager: "jira-active-sync".to_owned(),
            cluster_reports: args.cluster_reports,
            installation,
        },
        leader_election: args.leader_election.then_some(args.lease_duration),
    };
    controller::run(client, options).await
}

fn print_crds(output_dir: Option<PathBuf>) -> anyhow::Result<()> {
    for crd in api::crds() {
        let yaml = api::crd_yaml(&crd).context("serialising a CRD")?;
        match &output_dir {
            Some(dir) => {
                let path = dir.join(api::crd_file_name(&crd));
                std::fs::write(&path, yaml)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            None => print!("---\n{yaml}"),
        }
    }
    Ok(())
}
