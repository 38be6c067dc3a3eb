//! The findings-to-tasks mapping, case by case, and on the sample reports in `../shared/policy-reports/`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::api::{
    AssigneeRule, ComplianceTaskSourceSpec, DueDays, FindingSeverity, ReportKind, ResultKind,
    Severity, TaskDeletionPolicy, TaskState,
};

const NS: &str = "payments";

fn spec() -> ComplianceTaskSourceSpec {
    serde_json::from_value(json!({})).expect("an empty spec takes the defaults")
}

fn report(kind: ReportKind, name: &str, body: Value) -> Report {
    let namespace = (!kind.cluster_scoped()).then(|| NS.to_owned());
    Report::from_json(kind, namespace, name.to_owned(), &BTreeMap::new(), body).expect("a report")
}

fn kyverno(result: &str, message: &str) -> Report {
    report(
        ReportKind::PolicyReport,
        "pol-api",
        json!({"results": [{
            "source": "kyverno", "policy": "require-run-as-non-root", "rule": "run-as-non-root",
            "category": "Pod Security Standards (Restricted)", "severity": "high",
            "result": result, "message": message,
            "resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": NS,
                           "name": "payments-api", "uid": "uid-1"}],
        }]}),
    )
}

fn trivy() -> Report {
    report(
        ReportKind::PolicyReport,
        "trivy-vuln-replicaset-payments-api",
        json!({"scope": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "namespace": NS,
                         "name": "payments-api-7d9", "uid": "uid-rs"},
               "results": [{
            "source": "Trivy Vulnerability", "policy": "CVE-2026-1234", "category": "Vulnerability Scan",
            "severity": "critical", "result": "fail", "message": "openssl: buffer overflow",
            "properties": {"resource": "openssl", "installedVersion": "3.0.1",
                           "fixedVersion": "3.0.9", "primaryLink": "https://avd.aquasec.com/nvd/cve-2026-1234",
                           "resultID": "5f1e9c"}
        }]}),
    )
}

fn all_readable() -> BTreeSet<ReportKind> {
    ReportKind::ALL.into_iter().collect()
}

fn now() -> Timestamp {
    "2026-12-03T10:00:00Z".parse().expect("a time")
}

fn run(spec: &ComplianceTaskSourceSpec, reports: &[Report], tasks: &[ExistingTask]) -> SourcePlan {
    run_with(
        spec,
        reports,
        tasks,
        &all_readable(),
        &Owners::default(),
        now(),
    )
}

fn run_with(
    spec: &ComplianceTaskSourceSpec,
    reports: &[Report],
    tasks: &[ExistingTask],
    readable: &BTreeSet<ReportKind>,
    owners: &Owners,
    now: Timestamp,
) -> SourcePlan {
    plan(&SourceInput {
        source: SourceView {
            namespace: NS,
            name: "findings",
            spec,
        },
        reports,
        readable,
        tasks,
        owners,
        now,
    })
}

/// The tasks the API server holds after applying a plan's writes to `tasks`.
fn applied(tasks: &[ExistingTask], plan: &SourcePlan) -> Vec<ExistingTask> {
    let mut by_name: BTreeMap<String, ExistingTask> =
        tasks.iter().map(|t| (t.name.clone(), t.clone())).collect();
    for apply in &plan.applies {
        let task = &apply.task;
        by_name.insert(
            task.name.clone(),
            ExistingTask {
                name: task.name.clone(),
                labels: task.labels.clone(),
                annotations: task.annotations(),
                spec: task.spec.clone(),
            },
        );
    }
    by_name.into_values().collect()
}

fn reasons(plan: &SourcePlan) -> Vec<WriteReason> {
    plan.applies.iter().map(|a| a.reason).collect()
}

