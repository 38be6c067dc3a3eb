//! Carries out a plan: Jira writes through the client, task writes through the Kubernetes API, an
//! Event for every ticket action. Creates go in bulk; actions on one ticket keep their order, while
//! different tickets proceed concurrently (the client's token bucket keeps the pace polite).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::channel::mpsc::{self, UnboundedSender};
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use serde_json::json;

use super::conditions::truncate;
use super::context::Context;
use super::error::{Error, jira_reason};
use super::gather::observed;
use super::status::record_pending_creates;
use crate::api::{Closure, ComplianceTask, JiraActiveSync, Mode, TaskJiraStatus};
use crate::jira::{
    BULK_CREATE_LIMIT, IssueUpdate, JiraClient, JiraError, NewIssue, Status, StatusCategory,
    TransitionTarget,
};
use crate::planner::is_identity_label;
use crate::planner::{
    Action, Assignee, CloseReason, FieldChanges, NewTicket, ObservedTicket, PROPERTY_KEY,
    ReopenReason,
};

/// Tickets worked on at once.
const TICKET_CONCURRENCY: usize = 8;
/// Task status writes at once.
const TASK_CONCURRENCY: usize = 16;
/// Tasks named in an Event's note; the rest are counted.
const LISTED_TASKS: usize = 10;
/// The API server's limit on an Event's note, in bytes.
const EVENT_NOTE_LIMIT: usize = 1024;

/// What the executor needs to know about the sync.
pub struct Target<'a> {
    /// The sync's namespace.
    pub namespace: &'a str,
    /// The sync's name.
    pub name: &'a str,
    /// The sync, for Events.
    pub reference: ObjectReference,
    /// Project key.
    pub project: &'a str,
    /// Issue type name.
    pub issue_type: &'a str,
    /// Closure settings (target status and resolution).
    pub closure: &'a Closure,
    /// Mode, for task statuses and Events.
    pub mode: Mode,
    /// The client of the sync's connection.
    pub client: &'a JiraClient,
    /// Told of the pass's first failed Jira action as it happens.
    pub first_failure: Option<&'a FirstFailure>,
}

/// The first failed Jira action of a pass, as soon as it fails: a pass of many actions at the
/// connection's rate can outlast a Jira outage, and the sync's conditions should say so meanwhile.
#[derive(Debug, Default)]
pub struct FirstFailure {
    seen: std::sync::Mutex<Option<(&'static str, String)>>,
    noticed: tokio::sync::Notify,
}

impl FirstFailure {
    fn record(&self, failure: &Failure) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.is_none() {
            *seen = Some((failure.reason, failure.message.clone()));
            self.noticed.notify_one();
        }
    }

    /// Waits for the first failure: its reason and message.
    pub async fn first(&self) -> (&'static str, String) {
        loop {
            let seen = self
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(first) = seen {
                return first;
            }
            self.noticed.notified().await;
        }
    }
}

impl<'a> Target<'a> {
    /// The target of a sync's actions, through the client of its connection.
    pub fn of(
        sync: &'a crate::api::JiraActiveSync,
        namespace: &'a str,
        name: &'a str,
        client: &'a JiraClient,
    ) -> Target<'a> {
        Target {
            namespace,
            name,
            reference: kube::Resource::object_ref(sync, &()),
            project: &sync.spec.jira.project,
            issue_type: &sync.spec.jira.issue_type,
            closure: &sync.spec.closure,
            mode: sync.spec.mode,
            client,
            first_failure: None,
        }
    }

    /// Tells `first` of the first failed Jira action.
    pub fn reporting_to(self, first: &'a FirstFailure) -> Target<'a> {
        Target {
            first_failure: Some(first),
            ..self
        }
    }
}

/// One action that failed.
#[derive(Debug)]
pub struct Failure {
    /// PascalCase reason.
    pub reason: &'static str,
    /// What failed, with Jira's messages.
    pub message: String,
    /// Whether trying again later can succeed by itself.
    pub retryable: bool,
}

