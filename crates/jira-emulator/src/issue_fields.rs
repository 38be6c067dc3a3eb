//! What JQL sees of an issue: its searchable fields by lower-case JQL name.

use super::jql::{JqlFields, JqlValue};
use super::model::Issue;
use super::seed::Category;
use super::store::Store;

/// An issue together with the site, so names (status, project, user) can be resolved.
pub struct IssueView<'a> {
    /// The issue.
    pub issue: &'a Issue,
    /// The site.
    pub store: &'a Store,
}

impl JqlFields for IssueView<'_> {
    fn values(&self, field: &str) -> Vec<JqlValue> {
        let text = |s: &str| JqlValue::Text(s.to_owned());
        let issue = self.issue;
        match field {
            "project" => self
                .store
                .project(&issue.project_id)
                .map(|p| vec![text(&p.key), text(&p.name), text(&p.id)])
                .unwrap_or_default(),
            "labels" => issue.labels.iter().map(|l| text(l)).collect(),
            "status" => self
                .store
                .status(&issue.status_id)
                .map(|s| vec![text(&s.name), text(&s.id)])
                .unwrap_or_default(),
            "statuscategory" => {
                let (key, name, id) = match self.store.category(&issue.status_id) {
                    Category::New => ("new", "To Do", "2"),
                    Category::Indeterminate => ("indeterminate", "In Progress", "4"),
                    Category::Done => ("done", "Done", "3"),
                };
                vec![text(key), text(name), text(id)]
            }
            "issuetype" => self
                .store
                .issue_type(&issue.issue_type_id)
                .map(|t| vec![text(&t.name), text(&t.id)])
                .unwrap_or_default(),
            "key" => vec![text(&issue.key), text(&issue.id.to_string())],
            "assignee" => issue
                .assignee
                .as_deref()
                .and_then(|a| self.store.user(a))
                .map(|u| {
                    vec![
                        text(&u.account_id),
                        text(&u.email),
                        text(&u.display_name),
                        text(&u.name),
                    ]
                })
                .unwrap_or_default(),
            "summary" => vec![text(&issue.summary)],
            "created" => vec![JqlValue::Time(issue.created)],
            "updated" => vec![JqlValue::Time(issue.updated)],
            _ => Vec::new(),
        }
    }
}
