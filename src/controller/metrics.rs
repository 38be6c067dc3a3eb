//! Prometheus metrics, served at `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A reconcile's kind and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `JiraActiveSync` or `JiraConnection`.
    pub kind: &'static str,
    /// `ok` or the error reason.
    pub outcome: String,
}

/// A reconcile's kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// `JiraActiveSync` or `JiraConnection`.
    pub kind: &'static str,
}

/// One action on Jira or on a task.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// e.g. `create`, `update`, `close`, `reopen`, `delete`, `task_status`.
    pub action: &'static str,
    /// `ok` or the error reason.
    pub outcome: String,
}

/// One webhook delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// `accepted`, `duplicate`, `bad_signature`, `bad_request`, `unknown_connection`, and on a
    /// standby `relayed` (sent on to the leader) or `relay_failed` (answered 503).
    pub outcome: &'static str,
}

/// Credentials a connection's Jira (or token endpoint) refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthFailureLabels {
    /// The connection's namespace.
    pub namespace: String,
    /// The connection's name.
    pub connection: String,
    /// `AuthenticationFailed` (401: expired, revoked, wrong) or `Forbidden` (403: scope or permission).
    pub reason: &'static str,
}

/// One sync.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabels {
    /// The sync's namespace.
    pub namespace: String,
    /// The sync's name.
    pub sync: String,
}

/// Every metric of the operator.
pub struct Metrics {
    registry: Registry,
    /// Reconciles by kind and outcome.
    pub reconciles: Family<ReconcileLabels, Counter>,
    /// Reconcile durations by kind.
    pub reconcile_seconds: Family<KindLabels, Histogram>,
    /// Actions by kind and outcome.
    pub actions: Family<ActionLabels, Counter>,
    /// Webhook deliveries by outcome.
    pub webhooks: Family<WebhookLabels, Counter>,
    /// Refused credentials by connection and reason.
    pub authentication_failures: Family<AuthFailureLabels, Counter>,
    /// 1 while a sync's Ready condition is True, else 0 (what the not-ready alert watches).
    pub sync_ready: Family<SyncLabels, Gauge>,
    /// 1 while a sync's deletion policy cannot finish (its finalizer stays), else 0.
    pub deletion_blocked: Family<SyncLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("jira_active_sync");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and outcome",
            reconciles.clone(),
        );
        let reconcile_seconds = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        registry.register(
            "reconcile_duration_seconds",
            "How long reconciles take",
            reconcile_seconds.clone(),
        );
        let actions = Family::<ActionLabels, Counter>::default();
        registry.register(
            "actions",
            "Actions on Jira tickets and task statuses, by action and outcome",
            actions.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Jira webhook deliveries by outcome",
            webhooks.clone(),
        );
        let authentication_failures = Family::<AuthFailureLabels, Counter>::default();
        registry.register(
            "authentication_failures",
            "Credentials Jira or its token endpoint refused (expired, revoked, wrong or under-scoped), by connection and reason",
            authentication_failures.clone(),
        );
        let sync_ready = Family::<SyncLabels, Gauge>::default();
        registry.register(
            "sync_ready",
            "1 while the sync's Ready condition is True, else 0",
            sync_ready.clone(),
        );
        let deletion_blocked = Family::<SyncLabels, Gauge>::default();
        registry.register(
            "sync_deletion_blocked",
            "1 while the sync's deletion policy cannot finish and its finalizer stays, else 0",
            deletion_blocked.clone(),
        );
        Metrics {
            registry,
            sync_ready,
            deletion_blocked,
            reconciles,
            reconcile_seconds,
            actions,
            webhooks,
            authentication_failures,
        }
    }
}

/// Times one reconcile and counts it by outcome; recorded when dropped, so every exit counts.
pub struct ReconcileTimer {
    metrics: Arc<Metrics>,
    kind: &'static str,
    started: Instant,
    outcome: String,
}

