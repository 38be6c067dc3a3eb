//! Gathers a sync's planner inputs: its tasks (by the ownership rules), the other tasks of its
//! namespace, its tickets in Jira (found by label, with the entity property), and assignee accounts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::{StreamExt, stream};
use kube::ResourceExt;
use kube::core::Selector;

use super::context::Stores;
use super::error::Error;
use super::memory::{Memory, SyncKey};
use super::pass::Conflict;
use super::tickets::{Freshness, Reading};
use crate::api::{ComplianceTask, JiraActiveSync};
use crate::jira::{Issue, JiraClient};
use crate::planner::{
    AccountLookup, GroupKey, ObservedTicket, OtherTask, PROPERTY_KEY, SyncClaim, TaskView,
    TextDigest, TicketProperty, owner_of, sync_label,
};

/// Assignee lookups in flight at once.
const ACCOUNT_LOOKUPS: usize = 8;

/// The tasks of a sync's namespace, split by ownership.
#[derive(Debug, Default)]
pub struct Ownership {
    /// Tasks this sync owns.
    pub tasks: Vec<TaskView>,
    /// The other tasks of the namespace.
    pub others: BTreeMap<String, OtherTask>,
    /// Tasks this sync claims but an older sync of equal precedence owns.
    pub conflicts: Vec<Conflict>,
}

/// The claim of a sync, or why its selector is unusable.
fn claim(sync: &JiraActiveSync) -> Result<SyncClaim, String> {
    let selector = sync
        .spec
        .scope
        .task_selector
        .clone()
        .map(Selector::try_from)
        .transpose()
        .map_err(|e| format!("scope.taskSelector is invalid: {e}"))?;
    Ok(SyncClaim {
        name: sync.name_any(),
        created: sync
            .creation_timestamp()
            .map_or(jiff::Timestamp::MAX, |t| t.0),
        checks: sync.spec.scope.checks.clone(),
        selector,
    })
}

/// The claims of the syncs of `namespace` that are not being deleted; an unusable selector of the
/// sync `me` is an error, another sync's leaves that sync out.
fn claims(stores: &Stores, namespace: &str, me: &str) -> Result<Vec<SyncClaim>, Error> {
    let mut claims = Vec::new();
    for other in stores.syncs.state() {
        if other.namespace().as_deref() != Some(namespace)
            || other.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        match claim(&other) {
            Ok(c) => claims.push(c),
            Err(message) if other.name_any() == me => return Err(Error::InvalidSelector(message)),
            Err(_) => {}
        }
    }
    Ok(claims)
}

/// Splits the tasks of the sync's namespace by owner. Syncs being deleted claim nothing, so their
/// tasks move to the next claimant.
pub fn ownership(sync: &JiraActiveSync, stores: &Stores) -> Result<Ownership, Error> {
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let me = sync.name_any();
    let claims = claims(stores, &namespace, &me)?;
    let mut out = Ownership::default();
    let mut tasks: Vec<_> = stores
        .tasks
        .state()
        .into_iter()
        .filter(|t| t.namespace().as_deref() == Some(namespace.as_str()))
        .collect();
    tasks.sort_by_key(|t| t.name_any());
    for task in tasks {
        let name = task.name_any();
        let owner = owner_of(&claims, &task.spec.check, task.labels());
        let recorded_sync = task
            .status
            .as_ref()
            .and_then(|s| s.jira.as_ref())
            .map(|j| j.sync.clone());
        match owner {
            Some(o) if o.owner == me => out.tasks.push(task_view(&task)),
            Some(o) => {
                if o.losers.contains(&me.as_str()) {
                    out.conflicts.push(Conflict {
                        task: name.clone(),
                        winner: o.owner.to_owned(),
                    });
                }
                out.others.insert(
                    name,
                    OtherTask {
                        owner: Some(o.owner.to_owned()),
                        recorded_sync,
                    },
                );
            }
            None => {
                out.others.insert(
                    name,
                    OtherTask {
                        owner: None,
                        recorded_sync,
                    },
                );
            }
        }
    }
    Ok(out)
}

fn task_view(task: &ComplianceTask) -> TaskView {
    TaskView {
        name: task.name_any(),
        spec: task.spec.clone(),
        recorded: task.status.as_ref().and_then(|s| s.jira.clone()),
    }
}

/// The JQL that finds every ticket of a sync, in any project.
pub fn tickets_jql(namespace: &str, name: &str) -> String {
    format!(
        "labels = \"{}\" ORDER BY key ASC",
        sync_label(namespace, name)
    )
}

/// Every ticket of the sync in Jira, with its entity property.
pub async fn observed_tickets(
    client: &JiraClient,
    namespace: &str,
    name: &str,
) -> Result<Vec<Arc<ObservedTicket>>, Error> {
    let tickets = client
        .search_mapped(&tickets_jql(namespace, name), &[PROPERTY_KEY], |issue| {
            Arc::new(observed(issue))
        })
        .await?;
    Ok(tickets)
}

/// A sync's tickets as read before it plans.
#[derive(Debug, Default)]
pub struct CurrentTickets {
    /// Every ticket of the sync known now.
    pub tickets: Vec<Arc<ObservedTicket>>,
    /// The operator labels of the tickets a label search returned in this reading. Only these
    /// settle pending creates: a ticket read by key is known to this process alone, and a process
    /// started after a crash finds its tickets by search, so until search shows a create, the
    /// sync's status must keep recording it as pending.
    pub indexed: Vec<String>,
}

