//! Carries out a plan and decides nothing: Jira steps through the client, task writes through the
//! Kubernetes API, an Event for every ticket action. Creates go in bulk; steps on one ticket keep
//! their order and stop at the first failure, while different tickets proceed concurrently (the
//! client's token bucket keeps the pace polite).

use std::collections::BTreeMap;

use futures::channel::mpsc::{self, UnboundedSender};
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::EventType;

use super::audit;
use super::context::Context;
use super::error::jira_reason;
use super::memory::SyncKey;
use super::pass::{FIELD_REFUSED, Failure, NO_WORKFLOW_PATH, Retry, SCREEN_REFUSED};
use super::steps::{self, StepError, StepEvent};
use super::task_writes::task_write;
use crate::api::{Mode, TaskJiraStatus};
use crate::jira::{JiraClient, JiraError, Status};
use crate::planner::{Plan, Step, TaskWrite};

/// Tickets worked on at once.
const TICKET_CONCURRENCY: usize = 8;
/// Task status writes at once.
pub(super) const TASK_CONCURRENCY: usize = 16;

/// What the executor needs to know about the sync.
pub struct Target<'a> {
    /// The sync.
    pub sync: SyncKey,
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
            sync: SyncKey {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
            namespace,
            name,
            reference: kube::Resource::object_ref(sync, &()),
            project: &sync.spec.jira.project,
            issue_type: &sync.spec.jira.issue_type,
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

/// What came of a plan.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The actions that failed.
    pub failures: Vec<Failure>,
}

/// Carries out a plan: creates and ticket steps in Jira while task writes go to Kubernetes, task
/// statuses of created tickets after each bulk create, those of transitions as they finish.
pub async fn execute(ctx: &Context, target: &Target<'_>, plan: Plan) -> Outcome {
    let mut creates = Vec::new();
    let mut by_ticket: BTreeMap<String, Vec<Step>> = BTreeMap::new();
    for step in plan.steps {
        match step.key().map(str::to_owned) {
            Some(key) => by_ticket.entry(key).or_default().push(step),
            None => creates.push(step),
        }
    }
    let (writes, queued) = mpsc::unbounded::<TaskWrite>();
    for write in plan.task_writes {
        // The receiver is alive: it is consumed below.
        let _ = writes.unbounded_send(write);
    }
    let jira = async move {
        let (mut failures, create_events) = steps::create_all(ctx, target, creates, &writes).await;
        let touched: Vec<String> = by_ticket.keys().cloned().collect();
        let results: Vec<Vec<Failure>> = stream::iter(by_ticket)
            .map(|(_, steps)| ticket_steps(ctx, target, steps, &writes))
            .buffer_unordered(TICKET_CONCURRENCY)
            .collect()
            .await;
        failures.extend(results.into_iter().flatten());
        // Whatever was done to them (or half done, if it failed), these are read again before the
        // sync plans next.
        ctx.memory
            .with(&target.sync, |m| m.tickets.mark_stale(touched));
        (failures, create_events)
    };
    let kubernetes = queued
        .map(|write| task_write(ctx, target, write))
        .buffer_unordered(TASK_CONCURRENCY)
        .collect::<Vec<Option<Failure>>>();
    let ((mut failures, create_events), task_failures) = futures::join!(jira, kubernetes);
    failures.extend(task_failures.into_iter().flatten());
    // Events of creates go out after the task statuses, many at once: one at a time, before the
    // statuses, they held every task of a large sync behind an API round trip per ticket.
    stream::iter(create_events)
        .map(|event| publish(ctx, target, event))
        .buffer_unordered(TASK_CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    Outcome { failures }
}

/// The steps on one ticket, in order; stops at the first failure of a step that the plan says
/// stops on failure, so later steps do not act on a ticket in an unexpected state.
async fn ticket_steps(
    ctx: &Context,
    target: &Target<'_>,
    steps: Vec<Step>,
    writes: &UnboundedSender<TaskWrite>,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    for step in steps {
        let done = match &step {
            Step::Create(_) => Ok(None),
            Step::Update {
                key,
                changes,
                property,
                subject,
            } => steps::update(target, key, changes, property.as_ref(), subject).await,
            Step::Transition(transition) => steps::transition(target, transition, writes).await,
            Step::Comment { key, text } => steps::comment(target.client, key, text).await,
            Step::Release {
                key,
                labels,
                reason,
                subject,
            } => steps::release(target.client, key, labels, reason, subject).await,
            Step::Delete { key, subject } => steps::delete(target, key, subject).await,
        };
        match done {
            Ok(event) => {
                ctx.metrics.action(steps::metric(&step), "ok");
                if let Some(event) = event {
                    audit::record(ctx, target, step.key(), &event);
                    publish(ctx, target, event).await;
                }
            }
            Err(error) => {
                failures.push(step_failed(ctx, target, &step, error).await);
                if step.stops_on_failure() {
                    break;
                }
            }
        }
    }
    failures
}

/// Records, logs and tells of a failed step (and of what it did all the same).
async fn step_failed(ctx: &Context, target: &Target<'_>, step: &Step, error: StepError) -> Failure {
    if let Some(done) = error.done {
        publish(ctx, target, done).await;
    }
    let mut f = failure(ctx, target, steps::metric(step), error.what, &error.error);
    let refused = !steps::refused_fields(&error.error).is_empty();
    let reason = match (&error.error, step) {
        (JiraError::NoTransition { .. }, _) => NO_WORKFLOW_PATH,
        (_, Step::Transition(_)) if refused => {
            f.message
                .push_str(" (give transition screen fields in closure.fields)");
            SCREEN_REFUSED
        }
        _ if refused => FIELD_REFUSED,
        _ => "JiraActionFailed",
    };
    if reason != "JiraActionFailed" {
        f.reason = reason;
    }
    tracing::warn!(sync = %target.name, namespace = %target.namespace, reason = f.reason, message = %f.message, "ticket action failed");
    let event = StepEvent {
        type_: EventType::Warning,
        reason,
        action: "Sync",
        note: f.message.clone(),
        subject: error.subject,
    };
    audit::record(ctx, target, step.key(), &event);
    publish(ctx, target, event).await;
    f
}

/// A failed Jira action: counted by kind and reason, and told to the pass's first-failure watcher.
pub(super) fn failure(
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
        retry: Retry::of_jira(error),
    };
    if let Some(first) = target.first_failure {
        first.record(&failure);
    }
    failure
}

/// Publishes an Event on the sync, related to the first task concerned: Events of one sync and
/// reason are told apart by that task, so each ticket's action stays visible rather than being
/// folded into a series.
pub(super) async fn publish(ctx: &Context, target: &Target<'_>, event: StepEvent) {
    let secondary = event.subject.tasks.first().map(|task| ObjectReference {
        api_version: Some("activesync.dev/v1alpha1".to_owned()),
        kind: Some("ComplianceTask".to_owned()),
        namespace: Some(target.namespace.to_owned()),
        name: Some(task.clone()),
        ..ObjectReference::default()
    });
    let event = event.into_event(secondary);
    if let Err(error) = ctx.events.publish(&event, &target.reference).await {
        tracing::warn!(%error, reason = %event.reason, "could not publish an Event");
    }
}

/// The status a task shows of its ticket after a step.
pub(super) fn status_of(
    target: &Target<'_>,
    key: &str,
    url: &str,
    status: &Status,
) -> TaskJiraStatus {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(reason: &'static str, message: &str) -> Failure {
        Failure {
            reason,
            message: message.to_owned(),
            retry: Retry::Soon,
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
