//! Reading the `fields` / `update` / `properties` of create, edit and transition requests into changes,
//! with Jira's validation rules and messages.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_json::{Map, Value};

use super::adf;
use super::config::{Api, Flavor};
use super::error::ApiError;
use super::model::{Permission, RichText, Transition};
use super::store::Store;

/// Field id of Data Center's Epic Link custom field.
pub const EPIC_LINK_FIELD: &str = "customfield_10100";

/// Longest label Jira takes.
const MAX_LABEL_CHARS: usize = 255;
/// Summaries must be shorter than this.
const MAX_SUMMARY_CHARS: usize = 255;

/// Which screen a request goes through; it decides which fields may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen<'a> {
    /// The create screen.
    Create,
    /// The edit screen.
    Edit,
    /// A transition's screen: the resolution where it offers one, and its other fields.
    Transition(&'a Transition),
}

/// Jira's refusal of an assignee who may not be assigned issues of the project.
pub fn check_assignable(
    store: &Store,
    project_id: &str,
    changes: &IssueChanges,
) -> Result<(), ApiError> {
    let Some(Some(account_id)) = &changes.assignee else {
        return Ok(());
    };
    let refused = store
        .project(project_id)
        .is_some_and(|p| !p.allows(Permission::Assignable, account_id));
    if !refused {
        return Ok(());
    }
    let name = store
        .user_by_reference(account_id)
        .map_or(account_id.as_str(), |u| u.display_name.as_str());
    Err(ApiError::field(
        "assignee",
        format!("User '{name}' cannot be assigned issues."),
    ))
}

/// Labels to set, add and remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelChanges {
    /// Replaces all labels.
    pub set: Option<Vec<String>>,
    /// Labels to add.
    pub add: Vec<String>,
    /// Labels to remove.
    pub remove: Vec<String>,
}

impl LabelChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.set.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// The labels after applying the changes to `current`.
    pub fn apply(&self, current: &[String]) -> Vec<String> {
        let mut labels = self.set.clone().unwrap_or_else(|| current.to_vec());
        for label in &self.add {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        labels.retain(|l| !self.remove.contains(l));
        labels
    }
}

/// What a request asks to change; `Some(None)` clears a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueChanges {
    /// Project id.
    pub project_id: Option<String>,
    /// Issue type id.
    pub issue_type_id: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Description.
    pub description: Option<Option<RichText>>,
    /// Labels.
    pub labels: LabelChanges,
    /// Priority id.
    pub priority_id: Option<Option<String>>,
    /// Assignee account id.
    pub assignee: Option<Option<String>>,
    /// Reporter account id.
    pub reporter: Option<Option<String>>,
    /// Due date.
    pub due_date: Option<Option<Date>>,
    /// Parent issue id.
    pub parent_id: Option<Option<u64>>,
    /// Resolution id.
    pub resolution_id: Option<Option<String>>,
    /// Comments to add.
    pub comments: Vec<RichText>,
    /// Entity properties to set.
    pub properties: Vec<(String, Value)>,
    /// Transition screen fields other than the resolution that were given (ids); the emulator
    /// keeps no custom field values, it only checks they were sent where required.
    pub screen_fields: Vec<String>,
}

/// What parsing needs to know besides the body.
pub struct FieldContext<'a> {
    /// The site, to resolve references.
    pub store: &'a Store,
    /// API version of the request.
    pub api: Api,
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// The screen the request goes through.
    pub screen: Screen<'a>,
}

fn not_on_screen(field: &str) -> String {
    format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown.")
}

