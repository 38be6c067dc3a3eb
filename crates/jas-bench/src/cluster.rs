//! The real control plane (`scripts/control-plane up`), an admin client for it, the CRDs and
//! namespaces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, Config};

/// A kube-apiserver + etcd on loopback, torn down by its watchdog when the bench exits.
pub struct ControlPlane {
    /// Admin kubeconfig, handed to the operator process.
    pub kubeconfig: PathBuf,
    /// Admin client of the bench.
    pub client: Client,
}

/// Starts the control plane in `dir`, watched by this process.
pub async fn up(dir: &Path) -> anyhow::Result<ControlPlane> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/control-plane");
    let output = tokio::process::Command::new(&script)
        .arg("up")
        .arg("--dir")
        .arg(dir)
        .arg("--watch-pid")
        .arg(std::process::id().to_string())
        .output()
        .await
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} up failed ({}):\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let kubeconfig = stdout
        .lines()
        .find_map(|line| line.strip_prefix("export KUBECONFIG="))
        .map(PathBuf::from)
        .context("no `export KUBECONFIG=` line in the output of control-plane up")?;
    let file = Kubeconfig::read_from(&kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = Config::from_custom_kubeconfig(file, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;
    install_crds(&client).await?;
    Ok(ControlPlane { kubeconfig, client })
}

async fn install_crds(client: &Client) -> anyhow::Result<()> {
    for crd in jira_active_sync::api::crds() {
        apply_crd(client, &crd).await?;
    }
    Ok(())
}

/// Applies `crd` server-side and waits until it is Established.
pub async fn apply_crd(client: &Client, crd: &CustomResourceDefinition) -> anyhow::Result<()> {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let name = crd.metadata.name.clone().context("a CRD without a name")?;
    let params = PatchParams::apply("jas-bench").force();
    api.patch(&name, &params, &Patch::Apply(crd))
        .await
        .with_context(|| format!("applying CRD {name}"))?;
    let established = await_condition(api, &name, conditions::is_crd_established());
    tokio::time::timeout(Duration::from_secs(30), established)
        .await
        .with_context(|| format!("CRD {name} not Established within 30s"))??;
    Ok(())
}

/// Creates a namespace (a bare control plane has no namespace controller, so none is deleted).
pub async fn namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    Ok(())
}
