//! The site's state and the operations that change it, each checked the way Jira checks it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::fields::IssueChanges;
use super::model::{
    ChangeGroup, ChangeItem, Comment, Issue, IssueType, Priority, Project, Resolution, RichText,
    ScreenField, Status, Transition, User,
};
use super::search_index::SearchIndex;
use super::seed::{Category, Seed, SeedError};
pub use super::webhooks::IssueEventKind;

/// What happened to an issue, for webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueEvent {
    /// Created, updated or deleted.
    pub kind: IssueEventKind,
    /// The issue after the change (before it, for a deletion).
    pub issue: Issue,
    /// The changelog entry the change wrote.
    pub changelog: Option<ChangeGroup>,
    /// The comment the change added.
    pub comment: Option<Comment>,
    /// Account id of who made the change.
    pub user: String,
    /// When.
    pub timestamp: Timestamp,
}

/// The whole site.
#[derive(Debug)]
pub struct Store {
    users: Vec<User>,
    issue_types: Vec<IssueType>,
    projects: Vec<Project>,
    statuses: Vec<Status>,
    transitions: Vec<Transition>,
    resolutions: Vec<Resolution>,
    priorities: Vec<Priority>,
    jira_software: bool,
    issues: BTreeMap<u64, Issue>,
    keys: HashMap<String, u64>,
    next_issue_id: u64,
    next_comment_id: u64,
    next_change_id: u64,
    index: SearchIndex,
    search_lag: Duration,
}

