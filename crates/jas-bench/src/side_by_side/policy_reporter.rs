//! kyverno/policy-reporter with its Jira target, configured through its config file, as its own
//! process (`policy-reporter run --config FILE --kubeconfig FILE --port PORT`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::jira::ADMIN;
use crate::operator::{Usage, usage_of};

/// The config file: the Jira target pointed at the emulator's project SEC (issue type Task, REST
/// v3 with the admin's API token), reading only the reports of `namespace`.
pub fn config(
    jira_url: &str,
    namespace: &str,
    skip_existing_on_startup: bool,
) -> anyhow::Result<String> {
    let config = json!({
        "reportFilter": {"namespaces": {"include": [namespace]}},
        "target": {"jira": {
            "name": "Jira",
            "skipExistingOnStartup": skip_existing_on_startup,
            "config": {
                "host": jira_url,
                "username": ADMIN.0,
                "apiToken": ADMIN.1,
                "projectKey": "SEC",
                "issueType": "Task",
                "apiVersion": "v3",
            },
        }},
    });
    serde_yaml::to_string(&config).context("writing the policy-reporter config file")
}

/// A running policy-reporter.
pub struct PolicyReporter {
    child: Child,
    pid: u32,
}

/// What a policy-reporter process is started with.
pub struct Launch<'a> {
    /// The built binary.
    pub binary: &'a Path,
    /// The control plane's admin kubeconfig.
    pub kubeconfig: &'a Path,
    /// Its config file.
    pub config: &'a Path,
    /// Where it runs and logs (`log` names its log file there).
    pub dir: &'a Path,
    pub log: &'a str,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl PolicyReporter {
    /// Starts it and waits until `/ready` answers 200 (its report informers have synced).
    pub async fn start(launch: &Launch<'_>) -> anyhow::Result<PolicyReporter> {
        let port = free_port()?;
        let log: PathBuf = launch.dir.join(launch.log);
        let child = Command::new(launch.binary)
            .arg("run")
            .arg("--config")
            .arg(launch.config)
            .arg("--kubeconfig")
            .arg(launch.kubeconfig)
            .arg("--port")
            .arg(port.to_string())
            .current_dir(launch.dir)
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(log.with_extension("stderr.log"))?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} run", launch.binary.display()))?;
        let pid = child.id().context("policy-reporter pid")?;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ready = http
                .get(format!("http://127.0.0.1:{port}/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(PolicyReporter { child, pid });
            }
            if Instant::now() > deadline {
                bail!(
                    "policy-reporter was not ready within 120s (log: {})",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Peak RSS and CPU seconds so far.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        usage_of(self.pid)
    }

    /// Stops the process.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("stopping policy-reporter")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn the_config_file_sets_the_jira_target_and_the_namespace() {
        let text = config("http://127.0.0.1:4242", "sbs-pr", true).expect("config");
        let parsed: Value = serde_yaml::from_str(&text).expect("YAML");
        let jira = &parsed["target"]["jira"];
        assert_eq!(jira["config"]["host"], "http://127.0.0.1:4242");
        assert_eq!(jira["config"]["projectKey"], "SEC");
        assert_eq!(jira["config"]["issueType"], "Task");
        assert_eq!(jira["config"]["username"], ADMIN.0);
        assert_eq!(jira["config"]["apiToken"], ADMIN.1);
        assert_eq!(jira["skipExistingOnStartup"], true);
        assert_eq!(parsed["reportFilter"]["namespaces"]["include"][0], "sbs-pr");
    }

    #[test]
    fn skipping_existing_results_is_a_setting() {
        let parsed: Value =
            serde_yaml::from_str(&config("http://x", "ns", false).expect("config")).expect("YAML");
        assert_eq!(parsed["target"]["jira"]["skipExistingOnStartup"], false);
    }
}
