//! Moving issues through their workflow, commenting, and the entity properties that carry sync
//! metadata.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{
    COMMENT, JiraClient, PROPERTY, TRANSITIONS, check_issue_key, check_property_key,
};
use super::description;
use super::error::JiraError;
use super::model::{Status, Transition, TransitionTarget};
use super::path::{Hop, MAX_HOPS, next_hop};
use super::retry::Safety;
use super::transport::Request;
use super::wire::{PropertyWire, TransitionsWire};

impl JiraClient {
    /// The transitions available on an issue now, with whether each screen takes a resolution.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        check_issue_key(key)?;
        let path = format!("{}/issue/{key}/transitions", self.api());
        let label = format!("GET {path}");
        let request = Request::new(
            Method::GET,
            path,
            self.template(TRANSITIONS),
            Safety::Idempotent,
        )
        .query("expand", "transitions.fields");
        let answer: TransitionsWire = self.send(request).await?.decode()?;
        answer
            .into_transitions()
            .map_err(|message| JiraError::UnexpectedResponse {
                request: label,
                message,
            })
    }

    /// Moves an issue to `target` in one transition, setting `resolution` where the transition
    /// screen takes one and adding `comment` in the same request. Returns the transition taken. Not
    /// retried after Jira may have acted (a repeat could move the issue twice).
    pub async fn transition(
        &self,
        key: &str,
        target: &TransitionTarget,
        resolution: Option<&str>,
        comment: Option<&str>,
    ) -> Result<Transition, JiraError> {
        let available = self.transitions(key).await?;
        let chosen =
            choose(&available, target)
                .cloned()
                .ok_or_else(|| JiraError::NoTransition {
                    issue: key.to_owned(),
                    status: None,
                    target: describe(target),
                    available: names(&available),
                    path: Vec::new(),
                })?;
        let walk = Walk {
            targets: std::slice::from_ref(target),
            resolution,
            fields: &Map::new(),
            comment,
        };
        self.take(key, &chosen, &walk, true).await?;
        Ok(chosen)
    }

    /// Walks an issue from status `from` toward `walk.targets` through the transitions Jira
    /// offers, re-reading them after each hop, at most [`MAX_HOPS`] transitions; the comment goes
    /// with the hop that arrives. Gives the status reached, or `NoTransition` naming the status the
    /// walk stopped in, what it offered and the hops taken.
    pub async fn walk(
        &self,
        key: &str,
        from: &Status,
        walk: &Walk<'_>,
    ) -> Result<Status, JiraError> {
        let mut passed = vec![from.name.clone()];
        let mut path = Vec::new();
        for _ in 0..MAX_HOPS {
            let offered = self.transitions(key).await?;
            let (chosen, arrives) = match next_hop(&offered, walk.targets, &passed) {
                Hop::Arrive(t) => (t.clone(), true),
                Hop::Via(t) => (t.clone(), false),
                Hop::Stuck => return Err(walk.stuck(key, &passed, &offered, path)),
            };
            self.take(key, &chosen, walk, arrives).await?;
            if arrives {
                return Ok(chosen.to);
            }
            path.push(format!("{} -> {}", chosen.name, chosen.to.name));
            passed.push(chosen.to.name);
        }
        let offered = self.transitions(key).await?;
        Err(walk.stuck(key, &passed, &offered, path))
    }

    /// Takes one transition: the resolution and the walk's fields its screen offers, and the comment
    /// when `with_comment`.
    async fn take(
        &self,
        key: &str,
        chosen: &Transition,
        walk: &Walk<'_>,
        with_comment: bool,
    ) -> Result<(), JiraError> {
        let mut body = json!({ "transition": { "id": chosen.id } });
        let fields = walk.screen_values(chosen);
        if !fields.is_empty() {
            body["fields"] = Value::Object(fields);
        }
        if let (Some(comment), true) = (walk.comment, with_comment) {
            body["update"] = json!({
                "comment": [{ "add": { "body": description::comment_body(self.flavor(), comment) } }]
            });
        }
        let path = format!("{}/issue/{key}/transitions", self.api());
        let request = Request::new(
            Method::POST,
            path,
            self.template(TRANSITIONS),
            Safety::NotIdempotent,
        )
        .about(key)
        .json(&body)?;
        self.send(request).await?;
        Ok(())
    }

    /// Adds a comment; the text is shown literally (ADF on Cloud, escaped wiki on Data Center).
    pub async fn add_comment(&self, key: &str, text: &str) -> Result<(), JiraError> {
        check_issue_key(key)?;
        let path = format!("{}/issue/{key}/comment", self.api());
        let body = json!({ "body": description::comment_body(self.flavor(), text) });
        let request = Request::new(
            Method::POST,
            path,
            self.template(COMMENT),
            Safety::NotIdempotent,
        )
        .about(key)
        .json(&body)?;
        self.send(request).await?;
        Ok(())
    }

    /// Sets an issue entity property (replacing its value).
    pub async fn set_property(
        &self,
        key: &str,
        name: &str,
        value: &Value,
    ) -> Result<(), JiraError> {
        check_issue_key(key)?;
        check_property_key(name)?;
        let path = format!("{}/issue/{key}/properties/{name}", self.api());
        let request = Request::new(
            Method::PUT,
            path,
            self.template(PROPERTY),
            Safety::Idempotent,
        )
        .about(key)
        .json(value)?;
        self.send(request).await?;
        Ok(())
    }

    /// An issue entity property's value; `None` when the issue has no such property. (Jira answers
    /// 404 for an invisible issue too; `get_issue` tells the two apart.)
    pub async fn get_property(&self, key: &str, name: &str) -> Result<Option<Value>, JiraError> {
        check_issue_key(key)?;
        check_property_key(name)?;
        let path = format!("{}/issue/{key}/properties/{name}", self.api());
        let request = Request::new(
            Method::GET,
            path,
            self.template(PROPERTY),
            Safety::Idempotent,
        );
        match self.send(request).await {
            Ok(answer) => Ok(Some(answer.decode::<PropertyWire>()?.value)),
            Err(JiraError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// Picks the transition for a target: by the status it leads to (then by its own name), or the
/// first one into the category.
pub fn choose<'a>(
    available: &'a [Transition],
    target: &TransitionTarget,
) -> Option<&'a Transition> {
    match target {
        TransitionTarget::StatusName(name) => available
            .iter()
            .find(|t| t.to.name.eq_ignore_ascii_case(name))
            .or_else(|| available.iter().find(|t| t.name.eq_ignore_ascii_case(name))),
        TransitionTarget::Category(category) => {
            available.iter().find(|t| t.to.category == *category)
        }
    }
}

/// What a walk through the workflow aims at and sends on the way.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'a> {
    /// Where to, in order of preference.
    pub targets: &'a [TransitionTarget],
    /// The resolution to set where a screen takes one; `None`: the first one the screen lists.
    pub resolution: Option<&'a str>,
    /// Screen fields (field id -> value), each sent where a transition's screen has it.
    pub fields: &'a Map<String, Value>,
    /// The comment added with the arriving transition.
    pub comment: Option<&'a str>,
}

