//! Jira's JSON on the wire, for both REST versions: request bodies built from the model, answers
//! decoded into it. The only flavor differences live here and in the paths.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::config::Flavor;
use super::description::{DescriptionBody, ObservedText};
use super::error::ErrorCollection;
use super::model::{
    Issue, IssueRef, IssueType, IssueUpdate, JiraUser, NewIssue, Priority, Project, ScreenField,
    ServerInfo, Status, StatusCategory, Transition,
};

/// Where a site keeps an issue's epic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpicField {
    /// Cloud: the `parent` field.
    Parent,
    /// Data Center: the Epic Link custom field with this id (e.g. `customfield_10101`).
    Custom(String),
    /// Data Center without Jira Software: no epics.
    Unavailable,
}

impl EpicField {
    fn id(&self) -> Option<&str> {
        match self {
            EpicField::Parent => Some("parent"),
            EpicField::Custom(id) => Some(id),
            EpicField::Unavailable => None,
        }
    }

    fn value(&self, epic: Option<&str>) -> Value {
        match (self, epic) {
            (_, None) => Value::Null,
            (EpicField::Parent, Some(key)) => json!({ "key": key }),
            (_, Some(key)) => Value::String(key.to_owned()),
        }
    }
}

/// The fields searched and fetched: the managed ones plus what the status needs.
pub fn fields_to_fetch(epic: &EpicField) -> Vec<String> {
    let mut fields: Vec<String> = [
        "summary",
        "description",
        "labels",
        "status",
        "resolution",
        "priority",
        "duedate",
        "assignee",
        "updated",
        "issuetype",
        "project",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(id) = epic.id() {
        fields.push(id.to_owned());
    }
    fields
}

/// `{"id": ..}` for numeric ids, `{"name": ..}` otherwise (Jira takes either).
fn by_id_or_name(value: &str) -> Value {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "id": value })
    } else {
        json!({ "name": value })
    }
}

fn user_ref(flavor: Flavor, account: Option<&str>) -> Value {
    match (flavor, account) {
        (_, None) => Value::Null,
        (Flavor::Cloud, Some(id)) => json!({ "accountId": id }),
        (Flavor::DataCenter, Some(name)) => json!({ "name": name }),
    }
}

fn date(value: Option<Date>) -> Value {
    value.map_or(Value::Null, |d| Value::String(d.to_string()))
}

/// An entity property in a create request.
#[derive(Debug, Serialize)]
struct EntityProperty<'a> {
    key: &'a str,
    value: Value,
}

/// Cloud takes the property value as JSON; Data Center's `EntityPropertyBean` takes it as a string
/// holding the JSON text (its raw value), as its OpenAPI document says.
fn property_value(flavor: Flavor, value: &Value) -> Value {
    match flavor {
        Flavor::Cloud => value.clone(),
        Flavor::DataCenter => Value::String(value.to_string()),
    }
}

/// The `fields` of a create or an edit. The description is serialized straight from its typed form:
/// as a JSON tree, the descriptions of one bulk create of large Batch tickets took tens of MiB.
#[derive(Debug, Serialize)]
pub struct FieldsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<DescriptionBody>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// The body of a create (`IssueUpdateDetails` / `IssueUpdateBean`).
#[derive(Debug, Serialize)]
pub struct CreateBody<'a> {
    fields: FieldsBody,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<EntityProperty<'a>>,
}

/// The body of a bulk create.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkCreateBody<'a> {
    /// One create per issue.
    pub issue_updates: Vec<CreateBody<'a>>,
}

/// The body of a create.
pub fn create_body<'a>(flavor: Flavor, epic: &EpicField, issue: &'a NewIssue) -> CreateBody<'a> {
    let mut fields = Map::new();
    fields.insert("project".into(), json!({ "key": issue.project }));
    fields.insert("issuetype".into(), by_id_or_name(&issue.issue_type));
    fields.insert("summary".into(), Value::String(issue.summary.clone()));
    fields.insert("labels".into(), json!(issue.labels));
    if let Some(priority) = &issue.priority {
        fields.insert("priority".into(), by_id_or_name(priority));
    }
    if issue.due_date.is_some() {
        fields.insert("duedate".into(), date(issue.due_date));
    }
    if issue.assignee.is_some() {
        fields.insert(
            "assignee".into(),
            user_ref(flavor, issue.assignee.as_deref()),
        );
    }
    if let (Some(id), Some(_)) = (epic.id(), &issue.epic) {
        fields.insert(id.to_owned(), epic.value(issue.epic.as_deref()));
    }
    CreateBody {
        fields: FieldsBody {
            description: Some(issue.description.render(flavor).body),
            other: fields,
        },
        properties: issue
            .properties
            .iter()
            .map(|(key, value)| EntityProperty {
                key,
                value: property_value(flavor, value),
            })
            .collect(),
    }
}