impl FieldContext<'_> {
    fn on_screen(&self, field: &str) -> bool {
        let common = matches!(
            field,
            "summary" | "description" | "labels" | "priority" | "assignee" | "duedate"
        );
        let epic = match self.flavor {
            Flavor::Cloud => field == "parent",
            Flavor::Datacenter => {
                (field == EPIC_LINK_FIELD && self.store.jira_software()) || field == "parent"
            }
        };
        match self.screen {
            Screen::Create => {
                common || epic || matches!(field, "project" | "issuetype" | "reporter")
            }
            Screen::Edit => common || epic || matches!(field, "issuetype" | "reporter"),
            Screen::Transition(t) => {
                (t.resolution_screen && field == "resolution")
                    || t.screen_fields.iter().any(|f| f.id == field)
            }
        }
    }

    /// A custom field of the transition screen: given, its value is accepted as is.
    fn screen_field(&self, field: &str) -> bool {
        matches!(self.screen, Screen::Transition(t) if t.screen_fields.iter().any(|f| f.id == field))
    }

    /// Jira's "is required" errors for what a transition screen requires and the request lacks.
    fn check_screen_required(&self, changes: &IssueChanges, errors: &mut BTreeMap<String, String>) {
        let Screen::Transition(transition) = self.screen else {
            return;
        };
        if transition.resolution_required
            && changes.resolution_id.as_ref().is_none_or(Option::is_none)
            && !errors.contains_key("resolution")
        {
            errors.insert(
                "resolution".to_owned(),
                "Resolution is required.".to_owned(),
            );
        }
        for field in &transition.screen_fields {
            if field.required && !changes.screen_fields.contains(&field.id) {
                errors
                    .entry(field.id.clone())
                    .or_insert_with(|| format!("{} is required.", field.name));
            }
        }
    }

    /// Parses a request body (`fields`, `update`, `properties`) into changes, or Jira's 400 listing every bad field.
    pub fn parse(&self, body: &Value) -> Result<IssueChanges, ApiError> {
        let Some(body) = body.as_object() else {
            return Err(ApiError::bad_request(
                "Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueUpdateBean out of START_ARRAY token",
            ));
        };
        let empty = Map::new();
        let fields = object_member(body, "fields")?.unwrap_or(&empty);
        let update = object_member(body, "update")?.unwrap_or(&empty);
        let mut changes = IssueChanges::default();
        let mut errors = BTreeMap::new();
        for (name, value) in fields {
            if !self.on_screen(name) {
                errors.insert(name.clone(), not_on_screen(name));
                continue;
            }
            if self.screen_field(name) {
                if !value.is_null() {
                    changes.screen_fields.push(name.clone());
                }
                continue;
            }
            if let Err(message) = self.set_field(&mut changes, name, value) {
                errors.insert(name.clone(), message);
            }
        }
        for (name, operations) in update {
            if fields.contains_key(name) {
                errors.insert(
                    name.clone(),
                    format!("Field '{name}' cannot be set in both 'fields' and 'update'."),
                );
                continue;
            }
            if name != "comment" && !self.on_screen(name) {
                errors.insert(name.clone(), not_on_screen(name));
                continue;
            }
            if let Err(message) = self.apply_operations(&mut changes, name, operations) {
                errors.insert(name.clone(), message);
            }
        }
        if let Some(properties) = body.get("properties") {
            let bean_text = self.flavor == Flavor::Datacenter;
            changes.properties = parse_properties(properties, bean_text)?;
        }
        if self.screen == Screen::Create {
            self.check_required(&changes, fields, &mut errors);
        }
        self.check_screen_required(&changes, &mut errors);
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(ApiError::fields(errors))
        }
    }

    fn check_required(
        &self,
        changes: &IssueChanges,
        fields: &Map<String, Value>,
        errors: &mut BTreeMap<String, String>,
    ) {
        if !fields.contains_key("project") {
            errors.insert(
                "project".to_owned(),
                "Specify a valid project ID or key".to_owned(),
            );
        }
        if !fields.contains_key("issuetype") {
            errors.insert("issuetype".to_owned(), "Specify an issue type".to_owned());
        }
        if changes
            .summary
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
            && !errors.contains_key("summary")
        {
            errors.insert(
                "summary".to_owned(),
                "You must specify a summary of the issue.".to_owned(),
            );
        }
        if let (Some(project_id), Some(type_id)) = (&changes.project_id, &changes.issue_type_id) {
            let offered = self
                .store
                .project(project_id)
                .is_some_and(|p| p.issue_types.contains(type_id));
            if !offered {
                errors.insert(
                    "issuetype".to_owned(),
                    "The issue type selected is invalid.".to_owned(),
                );
            } else if self
                .store
                .issue_type(type_id)
                .is_some_and(|t| t.is_subtask())
                && changes.parent_id.flatten().is_none()
            {
                errors.insert(
                    "parent".to_owned(),
                    "Given parent issue does not belong to appropriate hierarchy.".to_owned(),
                );
            }
        }
    }

    fn set_field(
        &self,
        changes: &mut IssueChanges,
        name: &str,
        value: &Value,
    ) -> Result<(), String> {
        match name {
            "project" => {
                let reference =
                    reference(value, &["id", "key"]).ok_or("Specify a valid project ID or key")?;
                let project = self
                    .store
                    .project(reference)
                    .ok_or("Specify a valid project ID or key")?;
                changes.project_id = Some(project.id.clone());
            }
            "issuetype" => {
                let reference = reference(value, &["id", "name"]).ok_or("Specify an issue type")?;
                let issue_type = self
                    .store
                    .issue_type(reference)
                    .ok_or("The issue type selected is invalid.")?;
                changes.issue_type_id = Some(issue_type.id.clone());
            }
            "summary" => {
                let summary = value.as_str().ok_or("Operation value must be a string")?;
                if summary.chars().count() >= MAX_SUMMARY_CHARS {
                    return Err("Summary must be less than 255 characters.".to_owned());
                }
                changes.summary = Some(summary.to_owned());
            }
            "description" => changes.description = Some(self.rich_text(value)?),
            "labels" => {
                let labels = value
                    .as_array()
                    .ok_or("Operation value must be an array of strings")?
                    .iter()
                    .map(label)
                    .collect::<Result<Vec<_>, _>>()?;
                changes.labels.set = Some(labels);
            }
            "priority" => changes.priority_id = Some(self.priority(value)?),
            "assignee" => changes.assignee = Some(self.user(value)?),
            "reporter" => changes.reporter = Some(self.user(value)?),
            "duedate" => changes.due_date = Some(due_date(value)?),
            "parent" => changes.parent_id = Some(self.parent(value, &["id", "key"])?),
            EPIC_LINK_FIELD => changes.parent_id = Some(self.epic_link(value)?),
            "resolution" => {
                let reference = reference(value, &["id", "name"])
                    .ok_or("Could not find resolution with name ''.")?;
                let resolution = self
                    .store
                    .resolution(reference)
                    .ok_or_else(|| format!("Could not find resolution with name '{reference}'."))?;
                changes.resolution_id = Some(Some(resolution.id.clone()));
            }
            _ => return Err(not_on_screen(name)),
        }
        Ok(())
    }

    fn apply_operations(
        &self,
        changes: &mut IssueChanges,
        name: &str,
        operations: &Value,
    ) -> Result<(), String> {
        let operations = operations
            .as_array()
            .ok_or("Field update operations must be an array")?;
        for operation in operations {
            let Some((verb, value)) = operation
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.iter().next())
            else {
                return Err("Each field update operation has exactly one verb".to_owned());
            };
            match (name, verb.as_str()) {
                ("labels", "add") => changes.labels.add.push(label(value)?),
                ("labels", "remove") => changes.labels.remove.push(label(value)?),
                ("comment", "add") => {
                    let body = value.get("body").ok_or("Comment body can not be empty!")?;
                    changes.comments.push(self.comment_body(body)?);
                }
                (_, "set") => self.set_field(changes, name, value)?,
                _ => {
                    return Err(format!(
                        "Field '{name}' does not support operation '{verb}'. Supported operations are: set"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads rich text in the request's API format: ADF on v3, a wiki-markup string on v2.
    /// Refuses texts over Jira's limit of 32,767 characters (UTF-16 units; an ADF document
    /// counts as its JSON).
    pub fn rich_text(&self, value: &Value) -> Result<Option<RichText>, String> {
        let length = match value {
            Value::String(s) => s.encode_utf16().count(),
            other => other.to_string().encode_utf16().count(),
        };
        if length > TEXT_LIMIT {
            return Err(
                "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
                    .to_owned(),
            );
        }
        match (self.api, value) {
            (_, Value::Null) => Ok(None),
            (Api::V3, v) if adf::is_document(v) => Ok(Some(RichText::Adf(v.clone()))),
            (Api::V3, _) => Err(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                    .to_owned(),
            ),
            (Api::V2, Value::String(s)) => Ok(Some(RichText::Wiki(s.clone()))),
            (Api::V2, _) => Err("Operation value must be a string".to_owned()),
        }
    }

    /// Reads a comment body; an empty one is refused like Jira does.
    pub fn comment_body(&self, value: &Value) -> Result<RichText, String> {
        let body = self.rich_text(value)?;
        match body {
            Some(RichText::Wiki(text)) if !text.trim().is_empty() => Ok(RichText::Wiki(text)),
            Some(RichText::Adf(doc)) if !adf::to_text(&doc).trim().is_empty() => {
                Ok(RichText::Adf(doc))
            }
            _ => Err("Comment body can not be empty!".to_owned()),
        }
    }

    fn priority(&self, value: &Value) -> Result<Option<String>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let reference = reference(value, &["id", "name"])
            .ok_or("Specify the Priority (id or name) in the string format")?;
        let priority = self
            .store
            .priority(reference)
            .ok_or("The priority selected is invalid.")?;
        Ok(Some(priority.id.clone()))
    }

    fn user(&self, value: &Value) -> Result<Option<String>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let keys: &[&str] = match self.flavor {
            Flavor::Cloud => &["accountId", "id"],
            Flavor::Datacenter => &["name", "key"],
        };
        let reference = reference(value, keys).ok_or_else(|| match self.flavor {
            Flavor::Cloud => "Specify a valid value for accountId".to_owned(),
            Flavor::Datacenter => "Specify a valid value for name".to_owned(),
        })?;
        let user = self
            .store
            .user_by_reference(reference)
            .ok_or_else(|| format!("User '{reference}' does not exist."))?;
        Ok(Some(user.account_id.clone()))
    }

    fn parent(&self, value: &Value, keys: &[&str]) -> Result<Option<u64>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let reference = reference(value, keys).ok_or("Could not find issue by id or key.")?;
        let issue = self
            .store
            .issue(reference)
            .ok_or("Could not find issue by id or key.")?;
        Ok(Some(issue.id))
    }

    fn epic_link(&self, value: &Value) -> Result<Option<u64>, String> {
        match value {
            Value::Null => Ok(None),
            Value::String(key) => {
                let issue = self
                    .store
                    .issue(key)
                    .filter(|i| {
                        self.store
                            .issue_type(&i.issue_type_id)
                            .is_some_and(|t| t.hierarchy_level == 1)
                    })
                    .ok_or_else(|| {
                        format!("The issue key '{key}' for field 'Epic Link' is invalid.")
                    })?;
                Ok(Some(issue.id))
            }
            _ => Err("Epic Link must be the key of an epic".to_owned()),
        }
    }
}

fn object_member<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ApiError::bad_request(format!(
            "The '{name}' member must be a JSON object."
        ))),
    }
}