/// What came of a plan.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The actions that failed.
    pub failures: Vec<Failure>,
    /// The earliest time a create that may not be searchable yet should be looked for again.
    pub wait_until: Option<jiff::Timestamp>,
}

/// A task status to write once a ticket action is done.
type StatusWrite = (String, Option<TaskJiraStatus>);

/// Executes the actions of a plan.
pub async fn execute(
    ctx: &Context,
    target: &Target<'_>,
    observed: &[Arc<ObservedTicket>],
    actions: Vec<Action>,
) -> Outcome {
    let observed: HashMap<&str, &ObservedTicket> = observed
        .iter()
        .map(|t| (t.key.as_str(), t.as_ref()))
        .collect();
    let mut outcome = Outcome::default();
    let mut creates = Vec::new();
    let mut by_ticket: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    let mut task_writes: Vec<Action> = Vec::new();
    for action in actions {
        match action {
            Action::Create(new) => creates.push(new),
            Action::AwaitSearchIndex { until, .. } => {
                outcome.wait_until = Some(outcome.wait_until.map_or(until, |w| w.min(until)));
            }
            Action::WriteTaskStatus { .. } | Action::CompleteTask { .. } => {
                task_writes.push(action)
            }
            Action::Update { ref key, .. }
            | Action::Close { ref key, .. }
            | Action::Reopen { ref key, .. }
            | Action::Release { ref key, .. }
            | Action::RetireDuplicate { ref key, .. }
            | Action::Delete { ref key } => by_ticket.entry(key.clone()).or_default().push(action),
        }
    }
    // Task statuses are written while Jira is still being worked on: planned ones at once, those
    // of created tickets after each bulk create, those of ticket actions as they finish.
    let (writes, queued) = mpsc::unbounded::<Action>();
    for action in task_writes {
        // The receiver is alive: it is consumed below.
        let _ = writes.unbounded_send(action);
    }
    let jira = async move {
        let mut failures = Vec::new();
        let mut create_events = Vec::new();
        if !creates.is_empty() {
            let (create_failures, events) = create_all(ctx, target, creates, &writes).await;
            failures.extend(create_failures);
            create_events = events;
        }
        let touched: Vec<String> = by_ticket.keys().cloned().collect();
        let results: Vec<(Vec<StatusWrite>, Vec<Failure>)> = stream::iter(by_ticket)
            .map(|(key, actions)| {
                let ticket = observed.get(key.as_str()).copied();
                ticket_actions(ctx, target, ticket, actions)
            })
            .buffer_unordered(TICKET_CONCURRENCY)
            .collect()
            .await;
        for (done, f) in results {
            for (task, status) in done {
                let _ = writes.unbounded_send(Action::WriteTaskStatus { task, status });
            }
            failures.extend(f);
        }
        // Whatever was done to them (or half done, if it failed), these are read again before the
        // sync plans next.
        ctx.tickets.mark_stale(
            &(target.namespace.to_owned(), target.name.to_owned()),
            touched,
        );
        (failures, create_events)
    };
    let kubernetes = queued
        .map(|action| task_write(ctx, target, action))
        .buffer_unordered(TASK_CONCURRENCY)
        .collect::<Vec<Option<Failure>>>();
    let ((jira_failures, create_events), failures) = futures::join!(jira, kubernetes);
    outcome.failures.extend(jira_failures);
    outcome.failures.extend(failures.into_iter().flatten());
    // Events of creates go out after the task statuses, many at once: one at a time, before the
    // statuses, they held every task of a large sync behind an API round trip per ticket.
    stream::iter(create_events)
        .map(|event| publish_create(ctx, target, event))
        .buffer_unordered(TASK_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    outcome
}

fn failure(
    ctx: &Context,
    target: &Target<'_>,
    action: &'static str,
    what: String,
    error: &JiraError,
) -> Failure {
    let reason = jira_reason(error);
    ctx.metrics.action(action, reason);
    let failure = Failure {
        reason,
        message: format!("{what}: {error}"),
        retryable: error.is_retryable(),
    };
    if let Some(first) = target.first_failure {
        first.record(&failure);
    }
    failure
}

/// Publishes an Event on the sync, related to the first task concerned: Events of one sync and
/// reason are told apart by that task, so each ticket's action stays visible rather than being
/// folded into a series.
async fn publish(
    ctx: &Context,
    target: &Target<'_>,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
    subject: &Subject,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(&note, EVENT_NOTE_LIMIT)),
        action: action.to_owned(),
        secondary: subject.tasks.first().map(|task| ObjectReference {
            api_version: Some("activesync.dev/v1alpha1".to_owned()),
            kind: Some("ComplianceTask".to_owned()),
            namespace: Some(target.namespace.to_owned()),
            name: Some(task.clone()),
            ..ObjectReference::default()
        }),
    };
    if let Err(error) = ctx.events.publish(&event, &target.reference).await {
        tracing::warn!(%error, reason, "could not publish an Event");
    }
}

