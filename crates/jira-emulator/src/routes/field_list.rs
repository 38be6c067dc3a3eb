//! `GET /field`: the fields the site has, as clients discover them (names, ids, JQL clause names).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Ctx;
use crate::config::Flavor;
use crate::fields::EPIC_LINK_FIELD;
use crate::render::field_name;
use crate::state::Shared;

/// Field id, schema type, JQL clause names.
const SYSTEM_FIELDS: &[(&str, &str, &[&str])] = &[
    ("summary", "string", &["summary"]),
    ("description", "string", &["description"]),
    ("labels", "array", &["labels"]),
    ("issuetype", "issuetype", &["issuetype", "type"]),
    ("project", "project", &["project"]),
    ("status", "status", &["status"]),
    (
        "statuscategorychangedate",
        "datetime",
        &["statusCategoryChangedDate"],
    ),
    ("resolution", "resolution", &["resolution"]),
    (
        "resolutiondate",
        "datetime",
        &["resolved", "resolutiondate"],
    ),
    ("priority", "priority", &["priority"]),
    ("assignee", "user", &["assignee"]),
    ("reporter", "user", &["reporter"]),
    ("creator", "user", &["creator"]),
    ("duedate", "date", &["due", "duedate"]),
    ("created", "datetime", &["created", "createdDate"]),
    ("updated", "datetime", &["updated", "updatedDate"]),
    ("parent", "issuelink", &["parent"]),
    ("subtasks", "array", &["subtasks"]),
    ("comment", "comments-page", &["comment"]),
];

/// `GET /field`.
pub async fn list(State(state): State<Shared>, ctx: Ctx) -> Json<Value> {
    let mut fields: Vec<Value> = SYSTEM_FIELDS
        .iter()
        .map(|(id, kind, clauses)| {
            json!({
                "id": id, "key": id, "name": field_name(id), "custom": false, "orderable": true,
                "navigable": *id != "comment", "searchable": true, "clauseNames": clauses,
                "schema": {"type": kind, "system": id},
            })
        })
        .collect();
    if ctx.flavor == Flavor::Datacenter && state.store().jira_software() {
        fields.push(json!({
            "id": EPIC_LINK_FIELD, "key": EPIC_LINK_FIELD, "name": "Epic Link", "custom": true,
            "orderable": true, "navigable": true, "searchable": true,
            "clauseNames": ["cf[10100]", "Epic Link"],
            "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link", "customId": 10100},
        }));
    }
    Json(Value::Array(fields))
}
