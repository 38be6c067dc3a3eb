//! The issue entity property on every ticket: the full sync metadata, read back on each pass so the
//! planner knows what the operator last wrote (which tasks, in which state, with which labels,
//! whether it closed the ticket, whom it assigned). Jira refuses values over 32 KB, so a group too
//! large to list lists its open tasks first, as many as fit, and counts and digests the rest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::{Mode, TaskState};

/// The entity property key.
pub const PROPERTY_KEY: &str = "activesync.dev";

/// The most bytes a written property takes, below Jira's limit of 32,768 with room to spare.
pub const PROPERTY_BUDGET: usize = 30 * 1024;

/// Room kept for the counts of the unlisted tasks, which are known only once the list is cut.
const COUNTS_ROOM: usize = 64;

/// What the operator records on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketProperty {
    /// Namespace of the sync.
    pub namespace: String,
    /// Name of the sync.
    pub sync: String,
    /// Mode of the sync when the ticket was written.
    pub mode: Mode,
    /// The ticket's identity label.
    pub identity: String,
    /// The tasks of the ticket and their states when last written: every one while they fit in
    /// [`PROPERTY_BUDGET`], else the open ones first, as many as fit (see `unlisted`).
    pub tasks: BTreeMap<String, TaskState>,
    /// The labels from the sync's spec last put on the ticket (removed again when dropped from the spec).
    #[serde(default)]
    pub labels: Vec<String>,
    /// The tasks `tasks` leaves out, when it cannot list them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<Unlisted>,
    /// The operator closed the ticket with every task completed (or found it done so): a person
    /// who re-opens it is not overruled until a task re-opens or joins.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    /// The Jira account the operator last assigned the ticket to: the only assignment it removes
    /// when the tasks name nobody Jira knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The epic from the sync's spec last put on the ticket (taken off again when dropped from the
    /// spec; an epic a person chose is left alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epic: Option<String>,
}

/// What a property that cannot list every task records of the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unlisted {
    /// Open tasks left out (none unless every listed task is open).
    pub open: u32,
    /// Completed tasks left out.
    pub completed: u32,
    /// SHA-256 (hex) of every task and state, listed or not, so that any change is a new value.
    pub digest: String,
}

impl TicketProperty {
    /// The state the property records for a task. A task it leaves out of a cut list is taken as
    /// open while open tasks were left out (so it never reads as re-opened), else as completed
    /// (completed, or not on the ticket: the two mean the same to the planner).
    pub fn recorded(&self, task: &str) -> Option<TaskState> {
        if let Some(state) = self.tasks.get(task) {
            return Some(*state);
        }
        match &self.unlisted {
            Some(u) if u.open > 0 => Some(TaskState::Open),
            Some(u) if u.completed > 0 => Some(TaskState::Completed),
            _ => None,
        }
    }

    /// How many tasks the property records, listed or not.
    pub fn task_count(&self) -> usize {
        let unlisted = self.unlisted.as_ref().map_or(0, |u| {
            usize::try_from(u.open.saturating_add(u.completed)).unwrap_or(usize::MAX)
        });
        self.tasks.len().saturating_add(unlisted)
    }

    /// The property with `tasks` cut to fit [`PROPERTY_BUDGET`]: open tasks first, then
    /// completed ones, each in name order, as many as fit.
    pub fn fitted(mut self) -> TicketProperty {
        if size(&self) <= PROPERTY_BUDGET {
            return self;
        }
        let all = std::mem::take(&mut self.tasks);
        self.unlisted = Some(Unlisted {
            open: 0,
            completed: 0,
            digest: digest(&all),
        });
        let mut room = PROPERTY_BUDGET.saturating_sub(size(&self) + COUNTS_ROOM);
        let (open, completed): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|(_, s)| *s == TaskState::Open);
        let mut left = (0u32, 0u32);
        for (name, state) in open.into_iter().chain(completed) {
            let cost = entry_size(&name, state);
            if cost <= room && left == (0, 0) {
                room -= cost;
                self.tasks.insert(name, state);
            } else if state == TaskState::Open {
                left.0 += 1;
            } else {
                left.1 += 1;
            }
        }
        if let Some(u) = &mut self.unlisted {
            (u.open, u.completed) = left;
        }
        self
    }
}

