//! Creating, reading, editing and deleting issues, one at a time or in bulk.

use reqwest::Method;

use super::client::{ISSUE, ISSUE_BULK, ISSUE_ONE, JiraClient, check_issue_key};
use super::error::JiraError;
use super::model::{Issue, IssueRef, IssueUpdate, NewIssue};
use super::retry::Safety;
use super::transport::Request;
use super::wire::{self, BulkCreatedWire, CreatedWire, IssueWire};

/// Most issues Jira takes in one bulk create.
pub const BULK_CREATE_LIMIT: usize = 50;

impl JiraClient {
    /// Creates one issue (with its entity properties, atomically). Never retried after Jira may have
    /// acted: on a lost answer the caller finds the issue by its labels before creating again.
    pub async fn create_issue(&self, issue: &NewIssue) -> Result<IssueRef, JiraError> {
        let epic = self.epic_field_for(issue.epic.is_some()).await?;
        let body = wire::create_body(self.flavor(), &epic, issue);
        let path = format!("{}/issue", self.api());
        let request = Request::new(
            Method::POST,
            path,
            self.template(ISSUE),
            Safety::NotIdempotent,
        )
        .json(&body)?;
        let created: CreatedWire = self.send(request).await?.decode()?;
        Ok(wire::issue_ref(self.base_url(), created))
    }

    /// Creates many issues, at most 50 per call. The result has one entry per input, in order: the
    /// created issue, or Jira's error for that element (a failed call fails each of its elements).
    pub async fn bulk_create(&self, issues: &[NewIssue]) -> Vec<Result<IssueRef, JiraError>> {
        let mut results = Vec::with_capacity(issues.len());
        for chunk in issues.chunks(BULK_CREATE_LIMIT) {
            match self.bulk_create_chunk(chunk).await {
                Ok(chunk_results) => results.extend(chunk_results),
                Err(error) => results.extend(chunk.iter().map(|_| Err(error.clone()))),
            }
        }
        results
    }

    async fn bulk_create_chunk(
        &self,
        chunk: &[NewIssue],
    ) -> Result<Vec<Result<IssueRef, JiraError>>, JiraError> {
        let epic = self
            .epic_field_for(chunk.iter().any(|i| i.epic.is_some()))
            .await?;
        let updates: Vec<_> = chunk
            .iter()
            .map(|issue| wire::create_body(self.flavor(), &epic, issue))
            .collect();
        let path = format!("{}/issue/bulk", self.api());
        let label = format!("POST {path}");
        let request = Request::new(
            Method::POST,
            path,
            self.template(ISSUE_BULK),
            Safety::NotIdempotent,
        )
        .json(&wire::BulkCreateBody {
            issue_updates: updates,
        })?
        .answering_on(&[400]);
        let answer = self.send(request).await?;
        let decoded: Result<BulkCreatedWire, _> = answer.decode();
        let outcome = match decoded {
            Ok(outcome) if answer.status.is_success() || !outcome.errors.is_empty() => outcome,
            // A 400 that is not a per-element answer is an ordinary validation error.
            _ => {
                return Err(JiraError::from_response(
                    &label,
                    answer.status.as_u16(),
                    &answer.body,
                    None,
                    None,
                ));
            }
        };
        let mut failures: Vec<Option<JiraError>> = vec![None; chunk.len()];
        for failure in outcome.errors {
            let Some(slot) = failures.get_mut(failure.failed_element_number) else {
                return Err(JiraError::UnexpectedResponse {
                    request: label,
                    message: format!(
                        "failedElementNumber {} is outside the {} issues sent",
                        failure.failed_element_number,
                        chunk.len()
                    ),
                });
            };
            *slot = Some(JiraError::Validation {
                request: format!("{label} (element {})", failure.failed_element_number),
                status: failure.status.unwrap_or(400),
                error_messages: failure.element_errors.error_messages,
                errors: failure.element_errors.errors,
            });
        }
        let expected = failures.iter().filter(|f| f.is_none()).count();
        if outcome.issues.len() != expected {
            return Err(JiraError::UnexpectedResponse {
                request: label,
                message: format!(
                    "{} issues created but {expected} elements did not fail",
                    outcome.issues.len()
                ),
            });
        }
        // Jira lists created issues in the order of the elements that succeeded.
        let mut created = outcome.issues.into_iter();
        Ok(failures
            .into_iter()
            .map(|failure| match failure {
                Some(error) => Err(error),
                None => created
                    .next()
                    .map(|c| wire::issue_ref(self.base_url(), c))
                    .ok_or_else(|| JiraError::UnexpectedResponse {
                        request: label.clone(),
                        message: "fewer issues than successful elements".to_owned(),
                    }),
            })
            .collect())
    }

    /// Changes managed fields; does nothing for an empty update. Retried when safe (a PUT).
    pub async fn edit_issue(&self, key: &str, update: &IssueUpdate) -> Result<(), JiraError> {
        check_issue_key(key)?;
        let epic = self.epic_field_for(update.epic.is_some()).await?;
        let Some(body) = wire::edit_body(self.flavor(), &epic, update) else {
            return Ok(());
        };
        let path = format!("{}/issue/{key}", self.api());
        let request = Request::new(
            Method::PUT,
            path,
            self.template(ISSUE_ONE),
            Safety::Idempotent,
        )
        .about(key)
        .json(&body)?;
        self.send(request).await?;
        Ok(())
    }

    /// One issue with the managed fields.
    pub async fn get_issue(&self, key: &str) -> Result<Issue, JiraError> {
        check_issue_key(key)?;
        let epic = self.epic_field().await?;
        let path = format!("{}/issue/{key}", self.api());
        let label = format!("GET {path}");
        let request = Request::new(
            Method::GET,
            path,
            self.template(ISSUE_ONE),
            Safety::Idempotent,
        )
        .query("fields", wire::fields_to_fetch(&epic).join(","));
        let issue: IssueWire = self.send(request).await?.decode()?;
        issue
            .into_issue(self.base_url(), &epic)
            .map_err(|message| JiraError::UnexpectedResponse {
                request: label,
                message,
            })
    }

    /// Deletes an issue and its sub-tasks. A `NotFound` means it is already gone.
    pub async fn delete_issue(&self, key: &str) -> Result<(), JiraError> {
        check_issue_key(key)?;
        let path = format!("{}/issue/{key}", self.api());
        let request = Request::new(
            Method::DELETE,
            path,
            self.template(ISSUE_ONE),
            Safety::Idempotent,
        )
        .about(key)
        .query("deleteSubtasks", "true");
        self.send(request).await?;
        Ok(())
    }

    /// The epic field, looked up only when an epic is involved (saves the `/field` call otherwise).
    async fn epic_field_for(&self, needed: bool) -> Result<wire::EpicField, JiraError> {
        if needed {
            self.epic_field().await
        } else {
            Ok(wire::EpicField::Unavailable)
        }
    }
}
