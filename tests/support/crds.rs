//! The project's CRDs, installed once per test binary from the generated types.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};
use tokio::sync::OnceCell;

/// How long a CRD may take to become Established.
const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(30);

static INSTALLED: OnceCell<()> = OnceCell::const_new();

/// Installs (server-side applies) every CRD of `jira_active_sync::api::crds()` once, and waits
/// until each is Established.
pub async fn ensure_crds(client: &Client) {
    INSTALLED.get_or_init(|| install(client)).await;
}

/// Applies every CRD and waits until each is Established (idempotent).
pub async fn install(client: &Client) {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let params = PatchParams::apply("jas-tests").force();
    for crd in jira_active_sync::api::crds() {
        let name = crd.metadata.name.clone().expect("generated CRDs are named");
        api.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .unwrap_or_else(|e| panic!("cannot apply CRD {name}: {e}"));
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        match tokio::time::timeout(ESTABLISHED_TIMEOUT, established).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("watching CRD {name} failed: {e}"),
            Err(_) => panic!("CRD {name} not Established within {ESTABLISHED_TIMEOUT:?}"),
        }
    }
}
