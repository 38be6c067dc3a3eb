//! The planner: pure functions from (sync spec, tasks in scope, tickets observed in Jira, now) to a
//! plan: steps on Jira, writes to tasks, and when to look again. Every decision of a sync is made
//! here, as data; no I/O happens here. The controller gathers the inputs and carries the plan out.

mod changes;
mod comments;
mod deletion;
mod desired;
mod identity;
mod inputs;
mod ownership;
mod pending;
mod people;
mod plan;
mod property;
pub mod simulation;
mod steps;

#[cfg(test)]
mod tests;

pub use changes::{ChangedPlan, Settled, plan_changes};
pub use comments::COMMENT_LIMIT;
pub use deletion::plan_deletion;
pub use identity::{
    GroupKey, Installation, InvalidInstallation, SyncLabels, TicketIdentity, is_identity_label,
    is_operator_label,
};
pub use inputs::{
    AccountLookup, ObservedTicket, OtherTask, PlanInput, SyncView, TaskView, TextDigest,
};
pub use ownership::{Ownership, Precedence, SyncClaim, moved_owners, owner_of};
pub use pending::PendingCreates;
pub use plan::{Counts, OPEN, Plan, plan};
pub use property::{PROPERTY_BUDGET, PROPERTY_KEY, TicketProperty, Unlisted};
pub use steps::{
    Assignee, CloseReason, NewTicket, ReleaseReason, ReopenReason, Step, Subject, TaskWrite,
    TicketFields, TransitionReason, TransitionStep, Warning,
};