#[test]
fn a_failing_result_becomes_one_open_task_with_everything_a_ticket_needs() {
    let plan = run(&spec(), &[kyverno("fail", "must run as non-root")], &[]);
    assert_eq!(reasons(&plan), vec![WriteReason::Create]);
    let task = &plan.applies[0].task;
    assert!(
        task.name
            .starts_with("require-run-as-non-root-payments-api-"),
        "{}",
        task.name
    );
    assert_eq!(task.spec.check, "kyverno-require-run-as-non-root");
    assert_eq!(
        task.spec.title,
        "require-run-as-non-root (run-as-non-root) on Deployment payments/payments-api"
    );
    assert_eq!(task.spec.severity, Some(Severity::High));
    assert_eq!(task.spec.state, TaskState::Open);
    let instructions = task.spec.instructions.as_deref().unwrap_or_default();
    assert!(
        instructions.starts_with("must run as non-root\n"),
        "{instructions}"
    );
    assert!(
        instructions.contains("- Report: PolicyReport payments/pol-api"),
        "{instructions}"
    );
    assert_eq!(
        task.labels.get(TASK_SOURCE).map(String::as_str),
        Some("findings")
    );
    assert_eq!(
        task.labels.get(REPORT_KIND).map(String::as_str),
        Some("PolicyReport")
    );
    assert_eq!(
        task.labels.get("activesync.dev/policy").map(String::as_str),
        Some("require-run-as-non-root")
    );
    assert_eq!(
        task.labels
            .get("activesync.dev/resource-name")
            .map(String::as_str),
        Some("payments-api")
    );
    assert_eq!(
        task.annotations().get(FIRST_SEEN).map(String::as_str),
        Some("2026-12-03T10:00:00Z")
    );
    assert_eq!(plan.counts.results_open, 1);
    assert_eq!(plan.counts.tasks_open, 1);
}

#[test]
fn applying_the_plan_and_planning_again_writes_nothing() {
    let reports = [kyverno("fail", "m"), trivy()];
    let first = run(&spec(), &reports, &[]);
    let tasks = applied(&[], &first);
    let later = run_with(
        &spec(),
        &reports,
        &tasks,
        &all_readable(),
        &Owners::default(),
        now() + jiff::SignedDuration::from_hours(5),
    );
    assert_eq!(later.applies, vec![], "an unchanged resync writes nothing");
    assert_eq!(later.counts.tasks_open, 2);
}

#[test]
fn a_reworded_message_or_a_flip_to_error_updates_the_same_task() {
    let first = run(&spec(), &[kyverno("fail", "old words")], &[]);
    let tasks = applied(&[], &first);
    for (result, message) in [("fail", "new words"), ("error", "old words")] {
        let plan = run(&spec(), &[kyverno(result, message)], &tasks);
        assert_eq!(
            reasons(&plan),
            vec![WriteReason::Update],
            "{result} {message}"
        );
        assert_eq!(plan.applies[0].task.name, tasks[0].name);
        assert_eq!(
            plan.applies[0].task.first_seen,
            first.applies[0].task.first_seen
        );
    }
}

#[test]
fn a_passing_or_vanished_finding_completes_its_task_and_a_new_failure_reopens_it() {
    let first = run(&spec(), &[kyverno("fail", "m")], &[]);
    let tasks = applied(&[], &first);
    for reports in [
        vec![kyverno("pass", "m")],
        vec![kyverno("skip", "m")],
        vec![],
    ] {
        let plan = run(&spec(), &reports, &tasks);
        assert_eq!(reasons(&plan), vec![WriteReason::Complete]);
        let completed = &plan.applies[0].task;
        assert_eq!(completed.spec.state, TaskState::Completed);
        assert_eq!(
            completed.spec.title, tasks[0].spec.title,
            "a completion keeps the task as it was"
        );
        assert_eq!(plan.counts.tasks_completed, 1);
    }
    let done = applied(&tasks, &run(&spec(), &[], &tasks));
    assert_eq!(
        run(&spec(), &[], &done).applies,
        vec![],
        "a completed task stays completed"
    );
    let later = now() + jiff::SignedDuration::from_hours(48);
    let again = run_with(
        &spec(),
        &[kyverno("fail", "m")],
        &done,
        &all_readable(),
        &Owners::default(),
        later,
    );
    assert_eq!(reasons(&again), vec![WriteReason::Reopen]);
    assert_eq!(again.applies[0].task.spec.state, TaskState::Open);
    assert_eq!(
        again.applies[0].task.first_seen,
        Some(later),
        "a re-opened finding counts from now"
    );
}

