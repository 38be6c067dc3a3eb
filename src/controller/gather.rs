//! Gathers a sync's planner inputs: its tasks (by the ownership rules), the other tasks of its
//! namespace, its tickets in Jira (found by label, with the entity property), and assignee accounts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::{StreamExt, stream};
use kube::api::ListParams;
use kube::core::Selector;
use kube::{Api, ResourceExt};

use super::context::Stores;
use super::error::Error;
use super::memory::{Memory, SyncKey};
use super::pass::Conflict;
use super::tickets::{Freshness, Reading, Seen};
use crate::api::{ComplianceTask, JiraActiveSync};
use crate::jira::{Flavor, Issue, JiraClient};
use crate::planner::{
    AccountLookup, GroupKey, ObservedTicket, OtherTask, PROPERTY_KEY, SyncClaim, SyncLabels,
    TaskView, TextDigest, TicketProperty, owner_of,
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
pub fn claim(sync: &JiraActiveSync) -> Result<SyncClaim, String> {
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
fn claims(
    syncs: &[Arc<JiraActiveSync>],
    namespace: &str,
    me: &str,
) -> Result<Vec<SyncClaim>, Error> {
    let mut claims = Vec::new();
    for other in syncs {
        if other.namespace().as_deref() != Some(namespace)
            || other.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        match claim(other) {
            Ok(c) => claims.push(c),
            Err(message) if other.name_any() == me => return Err(Error::InvalidSelector(message)),
            Err(_) => {}
        }
    }
    Ok(claims)
}

/// The claims of the syncs of `namespace` that are not being deleted, leaving out any whose
/// selector is unusable.
pub fn namespace_claims(stores: &Stores, namespace: &str) -> Vec<SyncClaim> {
    stores
        .syncs
        .state()
        .into_iter()
        .filter(|s| {
            s.namespace().as_deref() == Some(namespace) && s.metadata.deletion_timestamp.is_none()
        })
        .filter_map(|s| claim(&s).ok())
        .collect()
}

/// The syncs and tasks of `namespace` as the API server lists them now: what `plan` and `explain`
/// read, having no stores.
pub async fn listed(
    kube: &kube::Client,
    namespace: &str,
) -> Result<(Vec<Arc<JiraActiveSync>>, Vec<Arc<ComplianceTask>>), Error> {
    let params = ListParams::default();
    let syncs = Api::<JiraActiveSync>::namespaced(kube.clone(), namespace)
        .list(&params)
        .await?;
    let tasks = Api::<ComplianceTask>::namespaced(kube.clone(), namespace)
        .list(&params)
        .await?;
    Ok((
        syncs.items.into_iter().map(Arc::new).collect(),
        tasks.items.into_iter().map(Arc::new).collect(),
    ))
}

/// Splits the tasks of the sync's namespace by owner, as the stores hold them.
pub fn ownership(sync: &JiraActiveSync, stores: &Stores) -> Result<Ownership, Error> {
    ownership_among(sync, &stores.syncs.state(), stores.tasks.state())
}

/// Splits the tasks of the sync's namespace by owner among `syncs`. Syncs being deleted claim
/// nothing, so their tasks move to the next claimant. Reads nothing: `plan` calls it with the
/// objects it listed and the sync it previews.
pub fn ownership_among(
    sync: &JiraActiveSync,
    syncs: &[Arc<JiraActiveSync>],
    tasks: Vec<Arc<ComplianceTask>>,
) -> Result<Ownership, Error> {
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let me = sync.name_any();
    let claims = claims(syncs, &namespace, &me)?;
    let mut out = Ownership::default();
    let mut tasks: Vec<_> = tasks
        .into_iter()
        .filter(|t| t.namespace().as_deref() == Some(namespace.as_str()))
        .collect();
    tasks.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
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

/// `labels in ("a", "b")`: a clause finding the tickets that carry any of `labels`.
fn labels_clause(labels: &[&str]) -> String {
    let quoted: Vec<String> = labels.iter().map(|l| format!("\"{l}\"")).collect();
    format!("labels in ({})", quoted.join(", "))
}

/// The JQL that finds every ticket carrying one of `labels`, in any project.
pub fn tickets_jql(labels: &[&str]) -> String {
    format!("{} ORDER BY key ASC", labels_clause(labels))
}

/// Every ticket in Jira carrying one of `labels`, with its entity property.
pub async fn observed_tickets(
    client: &JiraClient,
    labels: &[&str],
) -> Result<Vec<Arc<ObservedTicket>>, Error> {
    let tickets = client
        .search_mapped(&tickets_jql(labels), &[PROPERTY_KEY], |issue| {
            Arc::new(observed(issue))
        })
        .await?;
    Ok(tickets)
}

/// The JQL that finds the tickets carrying one of `labels` that Jira updated in the last `minutes`
/// minutes.
pub fn changed_jql(labels: &[&str], minutes: u64) -> String {
    format!(
        "{} AND updated >= -{minutes}m ORDER BY key ASC",
        labels_clause(labels)
    )
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
    /// Whether this reading was a full label search: the pass then plans every unit (the slow
    /// cadence at which what planning only what changed could miss is caught).
    pub full: bool,
}

/// The operator labels of `tickets`.
fn operator_labels<'a>(tickets: impl Iterator<Item = &'a Arc<ObservedTicket>>) -> Vec<String> {
    tickets.flat_map(|t| t.operator_labels().cloned()).collect()
}

/// The sync's tickets to plan with: a full label search when one is due, the tickets Jira updated
/// since the last poll when a poll is due, else the tickets as last read; the stale ones re-read by
/// key in every case. What was taken as stale is marked again if Jira cannot be read, so nothing
/// reported is lost.
pub async fn current_tickets(
    memory: &Memory,
    client: &JiraClient,
    sync: &SyncKey,
    labels: &SyncLabels,
    freshness: &Freshness,
) -> Result<CurrentTickets, Error> {
    let reading = memory.with(sync, |m| m.tickets.reading(freshness));
    let (read, stale) = match reading {
        Reading::Search { known, stale } => {
            let read = search(memory, client, (sync, labels), known, &stale).await;
            let read = read.map(|(found, indexed)| {
                let tickets = found.iter().map(|s| s.ticket.clone()).collect();
                memory.with(sync, |m| m.tickets.searched(freshness, found));
                CurrentTickets {
                    tickets,
                    indexed,
                    full: true,
                }
            });
            (read, stale)
        }
        Reading::Changed { minutes, stale } => {
            let read = changed(memory, client, (sync, labels), minutes, &stale).await;
            let read = read.map(|found| {
                let indexed = operator_labels(found.iter().map(|s| &s.ticket));
                let tickets = memory.with(sync, |m| {
                    m.tickets.polled(freshness, &stale, found);
                    m.tickets.known()
                });
                CurrentTickets {
                    tickets,
                    indexed,
                    full: false,
                }
            });
            (read, stale)
        }
        Reading::Keys(keys) => {
            let read = tickets_by_key(client, &keys, &labels.kept())
                .await
                .map(|found| {
                    let tickets = memory.with(sync, |m| {
                        m.tickets.refreshed(&keys, found);
                        m.tickets.known()
                    });
                    CurrentTickets {
                        tickets,
                        indexed: Vec::new(),
                        full: false,
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
    memory: &Memory,
    client: &JiraClient,
    (sync, labels): (&SyncKey, &SyncLabels),
    known: Vec<String>,
    stale: &[String],
) -> Result<(Vec<Seen>, Vec<String>), Error> {
    let jql = tickets_jql(&labels.kept());
    let searched = label_search(memory, client, sync, &jql).await?;
    let indexed = operator_labels(searched.iter().map(|s| &s.ticket));
    let missed = known
        .into_iter()
        .filter(|key| !searched.iter().any(|t| &t.ticket.key == key));
    let reread: BTreeSet<String> = stale.iter().cloned().chain(missed).collect();
    let reread: Vec<String> = reread.into_iter().collect();
    let found = tickets_by_key(client, &reread, &labels.kept()).await?;
    let tickets = searched
        .into_iter()
        .filter(|t| !reread.contains(&t.ticket.key))
        .chain(found)
        .collect();
    Ok((tickets, indexed))
}

/// The sync's tickets `jql` finds, with their entity property. On Data Center, whose search
/// cannot return properties, only the tickets Jira updated since they were read have theirs read
/// (one request each); the others keep the one read then.
async fn label_search(
    memory: &Memory,
    client: &JiraClient,
    sync: &SyncKey,
    jql: &str,
) -> Result<Vec<Seen>, Error> {
    if client.flavor() == Flavor::Cloud {
        return Ok(client.search_mapped(jql, &[PROPERTY_KEY], seen).await?);
    }
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for issue in client.search(jql).await? {
        match memory.with(sync, |m| m.tickets.unchanged(&issue.key, issue.updated)) {
            Some(known) => {
                let property = known.property.clone();
                let updated = issue.updated;
                let ticket = Arc::new(ObservedTicket {
                    property,
                    ..observed(issue)
                });
                out.push(Seen { ticket, updated });
            }
            None => unread.push(issue),
        }
    }
    let read = client.read_properties(unread, &[PROPERTY_KEY]).await?;
    out.extend(read.into_iter().map(seen));
    out.sort_by_key(|s| s.ticket.number());
    Ok(out)
}

/// The sync's tickets Jira updated in the last `minutes` minutes, and the stale keys re-read by
/// key (search lags behind writes).
async fn changed(
    memory: &Memory,
    client: &JiraClient,
    (sync, labels): (&SyncKey, &SyncLabels),
    minutes: u64,
    stale: &[String],
) -> Result<Vec<Seen>, Error> {
    let jql = changed_jql(&labels.kept(), minutes);
    let updated = label_search(memory, client, sync, &jql).await?;
    let found = tickets_by_key(client, stale, &labels.kept()).await?;
    Ok(updated
        .into_iter()
        .filter(|t| !stale.contains(&t.ticket.key))
        .chain(found)
        .collect())
}

/// The tickets with these keys that exist and still carry one of `labels`.
pub async fn tickets_by_key(
    client: &JiraClient,
    keys: &[String],
    labels: &[&str],
) -> Result<Vec<Seen>, Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let issues = client
        .bulk_fetch_with_properties(keys, &[PROPERTY_KEY])
        .await?;
    Ok(issues
        .into_iter()
        .filter(|i| i.labels.iter().any(|l| labels.contains(&l.as_str())))
        .map(seen)
        .collect())
}

/// The planner's view of an issue, with the time Jira last updated it.
pub fn seen(issue: Issue) -> Seen {
    let updated = issue.updated;
    Seen {
        ticket: Arc::new(observed(issue)),
        updated,
    }
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