/// The body of an edit; `None` when the update changes nothing Jira can store.
pub fn edit_body(flavor: Flavor, epic: &EpicField, update: &IssueUpdate) -> Option<EditBody> {
    let mut fields = Map::new();
    if let Some(summary) = &update.summary {
        fields.insert("summary".into(), Value::String(summary.clone()));
    }
    let description = update.description.as_ref().map(|d| d.render(flavor).body);
    if let Some(labels) = &update.labels {
        fields.insert("labels".into(), json!(labels));
    }
    if let Some(priority) = &update.priority {
        fields.insert("priority".into(), by_id_or_name(priority));
    }
    if let Some(due) = update.due_date {
        fields.insert("duedate".into(), date(due));
    }
    if let Some(assignee) = &update.assignee {
        fields.insert("assignee".into(), user_ref(flavor, assignee.as_deref()));
    }
    if let (Some(id), Some(epic_key)) = (epic.id(), &update.epic) {
        fields.insert(id.to_owned(), epic.value(epic_key.as_deref()));
    }
    if let Some(issue_type) = &update.issue_type {
        fields.insert("issuetype".into(), json!({ "name": issue_type }));
    }
    (description.is_some() || !fields.is_empty()).then_some(EditBody {
        fields: FieldsBody {
            description,
            other: fields,
        },
    })
}

/// The body of an edit.
#[derive(Debug, Serialize)]
pub struct EditBody {
    fields: FieldsBody,
}

/// `myself` and user search results.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserWire {
    account_id: Option<String>,
    name: Option<String>,
    display_name: Option<String>,
    email_address: Option<String>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl UserWire {
    /// The user, identified as the flavor's assignee field expects; `None` without an identity.
    pub fn into_user(self, flavor: Flavor) -> Option<JiraUser> {
        let account_id = match flavor {
            Flavor::Cloud => self.account_id,
            Flavor::DataCenter => self.name.or(self.account_id),
        }?;
        Some(JiraUser {
            display_name: self.display_name.unwrap_or_else(|| account_id.clone()),
            account_id,
            email: self.email_address,
            active: self.active,
        })
    }
}

/// `serverInfo`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfoWire {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    deployment_type: String,
    #[serde(default)]
    server_title: String,
}

impl From<ServerInfoWire> for ServerInfo {
    fn from(wire: ServerInfoWire) -> ServerInfo {
        ServerInfo {
            base_url: wire.base_url,
            version: wire.version,
            deployment_type: wire.deployment_type,
            server_title: wire.server_title,
        }
    }
}

/// A project with its issue types.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectWire {
    id: String,
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    issue_types: Vec<IssueTypeWire>,
}

#[derive(Debug, Deserialize)]
struct IssueTypeWire {
    id: String,
    name: String,
    #[serde(default)]
    subtask: bool,
}

impl From<ProjectWire> for Project {
    fn from(wire: ProjectWire) -> Project {
        Project {
            id: wire.id,
            key: wire.key,
            name: wire.name,
            issue_types: wire
                .issue_types
                .into_iter()
                .map(|t| IssueType {
                    id: t.id,
                    name: t.name,
                    subtask: t.subtask,
                })
                .collect(),
        }
    }
}

/// A priority.
#[derive(Debug, Deserialize)]
pub struct PriorityWire {
    id: String,
    name: String,
}

impl From<PriorityWire> for Priority {
    fn from(wire: PriorityWire) -> Priority {
        Priority {
            id: wire.id,
            name: wire.name,
        }
    }
}

/// A page of priorities (v3 `/priority/search`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityPage {
    #[serde(default)]
    pub values: Vec<PriorityWire>,
    #[serde(default = "yes")]
    pub is_last: bool,
}

/// A field from `/field`.
#[derive(Debug, Deserialize)]
pub struct FieldWire {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    schema: Option<FieldSchema>,
}

#[derive(Debug, Deserialize)]
struct FieldSchema {
    custom: Option<String>,
}

