//! kubectl's flags for where to connect: `--kubeconfig`, `--context`, `-n/--namespace`.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::CliError;

/// Which cluster, as kubectl's flags say.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace (default: the object's own, then the context's).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
}

impl KubeArgs {
    /// A client for the cluster, and the namespace the context names.
    pub async fn client(&self) -> Result<(kube::Client, String), CliError> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let failed = |e: &dyn std::fmt::Display| CliError::Kubeconfig(e.to_string());
        let config = match &self.kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|e| CliError::Kubeconfig(format!("{}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| failed(&e))?
            }
            None if self.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| failed(&e))?,
            None => kube::Config::infer().await.map_err(|e| failed(&e))?,
        };
        let namespace = config.default_namespace.clone();
        let client =
            kube::Client::try_from(config).map_err(|e| CliError::Kubeconfig(e.to_string()))?;
        Ok((client, namespace))
    }

    /// The namespace to act in: the flag, else `own` (the object's), else the context's.
    pub fn namespace_or(&self, own: Option<String>, context: &str) -> String {
        self.namespace
            .clone()
            .or(own)
            .unwrap_or_else(|| context.to_owned())
    }
}