/// The first of `keys` present in an object reference (`{"id": "10000"}`, `{"key": "SEC"}`), as text.
fn reference<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| value.get(*k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn label(value: &Value) -> Result<String, String> {
    let text = value
        .as_str()
        .ok_or("Operation value must be an array of strings")?;
    if text.contains(char::is_whitespace) {
        return Err(format!(
            "The label '{text}' contains spaces which is invalid."
        ));
    }
    if text.chars().count() > MAX_LABEL_CHARS {
        return Err(
            "The entered text is too long. It exceeds the allowed limit of 255 characters."
                .to_owned(),
        );
    }
    if text.is_empty() {
        return Err("Labels can not be empty.".to_owned());
    }
    Ok(text.to_owned())
}

fn due_date(value: &Value) -> Result<Option<Date>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => text
            .parse::<Date>()
            .map(Some)
            .map_err(|_| format!("Error parsing date string: {text}")),
        _ => Err("Operation value must be a string".to_owned()),
    }
}

/// Reads `properties: [{"key": ..., "value": ...}]`. With `bean_text` (Data Center's
/// EntityPropertyBean) a string value is the property's JSON text, stored as the JSON it holds.
pub fn parse_properties(value: &Value, bean_text: bool) -> Result<Vec<(String, Value)>, ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| ApiError::bad_request("The 'properties' member must be an array."))?;
    items
        .iter()
        .map(|item| {
            let key = item
                .get("key")
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| ApiError::bad_request("The property key cannot be empty."))?;
            let value = item.get("value").cloned().unwrap_or(Value::Null);
            let value = match value {
                Value::String(text) if bean_text => serde_json::from_str(&text)
                    .map_err(|_| ApiError::bad_request("The property value must be valid JSON."))?,
                other => other,
            };
            check_property(key, &value)?;
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// Jira's limit on a text field or comment, in characters.
pub const TEXT_LIMIT: usize = 32_767;

/// Jira's limits on entity properties: key up to 255 characters, value up to 32768 bytes.
pub fn check_property(key: &str, value: &Value) -> Result<(), ApiError> {
    if key.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "The property key cannot be longer than 255 characters.",
        ));
    }
    if value.to_string().len() > 32_768 {
        return Err(ApiError::bad_request(
            "The property value cannot be longer than 32768 bytes.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_changes_set_then_add_then_remove_without_duplicates() {
        let changes = LabelChanges {
            set: None,
            add: vec!["b".into(), "c".into()],
            remove: vec!["a".into()],
        };
        assert_eq!(changes.apply(&["a".into(), "b".into()]), ["b", "c"]);
        let replace = LabelChanges {
            set: Some(vec!["x".into()]),
            ..LabelChanges::default()
        };
        assert_eq!(replace.apply(&["a".into()]), ["x"]);
    }

    #[test]
    fn labels_follow_jiras_rules() {
        assert_eq!(label(&Value::from("ok-label")), Ok("ok-label".to_owned()));
        assert!(label(&Value::from("two words")).is_err());
        assert!(label(&Value::from("x".repeat(256))).is_err());
        assert!(label(&Value::from("x".repeat(255))).is_ok());
    }
}
