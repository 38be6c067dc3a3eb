//! Pure: findings in policy reports become ComplianceTasks. A source's pass is
//! (source spec, reports, its existing tasks, resource owners, now) -> task writes and counts,
//! with no I/O; `controller::source` gathers the inputs and carries the writes out.

mod assignee;
mod deletion;
mod desired;
mod finding;
mod labels;
mod naming;
mod plan;
mod report;
#[cfg(test)]
mod tests;
mod text;

pub use assignee::{Owners, ResourceKey, is_email};
pub use deletion::{DeletionPlan, deletion};
pub use desired::DesiredTask;
pub use finding::{Finding, findings};
pub use labels::{FINDING, FIRST_SEEN, REPORT_KIND, TASK_SOURCE};
pub use plan::{
    ExistingTask, SourceCounts, SourceInput, SourcePlan, SourceView, TaskApply, WriteReason, plan,
};
pub use report::{ENGINE_LABEL, PolicyResult, Report, ReportBody, ResourceRef};
