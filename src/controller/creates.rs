//! Creates in bulk: recorded as pending in the sync's status before they are sent (so a crash that
//! loses an answer never makes a ticket twice), sent 50 at a time, read back for their statuses.

use std::collections::HashMap;

use futures::channel::mpsc::UnboundedSender;
use kube::Api;
use kube::runtime::events::EventType;

use super::audit;
use super::context::Context;
use super::executor::{Target, failure, status_of};
use super::gather::seen;
use super::pass::{FIELD_REFUSED, Failure, Retry};
use super::status::record_pending_creates;
use super::steps::{StepEvent, refused_fields};
use crate::api::JiraActiveSync;
use crate::jira::{BULK_CREATE_LIMIT, Flavor, JiraError, NewIssue, Status, StatusCategory};
use crate::planner::{NewTicket, PROPERTY_KEY, Step, TaskWrite};

/// Creates the tickets in bulk, one bulk call at a time; the task statuses of each call's tickets go
/// to `writes` as soon as it is answered, so Kubernetes writes overlap the next creates. Gives the
/// failures, and the Events to publish once the statuses are written.
pub async fn create_all(
    ctx: &Context,
    target: &Target<'_>,
    creates: Vec<Step>,
    writes: &UnboundedSender<TaskWrite>,
) -> (Vec<Failure>, Vec<StepEvent>) {
    let creates: Vec<NewTicket> = creates
        .into_iter()
        .filter_map(|step| match step {
            Step::Create(new) => Some(new),
            _ => None,
        })
        .collect();
    if creates.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if let Err(failure) = record_pending(ctx, target, &creates).await {
        return (vec![failure], Vec::new());
    }
    let mut failures = Vec::new();
    let mut events = Vec::new();
    for chunk in creates.chunks(BULK_CREATE_LIMIT) {
        let (chunk_failures, chunk_events) = create_chunk(ctx, target, chunk, writes).await;
        failures.extend(chunk_failures);
        events.extend(chunk_events);
    }
    (failures, events)
}

/// Notes the creates as pending and records them in the sync's status; unrecorded, a create whose
/// answer is lost could be repeated after a crash, so none is sent then.
async fn record_pending(
    ctx: &Context,
    target: &Target<'_>,
    creates: &[NewTicket],
) -> Result<(), Failure> {
    let sent = jiff::Timestamp::now();
    let pending = ctx.memory.with(&target.sync, |m| {
        for new in creates {
            m.pending.note(new.identity.label(), sent);
        }
        m.pending.records()
    });
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), target.namespace);
    let Err(error) =
        record_pending_creates(&api, &ctx.settings.manager, target.name, &pending).await
    else {
        return Ok(());
    };
    forget_pending(ctx, target, creates);
    ctx.metrics.action("create", error.reason());
    Err(Failure {
        reason: error.reason(),
        message: format!(
            "recording {} pending create(s) in the sync's status before sending them: {error}",
            creates.len()
        ),
        retry: Retry::of_kube(&error),
    })
}

/// Forgets creates that were never sent or that Jira refused: they cannot turn up in search.
fn forget_pending(ctx: &Context, target: &Target<'_>, creates: &[NewTicket]) {
    ctx.memory.with(&target.sync, |m| {
        for new in creates {
            m.pending.forget(&new.identity.label());
        }
    });
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
        assignee: new.fields.assignee_account(),
        epic: new.fields.epic.clone(),
        properties: vec![(
            PROPERTY_KEY.to_owned(),
            serde_json::to_value(&new.property)?,
        )],
    })
}

/// One bulk create: its tickets read back for their statuses, which go to `writes`. The request is
/// built here, a chunk at a time: built for every ticket at once, 10,000 requests held 20 MB.
async fn create_chunk(
    ctx: &Context,
    target: &Target<'_>,
    creates: &[NewTicket],
    writes: &UnboundedSender<TaskWrite>,
) -> (Vec<Failure>, Vec<StepEvent>) {
    let issues: Vec<NewIssue> = match creates.iter().map(|new| new_issue(target, new)).collect() {
        Ok(issues) => issues,
        Err(e) => {
            // Nothing of this chunk is sent, so nothing of it can turn up in search later.
            forget_pending(ctx, target, creates);
            let failure = Failure {
                reason: "InternalError",
                message: format!("could not serialise a ticket property: {e}"),
                retry: Retry::OnChange,
            };
            return (vec![failure], Vec::new());
        }
    };
    let results = target.client.bulk_create(&issues).await;
    let mut created = Vec::new();
    let mut failures = Vec::new();
    let mut events = Vec::new();
    for ((new, issue), result) in creates.iter().zip(&issues).zip(results) {
        let result = match result {
            Err(error) => match without_refused(issue, &error) {
                Some(retry) => {
                    let (f, event) = refused(ctx, target, new, &error);
                    failures.push(f);
                    events.push(event);
                    target.client.create_issue(&retry).await
                }
                None => Err(error),
            },
            done => done,
        };
        match result {
            Ok(made) => {
                events.push(created_event(ctx, target, new, &made.key));
                created.push(Created {
                    made,
                    new,
                    sent: issue,
                });
            }
            Err(error) => {
                let (f, event) = create_failed(ctx, target, new, &error);
                failures.push(f);
                events.push(event);
            }
        }
    }
    let statuses = read_back(ctx, target, &created).await;
    send_statuses(target, &created, &statuses, writes);
    (failures, events)
}

/// A ticket the create made: Jira's answer, what it stands for, and the request built for it (sent
/// again without refused fields, if any, with the same property).
struct Created<'a> {
    made: crate::jira::IssueRef,
    new: &'a NewTicket,
    sent: &'a NewIssue,
}

