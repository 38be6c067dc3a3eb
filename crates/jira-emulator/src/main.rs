//! `jira-emulator`: serves an in-memory Jira until interrupted, printing its base URL once serving.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use jira_emulator::{Emulator, EmulatorConfig, Flavor, Seed};
use tracing_subscriber::EnvFilter;

/// A faithful in-memory Jira (Cloud REST v3 / Data Center REST v2) for tests and dry runs.
#[derive(Debug, Parser)]
#[command(name = "jira-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The site to start with: a built-in seed by name (`default`, `jira-software`, `review`,
    /// `service-management`, `dc-classic`) or a seed file (YAML or JSON) describing users,
    /// projects, workflow and issues.
    #[arg(long, default_value = "default")]
    seed: String,
    /// Which Jira to emulate.
    #[arg(long, value_enum, default_value_t = Flavor::Cloud)]
    flavor: Flavor,
    /// Enforce Jira Cloud's rate limits from the start.
    #[arg(long)]
    rate_limits: bool,
    /// Serve HTTPS with a server certificate signed by a CA made at start-up.
    #[arg(long)]
    tls: bool,
    /// Another name (DNS name or IP address) the server certificate covers besides the loopback
    /// ones and the listen address, e.g. a Service's; repeatable, needs `--tls`.
    #[arg(long = "tls-name", requires = "tls")]
    tls_names: Vec<String>,
    /// Where to write that CA's certificate (PEM), for clients to trust; needs `--tls`.
    #[arg(long, requires = "tls")]
    tls_ca_out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let seed = Seed::named_or_file(&args.seed)?;
    let config = EmulatorConfig {
        flavor: args.flavor,
        seed,
        rate_limits: args.rate_limits,
        tls: args.tls,
        tls_names: args.tls_names,
        ..EmulatorConfig::default()
    };
    let handle = Emulator::start(args.listen, config)
        .await
        .context("starting the emulator")?;
    if let (Some(path), Some(pem)) = (&args.tls_ca_out, handle.ca_pem()) {
        std::fs::write(path, pem)
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }
    println!("{}", handle.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.shutdown().await;
    Ok(())
}