/// Jira Software's custom field type of the Epic Link field.
const EPIC_LINK_TYPE: &str = "com.pyxis.greenhopper.jira:gh-epic-link";

/// Finds the Epic Link field among a site's fields: by its custom type, else by its name.
pub fn epic_link_field(fields: &[FieldWire]) -> EpicField {
    let by_type = fields.iter().find(|f| {
        f.schema
            .as_ref()
            .and_then(|s| s.custom.as_deref())
            .is_some_and(|custom| custom == EPIC_LINK_TYPE)
    });
    let by_name = || {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case("Epic Link"))
    };
    by_type
        .or_else(by_name)
        .map_or(EpicField::Unavailable, |f| EpicField::Custom(f.id.clone()))
}

/// One created issue.
#[derive(Debug, Deserialize)]
pub struct CreatedWire {
    pub id: String,
    pub key: String,
}

/// A bulk create answer.
#[derive(Debug, Deserialize)]
pub struct BulkCreatedWire {
    #[serde(default)]
    pub issues: Vec<CreatedWire>,
    #[serde(default)]
    pub errors: Vec<BulkErrorWire>,
}

/// One failed element of a bulk create.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkErrorWire {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub element_errors: ErrorCollection,
    pub failed_element_number: usize,
}

/// Builds the reference of a created issue.
pub fn issue_ref(base_url: &str, created: CreatedWire) -> IssueRef {
    IssueRef {
        url: browse_url(base_url, &created.key),
        id: created.id,
        key: created.key,
    }
}

/// The browse URL of an issue.
pub fn browse_url(base_url: &str, key: &str) -> String {
    format!("{base_url}/browse/{key}")
}

/// An issue as returned by get, search and bulkfetch.
#[derive(Debug, Deserialize)]
pub struct IssueWire {
    id: String,
    key: String,
    #[serde(default)]
    fields: FieldsWire,
    #[serde(default)]
    properties: Map<String, Value>,
}

/// An issue's `fields`: the description read as its plain text (see [`ObservedText`]), the others
/// as JSON values.
#[derive(Debug, Default)]
pub struct FieldsWire {
    description_text: String,
    other: Map<String, Value>,
}

impl<'de> Deserialize<'de> for FieldsWire {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> serde::de::Visitor<'de> for FieldsVisitor {
    type Value = FieldsWire;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the fields of an issue")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FieldsWire, A::Error> {
        let mut fields = FieldsWire::default();
        while let Some(name) = map.next_key::<String>()? {
            if name == "description" {
                fields.description_text = map.next_value::<ObservedText>()?.0;
            } else {
                let value = map.next_value()?;
                fields.other.insert(name, value);
            }
        }
        Ok(fields)
    }
}

/// v3 `/search/jql` page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageV3 {
    #[serde(default)]
    pub issues: Vec<IssueWire>,
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub is_last: Option<bool>,
}

/// v2 `/search` page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageV2 {
    #[serde(default)]
    pub issues: Vec<IssueWire>,
    #[serde(default)]
    pub total: usize,
}

/// v3 `/issue/bulkfetch` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkFetchWire {
    #[serde(default)]
    pub issues: Vec<IssueWire>,
    #[serde(default)]
    pub issue_errors: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    name: String,
    status_category: Option<CategoryWire>,
}

#[derive(Debug, Deserialize)]
struct CategoryWire {
    key: String,
}

impl StatusWire {
    fn into_status(self) -> Result<Status, String> {
        let key = self.status_category.map(|c| c.key).unwrap_or_default();
        let category = StatusCategory::from_key(&key)
            .ok_or_else(|| format!("status {:?} has unknown category {key:?}", self.name))?;
        Ok(Status {
            name: self.name,
            category,
        })
    }
}

fn field<T: serde::de::DeserializeOwned>(
    fields: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| format!("field {name}: {e}")),
    }
}

/// Jira writes times as `2026-01-01T01:01:01.000+0000`.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text)
            .and_then(|parsed| parsed.to_timestamp())
            .ok()
    })
}

