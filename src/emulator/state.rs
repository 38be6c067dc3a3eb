//! The state every request handler shares: the site, runtime settings, faults and the request log.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::config::RuntimeSettings;
use super::faults::Faults;
use super::request_log::RequestLog;
use super::seed::Seed;
use super::store::{IssueEvent, Store};

/// Shared state of one emulator.
#[derive(Debug)]
pub struct AppState {
    /// Base URL clients reach the emulator at.
    pub base_url: String,
    store: RwLock<Store>,
    settings: RwLock<RuntimeSettings>,
    seed: Mutex<Seed>,
    faults: Mutex<Faults>,
    log: Mutex<RequestLog>,
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

impl AppState {
    /// State for a fresh emulator.
    pub fn new(base_url: String, store: Store, settings: RuntimeSettings, seed: Seed) -> Self {
        Self {
            base_url,
            store: RwLock::new(store),
            settings: RwLock::new(settings),
            seed: Mutex::new(seed),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(RequestLog::default()),
        }
    }

    /// Reads the site.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        read(&self.store)
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

    /// Announces issue changes (logged; delivered to webhooks).
    pub fn publish(&self, events: Vec<IssueEvent>) {
        for event in events {
            tracing::info!(
                event = event.kind.webhook_event(),
                issue = %event.issue.key,
                user = %event.user,
                "issue event"
            );
        }
    }

    /// The request log.
    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        lock(&self.log)
    }
}
