//! The installation's identity when none is given: derived from the cluster's own, the UID of the
//! `kube-system` namespace, which lives as long as the cluster and differs between clusters.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;

use crate::planner::Installation;

/// The namespace whose UID names the cluster.
const CLUSTER_NAMESPACE: &str = "kube-system";

/// The identity of this installation derived from the cluster it runs in.
pub async fn cluster_installation(client: &kube::Client) -> anyhow::Result<Installation> {
    let namespace = Api::<Namespace>::all(client.clone())
        .get(CLUSTER_NAMESPACE)
        .await
        .with_context(|| {
            format!(
                "reading the {CLUSTER_NAMESPACE} namespace, whose UID gives this installation its \
                 identity (grant get on namespaces/{CLUSTER_NAMESPACE}, or pass --installation)"
            )
        })?;
    let uid = namespace
        .metadata
        .uid
        .with_context(|| format!("the {CLUSTER_NAMESPACE} namespace has no UID"))?;
    Ok(Installation::of_cluster(&uid))
}