/// Whom a ticket action concerns, for Events: the ticket's tasks and its identity label.
struct Subject {
    identity: Option<String>,
    tasks: Vec<String>,
}

impl Subject {
    /// From what the ticket records (its property, else its labels), or the given tasks.
    fn of(observed: Option<&ObservedTicket>, tasks: &[String]) -> Subject {
        let property = observed.and_then(|t| t.property.as_ref());
        let identity = property.map(|p| p.identity.clone()).or_else(|| {
            observed.and_then(|t| t.labels.iter().find(|l| is_identity_label(l)).cloned())
        });
        let tasks = if tasks.is_empty() {
            property
                .map(|p| p.tasks.keys().cloned().collect())
                .unwrap_or_default()
        } else {
            tasks.to_vec()
        };
        Subject { identity, tasks }
    }

    /// "task ns/a (Individual)", "tasks of alice@example.com: ns/a, ns/b (Batch)"; a long list
    /// names the first few and counts the rest.
    fn describe(&self, namespace: &str) -> String {
        let mut list = self
            .tasks
            .iter()
            .take(LISTED_TASKS)
            .map(|t| format!("{namespace}/{t}"))
            .collect::<Vec<_>>()
            .join(", ");
        if self.tasks.len() > LISTED_TASKS {
            list.push_str(&format!(" and {} more", self.tasks.len() - LISTED_TASKS));
        }
        match self
            .identity
            .as_deref()
            .and_then(|i| i.strip_prefix("jas-group."))
        {
            Some("unassigned") => format!("unassigned tasks: {list} (Batch)"),
            Some(email) => format!("tasks of {email}: {list} (Batch)"),
            None => format!("task {list} (Individual)"),
        }
    }
}

/// An Event about a create: type, reason, note and whom it concerns.
type CreateEvent = (EventType, String, String, Subject);

async fn publish_create(
    ctx: &Context,
    target: &Target<'_>,
    (type_, reason, note, subject): CreateEvent,
) {
    publish(ctx, target, type_, &reason, "Create", note, &subject).await;
}

fn new_issue(target: &Target<'_>, new: &NewTicket) -> Result<NewIssue, serde_json::Error> {
    Ok(NewIssue {
        project: target.project.to_owned(),
        issue_type: target.issue_type.to_owned(),
        summary: new.fields.summary.clone(),
        description: new.fields.description.clone(),
        labels: new.fields.labels.clone(),
        priority: new.fields.priority.clone(),
        due_date: new.fields.due_date,
        assignee: match &new.fields.assignee {
            Some(Assignee::Account(id)) => Some(id.clone()),
            _ => None,
        },
        epic: new.fields.epic.clone(),
        properties: vec![(
            PROPERTY_KEY.to_owned(),
            serde_json::to_value(&new.property)?,
        )],
    })
}

