//! How a ticket is recognised as a sync's own: labels that Jira can search, naming the sync and the
//! ticket's identity (one task, or one batch group).

use std::fmt;

use sha2::{Digest, Sha256};

/// Jira's limit on the length of a label.
const LABEL_LIMIT: usize = 255;

/// Prefix of the label naming the sync: `jas.<namespace>.<name>`. Namespaces have no dots, so the
/// first dot after the prefix separates namespace and name without ambiguity.
const SYNC_PREFIX: &str = "jas.";
/// Prefix of the label naming the task of an Individual ticket.
const TASK_PREFIX: &str = "jas-task.";
/// Prefix of the label naming the group of a Batch ticket.
const GROUP_PREFIX: &str = "jas-group.";
/// The group of tasks with no assignee.
const UNASSIGNED: &str = "unassigned";

/// What one ticket stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TicketIdentity {
    /// Individual mode: the ticket of one task, by task name.
    Task(String),
    /// Batch mode: the ticket of one assignee's tasks.
    Group(GroupKey),
}

/// The grouping key of Batch mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupKey {
    /// The tasks of one assignee, by lower-cased email.
    Assignee(String),
    /// The tasks with no assignee.
    Unassigned,
}

impl GroupKey {
    /// The group of a task with this assignee (emails compare case-insensitively).
    pub fn of(assignee: Option<&str>) -> GroupKey {
        match assignee.map(str::trim).filter(|a| !a.is_empty()) {
            Some(email) => GroupKey::Assignee(email.to_lowercase()),
            None => GroupKey::Unassigned,
        }
    }

    /// The assignee's email, if the group has one.
    pub fn email(&self) -> Option<&str> {
        match self {
            GroupKey::Assignee(email) => Some(email),
            GroupKey::Unassigned => None,
        }
    }
}

impl fmt::Display for TicketIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketIdentity::Task(name) => write!(f, "task {name}"),
            TicketIdentity::Group(GroupKey::Assignee(email)) => write!(f, "tasks of {email}"),
            TicketIdentity::Group(GroupKey::Unassigned) => write!(f, "unassigned tasks"),
        }
    }
}

impl TicketIdentity {
    /// The label that carries this identity on the ticket.
    pub fn label(&self) -> String {
        match self {
            TicketIdentity::Task(name) => bounded_label(TASK_PREFIX, name),
            TicketIdentity::Group(GroupKey::Assignee(email)) => bounded_label(GROUP_PREFIX, email),
            TicketIdentity::Group(GroupKey::Unassigned) => format!("{GROUP_PREFIX}{UNASSIGNED}"),
        }
    }
}

impl TicketIdentity {
    /// The identity an identity label names. A label shortened by [`bounded_label`] gives the
    /// shortened name: good for telling people, while tickets are matched by label.
    pub fn from_label(label: &str) -> Option<TicketIdentity> {
        if let Some(name) = label.strip_prefix(TASK_PREFIX) {
            return Some(TicketIdentity::Task(name.to_owned()));
        }
        label.strip_prefix(GROUP_PREFIX).map(|group| {
            TicketIdentity::Group(match group {
                UNASSIGNED => GroupKey::Unassigned,
                email => GroupKey::Assignee(email.to_owned()),
            })
        })
    }
}

/// The label that marks every ticket of the sync `namespace/name`.
pub fn sync_label(namespace: &str, name: &str) -> String {
    bounded_label(SYNC_PREFIX, &format!("{namespace}.{name}"))
}

/// Whether a label is one of the operator's identity labels (of any sync), which people must not
/// be able to add or remove through the sync's own `labels`.
pub fn is_operator_label(label: &str) -> bool {
    [SYNC_PREFIX, TASK_PREFIX, GROUP_PREFIX]
        .iter()
        .any(|prefix| label.starts_with(prefix))
}

/// Whether a label names a ticket's identity (a task or a batch group).
pub fn is_identity_label(label: &str) -> bool {
    label.starts_with(TASK_PREFIX) || label.starts_with(GROUP_PREFIX)
}

/// `prefix + value`, or, when that would pass Jira's limit, a prefix of the value and a hash of all
/// of it, so that long names still give distinct labels.
fn bounded_label(prefix: &str, value: &str) -> String {
    let label = format!("{prefix}{value}");
    if label.len() <= LABEL_LIMIT {
        return label;
    }
    let digest = Sha256::digest(value.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let keep = LABEL_LIMIT - prefix.len() - hash.len() - 1;
    let mut cut = keep;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{prefix}{}~{hash}", &value[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_sync_task_and_group() {
        assert_eq!(
            sync_label("payments", "vuln-sync"),
            "jas.payments.vuln-sync"
        );
        assert_eq!(TicketIdentity::Task("t-1".into()).label(), "jas-task.t-1");
        assert_eq!(
            TicketIdentity::Group(GroupKey::of(Some("Alice@Example.com"))).label(),
            "jas-group.alice@example.com"
        );
        assert_eq!(
            TicketIdentity::Group(GroupKey::of(None)).label(),
            "jas-group.unassigned"
        );
        assert_eq!(GroupKey::of(Some("  ")), GroupKey::Unassigned);
    }

    #[test]
    fn long_names_give_distinct_labels_within_the_limit() {
        let a = "a".repeat(253);
        let mut b = "a".repeat(252);
        b.push('b');
        let (la, lb) = (sync_label("ns", &a), sync_label("ns", &b));
        assert!(la.len() <= LABEL_LIMIT && lb.len() <= LABEL_LIMIT);
        assert_ne!(la, lb);
        assert!(!la.contains(char::is_whitespace));
        let task = TicketIdentity::Task("é".repeat(200)).label();
        assert!(task.len() <= LABEL_LIMIT);
    }

    #[test]
    fn identity_labels_read_back_as_their_identity() {
        for identity in [
            TicketIdentity::Task("t-1".into()),
            TicketIdentity::Group(GroupKey::of(Some("alice@example.com"))),
            TicketIdentity::Group(GroupKey::Unassigned),
        ] {
            assert_eq!(
                TicketIdentity::from_label(&identity.label()),
                Some(identity)
            );
        }
        assert_eq!(TicketIdentity::from_label("jas.ns.sync"), None);
        assert_eq!(TicketIdentity::from_label("compliance"), None);
    }

    #[test]
    fn operator_labels_are_recognised() {
        assert!(is_operator_label("jas.ns.sync"));
        assert!(is_operator_label("jas-task.x"));
        assert!(is_operator_label("jas-group.unassigned"));
        assert!(!is_operator_label("compliance"));
        assert!(!is_operator_label("jasmine"));
    }
}
