//! The tools compared, how each is set up in its namespace, started (and started again), and
//! what the bench reads from the running process.

use std::path::Path;

use anyhow::Context as _;
use jira_active_sync::api::{ComplianceTaskSource, JiraActiveSync};
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value, json};

use super::policy_reporter::{self, Launch, PolicyReporter};
use crate::cluster::ControlPlane;
use crate::jira::Emulator;
use crate::operator::{Operator, Usage};
use crate::phases;

/// A tool under comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The release operator with a ComplianceTaskSource and an Individual JiraActiveSync.
    JiraActiveSync,
    /// policy-reporter's Jira target, skipping results that existed before it started (the Helm
    /// chart's default) or sending them again.
    PolicyReporter { skip_existing_on_startup: bool },
}

/// Where a tool runs: the control plane, its fresh emulator, the log folder, the
/// policy-reporter binary.
pub struct Stage<'a> {
    pub plane: &'a ControlPlane,
    pub emulator: &'a Emulator,
    pub dir: &'a Path,
    pub binary: &'a Path,
}

/// A running tool.
pub enum Running {
    JiraActiveSync(Operator),
    PolicyReporter(PolicyReporter),
}

impl Tool {
    /// Its name in the table.
    pub fn name(self) -> String {
        match self {
            Tool::JiraActiveSync => "Jira Active Sync".to_owned(),
            Tool::PolicyReporter {
                skip_existing_on_startup,
            } => format!("policy-reporter (skipExistingOnStartup: {skip_existing_on_startup})"),
        }
    }

    /// Its own namespace, holding its own copy of the reports.
    pub fn namespace(self) -> &'static str {
        match self {
            Tool::JiraActiveSync => "sbs-jira-active-sync",
            Tool::PolicyReporter {
                skip_existing_on_startup: true,
            } => "sbs-policy-reporter-skip",
            Tool::PolicyReporter {
                skip_existing_on_startup: false,
            } => "sbs-policy-reporter-resend",
        }
    }

    fn config_file(self, stage: &Stage<'_>) -> std::path::PathBuf {
        stage.dir.join(format!("{}.yaml", self.namespace()))
    }

    /// Creates what the tool is configured with; returns that configuration for the results.
    pub async fn prepare(self, stage: &Stage<'_>) -> anyhow::Result<Value> {
        let ns = self.namespace();
        match self {
            Tool::JiraActiveSync => {
                let client = &stage.plane.client;
                phases::connection(client, ns, stage.emulator).await?;
                let source = json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTaskSource",
                    "metadata": {"name": "findings"}, "spec": {"results": ["fail", "error"], "reports": ["PolicyReport"]}});
                let sync = json!({"apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
                    "metadata": {"name": "findings"},
                    "spec": {"connectionRef": {"name": "bench"}, "jira": {"project": "SEC", "issueType": "Task"},
                             "mode": "Individual", "pollInterval": "1h"}});
                Api::<ComplianceTaskSource>::namespaced(client.clone(), ns)
                    .create(
                        &PostParams::default(),
                        &serde_json::from_value(source.clone())?,
                    )
                    .await
                    .context("creating the ComplianceTaskSource")?;
                Api::<JiraActiveSync>::namespaced(client.clone(), ns)
                    .create(
                        &PostParams::default(),
                        &serde_json::from_value(sync.clone())?,
                    )
                    .await
                    .context("creating the JiraActiveSync")?;
                Ok(json!([source, sync]))
            }
            Tool::PolicyReporter {
                skip_existing_on_startup,
            } => {
                let text = policy_reporter::config(
                    &stage.emulator.base_url,
                    ns,
                    skip_existing_on_startup,
                )?;
                let path = self.config_file(stage);
                std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(Value::String(text))
            }
        }
    }

    /// Starts the tool's process (`start` counts the starts, for the log names) until it is ready.
    pub async fn start(self, stage: &Stage<'_>, start: usize) -> anyhow::Result<Running> {
        let ns = self.namespace();
        let log = format!("{ns}-{start}.log");
        match self {
            Tool::JiraActiveSync => {
                let operator = Operator::start(
                    &stage.plane.kubeconfig,
                    &[ns.to_owned()],
                    &stage.dir.join(log),
                )
                .await?;
                phases::connection_ready(&stage.plane.client, ns).await?;
                Ok(Running::JiraActiveSync(operator))
            }
            Tool::PolicyReporter { .. } => {
                let config = self.config_file(stage);
                let launch = Launch {
                    binary: stage.binary,
                    kubeconfig: &stage.plane.kubeconfig,
                    config: &config,
                    dir: stage.dir,
                    log: &log,
                };
                Ok(Running::PolicyReporter(
                    PolicyReporter::start(&launch).await?,
                ))
            }
        }
    }
}

impl Running {
    /// Peak RSS and CPU seconds of the process so far.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        match self {
            Running::JiraActiveSync(operator) => operator.usage(),
            Running::PolicyReporter(reporter) => reporter.usage(),
        }
    }

    /// A count that moves while the tool works without calling Jira: the operator's reconciles
    /// (policy-reporter exposes none without its metrics API, so 0).
    pub async fn activity(&self) -> anyhow::Result<u64> {
        match self {
            Running::JiraActiveSync(operator) => operator.reconciles().await,
            Running::PolicyReporter(_) => Ok(0),
        }
    }

    /// Stops the process.
    pub async fn stop(self) -> anyhow::Result<()> {
        match self {
            Running::JiraActiveSync(operator) => operator.stop().await,
            Running::PolicyReporter(reporter) => reporter.stop().await,
        }
    }
}
