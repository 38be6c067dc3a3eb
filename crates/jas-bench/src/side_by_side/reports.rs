//! The PolicyReports both tools read: one per Deployment, as Kyverno writes them, each holding
//! five failing and three passing results; then 10% of the failing results flipped to `pass`.

use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::tasks::CONCURRENCY;

/// Deployments, each with its own report.
pub const RESOURCES: usize = 200;
/// Failing results per report.
const FAILING: usize = 5;
/// Every failing result whose number is a multiple of this passes after the flip (10%).
const FLIP_EVERY: usize = 10;

/// Kyverno policies: (policy, rule, category, severity).
const POLICIES: [(&str, &str, &str, &str); 8] = [
    (
        "require-run-as-non-root",
        "run-as-non-root",
        "Pod Security Standards (Restricted)",
        "high",
    ),
    (
        "disallow-privilege-escalation",
        "privilege-escalation",
        "Pod Security Standards (Restricted)",
        "high",
    ),
    (
        "restrict-seccomp-strict",
        "check-seccomp-strict",
        "Pod Security Standards (Restricted)",
        "high",
    ),
    (
        "disallow-host-path",
        "host-path",
        "Pod Security Standards (Baseline)",
        "high",
    ),
    (
        "disallow-latest-tag",
        "validate-image-tag",
        "Best Practices",
        "medium",
    ),
    (
        "require-requests-limits",
        "validate-resources",
        "Best Practices",
        "medium",
    ),
    (
        "require-pod-probes",
        "validate-probes",
        "Best Practices",
        "medium",
    ),
    (
        "require-labels",
        "check-for-labels",
        "Best Practices",
        "medium",
    ),
];

/// Whether the reports are as first written or after the flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Every failing result fails.
    Initial,
    /// 10% of the failing results pass.
    Flipped,
}

/// Failing results of the initial reports.
pub fn failing_results() -> usize {
    RESOURCES * FAILING
}

/// Results that pass after the flip.
pub fn flipped_results() -> usize {
    (0..failing_results())
        .filter(|n| n.is_multiple_of(FLIP_EVERY))
        .count()
}

/// The `wgpolicyk8s.io/v1alpha2` PolicyReport API.
pub fn api_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("wgpolicyk8s.io", "v1alpha2", "PolicyReport");
    ApiResource::from_gvk_with_plural(&gvk, "policyreports")
}

/// A stable UID for Deployment `i` of `namespace` (Kyverno names each report after its resource's UID).
fn uid(namespace: &str, i: usize) -> String {
    let hash = hex::encode(Sha256::digest(format!("{namespace}/{i}")));
    format!(
        "{}-{}-4{}-8{}-{}",
        &hash[0..8],
        &hash[8..12],
        &hash[12..15],
        &hash[15..18],
        &hash[18..30]
    )
}

/// The report of Deployment `i`, with its results as `phase` has them; `seconds` stamps them.
pub fn report(namespace: &str, i: usize, phase: Phase, seconds: i64) -> Value {
    let uid = uid(namespace, i);
    let resource = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("service-{i:03}"),
                          "namespace": namespace, "uid": uid});
    let results: Vec<Value> = (0..POLICIES.len())
        .map(|k| {
            let (policy, rule, category, severity) = POLICIES[(i + k) % POLICIES.len()];
            let failing = k < FAILING
                && !(phase == Phase::Flipped && (i * FAILING + k).is_multiple_of(FLIP_EVERY));
            let (result, message) = if failing {
                (
                    "fail",
                    format!("validation error: rule {rule} failed for Deployment service-{i:03}."),
                )
            } else {
                ("pass", format!("validation rule '{rule}' passed."))
            };
            json!({"source": "kyverno", "policy": policy, "rule": rule, "category": category,
                   "severity": severity, "result": result, "scored": true, "message": message,
                   "timestamp": {"seconds": seconds, "nanos": 0},
                   "properties": {"process": "background scan"}, "resources": [resource]})
        })
        .collect();
    let fail = results.iter().filter(|r| r["result"] == "fail").count();
    json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
           "metadata": {"name": uid, "namespace": namespace,
                        "labels": {"app.kubernetes.io/managed-by": "kyverno"}},
           "scope": resource,
           "summary": {"pass": results.len() - fail, "fail": fail, "warn": 0, "error": 0, "skip": 0},
           "results": results})
}

/// Writes every report of `namespace` as `phase` has it: creates them (Initial) or replaces their
/// results (Flipped), `CONCURRENCY` requests at once.
pub async fn write(client: &Client, namespace: &str, phase: Phase) -> anyhow::Result<()> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &api_resource());
    let seconds = jiff::Timestamp::now().as_second();
    stream::iter(0..RESOURCES)
        .map(|i| {
            let api = api.clone();
            async move {
                let body = report(namespace, i, phase, seconds);
                let name = body["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match phase {
                    Phase::Initial => {
                        let object: DynamicObject = serde_json::from_value(body)?;
                        api.create(&PostParams::default(), &object).await?;
                    }
                    Phase::Flipped => {
                        let patch = json!({"summary": body["summary"], "results": body["results"]});
                        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                            .await?;
                    }
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<()>()
        .await
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn results(phase: Phase) -> Vec<Value> {
        (0..RESOURCES)
            .flat_map(|i| {
                report("ns", i, phase, 0)["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    fn failing(phase: Phase) -> usize {
        results(phase)
            .iter()
            .filter(|r| r["result"] == "fail")
            .count()
    }

    #[test]
    fn a_thousand_failing_results_then_a_hundred_pass() {
        assert_eq!(failing(Phase::Initial), 1_000);
        assert_eq!(failing_results(), 1_000);
        assert_eq!(flipped_results(), 100);
        assert_eq!(failing(Phase::Flipped), 900);
    }

    #[test]
    fn each_finding_is_one_policy_on_one_resource() {
        let all = results(Phase::Initial);
        let distinct: HashSet<(String, String)> = all
            .iter()
            .map(|r| {
                (
                    r["policy"].to_string(),
                    r["resources"][0]["name"].to_string(),
                )
            })
            .collect();
        assert_eq!(distinct.len(), all.len());
    }

    #[test]
    fn reports_are_named_after_their_resource_and_count_their_results() {
        let report = report("ns", 7, Phase::Initial, 0);
        assert_eq!(report["metadata"]["name"], report["scope"]["uid"]);
        assert_eq!(report["summary"]["fail"], 5);
        assert_eq!(report["summary"]["pass"], 3);
        assert_ne!(uid("ns", 7), uid("other", 7));
    }
}
