//! The requests a client sent, read back from the emulator's log and checked against Atlassian's
//! OpenAPI document of the emulator's flavor.

use super::emulator::Emulator;
use super::emulator_admin::Logged;
use super::openapi::{self, OpenApi};

/// What `request` does that `document` does not describe: an operation it lacks, a query
/// parameter the operation does not declare, or a body its request schema refuses.
pub fn request_problems(document: &OpenApi, request: &Logged) -> Vec<String> {
    let name = format!("{} {}", request.method, request.path);
    let operation = match document.operation(&request.method, &request.path) {
        Ok(operation) => operation,
        Err(problem) => return vec![format!("{name}: undocumented operation: {problem}")],
    };
    let declared = document
        .query_parameters(&request.method, &request.path)
        .unwrap_or_default();
    let query = request.query.as_deref().unwrap_or_default();
    let mut problems: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split('=').next().unwrap_or(pair))
        // Atlassian's REST framework takes `expand` on every resource; the Data Center document
        // leaves it out of some (GET transitions, whose `transitions.fields` expansion tells
        // whether a screen takes a resolution).
        .filter(|parameter| *parameter != "expand" && !declared.iter().any(|d| d == parameter))
        .map(|parameter| {
            let template = operation.template;
            format!("{name}: {template} declares no query parameter {parameter} ({declared:?})")
        })
        .collect();
    if let Some(body) = request.body.as_ref().filter(|body| !body.is_null())
        && let Err(problem) = document.validate_request(&request.method, &request.path, body)
    {
        problems.push(format!(
            "{name} ({}): {problem}\nbody: {body}",
            operation.template
        ));
    }
    problems
}

/// Checks every request the emulator logged against the document of its flavor.
pub async fn assert_requests_conform(jira: &Emulator) {
    let document = openapi::document(jira.flavor().into());
    let requests = jira.logged().await;
    assert!(!requests.is_empty(), "no request was logged");
    let problems: Vec<String> = requests
        .iter()
        .flat_map(|request| request_problems(document, request))
        .collect();
    assert!(
        problems.is_empty(),
        "{} problems in {} requests:\n{}",
        problems.len(),
        requests.len(),
        problems.join("\n")
    );
}
