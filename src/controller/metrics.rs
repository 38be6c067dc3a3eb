//! Prometheus metrics, served at `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
        Metrics {
            registry,
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

    #[test]
    fn counted_actions_show_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.action("create", "ok");
        metrics.action("create", "ok");
        let text = metrics.encode();
        assert!(
            text.contains(r#"jira_active_sync_actions_total{action="create",outcome="ok"} 2"#),
            "{text}"
        );
    }
}
