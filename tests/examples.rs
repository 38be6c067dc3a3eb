//! Every object in `examples/` is one the operator's types accept, so the examples never drift from the API.

mod support;

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};

#[test]
fn every_example_parses_into_its_kind() {
    let mut kinds = Vec::new();
    for (file, document) in support::examples::documents() {
        let kind = document["kind"].as_str().unwrap_or_default().to_owned();
        let parsed = match kind.as_str() {
            "ComplianceTask" => serde_yaml::from_value::<ComplianceTask>(document).map(drop),
            "JiraActiveSync" => serde_yaml::from_value::<JiraActiveSync>(document).map(drop),
            "JiraConnection" => serde_yaml::from_value::<JiraConnection>(document).map(drop),
            "Secret" => Ok(()),
            other => panic!("{file}: unexpected kind {other:?}"),
        };
        parsed.unwrap_or_else(|e| panic!("{file}: {kind} does not parse: {e}"));
        kinds.push(kind);
    }
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("JiraConnection"), 1);
    assert_eq!(count("JiraActiveSync"), 2);
    assert_eq!(count("ComplianceTask"), 6);
}

#[test]
fn example_tasks_cover_three_checks_and_two_assignees() {
    let tasks: Vec<ComplianceTask> = support::examples::documents()
        .into_iter()
        .filter(|(_, d)| d["kind"] == "ComplianceTask")
        .map(|(_, d)| serde_yaml::from_value(d).expect("task parses"))
        .collect();
    let checks: std::collections::BTreeSet<_> =
        tasks.iter().map(|t| t.spec.check.as_str()).collect();
    let assignees: std::collections::BTreeSet<_> = tasks
        .iter()
        .filter_map(|t| t.spec.assignee.as_deref())
        .collect();
    assert_eq!(checks.len(), 3, "{checks:?}");
    assert_eq!(assignees.len(), 2, "{assignees:?}");
    assert!(
        tasks
            .iter()
            .all(|t| t.spec.instructions.is_some() && t.spec.how_to_fix.is_some())
    );
}
