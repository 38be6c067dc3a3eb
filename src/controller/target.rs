//! What stands between a sync and Jira: its connection (present, ready, allowing the project) and
//! its Jira target (project, issue type and epic exist), each a `Blocked` with conditions when not.

use std::sync::Arc;

use kube::{Api, ResourceExt};

use super::connection::connect;
use super::context::{Context, filled};
use super::error::jira_reason;
use super::memory::SyncKey;
use super::pass::{Blocked, RETRY};
use crate::api::{JiraActiveSync, JiraConnection, condition_status};
use crate::jira::{EpicField, JiraClient, JiraError};

/// What the client is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A pass of the sync.
    Sync,
    /// The sync's deletion policy: the credentials last loaded serve when the Secret went first.
    Cleanup,
}

/// The connection's client, when the connection exists, is ready, and allows the project. For a
/// cleanup, a connection that lost its Secret (or is being deleted, kept by its in-use finalizer)
/// still lends the client it last had.
pub async fn resolve_client(
    sync: &JiraActiveSync,
    ctx: &Context,
    key: &SyncKey,
    purpose: Purpose,
) -> Result<JiraClient, Blocked> {
    let resolved = resolve(sync, ctx, key).await;
    match (resolved, purpose) {
        (Err(blocked), Purpose::Cleanup) => {
            let connection = (key.namespace.clone(), sync.spec.connection_ref.name.clone());
            ctx.last_client(&connection).ok_or(blocked)
        }
        (resolved, _) => resolved,
    }
}

async fn resolve(
    sync: &JiraActiveSync,
    ctx: &Context,
    key: &SyncKey,
) -> Result<JiraClient, Blocked> {
    let name = &sync.spec.connection_ref.name;
    let namespace = &key.namespace;
    // Right after start-up the connection store may still be empty: a missing connection is only
    // reported once the store holds its first full list.
    filled(&ctx.stores.connections).await;
    let connection = ctx
        .stores
        .connections
        .state()
        .into_iter()
        .find(|c| c.namespace().as_ref() == Some(namespace) && &c.name_any() == name)
        .ok_or_else(|| {
            let message = format!("JiraConnection {namespace}/{name} does not exist");
            Blocked::by("ConnectionNotFound", message, false, None)
        })?;
    check_allowed(sync, &connection)?;
    let connection = fresh_unless_ready(ctx, connection).await;
    let status = connection.status.clone().unwrap_or_default();
    if condition_status(&status.conditions, "Ready") != Some("True") {
        let why = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map_or_else(|| "not checked yet".to_owned(), |c| c.message.clone());
        // No retry of its own: the connection wakes its syncs when its Ready condition changes,
        // and `fresh_unless_ready` reads past a cache that has not seen the change yet.
        let message = format!("JiraConnection {name} is not ready: {why}");
        return Err(Blocked::by("ConnectionNotReady", message, false, None));
    }
    connect(ctx, &connection)
        .await
        .map(|c| c.client)
        .map_err(|e| {
            let message = format!("JiraConnection {name}: {e}");
            Blocked::by(e.reason(), message, false, Some(RETRY))
        })
}

/// The sync's project must be among the connection's `allowedProjects`, when it lists any.
pub fn check_allowed(sync: &JiraActiveSync, connection: &JiraConnection) -> Result<(), Blocked> {
    let allowed = &connection.spec.allowed_projects;
    let project = &sync.spec.jira.project;
    if allowed.is_empty() || allowed.contains(project) {
        return Ok(());
    }
    let message = format!(
        "project {project} is not in the allowedProjects of JiraConnection {} ({}); nothing is written to Jira",
        connection.name_any(),
        allowed.join(", ")
    );
    Err(Blocked::by("ProjectNotAllowed", message, true, None))
}

/// The connection as stored, when the cache has it Ready; else as the API server has it now. The
/// connection reconciler wakes the syncs right after writing Ready, before its own watch brings the
/// new status into the cache: a sync reading only the cache would then wait a whole poll interval.
async fn fresh_unless_ready(ctx: &Context, cached: Arc<JiraConnection>) -> Arc<JiraConnection> {
    let ready = cached
        .status
        .as_ref()
        .and_then(|s| condition_status(&s.conditions, "Ready"))
        == Some("True");
    let Some(namespace) = cached.namespace().filter(|_| !ready) else {
        return cached;
    };
    let api: Api<JiraConnection> = Api::namespaced(ctx.kube.clone(), &namespace);
    match api.get_opt(&cached.name_any()).await {
        Ok(Some(fresh)) => Arc::new(fresh),
        Ok(None) => cached,
        Err(error) => {
            tracing::debug!(%error, "could not read the connection afresh; using the cached one");
            cached
        }
    }
}