/// Each created ticket's status, as read back, to its tasks (`To Do` when it could not be read).
fn send_statuses(
    target: &Target<'_>,
    created: &[Created<'_>],
    statuses: &HashMap<String, Status>,
    writes: &UnboundedSender<TaskWrite>,
) {
    for Created { made, new, .. } in created {
        let status = statuses.get(&made.key).cloned().unwrap_or(Status {
            name: String::new(),
            category: StatusCategory::New,
        });
        for task in &new.tasks {
            // The receiver lives until every create is done.
            let _ = writes.unbounded_send(TaskWrite::Status {
                task: task.clone(),
                status: Some(status_of(target, &made.key, &made.url, &status)),
            });
        }
    }
}

/// The create again without the fields Jira refused, when it refused only fields a ticket can do
/// without (assignee, priority, due date, epic): nothing was made, so it is safe to send again.
fn without_refused(issue: &NewIssue, error: &JiraError) -> Option<NewIssue> {
    let refused = refused_fields(error);
    let optional = |id: &&str| {
        matches!(*id, "assignee" | "priority" | "duedate" | "parent")
            || id.starts_with("customfield_")
    };
    if refused.is_empty() || !refused.iter().all(optional) {
        return None;
    }
    let mut retry = issue.clone();
    for id in refused {
        match id {
            "assignee" => retry.assignee = None,
            "priority" => retry.priority = None,
            "duedate" => retry.due_date = None,
            _ => retry.epic = None,
        }
    }
    Some(retry)
}

/// The Warning of fields Jira refused on a create that is sent again without them.
fn refused(
    ctx: &Context,
    target: &Target<'_>,
    new: &NewTicket,
    error: &JiraError,
) -> (Failure, StepEvent) {
    let subject = new.subject();
    let what = format!(
        "Jira refused {} of the ticket for {}; it is created without",
        refused_fields(error).join(", "),
        subject.describe(target.namespace)
    );
    let mut f = failure(ctx, target, "create", what, error);
    f.reason = FIELD_REFUSED;
    let event = StepEvent {
        type_: EventType::Warning,
        reason: FIELD_REFUSED,
        action: "Create",
        note: f.message.clone(),
        subject,
    };
    (f, event)
}

fn created_event(ctx: &Context, target: &Target<'_>, new: &NewTicket, key: &str) -> StepEvent {
    let subject = new.subject();
    let what = subject.describe(target.namespace);
    ctx.metrics.action("create", "ok");
    tracing::info!(%key, sync = %target.name, namespace = %target.namespace, %what, "ticket created");
    let event = StepEvent {
        type_: EventType::Normal,
        reason: "TicketCreated",
        action: "Create",
        note: format!("created {key} for {what}"),
        subject,
    };
    audit::record(ctx, target, Some(key), &event);
    event
}

fn create_failed(
    ctx: &Context,
    target: &Target<'_>,
    new: &NewTicket,
    error: &JiraError,
) -> (Failure, StepEvent) {
    if !matches!(error, JiraError::Transient { .. }) {
        // Jira refused it: nothing was made, so nothing can turn up in search later.
        forget_pending(ctx, target, std::slice::from_ref(new));
    }
    let subject = new.subject();
    let what = format!(
        "creating the ticket for {}",
        subject.describe(target.namespace)
    );
    let f = failure(ctx, target, "create", what, error);
    let event = StepEvent {
        type_: EventType::Warning,
        reason: "CreateFailed",
        action: "Create",
        note: f.message.clone(),
        subject,
    };
    audit::record(ctx, target, None, &event);
    (f, event)
}

/// The property each created ticket was given, by key: the one its create request carried.
fn written_properties(created: &[Created<'_>]) -> HashMap<String, serde_json::Value> {
    created
        .iter()
        .filter_map(|c| {
            let (_, property) = c.sent.properties.iter().find(|(k, _)| k == PROPERTY_KEY)?;
            Some((c.made.key.clone(), property.clone()))
        })
        .collect()
}

/// The create answers carry no status: the tickets are read back in bulk to show it on the tasks,
/// and into the ticket cache.
async fn read_back(
    ctx: &Context,
    target: &Target<'_>,
    created: &[Created<'_>],
) -> HashMap<String, Status> {
    let keys: Vec<String> = created.iter().map(|c| c.made.key.clone()).collect();
    // Data Center's search cannot return properties: each would cost a request of its own, while
    // the property is the one the create set, atomically with the ticket.
    let (read, written) = match target.client.flavor() {
        Flavor::Cloud => (&[PROPERTY_KEY][..], None),
        Flavor::DataCenter => (&[][..], Some(written_properties(created))),
    };
    match target.client.bulk_fetch_with_properties(&keys, read).await {
        Ok(mut issues) => {
            if let Some(written) = written {
                for issue in &mut issues {
                    if let Some(property) = written.get(&issue.key) {
                        issue
                            .properties
                            .insert(PROPERTY_KEY.to_owned(), property.clone());
                    }
                }
            }
            let statuses = issues
                .iter()
                .map(|i| (i.key.clone(), i.status.clone()))
                .collect();
            let tickets = issues.into_iter().map(seen).collect();
            ctx.memory
                .with(&target.sync, |m| m.tickets.refreshed(&keys, tickets));
            statuses
        }
        Err(error) => {
            tracing::warn!(%error, "could not read created tickets back; their statuses follow on the next pass");
            ctx.memory
                .with(&target.sync, |m| m.tickets.mark_stale(keys.iter().cloned()));
            HashMap::new()
        }
    }
}
