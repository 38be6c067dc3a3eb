//! `jira-active-sync uninstall`: what the chart's pre-delete hook runs while the operator still
//! runs, so that `helm uninstall` never leaves a namespace stuck in Terminating on the operator's
//! finalizers, with no operator left to take them off.
//!
//! - `--syncs Detach` (the chart's default) leaves Jira as it is: it stops the operator, then takes
//!   its finalizers off every sync, connection and task source. They stay, and a later install
//!   takes them up again and finds its tickets by label. Deleting them afterwards touches no ticket.
//! - `--syncs ApplyDeletionPolicies` deletes every sync and task source while the operator runs,
//!   so each applies its policy (Retain, Close, Delete; Complete or Delete for task sources), and
//!   waits until they are gone and the connections are released.

use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::time::Instant;

use super::CliError;
use crate::api::{
    ComplianceTaskSource, FINALIZER, IN_USE, JiraActiveSync, JiraConnection, SOURCE_FINALIZER,
};
use crate::controller::{api, finalizers};

/// What becomes of the syncs and task sources when the operator is uninstalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnUninstall {
    /// Leave Jira and the objects as they are; only the operator's finalizers go.
    #[value(name = "Detach")]
    Detach,
    /// Delete the syncs and task sources, each applying its deletion policy, and wait for them.
    #[value(name = "ApplyDeletionPolicies")]
    ApplyDeletionPolicies,
}

/// `jira-active-sync uninstall`.
#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// What becomes of the syncs and task sources.
    #[arg(long, value_enum)]
    pub syncs: OnUninstall,
    /// A namespace the release watches (repeatable); every namespace when none is given.
    #[arg(long = "namespace", value_name = "NAMESPACE")]
    pub namespaces: Vec<String>,
    /// The operator's Deployment: Detach scales it to zero and waits for its Pods to go first, so
    /// that no replica puts a finalizer back.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub deployment: Option<String>,
    /// How long to wait for the operator to stop, or for the syncs to go.
    #[arg(long, default_value = "4m", value_parser = parse_timeout)]
    pub timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    text.parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| format!("{text:?} is not a positive duration such as 4m"))
}

