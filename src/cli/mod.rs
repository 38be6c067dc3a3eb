//! The commands people run beside the operator: `plan` (a read-only dry run of a sync) and
//! `explain` (who owns a task and why, and what a sync did), as `jira-active-sync plan|explain`
//! or, installed as `kubectl-jas`, `kubectl jas plan|explain`; and `uninstall`, which the chart's
//! pre-delete hook runs.

mod explain;
mod kube_args;
mod plan;
mod uninstall;

pub use explain::{ExplainArgs, run_explain};
pub use kube_args::KubeArgs;
pub use plan::{PlanArgs, PlanOutput, run_plan};
pub use uninstall::{OnUninstall, UninstallArgs, run_uninstall};

/// How a command prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs; the field names are stable.
    Json,
}

/// What stops a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The kubeconfig, its context or the cluster cannot be used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// A file cannot be read or parsed.
    #[error("{0}")]
    Input(String),
    /// The preview failed.
    #[error(transparent)]
    Preview(#[from] crate::controller::preview::PreviewError),
    /// Reading the cluster failed.
    #[error(transparent)]
    Read(#[from] crate::controller::Error),
    /// The installation identity cannot be derived from the cluster.
    #[error("{0}")]
    Installation(String),
    /// The uninstall hook could not finish.
    #[error("uninstall: {0}")]
    Uninstall(String),
    /// Printing JSON failed.
    #[error("serialising: {0}")]
    Serialise(#[from] serde_json::Error),
}