/// The bytes a property takes as JSON text quoted once more: the size of Data Center's string
/// form of it, and more than its size as JSON, so that it fits either way.
pub fn size(property: &TicketProperty) -> usize {
    serde_json::to_string(property).map_or(usize::MAX, |text| quoted_len(&text))
}

/// The bytes one task entry adds, quoted: `"name":"Completed",`.
fn entry_size(name: &str, state: TaskState) -> usize {
    let json = |v: Result<String, serde_json::Error>| v.unwrap_or_default();
    let entry = format!(
        "{}:{},",
        json(serde_json::to_string(name)),
        json(serde_json::to_string(&state))
    );
    quoted_len(&entry) - 2
}

/// The length of `text` as a JSON string, quotes and escapes included.
fn quoted_len(text: &str) -> usize {
    serde_json::to_string(text).map_or(usize::MAX / 4, |q| q.len())
}

fn digest(tasks: &BTreeMap<String, TaskState>) -> String {
    let mut hasher = Sha256::new();
    for (name, state) in tasks {
        hasher.update(name.as_bytes());
        hasher.update(if *state == TaskState::Open {
            b"=O\n"
        } else {
            b"=C\n"
        });
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(open: usize, completed: usize) -> TicketProperty {
        let name = |i: usize| {
            format!(
                "{}-{i:05}",
                "a-rather-long-task-name-for-a-finding".repeat(2)
            )
        };
        let tasks = (0..open)
            .map(|i| (name(i), TaskState::Open))
            .chain((open..open + completed).map(|i| (name(i), TaskState::Completed)))
            .collect();
        TicketProperty {
            namespace: "payments".into(),
            sync: "vuln-sync".into(),
            mode: Mode::Batch,
            identity: "jas-group.alice_example.com".into(),
            tasks,
            labels: vec!["compliance".into()],
            unlisted: None,
            closed: false,
            assignee: Some("acc-alice".into()),
            epic: None,
        }
    }

    #[test]
    fn a_small_group_is_listed_whole_as_before() {
        let small = property(3, 2);
        let fitted = small.clone().fitted();
        assert_eq!(fitted, small);
        let json = serde_json::to_value(&fitted).expect("serialises");
        assert!(json.get("unlisted").is_none() && json.get("closed").is_none());
        assert_eq!(fitted.recorded("nobody"), None);
    }

    #[test]
    fn a_large_group_fits_listing_open_tasks_first() {
        for (open, completed) in [(10, 3_000), (2_000, 0), (150, 20_000)] {
            let whole = property(open, completed);
            let fitted = whole.clone().fitted();
            assert!(size(&fitted) <= PROPERTY_BUDGET, "{open}/{completed}");
            assert_eq!(fitted.task_count(), open + completed);
            let listed_open = fitted.tasks.values().filter(|s| **s == TaskState::Open);
            let unlisted = fitted.unlisted.clone().expect("cut");
            assert_eq!(
                listed_open.count() + unlisted.open as usize,
                open,
                "{open}/{completed}"
            );
            // Completed tasks are listed only once every open one is.
            if unlisted.open > 0 {
                assert!(fitted.tasks.values().all(|s| *s == TaskState::Open));
                assert_eq!(fitted.recorded("joined"), Some(TaskState::Open));
            } else {
                assert_eq!(fitted.recorded("joined"), Some(TaskState::Completed));
            }
        }
    }

    #[test]
    fn any_change_of_a_cut_group_changes_the_value() {
        let mut whole = property(5, 3_000);
        let before = whole.clone().fitted();
        let last = whole.tasks.keys().last().cloned().expect("a task");
        whole.tasks.insert(last, TaskState::Open);
        assert_ne!(whole.clone().fitted(), before);
        assert_eq!(whole.clone().fitted(), whole.fitted(), "deterministic");
    }

    #[test]
    fn old_properties_still_read() {
        let old = r#"{"namespace":"payments","sync":"vuln-sync","mode":"Batch",
            "identity":"jas-group.unassigned","tasks":{"a":"Open","b":"Completed"}}"#;
        let read: TicketProperty = serde_json::from_str(old).expect("reads");
        assert_eq!(read.recorded("b"), Some(TaskState::Completed));
        assert!(!read.closed && read.assignee.is_none() && read.unlisted.is_none());
    }
}
