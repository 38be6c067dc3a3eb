//! The chart installed as users install it: the operator's image (`scripts/image`) run by a real
//! kubelet on the single-node cluster of `scripts/cluster`, in a namespace that enforces the
//! restricted Pod Security profile. Where this machine cannot run that cluster, each test says so
//! on stderr (`SKIPPED ...`) and returns; `JAS_SKIP_IN_CLUSTER=1` skips them the same way.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;
use support::cluster::node_cluster_or_skip;
use support::helm::{helm_ok, release_fullname};
use support::image::imported;
use support::operator::lease_holder;
use support::{TestNamespace, eventually};

const CHART: &str = "charts/jira-active-sync";
/// How long a Pod may take to start here (image unpacking, a busy machine).
const POD_PATIENCE: Duration = Duration::from_secs(180);

/// Labels the namespace so that admission enforces the restricted Pod Security profile.
async fn enforce_restricted(ns: &TestNamespace) {
    let labels = json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }}});
    Api::<Namespace>::all(ns.client.clone())
        .patch(&ns.name, &PatchParams::default(), &Patch::Merge(&labels))
        .await
        .expect("label the namespace");
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The names of the release's Pods, once all `count` are Ready.
async fn ready_pods(ns: &TestNamespace, release: &str, count: usize) -> Vec<String> {
    let selector = format!("app.kubernetes.io/instance={release}");
    eventually("the release's Pods to be Ready", POD_PATIENCE, || async {
        let pods = ns
            .api::<Pod>()
            .list(&ListParams::default().labels(&selector))
            .await
            .ok()?;
        let ready: Vec<String> = pods
            .items
            .iter()
            .filter(|pod| is_ready(pod) && pod.metadata.deletion_timestamp.is_none())
            .filter_map(|pod| pod.metadata.name.clone())
            .collect();
        (ready.len() == count).then_some(ready)
    })
    .await
}

/// How many objects of kind `K` carry the release's instance label, in `api`'s scope.
async fn count_of_release<K>(api: Api<K>, release: &str) -> usize
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let selector = format!("app.kubernetes.io/instance={release}");
    api.list(&ListParams::default().labels(&selector))
        .await
        .unwrap_or_else(|e| panic!("list {}: {e}", K::kind(&())))
        .items
        .len()
}

/// Everything the release made, in its namespace and cluster-wide (Pods included).
async fn objects_of_release(client: &Client, ns: &TestNamespace, release: &str) -> usize {
    count_of_release(ns.api::<Deployment>(), release).await
        + count_of_release(ns.api::<Pod>(), release).await
        + count_of_release(ns.api::<Service>(), release).await
        + count_of_release(ns.api::<ServiceAccount>(), release).await
        + count_of_release(ns.api::<Role>(), release).await
        + count_of_release(ns.api::<RoleBinding>(), release).await
        + count_of_release(Api::<ClusterRole>::all(client.clone()), release).await
        + count_of_release(Api::<ClusterRoleBinding>::all(client.clone()), release).await
}

#[tokio::test]
async fn helm_install_waits_for_two_ready_replicas_under_the_restricted_profile_and_uninstall_keeps_the_crds()
 {
    let test = "helm_install_waits_for_two_ready_replicas_under_the_restricted_profile";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    let ns = TestNamespace::new("in-cluster-install").await;
    enforce_restricted(&ns).await;
    let release = "install";
    let kubeconfig = cluster.kubeconfig();
    let mut args = vec!["install", release, CHART, "--namespace", &ns.name];
    args.extend(["--wait", "--timeout", "5m"]);
    let values = image.helm_values();
    for value in &values {
        args.extend(["--set", value]);
    }
    // --wait returns only once the Deployment is available: both replicas Ready.
    helm_ok(&args, kubeconfig).await;

    let pods = ready_pods(&ns, release, 2).await;
    let lease = format!("{}-leader", release_fullname(release));
    let holder = eventually("a replica to hold the Lease", POD_PATIENCE, || async {
        lease_holder(&ns.client, &ns.name, &lease).await
    })
    .await;
    assert!(
        pods.contains(&holder),
        "the Lease holder {holder} is one of the release's Pods {pods:?}"
    );

    helm_ok(
        &["uninstall", release, "--namespace", &ns.name, "--wait"],
        kubeconfig,
    )
    .await;
    let admin = cluster.client("default").await;
    eventually(
        "the release's objects to be gone",
        POD_PATIENCE,
        || async { (objects_of_release(&admin, &ns, release).await == 0).then_some(()) },
    )
    .await;
    let crds = Api::<CustomResourceDefinition>::all(admin);
    for crd in [
        "jiraactivesyncs.activesync.dev",
        "jiraconnections.activesync.dev",
        "compliancetasks.activesync.dev",
        "compliancetasksources.activesync.dev",
    ] {
        crds.get(crd)
            .await
            .unwrap_or_else(|e| panic!("the CRD {crd} is kept after helm uninstall: {e}"));
    }
}