impl ReconcileTimer {
    /// The outcome to count: `ok`, or the failure's reason.
    pub fn outcome(&mut self, outcome: &str) {
        outcome.clone_into(&mut self.outcome);
    }
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        let outcome = std::mem::take(&mut self.outcome);
        self.metrics
            .reconciles
            .get_or_create(&ReconcileLabels {
                kind: self.kind,
                outcome,
            })
            .inc();
        self.metrics
            .reconcile_seconds
            .get_or_create(&KindLabels { kind: self.kind })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// Starts timing a reconcile of `kind`; counted as `error` unless told otherwise.
    pub fn reconcile_timer(self: &Arc<Self>, kind: &'static str) -> ReconcileTimer {
        ReconcileTimer {
            metrics: self.clone(),
            kind,
            started: Instant::now(),
            outcome: "error".to_owned(),
        }
    }

    /// Counts one action.
    pub fn action(&self, action: &'static str, outcome: &str) {
        self.actions
            .get_or_create(&ActionLabels {
                action,
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Shows whether a sync is Ready and whether its deletion is blocked.
    pub fn sync_state(&self, namespace: &str, sync: &str, ready: bool, deletion_blocked: bool) {
        let labels = SyncLabels {
            namespace: namespace.to_owned(),
            sync: sync.to_owned(),
        };
        self.sync_ready.get_or_create(&labels).set(i64::from(ready));
        self.deletion_blocked
            .get_or_create(&labels)
            .set(i64::from(deletion_blocked));
    }

    /// Forgets a sync that is gone.
    pub fn forget_sync(&self, namespace: &str, sync: &str) {
        let labels = SyncLabels {
            namespace: namespace.to_owned(),
            sync: sync.to_owned(),
        };
        self.sync_ready.remove(&labels);
        self.deletion_blocked.remove(&labels);
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart's Grafana dashboard and alerts.
    const DASHBOARD: &str =
        include_str!("../../charts/jira-active-sync/dashboards/jira-active-sync.json");
    const ALERTS: &str =
        include_str!("../../charts/jira-active-sync/templates/prometheusrule.yaml");

    /// Every `jira_active_sync_*` name in `text`.
    fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        let mut rest = text;
        while let Some(at) = rest.find("jira_active_sync_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            names.insert(tail[..end].to_owned());
            rest = &tail[end..];
        }
        names
    }

    #[test]
    fn the_dashboard_and_alerts_query_only_metrics_the_operator_serves() {
        let metrics = Metrics::default();
        metrics.action("create", "ok");
        metrics.sync_state("ns", "a", true, false);
        metrics
            .reconcile_seconds
            .get_or_create(&KindLabels {
                kind: "JiraActiveSync",
            })
            .observe(0.1);
        metrics
            .reconciles
            .get_or_create(&ReconcileLabels {
                kind: "JiraActiveSync",
                outcome: "ok".into(),
            })
            .inc();
        metrics
            .webhooks
            .get_or_create(&WebhookLabels {
                outcome: "accepted",
            })
            .inc();
        let labels = AuthFailureLabels {
            namespace: "ns".into(),
            connection: "c".into(),
            reason: "Forbidden",
        };
        metrics.authentication_failures.get_or_create(&labels).inc();
        let served = metric_names(&metrics.encode());
        let queried: Vec<String> = metric_names(DASHBOARD)
            .into_iter()
            .chain(metric_names(ALERTS))
            .collect();
        assert!(queried.len() >= 7, "{queried:?}");
        let unknown: Vec<&String> = queried
            .iter()
            .filter(|name| !served.contains(*name))
            .collect();
        assert!(
            unknown.is_empty(),
            "not served: {unknown:?} (served: {served:?})"
        );
    }

    #[test]
    fn counted_actions_show_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.action("create", "ok");
        metrics.action("create", "ok");
        metrics.sync_state("ns", "a", false, true);
        metrics.sync_state("ns", "b", true, false);
        metrics.forget_sync("ns", "b");
        let text = metrics.encode();
        assert!(
            text.contains(r#"jira_active_sync_sync_ready{namespace="ns",sync="a"} 0"#)
                && text.contains(
                    r#"jira_active_sync_sync_deletion_blocked{namespace="ns",sync="a"} 1"#
                )
                && !text.contains(r#"sync="b""#),
            "{text}"
        );
        assert!(
            text.contains(r#"jira_active_sync_actions_total{action="create",outcome="ok"} 2"#),
            "{text}"
        );
    }
}