impl Walk<'_> {
    /// The fields to send with `transition`: the resolution where its screen takes one, and the
    /// walk's fields its screen has.
    fn screen_values(&self, transition: &Transition) -> Map<String, Value> {
        let mut fields = Map::new();
        let resolution = self
            .resolution
            .or_else(|| transition.resolutions.first().map(String::as_str));
        if let (true, Some(name)) = (transition.has_resolution_field, resolution) {
            fields.insert("resolution".to_owned(), json!({ "name": name }));
        }
        for field in &transition.screen_fields {
            if let Some(value) = self.fields.get(&field.id) {
                fields.insert(field.id.clone(), value.clone());
            }
        }
        fields
    }

    fn stuck(
        &self,
        key: &str,
        passed: &[String],
        offered: &[Transition],
        path: Vec<String>,
    ) -> JiraError {
        JiraError::NoTransition {
            issue: key.to_owned(),
            status: passed.last().cloned(),
            target: self
                .targets
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join(" or "),
            available: names(offered),
            path,
        }
    }
}

fn names(offered: &[Transition]) -> Vec<String> {
    offered
        .iter()
        .map(|t| format!("{} -> {}", t.name, t.to.name))
        .collect()
}

fn describe(target: &TransitionTarget) -> String {
    match target {
        TransitionTarget::StatusName(name) => format!("status {name:?}"),
        TransitionTarget::Category(category) => {
            format!("a status in category {:?}", category.key())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::model::{Status, StatusCategory};

    fn t(id: &str, name: &str, to: &str, category: StatusCategory) -> Transition {
        Transition {
            id: id.into(),
            name: name.into(),
            to: Status {
                name: to.into(),
                category,
            },
            has_resolution_field: false,
            resolutions: Vec::new(),
            screen_fields: Vec::new(),
        }
    }

    #[test]
    fn transitions_are_chosen_by_status_then_name_or_by_category() {
        let available = vec![
            t(
                "11",
                "Start Progress",
                "In Progress",
                StatusCategory::Indeterminate,
            ),
            t("31", "Close", "Done", StatusCategory::Done),
            t("41", "Reopen", "To Do", StatusCategory::New),
        ];
        let by = |target| choose(&available, &target).map(|t| t.id.clone());
        assert_eq!(
            by(TransitionTarget::StatusName("done".into())).as_deref(),
            Some("31")
        );
        assert_eq!(
            by(TransitionTarget::StatusName("Reopen".into())).as_deref(),
            Some("41")
        );
        assert_eq!(
            by(TransitionTarget::Category(StatusCategory::Done)).as_deref(),
            Some("31")
        );
        assert_eq!(by(TransitionTarget::StatusName("Blocked".into())), None);
    }

    #[test]
    fn a_screen_gets_the_resolution_asked_else_its_first_and_only_the_fields_it_has() {
        let mut resolve = t("5", "Resolve Issue", "Resolved", StatusCategory::Done);
        resolve.has_resolution_field = true;
        resolve.resolutions = vec!["Fixed".into(), "Won't Fix".into()];
        resolve.screen_fields = vec![crate::jira::model::ScreenField {
            id: "customfield_10300".into(),
            required: true,
        }];
        let plain = t(
            "11",
            "Start Progress",
            "In Progress",
            StatusCategory::Indeterminate,
        );
        let mut fields = Map::new();
        fields.insert("customfield_10300".into(), json!("notes"));
        fields.insert("customfield_99999".into(), json!("elsewhere"));
        let targets = [TransitionTarget::Category(StatusCategory::Done)];
        let mut walk = Walk {
            targets: &targets,
            resolution: None,
            fields: &fields,
            comment: None,
        };
        assert_eq!(
            Value::Object(walk.screen_values(&resolve)),
            json!({"resolution": {"name": "Fixed"}, "customfield_10300": "notes"})
        );
        walk.resolution = Some("Won't Fix");
        assert_eq!(
            walk.screen_values(&resolve)["resolution"],
            json!({"name": "Won't Fix"})
        );
        assert!(walk.screen_values(&plain).is_empty());
    }
}
