//! `jira-active-sync plan`: what applying (or deleting) a JiraActiveSync would do, read from the live
//! cluster and Jira without writing to either. It gathers what a pass gathers (the ownership split,
//! the tickets found by label, the assignees' accounts, the pending creates the status records),
//! through the same functions, and asks the same planner; nothing is remembered or reported.

mod render;
mod report;

use std::collections::BTreeSet;
use std::sync::Arc;

use kube::{Api, ResourceExt};

use super::cleanup::deletion_labels;
use super::connection::read_client;
use super::error::Error;
use super::gather::{Ownership, accounts, claim, listed, observed_tickets, ownership_among};
use super::pass::needs_jira_to_delete;
use super::target::{check_allowed, verify_target};
use crate::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use crate::jira::{Flavor, JiraClient};
use crate::planner::{
    Installation, ObservedTicket, PendingCreates, PlanInput, SyncClaim, SyncLabels, SyncView,
    owner_of, plan, plan_deletion,
};

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
    /// The operator installation whose tickets to plan with.
    pub installation: Installation,
}

/// The cluster objects a preview plans from.
struct Cluster {
    live: Option<JiraActiveSync>,
    syncs: Vec<Arc<JiraActiveSync>>,
    tasks: Vec<Arc<ComplianceTask>>,
}

/// What every sync of a preview is planned against: the namespace's syncs with the candidate in
/// place, its tasks, and the time.
struct World<'a> {
    kube: &'a kube::Client,
    syncs: &'a [Arc<JiraActiveSync>],
    tasks: &'a [Arc<ComplianceTask>],
    now: jiff::Timestamp,
    search_settle: jiff::SignedDuration,
    installation: &'a Installation,
}

/// Plans the sync of `request` against the live cluster and Jira, and the other syncs of its
/// namespace whose tasks it would take or give up; reads only.
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
    let syncs = with_candidate(&cluster.syncs, &candidate);
    let world = World {
        kube,
        syncs: &syncs,
        tasks: &cluster.tasks,
        now,
        search_settle: request.search_settle,
        installation: &request.installation,
    };
    let mut preview = if request.delete {
        delete_one(&world, &candidate).await?
    } else {
        apply_one(&world, &candidate, cluster.live.is_some()).await?
    };
    for other in affected(
        &cluster.syncs,
        &syncs,
        &cluster.tasks,
        &candidate.name_any(),
    ) {
        preview
            .affected
            .push(apply_one(&world, &other, true).await?);
    }
    preview.changes |= preview.affected.iter().any(|p| p.changes);
    Ok(preview)
}

/// The client of the sync's connection, once the connection allows its project and Jira has its
/// project, issue type and epic.
async fn connect(world: &World<'_>, sync: &JiraActiveSync) -> Result<JiraClient, PreviewError> {
    let namespace = sync.namespace().unwrap_or_default();
    let name = &sync.spec.connection_ref.name;
    let connection = Api::<JiraConnection>::namespaced(world.kube.clone(), &namespace)
        .get_opt(name)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            PreviewError::Blocked(format!("JiraConnection {namespace}/{name} does not exist"))
        })?;
    check_allowed(sync, &connection).map_err(|b| PreviewError::Blocked(b.message))?;
    let client = read_client(world.kube, &connection).await?;
    verify_target(sync, &client)
        .await
        .map_err(|b| PreviewError::Blocked(b.message))?;
    Ok(client)
}

/// What a pass of `sync` would do, planned as the operator plans it.
async fn apply_one(
    world: &World<'_>,
    sync: &JiraActiveSync,
    exists: bool,
) -> Result<Preview, PreviewError> {
    let client = connect(world, sync).await?;
    let (namespace, name) = (sync.namespace().unwrap_or_default(), sync.name_any());
    let labels = SyncLabels::of(world.installation, &namespace, &name);
    let tickets = observed_tickets(&client, &labels.kept()).await?;
    let ownership = ownership_among(sync, world.syncs, world.tasks.to_vec())?;
    let view = SyncView {
        namespace: &namespace,
        name: &name,
        labels,
        spec: &sync.spec,
        flavor: client.flavor(),
    };
    let accounts = accounts(&client, &ownership.tasks).await;
    let pending = pending_creates(sync, &tickets, world.now, world.search_settle);
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
        search_settle: world.search_settle,
        now: world.now,
    };
    let planned = plan(&input);
    let context = report::Context {
        view: &view,
        exists,
        tickets: &tickets,
    };
    Ok(report::apply(&context, &input, &conflicts, &planned))
}