#[test]
fn warn_is_opt_in_and_results_choose_what_opens() {
    assert_eq!(run(&spec(), &[kyverno("warn", "m")], &[]).applies, vec![]);
    let mut with_warn = spec();
    with_warn.results.push(ResultKind::Warn);
    assert_eq!(
        reasons(&run(&with_warn, &[kyverno("warn", "m")], &[])),
        vec![WriteReason::Create]
    );
    let mut fail_only = spec();
    fail_only.results = vec![ResultKind::Fail];
    assert_eq!(
        run(&fail_only, &[kyverno("error", "m")], &[]).applies,
        vec![]
    );
}

#[test]
fn the_filter_takes_sources_policies_categories_and_severities() {
    let reports = [kyverno("fail", "m"), trivy()];
    let only = |filter: Value| {
        let mut spec = spec();
        spec.filter = serde_json::from_value(filter).expect("a filter");
        run(&spec, &reports, &[])
            .applies
            .iter()
            .map(|a| a.task.spec.check.clone())
            .collect::<Vec<_>>()
    };
    let kyverno_check = "kyverno-require-run-as-non-root".to_owned();
    let trivy_check = "trivy-vulnerability-cve-2026-1234".to_owned();
    assert_eq!(
        only(json!({"sources": ["kyverno"]})),
        vec![kyverno_check.clone()]
    );
    assert_eq!(
        only(json!({"policies": ["CVE-2026-1234"]})),
        vec![trivy_check.clone()]
    );
    assert_eq!(
        only(json!({"categories": ["Vulnerability Scan"]})),
        vec![trivy_check.clone()]
    );
    assert_eq!(only(json!({"severities": ["critical"]})), vec![trivy_check]);
    assert_eq!(only(json!({"severities": ["low"]})), Vec::<String>::new());
    assert_eq!(
        only(json!({"sources": ["kyverno"], "severities": ["critical"]})),
        Vec::<String>::new()
    );
}

#[test]
fn a_finding_the_filter_drops_completes_its_task() {
    let tasks = applied(&[], &run(&spec(), &[kyverno("fail", "m")], &[]));
    let mut narrowed = spec();
    narrowed.filter.sources = vec!["falco".to_owned()];
    assert_eq!(
        reasons(&run(&narrowed, &[kyverno("fail", "m")], &tasks)),
        vec![WriteReason::Complete]
    );
}

#[test]
fn a_vulnerability_says_how_to_fix_from_its_fixed_version_and_link() {
    let plan = run(&spec(), &[trivy()], &[]);
    let task = &plan.applies[0].task;
    assert_eq!(
        task.spec.how_to_fix.as_deref(),
        Some(
            "Upgrade openssl from 3.0.1 to 3.0.9 or later. See https://avd.aquasec.com/nvd/cve-2026-1234"
        )
    );
    assert_eq!(task.spec.severity, Some(Severity::Critical));
    assert_eq!(
        task.spec.title, "CVE-2026-1234 on ReplicaSet payments/payments-api-7d9",
        "the report's scope is the resource"
    );
}

#[test]
fn how_to_fix_prefers_the_override_then_the_remediation() {
    let mut body = json!({"results": [{"policy": "p", "result": "fail",
        "properties": {"remediation": "do the thing", "fixedVersion": "2"}}]});
    let remediated = run(
        &spec(),
        &[report(ReportKind::Report, "r", body.clone())],
        &[],
    );
    assert_eq!(
        remediated.applies[0].task.spec.how_to_fix.as_deref(),
        Some("do the thing")
    );
    let mut with_override = spec();
    with_override
        .how_to_fix
        .insert("p".to_owned(), "Set runAsNonRoot".to_owned());
    let overridden = run(
        &with_override,
        &[report(ReportKind::Report, "r", body.clone())],
        &[],
    );
    assert_eq!(
        overridden.applies[0].task.spec.how_to_fix.as_deref(),
        Some("Set runAsNonRoot")
    );
    body["results"][0]["properties"] = json!({});
    let none = run(&spec(), &[report(ReportKind::Report, "r", body)], &[]);
    assert_eq!(none.applies[0].task.spec.how_to_fix, None);
}

