//! `explain ctask/NAME | jas/NAME`: who owns a task and why, or what a sync keeps and did.

use super::{CliError, KubeArgs, Output};
use crate::controller::explain::{Target, explain, render};

/// The flags of `explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// `ctask/NAME` or `jas/NAME`.
    pub target: Target,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Where to connect.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The explanation, as text or JSON.
pub async fn run_explain(args: &ExplainArgs) -> Result<String, CliError> {
    let (client, context_namespace) = args.kube.client().await?;
    let namespace = args.kube.namespace_or(None, &context_namespace);
    let explained = explain(&client, &namespace, &args.target).await?;
    Ok(match args.output {
        Output::Text => render(&explained),
        Output::Json => {
            let mut json = serde_json::to_string_pretty(&explained)?;
            json.push('\n');
            json
        }
    })
}
