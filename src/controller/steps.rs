//! One function per kind of plan step, each carrying its step out as the plan says and telling what
//! happened: the Event to publish, or the error with what was being done.

use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};

use super::conditions::truncate;
use super::executor::{Target, status_of};
use crate::jira::{IssueUpdate, JiraClient, JiraError, Walk};
use crate::planner::{
    PROPERTY_KEY, ReleaseReason, Step, Subject, TaskWrite, TicketProperty, TransitionReason,
    TransitionStep,
};

pub(super) use super::creates::create_all;

/// The API server's limit on an Event's note, in bytes.
const EVENT_NOTE_LIMIT: usize = 1024;

/// An Event about a ticket step.
#[derive(Debug)]
pub struct StepEvent {
    /// Normal or Warning.
    pub type_: EventType,
    /// PascalCase reason.
    pub reason: &'static str,
    /// What was done.
    pub action: &'static str,
    /// The note: what, why, for whom.
    pub note: String,
    /// Whom it concerns.
    pub subject: Subject,
}

impl StepEvent {
    fn normal(reason: &'static str, action: &'static str, note: String, subject: &Subject) -> Self {
        StepEvent {
            type_: EventType::Normal,
            reason,
            action,
            note,
            subject: subject.clone(),
        }
    }

    /// The Kubernetes Event, related to `secondary`.
    pub fn into_event(self, secondary: Option<ObjectReference>) -> Event {
        Event {
            type_: self.type_,
            reason: self.reason.to_owned(),
            note: Some(truncate(&self.note, EVENT_NOTE_LIMIT)),
            action: self.action.to_owned(),
            secondary,
        }
    }
}

/// A step Jira refused or could not take (in part: `done` tells what was done all the same).
#[derive(Debug)]
pub struct StepError {
    /// What was being done, e.g. "closing SEC-1".
    pub what: String,
    /// Jira's answer.
    pub error: JiraError,
    /// Whom it concerns.
    pub subject: Subject,
    /// The Event of what the step did despite the failure (the fields Jira took).
    pub done: Option<StepEvent>,
}

/// What a step gives: an Event to publish, if any.
pub type StepResult = Result<Option<StepEvent>, StepError>;

fn failed(what: String, subject: &Subject) -> impl FnOnce(JiraError) -> StepError + '_ {
    move |error| StepError {
        what,
        error,
        subject: subject.clone(),
        done: None,
    }
}