#[test]
fn the_identity_is_the_result_id_when_there_is_one_and_never_the_message() {
    let mut changed = trivy();
    changed.body.results[0].policy = "CVE-2026-9999".to_owned();
    changed.body.results[0].message = Some("other".to_owned());
    let a = findings(&trivy())[0].identity.clone();
    assert_eq!(a, "5f1e9c");
    assert_eq!(findings(&changed)[0].identity, a);
    let k1 = findings(&kyverno("fail", "one"))[0].identity.clone();
    let k2 = findings(&kyverno("error", "two"))[0].identity.clone();
    assert_eq!(k1, k2);
    let mut other_resource = kyverno("fail", "one");
    other_resource.body.results[0].resources[0].uid = Some("uid-2".to_owned());
    assert_ne!(findings(&other_resource)[0].identity, k1);
}

#[test]
fn a_result_naming_several_resources_is_one_task_per_resource() {
    let body = json!({"results": [{"source": "kyverno", "policy": "p", "result": "fail",
        "resources": [{"kind": "Pod", "name": "a", "uid": "1"}, {"kind": "Pod", "name": "b", "uid": "2"}],
        "properties": {"resultID": "same"}}]});
    let plan = run(&spec(), &[report(ReportKind::PolicyReport, "r", body)], &[]);
    assert_eq!(plan.applies.len(), 2);
    assert_ne!(plan.applies[0].task.name, plan.applies[1].task.name);
}

#[test]
fn a_finding_in_two_reports_is_one_task() {
    let mut copy = kyverno("fail", "m");
    copy.name = "pol-api-copy".to_owned();
    let plan = run(&spec(), &[kyverno("fail", "m"), copy], &[]);
    assert_eq!(plan.applies.len(), 1);
    assert_eq!(plan.counts.reports, 2);
    assert_eq!(plan.counts.results, 2);
    assert_eq!(plan.counts.results_open, 1);
}

#[test]
fn reports_of_unread_kinds_leave_their_tasks_alone_and_unnamed_kinds_complete_them() {
    let tasks = applied(&[], &run(&spec(), &[kyverno("fail", "m")], &[]));
    let only_reports: BTreeSet<ReportKind> = [ReportKind::Report].into();
    let plan = run_with(
        &spec(),
        &[],
        &tasks,
        &only_reports,
        &Owners::default(),
        now(),
    );
    assert_eq!(
        plan.applies,
        vec![],
        "the PolicyReport CRD is absent: nothing is known"
    );
    let mut reports_only = spec();
    reports_only.reports = vec![ReportKind::Report];
    let plan = run_with(
        &reports_only,
        &[kyverno("fail", "m")],
        &tasks,
        &all_readable(),
        &Owners::default(),
        now(),
    );
    assert_eq!(
        reasons(&plan),
        vec![WriteReason::Complete],
        "PolicyReports are no longer read"
    );
}

#[test]
fn cluster_reports_count_only_when_named_and_other_namespaces_never() {
    let body = json!({"results": [{"policy": "audit", "result": "fail", "source": "falco"}]});
    let cluster = report(ReportKind::ClusterReport, "audit", body.clone());
    assert_eq!(
        run(&spec(), std::slice::from_ref(&cluster), &[]).applies,
        vec![]
    );
    let mut with_cluster = spec();
    with_cluster.reports.push(ReportKind::ClusterReport);
    assert_eq!(run(&with_cluster, &[cluster], &[]).applies.len(), 1);
    let mut elsewhere = report(ReportKind::Report, "r", body);
    elsewhere.namespace = Some("other".to_owned());
    assert_eq!(run(&spec(), &[elsewhere], &[]).applies, vec![]);
}

