//! `jira-active-sync plan`: what applying (or deleting) a JiraActiveSync would do, read from the live
//! cluster and Jira without writing to either. It gathers what a pass gathers (the ownership split,
//! the tickets found by label, the assignees' accounts, the pending creates the status records),
//! through the same functions, and asks the same planner; nothing is remembered or reported.

mod render;
mod report;

use std::sync::Arc;

use kube::api::ListParams;
use kube::{Api, ResourceExt};

use super::connection::read_client;
use super::error::Error;
use super::gather::{Ownership, accounts, observed_tickets, ownership_among};
use super::target::{check_allowed, verify_target};
use crate::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use crate::planner::{ObservedTicket, PendingCreates, PlanInput, SyncView, plan, plan_deletion};

pub use render::render;
pub use report::{
    DeletionPreview, FieldChange, Operation, OwnershipChange, Preview, PreviewAction,
    PreviewCounts, PreviewTaskWrite,
};

/// What went wrong while previewing: nothing was written either way.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// Reading the cluster or Jira failed.
    #[error(transparent)]
    Read(#[from] Error),
    /// The sync cannot be synced as it stands; the operator would report this on its conditions.
    #[error("{0}")]
    Blocked(String),
    /// The sync given is not one that can be previewed.
    #[error("{0}")]
    Input(String),
}

/// What to preview.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The sync as it would be applied (its namespace set).
    pub sync: JiraActiveSync,
    /// Preview deleting the live sync instead of applying it.
    pub delete: bool,
    /// How long a created ticket may take to show in search (the operator's `--search-settle`).
    pub search_settle: jiff::SignedDuration,
}

/// The cluster objects a preview plans from.
struct Cluster {
    live: Option<JiraActiveSync>,
    syncs: Vec<Arc<JiraActiveSync>>,
    tasks: Vec<Arc<ComplianceTask>>,
    connection: JiraConnection,
}

/// Plans the sync of `request` against the live cluster and Jira; reads only.
pub async fn preview(kube: &kube::Client, request: PlanRequest) -> Result<Preview, PreviewError> {
    let now = jiff::Timestamp::now();
    let namespace = request
        .sync
        .namespace()
        .ok_or_else(|| PreviewError::Input("the sync has no namespace".into()))?;
    let cluster = read_cluster(kube, &namespace, &request.sync).await?;
    if request.delete && cluster.live.is_none() {
        let name = request.sync.name_any();
        return Err(PreviewError::Input(format!(
            "JiraActiveSync {namespace}/{name} does not exist: there is nothing to delete"
        )));
    }
    let candidate = candidate(&request.sync, cluster.live.as_ref(), now, request.delete);
    check_allowed(&candidate, &cluster.connection).map_err(|b| PreviewError::Blocked(b.message))?;
    let client = read_client(kube, &cluster.connection).await?;
    verify_target(&candidate, &client)
        .await
        .map_err(|b| PreviewError::Blocked(b.message))?;
    let tickets = observed_tickets(&client, &namespace, &candidate.name_any()).await?;
    let syncs = with_candidate(&cluster.syncs, &candidate);
    let ownership = ownership_among(&candidate, &syncs, cluster.tasks.clone())?;
    let view = SyncView {
        namespace: &namespace,
        name: &candidate.metadata.name.clone().unwrap_or_default(),
        spec: &candidate.spec,
        flavor: client.flavor(),
    };
    let context = report::Context {
        view: &view,
        exists: cluster.live.is_some(),
        tickets: &tickets,
    };
    if request.delete {
        let recorded = recorded_tasks(&cluster.tasks, view.name);
        let planned = plan_deletion(&view, &tickets, &recorded);
        return Ok(report::deletion(&context, &planned));
    }
    let accounts = accounts(&client, &ownership.tasks).await;
    let pending = pending_creates(cluster.live.as_ref(), &tickets, now, request.search_settle);
    let Ownership {
        tasks,
        others,
        conflicts,
    } = ownership;
    let input = PlanInput {
        sync: view.clone(),
        tasks,
        others,
        tickets: tickets.clone(),
        accounts,
        pending_creates: pending,
        search_settle: request.search_settle,
        now,
    };
    let planned = plan(&input);
    Ok(report::apply(&context, &input, &conflicts, &planned))
}

