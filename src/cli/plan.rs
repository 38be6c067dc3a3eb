//! `plan -f sync.yaml`: previews the JiraActiveSyncs of a file against the live cluster and Jira.

use std::io::Read as _;
use std::path::PathBuf;

use kube::ResourceExt;
use serde::Deserialize;

use super::{CliError, KubeArgs, Output};
use crate::api::JiraActiveSync;
use crate::controller::cluster_installation;
use crate::controller::preview::{PlanRequest, Preview, preview, render};
use crate::planner::Installation;

/// The flags of `plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// The file holding the JiraActiveSync(s) to preview (`-` reads standard input); other kinds
    /// in it are skipped.
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Preview deleting the sync (what its deletionPolicy does) instead of applying it.
    #[arg(long)]
    pub delete: bool,
    /// How long a created ticket may take to show in Jira's search (as the operator's flag).
    #[arg(long, default_value = "30s")]
    pub search_settle: jiff::SignedDuration,
    /// The operator installation whose tickets to plan with (as its `--installation`); by
    /// default derived from the cluster, as the operator derives it.
    #[arg(long, env = "JAS_INSTALLATION")]
    pub installation: Option<Installation>,
    /// Where to connect.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The JSON answer of `plan -o json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct PlanOutput {
    /// Whether any sync would change something.
    pub changes: bool,
    /// One preview per sync of the file, in file order.
    pub plans: Vec<Preview>,
}

/// Previews every sync of the file; gives the text to print and whether anything would change.
pub async fn run_plan(args: &PlanArgs) -> Result<(String, bool), CliError> {
    let syncs = read_syncs(&args.file)?;
    let (client, context_namespace) = args.kube.client().await?;
    let installation = match &args.installation {
        Some(installation) => installation.clone(),
        None => cluster_installation(&client)
            .await
            .map_err(|e| CliError::Installation(format!("{e:#}")))?,
    };
    let mut plans = Vec::new();
    for mut sync in syncs {
        let namespace = args.kube.namespace_or(sync.namespace(), &context_namespace);
        sync.metadata.namespace = Some(namespace);
        let request = PlanRequest {
            sync,
            delete: args.delete,
            search_settle: args.search_settle,
            installation: installation.clone(),
        };
        plans.push(preview(&client, request).await?);
    }
    let changes = plans.iter().any(|p| p.changes);
    let text = match args.output {
        Output::Json => {
            let mut json = serde_json::to_string_pretty(&PlanOutput { changes, plans })?;
            json.push('\n');
            json
        }
        Output::Text => plans.iter().map(render).collect::<Vec<_>>().join("\n"),
    };
    Ok((text, changes))
}

/// The JiraActiveSyncs of a YAML (or JSON) file of one or more documents.
fn read_syncs(path: &PathBuf) -> Result<Vec<JiraActiveSync>, CliError> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Input(format!("reading standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| CliError::Input(format!("{shown}: {e}")))?
    };
    parse_syncs(&text, &shown.to_string())
}

/// The JiraActiveSyncs of the YAML documents in `text` (read from `shown`).
fn parse_syncs(text: &str, shown: &str) -> Result<Vec<JiraActiveSync>, CliError> {
    let mut syncs = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(document)
            .map_err(|e| CliError::Input(format!("{shown}: {e}")))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some("JiraActiveSync") {
            continue;
        }
        let sync: JiraActiveSync = serde_json::from_value(value)
            .map_err(|e| CliError::Input(format!("{shown}: not a valid JiraActiveSync: {e}")))?;
        if sync.metadata.name.as_deref().is_none_or(str::is_empty) {
            return Err(CliError::Input(format!(
                "{shown}: a JiraActiveSync has no metadata.name"
            )));
        }
        syncs.push(sync);
    }
    if syncs.is_empty() {
        return Err(CliError::Input(format!("{shown} holds no JiraActiveSync")));
    }
    Ok(syncs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_its_syncs_and_skips_other_kinds() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n\
            apiVersion: activesync.dev/v1alpha1\nkind: JiraActiveSync\nmetadata: {name: a, namespace: ns}\n\
            spec: {connectionRef: {name: c}, jira: {project: SEC}}\n";
        let syncs = parse_syncs(text, "f.yaml").expect("one sync");
        assert_eq!(syncs.len(), 1);
        assert_eq!(syncs[0].namespace().as_deref(), Some("ns"));
        let none = parse_syncs("kind: Secret\n", "f.yaml").expect_err("no sync");
        assert_eq!(none.to_string(), "f.yaml holds no JiraActiveSync");
        let unnamed = "kind: JiraActiveSync\nmetadata: {}\nspec: {connectionRef: {name: c}, jira: {project: SEC}}\n";
        let error = parse_syncs(unnamed, "f.yaml").expect_err("no name");
        assert!(error.to_string().contains("no metadata.name"), "{error}");
    }
}
