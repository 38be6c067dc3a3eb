//! The site an emulator starts with: users, projects, issue types, workflow and issues, read from YAML or JSON.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a seed could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The file named.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The seed text is neither valid YAML nor JSON of the seed's shape.
    #[error("invalid seed {origin}: {message}")]
    Parse {
        /// Where the text came from.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// The seed parses but contradicts itself (unknown names, duplicates).
    #[error("inconsistent seed: {0}")]
    Inconsistent(String),
}

/// A whole site: what `/_emulator/seed` and `--seed` load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Seed {
    /// People who can sign in or be assigned.
    pub users: Vec<SeedUser>,
    /// The site's issue types; projects pick theirs by name.
    pub issue_types: Vec<SeedIssueType>,
    /// Projects with their issue types and permissions.
    pub projects: Vec<SeedProject>,
    /// The one workflow every project uses.
    pub workflow: SeedWorkflow,
    /// Issues present from the start, created in order (keys must follow each project's numbering).
    pub issues: Vec<SeedIssue>,
    /// Whether Jira Software is installed: on Data Center, without it there is no Epic Link field.
    pub jira_software: bool,
}

/// A user of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUser {
    /// Email address (also the Basic-auth user name).
    pub email: String,
    /// Name shown in Jira.
    pub display_name: String,
    /// Cloud account id; derived from the email when absent.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Data Center user name; the email's local part when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// API token for Basic auth (`email:token`).
    #[serde(default)]
    pub api_token: Option<String>,
    /// Personal access token for Bearer auth.
    #[serde(default)]
    pub personal_access_token: Option<String>,
}

/// An issue type of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedIssueType {
    /// Jira id.
    pub id: String,
    /// Name, e.g. `Task`.
    pub name: String,
    /// `1` for epics, `0` for standard types, `-1` for subtasks.
    #[serde(default)]
    pub hierarchy_level: i32,
}

/// Who may do what in a project; an absent list lets every user do it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SeedPermissions {
    /// Emails allowed to see the project and its issues.
    pub browse: Option<Vec<String>>,
    /// Emails allowed to create issues.
    pub create: Option<Vec<String>>,
    /// Emails allowed to edit, transition and comment.
    pub edit: Option<Vec<String>>,
    /// Emails allowed to delete issues.
    pub delete: Option<Vec<String>>,
    /// Emails that may be assigned issues.
    pub assignable: Option<Vec<String>>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedProject {
    /// Project key, e.g. `SEC`.
    pub key: String,
    /// Project name.
    pub name: String,
    /// Jira id; assigned from 10000 up when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Names of the issue types the project offers.
    pub issue_types: Vec<String>,
    /// Email of the project lead; the first user when absent.
    #[serde(default)]
    pub lead: Option<String>,
    /// Permission lists.
    #[serde(default)]
    pub permissions: SeedPermissions,
}

/// Status category of a status, as Jira keys them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// "To Do" (id 2).
    New,
    /// "In Progress" (id 4).
    Indeterminate,
    /// "Done" (id 3).
    Done,
}

/// A status of the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedStatus {
    /// Jira id.
    pub id: String,
    /// Name, e.g. `In Progress`.
    pub name: String,
    /// Its category.
    pub category: Category,
}

/// A transition of the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTransition {
    /// Jira id (as a string, like Jira's).
    pub id: String,
    /// Name shown on the button.
    pub name: String,
    /// Names of the statuses it leaves from; empty makes it global (available from every other status).
    #[serde(default)]
    pub from: Vec<String>,
    /// Name of the status it leads to.
    pub to: String,
    /// Whether its screen offers the resolution field (Done sets `Done` when none is given).
    #[serde(default)]
    pub resolution_screen: bool,
    /// Whether the screen requires the resolution (Data Center's classic "Resolve Issue"): a
    /// transition without one is refused. Implies `resolution_screen`.
    #[serde(default)]
    pub resolution_required: bool,
    /// Further fields on its screen (custom fields), each maybe required.
    #[serde(default)]
    pub screen_fields: Vec<SeedScreenField>,
}

/// A field of a transition screen other than the resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedScreenField {
    /// Field id, e.g. `customfield_10200`.
    pub id: String,
    /// Name shown on the screen.
    pub name: String,
    /// Whether the transition is refused without it.
    #[serde(default)]
    pub required: bool,
}

/// The workflow: its statuses (the first is the initial one) and transitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedWorkflow {
    /// Statuses; the first is where new issues start.
    pub statuses: Vec<SeedStatus>,
    /// Transitions between them.
    pub transitions: Vec<SeedTransition>,
}

/// An issue present from the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedIssue {
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Plain-text description.
    #[serde(default)]
    pub description: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Status name; the initial status when absent.
    #[serde(default)]
    pub status: Option<String>,
    /// Assignee email.
    #[serde(default)]
    pub assignee: Option<String>,
}