fn status_of(target: &Target<'_>, key: &str, url: &str, status: &Status) -> TaskJiraStatus {
    TaskJiraStatus {
        sync: target.name.to_owned(),
        key: Some(key.to_owned()),
        url: Some(url.to_owned()),
        status: Some(status.name.clone()),
        status_category: Some(status.category.key().to_owned()),
        mode: target.mode,
        last_sync_time: Some(jiff::Timestamp::now()),
    }
}

/// Creates the tickets in bulk, one bulk call at a time; the task statuses of each call's tickets go
/// to `writes` as soon as it is answered, so Kubernetes writes overlap the next creates. Gives the
/// failures, and the Events to publish once the statuses are written.
async fn create_all(
    ctx: &Context,
    target: &Target<'_>,
    creates: Vec<NewTicket>,
    writes: &UnboundedSender<Action>,
) -> (Vec<Failure>, Vec<CreateEvent>) {
    let sync = (target.namespace.to_owned(), target.name.to_owned());
    let mut failures = Vec::new();
    let sent = jiff::Timestamp::now();
    for new in &creates {
        ctx.note_pending_create(&sync, new.identity.label(), sent);
    }
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), target.namespace);
    let pending = ctx.pending_create_records(&sync);
    if let Err(error) =
        record_pending_creates(&api, &ctx.settings.manager, target.name, &pending).await
    {
        // Unrecorded, a create whose answer is lost could be repeated after a crash: send none.
        for new in &creates {
            ctx.forget_pending_create(&sync, &new.identity.label());
        }
        ctx.metrics.action("create", error.reason());
        failures.push(Failure {
            reason: error.reason(),
            message: format!(
                "recording {} pending create(s) in the sync's status before sending them: {error}",
                creates.len()
            ),
            retryable: true,
        });
        return (failures, Vec::new());
    }
    let mut events: Vec<CreateEvent> = Vec::new();
    for creates in creates.chunks(BULK_CREATE_LIMIT) {
        let (chunk_failures, chunk_events) = create_chunk(ctx, target, creates, writes).await;
        failures.extend(chunk_failures);
        events.extend(chunk_events);
    }
    (failures, events)
}