#[test]
fn the_assignee_is_the_resource_annotation_then_the_namespace_then_the_default() {
    let mut spec = spec();
    spec.assignee = Some(AssigneeRule {
        from_annotation: Some("activesync.dev/owner".to_owned()),
        map: [(
            "payments-team".to_owned(),
            "payments@example.com".to_owned(),
        )]
        .into(),
        default: Some("secops@example.com".to_owned()),
    });
    let key = ResourceKey {
        api_version: "apps/v1".to_owned(),
        kind: "Deployment".to_owned(),
        namespace: NS.to_owned(),
        name: "payments-api".to_owned(),
    };
    let assignee = |owners: Owners| {
        let plan = run_with(
            &spec,
            &[kyverno("fail", "m")],
            &[],
            &all_readable(),
            &owners,
            now(),
        );
        plan.applies[0].task.spec.assignee.clone()
    };
    let on_resource = Owners {
        resources: [(key.clone(), "alice@example.com".to_owned())].into(),
        namespaces: [(NS.to_owned(), "bob@example.com".to_owned())].into(),
    };
    assert_eq!(assignee(on_resource).as_deref(), Some("alice@example.com"));
    let mapped = Owners {
        resources: [(key.clone(), "payments-team".to_owned())].into(),
        ..Owners::default()
    };
    assert_eq!(assignee(mapped).as_deref(), Some("payments@example.com"));
    let unknown_then_namespace = Owners {
        resources: [(key, "nobody".to_owned())].into(),
        namespaces: [(NS.to_owned(), "bob@example.com".to_owned())].into(),
    };
    assert_eq!(
        assignee(unknown_then_namespace).as_deref(),
        Some("bob@example.com")
    );
    assert_eq!(
        assignee(Owners::default()).as_deref(),
        Some("secops@example.com")
    );
}

#[test]
fn due_dates_count_days_per_severity_from_first_seen() {
    let mut spec = spec();
    spec.due_days = Some(DueDays {
        critical: Some(7),
        high: Some(30),
        ..DueDays::default()
    });
    let plan = run(&spec, &[kyverno("fail", "m"), trivy()], &[]);
    let due: BTreeMap<String, Option<String>> = plan
        .applies
        .iter()
        .map(|a| {
            (
                a.task.spec.check.clone(),
                a.task.spec.due_date.map(|d| d.to_string()),
            )
        })
        .collect();
    assert_eq!(
        due["kyverno-require-run-as-non-root"].as_deref(),
        Some("2027-01-02")
    );
    assert_eq!(
        due["trivy-vulnerability-cve-2026-1234"].as_deref(),
        Some("2026-12-10")
    );
    let tasks = applied(&[], &plan);
    let later = run_with(
        &spec,
        &[kyverno("fail", "m"), trivy()],
        &tasks,
        &all_readable(),
        &Owners::default(),
        now() + jiff::SignedDuration::from_hours(24 * 40),
    );
    assert_eq!(
        later.applies,
        vec![],
        "a due date does not move while the finding lasts"
    );
}

#[test]
fn info_findings_have_no_task_severity() {
    let body = json!({"results": [{"policy": "p", "result": "fail", "severity": "info"}]});
    let plan = run(&spec(), &[report(ReportKind::Report, "r", body)], &[]);
    assert_eq!(plan.applies[0].task.spec.severity, None);
    assert_eq!(
        plan.applies[0]
            .task
            .labels
            .get("activesync.dev/severity")
            .map(String::as_str),
        Some("info")
    );
}

#[test]
fn deleting_a_source_completes_and_releases_its_tasks_or_deletes_them_all() {
    let first = run(&spec(), &[kyverno("fail", "m"), trivy()], &[]);
    let mut tasks = applied(&[], &first);
    tasks[0].spec.state = TaskState::Completed;
    let complete = deletion(TaskDeletionPolicy::Complete, &tasks);
    assert_eq!(
        complete.completions.len(),
        2,
        "every task is released, the open one completed"
    );
    assert!(
        complete
            .completions
            .iter()
            .all(|c| c.task.spec.state == TaskState::Completed)
    );
    assert_eq!(complete.completions[0].task.spec.title, tasks[0].spec.title);
    assert!(complete.deletions.is_empty());
    let delete = deletion(TaskDeletionPolicy::Delete, &tasks);
    assert!(delete.completions.is_empty());
    assert_eq!(delete.deletions.len(), 2);
}

