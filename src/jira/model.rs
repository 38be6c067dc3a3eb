//! The Jira objects the operator reads and writes, independent of REST version.

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::Value;

use super::description::Description;

/// Who the client acts as, or a user found by email. On Cloud `account_id` is the Atlassian account
/// id; on Data Center it is the user name (what `assignee.name` takes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraUser {
    /// Account id (Cloud) or user name (Data Center).
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// Email address, when Jira shows it.
    pub email: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

/// What `serverInfo` says about the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The site's base URL as Jira knows it.
    pub base_url: String,
    /// Version string, e.g. `1001.0.0-SNAPSHOT` or `10.3.1`.
    pub version: String,
    /// `Cloud`, `Server` or `Data Center`.
    pub deployment_type: String,
    /// The site's title.
    pub server_title: String,
}

/// A project and the issue types it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Numeric id.
    pub id: String,
    /// Key, e.g. `SEC`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Issue types of the project.
    pub issue_types: Vec<IssueType>,
}

/// An issue type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueType {
    /// Numeric id.
    pub id: String,
    /// Name, e.g. `Task`.
    pub name: String,
    /// Whether it is a sub-task type.
    pub subtask: bool,
}

/// A priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// Numeric id.
    pub id: String,
    /// Name, e.g. `High`.
    pub name: String,
}

/// The three status categories every Jira status belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCategory {
    /// `new` (To Do).
    New,
    /// `indeterminate` (In Progress).
    Indeterminate,
    /// `done`.
    Done,
}

impl StatusCategory {
    /// From Jira's category key; `None` for anything else (such as `undefined`).
    pub fn from_key(key: &str) -> Option<StatusCategory> {
        match key {
            "new" => Some(StatusCategory::New),
            "indeterminate" => Some(StatusCategory::Indeterminate),
            "done" => Some(StatusCategory::Done),
            _ => None,
        }
    }

    /// Jira's category key.
    pub fn key(self) -> &'static str {
        match self {
            StatusCategory::New => "new",
            StatusCategory::Indeterminate => "indeterminate",
            StatusCategory::Done => "done",
        }
    }
}

/// An issue's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Status name, e.g. `In Progress`.
    pub name: String,
    /// Its category.
    pub category: StatusCategory,
}

/// The minimal answer to a create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    /// Numeric id.
    pub id: String,
    /// Key, e.g. `SEC-42`.
    pub key: String,
    /// Browse URL for people (`<site>/browse/SEC-42`).
    pub url: String,
}

/// An issue as the operator observes it (only the managed fields are fetched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Numeric id.
    pub id: String,
    /// Key.
    pub key: String,
    /// Browse URL.
    pub url: String,
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Canonical plain text of the description (see [`Description::render`]).
    pub description_text: String,
    /// Labels, sorted (Jira keeps them as a set).
    pub labels: Vec<String>,
    /// Status and its category.
    pub status: Status,
    /// Resolution name, if resolved.
    pub resolution: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Due date.
    pub due_date: Option<Date>,
    /// Assignee account id (Cloud) or user name (Data Center).
    pub assignee: Option<String>,
    /// Epic key (`parent` on Cloud, the Epic Link field on Data Center).
    pub epic: Option<String>,
    /// Last update time.
    pub updated: Option<Timestamp>,
    /// The entity properties asked for with
    /// [`search_with_properties`](super::JiraClient::search_with_properties) that the issue has, by
    /// key; empty for other reads.
    pub properties: std::collections::BTreeMap<String, Value>,
}

/// A ticket to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIssue {
    /// Project key.
    pub project: String,
    /// Issue type name (or numeric id).
    pub issue_type: String,
    /// Summary (at most 254 characters on Jira).
    pub summary: String,
    /// Description, rendered for the connection's flavor.
    pub description: Description,
    /// Labels (no spaces, at most 255 characters each).
    pub labels: Vec<String>,
    /// Priority name (or numeric id).
    pub priority: Option<String>,
    /// Due date.
    pub due_date: Option<Date>,
    /// Assignee account id (Cloud) or user name (Data Center).
    pub assignee: Option<String>,
    /// Epic key.
    pub epic: Option<String>,
    /// Issue entity properties set in the same request, so identity metadata is atomic with the create.
    pub properties: Vec<(String, Value)>,
}

