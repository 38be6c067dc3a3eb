//! Moving issues through their workflow, commenting, and the entity properties that carry sync
//! metadata.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{
    COMMENT, JiraClient, PROPERTY, TRANSITIONS, check_issue_key, check_property_key,
};
use super::description;
use super::error::JiraError;
use super::model::{Transition, TransitionTarget};
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

    /// Moves an issue to `target`, setting `resolution` where the transition screen takes one and
    /// adding `comment` in the same request. Returns the transition taken. Not retried after Jira may
    /// have acted (a repeat could move the issue twice).
    pub async fn transition(
        &self,
        key: &str,
        target: &TransitionTarget,
        resolution: Option<&str>,
        comment: Option<&str>,
    ) -> Result<Transition, JiraError> {
        self.transition_to_first(key, std::slice::from_ref(target), resolution, comment)
            .await
    }

    /// Like [`JiraClient::transition`], to the first of `targets` that the issue's workflow offers
    /// now.
    pub async fn transition_to_first(
        &self,
        key: &str,
        targets: &[TransitionTarget],
        resolution: Option<&str>,
        comment: Option<&str>,
    ) -> Result<Transition, JiraError> {
        let available = self.transitions(key).await?;
        let chosen = targets
            .iter()
            .find_map(|target| choose(&available, target))
            .cloned()
            .ok_or_else(|| JiraError::NoTransition {
                issue: key.to_owned(),
                target: targets
                    .iter()
                    .map(describe)
                    .collect::<Vec<_>>()
                    .join(" or "),
                available: available
                    .iter()
                    .map(|t| format!("{} -> {}", t.name, t.to.name))
                    .collect(),
            })?;
        let mut body = json!({ "transition": { "id": chosen.id } });
        if let (Some(resolution), true) = (resolution, chosen.has_resolution_field) {
            body["fields"] = json!({ "resolution": { "name": resolution } });
        }
        if let Some(comment) = comment {
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
        Ok(chosen)
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
}
