//! The planner: pure functions from (sync spec, tasks in scope, tickets observed in Jira) to actions.
//! No I/O happens here; the controller gathers the inputs and executes the actions.

mod actions;
mod deletion;
mod desired;
mod identity;
mod inputs;
mod ownership;
mod plan;
mod property;

#[cfg(test)]
mod tests;

pub use actions::{
    Action, Assignee, CloseReason, FieldChanges, NewTicket, ReopenReason, TicketFields, Warning,
};
pub use deletion::plan_deletion;
pub use identity::{GroupKey, TicketIdentity, is_identity_label, is_operator_label, sync_label};
pub use inputs::{
    AccountLookup, ObservedTicket, OtherTask, PlanInput, SyncView, TaskView, TextDigest,
};
pub use ownership::{Ownership, SyncClaim, owner_of};
pub use plan::{Counts, Plan, plan};
pub use property::{PROPERTY_KEY, TicketProperty};
