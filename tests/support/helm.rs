//! `scripts/helm` (the project's pinned Helm) run from the crate root, for the chart suites.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;

use super::TestNamespace;

/// Runs `scripts/helm ARGS` (against `kubeconfig`, if given) and returns stdout, or stdout and
/// stderr as the error.
pub async fn helm(args: &[&str], kubeconfig: Option<&Path>) -> Result<String, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut command = tokio::process::Command::new(root.join("scripts/helm"));
    command.args(args).current_dir(&root);
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    let output = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run scripts/helm: {e}"));
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "helm {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// [`helm`], failing the test on an error.
pub async fn helm_ok(args: &[&str], kubeconfig: Option<&Path>) -> String {
    helm(args, kubeconfig)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The name the chart gives the objects of `release` (its `fullname`).
pub fn release_fullname(release: &str) -> String {
    format!("{release}-jira-active-sync")
}

/// The operator's Deployment the chart installed for `release` in `ns`.
pub async fn release_deployment(ns: &TestNamespace, release: &str) -> Deployment {
    ns.api::<Deployment>()
        .get(&release_fullname(release))
        .await
        .unwrap_or_else(|e| panic!("no Deployment of release {release}: {e}"))
}
