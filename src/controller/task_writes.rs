//! Writes to tasks: `status.jira` through the status subresource, and `spec.state: Completed` when a
//! ticket done in Jira completes its tasks (`jiraCompletion: CompleteTasks`).

use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::events::EventType;
use serde_json::json;

use super::audit;
use super::context::Context;
use super::error::Error;
use super::executor::{Target, publish};
use super::pass::{Failure, Retry};
use super::steps::StepEvent;
use crate::api::ComplianceTask;
use crate::planner::{Subject, TaskWrite};

/// Carries out one task write; a task deleted meanwhile needs none.
pub async fn task_write(ctx: &Context, target: &Target<'_>, write: TaskWrite) -> Option<Failure> {
    let api: Api<ComplianceTask> = Api::namespaced(ctx.kube.clone(), target.namespace);
    let params = PatchParams::default();
    let (kind, task, result) = match write {
        TaskWrite::Status { task, status } => {
            let patch = json!({"status": {"jira": status}});
            let result = api
                .patch_status(&task, &params, &Patch::Merge(&patch))
                .await;
            ("task_status", task, result)
        }
        TaskWrite::Complete { task, key } => {
            let patch = json!({"spec": {"state": "Completed"}});
            let result = api.patch(&task, &params, &Patch::Merge(&patch)).await;
            if result.is_ok() {
                let event = completed_event(target.namespace, &task, &key);
                audit::record(ctx, target, Some(&key), &event);
                publish(ctx, target, event).await;
            }
            ("task_complete", task, result)
        }
    };
    match result {
        Ok(_) => {
            ctx.metrics.action(kind, "ok");
            None
        }
        Err(kube::Error::Api(status)) if status.code == 404 => None,
        Err(error) => {
            let error = Error::from(error);
            ctx.metrics.action(kind, error.reason());
            Some(Failure {
                reason: error.reason(),
                message: format!("writing task {}/{task}: {error}", target.namespace),
                retry: Retry::of_kube(&error),
            })
        }
    }
}

fn completed_event(namespace: &str, task: &str, key: &str) -> StepEvent {
    StepEvent {
        type_: EventType::Normal,
        reason: "TaskCompleted",
        action: "CompleteTask",
        note: format!(
            "marked task {namespace}/{task} Completed: {key} is done in Jira (jiraCompletion: CompleteTasks)"
        ),
        subject: Subject {
            identity: None,
            tasks: vec![task.to_owned()],
        },
    }
}
