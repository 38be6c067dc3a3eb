//! The report formats' CRDs, from `../shared/policy-reports/` next to the repository (as the
//! task source tests read them): both tools discover the report API groups at start.

use std::path::PathBuf;

use anyhow::Context as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use serde::Deserialize;

/// The CRD files, PolicyReport and Report, namespaced and cluster-scoped.
const FILES: [&str; 4] = [
    "wgpolicyk8s.io_policyreports.yaml",
    "wgpolicyk8s.io_clusterpolicyreports.yaml",
    "openreports.io_reports.yaml",
    "openreports.io_clusterreports.yaml",
];

/// `../shared/policy-reports`, relative to the repository.
fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/policy-reports")
}

/// Applies the four report CRDs and waits until each is Established.
pub async fn install(client: &Client) -> anyhow::Result<()> {
    for file in FILES {
        let path = shared_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for document in serde_yaml::Deserializer::from_str(&text) {
            let mut crd = CustomResourceDefinition::deserialize(document)
                .with_context(|| format!("a CRD in {}", path.display()))?;
            crd.status = None;
            crd.metadata.creation_timestamp = None;
            crate::cluster::apply_crd(client, &crd).await?;
        }
    }
    Ok(())
}
