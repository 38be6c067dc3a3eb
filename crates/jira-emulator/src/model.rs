//! The site's entities as the emulator keeps them: users, projects, issue types, workflow, issues.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::Value;

use super::seed::Category;

/// A user of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Cloud account id.
    pub account_id: String,
    /// Email address.
    pub email: String,
    /// Name shown in Jira.
    pub display_name: String,
    /// Data Center user name.
    pub name: String,
    /// Data Center user key (`JIRAUSER…`).
    pub key: String,
    /// API token for Basic auth.
    pub api_token: Option<String>,
    /// Personal access token for Bearer auth.
    pub personal_access_token: Option<String>,
}

/// An issue type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueType {
    /// Jira id.
    pub id: String,
    /// Name.
    pub name: String,
    /// 1 epic, 0 standard, -1 subtask.
    pub hierarchy_level: i32,
}

impl IssueType {
    /// Whether issues of this type live under a parent issue.
    pub fn is_subtask(&self) -> bool {
        self.hierarchy_level < 0
    }
}

/// What a user may do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the project and its issues.
    Browse,
    /// Create issues.
    Create,
    /// Edit, transition and comment.
    Edit,
    /// Delete issues.
    Delete,
    /// Be assigned issues.
    Assignable,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Jira id.
    pub id: String,
    /// Key, e.g. `SEC`.
    pub key: String,
    /// Name.
    pub name: String,
    /// Account id of the lead.
    pub lead: String,
    /// Ids of the issue types offered.
    pub issue_types: Vec<String>,
    /// Account ids per permission; `None` lets everyone.
    pub browse: Option<Vec<String>>,
    /// Who may create.
    pub create: Option<Vec<String>>,
    /// Who may edit.
    pub edit: Option<Vec<String>>,
    /// Who may delete.
    pub delete: Option<Vec<String>>,
    /// Who may be assigned issues.
    pub assignable: Option<Vec<String>>,
    /// Number the next issue gets.
    pub next_number: u64,
}

impl Project {
    /// Whether `account_id` holds `permission` here.
    pub fn allows(&self, permission: Permission, account_id: &str) -> bool {
        let list = match permission {
            Permission::Browse => &self.browse,
            Permission::Create => &self.create,
            Permission::Edit => &self.edit,
            Permission::Delete => &self.delete,
            Permission::Assignable => &self.assignable,
        };
        list.as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == account_id))
    }
}

/// A workflow status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Jira id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: Category,
}

/// A workflow transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Jira id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status ids it leaves from; empty = global.
    pub from: Vec<String>,
    /// Status id it leads to.
    pub to: String,
    /// Whether its screen offers the resolution field.
    pub resolution_screen: bool,
    /// Whether its screen requires the resolution.
    pub resolution_required: bool,
    /// Other fields of its screen.
    pub screen_fields: Vec<ScreenField>,
}

/// A field of a transition screen other than the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenField {
    /// Field id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether the transition is refused without it.
    pub required: bool,
}

impl Transition {
    /// Whether the transition can be taken from `status_id`.
    pub fn available_from(&self, status_id: &str) -> bool {
        if self.from.is_empty() {
            self.to != status_id
        } else {
            self.from.iter().any(|s| s == status_id)
        }
    }
}

/// A resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Jira id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// Jira id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Rich text as the client sent it: ADF from REST v3, wiki markup from REST v2; each API renders both.
#[derive(Debug, Clone, PartialEq)]
pub enum RichText {
    /// An Atlassian Document Format document.
    Adf(Value),
    /// Wiki markup.
    Wiki(String),
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Jira id.
    pub id: u64,
    /// Account id of the author.
    pub author: String,
    /// Account id of the last editor.
    pub update_author: String,
    /// Body.
    pub body: RichText,
    /// When written.
    pub created: Timestamp,
    /// When last edited.
    pub updated: Timestamp,
}

/// One field's change in a changelog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeItem {
    /// Field name, e.g. `status`.
    pub field: String,
    /// `jira` for system fields, `custom` for custom fields.
    pub field_type: String,
    /// Field id.
    pub field_id: String,
    /// Old raw value.
    pub from: Option<String>,
    /// Old shown value.
    pub from_string: Option<String>,
    /// New raw value.
    pub to: Option<String>,
    /// New shown value.
    pub to_string: Option<String>,
}

/// A changelog entry: the changes one request made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeGroup {
    /// Jira id.
    pub id: u64,
    /// Account id of who changed it.
    pub author: String,
    /// When.
    pub created: Timestamp,
    /// What changed.
    pub items: Vec<ChangeItem>,
}

/// An issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Jira id.
    pub id: u64,
    /// Key, e.g. `SEC-12`.
    pub key: String,
    /// Project id.
    pub project_id: String,
    /// Issue type id.
    pub issue_type_id: String,
    /// Summary.
    pub summary: String,
    /// Description.
    pub description: Option<RichText>,
    /// Labels, in the order given.
    pub labels: Vec<String>,
    /// Status id.
    pub status_id: String,
    /// Resolution id.
    pub resolution_id: Option<String>,
    /// Priority id.
    pub priority_id: Option<String>,
    /// Assignee account id.
    pub assignee: Option<String>,
    /// Reporter account id.
    pub reporter: Option<String>,
    /// Creator account id.
    pub creator: String,
    /// Due date.
    pub due_date: Option<Date>,
    /// Parent issue id (epic on Cloud, Epic Link on Data Center, parent of a subtask).
    pub parent_id: Option<u64>,
    /// Created.
    pub created: Timestamp,
    /// Last updated.
    pub updated: Timestamp,
    /// When it was resolved.
    pub resolution_date: Option<Timestamp>,
    /// When its status category last changed.
    pub status_category_changed: Timestamp,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Entity properties.
    pub properties: BTreeMap<String, Value>,
    /// History.
    pub changelog: Vec<ChangeGroup>,
}