/// Checks that the project, issue type, the priorities of `priorityMap` and the epic exist (and
/// that the epic is an Epic, on a site that has epics), once per generation of the spec.
pub async fn check_target(
    sync: &JiraActiveSync,
    ctx: &Context,
    client: &JiraClient,
    key: &SyncKey,
) -> Result<(), Blocked> {
    let generation = sync.metadata.generation.unwrap_or_default();
    if ctx.memory.with(key, |m| m.checked_generation) == Some(generation) {
        return Ok(());
    }
    verify_target(sync, client).await?;
    ctx.memory
        .with(key, |m| m.checked_generation = Some(generation));
    Ok(())
}

/// Checks that the project, issue type and epic of the sync exist, reading Jira only.
pub async fn verify_target(sync: &JiraActiveSync, client: &JiraClient) -> Result<(), Blocked> {
    let jira = &sync.spec.jira;
    let project = client
        .project(&jira.project)
        .await
        .map_err(|e| invalid(e, format!("project {}", jira.project)))?;
    let types: Vec<&str> = project
        .issue_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    if !types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&jira.issue_type))
    {
        let message = format!(
            "issue type {:?} does not exist in project {} (it has: {})",
            jira.issue_type,
            jira.project,
            types.join(", ")
        );
        return Err(stalled("IssueTypeNotFound", message));
    }
    check_priorities(sync, client).await?;
    if let Some(epic) = &jira.epic {
        check_epic(client, epic).await?;
    }
    Ok(())
}

/// Every priority `priorityMap` names exists on the site. A site whose priorities cannot be read
/// (a credential without that scope) is not held back: Jira then refuses the field on its own,
/// which never blocks a close.
async fn check_priorities(sync: &JiraActiveSync, client: &JiraClient) -> Result<(), Blocked> {
    let Some(map) = &sync.spec.jira.priority_map else {
        return Ok(());
    };
    let wanted: Vec<&str> = [&map.critical, &map.high, &map.medium, &map.low]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let priorities = match client.priorities().await {
        Ok(priorities) => priorities,
        Err(error) if error.is_retryable() => return Err(invalid(error, "priorities".into())),
        Err(error) => {
            tracing::info!(%error, "the site's priorities cannot be read; priorityMap is not checked");
            return Ok(());
        }
    };
    let known = |name: &str| {
        priorities
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name) || p.id == name)
    };
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !known(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = priorities.iter().map(|p| p.name.as_str()).collect();
    let message = format!(
        "priorityMap names {} that the site does not have (it has: {})",
        missing.join(", "),
        names.join(", ")
    );
    Err(stalled("PriorityNotFound", message))
}

/// The epic exists and is an Epic; a Data Center site without Jira Software has no Epic Link
/// field, so no epic can be set there.
async fn check_epic(client: &JiraClient, epic: &str) -> Result<(), Blocked> {
    let field = client
        .epic_field()
        .await
        .map_err(|e| invalid(e, "the site's fields".into()))?;
    if field == EpicField::Unavailable {
        let message = format!(
            "jira.epic is {epic}, but this Data Center site has no Epic Link field (Jira Software \
             is not installed): remove jira.epic"
        );
        return Err(stalled("EpicFieldUnavailable", message));
    }
    let issue = client
        .get_issue(epic)
        .await
        .map_err(|e| invalid(e, format!("epic {epic}")))?;
    if !issue.issue_type.eq_ignore_ascii_case(EPIC_TYPE) {
        let message = format!(
            "jira.epic {epic} is a {}, not an {EPIC_TYPE}: name an issue of type {EPIC_TYPE}",
            issue.issue_type
        );
        return Err(stalled("EpicNotAnEpic", message));
    }
    Ok(())
}

/// The issue type Jira Software gives epics.
const EPIC_TYPE: &str = "Epic";

/// A target that cannot work as the spec is: stalled until the spec (or Jira) changes.
fn stalled(reason: &'static str, message: String) -> Blocked {
    Blocked::by(reason, message.clone(), true, None).stalled("InvalidJiraTarget", message)
}

/// A target Jira refused: retried soon when that may pass, else stalled until the spec changes.
fn invalid(error: JiraError, what: String) -> Blocked {
    let message = format!("{what}: {error}");
    if error.is_retryable() {
        Blocked::by(jira_reason(&error), message, true, Some(RETRY))
    } else {
        Blocked::by(jira_reason(&error), message.clone(), true, None)
            .stalled("InvalidJiraTarget", message)
    }
}