/// The field ids a refusal names (Jira's `errors`), when it is a validation error.
pub fn refused_fields(error: &JiraError) -> Vec<&str> {
    match error {
        JiraError::Validation { errors, .. } => errors.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The metric label of a step.
pub fn metric(step: &Step) -> &'static str {
    match step {
        Step::Create(_) => "create",
        Step::Update { .. } => "update",
        Step::Transition(t) => match t.reason {
            TransitionReason::Close(_) => "close",
            TransitionReason::Reopen(_) => "reopen",
            TransitionReason::RetireDuplicate { .. } => "retire",
        },
        Step::Comment { .. } => "comment",
        Step::Release {
            reason: ReleaseReason::DuplicateOf(_),
            ..
        } => "retire",
        Step::Release { .. } => "release",
        Step::Delete { .. } => "delete",
    }
}

/// Edits the managed fields, then records the tasks in the entity property. Fields Jira refuses
/// are left out and the rest edited all the same; the refusal is the step's error, naming them.
pub async fn update(
    target: &Target<'_>,
    key: &str,
    changes: &IssueUpdate,
    property: Option<&TicketProperty>,
    subject: &Subject,
) -> StepResult {
    let client = target.client;
    let refusal = edit(client, key, changes)
        .await
        .map_err(failed(format!("updating {key}"), subject))?;
    if let Some(property) = property {
        record(client, key, property, subject).await?;
    }
    let refused: Vec<String> = refusal
        .as_ref()
        .map(|e| refused_fields(e).into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let refused_ids: Vec<&str> = refused.iter().map(String::as_str).collect();
    let fields = changes.without_fields(&refused_ids).field_names();
    let done = (!fields.is_empty()).then(|| {
        let note = format!(
            "updated {} of {key} for {}",
            fields.join(", "),
            subject.describe(target.namespace)
        );
        StepEvent::normal("TicketUpdated", "Update", note, subject)
    });
    match refusal {
        None => Ok(done),
        Some(error) => Err(StepError {
            what: format!("Jira refused {} of {key}", refused.join(", ")),
            error,
            subject: subject.clone(),
            done,
        }),
    }
}

/// Edits the fields; when Jira refuses some by name, edits the others without them and gives the
/// refusal.
async fn edit(
    client: &JiraClient,
    key: &str,
    changes: &IssueUpdate,
) -> Result<Option<JiraError>, JiraError> {
    let Err(error) = client.edit_issue(key, changes).await else {
        return Ok(None);
    };
    let refused = refused_fields(&error);
    if refused.is_empty() {
        return Err(error);
    }
    client
        .edit_issue(key, &changes.without_fields(&refused))
        .await?;
    Ok(Some(error))
}

/// Writes the entity property.
async fn record(
    client: &JiraClient,
    key: &str,
    property: &TicketProperty,
    subject: &Subject,
) -> Result<(), StepError> {
    let what = format!("recording the tasks of {key}");
    let value = serde_json::to_value(property).map_err(|e| {
        failed(what.clone(), subject)(JiraError::InvalidInput {
            message: e.to_string(),
        })
    })?;
    client
        .set_property(key, PROPERTY_KEY, &value)
        .await
        .map_err(failed(what, subject))
}

/// Re-reads the ticket and moves it only from the categories the step names; either way its tasks
/// then show the status it has.
pub async fn transition(
    target: &Target<'_>,
    step: &TransitionStep,
    writes: &UnboundedSender<TaskWrite>,
) -> StepResult {
    let client = target.client;
    let what = match step.reason {
        TransitionReason::Close(_) => format!("closing {}", step.key),
        TransitionReason::Reopen(_) => format!("re-opening {}", step.key),
        TransitionReason::RetireDuplicate { .. } => format!("closing duplicate {}", step.key),
    };
    let current = client
        .get_issue(&step.key)
        .await
        .map_err(failed(what.clone(), &step.subject))?;
    let moved = if step.only_from.contains(&current.status.category) {
        let walk = Walk {
            targets: &step.to,
            resolution: step.resolution.as_deref(),
            fields: &step.fields,
            comment: step.comment.as_deref(),
        };
        let reached = client
            .walk(&step.key, &current.status, &walk)
            .await
            .map_err(failed(what, &step.subject))?;
        Some(reached)
    } else {
        None
    };
    let status = moved.clone().unwrap_or(current.status);
    for task in &step.tasks {
        // The receiver lives until every ticket's steps are done.
        let _ = writes.unbounded_send(TaskWrite::Status {
            task: task.clone(),
            status: Some(status_of(target, &step.key, &step.url, &status)),
        });
    }
    Ok(moved.and_then(|to| transition_event(target.namespace, step, &to.name)))
}

fn transition_event(namespace: &str, step: &TransitionStep, now: &str) -> Option<StepEvent> {
    let (key, what) = (&step.key, step.subject.describe(namespace));
    match &step.reason {
        TransitionReason::Close(why) => Some(StepEvent::normal(
            "TicketClosed",
            "Close",
            format!("closed {key} ({why}) for {what}; now {now}"),
            &step.subject,
        )),
        TransitionReason::Reopen(why) => Some(StepEvent::normal(
            "TicketReopened",
            "Reopen",
            format!("re-opened {key} ({why}) for {what}"),
            &step.subject,
        )),
        // The release that follows tells of the retirement.
        TransitionReason::RetireDuplicate { .. } => None,
    }
}

/// Adds a comment.
pub async fn comment(client: &JiraClient, key: &str, text: &str) -> StepResult {
    client
        .add_comment(key, text)
        .await
        .map_err(failed(format!("commenting on {key}"), &Subject::default()))?;
    Ok(None)
}

/// Sets the labels the ticket keeps, without the operator's.
pub async fn release(
    client: &JiraClient,
    key: &str,
    labels: &[String],
    reason: &ReleaseReason,
    subject: &Subject,
) -> StepResult {
    let update = IssueUpdate {
        labels: Some(labels.to_vec()),
        ..IssueUpdate::default()
    };
    let event = match reason {
        ReleaseReason::NotNeeded => StepEvent::normal(
            "TicketReleased",
            "Release",
            format!("released {key}: no task of the sync needs it; it is no longer kept in step"),
            subject,
        ),
        ReleaseReason::DuplicateOf(original) => StepEvent {
            type_: EventType::Warning,
            reason: "DuplicateRetired",
            action: "Retire",
            note: format!("closed {key} as a duplicate of {original}"),
            subject: subject.clone(),
        },
    };
    client
        .edit_issue(key, &update)
        .await
        .map_err(failed(format!("releasing {key}"), subject))?;
    Ok(Some(event))
}

/// Deletes the ticket; one already gone counts as deleted.
pub async fn delete(target: &Target<'_>, key: &str, subject: &Subject) -> StepResult {
    match target.client.delete_issue(key).await {
        Ok(()) | Err(JiraError::NotFound { .. }) => Ok(Some(StepEvent::normal(
            "TicketDeleted",
            "Delete",
            format!(
                "deleted {key} ({}; deletionPolicy: Delete)",
                subject.describe(target.namespace)
            ),
            subject,
        ))),
        Err(error) => Err(failed(format!("deleting {key}"), subject)(error)),
    }
}