/// One bulk create: its tickets read back for their statuses, which go to `writes`. The request is
/// built here, a chunk at a time: built for every ticket at once, 10,000 requests held 20 MB.
async fn create_chunk(
    ctx: &Context,
    target: &Target<'_>,
    creates: &[NewTicket],
    writes: &UnboundedSender<Action>,
) -> (Vec<Failure>, Vec<CreateEvent>) {
    let sync = (target.namespace.to_owned(), target.name.to_owned());
    let mut failures = Vec::new();
    let issues: Result<Vec<NewIssue>, _> =
        creates.iter().map(|new| new_issue(target, new)).collect();
    let issues = match issues {
        Ok(issues) => issues,
        Err(e) => {
            // Nothing of this chunk is sent, so nothing of it can turn up in search later.
            for new in creates {
                ctx.forget_pending_create(&sync, &new.identity.label());
            }
            failures.push(Failure {
                reason: "InternalError",
                message: format!("could not serialise a ticket property: {e}"),
                retryable: false,
            });
            return (failures, Vec::new());
        }
    };
    let results = target.client.bulk_create(&issues).await;
    let mut created = Vec::new();
    let mut events: Vec<CreateEvent> = Vec::new();
    for (new, result) in creates.iter().zip(results) {
        let subject = Subject {
            identity: Some(new.identity.label()),
            tasks: new.tasks.clone(),
        };
        let what = subject.describe(target.namespace);
        match result {
            Ok(issue) => {
                ctx.metrics.action("create", "ok");
                tracing::info!(key = %issue.key, sync = %target.name, namespace = %target.namespace, %what, "ticket created");
                events.push((
                    EventType::Normal,
                    "TicketCreated".to_owned(),
                    format!("created {} for {what}", issue.key),
                    subject,
                ));
                created.push((issue, new));
            }
            Err(error) => {
                if !matches!(error, JiraError::Transient { .. }) {
                    // Jira refused it: nothing was made, so nothing can turn up in search later.
                    ctx.forget_pending_create(&sync, &new.identity.label());
                }
                let f = failure(
                    ctx,
                    target,
                    "create",
                    format!("creating the ticket for {what}"),
                    &error,
                );
                events.push((
                    EventType::Warning,
                    "CreateFailed".to_owned(),
                    f.message.clone(),
                    subject,
                ));
                failures.push(f);
            }
        }
    }
    // The create answers carry no status: read them back in bulk to show it on the tasks.
    let keys: Vec<String> = created.iter().map(|(issue, _)| issue.key.clone()).collect();
    let statuses: HashMap<String, Status> = match target
        .client
        .bulk_fetch_with_properties(&keys, &[PROPERTY_KEY])
        .await
    {
        Ok(issues) => {
            let statuses = issues
                .iter()
                .map(|i| (i.key.clone(), i.status.clone()))
                .collect();
            let tickets = issues.into_iter().map(observed).map(Arc::new).collect();
            ctx.tickets.refreshed(&sync, &keys, tickets);
            statuses
        }
        Err(error) => {
            tracing::warn!(%error, "could not read created tickets back; their statuses follow on the next pass");
            ctx.tickets.mark_stale(&sync, keys.iter().cloned());
            HashMap::new()
        }
    };
    for (issue, new) in created {
        let status = statuses.get(&issue.key).cloned().unwrap_or(Status {
            name: String::new(),
            category: StatusCategory::New,
        });
        for task in &new.tasks {
            // The receiver lives until every create is done.
            let _ = writes.unbounded_send(Action::WriteTaskStatus {
                task: task.clone(),
                status: Some(status_of(target, &issue.key, &issue.url, &status)),
            });
        }
    }
    (failures, events)
}

fn issue_update(changes: &FieldChanges, observed: Option<&ObservedTicket>) -> IssueUpdate {
    let labels = (!changes.labels_add.is_empty() || !changes.labels_remove.is_empty()).then(|| {
        let mut labels: Vec<String> = observed
            .map(|t| t.labels.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !changes.labels_remove.contains(l))
            .collect();
        labels.extend(changes.labels_add.iter().cloned());
        labels.sort();
        labels.dedup();
        labels
    });
    IssueUpdate {
        summary: changes.summary.clone(),
        description: changes.description.clone(),
        labels,
        priority: changes.priority.clone(),
        due_date: changes.due_date,
        assignee: changes.assignee.as_ref().map(|a| match a {
            Assignee::Account(id) => Some(id.clone()),
            Assignee::Unassigned => None,
        }),
        epic: changes.epic.clone().map(Some),
    }
}

