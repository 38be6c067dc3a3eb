//! End-to-end checks of the JQL subset: parse, match and order issues held the way the store holds them.

use std::cmp::Ordering;

use jiff::Timestamp;
use proptest::prelude::*;

use super::{JqlFields, JqlValue, NamedValue, parse};

/// An issue as a store would hand its fields to the query.
#[derive(Clone)]
struct Issue {
    key: &'static str,
    id: &'static str,
    project: (&'static str, &'static str, &'static str),
    status: &'static str,
    category: (&'static str, &'static str, &'static str),
    issue_type: &'static str,
    labels: Vec<&'static str>,
    assignee: Option<(&'static str, &'static str)>,
    summary: &'static str,
    created: Timestamp,
    updated: Option<Timestamp>,
}

impl JqlFields for Issue {
    fn values(&self, field: &str) -> Vec<JqlValue> {
        let texts = |values: &[&str]| {
            values
                .iter()
                .map(|v| JqlValue::Text((*v).to_owned()))
                .collect()
        };
        match field {
            "project" => texts(&[self.project.0, self.project.1, self.project.2]),
            "key" => texts(&[self.key, self.id]),
            "status" => texts(&[self.status]),
            "statuscategory" => texts(&[self.category.0, self.category.1, self.category.2]),
            "issuetype" => texts(&[self.issue_type]),
            "labels" => texts(&self.labels),
            "assignee" => self
                .assignee
                .map(|(id, email)| texts(&[id, email]))
                .unwrap_or_default(),
            "summary" => texts(&[self.summary]),
            "created" => vec![JqlValue::Time(self.created)],
            "updated" => self.updated.map(JqlValue::Time).into_iter().collect(),
            other => panic!("the query asked for an unknown field {other}"),
        }
    }
}

const TO_DO: (&str, &str, &str) = ("new", "To Do", "2");
const IN_PROGRESS: (&str, &str, &str) = ("indeterminate", "In Progress", "4");
const DONE: (&str, &str, &str) = ("done", "Done", "3");
const SEC: (&str, &str, &str) = ("SEC", "Security", "10000");
const OPS: (&str, &str, &str) = ("OPS", "Operations", "10001");

fn t(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn now() -> Timestamp {
    t("2026-03-10T12:00:00Z")
}

fn issues() -> Vec<Issue> {
    vec![
        Issue {
            key: "SEC-1",
            id: "10001",
            project: SEC,
            status: "To Do",
            category: TO_DO,
            issue_type: "Epic",
            labels: vec![],
            assignee: None,
            summary: "Compliance epic",
            created: t("2026-01-01T00:00:00Z"),
            updated: Some(t("2026-01-02T00:00:00Z")),
        },
        Issue {
            key: "SEC-2",
            id: "10002",
            project: SEC,
            status: "In Progress",
            category: IN_PROGRESS,
            issue_type: "Task",
            labels: vec!["compliance", "soc2"],
            assignee: Some(("acc-alice", "alice@example.com")),
            summary: "Patch CVE-2026-1234 on payments-api",
            created: t("2026-03-01T00:00:00Z"),
            updated: Some(t("2026-03-10T11:30:00Z")),
        },
        Issue {
            key: "SEC-10",
            id: "10010",
            project: SEC,
            status: "Done",
            category: DONE,
            issue_type: "Bug",
            labels: vec!["compliance"],
            assignee: Some(("acc-bob", "bob@example.com")),
            summary: "Rotate keys",
            created: t("2026-03-05T00:00:00Z"),
            updated: Some(t("2026-03-09T12:00:00Z")),
        },
        Issue {
            key: "OPS-3",
            id: "10003",
            project: OPS,
            status: "To Do",
            category: TO_DO,
            issue_type: "Story",
            labels: vec!["soc2"],
            assignee: Some(("acc-alice", "alice@example.com")),
            summary: "Document the runbook",
            created: t("2026-02-01T00:00:00Z"),
            updated: None,
        },
    ]
}

/// The keys of the issues a query matches, in the query's order.
fn search(jql: &str) -> Vec<&'static str> {
    search_as(jql, None)
}

fn search_as(jql: &str, user: Option<&str>) -> Vec<&'static str> {
    let query = parse(jql).unwrap_or_else(|e| panic!("{jql}: {e}"));
    let mut found: Vec<Issue> = issues()
        .into_iter()
        .filter(|issue| query.matches_as(issue, now(), user))
        .collect();
    found.sort_by(|a, b| query.compare(a, b));
    found.into_iter().map(|issue| issue.key).collect()
}

#[test]
fn matches_projects_by_key_name_or_id_in_any_case() {
    assert_eq!(search("project = SEC"), ["SEC-10", "SEC-2", "SEC-1"]);
    assert_eq!(search("PROJECT = sec"), ["SEC-10", "SEC-2", "SEC-1"]);
    assert_eq!(search("project = \"Operations\""), ["OPS-3"]);
    assert_eq!(search("project = 10001"), ["OPS-3"]);
    assert_eq!(
        search("project in (SEC, OPS) AND project != SEC"),
        ["OPS-3"]
    );
    assert_eq!(search("project not in (SEC)"), ["OPS-3"]);
}

#[test]
fn matches_labels_one_clause_per_label() {
    assert_eq!(search("labels = compliance AND labels = soc2"), ["SEC-2"]);
    assert_eq!(search("labels in (SOC2)"), ["SEC-2", "OPS-3"]);
    assert_eq!(search("labels is EMPTY"), ["SEC-1"]);
    assert_eq!(search("labels = EMPTY"), ["SEC-1"]);
    assert_eq!(search("labels is not empty"), ["SEC-10", "SEC-2", "OPS-3"]);
    assert_eq!(
        search("labels != soc2"),
        ["SEC-10"],
        "!= never matches an empty field, nor one holding the label"
    );
    assert_eq!(search("labels not in (soc2)"), ["SEC-10"]);
    assert_eq!(
        search("labels in (EMPTY, soc2)"),
        ["SEC-2", "SEC-1", "OPS-3"]
    );
}

#[test]
fn matches_status_category_and_type() {
    assert_eq!(search("status = \"In Progress\""), ["SEC-2"]);
    assert_eq!(
        search("status in (\"to do\", Done)"),
        ["SEC-10", "SEC-1", "OPS-3"]
    );
    assert_eq!(search("statusCategory = Done"), ["SEC-10"]);
    assert_eq!(
        search("statusCategory != done"),
        ["SEC-2", "SEC-1", "OPS-3"]
    );
    assert_eq!(
        search("statuscategory in (new, \"In Progress\")"),
        ["SEC-2", "SEC-1", "OPS-3"]
    );
    assert_eq!(
        search("issuetype = Bug OR type = story"),
        ["SEC-10", "OPS-3"]
    );
}

#[test]
fn matches_keys_and_ids() {
    assert_eq!(search("key = SEC-2"), ["SEC-2"]);
    assert_eq!(
        search("issuekey in (sec-1, OPS-3, SEC-999)"),
        ["SEC-1", "OPS-3"]
    );
    assert_eq!(search("key = 10010"), ["SEC-10"]);
    assert_eq!(
        search("key > SEC-1"),
        ["SEC-10", "SEC-2"],
        "within the project only"
    );
    assert_eq!(search("key <= SEC-2"), ["SEC-2", "SEC-1"]);
    assert_eq!(search("key >= OPS-3"), ["OPS-3"]);
}

#[test]
fn matches_assignees_and_the_current_user() {
    assert_eq!(
        search("assignee = \"alice@example.com\""),
        ["SEC-2", "OPS-3"]
    );
    assert_eq!(search("assignee = acc-bob"), ["SEC-10"]);
    assert_eq!(search("assignee is EMPTY"), ["SEC-1"]);
    assert_eq!(
        search("assignee != acc-alice"),
        ["SEC-10"],
        "unassigned issues are left out"
    );
    assert_eq!(search("assignee = currentUser()"), Vec::<&str>::new());
    assert_eq!(
        search_as("assignee = currentUser()", Some("acc-bob")),
        ["SEC-10"]
    );
    assert_eq!(
        search_as("assignee in (currentUser(), EMPTY)", Some("acc-bob")),
        ["SEC-10", "SEC-1"]
    );
}

#[test]
fn matches_relative_and_absolute_times() {
    assert_eq!(search("updated >= -1h"), ["SEC-2"]);
    assert_eq!(search("updated >= -1d"), ["SEC-10", "SEC-2"]);
    assert_eq!(search("updated > -5m"), Vec::<&str>::new());
    assert_eq!(search("created >= -2w"), ["SEC-10", "SEC-2"]);
    assert_eq!(search("created < \"2026-02-01\""), ["SEC-1"]);
    assert_eq!(search("created <= \"2026/02/01\""), ["SEC-1", "OPS-3"]);
    assert_eq!(search("created = \"2026-03-05 00:00\""), ["SEC-10"]);
    assert_eq!(search("updated is EMPTY"), ["OPS-3"]);
    assert_eq!(search("updated < now()"), ["SEC-10", "SEC-2", "SEC-1"]);
    assert_eq!(search("updated != \"2026-01-02\""), ["SEC-10", "SEC-2"]);
    assert_eq!(
        search("created in (\"2026-01-01\", \"2026-02-01\")"),
        ["SEC-1", "OPS-3"]
    );
}

#[test]
fn matches_summary_words() {
    assert_eq!(search("summary ~ \"patch\""), ["SEC-2"]);
    assert_eq!(search("summary ~ \"cve payments\""), ["SEC-2"]);
    assert_eq!(
        search("summary ~ \"pay\""),
        Vec::<&str>::new(),
        "a word, not a substring"
    );
    assert_eq!(search("summary ~ \"pay*\""), ["SEC-2"]);
    assert_eq!(search("summary !~ keys"), ["SEC-2", "SEC-1", "OPS-3"]);
}

#[test]
fn combines_with_and_or_not_and_parentheses() {
    assert_eq!(
        search("project = SEC AND (labels = soc2 OR statusCategory = Done)"),
        ["SEC-10", "SEC-2"]
    );
    assert_eq!(
        search("project = SEC AND labels = soc2 OR project = OPS"),
        ["SEC-2", "OPS-3"]
    );
    assert_eq!(search("NOT project = SEC"), ["OPS-3"]);
    assert_eq!(
        search("NOT assignee = acc-alice"),
        ["SEC-10"],
        "Jira reads NOT a = b as a != b, which skips empty fields"
    );
    assert_eq!(
        search("NOT (labels = soc2 OR labels = compliance)"),
        Vec::<&str>::new()
    );
    assert_eq!(search("NOT NOT project = OPS"), ["OPS-3"]);
    assert_eq!(
        search("NOT updated > -1d"),
        ["SEC-10", "SEC-1"],
        "SEC-10 was updated exactly a day ago; the empty `updated` of OPS-3 matches neither way"
    );
    assert_eq!(
        search("NOT assignee is EMPTY"),
        ["SEC-10", "SEC-2", "OPS-3"]
    );
    assert_eq!(
        search("project = SEC && !(status = Done) || key = OPS-3"),
        ["SEC-2", "SEC-1", "OPS-3"]
    );
}

#[test]
fn an_empty_query_matches_everything() {
    assert_eq!(search(""), ["SEC-10", "SEC-2", "SEC-1", "OPS-3"]);
    assert!(!parse("").unwrap().is_bounded());
    assert!(!parse("order by key").unwrap().is_bounded());
    assert!(parse("project = SEC").unwrap().is_bounded());
}

#[test]
fn orders_by_the_terms_given() {
    assert_eq!(
        search("order by key"),
        ["OPS-3", "SEC-1", "SEC-2", "SEC-10"]
    );
    assert_eq!(
        search("order by key desc"),
        ["SEC-10", "SEC-2", "SEC-1", "OPS-3"]
    );
    assert_eq!(
        search("order by created"),
        ["SEC-10", "SEC-2", "OPS-3", "SEC-1"],
        "dates default to DESC"
    );
    assert_eq!(
        search("order by created ASC"),
        ["SEC-1", "OPS-3", "SEC-2", "SEC-10"]
    );
    assert_eq!(
        search("order by updated asc"),
        ["SEC-1", "SEC-10", "SEC-2", "OPS-3"],
        "empty last ascending"
    );
    assert_eq!(
        search("order by updated desc"),
        ["OPS-3", "SEC-2", "SEC-10", "SEC-1"],
        "empty first descending"
    );
    assert_eq!(
        search("order by project, key"),
        ["OPS-3", "SEC-1", "SEC-2", "SEC-10"]
    );
    assert_eq!(
        search("order by status asc"),
        ["SEC-10", "SEC-2", "SEC-1", "OPS-3"],
        "ties fall back on key DESC"
    );
    assert_eq!(
        search("order by assignee asc, key asc"),
        ["OPS-3", "SEC-2", "SEC-10", "SEC-1"]
    );
    assert_eq!(
        search("order by labels asc"),
        ["SEC-10", "SEC-2", "OPS-3", "SEC-1"]
    );
}

#[test]
fn compare_is_a_total_order_over_the_issues() {
    let query = parse("order by statusCategory, updated").unwrap();
    let all = issues();
    for a in &all {
        assert_eq!(query.compare(a, a), Ordering::Equal);
        for b in &all {
            assert_eq!(query.compare(a, b), query.compare(b, a).reverse());
        }
    }
}

#[test]
fn lists_the_named_values_for_the_store_to_check() {
    let query =
        parse("project in (SEC, NOPE) AND NOT Status = Shipped AND updated > -1d AND summary ~ x")
            .unwrap();
    assert_eq!(
        query.named_values(),
        [
            NamedValue {
                field: "project",
                written_field: "project".to_owned(),
                value: "SEC".to_owned(),
                in_list: true,
            },
            NamedValue {
                field: "project",
                written_field: "project".to_owned(),
                value: "NOPE".to_owned(),
                in_list: true,
            },
            NamedValue {
                field: "status",
                written_field: "Status".to_owned(),
                value: "Shipped".to_owned(),
                in_list: false,
            },
        ]
    );
}

/// Words, operators and punctuation JQL is made of, to build near-valid queries from.
fn jql_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("project".to_owned()),
        Just("labels".to_owned()),
        Just("updated".to_owned()),
        Just("key".to_owned()),
        Just("summary".to_owned()),
        Just("=".to_owned()),
        Just("!=".to_owned()),
        Just(">=".to_owned()),
        Just("~".to_owned()),
        Just("in".to_owned()),
        Just("not".to_owned()),
        Just("is".to_owned()),
        Just("empty".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just("order by".to_owned()),
        Just("desc".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("now()".to_owned()),
        Just("-5d".to_owned()),
        Just("SEC-1".to_owned()),
        Just("\\u00".to_owned()),
        "[a-zA-Z0-9@\\-\\\\'\"/ ]{0,6}",
    ]
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(input in ".{0,200}") {
        let _ = parse(&input);
    }

    #[test]
    fn parse_never_panics_on_jql_like_text(pieces in prop::collection::vec(jql_piece(), 0..30)) {
        let input = pieces.join(" ");
        if let Ok(query) = parse(&input) {
            for issue in issues() {
                let _ = query.matches(&issue, now());
            }
            let all = issues();
            let _ = query.compare(&all[0], &all[1]);
        }
    }

    #[test]
    fn every_error_says_something(input in ".{0,80}") {
        if let Err(error) = parse(&input) {
            prop_assert!(!error.messages().is_empty());
            prop_assert!(error.messages().iter().all(|m| !m.is_empty()));
        }
    }

    #[test]
    fn not_is_the_complement_on_non_empty_fields(label in "[a-z]{1,6}", project in "(SEC|OPS|ZZZ)") {
        // Quoted, since a generated label may be a keyword or reserved word (`is`, `to`...).
        let plain = parse(&format!("project = {project} AND labels = \"{label}\"")).unwrap();
        let negated = parse(&format!("NOT (project = {project} AND labels = \"{label}\")")).unwrap();
        for issue in issues().into_iter().filter(|i| !i.labels.is_empty()) {
            prop_assert_ne!(plain.matches(&issue, now()), negated.matches(&issue, now()));
        }
    }
}
