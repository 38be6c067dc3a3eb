//! What people do in Jira and the operator leaves alone: a ticket a person re-opens after the
//! operator closed it, and an assignment a person makes on a ticket whose tasks name nobody Jira
//! knows. The entity property records what the operator itself did (the close, the account it
//! assigned), so the planner can tell its own doing from a person's.

use super::desired::DesiredTicket;
use super::inputs::{ObservedTicket, PlanInput};
use super::steps::Assignee;
use crate::api::ClosureWhen;
use crate::jira::StatusCategory;

/// Where a ticket stands towards its closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseRecord {
    /// Some task is open (or `closure.when: Never`): nothing to close, no close recorded.
    NotDue,
    /// Every task is completed and the ticket was closed: it is done, or the operator closed it
    /// and a person re-opened it since, which stays so until a task re-opens or joins.
    Closed,
    /// Every task is completed and the ticket was never closed for them: the operator closes it.
    CloseNow,
}

/// Where `observed` stands towards closing it for the tasks of `ticket`.
pub(super) fn close_record(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
) -> CloseRecord {
    let all_completed = ticket.open_tasks().next().is_none();
    if !all_completed || input.sync.spec.closure.when != ClosureWhen::AllTasksCompleted {
        return CloseRecord::NotDue;
    }
    let recorded = observed.property.as_ref().is_some_and(|p| p.closed);
    if observed.category == StatusCategory::Done || recorded {
        CloseRecord::Closed
    } else {
        CloseRecord::CloseNow
    }
}

/// The assignee edit a ticket needs: a known assignee is put back when changed by hand; with
/// nobody Jira knows, only the operator's own assignment is removed (a person's stays); an email
/// not looked up yet leaves the assignee alone.
pub(super) fn assignee_change(
    want: Option<&Assignee>,
    observed: &ObservedTicket,
) -> Option<Option<String>> {
    match want? {
        Assignee::Account(id) => (observed.assignee.as_ref() != Some(id)).then(|| Some(id.clone())),
        Assignee::Unassigned => {
            let ours = observed.property.as_ref().and_then(|p| p.assignee.as_ref());
            (observed.assignee.is_some() && observed.assignee.as_ref() == ours).then_some(None)
        }
    }
}

/// The account the property records as the operator's assignment once the ticket is written.
pub(super) fn recorded_assignee(
    want: Option<&Assignee>,
    observed: &ObservedTicket,
) -> Option<String> {
    match want {
        Some(Assignee::Account(id)) => Some(id.clone()),
        Some(Assignee::Unassigned) => None,
        None => observed.property.as_ref().and_then(|p| p.assignee.clone()),
    }
}
