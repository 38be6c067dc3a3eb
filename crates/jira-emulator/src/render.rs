//! Writing the site's entities in Jira's JSON, per API version (ADF on v3, wiki text on v2) and flavor.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::adf;
use super::config::{Api, Flavor};
use super::fields::EPIC_LINK_FIELD;
use super::model::{
    ChangeGroup, Comment, Issue, IssueType, Priority, Project, Resolution, RichText, Status,
    Transition, User,
};
use super::seed::Category;
use super::store::Store;

/// Where and how a response is written.
#[derive(Debug, Clone, Copy)]
pub struct RenderCtx<'a> {
    /// Base URL of the site (no trailing slash).
    pub base_url: &'a str,
    /// API version of the request.
    pub api: Api,
    /// Cloud or Data Center.
    pub flavor: Flavor,
}

/// Jira's timestamp format: `2026-11-30T01:02:03.123+0000`.
pub fn timestamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// The fields a response includes, from Jira's `fields` parameter (`*all`, `*navigable`, names, `-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelection {
    all: bool,
    navigable: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

/// Every field the emulator knows, navigable ones first.
const NAVIGABLE: &[&str] = &[
    "summary",
    "description",
    "labels",
    "issuetype",
    "project",
    "status",
    "statuscategorychangedate",
    "resolution",
    "resolutiondate",
    "priority",
    "assignee",
    "reporter",
    "creator",
    "duedate",
    "created",
    "updated",
    "parent",
    EPIC_LINK_FIELD,
    "subtasks",
];

impl FieldSelection {
    /// Reads Jira's `fields` list; `default` applies when the list is empty.
    pub fn parse<S: AsRef<str>>(items: &[S], default: &str) -> Self {
        let mut selection = FieldSelection {
            all: false,
            navigable: false,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        let tokens: Vec<String> = items
            .iter()
            .flat_map(|s| {
                s.as_ref()
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|t| !t.is_empty())
            .collect();
        let tokens = if tokens.iter().all(|t| t.starts_with('-')) {
            let mut with_default = vec![default.to_owned()];
            with_default.extend(tokens);
            with_default
        } else {
            tokens
        };
        for token in tokens {
            match token.as_str() {
                "*all" => selection.all = true,
                "*navigable" => selection.navigable = true,
                t => match t.strip_prefix('-') {
                    Some(excluded) => selection.exclude.push(excluded.to_owned()),
                    None => selection.include.push(t.to_owned()),
                },
            }
        }
        selection
    }

    /// Whether `field` is wanted.
    pub fn wants(&self, field: &str) -> bool {
        if self.exclude.iter().any(|f| f == field) {
            return false;
        }
        self.all
            || (self.navigable && NAVIGABLE.contains(&field))
            || self.include.iter().any(|f| f == field)
    }

    /// Whether only `id`/`key` are asked for (Jira allows bigger pages then).
    pub fn only_identifiers(&self) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|f| f == "id" || f == "key")
    }
}