fn derived_account_id(email: &str) -> String {
    let digest = Sha256::digest(email.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Builds the site a seed describes, refusing seeds that contradict themselves.
    pub fn from_seed(seed: &Seed, now: Timestamp) -> Result<Self, SeedError> {
        let bad = |msg: String| SeedError::Inconsistent(msg);
        let mut users: Vec<User> = Vec::new();
        for (i, u) in seed.users.iter().enumerate() {
            if users.iter().any(|x| x.email.eq_ignore_ascii_case(&u.email)) {
                return Err(bad(format!("user {} is listed twice", u.email)));
            }
            let local = u.email.split('@').next().unwrap_or(&u.email).to_owned();
            users.push(User {
                account_id: u
                    .account_id
                    .clone()
                    .unwrap_or_else(|| derived_account_id(&u.email)),
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                name: u.name.clone().unwrap_or(local),
                key: format!("JIRAUSER{}", 10000 + i),
                api_token: u.api_token.clone(),
                personal_access_token: u.personal_access_token.clone(),
            });
        }
        let account_of = |email: &str| -> Result<String, SeedError> {
            users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(email))
                .map(|u| u.account_id.clone())
                .ok_or_else(|| SeedError::Inconsistent(format!("unknown user {email}")))
        };
        let issue_types: Vec<IssueType> = seed
            .issue_types
            .iter()
            .map(|t| IssueType {
                id: t.id.clone(),
                name: t.name.clone(),
                hierarchy_level: t.hierarchy_level,
            })
            .collect();
        let mut projects = Vec::new();
        for (i, p) in seed.projects.iter().enumerate() {
            if projects.iter().any(|x: &Project| x.key == p.key) {
                return Err(bad(format!("project {} is listed twice", p.key)));
            }
            let valid_key = p.key.len() >= 2
                && p.key.starts_with(|c: char| c.is_ascii_uppercase())
                && p.key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !valid_key {
                return Err(bad(format!(
                    "project key {} must be uppercase letters and digits, starting with a letter",
                    p.key
                )));
            }
            let mut type_ids = Vec::new();
            for name in &p.issue_types {
                let t = issue_types
                    .iter()
                    .find(|t| &t.name == name)
                    .ok_or_else(|| {
                        bad(format!("project {} names unknown issue type {name}", p.key))
                    })?;
                type_ids.push(t.id.clone());
            }
            let list = |emails: &Option<Vec<String>>| -> Result<Option<Vec<String>>, SeedError> {
                emails
                    .as_ref()
                    .map(|l| l.iter().map(|e| account_of(e)).collect())
                    .transpose()
            };
            let lead = match &p.lead {
                Some(email) => account_of(email)?,
                None => users
                    .first()
                    .map(|u| u.account_id.clone())
                    .ok_or_else(|| bad("a seed with projects needs at least one user".into()))?,
            };
            projects.push(Project {
                id: p.id.clone().unwrap_or_else(|| (10000 + i).to_string()),
                key: p.key.clone(),
                name: p.name.clone(),
                lead,
                issue_types: type_ids,
                browse: list(&p.permissions.browse)?,
                create: list(&p.permissions.create)?,
                edit: list(&p.permissions.edit)?,
                delete: list(&p.permissions.delete)?,
                assignable: list(&p.permissions.assignable)?,
                next_number: 1,
            });
        }
        if seed.workflow.statuses.is_empty() {
            return Err(bad("the workflow needs at least one status".into()));
        }
        let statuses: Vec<Status> = seed
            .workflow
            .statuses
            .iter()
            .map(|s| Status {
                id: s.id.clone(),
                name: s.name.clone(),
                category: s.category,
            })
            .collect();
        let status_id = |name: &str| -> Result<String, SeedError> {
            statuses
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.id.clone())
                .ok_or_else(|| SeedError::Inconsistent(format!("unknown status {name}")))
        };
        let mut transitions = Vec::new();
        for t in &seed.workflow.transitions {
            transitions.push(Transition {
                id: t.id.clone(),
                name: t.name.clone(),
                from: t
                    .from
                    .iter()
                    .map(|n| status_id(n))
                    .collect::<Result<_, _>>()?,
                to: status_id(&t.to)?,
                resolution_screen: t.resolution_screen || t.resolution_required,
                resolution_required: t.resolution_required,
                screen_fields: t
                    .screen_fields
                    .iter()
                    .map(|f| ScreenField {
                        id: f.id.clone(),
                        name: f.name.clone(),
                        required: f.required,
                    })
                    .collect(),
            });
        }
        let mut store = Store {
            jira_software: seed.jira_software,
            users,
            issue_types,
            projects,
            statuses,
            transitions,
            resolutions: [
                ("10000", "Done", "Work has been completed on this issue."),
                ("10001", "Won't Do", "This issue won't be actioned."),
                (
                    "10002",
                    "Duplicate",
                    "The problem is a duplicate of an existing issue.",
                ),
            ]
            .into_iter()
            .map(|(id, name, description)| Resolution {
                id: id.to_owned(),
                name: name.to_owned(),
                description: description.to_owned(),
            })
            .collect(),
            priorities: [
                ("1", "Highest"),
                ("2", "High"),
                ("3", "Medium"),
                ("4", "Low"),
                ("5", "Lowest"),
            ]
            .into_iter()
            .map(|(id, name)| Priority {
                id: id.to_owned(),
                name: name.to_owned(),
            })
            .collect(),
            issues: BTreeMap::new(),
            keys: HashMap::new(),
            next_issue_id: 10000,
            next_comment_id: 10000,
            next_change_id: 10000,
            index: SearchIndex::default(),
            search_lag: Duration::ZERO,
        };
        for issue in &seed.issues {
            let project = store
                .project(&issue.project)
                .ok_or_else(|| bad(format!("issue names unknown project {}", issue.project)))?;
            let project_id = project.id.clone();
            let issue_type = store
                .issue_type(&issue.issue_type)
                .filter(|t| project.issue_types.contains(&t.id))
                .ok_or_else(|| {
                    bad(format!(
                        "project {} has no issue type {}",
                        issue.project, issue.issue_type
                    ))
                })?
                .id
                .clone();
            let reporter = project.lead.clone();
            let changes = IssueChanges {
                project_id: Some(project_id),
                issue_type_id: Some(issue_type),
                summary: Some(issue.summary.clone()),
                description: Some(issue.description.clone().map(RichText::Wiki)),
                labels: super::fields::LabelChanges {
                    set: Some(issue.labels.clone()),
                    ..Default::default()
                },
                assignee: issue
                    .assignee
                    .as_deref()
                    .map(|email| {
                        store
                            .user_by_reference(email)
                            .map(|u| Some(u.account_id.clone()))
                            .ok_or_else(|| bad(format!("unknown user {email}")))
                    })
                    .transpose()?,
                ..Default::default()
            };
            let created = store
                .create_issue(changes, &reporter, now, Instant::now())
                .map_err(|e| bad(format!("seed issue {:?}: {:?}", issue.summary, e.body())))?;
            if let Some(status) = &issue.status {
                let id = store
                    .statuses
                    .iter()
                    .find(|s| &s.name == status)
                    .map(|s| s.id.clone())
                    .ok_or_else(|| bad(format!("unknown status {status}")))?;
                if let Some(stored) = store.issues.get_mut(&created.issue.id) {
                    stored.status_id = id;
                }
                store.reindex(created.issue.id, Instant::now());
            }
        }
        Ok(store)
    }

    /// Sets how long changes take to reach search.
    pub fn set_search_lag(&mut self, lag: Duration) {
        self.search_lag = lag;
    }

    /// All users.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// All projects.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// All statuses.
    pub fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    /// All transitions.
    pub fn transitions(&self) -> &[Transition] {
        &self.transitions
    }

    /// All priorities.
    pub fn priorities(&self) -> &[Priority] {
        &self.priorities
    }

    /// Whether Jira Software is installed (Data Center's Epic Link field exists).
    pub fn jira_software(&self) -> bool {
        self.jira_software
    }

    /// All resolutions.
    pub fn resolutions(&self) -> &[Resolution] {
        &self.resolutions
    }

    /// A user by account id, user name, user key or email.
    pub fn user_by_reference(&self, reference: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.account_id == reference
                || u.name == reference
                || u.key == reference
                || u.email.eq_ignore_ascii_case(reference)
        })
    }

    /// A user by account id.
    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.account_id == account_id)
    }

    /// A project by id or key (keys match case-insensitively, as in Jira).
    pub fn project(&self, id_or_key: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == id_or_key || p.key.eq_ignore_ascii_case(id_or_key))
    }

    /// An issue type by id or name.
    pub fn issue_type(&self, id_or_name: &str) -> Option<&IssueType> {
        self.issue_types
            .iter()
            .find(|t| t.id == id_or_name || t.name.eq_ignore_ascii_case(id_or_name))
    }

    /// A status by id.
    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// The category of a status (`new` for an unknown one).
    pub fn category(&self, status_id: &str) -> Category {
        self.status(status_id).map_or(Category::New, |s| s.category)
    }

    /// A priority by id or name.
    pub fn priority(&self, id_or_name: &str) -> Option<&Priority> {
        self.priorities
            .iter()
            .find(|p| p.id == id_or_name || p.name.eq_ignore_ascii_case(id_or_name))
    }

    /// A resolution by id or name.
    pub fn resolution(&self, id_or_name: &str) -> Option<&Resolution> {
        self.resolutions
            .iter()
            .find(|r| r.id == id_or_name || r.name.eq_ignore_ascii_case(id_or_name))
    }

    /// An issue by id or key (keys match case-insensitively).
    pub fn issue(&self, id_or_key: &str) -> Option<&Issue> {
        let id = match id_or_key.parse::<u64>() {
            Ok(id) => id,
            Err(_) => *self.keys.get(&id_or_key.to_ascii_uppercase())?,
        };
        self.issues.get(&id)
    }

    /// An issue by id.
    pub fn issue_by_id(&self, id: u64) -> Option<&Issue> {
        self.issues.get(&id)
    }

    /// Lets search see the changes whose lag has passed by `now`.
    pub fn catch_up_search(&mut self, now: Instant) {
        self.index.catch_up(now);
    }

    /// The issues search can see (trailing the store by the search lag).
    pub fn searchable(&self) -> impl Iterator<Item = &Issue> {
        self.index.visible()
    }

    /// Issues whose parent is `id`.
    pub fn children(&self, id: u64) -> impl Iterator<Item = &Issue> {
        self.issues
            .values()
            .filter(move |i| i.parent_id == Some(id))
    }

    fn reindex(&mut self, id: u64, now: Instant) {
        let snapshot = self.issues.get(&id).cloned();
        self.index.record(id, snapshot, self.search_lag, now);
    }

    fn next_change(&mut self, author: &str, now: Timestamp, items: Vec<ChangeItem>) -> ChangeGroup {
        let id = self.next_change_id;
        self.next_change_id += 1;
        ChangeGroup {
            id,
            author: author.to_owned(),
            created: now,
            items,
        }
    }

    /// Creates an issue from validated changes.
    pub fn create_issue(
        &mut self,
        changes: IssueChanges,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<IssueEvent, ApiError> {
        let project_id = changes
            .project_id
            .clone()
            .ok_or_else(|| ApiError::field("project", "Specify a valid project ID or key"))?;
        let issue_type_id = changes
            .issue_type_id
            .clone()
            .ok_or_else(|| ApiError::field("issuetype", "Specify an issue type"))?;
        let initial_status = self
            .statuses
            .first()
            .map(|s| s.id.clone())
            .ok_or_else(|| ApiError::bad_request("The workflow has no statuses."))?;
        let project = self
            .projects
            .iter_mut()
            .find(|p| p.id == project_id)
            .ok_or_else(|| ApiError::field("project", "Specify a valid project ID or key"))?;
        let key = format!("{}-{}", project.key, project.next_number);
        project.next_number += 1;
        let id = self.next_issue_id;
        self.next_issue_id += 1;
        let mut issue = Issue {
            id,
            key: key.clone(),
            project_id,
            issue_type_id,
            summary: String::new(),
            description: None,
            labels: Vec::new(),
            status_id: initial_status,
            resolution_id: None,
            priority_id: self.priority("Medium").map(|p| p.id.clone()),
            assignee: None,
            reporter: Some(caller.to_owned()),
            creator: caller.to_owned(),
            due_date: None,
            parent_id: None,
            created: now,
            updated: now,
            resolution_date: None,
            status_category_changed: now,
            comments: Vec::new(),
            properties: BTreeMap::new(),
            changelog: Vec::new(),
        };
        let comments = self.apply_changes(&mut issue, &changes, caller, now);
        self.keys.insert(key, id);
        self.issues.insert(id, issue.clone());
        self.reindex(id, instant);
        Ok(IssueEvent {
            kind: IssueEventKind::Created,
            issue,
            changelog: None,
            comment: comments.into_iter().last(),
            user: caller.to_owned(),
            timestamp: now,
        })
    }

    /// Applies field changes to an issue, returning the comments added.
    fn apply_changes(
        &mut self,
        issue: &mut Issue,
        changes: &IssueChanges,
        caller: &str,
        now: Timestamp,
    ) -> Vec<Comment> {
        if let Some(t) = &changes.issue_type_id {
            issue.issue_type_id.clone_from(t);
        }
        if let Some(s) = &changes.summary {
            issue.summary.clone_from(s);
        }
        if let Some(d) = &changes.description {
            issue.description.clone_from(d);
        }
        if !changes.labels.is_empty() {
            issue.labels = changes.labels.apply(&issue.labels);
        }
        if let Some(p) = &changes.priority_id {
            issue.priority_id.clone_from(p);
        }
        if let Some(a) = &changes.assignee {
            issue.assignee.clone_from(a);
        }
        if let Some(r) = &changes.reporter {
            issue.reporter.clone_from(r);
        }
        if let Some(d) = changes.due_date {
            issue.due_date = d;
        }
        if let Some(p) = changes.parent_id {
            issue.parent_id = p;
        }
        if let Some(r) = &changes.resolution_id {
            issue.resolution_id.clone_from(r);
        }
        for (key, value) in &changes.properties {
            issue.properties.insert(key.clone(), value.clone());
        }
        let mut added = Vec::new();
        for body in &changes.comments {
            let comment = Comment {
                id: self.next_comment_id,
                author: caller.to_owned(),
                update_author: caller.to_owned(),
                body: body.clone(),
                created: now,
                updated: now,
            };
            self.next_comment_id += 1;
            issue.comments.push(comment.clone());
            added.push(comment);
        }
        added
    }

    /// Edits an issue; the changelog records what actually changed.
    pub fn edit_issue(
        &mut self,
        id: u64,
        changes: &IssueChanges,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<IssueEvent, ApiError> {
        let before = self
            .issues
            .get(&id)
            .cloned()
            .ok_or_else(ApiError::issue_not_found)?;
        let mut after = before.clone();
        let comments = self.apply_changes(&mut after, changes, caller, now);
        Ok(self.commit_update(before, after, comments, caller, now, instant))
    }

    /// Moves an issue through a transition, setting or clearing the resolution as Jira does.
    pub fn transition_issue(
        &mut self,
        id: u64,
        transition_id: &str,
        changes: &IssueChanges,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<IssueEvent, ApiError> {
        let before = self
            .issues
            .get(&id)
            .cloned()
            .ok_or_else(ApiError::issue_not_found)?;
        let transition = self
            .transitions
            .iter()
            .find(|t| t.id == transition_id && t.available_from(&before.status_id))
            .cloned()
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Transition id '{transition_id}' is not valid for this issue."
                ))
            })?;
        let mut after = before.clone();
        let comments = self.apply_changes(&mut after, changes, caller, now);
        after.status_id.clone_from(&transition.to);
        let old_category = self.category(&before.status_id);
        let new_category = self.category(&transition.to);
        if old_category != new_category {
            after.status_category_changed = now;
        }
        if new_category == Category::Done {
            if after.resolution_id.is_none() && transition.resolution_screen {
                after.resolution_id = self.resolution("Done").map(|r| r.id.clone());
            }
        } else {
            after.resolution_id = None;
        }
        after.resolution_date = match (&before.resolution_id, &after.resolution_id) {
            (_, None) => None,
            (None, Some(_)) => Some(now),
            (Some(_), Some(_)) => before.resolution_date,
        };
        Ok(self.commit_update(before, after, comments, caller, now, instant))
    }

    /// Adds a comment.
    pub fn add_comment(
        &mut self,
        id: u64,
        body: RichText,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<IssueEvent, ApiError> {
        let changes = IssueChanges {
            comments: vec![body],
            ..Default::default()
        };
        self.edit_issue(id, &changes, caller, now, instant)
    }

    /// Replaces a comment's body.
    pub fn update_comment(
        &mut self,
        id: u64,
        comment_id: u64,
        body: RichText,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<Comment, ApiError> {
        let issue = self
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        let comment = issue
            .comments
            .iter_mut()
            .find(|c| c.id == comment_id)
            .ok_or_else(|| comment_not_found(comment_id))?;
        comment.body = body;
        comment.updated = now;
        comment.update_author = caller.to_owned();
        let updated = comment.clone();
        issue.updated = now;
        self.reindex(id, instant);
        Ok(updated)
    }

    /// Deletes a comment.
    pub fn delete_comment(
        &mut self,
        id: u64,
        comment_id: u64,
        instant: Instant,
    ) -> Result<(), ApiError> {
        let issue = self
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        let before = issue.comments.len();
        issue.comments.retain(|c| c.id != comment_id);
        if issue.comments.len() == before {
            return Err(comment_not_found(comment_id));
        }
        self.reindex(id, instant);
        Ok(())
    }

    /// Sets an entity property; answers whether it was new.
    pub fn set_property(
        &mut self,
        id: u64,
        key: &str,
        value: serde_json::Value,
        instant: Instant,
    ) -> Result<bool, ApiError> {
        let issue = self
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        let created = issue.properties.insert(key.to_owned(), value).is_none();
        self.reindex(id, instant);
        Ok(created)
    }

    /// Deletes an entity property.
    pub fn delete_property(
        &mut self,
        id: u64,
        key: &str,
        instant: Instant,
    ) -> Result<(), ApiError> {
        let issue = self
            .issues
            .get_mut(&id)
            .ok_or_else(ApiError::issue_not_found)?;
        if issue.properties.remove(key).is_none() {
            return Err(property_not_found(key));
        }
        self.reindex(id, instant);
        Ok(())
    }

    /// Deletes an issue (and its subtasks when asked); refuses when it has subtasks and was not asked.
    pub fn delete_issue(
        &mut self,
        id: u64,
        delete_subtasks: bool,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> Result<Vec<IssueEvent>, ApiError> {
        let subtasks: Vec<u64> = self
            .children(id)
            .filter(|c| {
                self.issue_type(&c.issue_type_id)
                    .is_some_and(IssueType::is_subtask)
            })
            .map(|c| c.id)
            .collect();
        if !subtasks.is_empty() && !delete_subtasks {
            let key = self
                .issues
                .get(&id)
                .map(|i| i.key.clone())
                .unwrap_or_default();
            return Err(ApiError::bad_request(format!(
                "The issue '{key}' has subtasks. Set the deleteSubtasks parameter to true to delete the issue and its subtasks."
            )));
        }
        let mut events = Vec::new();
        for victim in subtasks.into_iter().chain([id]) {
            let issue = self
                .issues
                .remove(&victim)
                .ok_or_else(ApiError::issue_not_found)?;
            self.keys.remove(&issue.key);
            for other in self.issues.values_mut() {
                if other.parent_id == Some(victim) {
                    other.parent_id = None;
                }
            }
            self.reindex(victim, instant);
            events.push(IssueEvent {
                kind: IssueEventKind::Deleted,
                issue,
                changelog: None,
                comment: None,
                user: caller.to_owned(),
                timestamp: now,
            });
        }
        Ok(events)
    }

    fn commit_update(
        &mut self,
        before: Issue,
        mut after: Issue,
        comments: Vec<Comment>,
        caller: &str,
        now: Timestamp,
        instant: Instant,
    ) -> IssueEvent {
        let items = self.diff(&before, &after);
        let changelog = if items.is_empty() {
            None
        } else {
            let group = self.next_change(caller, now, items);
            after.changelog.push(group.clone());
            Some(group)
        };
        if changelog.is_some() || !comments.is_empty() {
            after.updated = now;
        }
        let id = after.id;
        self.issues.insert(id, after.clone());
        self.reindex(id, instant);
        IssueEvent {
            kind: IssueEventKind::Updated,
            issue: after,
            changelog,
            comment: comments.into_iter().last(),
            user: caller.to_owned(),
            timestamp: now,
        }
    }

    fn diff(&self, before: &Issue, after: &Issue) -> Vec<ChangeItem> {
        // Each side of a change is (raw value, shown value): text fields show only text, ids show
        // as names.
        type Side = (Option<String>, Option<String>);
        let both = |field, side: &dyn Fn(&Issue) -> Side| (field, side(before), side(after));
        let named = |id: Option<&str>, name: &dyn Fn(&str) -> Option<String>| -> Side {
            (id.map(str::to_owned), id.and_then(name))
        };
        let description = |issue: &Issue| {
            issue.description.as_ref().map(|t| match t {
                RichText::Adf(doc) => super::adf::to_text(doc),
                RichText::Wiki(s) => s.clone(),
            })
        };
        let status = |id: &str| self.status(id).map(|s| s.name.clone());
        let resolution = |id: &str| self.resolution(id).map(|r| r.name.clone());
        let priority = |id: &str| self.priority(id).map(|p| p.name.clone());
        let user = |id: &str| self.user(id).map(|u| u.display_name.clone());
        let issue_type = |id: &str| self.issue_type(id).map(|t| t.name.clone());
        let due_date = |issue: &Issue| -> Side {
            let date = issue.due_date.map(|d| d.to_string());
            (date.clone(), date)
        };
        let parent = |issue: &Issue| -> Side {
            let key = issue
                .parent_id
                .and_then(|i| self.issues.get(&i))
                .map(|i| i.key.clone());
            (issue.parent_id.map(|i| i.to_string()), key)
        };
        // In the order Jira lists them.
        let fields = [
            both("summary", &|i| (None, Some(i.summary.clone()))),
            both("description", &|i| (None, description(i))),
            both("labels", &|i| (None, Some(i.labels.join(" ")))),
            both("status", &|i| named(Some(&i.status_id), &status)),
            both("resolution", &|i| {
                named(i.resolution_id.as_deref(), &resolution)
            }),
            both("priority", &|i| named(i.priority_id.as_deref(), &priority)),
            both("assignee", &|i| named(i.assignee.as_deref(), &user)),
            both("reporter", &|i| named(i.reporter.as_deref(), &user)),
            both("duedate", &due_date),
            both("parent", &parent),
            both("issuetype", &|i| named(Some(&i.issue_type_id), &issue_type)),
        ];
        fields
            .into_iter()
            .filter(|(_, from, to)| from != to)
            .map(|(field, (from, from_string), (to, to_string))| ChangeItem {
                field: field.to_owned(),
                field_type: "jira".to_owned(),
                field_id: field.to_owned(),
                from,
                from_string,
                to,
                to_string,
            })
            .collect()
    }
}

fn comment_not_found(id: u64) -> ApiError {
    ApiError::message(
        axum::http::StatusCode::NOT_FOUND,
        format!("Can not find a comment for the id: {id}."),
    )
}

/// Jira's answer for a missing entity property.
pub fn property_not_found(key: &str) -> ApiError {
    ApiError::message(
        axum::http::StatusCode::NOT_FOUND,
        format!("The property with key '{key}' does not exist."),
    )
}
