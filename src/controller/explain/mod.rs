//! `jira-active-sync explain ctask/NAME | jas/NAME`: who owns a task and why (each sync's claim,
//! precedence and age), its ticket and grouping, and the recent actions the owning sync's status
//! records; for a sync, its tickets, counters, conflicts and recent actions. Reads the cluster only.

mod render;

use std::sync::Arc;

use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use super::error::Error;
use super::gather::{claim, listed, ownership_among};
use crate::api::{ComplianceTask, JiraActiveSync, Mode, RecentAction, TaskJiraStatus};
use crate::planner::{GroupKey, Precedence, owner_of};

pub use render::render;

/// What to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A ComplianceTask.
    Task(String),
    /// A JiraActiveSync.
    Sync(String),
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `ctask/NAME` (or `compliancetask/NAME`) and `jas/NAME` (or `jiraactivesync/NAME`).
    fn from_str(text: &str) -> Result<Target, String> {
        let (kind, name) = text
            .split_once('/')
            .filter(|(_, name)| !name.is_empty())
            .ok_or_else(|| format!("{text:?}: expected ctask/NAME or jas/NAME"))?;
        match kind.to_ascii_lowercase().trim_end_matches('s') {
            "ctask" | "compliancetask" => Ok(Target::Task(name.to_owned())),
            "ja" | "jiraactivesync" => Ok(Target::Sync(name.to_owned())),
            _ => Err(format!("{kind:?}: expected ctask or jas")),
        }
    }
}

/// The answer for a task or a sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Explanation {
    /// A ComplianceTask.
    ComplianceTask(TaskExplanation),
    /// A JiraActiveSync.
    JiraActiveSync(SyncExplanation),
}

/// Who owns a task and why, and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskExplanation {
    /// The namespace.
    pub namespace: String,
    /// The task.
    pub task: String,
    /// Its check.
    pub check: String,
    /// Its assignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// `Open` or `Completed`.
    pub state: String,
    /// The sync that owns it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How each sync of the namespace stands to it.
    pub claims: Vec<ClaimView>,
    /// The ticket its status records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TaskJiraStatus>,
    /// Its grouping under the owner's mode, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouping: Option<String>,
    /// The owner's (else the recorded sync's) recent actions that concern it.
    pub recent_actions: Vec<RecentAction>,
}

/// How one sync stands to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    /// The sync.
    pub sync: String,
    /// `Owner`, `Conflict` (claims it as strongly, but is newer), `Outranked` (a sync naming the
    /// check wins over this all-tasks sync), `NotClaimed` or `Deleting`.
    pub outcome: String,
    /// Why, in words.
    pub why: String,
}

/// What a sync keeps and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncExplanation {
    /// The namespace.
    pub namespace: String,
    /// The sync.
    pub sync: String,
    /// Its mode.
    pub mode: Mode,
    /// Its project.
    pub project: String,
    /// The checks it names (empty: every task).
    pub checks: Vec<String>,
    /// Its conditions as `Type=Status (Reason): message`.
    pub conditions: Vec<String>,
    /// Its counters, as its status has them.
    pub counts: SyncCounts,
    /// When it last finished a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<jiff::Timestamp>,
    /// Its tickets, as the task statuses record them: key, status and tasks.
    pub tickets: Vec<TicketView>,
    /// Tasks it claims that an older sync keeps: (task, winner).
    pub conflicts: Vec<(String, String)>,
    /// Its recent actions, newest first.
    pub recent_actions: Vec<RecentAction>,
}

/// A sync's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    /// Tasks it owns.
    pub tasks_in_scope: u32,
    /// Of those, completed.
    pub tasks_completed: u32,
    /// Tickets it keeps.
    pub tickets: u32,
    /// Of those, done in Jira.
    pub tickets_done: u32,
}

/// One ticket of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    /// The key.
    pub key: String,
    /// Its status, as last shown on the tasks.
    pub status: String,
    /// Its tasks.
    pub tasks: Vec<String>,
}