impl RenderCtx<'_> {
    fn api_base(&self) -> String {
        format!("{}/rest/api/{}", self.base_url, self.api.number())
    }

    /// A user as Jira shows it.
    pub fn user(&self, user: &User) -> Value {
        let avatar = |size: u32| {
            format!(
                "{}/secure/useravatar?size={size}&ownerId={}",
                self.base_url, user.name
            )
        };
        let avatars = json!({"48x48": avatar(48), "24x24": avatar(24), "16x16": avatar(16), "32x32": avatar(32)});
        match self.flavor {
            Flavor::Cloud => json!({
                "self": format!("{}/user?accountId={}", self.api_base(), user.account_id),
                "accountId": user.account_id,
                "accountType": "atlassian",
                "emailAddress": user.email,
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": true,
                "timeZone": "Etc/UTC",
            }),
            Flavor::Datacenter => json!({
                "self": format!("{}/user?username={}", self.api_base(), user.name),
                "key": user.key,
                "name": user.name,
                "emailAddress": user.email,
                "avatarUrls": avatars,
                "displayName": user.display_name,
                "active": true,
                "timeZone": "Etc/UTC",
            }),
        }
    }

    fn user_ref(&self, store: &Store, account_id: Option<&str>) -> Value {
        account_id
            .and_then(|id| store.user(id))
            .map_or(Value::Null, |u| self.user(u))
    }

    /// A status category object (ids 2/4/3 as in Jira).
    pub fn status_category(&self, category: Category) -> Value {
        let (id, key, color, name) = match category {
            Category::New => (2, "new", "blue-gray", "To Do"),
            Category::Indeterminate => (4, "indeterminate", "yellow", "In Progress"),
            Category::Done => (3, "done", "green", "Done"),
        };
        json!({
            "self": format!("{}/statuscategory/{id}", self.api_base()),
            "id": id, "key": key, "colorName": color, "name": name,
        })
    }

    /// A status object.
    pub fn status(&self, status: &Status) -> Value {
        json!({
            "self": format!("{}/status/{}", self.api_base(), status.id),
            "description": "",
            "iconUrl": format!("{}/images/icons/statuses/generic.png", self.base_url),
            "name": status.name,
            "id": status.id,
            "statusCategory": self.status_category(status.category),
        })
    }

    /// An issue type object.
    pub fn issue_type(&self, issue_type: &IssueType) -> Value {
        let mut value = json!({
            "self": format!("{}/issuetype/{}", self.api_base(), issue_type.id),
            "id": issue_type.id,
            "description": format!("{} issue type.", issue_type.name),
            "iconUrl": format!("{}/images/icons/issuetypes/{}.png", self.base_url, issue_type.name.to_lowercase()),
            "name": issue_type.name,
            "subtask": issue_type.is_subtask(),
        });
        if self.flavor == Flavor::Cloud {
            value["hierarchyLevel"] = json!(issue_type.hierarchy_level);
        }
        value
    }

    /// A priority object.
    pub fn priority(&self, priority: &Priority) -> Value {
        json!({
            "self": format!("{}/priority/{}", self.api_base(), priority.id),
            "iconUrl": format!("{}/images/icons/priorities/{}.svg", self.base_url, priority.name.to_lowercase()),
            "name": priority.name,
            "id": priority.id,
        })
    }

    /// A resolution object.
    pub fn resolution(&self, resolution: &Resolution) -> Value {
        json!({
            "self": format!("{}/resolution/{}", self.api_base(), resolution.id),
            "id": resolution.id,
            "description": resolution.description,
            "name": resolution.name,
        })
    }

    /// A project in its short form (inside issues).
    pub fn project_ref(&self, project: &Project) -> Value {
        json!({
            "self": format!("{}/project/{}", self.api_base(), project.id),
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": false,
            "avatarUrls": self.project_avatars(project),
        })
    }

    fn project_avatars(&self, project: &Project) -> Value {
        let avatar = |size: u32| {
            format!(
                "{}/secure/projectavatar?size={size}&pid={}",
                self.base_url, project.id
            )
        };
        json!({"48x48": avatar(48), "24x24": avatar(24), "16x16": avatar(16), "32x32": avatar(32)})
    }

    /// A project in full.
    pub fn project(&self, store: &Store, project: &Project) -> Value {
        let mut value = self.project_ref(project);
        value["description"] = json!("");
        value["lead"] = self.user_ref(store, Some(&project.lead));
        value["issueTypes"] = Value::Array(
            project
                .issue_types
                .iter()
                .filter_map(|id| store.issue_type(id))
                .map(|t| self.issue_type(t))
                .collect(),
        );
        value["assigneeType"] = json!("UNASSIGNED");
        value["versions"] = json!([]);
        value["components"] = json!([]);
        value["roles"] = json!({});
        if self.flavor == Flavor::Cloud {
            value["style"] = json!("classic");
            value["isPrivate"] = json!(false);
            value["properties"] = json!({});
        }
        value
    }

    /// Rich text in this API's format.
    pub fn rich_text(&self, text: &RichText) -> Value {
        match (self.api, text) {
            (Api::V3, RichText::Adf(doc)) => doc.clone(),
            (Api::V3, RichText::Wiki(s)) => adf::from_text(s),
            (Api::V2, RichText::Adf(doc)) => Value::String(adf::to_text(doc)),
            (Api::V2, RichText::Wiki(s)) => Value::String(s.clone()),
        }
    }

    /// A comment.
    pub fn comment(&self, store: &Store, issue: &Issue, comment: &Comment) -> Value {
        json!({
            "self": format!("{}/issue/{}/comment/{}", self.api_base(), issue.id, comment.id),
            "id": comment.id.to_string(),
            "author": self.user_ref(store, Some(&comment.author)),
            "body": self.rich_text(&comment.body),
            "updateAuthor": self.user_ref(store, Some(&comment.update_author)),
            "created": timestamp(comment.created),
            "updated": timestamp(comment.updated),
        })
    }

    /// A page of comments, as the issue's `comment` field and `GET …/comment` show it.
    pub fn comment_page(
        &self,
        store: &Store,
        issue: &Issue,
        start_at: usize,
        max_results: usize,
    ) -> Value {
        let comments: Vec<Value> = issue
            .comments
            .iter()
            .skip(start_at)
            .take(max_results)
            .map(|c| self.comment(store, issue, c))
            .collect();
        json!({
            "startAt": start_at,
            "maxResults": max_results,
            "total": issue.comments.len(),
            "comments": comments,
        })
    }

    /// A transition, with its screen's fields when asked.
    pub fn transition(&self, store: &Store, transition: &Transition, with_fields: bool) -> Value {
        let to = store
            .status(&transition.to)
            .map_or(Value::Null, |s| self.status(s));
        let mut value = json!({
            "id": transition.id,
            "name": transition.name,
            "to": to,
            "hasScreen": transition.resolution_screen || !transition.screen_fields.is_empty(),
            "isGlobal": transition.from.is_empty(),
            "isInitial": false,
            "isAvailable": true,
            "isConditional": false,
            "isLooped": false,
        });
        if with_fields {
            let mut fields = Map::new();
            if transition.resolution_screen {
                fields.insert(
                    "resolution".to_owned(),
                    json!({
                        "required": transition.resolution_required,
                        "schema": {"type": "resolution", "system": "resolution"},
                        "name": "Resolution",
                        "key": "resolution",
                        "operations": ["set"],
                        "allowedValues": store.resolutions().iter().map(|r| self.resolution(r)).collect::<Vec<_>>(),
                    }),
                );
            }
            for field in &transition.screen_fields {
                fields.insert(
                    field.id.clone(),
                    json!({
                        "required": field.required,
                        "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield", "customId": field.id.trim_start_matches("customfield_").parse::<u64>().unwrap_or_default()},
                        "name": field.name,
                        "key": field.id,
                        "operations": ["set"],
                    }),
                );
            }
            value["fields"] = Value::Object(fields);
        }
        value
    }

    fn changelog(&self, store: &Store, issue: &Issue) -> Value {
        let histories: Vec<Value> = issue
            .changelog
            .iter()
            .map(|g| self.change_group(store, g))
            .collect();
        json!({ "startAt": 0, "maxResults": histories.len(), "total": histories.len(), "histories": histories })
    }

    /// A changelog entry.
    pub fn change_group(&self, store: &Store, group: &ChangeGroup) -> Value {
        let items: Vec<Value> = group
            .items
            .iter()
            .map(|i| {
                json!({
                    "field": i.field, "fieldtype": i.field_type, "fieldId": i.field_id,
                    "from": i.from, "fromString": i.from_string, "to": i.to, "toString": i.to_string,
                })
            })
            .collect();
        json!({
            "id": group.id.to_string(),
            "author": self.user_ref(store, Some(&group.author)),
            "created": timestamp(group.created),
            "items": items,
        })
    }

    /// The short form of a linked issue (`parent`, `subtasks`).
    fn issue_ref(&self, store: &Store, issue: &Issue) -> Value {
        let mut fields = Map::new();
        fields.insert("summary".to_owned(), json!(issue.summary));
        if let Some(s) = store.status(&issue.status_id) {
            fields.insert("status".to_owned(), self.status(s));
        }
        if let Some(p) = issue.priority_id.as_deref().and_then(|p| store.priority(p)) {
            fields.insert("priority".to_owned(), self.priority(p));
        }
        if let Some(t) = store.issue_type(&issue.issue_type_id) {
            fields.insert("issuetype".to_owned(), self.issue_type(t));
        }
        json!({
            "id": issue.id.to_string(),
            "key": issue.key,
            "self": format!("{}/issue/{}", self.api_base(), issue.id),
            "fields": fields,
        })
    }

    /// An issue with the selected fields, expansions and properties.
    pub fn issue(
        &self,
        store: &Store,
        issue: &Issue,
        selection: &FieldSelection,
        expand: &[String],
        properties: &[String],
    ) -> Value {
        let mut fields = Map::new();
        let mut put = |name: &str, value: Value| {
            if selection.wants(name) {
                fields.insert(name.to_owned(), value);
            }
        };
        put("summary", json!(issue.summary));
        put(
            "description",
            issue
                .description
                .as_ref()
                .map_or(Value::Null, |d| self.rich_text(d)),
        );
        put("labels", json!(issue.labels));
        put(
            "issuetype",
            store
                .issue_type(&issue.issue_type_id)
                .map_or(Value::Null, |t| self.issue_type(t)),
        );
        put(
            "project",
            store
                .project(&issue.project_id)
                .map_or(Value::Null, |p| self.project_ref(p)),
        );
        put(
            "status",
            store
                .status(&issue.status_id)
                .map_or(Value::Null, |s| self.status(s)),
        );
        put(
            "statuscategorychangedate",
            json!(timestamp(issue.status_category_changed)),
        );
        put(
            "resolution",
            issue
                .resolution_id
                .as_deref()
                .and_then(|r| store.resolution(r))
                .map_or(Value::Null, |r| self.resolution(r)),
        );
        put(
            "resolutiondate",
            issue
                .resolution_date
                .map_or(Value::Null, |t| json!(timestamp(t))),
        );
        put(
            "priority",
            issue
                .priority_id
                .as_deref()
                .and_then(|p| store.priority(p))
                .map_or(Value::Null, |p| self.priority(p)),
        );
        put("assignee", self.user_ref(store, issue.assignee.as_deref()));
        put("reporter", self.user_ref(store, issue.reporter.as_deref()));
        put("creator", self.user_ref(store, Some(&issue.creator)));
        put(
            "duedate",
            issue.due_date.map_or(Value::Null, |d| json!(d.to_string())),
        );
        put("created", json!(timestamp(issue.created)));
        put("updated", json!(timestamp(issue.updated)));
        let parent = issue.parent_id.and_then(|p| store.issue_by_id(p));
        let parent_is_epic = parent
            .and_then(|p| store.issue_type(&p.issue_type_id))
            .is_some_and(|t| t.hierarchy_level == 1);
        let is_subtask = store
            .issue_type(&issue.issue_type_id)
            .is_some_and(IssueType::is_subtask);
        match self.flavor {
            Flavor::Cloud => {
                if let Some(p) = parent {
                    put("parent", self.issue_ref(store, p));
                }
            }
            Flavor::Datacenter => {
                if store.jira_software() {
                    put(
                        EPIC_LINK_FIELD,
                        parent
                            .filter(|_| parent_is_epic)
                            .map_or(Value::Null, |p| json!(p.key)),
                    );
                }
                if let Some(p) = parent.filter(|_| is_subtask) {
                    put("parent", self.issue_ref(store, p));
                }
            }
        }
        put(
            "subtasks",
            Value::Array(
                store
                    .children(issue.id)
                    .filter(|c| {
                        store
                            .issue_type(&c.issue_type_id)
                            .is_some_and(IssueType::is_subtask)
                    })
                    .map(|c| self.issue_ref(store, c))
                    .collect(),
            ),
        );
        if selection.wants("comment") {
            fields.insert(
                "comment".to_owned(),
                self.comment_page(store, issue, 0, 5000),
            );
        }
        let mut value = json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id.to_string(),
            "self": format!("{}/issue/{}", self.api_base(), issue.id),
            "key": issue.key,
            "fields": fields,
        });
        if expand.iter().any(|e| e == "changelog") {
            value["changelog"] = self.changelog(store, issue);
        }
        if expand.iter().any(|e| e == "names") {
            let names: Map<String, Value> = NAVIGABLE
                .iter()
                .chain(["comment"].iter())
                .filter(|f| value["fields"].get(**f).is_some())
                .map(|f| ((*f).to_owned(), json!(field_name(f))))
                .collect();
            value["names"] = Value::Object(names);
        }
        let wanted: Vec<&String> = if properties.iter().any(|p| p == "*all") {
            issue.properties.keys().collect()
        } else {
            properties
                .iter()
                .filter(|p| issue.properties.contains_key(*p))
                .collect()
        };
        if !properties.is_empty() {
            let props: Map<String, Value> = wanted
                .into_iter()
                .filter_map(|k| issue.properties.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            value["properties"] = Value::Object(props);
        }
        value
    }
}