/// The operator labels of `tickets`.
fn operator_labels(tickets: &[Arc<ObservedTicket>]) -> Vec<String> {
    tickets
        .iter()
        .flat_map(|t| t.operator_labels().cloned())
        .collect()
}

/// The sync's tickets to plan with: a full label search when one is due, else the tickets as last
/// read with the stale ones re-read by key. What was taken as stale is marked again if Jira cannot
/// be read, so nothing reported is lost.
pub async fn current_tickets(
    memory: &Memory,
    client: &JiraClient,
    sync: &SyncKey,
    freshness: &Freshness,
) -> Result<CurrentTickets, Error> {
    let reading = memory.with(sync, |m| m.tickets.reading(freshness));
    let (read, stale) = match reading {
        Reading::Search { known, stale } => {
            let read = search(client, sync, known, &stale).await;
            (
                read.map(|(tickets, indexed)| {
                    memory.with(sync, |m| m.tickets.searched(freshness, tickets.clone()));
                    CurrentTickets { tickets, indexed }
                }),
                stale,
            )
        }
        Reading::Keys(keys) => {
            let label = sync_label(&sync.namespace, &sync.name);
            let read = tickets_by_key(client, &keys, &label).await.map(|found| {
                let tickets = memory.with(sync, |m| {
                    m.tickets.refreshed(&keys, found);
                    m.tickets.known()
                });
                CurrentTickets {
                    tickets,
                    indexed: Vec::new(),
                }
            });
            (read, keys)
        }
    };
    if read.is_err() {
        memory.with(sync, |m| m.tickets.mark_stale(stale));
    }
    read
}

/// A full label search, with the stale keys and known keys the search misses re-read by key
/// (search lags behind writes). Gives the tickets and the operator labels search returned.
async fn search(
    client: &JiraClient,
    sync: &SyncKey,
    known: Vec<String>,
    stale: &[String],
) -> Result<(Vec<Arc<ObservedTicket>>, Vec<String>), Error> {
    let searched = observed_tickets(client, &sync.namespace, &sync.name).await?;
    let indexed = operator_labels(&searched);
    let missed = known
        .into_iter()
        .filter(|key| !searched.iter().any(|t| &t.key == key));
    let reread: BTreeSet<String> = stale.iter().cloned().chain(missed).collect();
    let reread: Vec<String> = reread.into_iter().collect();
    let label = sync_label(&sync.namespace, &sync.name);
    let found = tickets_by_key(client, &reread, &label).await?;
    let tickets = searched
        .into_iter()
        .filter(|t| !reread.contains(&t.key))
        .chain(found)
        .collect();
    Ok((tickets, indexed))
}

/// The tickets with these keys that exist and still carry the sync's label.
async fn tickets_by_key(
    client: &JiraClient,
    keys: &[String],
    label: &str,
) -> Result<Vec<Arc<ObservedTicket>>, Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let issues = client
        .bulk_fetch_with_properties(keys, &[PROPERTY_KEY])
        .await?;
    Ok(issues
        .into_iter()
        .filter(|i| i.labels.iter().any(|l| l == label))
        .map(observed)
        .map(Arc::new)
        .collect())
}

/// The planner's view of an issue.
pub fn observed(issue: Issue) -> ObservedTicket {
    let property = issue
        .properties
        .get(PROPERTY_KEY)
        .and_then(|v| serde_json::from_value::<TicketProperty>(v.clone()).ok());
    ObservedTicket {
        key: issue.key,
        url: issue.url,
        project: issue.project,
        issue_type: issue.issue_type,
        summary: issue.summary,
        description_digest: TextDigest::of(&issue.description_text),
        labels: issue.labels,
        status: issue.status.name,
        category: issue.status.category,
        priority: issue.priority,
        due_date: issue.due_date,
        assignee: issue.assignee,
        epic: issue.epic,
        property,
    }
}

/// Resolves the assignees of the tasks to Jira accounts (the client caches lookups). An email that
/// cannot be looked up now is left out, which leaves the ticket's assignee alone.
pub async fn accounts(client: &JiraClient, tasks: &[TaskView]) -> BTreeMap<String, AccountLookup> {
    let emails: BTreeSet<String> = tasks
        .iter()
        .filter_map(|t| {
            GroupKey::of(t.spec.assignee.as_deref())
                .email()
                .map(str::to_owned)
        })
        .collect();
    // Looked up a few at once: a first sync of many assignees otherwise waits a round trip each.
    let lookups: Vec<_> = stream::iter(emails)
        .map(|email| async move {
            let found = client.user_by_email(&email).await;
            (email, found)
        })
        .buffer_unordered(ACCOUNT_LOOKUPS)
        .collect()
        .await;
    let mut out = BTreeMap::new();
    for (email, found) in lookups {
        match found {
            Ok(Some(user)) => {
                out.insert(email, AccountLookup::Found(user.account_id));
            }
            Ok(None) => {
                out.insert(email, AccountLookup::Unknown);
            }
            Err(error) => {
                tracing::warn!(%email, %error, "assignee lookup failed; assignee left as is")
            }
        }
    }
    out
}