impl Default for Seed {
    /// The default site: projects SEC and OPS, users admin/alice/bob, the To Do -> In Progress -> Done
    /// workflow with Reopen, and the epic SEC-1.
    fn default() -> Self {
        let user = |email: &str, display_name: &str, account_id: &str| SeedUser {
            email: email.to_owned(),
            display_name: display_name.to_owned(),
            account_id: Some(account_id.to_owned()),
            name: None,
            api_token: None,
            personal_access_token: None,
        };
        let mut admin = user(
            "admin@example.com",
            "Emulator Admin",
            "5b10a2844c20165700ede21g",
        );
        admin.api_token = Some("emulator-token".to_owned());
        admin.personal_access_token = Some("emulator-pat".to_owned());
        let issue_type = |id: &str, name: &str, hierarchy_level: i32| SeedIssueType {
            id: id.to_owned(),
            name: name.to_owned(),
            hierarchy_level,
        };
        let project = |key: &str, name: &str, id: &str| SeedProject {
            key: key.to_owned(),
            name: name.to_owned(),
            id: Some(id.to_owned()),
            issue_types: ["Task", "Bug", "Story", "Epic"].map(str::to_owned).to_vec(),
            lead: Some("admin@example.com".to_owned()),
            permissions: SeedPermissions::default(),
        };
        let status = |id: &str, name: &str, category| SeedStatus {
            id: id.to_owned(),
            name: name.to_owned(),
            category,
        };
        let transition =
            |id: &str, name: &str, from: &[&str], to: &str, resolution_screen| SeedTransition {
                id: id.to_owned(),
                name: name.to_owned(),
                from: from.iter().map(|s| (*s).to_owned()).collect(),
                to: to.to_owned(),
                resolution_screen,
                resolution_required: false,
                screen_fields: Vec::new(),
            };
        Seed {
            users: vec![
                admin,
                user(
                    "alice@example.com",
                    "Alice Example",
                    "5b10ac8d82e05b22cc7d4ef5",
                ),
                user("bob@example.com", "Bob Example", "5b109f2e9729b51b54dc274d"),
            ],
            issue_types: vec![
                issue_type("10001", "Task", 0),
                issue_type("10002", "Bug", 0),
                issue_type("10003", "Story", 0),
                issue_type("10000", "Epic", 1),
            ],
            projects: vec![
                project("SEC", "Security", "10000"),
                project("OPS", "Operations", "10001"),
            ],
            jira_software: true,
            workflow: SeedWorkflow {
                statuses: vec![
                    status("10000", "To Do", Category::New),
                    status("3", "In Progress", Category::Indeterminate),
                    status("10001", "Done", Category::Done),
                ],
                transitions: vec![
                    transition("11", "Start Progress", &["To Do"], "In Progress", false),
                    transition("21", "Done", &["To Do", "In Progress"], "Done", true),
                    transition("31", "Reopen", &["In Progress", "Done"], "To Do", false),
                ],
            },
            issues: vec![SeedIssue {
                project: "SEC".to_owned(),
                issue_type: "Epic".to_owned(),
                summary: "Compliance tasks".to_owned(),
                description: Some("Epic collecting the compliance tickets.".to_owned()),
                labels: Vec::new(),
                status: None,
                assignee: None,
            }],
        }
    }
}

/// The seeds built in by name: the default site with a real workflow each (the files under the
/// package's `seeds/`).
pub const BUILTIN: [(&str, &str); 4] = [
    ("jira-software", include_str!("../seeds/jira-software.yaml")),
    ("review", include_str!("../seeds/review.yaml")),
    (
        "service-management",
        include_str!("../seeds/service-management.yaml"),
    ),
    ("dc-classic", include_str!("../seeds/dc-classic.yaml")),
];

impl Seed {
    /// The built-in seed `name` (`default` or one of [`BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Result<Self, SeedError>> {
        if name == "default" {
            return Some(Ok(Seed::default()));
        }
        BUILTIN
            .iter()
            .find(|(builtin, _)| *builtin == name)
            .map(|(_, text)| Self::parse(text, name))
    }

    /// A built-in seed by name, else the seed file at that path.
    pub fn named_or_file(name_or_path: &str) -> Result<Self, SeedError> {
        Self::builtin(name_or_path).unwrap_or_else(|| Self::from_file(Path::new(name_or_path)))
    }

    /// Parses seed text; YAML is a superset of JSON, so one parser reads both.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SeedError> {
        serde_yaml::from_str(text).map_err(|e| SeedError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn every_builtin_seed_builds_a_site_with_the_default_users_and_its_own_workflow() {
        for (name, _) in BUILTIN {
            let seed = Seed::builtin(name).expect("known").expect("parses");
            assert_eq!(seed.users, Seed::default().users, "{name}");
            assert_ne!(seed.workflow, Seed::default().workflow, "{name}");
            Store::from_seed(&seed, jiff::Timestamp::now()).expect(name);
        }
        assert!(Seed::builtin("no-such-workflow").is_none());
        assert!(Seed::named_or_file("no-such-workflow").is_err());
    }

    #[test]
    fn the_classic_workflow_requires_a_resolution_to_resolve_and_close() {
        let seed = Seed::builtin("dc-classic").expect("known").expect("parses");
        let required: Vec<&str> = seed
            .workflow
            .transitions
            .iter()
            .filter(|t| t.resolution_required)
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(required, ["Resolve Issue", "Close Issue"]);
    }
}
