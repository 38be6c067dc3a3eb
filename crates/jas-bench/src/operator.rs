//! The operator under test: the release `jira-active-sync run` as its own process, so its memory
//! and CPU come from `/proc`, plus what the bench reads from its `/metrics` and sends to its webhook.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::process::{Child, Command};

/// A running operator process.
pub struct Operator {
    child: Child,
    pid: u32,
    /// Its HTTP listener (`/metrics`, `/readyz`, `/webhooks/jira`).
    pub listen: SocketAddr,
    http: reqwest::Client,
}

/// Peak memory and CPU time of a process so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Peak resident set (VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// User + system CPU, seconds.
    pub cpu_seconds: f64,
}

impl Usage {
    /// A restarted operator's usage, counting the process before it: the higher peak, the CPU
    /// of both.
    pub fn after(self, earlier: Usage) -> Usage {
        Usage {
            peak_rss_mib: self.peak_rss_mib.max(earlier.peak_rss_mib),
            cpu_seconds: self.cpu_seconds + earlier.cpu_seconds,
        }
    }
}

/// The installation identity the benchmarked operator runs with.
pub const INSTALLATION: &str = "bench";

/// The label of the tickets of `sync` in `namespace`, for the bench's installation.
pub fn sync_label(namespace: &str, sync: &str) -> anyhow::Result<String> {
    let installation = jira_active_sync::planner::Installation::parse(INSTALLATION)?;
    Ok(jira_active_sync::planner::SyncLabels::of(&installation, namespace, sync).current)
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

impl Operator {
    /// Starts the operator on `namespaces`, logging to `log`, and waits until it is ready.
    pub async fn start(
        kubeconfig: &Path,
        namespaces: &[String],
        log: &Path,
    ) -> anyhow::Result<Operator> {
        Operator::start_on(free_port()?, kubeconfig, namespaces, log).await
    }

    /// The same, listening on `listen` (a restarted operator keeps its address, which Jira's
    /// webhooks name).
    pub async fn start_on(
        listen: SocketAddr,
        kubeconfig: &Path,
        namespaces: &[String],
        log: &Path,
    ) -> anyhow::Result<Operator> {
        let child = Command::new(crate::sibling("jira-active-sync")?)
            .arg("run")
            .arg("--listen")
            .arg(listen.to_string())
            .args(namespaces.iter().flat_map(|ns| ["--namespace", ns]))
            .arg("--installation")
            .arg(INSTALLATION)
            .env("KUBECONFIG", kubeconfig)
            .stdout(std::fs::File::create(log)?)
            .stderr(std::fs::File::create(log.with_extension("stderr.log"))?)
            .kill_on_drop(true)
            .spawn()
            .context("starting jira-active-sync run")?;
        let pid = child.id().context("operator pid")?;
        let operator = Operator {
            child,
            pid,
            listen,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = operator
                .http
                .get(format!("http://{listen}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(operator);
            }
            if Instant::now() > deadline {
                bail!(
                    "the operator was not ready within 60s (log: {})",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Peak RSS and CPU seconds from `/proc/<pid>`.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        usage_of(self.pid)
    }

    /// Successful `JiraActiveSync` reconciles so far, from `/metrics`.
    pub async fn reconciles(&self) -> anyhow::Result<u64> {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.listen))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| {
                l.starts_with("jira_active_sync_reconciles_total{") && l.contains("JiraActiveSync")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64)
    }

    /// Posts a signed Jira webhook delivery naming the sync's label: the sync re-reads Jira.
    pub async fn poke(&self, secret: &str, label: &str, identifier: &str) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&serde_json::json!({
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "SEC-1", "fields": {"labels": [label]}}
        }))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())?;
        mac.update(&body);
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let response = self
            .http
            .post(format!("http://{}/webhooks/jira", self.listen))
            .header("content-type", "application/json")
            .header("x-hub-signature", signature)
            .header("x-atlassian-webhook-identifier", identifier)
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("webhook refused: {}", response.status());
        }
        Ok(())
    }

    /// Stops the process.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Peak RSS and CPU seconds of process `pid` so far, from `/proc/<pid>`.
pub fn usage_of(pid: u32) -> anyhow::Result<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid))?;
    let hwm_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM in /proc/<pid>/status")?;
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid))?;
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("/proc/<pid>/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("/proc/<pid>/stat field")?
            .parse::<f64>()?)
    };
    Ok(Usage {
        peak_rss_mib: hwm_kib / 1024.0,
        cpu_seconds: (ticks(11)? + ticks(12)?) / clock_ticks(),
    })
}

/// Kernel clock ticks per second (`getconf CLK_TCK`; 100 on every common Linux).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