/// A field's display name.
pub fn field_name(field: &str) -> &'static str {
    match field {
        "summary" => "Summary",
        "description" => "Description",
        "labels" => "Labels",
        "issuetype" => "Issue Type",
        "project" => "Project",
        "status" => "Status",
        "statuscategorychangedate" => "Status Category Changed",
        "resolution" => "Resolution",
        "resolutiondate" => "Resolved",
        "priority" => "Priority",
        "assignee" => "Assignee",
        "reporter" => "Reporter",
        "creator" => "Creator",
        "duedate" => "Due date",
        "created" => "Created",
        "updated" => "Updated",
        "parent" => "Parent",
        EPIC_LINK_FIELD => "Epic Link",
        "subtasks" => "Sub-tasks",
        "comment" => "Comment",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists_take_names_star_forms_and_exclusions() {
        let some = FieldSelection::parse(&["summary,status", "labels"], "*all");
        assert!(some.wants("summary") && some.wants("labels") && !some.wants("assignee"));
        let navigable = FieldSelection::parse(&["*navigable", "-labels"], "id");
        assert!(
            navigable.wants("summary") && !navigable.wants("labels") && !navigable.wants("comment")
        );
        let defaulted = FieldSelection::parse(&["-comment"], "*all");
        assert!(defaulted.wants("summary") && !defaulted.wants("comment"));
        assert!(FieldSelection::parse(&["id", "key"], "*all").only_identifiers());
        assert!(!FieldSelection::parse::<&str>(&[], "*all").only_identifiers());
    }

    #[test]
    fn timestamps_use_jiras_format() {
        let t: Timestamp = "2026-03-01T10:00:00.123456Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-03-01T10:00:00.123+0000");
    }
}