/// Explains `target` in `namespace`.
pub async fn explain(
    kube: &kube::Client,
    namespace: &str,
    target: &Target,
) -> Result<Explanation, Error> {
    let (syncs, tasks) = listed(kube, namespace).await?;
    let missing = |kind: &str, name: &str| {
        Error::NotFound(format!("{kind} {namespace}/{name} does not exist"))
    };
    match target {
        Target::Task(name) => {
            let task = tasks
                .iter()
                .find(|t| &t.name_any() == name)
                .ok_or_else(|| missing("ComplianceTask", name))?;
            Ok(Explanation::ComplianceTask(explain_task(
                namespace, task, &syncs,
            )))
        }
        Target::Sync(name) => {
            let sync = syncs
                .iter()
                .find(|s| &s.name_any() == name)
                .ok_or_else(|| missing("JiraActiveSync", name))?;
            let explained = explain_sync(namespace, sync, &syncs, tasks)?;
            Ok(Explanation::JiraActiveSync(explained))
        }
    }
}

fn explain_task(
    namespace: &str,
    task: &ComplianceTask,
    syncs: &[Arc<JiraActiveSync>],
) -> TaskExplanation {
    let live: Vec<&Arc<JiraActiveSync>> = syncs
        .iter()
        .filter(|s| s.metadata.deletion_timestamp.is_none())
        .collect();
    let claims: Vec<_> = live.iter().filter_map(|s| claim(s).ok()).collect();
    let (check, labels) = (&task.spec.check, task.labels());
    let ownership = owner_of(&claims, check, labels);
    let owner = ownership.as_ref().map(|o| o.owner.to_owned());
    let strength = claims
        .iter()
        .find(|c| Some(&c.name) == owner.as_ref())
        .and_then(|c| c.claim(check, labels));
    let owned = owner.as_deref().zip(strength);
    let views = syncs.iter().map(|s| claim_view(s, task, owned)).collect();
    let ticket = task.status.as_ref().and_then(|s| s.jira.clone());
    let owner_sync = owner
        .as_deref()
        .or(ticket.as_ref().map(|t| t.sync.as_str()))
        .and_then(|name| syncs.iter().find(|s| s.name_any() == name));
    let name = task.name_any();
    let key = ticket.as_ref().and_then(|t| t.key.clone());
    let recent_actions = owner_sync
        .and_then(|s| s.status.as_ref())
        .map(|status| {
            status
                .recent_actions
                .iter()
                .filter(|a| a.tasks.contains(&name) || (key.is_some() && a.ticket == key))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    TaskExplanation {
        namespace: namespace.to_owned(),
        task: name,
        check: task.spec.check.clone(),
        assignee: task.spec.assignee.clone(),
        state: format!("{:?}", task.spec.state),
        grouping: owner_sync.map(|s| grouping(s.spec.mode, task)),
        owner,
        claims: views,
        ticket,
        recent_actions,
    }
}

/// The task's grouping under `mode`.
fn grouping(mode: Mode, task: &ComplianceTask) -> String {
    match (mode, GroupKey::of(task.spec.assignee.as_deref())) {
        (Mode::Individual, _) => "a ticket of its own (Individual)".to_owned(),
        (Mode::Batch, GroupKey::Assignee(email)) => {
            format!("the ticket of every task assigned to {email} (Batch)")
        }
        (Mode::Batch, GroupKey::Unassigned) => {
            "the ticket of the tasks with no assignee (Batch)".to_owned()
        }
    }
}

/// How `sync` stands to `task`, given the owner and how strongly it claims the task.
fn claim_view(
    sync: &JiraActiveSync,
    task: &ComplianceTask,
    owner: Option<(&str, Precedence)>,
) -> ClaimView {
    let name = sync.name_any();
    let view = |outcome: &str, why: String| ClaimView {
        sync: name.clone(),
        outcome: outcome.to_owned(),
        why,
    };
    if sync.metadata.deletion_timestamp.is_some() {
        return view("Deleting", "being deleted: it claims nothing".into());
    }
    let check = &task.spec.check;
    let parsed = match claim(sync) {
        Ok(parsed) => parsed,
        Err(message) => return view("NotClaimed", message),
    };
    let Some(precedence) = parsed.claim(check, task.labels()) else {
        let why = if parsed.checks.is_empty() || parsed.checks.contains(check) {
            "its taskSelector does not match the task's labels".to_owned()
        } else {
            format!("names other checks ({})", parsed.checks.join(", "))
        };
        return view("NotClaimed", why);
    };
    let how = match precedence {
        Precedence::NamedCheck => format!("names the check {check}"),
        Precedence::AllTasks => "takes every task of the namespace (no checks named)".to_owned(),
    };
    match owner {
        Some((owner, _)) if owner == name => view("Owner", how),
        Some((owner, stronger)) if stronger > precedence => view(
            "Outranked",
            format!("{how}, but {owner} names the task's check, which takes precedence"),
        ),
        Some((owner, _)) => view(
            "Conflict",
            format!("{how}, as does the older sync {owner}, which keeps it (Conflict=True here)"),
        ),
        None => view("NotClaimed", how),
    }
}

fn explain_sync(
    namespace: &str,
    sync: &JiraActiveSync,
    syncs: &[Arc<JiraActiveSync>],
    tasks: Vec<Arc<ComplianceTask>>,
) -> Result<SyncExplanation, Error> {
    let name = sync.name_any();
    let tickets = tickets_of(&name, &tasks);
    let conflicts = ownership_among(sync, syncs, tasks)?
        .conflicts
        .into_iter()
        .map(|c| (c.task, c.winner))
        .collect();
    let status = sync.status.clone().unwrap_or_default();
    Ok(SyncExplanation {
        namespace: namespace.to_owned(),
        sync: name,
        mode: sync.spec.mode,
        project: sync.spec.jira.project.clone(),
        checks: sync.spec.scope.checks.clone(),
        conditions: status
            .conditions
            .iter()
            .map(|c| {
                let said = format!("{}={} ({})", c.type_, c.status, c.reason);
                if c.message.is_empty() {
                    said
                } else {
                    format!("{said}: {}", c.message)
                }
            })
            .collect(),
        counts: SyncCounts {
            tasks_in_scope: status.tasks_in_scope,
            tasks_completed: status.tasks_completed,
            tickets: status.tickets,
            tickets_done: status.tickets_done,
        },
        last_sync_time: status.last_sync_time,
        tickets,
        conflicts,
        recent_actions: status.recent_actions,
    })
}

/// The tickets the task statuses record for the sync `name`, by key.
fn tickets_of(name: &str, tasks: &[Arc<ComplianceTask>]) -> Vec<TicketView> {
    let mut tickets: std::collections::BTreeMap<String, TicketView> = Default::default();
    for task in tasks {
        let Some(jira) = task.status.as_ref().and_then(|s| s.jira.as_ref()) else {
            continue;
        };
        let Some(key) = jira.key.clone().filter(|_| jira.sync == name) else {
            continue;
        };
        let entry = tickets.entry(key.clone()).or_insert_with(|| TicketView {
            key,
            status: jira.status.clone().unwrap_or_default(),
            tasks: Vec::new(),
        });
        entry.tasks.push(task.name_any());
    }
    tickets.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_a_task_or_a_sync_by_kubectl_s_short_and_long_names() {
        let parsed: Vec<Target> = ["ctask/a", "compliancetasks/b", "jas/c", "JiraActiveSync/d"]
            .iter()
            .map(|t| t.parse().expect("a target"))
            .collect();
        assert_eq!(
            parsed,
            [
                Target::Task("a".into()),
                Target::Task("b".into()),
                Target::Sync("c".into()),
                Target::Sync("d".into())
            ]
        );
        for bad in ["a", "ctask/", "pod/x"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }
}