/// The live sync of that name, the syncs and tasks of the namespace, and the sync's connection.
async fn read_cluster(
    kube: &kube::Client,
    namespace: &str,
    sync: &JiraActiveSync,
) -> Result<Cluster, PreviewError> {
    let syncs: Api<JiraActiveSync> = Api::namespaced(kube.clone(), namespace);
    let live = syncs.get_opt(&sync.name_any()).await.map_err(Error::from)?;
    let all = syncs
        .list(&ListParams::default())
        .await
        .map_err(Error::from)?;
    let tasks: Api<ComplianceTask> = Api::namespaced(kube.clone(), namespace);
    let tasks = tasks
        .list(&ListParams::default())
        .await
        .map_err(Error::from)?;
    let name = &sync.spec.connection_ref.name;
    let connection = Api::<JiraConnection>::namespaced(kube.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            PreviewError::Blocked(format!("JiraConnection {namespace}/{name} does not exist"))
        })?;
    Ok(Cluster {
        live,
        syncs: all.items.into_iter().map(Arc::new).collect(),
        tasks: tasks.items.into_iter().map(Arc::new).collect(),
        connection,
    })
}

/// The sync as the operator would see it once applied: the file's spec with the live object's
/// creation time and status (a new sync is the newest of its namespace); being deleted, when the
/// preview is of its deletion.
fn candidate(
    file: &JiraActiveSync,
    live: Option<&JiraActiveSync>,
    now: jiff::Timestamp,
    delete: bool,
) -> JiraActiveSync {
    let mut sync = match live {
        Some(live) if delete => live.clone(),
        Some(live) => JiraActiveSync {
            metadata: live.metadata.clone(),
            spec: file.spec.clone(),
            status: live.status.clone(),
        },
        None => {
            let mut new = JiraActiveSync::new(&file.name_any(), file.spec.clone());
            new.metadata.namespace = file.namespace();
            new.metadata.creation_timestamp =
                Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
            new
        }
    };
    if delete {
        sync.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now));
    }
    sync
}

/// The namespace's syncs with the candidate in place of the live one of its name.
fn with_candidate(
    syncs: &[Arc<JiraActiveSync>],
    candidate: &JiraActiveSync,
) -> Vec<Arc<JiraActiveSync>> {
    let name = candidate.name_any();
    syncs
        .iter()
        .filter(|s| s.name_any() != name)
        .cloned()
        .chain(std::iter::once(Arc::new(candidate.clone())))
        .collect()
}

/// The tasks whose status names the sync `name`.
fn recorded_tasks(tasks: &[Arc<ComplianceTask>], name: &str) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| {
            t.status
                .as_ref()
                .and_then(|s| s.jira.as_ref())
                .is_some_and(|j| j.sync == name)
        })
        .map(|t| t.name_any())
        .collect()
}

/// The creates the live sync's status records as pending, less those search shows now.
fn pending_creates(
    live: Option<&JiraActiveSync>,
    tickets: &[Arc<ObservedTicket>],
    now: jiff::Timestamp,
    settle: jiff::SignedDuration,
) -> PendingCreates {
    let mut pending = PendingCreates::default();
    if let Some(status) = live.and_then(|s| s.status.as_ref()) {
        pending.restore(&status.pending_create_groups, &status.pending_creates, now);
    }
    let indexed: Vec<String> = tickets
        .iter()
        .flat_map(|t| t.operator_labels().cloned())
        .collect();
    pending.settle(&indexed, now, settle);
    pending
}
