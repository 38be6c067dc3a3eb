//! The walk through a workflow toward a target: which of the transitions Jira offers now to take
//! next. Jira shows only the transitions out of the current status, so the walk re-reads them
//! after each hop and never goes back to a status it passed.

use super::model::{StatusCategory, Transition, TransitionTarget};
use super::workflow::choose;

/// The most transitions one walk takes before it gives up.
pub const MAX_HOPS: usize = 5;

/// What a walk does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop<'a> {
    /// This transition reaches a target.
    Arrive(&'a Transition),
    /// No offered transition reaches a target; this one leads on, to a status not passed yet.
    Via(&'a Transition),
    /// Every offered transition leads back to a status already passed (or none is offered).
    Stuck,
}

/// The next hop toward `targets` (in order of preference) from the transitions offered now,
/// `passed` naming the statuses the walk has been in (the current one included). A target
/// reached directly wins; else the hop into the status category nearest the targets', the first
/// Jira lists among equals.
pub fn next_hop<'a>(
    offered: &'a [Transition],
    targets: &[TransitionTarget],
    passed: &[String],
) -> Hop<'a> {
    if let Some(arrive) = targets.iter().find_map(|target| choose(offered, target)) {
        return Hop::Arrive(arrive);
    }
    let goal = goal_category(targets);
    offered
        .iter()
        .filter(|t| !passed.iter().any(|p| p.eq_ignore_ascii_case(&t.to.name)))
        .min_by_key(|t| distance(t.to.category, goal))
        .map_or(Hop::Stuck, Hop::Via)
}

/// The category the walk heads for: the first target's; a status named by the user counts as done
/// (closure names a status of the done category).
fn goal_category(targets: &[TransitionTarget]) -> StatusCategory {
    match targets.first() {
        Some(TransitionTarget::Category(category)) => *category,
        Some(TransitionTarget::StatusName(_)) | None => StatusCategory::Done,
    }
}

/// How far apart two categories are along to do -> in progress -> done.
fn distance(from: StatusCategory, to: StatusCategory) -> u8 {
    let rank = |c| match c {
        StatusCategory::New => 0u8,
        StatusCategory::Indeterminate => 1,
        StatusCategory::Done => 2,
    };
    rank(from).abs_diff(rank(to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::model::Status;

    fn t(id: &str, to: &str, category: StatusCategory) -> Transition {
        Transition {
            id: id.into(),
            name: format!("to {to}"),
            to: Status {
                name: to.into(),
                category,
            },
            has_resolution_field: false,
            resolutions: Vec::new(),
            screen_fields: Vec::new(),
        }
    }

    fn passed(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    const DONE: &[TransitionTarget] = &[TransitionTarget::Category(StatusCategory::Done)];

    #[test]
    fn a_target_offered_now_is_taken_at_once() {
        let offered = [
            t("11", "In Progress", StatusCategory::Indeterminate),
            t("31", "Done", StatusCategory::Done),
        ];
        assert_eq!(
            next_hop(&offered, DONE, &passed(&["To Do"])),
            Hop::Arrive(&offered[1])
        );
    }

    #[test]
    fn a_review_workflow_is_walked_forward_and_never_back() {
        // In Progress offers the way back to To Do (passed) and on to In Review.
        let offered = [
            t("21", "To Do", StatusCategory::New),
            t("31", "In Review", StatusCategory::Indeterminate),
        ];
        let hop = next_hop(&offered, DONE, &passed(&["To Do", "In Progress"]));
        assert_eq!(hop, Hop::Via(&offered[1]));
        // From To Do, forward (in progress) is nearer done than another to-do status.
        let offered = [
            t("5", "Backlog", StatusCategory::New),
            t("11", "In Progress", StatusCategory::Indeterminate),
        ];
        assert_eq!(
            next_hop(&offered, DONE, &passed(&["To Do"])),
            Hop::Via(&offered[1])
        );
    }

    #[test]
    fn a_named_status_may_be_reached_through_another_done_status() {
        // Data Center classic: Resolved, then Closed.
        let closed = [TransitionTarget::StatusName("Closed".into())];
        let offered = [
            t("4", "In Progress", StatusCategory::Indeterminate),
            t("5", "Resolved", StatusCategory::Done),
        ];
        assert_eq!(
            next_hop(&offered, &closed, &passed(&["Open"])),
            Hop::Via(&offered[1])
        );
    }

    #[test]
    fn re_opening_prefers_to_do_then_in_progress_and_passes_through_other_statuses() {
        let reopen = [
            TransitionTarget::Category(StatusCategory::New),
            TransitionTarget::Category(StatusCategory::Indeterminate),
        ];
        let offered = [
            t("41", "In Progress", StatusCategory::Indeterminate),
            t("3", "Reopened", StatusCategory::New),
        ];
        assert_eq!(
            next_hop(&offered, &reopen, &passed(&["Done"])),
            Hop::Arrive(&offered[1])
        );
        let only_done = [t("701", "Closed", StatusCategory::Done)];
        assert_eq!(
            next_hop(&only_done, &reopen, &passed(&["Resolved"])),
            Hop::Via(&only_done[0])
        );
    }

    #[test]
    fn a_walk_with_only_passed_statuses_or_nothing_offered_is_stuck() {
        let offered = [t("21", "To Do", StatusCategory::New)];
        assert_eq!(
            next_hop(&offered, DONE, &passed(&["to do", "In Progress"])),
            Hop::Stuck
        );
        assert_eq!(next_hop(&[], DONE, &passed(&["Closed"])), Hop::Stuck);
    }
}