/// A change to managed fields. `None` leaves a field alone; for the optional fields `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueUpdate {
    /// New summary.
    pub summary: Option<String>,
    /// New description.
    pub description: Option<Description>,
    /// New complete label set.
    pub labels: Option<Vec<String>>,
    /// New priority (Jira has no "no priority", so it can only be changed).
    pub priority: Option<String>,
    /// New due date or none.
    pub due_date: Option<Option<Date>>,
    /// New assignee or unassigned.
    pub assignee: Option<Option<String>>,
    /// New epic or none.
    pub epic: Option<Option<String>>,
    /// New issue type (by name), where Jira allows changing it by an edit.
    pub issue_type: Option<String>,
}

impl IssueUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == IssueUpdate::default()
    }

    /// The update without the fields named by Jira's field ids (`parent` and custom field ids
    /// stand for the epic, the one custom field the operator sets).
    pub fn without_fields(&self, ids: &[&str]) -> IssueUpdate {
        let keep = |name: &str| !ids.contains(&name);
        let epic_refused = ids
            .iter()
            .any(|id| *id == "parent" || id.starts_with("customfield_"));
        IssueUpdate {
            summary: self.summary.clone().filter(|_| keep("summary")),
            description: self.description.clone().filter(|_| keep("description")),
            labels: self.labels.clone().filter(|_| keep("labels")),
            priority: self.priority.clone().filter(|_| keep("priority")),
            due_date: self.due_date.filter(|_| keep("duedate")),
            assignee: self.assignee.clone().filter(|_| keep("assignee")),
            epic: self.epic.clone().filter(|_| !epic_refused),
            issue_type: self.issue_type.clone().filter(|_| keep("issuetype")),
        }
    }

    /// The names of the fields that change, for Events and logs.
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            (self.summary.is_some(), "summary"),
            (self.description.is_some(), "description"),
            (self.labels.is_some(), "labels"),
            (self.priority.is_some(), "priority"),
            (self.due_date.is_some(), "duedate"),
            (self.assignee.is_some(), "assignee"),
            (self.epic.is_some(), "epic"),
            (self.issue_type.is_some(), "issuetype"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }
}

/// A workflow transition available on an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Transition id.
    pub id: String,
    /// Transition name, e.g. `Done`.
    pub name: String,
    /// The status it leads to.
    pub to: Status,
    /// Whether its screen takes a resolution.
    pub has_resolution_field: bool,
    /// The resolutions its screen offers, in Jira's order (empty without a resolution field).
    pub resolutions: Vec<String>,
    /// The other fields of its screen.
    pub screen_fields: Vec<ScreenField>,
}

/// A field of a transition screen other than the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenField {
    /// Field id, e.g. `customfield_10200`.
    pub id: String,
    /// Whether Jira refuses the transition without it.
    pub required: bool,
}

/// Where a transition should lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionTarget {
    /// The transition whose target status (or, failing that, whose own name) matches, ignoring case.
    StatusName(String),
    /// Any transition into a status of this category.
    Category(StatusCategory),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_without_refused_fields_keeps_the_rest() {
        let update = IssueUpdate {
            summary: Some("s".into()),
            priority: Some("Urgent".into()),
            assignee: Some(Some("acc-alice".into())),
            epic: Some(Some("SEC-1".into())),
            issue_type: Some("Bug".into()),
            ..IssueUpdate::default()
        };
        let rest = update.without_fields(&["priority", "assignee", "customfield_10100"]);
        assert_eq!(rest.field_names(), ["summary", "issuetype"]);
        assert!(
            update
                .without_fields(&["summary", "parent", "issuetype", "priority", "assignee"])
                .is_empty()
        );
    }
}