fn without_labels(observed: Option<&ObservedTicket>, remove: &[String]) -> IssueUpdate {
    IssueUpdate {
        labels: Some(
            observed
                .map(|t| {
                    t.labels
                        .iter()
                        .filter(|l| !remove.contains(l))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        ),
        ..IssueUpdate::default()
    }
}

fn close_target(closure: &Closure) -> TransitionTarget {
    closure.transition.clone().map_or(
        TransitionTarget::Category(StatusCategory::Done),
        TransitionTarget::StatusName,
    )
}

/// A close whose transition Jira does not offer may have been carried out already: Jira's search
/// lags behind its writes, so a pass can plan again a close an earlier pass made. The ticket itself
/// says: closed already (in the status `transition` names, else any done one), its status is what
/// the tasks record.
async fn already_closed(
    client: &JiraClient,
    key: &str,
    transition: Option<&str>,
    error: JiraError,
) -> Result<Status, JiraError> {
    let issue = client.get_issue(key).await?;
    let closed = match transition {
        Some(status) => issue.status.name.eq_ignore_ascii_case(status),
        None => issue.status.category == StatusCategory::Done,
    };
    if closed { Ok(issue.status) } else { Err(error) }
}

/// Re-opens a done ticket (to a new status, else one in progress); gives its status and whether it
/// moved now. A ticket found not done was re-opened by an earlier pass that this one's lagging
/// search did not show yet: moving it again would take it from "To Do" on to "In Progress".
async fn reopen(
    client: &JiraClient,
    key: &str,
    comment: Option<&str>,
) -> Result<(Status, bool), JiraError> {
    let current = client.get_issue(key).await?;
    if current.status.category != StatusCategory::Done {
        return Ok((current.status, false));
    }
    let transition = match client
        .transition(
            key,
            &TransitionTarget::Category(StatusCategory::New),
            None,
            comment,
        )
        .await
    {
        Err(JiraError::NoTransition { .. }) => {
            client
                .transition(
                    key,
                    &TransitionTarget::Category(StatusCategory::Indeterminate),
                    None,
                    comment,
                )
                .await?
        }
        other => other?,
    };
    Ok((transition.to, true))
}

/// The actions on one ticket, in order; stops at the first failure so later steps do not act on a
/// ticket in an unexpected state.
async fn ticket_actions(
    ctx: &Context,
    target: &Target<'_>,
    observed: Option<&ObservedTicket>,
    actions: Vec<Action>,
) -> (Vec<StatusWrite>, Vec<Failure>) {
    let mut writes = Vec::new();
    let client = target.client;
    for action in actions {
        let subject = match &action {
            Action::Close { tasks, .. } | Action::Reopen { tasks, .. } => {
                Subject::of(observed, tasks)
            }
            _ => Subject::of(observed, &[]),
        };
        let result: Result<(), (&'static str, String, JiraError)> = match &action {
            Action::Update {
                key,
                changes,
                property,
            } => {
                async {
                    let update = issue_update(changes, observed);
                    if !update.is_empty() {
                        client
                            .edit_issue(key, &update)
                            .await
                            .map_err(|e| ("update", format!("updating {key}"), e))?;
                    }
                    if let Some(property) = property {
                        let value = serde_json::to_value(property).map_err(|e| {
                            (
                                "update",
                                format!("recording {key}"),
                                JiraError::InvalidInput {
                                    message: e.to_string(),
                                },
                            )
                        })?;
                        client
                            .set_property(key, PROPERTY_KEY, &value)
                            .await
                            .map_err(|e| ("update", format!("recording the tasks of {key}"), e))?;
                    }
                    ctx.metrics.action("update", "ok");
                    let fields = changes.field_names();
                    if !fields.is_empty() {
                        let what = subject.describe(target.namespace);
                        publish(
                            ctx,
                            target,
                            EventType::Normal,
                            "TicketUpdated",
                            "Update",
                            format!("updated {} of {key} for {what}", fields.join(", ")),
                            &subject,
                        )
                        .await;
                    }
                    Ok(())
                }
                .await
            }
            Action::Close {
                key,
                reason,
                comment,
                tasks,
            } => {
                let transition = match client
                    .transition(
                        key,
                        &close_target(target.closure),
                        target.closure.resolution.as_deref(),
                        comment.as_deref(),
                    )
                    .await
                {
                    Ok(t) => Ok((t.to, true)),
                    Err(error @ JiraError::NoTransition { .. }) => {
                        already_closed(client, key, target.closure.transition.as_deref(), error)
                            .await
                            .map(|status| (status, false))
                    }
                    Err(error) => Err(error),
                };
                match transition {
                    Ok((to, closed_now)) => {
                        ctx.metrics.action("close", "ok");
                        let url = observed.map(|o| o.url.clone()).unwrap_or_default();
                        writes.extend(
                            tasks.iter().map(|task| {
                                (task.clone(), Some(status_of(target, key, &url, &to)))
                            }),
                        );
                        let why = match reason {
                            CloseReason::TasksCompleted => "every task completed",
                            CloseReason::TasksGone => "its tasks left the sync",
                            CloseReason::SyncDeleted => {
                                "the sync was deleted (deletionPolicy: Close)"
                            }
                        };
                        let what = subject.describe(target.namespace);
                        if closed_now {
                            publish(
                                ctx,
                                target,
                                EventType::Normal,
                                "TicketClosed",
                                "Close",
                                format!("closed {key} ({why}) for {what}; now {}", to.name),
                                &subject,
                            )
                            .await;
                        }
                        Ok(())
                    }
                    Err(e) => Err(("close", format!("closing {key}"), e)),
                }
            }
            Action::Reopen {
                key,
                reason,
                comment,
                tasks,
            } => match reopen(client, key, comment.as_deref()).await {
                Ok((to, reopened_now)) => {
                    ctx.metrics.action("reopen", "ok");
                    let url = observed.map(|o| o.url.clone()).unwrap_or_default();
                    writes.extend(
                        tasks
                            .iter()
                            .map(|task| (task.clone(), Some(status_of(target, key, &url, &to)))),
                    );
                    let why = match reason {
                        ReopenReason::TasksReopened => "tasks re-opened or joined",
                        ReopenReason::DoneInJiraWhileOpen => {
                            "done in Jira while tasks are open (jiraCompletion: Reopen)"
                        }
                    };
                    let what = subject.describe(target.namespace);
                    if reopened_now {
                        publish(
                            ctx,
                            target,
                            EventType::Normal,
                            "TicketReopened",
                            "Reopen",
                            format!("re-opened {key} ({why}) for {what}"),
                            &subject,
                        )
                        .await;
                    }
                    Ok(())
                }
                Err(e) => Err(("reopen", format!("re-opening {key}"), e)),
            },
            Action::Release { key, labels } => match client
                .edit_issue(key, &without_labels(observed, labels))
                .await
            {
                Ok(()) => {
                    ctx.metrics.action("release", "ok");
                    publish(ctx, target, EventType::Normal, "TicketReleased", "Release", format!("released {key}: no task of the sync needs it; it is no longer kept in step"), &subject).await;
                    Ok(())
                }
                Err(e) => Err(("release", format!("releasing {key}"), e)),
            },
            Action::RetireDuplicate {
                key,
                original,
                labels,
            } => {
                async {
                    let comment = format!("Duplicate of {original}, which carries the same tasks; this ticket is no longer kept in step.");
                    if observed.is_some_and(|o| o.category == StatusCategory::Done) {
                        client.add_comment(key, &comment).await
                    } else {
                        match client.transition(key, &TransitionTarget::Category(StatusCategory::Done), None, Some(&comment)).await {
                            Ok(_) => Ok(()),
                            // Search lagged: it was done already.
                            Err(error @ JiraError::NoTransition { .. }) => match already_closed(client, key, None, error).await {
                                Ok(_) => client.add_comment(key, &comment).await,
                                Err(e) => Err(e),
                            },
                            Err(error) => Err(error),
                        }
                    }
                    .map_err(|e| ("retire", format!("closing duplicate {key}"), e))?;
                    client
                        .edit_issue(key, &without_labels(observed, labels))
                        .await
                        .map_err(|e| ("retire", format!("releasing duplicate {key}"), e))?;
                    ctx.metrics.action("retire", "ok");
                    publish(ctx, target, EventType::Warning, "DuplicateRetired", "Retire", format!("closed {key} as a duplicate of {original}"), &subject).await;
                    Ok(())
                }
                .await
            }
            Action::Delete { key } => match client.delete_issue(key).await {
                Ok(()) | Err(JiraError::NotFound { .. }) => {
                    ctx.metrics.action("delete", "ok");
                    let what = subject.describe(target.namespace);
                    publish(
                        ctx,
                        target,
                        EventType::Normal,
                        "TicketDeleted",
                        "Delete",
                        format!("deleted {key} ({what}; deletionPolicy: Delete)"),
                        &subject,
                    )
                    .await;
                    Ok(())
                }
                Err(e) => Err(("delete", format!("deleting {key}"), e)),
            },
            Action::Create(_)
            | Action::WriteTaskStatus { .. }
            | Action::CompleteTask { .. }
            | Action::AwaitSearchIndex { .. } => Ok(()),
        };
        if let Err((kind, what, error)) = result {
            let f = failure(ctx, target, kind, what, &error);
            tracing::warn!(sync = %target.name, namespace = %target.namespace, reason = f.reason, message = %f.message, "ticket action failed");
            publish(
                ctx,
                target,
                EventType::Warning,
                "JiraActionFailed",
                "Sync",
                f.message.clone(),
                &subject,
            )
            .await;
            return (writes, vec![f]);
        }
    }
    (writes, Vec::new())
}

async fn task_write(ctx: &Context, target: &Target<'_>, action: Action) -> Option<Failure> {
    let api: Api<ComplianceTask> = Api::namespaced(ctx.kube.clone(), target.namespace);
    let params = PatchParams::default();
    let (kind, task, result) = match action {
        Action::WriteTaskStatus { task, status } => {
            let patch = json!({"status": {"jira": status}});
            let result = api
                .patch_status(&task, &params, &Patch::Merge(&patch))
                .await;
            ("task_status", task, result)
        }
        Action::CompleteTask { task, key } => {
            let patch = json!({"spec": {"state": "Completed"}});
            let result = api.patch(&task, &params, &Patch::Merge(&patch)).await;
            if result.is_ok() {
                let subject = Subject {
                    identity: None,
                    tasks: vec![task.clone()],
                };
                publish(ctx, target, EventType::Normal, "TaskCompleted", "CompleteTask", format!("marked task {}/{task} Completed: {key} is done in Jira (jiraCompletion: CompleteTasks)", target.namespace), &subject).await;
            }
            ("task_complete", task, result)
        }
        _ => return None,
    };
    match result {
        Ok(_) => {
            ctx.metrics.action(kind, "ok");
            None
        }
        // A task deleted meanwhile needs no status.
        Err(kube::Error::Api(status)) if status.code == 404 => None,
        Err(error) => {
            let error = Error::from(error);
            ctx.metrics.action(kind, error.reason());
            Some(Failure {
                reason: error.reason(),
                message: format!("writing task {}/{task}: {error}", target.namespace),
                retryable: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_many_tasks_is_named_in_part_and_counted() {
        let subject = Subject {
            identity: Some("jas-group.alice@example.com".into()),
            tasks: (0..200).map(|i| format!("t{i}")).collect(),
        };
        let text = subject.describe("ns");
        assert!(text.starts_with("tasks of alice@example.com: ns/t0, ns/t1,"));
        assert!(text.ends_with("ns/t9 and 190 more (Batch)"), "{text}");
        assert!(text.len() < EVENT_NOTE_LIMIT);
        let few = Subject {
            identity: None,
            tasks: vec!["a".into()],
        };
        assert_eq!(few.describe("ns"), "task ns/a (Individual)");
    }

    fn failed(reason: &'static str, message: &str) -> Failure {
        Failure {
            reason,
            message: message.to_owned(),
            retryable: true,
        }
    }

    #[tokio::test]
    async fn the_first_failure_is_told_as_soon_as_it_happens_and_kept() {
        let first = std::sync::Arc::new(FirstFailure::default());
        let waiter = tokio::spawn({
            let first = first.clone();
            async move { first.first().await }
        });
        tokio::task::yield_now().await;
        first.record(&failed("JiraRateLimited", "closing SEC-1: rate limited"));
        first.record(&failed("JiraUnavailable", "closing SEC-2: 503"));
        assert_eq!(
            waiter.await.unwrap(),
            ("JiraRateLimited", "closing SEC-1: rate limited".to_owned())
        );
        assert_eq!(
            first.first().await.0,
            "JiraRateLimited",
            "asked again, still the first"
        );
    }
}
