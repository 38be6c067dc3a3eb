//! The state every request handler shares: the site, runtime settings, faults and the request log.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jiff::Timestamp;
use serde_json::{Value, json};

use super::config::RuntimeSettings;
use super::credentials::CredentialRegistry;
use super::events;
use super::faults::Faults;
use super::rate_limit::RateLimiter;
use super::request_log::RequestLog;
use super::seed::Seed;
use super::store::{IssueEvent, Store};
use super::webhooks::{DeliveryReport, WebhookDeliverer, WebhookRegistry};

/// Shared state of one emulator.
#[derive(Debug)]
pub struct AppState {
    /// Base URL clients reach the emulator at.
    pub base_url: String,
    /// The site's cloud id, as `/_edge/tenant_info` tells it and gateway paths name it.
    pub cloud_id: String,
    credentials: Mutex<CredentialRegistry>,
    store: RwLock<Store>,
    settings: RwLock<RuntimeSettings>,
    seed: Mutex<Seed>,
    faults: Mutex<Faults>,
    log: Mutex<RequestLog>,
    rate_limiter: Mutex<RateLimiter>,
    webhooks: Mutex<WebhookRegistry>,
    deliverer: WebhookDeliverer,
    deliveries: Mutex<Vec<DeliveryReport>>,
}

/// Handle to the shared state.
pub type Shared = Arc<AppState>;

// A poisoned lock only means a handler panicked mid-request; the data is still the best we have.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A cloud id in Atlassian's form (a UUID).
fn new_cloud_id() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl AppState {
    /// State for a fresh emulator.
    pub fn new(
        base_url: String,
        store: Store,
        settings: RuntimeSettings,
        seed: Seed,
        rate_limiter: RateLimiter,
        deliverer: WebhookDeliverer,
    ) -> Self {
        Self {
            base_url,
            cloud_id: new_cloud_id(),
            credentials: Mutex::new(CredentialRegistry::default()),
            store: RwLock::new(store),
            settings: RwLock::new(settings),
            seed: Mutex::new(seed),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(RequestLog::default()),
            rate_limiter: Mutex::new(rate_limiter),
            webhooks: Mutex::new(WebhookRegistry::default()),
            deliverer,
            deliveries: Mutex::new(Vec::new()),
        }
    }

    /// Reads the site.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        read(&self.store)
    }

    /// The service credentials (OAuth clients, scoped tokens) and their access tokens.
    pub fn credentials(&self) -> MutexGuard<'_, CredentialRegistry> {
        lock(&self.credentials)
    }

    /// Changes the site.
    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        write(&self.store)
    }

    /// Current settings.
    pub fn settings(&self) -> RuntimeSettings {
        read(&self.settings).clone()
    }

    /// Changes the settings.
    pub fn settings_mut(&self) -> RwLockWriteGuard<'_, RuntimeSettings> {
        write(&self.settings)
    }

    /// The seed a reset returns to.
    pub fn seed(&self) -> MutexGuard<'_, Seed> {
        lock(&self.seed)
    }

    /// Injected faults.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Jira Cloud's rate limiter.
    pub fn rate_limiter(&self) -> MutexGuard<'_, RateLimiter> {
        lock(&self.rate_limiter)
    }

    /// The registered admin webhooks.
    pub fn webhooks(&self) -> MutexGuard<'_, WebhookRegistry> {
        lock(&self.webhooks)
    }

    /// Reports of finished webhook deliveries, oldest first.
    pub fn deliveries(&self) -> MutexGuard<'_, Vec<DeliveryReport>> {
        lock(&self.deliveries)
    }

    /// Announces issue changes: logs them and delivers them to the webhooks that want them, in the
    /// background; each delivery's report is kept for `/_emulator/webhooks/deliveries`.
    pub fn publish(self: &Arc<Self>, events: Vec<IssueEvent>) {
        let flavor = self.settings().flavor;
        let now = Timestamp::now();
        let mut batches = Vec::new();
        {
            let store = self.store();
            let registry = self.webhooks();
            for event in &events {
                tracing::info!(
                    event = event.kind.webhook_event(),
                    issue = %event.issue.key,
                    user = %event.user,
                    "issue event"
                );
                if let Some(batch) =
                    events::deliveries(&store, &registry, &self.base_url, flavor, event, now)
                {
                    batches.push(batch);
                }
            }
        }
        for (targets, payload) in batches {
            for task in self.deliverer.dispatch(targets, &payload) {
                let state = Arc::clone(self);
                tokio::spawn(async move {
                    match task.await {
                        Ok(report) => {
                            if !report.delivered {
                                tracing::warn!(webhook = report.webhook_id, identifier = %report.identifier, "webhook delivery failed");
                            }
                            state.deliveries().push(report);
                        }
                        Err(error) => tracing::warn!(%error, "webhook delivery task failed"),
                    }
                });
            }
        }
    }

    /// The delivery reports as JSON.
    pub fn deliveries_json(&self) -> Value {
        let reports: Vec<Value> = self
            .deliveries()
            .iter()
            .map(|r| {
                json!({
                    "webhookId": r.webhook_id,
                    "identifier": r.identifier,
                    "delivered": r.delivered,
                    "attempts": r.attempts.iter().map(|a| match &a.outcome {
                        Ok(status) => json!({"retry": a.retry, "status": status}),
                        Err(error) => json!({"retry": a.retry, "error": error}),
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "deliveries": reports })
    }

    /// The request log.
    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        lock(&self.log)
    }
}