/// What the deletion policy of `sync` would do.
async fn delete_one(world: &World<'_>, sync: &JiraActiveSync) -> Result<Preview, PreviewError> {
    let (namespace, name) = (sync.namespace().unwrap_or_default(), sync.name_any());
    let labels = SyncLabels::of(world.installation, &namespace, &name);
    let (flavor, tickets) = if needs_jira_to_delete(sync) {
        let client = connect(world, sync).await?;
        let tickets = observed_tickets(&client, &deletion_labels(sync, &labels)).await?;
        (client.flavor(), tickets)
    } else {
        (Flavor::Cloud, Vec::new())
    };
    let view = SyncView {
        namespace: &namespace,
        name: &name,
        labels,
        spec: &sync.spec,
        flavor,
    };
    let recorded = recorded_tasks(world.tasks, &name);
    let planned = plan_deletion(&view, &tickets, &recorded);
    let context = report::Context {
        view: &view,
        exists: true,
        tickets: &tickets,
    };
    Ok(report::deletion(&context, &planned))
}

/// The live syncs other than `me` that own a task before the change and not after, or after and
/// not before.
fn affected(
    before: &[Arc<JiraActiveSync>],
    after: &[Arc<JiraActiveSync>],
    tasks: &[Arc<ComplianceTask>],
    me: &str,
) -> Vec<JiraActiveSync> {
    let claims = |syncs: &[Arc<JiraActiveSync>]| -> Vec<SyncClaim> {
        syncs
            .iter()
            .filter(|s| s.metadata.deletion_timestamp.is_none())
            .filter_map(|s| claim(s).ok())
            .collect()
    };
    let (was, will) = (claims(before), claims(after));
    let mut names = BTreeSet::new();
    for task in tasks {
        let owner = |claims| owner_of(claims, &task.spec.check, task.labels()).map(|o| o.owner);
        let (old, new) = (owner(&was), owner(&will));
        if old != new {
            names.extend(
                old.into_iter()
                    .chain(new)
                    .filter(|n| *n != me)
                    .map(str::to_owned),
            );
        }
    }
    before
        .iter()
        .filter(|s| names.contains(&s.name_any()) && s.metadata.deletion_timestamp.is_none())
        .map(|s| s.as_ref().clone())
        .collect()
}

/// The live sync of that name, and the syncs and tasks of the namespace.
async fn read_cluster(
    kube: &kube::Client,
    namespace: &str,
    sync: &JiraActiveSync,
) -> Result<Cluster, PreviewError> {
    let api: Api<JiraActiveSync> = Api::namespaced(kube.clone(), namespace);
    let live = api.get_opt(&sync.name_any()).await.map_err(Error::from)?;
    let (syncs, tasks) = listed(kube, namespace).await?;
    Ok(Cluster { live, syncs, tasks })
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

/// The creates the sync's status records as pending, less those search shows now.
fn pending_creates(
    sync: &JiraActiveSync,
    tickets: &[Arc<ObservedTicket>],
    now: jiff::Timestamp,
    settle: jiff::SignedDuration,
) -> PendingCreates {
    let mut pending = PendingCreates::default();
    if let Some(status) = &sync.status {
        pending.restore(&status.pending_create_groups, &status.pending_creates, now);
    }
    let indexed: Vec<String> = tickets
        .iter()
        .flat_map(|t| t.operator_labels().cloned())
        .collect();
    pending.settle(&indexed, now, settle);
    pending
}
