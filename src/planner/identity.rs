//! How a ticket is recognised as a sync's own: labels that Jira can search, naming the sync and the
//! ticket's identity (one task, or one batch group).

use std::fmt;

use sha2::{Digest, Sha256};

/// Jira's limit on the length of a label.
const LABEL_LIMIT: usize = 255;

/// Prefix of the label naming the sync in one installation: `jas@<installation>.<namespace>.<name>`.
/// Installations and namespaces have no dots, so the first two dots separate the three parts.
const SYNC_PREFIX: &str = "jas@";
/// Prefix of the label that named a sync before tickets carried the installation:
/// `jas.<namespace>.<name>`. Such tickets are adopted (relabelled) by the sync of that name.
const LEGACY_SYNC_PREFIX: &str = "jas.";
/// Prefix of the label a ticket keeps when its sync releases it (`jas-released@<installation>.
/// <namespace>.<name>`): not searched by the sync's passes, so the ticket is no longer kept in step,
/// but found again by `deletionPolicy: Delete`.
const RELEASED_PREFIX: &str = "jas-released@";
/// Longest installation identity, so that labels keep room for namespace and name.
const INSTALLATION_LIMIT: usize = 40;
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

/// The identity of one operator installation (a cluster, or one install in it): part of every sync
/// label, so that installs sharing a Jira site never touch each other's tickets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Installation(String);

/// An installation identity that cannot be part of a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "installation identity {0:?} must be 1 to 40 characters of lower-case letters, digits and \
     '-', starting and ending with a letter or digit"
)]
pub struct InvalidInstallation(String);

impl Installation {
    /// A chosen identity (a flag or chart value), checked.
    pub fn parse(text: &str) -> Result<Installation, InvalidInstallation> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let valid = (1..=INSTALLATION_LIMIT).contains(&text.len())
            && text.chars().all(allowed)
            && !text.starts_with('-')
            && !text.ends_with('-');
        if valid {
            Ok(Installation(text.to_owned()))
        } else {
            Err(InvalidInstallation(text.to_owned()))
        }
    }

    /// The identity derived from a cluster's own identity (the `kube-system` namespace's UID):
    /// twelve hex digits of its hash, stable for the cluster's life.
    pub fn of_cluster(uid: &str) -> Installation {
        let digest = Sha256::digest(uid.as_bytes());
        Installation(digest[..6].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The identity as written in labels.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Installation {
    type Err = InvalidInstallation;

    fn from_str(text: &str) -> Result<Installation, InvalidInstallation> {
        Installation::parse(text)
    }
}

impl fmt::Display for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The labels that find a sync's tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLabels {
    /// The label every ticket the sync keeps carries.
    pub current: String,
    /// The label tickets made before installation identities carry; the sync adopts them.
    pub legacy: String,
    /// The label tickets the sync released keep.
    pub released: String,
}

impl SyncLabels {
    /// The labels of the sync `namespace/name` in `installation`.
    pub fn of(installation: &Installation, namespace: &str, name: &str) -> SyncLabels {
        let sync = format!("{installation}.{namespace}.{name}");
        SyncLabels {
            current: bounded_label(SYNC_PREFIX, &sync),
            legacy: bounded_label(LEGACY_SYNC_PREFIX, &format!("{namespace}.{name}")),
            released: bounded_label(RELEASED_PREFIX, &sync),
        }
    }

    /// Whether a ticket with these labels is one the sync keeps (its own, or one to adopt).
    pub fn keeps(&self, labels: &[String]) -> bool {
        labels
            .iter()
            .any(|l| *l == self.current || *l == self.legacy)
    }

    /// The labels a search for the sync's kept tickets looks for.
    pub fn kept(&self) -> [&str; 2] {
        [&self.current, &self.legacy]
    }
}

/// Whether a label is one of the operator's labels (of any sync or installation), which people must
/// not be able to add or remove through the sync's own `labels`.
pub fn is_operator_label(label: &str) -> bool {
    [
        SYNC_PREFIX,
        LEGACY_SYNC_PREFIX,
        RELEASED_PREFIX,
        TASK_PREFIX,
        GROUP_PREFIX,
    ]
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
        let labels = SyncLabels::of(
            &Installation::parse("prod-eu").unwrap(),
            "payments",
            "vuln-sync",
        );
        assert_eq!(labels.current, "jas@prod-eu.payments.vuln-sync");
        assert_eq!(labels.legacy, "jas.payments.vuln-sync");
        assert_eq!(labels.released, "jas-released@prod-eu.payments.vuln-sync");
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
        let install = Installation::parse("i").unwrap();
        let (la, lb) = (
            SyncLabels::of(&install, "ns", &a).current,
            SyncLabels::of(&install, "ns", &b).current,
        );
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
        assert!(is_operator_label("jas@install.ns.sync"));
        assert!(is_operator_label("jas-released@install.ns.sync"));
        assert!(is_operator_label("jas-task.x"));
        assert!(is_operator_label("jas-group.unassigned"));
        assert!(!is_operator_label("compliance"));
        assert!(!is_operator_label("jasmine"));
    }

    #[test]
    fn installations_are_checked_and_derived() {
        for good in ["a", "prod-eu", "0a1b", &"x".repeat(40)] {
            assert_eq!(Installation::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "-a", "a-", "Prod", "a.b", "a b", "a_b", &"x".repeat(41)] {
            let error = Installation::parse(bad).unwrap_err().to_string();
            assert!(error.contains("lower-case letters"), "{bad:?}: {error}");
        }
        let derived = Installation::of_cluster("8c1b1f0e-5f55-4a1e-9b35-0c6f3f1c2d4e");
        assert_eq!(derived.as_str().len(), 12);
        assert_eq!(Installation::parse(derived.as_str()), Ok(derived.clone()));
        assert_ne!(derived, Installation::of_cluster("another-uid"));
    }

    #[test]
    fn a_sync_keeps_its_own_and_legacy_tickets_only() {
        let (east, west) = (
            Installation::parse("east").unwrap(),
            Installation::parse("west").unwrap(),
        );
        let labels = SyncLabels::of(&east, "ns", "sync");
        let with = |l: &str| vec!["compliance".to_owned(), l.to_owned()];
        assert!(labels.keeps(&with("jas@east.ns.sync")));
        assert!(labels.keeps(&with("jas.ns.sync")));
        assert!(!labels.keeps(&with(&SyncLabels::of(&west, "ns", "sync").current)));
        assert!(!labels.keeps(&with("jas-released@east.ns.sync")));
        assert!(!labels.keeps(&with("jas@east.ns.other")));
    }
}