/// Carries out `args`; gives what was done, for the hook's log.
pub async fn run_uninstall(args: &UninstallArgs) -> Result<String, CliError> {
    let client = kube::Client::try_default()
        .await
        .map_err(|e| CliError::Kubeconfig(e.to_string()))?;
    let deadline = Instant::now() + args.timeout;
    let scopes: Vec<Option<&str>> = if args.namespaces.is_empty() {
        vec![None]
    } else {
        args.namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    match args.syncs {
        OnUninstall::Detach => {
            if let Some(deployment) = &args.deployment {
                stop_operator(&client, deployment, deadline).await?;
            }
            let mut detached = 0;
            for scope in &scopes {
                detached += detach::<JiraActiveSync>(&client, *scope, FINALIZER).await?;
                detached +=
                    detach::<ComplianceTaskSource>(&client, *scope, SOURCE_FINALIZER).await?;
                detached += detach::<JiraConnection>(&client, *scope, IN_USE).await?;
            }
            Ok(format!(
                "Detached {detached} object(s) from the operator: Jira is untouched, and the syncs, \
                 connections and task sources stay for a later install.\n"
            ))
        }
        OnUninstall::ApplyDeletionPolicies => {
            apply_deletion_policies(&client, &scopes, deadline).await
        }
    }
}

/// Deletes every sync and task source in `scopes` and waits until they are gone and no connection
/// is kept in use.
async fn apply_deletion_policies(
    client: &kube::Client,
    scopes: &[Option<&str>],
    deadline: Instant,
) -> Result<String, CliError> {
    let mut deleted = 0;
    for scope in scopes {
        deleted += delete_all::<JiraActiveSync>(client, *scope).await?;
        deleted += delete_all::<ComplianceTaskSource>(client, *scope).await?;
    }
    loop {
        let left = still_there(client, scopes).await?;
        if left.is_empty() {
            return Ok(format!(
                "Deleted {deleted} sync(s) and task source(s), each applying its deletion policy.\n"
            ));
        }
        if Instant::now() >= deadline {
            return Err(CliError::Uninstall(format!(
                "still waiting for: {}. Each says why in its Ready condition; to give up a \
                 cleanup, annotate the sync activesync.dev/abandon-cleanup=true, or uninstall \
                 with uninstall.syncs=Detach",
                left.join("; ")
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How often the waits look again.
const POLL: Duration = Duration::from_secs(2);

/// What the waits of ApplyDeletionPolicies still wait for, each with why.
async fn still_there(
    client: &kube::Client,
    scopes: &[Option<&str>],
) -> Result<Vec<String>, CliError> {
    let mut left = Vec::new();
    for scope in scopes {
        for sync in list::<JiraActiveSync>(client, *scope).await? {
            let ready = sync.status.as_ref().and_then(|s| {
                s.conditions
                    .iter()
                    .find(|c| c.type_ == "Ready")
                    .map(|c| c.message.clone())
            });
            left.push(format!(
                "JiraActiveSync {} ({})",
                qualified(&sync),
                ready.unwrap_or_default()
            ));
        }
        for source in list::<ComplianceTaskSource>(client, *scope).await? {
            left.push(format!("ComplianceTaskSource {}", qualified(&source)));
        }
        for connection in list::<JiraConnection>(client, *scope).await? {
            if connection.finalizers().iter().any(|f| f == IN_USE) {
                left.push(format!(
                    "JiraConnection {} (in use)",
                    qualified(&connection)
                ));
            }
        }
    }
    Ok(left)
}

/// Scales the operator's Deployment (`namespace/name`) to zero and waits until its Pods are gone.
async fn stop_operator(
    client: &kube::Client,
    deployment: &str,
    deadline: Instant,
) -> Result<(), CliError> {
    let (namespace, name) = deployment.split_once('/').ok_or_else(|| {
        CliError::Input(format!("--deployment {deployment:?} is not NAMESPACE/NAME"))
    })?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let scale = json!({"spec": {"replicas": 0}});
    deployments
        .patch_scale(name, &PatchParams::default(), &Patch::Merge(&scale))
        .await
        .map_err(|e| failed(&format!("scaling {deployment} to zero"), e))?;
    let selector = deployments
        .get(name)
        .await
        .map_err(|e| failed(&format!("reading {deployment}"), e))?
        .spec
        .and_then(|s| s.selector.match_labels)
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let of_operator = ListParams::default().labels(&selector);
    while !pods
        .list_metadata(&of_operator)
        .await
        .map_err(|e| failed("listing the operator's Pods", e))?
        .items
        .is_empty()
    {
        if Instant::now() >= deadline {
            return Err(CliError::Uninstall(format!(
                "the Pods of {deployment} did not stop in time"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// The kinds the hook lists, detaches and deletes: the operator's namespaced custom resources.
trait Kind:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Kind for K where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
{
}

/// Takes `finalizer` off every object of kind `K` in `scope`; gives how many had it.
async fn detach<K: Kind>(
    client: &kube::Client,
    scope: Option<&str>,
    finalizer: &str,
) -> Result<usize, CliError> {
    let mut detached = 0;
    for object in list::<K>(client, scope).await? {
        if !object.finalizers().iter().any(|f| f == finalizer) {
            continue;
        }
        let kept: Vec<&str> = object
            .finalizers()
            .iter()
            .map(String::as_str)
            .filter(|f| *f != finalizer)
            .collect();
        // A finalizer added meanwhile makes this fail rather than be dropped.
        finalizers::replace(&own_api(client, &object), &object, &kept)
            .await
            .map_err(|e| failed(&format!("detaching {}", qualified(&object)), e))?;
        detached += 1;
    }
    Ok(detached)
}

/// Deletes every object of kind `K` in `scope`; gives how many.
async fn delete_all<K: Kind>(
    client: &kube::Client,
    scope: Option<&str>,
) -> Result<usize, CliError> {
    let objects = list::<K>(client, scope).await?;
    for object in &objects {
        own_api(client, object)
            .delete(&object.name_any(), &DeleteParams::default())
            .await
            .map_err(|e| failed(&format!("deleting {}", qualified(object)), e))?;
    }
    Ok(objects.len())
}

async fn list<K: Kind>(client: &kube::Client, scope: Option<&str>) -> Result<Vec<K>, CliError> {
    Ok(api::<K>(client, scope)
        .list(&ListParams::default())
        .await
        .map_err(|e| failed(&format!("listing {}s", K::kind(&())), e))?
        .items)
}

/// The API of `object`'s kind in its namespace.
fn own_api<K: Kind>(client: &kube::Client, object: &K) -> Api<K> {
    api(client, Some(&object.namespace().unwrap_or_default()))
}

fn qualified<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

fn failed(what: &str, error: kube::Error) -> CliError {
    CliError::Uninstall(format!("{what}: {error}"))
}