/// A sample of `../shared/policy-reports/`, one report per YAML document. The samples are
/// OpenReports (`openreports.io/v1alpha1`) even where their kind says `PolicyReport` or
/// `ClusterPolicyReport`, the names of the older format: they are read as Report and ClusterReport.
fn sample(file: &str) -> Vec<Report> {
    let path = format!(
        "{}/../shared/policy-reports/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let value: Value = serde::Deserialize::deserialize(document).expect("YAML");
            let kind = match value["kind"].as_str() {
                Some("ClusterPolicyReport" | "ClusterReport") => ReportKind::ClusterReport,
                _ => ReportKind::Report,
            };
            let labels: BTreeMap<String, String> =
                serde_json::from_value(value["metadata"]["labels"].clone()).unwrap_or_default();
            let name = value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let namespace = (!kind.cluster_scoped()).then(|| NS.to_owned());
            Report::from_json(kind, namespace, name, &labels, value).expect("a sample report")
        })
        .collect()
}

#[test]
fn the_kube_bench_sample_opens_its_failure_and_warnings_on_request() {
    let reports = sample("sample-cis-k8s.yaml");
    let plan = run(&spec(), &reports, &[]);
    assert_eq!(plan.applies.len(), 1);
    let task = &plan.applies[0].task;
    assert_eq!(
        task.spec.check,
        "kube-bench-adapter-api-server-basic-auth-file"
    );
    assert_eq!(task.spec.title, "api-server:basic-auth-file");
    assert!(
        task.spec
            .instructions
            .as_deref()
            .unwrap_or_default()
            .contains("- Category: API Server")
    );
    assert_eq!(plan.counts.results, 3);
    let mut with_warn = spec();
    with_warn.results.push(ResultKind::Warn);
    let warned = run(&with_warn, &reports, &[]);
    assert_eq!(
        warned.applies.len(),
        3,
        "the three results are about one report but are three findings"
    );
}

#[test]
fn the_falco_sample_takes_its_engine_and_severity_from_label_and_properties() {
    let reports = sample("sample-falco-policy.yaml");
    let mut spec = spec();
    spec.reports.push(ReportKind::ClusterReport);
    let plan = run(&spec, &reports, &[]);
    assert_eq!(plan.applies.len(), 2);
    let checks: BTreeSet<&str> = plan
        .applies
        .iter()
        .map(|a| a.task.spec.check.as_str())
        .collect();
    assert_eq!(
        checks,
        ["falco-agent-audit", "falco-agent-change-thread-namespace"].into()
    );
    let severities: BTreeSet<Option<Severity>> =
        plan.applies.iter().map(|a| a.task.spec.severity).collect();
    assert_eq!(
        severities,
        [Some(Severity::Low), Some(Severity::Medium)].into()
    );
    let mut high_only = spec.clone();
    high_only.filter.severities = vec![FindingSeverity::High];
    assert_eq!(run(&high_only, &reports, &[]).applies, vec![]);
}

#[test]
fn the_kyverno_sample_passes_and_so_opens_nothing() {
    let reports = sample("sample-v1beta2-kyverno.yaml");
    let plan = run(&spec(), &reports, &[]);
    assert_eq!(plan.applies, vec![]);
    assert_eq!(plan.counts.results, 1);
    assert_eq!(plan.counts.results_open, 0);
}

#[test]
fn every_sample_task_is_valid_for_the_task_schema() {
    let mut spec = spec();
    spec.results.push(ResultKind::Warn);
    spec.reports.push(ReportKind::ClusterReport);
    let reports: Vec<Report> = [
        "sample-cis-k8s.yaml",
        "sample-falco-policy.yaml",
        "sample-v1beta2-kyverno.yaml",
    ]
    .into_iter()
    .flat_map(sample)
    .collect();
    let plan = run(&spec, &reports, &[]);
    assert_eq!(plan.applies.len(), 5);
    for apply in &plan.applies {
        let task = &apply.task;
        assert!(
            task.name.len() <= 63
                && task
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}",
            task.name
        );
        assert!(
            task.spec.check.len() <= 127
                && task
                    .spec
                    .check
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
            "{}",
            task.spec.check
        );
        assert!(!task.spec.title.trim().is_empty() && task.spec.title.len() <= 255);
        for (key, value) in &task.labels {
            assert!(
                value.len() <= 63
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                "{key}={value}"
            );
        }
    }
}