impl IssueWire {
    /// The issue's key (known even when its fields cannot be decoded).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Decodes the managed fields; the error names the field that did not fit.
    pub fn into_issue(self, base_url: &str, epic: &EpicField) -> Result<Issue, String> {
        let f = &self.fields.other;
        let status: StatusWire = field(f, "status")?.ok_or("field status is missing")?;
        let epic_key = match epic {
            EpicField::Parent => field::<Value>(f, "parent")?
                .and_then(|p| p.get("key").and_then(Value::as_str).map(str::to_owned)),
            EpicField::Custom(id) => field::<String>(f, id)?,
            EpicField::Unavailable => None,
        };
        let assignee = field::<Value>(f, "assignee")?.and_then(|a| {
            a.get("accountId")
                .or_else(|| a.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let due_date = field::<String>(f, "duedate")?
            .map(|d| d.parse::<Date>().map_err(|e| format!("field duedate: {e}")))
            .transpose()?;
        let key_of = |name: &str| -> Result<Option<String>, String> {
            Ok(field::<Value>(f, name)?
                .and_then(|v| v.get("key").and_then(Value::as_str).map(str::to_owned)))
        };
        Ok(Issue {
            url: browse_url(base_url, &self.key),
            project: key_of("project")?.unwrap_or_default(),
            issue_type: field::<Named>(f, "issuetype")?
                .and_then(|t| t.name)
                .unwrap_or_default(),
            summary: field(f, "summary")?.unwrap_or_default(),
            description_text: self.fields.description_text,
            labels: sorted(field(f, "labels")?.unwrap_or_default()),
            status: status.into_status()?,
            resolution: field::<Named>(f, "resolution")?.and_then(|r| r.name),
            priority: field::<Named>(f, "priority")?.and_then(|p| p.name),
            due_date,
            assignee,
            epic: epic_key,
            updated: field::<String>(f, "updated")?.and_then(|t| parse_time(&t)),
            properties: self.properties.into_iter().collect(),
            id: self.id,
            key: self.key,
        })
    }
}

fn sorted(mut labels: Vec<String>) -> Vec<String> {
    labels.sort();
    labels
}

/// The transitions of an issue.
#[derive(Debug, Deserialize)]
pub struct TransitionsWire {
    #[serde(default)]
    transitions: Vec<TransitionWire>,
}

#[derive(Debug, Deserialize)]
struct TransitionWire {
    id: String,
    name: String,
    to: StatusWire,
    #[serde(default)]
    fields: BTreeMap<String, ScreenFieldWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScreenFieldWire {
    #[serde(default)]
    required: bool,
    #[serde(default)]
    allowed_values: Vec<Value>,
}

impl TransitionsWire {
    /// Decodes the transitions.
    pub fn into_transitions(self) -> Result<Vec<Transition>, String> {
        self.transitions
            .into_iter()
            .map(|t| {
                let resolutions = t.fields.get("resolution").map_or_else(Vec::new, |r| {
                    r.allowed_values
                        .iter()
                        .filter_map(|v| v.get("name")?.as_str().map(str::to_owned))
                        .collect()
                });
                let screen_fields = t
                    .fields
                    .iter()
                    .filter(|(id, _)| id.as_str() != "resolution")
                    .map(|(id, field)| ScreenField {
                        id: id.clone(),
                        required: field.required,
                    })
                    .collect();
                Ok(Transition {
                    has_resolution_field: t.fields.contains_key("resolution"),
                    resolutions,
                    screen_fields,
                    to: t.to.into_status()?,
                    id: t.id,
                    name: t.name,
                })
            })
            .collect()
    }
}

/// An issue property answer.
#[derive(Debug, Deserialize)]
pub struct PropertyWire {
    pub value: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::description::TaskSection;

    fn new_issue() -> NewIssue {
        NewIssue {
            project: "SEC".into(),
            issue_type: "Task".into(),
            summary: "Patch".into(),
            description: crate::jira::description::Description {
                intro: String::new(),
                tasks: vec![TaskSection {
                    title: "Patch".into(),
                    ..TaskSection::default()
                }],
            },
            labels: vec!["jas-sync".into()],
            priority: Some("3".into()),
            due_date: Some(jiff::civil::date(2026, 12, 31)),
            assignee: Some("acc-1".into()),
            epic: Some("SEC-1".into()),
            properties: vec![("jas.sync".into(), json!({"task": "ns/a"}))],
        }
    }

    #[test]
    fn create_bodies_differ_only_where_the_flavors_do() {
        let issue = new_issue();
        let cloud =
            serde_json::to_value(create_body(Flavor::Cloud, &EpicField::Parent, &issue)).unwrap();
        assert_eq!(cloud["fields"]["parent"], json!({"key": "SEC-1"}));
        assert_eq!(cloud["fields"]["assignee"], json!({"accountId": "acc-1"}));
        assert_eq!(cloud["fields"]["priority"], json!({"id": "3"}));
        assert_eq!(cloud["fields"]["issuetype"], json!({"name": "Task"}));
        assert_eq!(cloud["fields"]["duedate"], json!("2026-12-31"));
        assert_eq!(cloud["fields"]["description"]["type"], json!("doc"));
        assert_eq!(
            cloud["properties"],
            json!([{"key": "jas.sync", "value": {"task": "ns/a"}}])
        );
        let dc = serde_json::to_value(create_body(
            Flavor::DataCenter,
            &EpicField::Custom("customfield_10101".into()),
            &issue,
        ))
        .unwrap();
        assert_eq!(dc["fields"]["customfield_10101"], json!("SEC-1"));
        assert_eq!(dc["fields"]["assignee"], json!({"name": "acc-1"}));
        assert!(dc["fields"]["description"].is_string());
        assert!(dc["fields"].get("parent").is_none());
        assert_eq!(
            dc["properties"],
            json!([{"key": "jas.sync", "value": r#"{"task":"ns/a"}"#}])
        );
    }

    #[test]
    fn edits_clear_optional_fields_with_null() {
        let update = IssueUpdate {
            due_date: Some(None),
            assignee: Some(None),
            epic: Some(None),
            ..IssueUpdate::default()
        };
        let body = edit_body(Flavor::Cloud, &EpicField::Parent, &update).unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"fields": {"duedate": null, "assignee": null, "parent": null}})
        );
        assert!(edit_body(Flavor::Cloud, &EpicField::Parent, &IssueUpdate::default()).is_none());
    }

    #[test]
    fn issues_decode_from_both_versions() {
        let wire: IssueWire = serde_json::from_value(json!({
            "id": "10001", "key": "SEC-2", "self": "x",
            "fields": {
                "summary": "Patch", "labels": ["a"], "description": "h2. Title",
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "resolution": {"name": "Done"}, "priority": {"name": "High"},
                "duedate": "2026-12-31", "assignee": {"name": "alice"},
                "customfield_10101": "SEC-1", "updated": "2026-01-01T01:01:01.000+0000",
                "issuetype": {"name": "Task"}, "project": {"key": "SEC"}
            }
        }))
        .unwrap();
        let issue = wire
            .into_issue(
                "https://jira.example",
                &EpicField::Custom("customfield_10101".into()),
            )
            .unwrap();
        assert_eq!(issue.url, "https://jira.example/browse/SEC-2");
        assert_eq!(issue.status.category, StatusCategory::Done);
        assert_eq!(issue.description_text, "Title");
        assert_eq!(issue.epic.as_deref(), Some("SEC-1"));
        assert_eq!(issue.assignee.as_deref(), Some("alice"));
        assert_eq!(issue.updated, Some("2026-01-01T01:01:01Z".parse().unwrap()));
        let cloud: IssueWire = serde_json::from_value(json!({
            "id": "1", "key": "SEC-3",
            "fields": {"status": {"name": "To Do", "statusCategory": {"key": "new"}},
                       "parent": {"key": "SEC-1"}, "assignee": {"accountId": "acc"}}
        }))
        .unwrap();
        let issue = cloud.into_issue("https://x", &EpicField::Parent).unwrap();
        assert_eq!(issue.epic.as_deref(), Some("SEC-1"));
        assert_eq!(issue.assignee.as_deref(), Some("acc"));
        assert_eq!(issue.description_text, "");
    }

    #[test]
    fn epic_link_is_found_by_type_then_name() {
        let fields: Vec<FieldWire> = serde_json::from_value(json!([
            {"id": "summary", "name": "Summary"},
            {"id": "customfield_10200", "name": "Epic Link", "schema": {"custom": "other"}},
            {"id": "customfield_10101", "name": "Epic", "schema": {"custom": EPIC_LINK_TYPE}}
        ]))
        .unwrap();
        assert_eq!(
            epic_link_field(&fields),
            EpicField::Custom("customfield_10101".into())
        );
        assert_eq!(
            epic_link_field(&fields[..2]),
            EpicField::Custom("customfield_10200".into())
        );
        assert_eq!(epic_link_field(&fields[..1]), EpicField::Unavailable);
    }
}
