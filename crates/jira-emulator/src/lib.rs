//! The Jira emulator: an in-memory Jira that speaks Cloud REST v3 and Data Center REST v2, for tests
//! and for trying sync definitions safely. See `docs/emulator.md`.

mod adf;
mod admin;
mod auth;
mod config;
mod credentials;
mod error;
mod events;
mod faults;
mod fields;
mod gateway;
mod issue_fields;
pub mod jql;
mod middleware;
mod model;
pub mod rate_limit;
mod render;
mod request_log;
mod routes;
mod scopes;
mod search_index;
mod seed;
mod server;
mod state;
mod store;
mod tls;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{EmulatorConfig, Flavor, RuntimeSettings};
pub use faults::{FaultAction, FaultRule};
pub use seed::{
    BUILTIN, Category, Seed, SeedError, SeedIssue, SeedIssueType, SeedPermissions, SeedProject,
    SeedScreenField, SeedStatus, SeedTransition, SeedUser, SeedWorkflow,
};
pub use tls::TlsError;

use rate_limit::{RateLimitConfig, RateLimiter};
use state::{AppState, Shared};
use store::Store;
use tls::TlsIdentity;
use webhooks::WebhookDeliverer;

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The seed is unusable.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// The HTTPS certificates could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The HTTP client for webhook deliveries could not be built.
    #[error("cannot build the webhook delivery client: {0}")]
    Webhooks(#[from] reqwest::Error),
}

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Binds `listen` (port 0 picks a free one) and serves the emulator until the handle is dropped
    /// or shut down.
    pub async fn start(
        listen: SocketAddr,
        config: EmulatorConfig,
    ) -> Result<EmulatorHandle, EmulatorError> {
        let store = Store::from_seed(&config.seed, Timestamp::now())?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: listen,
                source,
            })?;
        let tls = if config.tls {
            Some(TlsIdentity::generate(addr.ip(), &config.tls_names)?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let settings = RuntimeSettings {
            flavor: config.flavor,
            rate_limits: config.rate_limits,
            search_lag: Duration::ZERO,
            latency: Duration::ZERO,
        };
        let rate_limiter = RateLimiter::new(RateLimitConfig {
            enabled: config.rate_limits,
            ..RateLimitConfig::default()
        });
        let deliverer = WebhookDeliverer::new(config.webhook_retry.clone())?;
        let state: Shared = Arc::new(AppState::new(
            base_url.clone(),
            store,
            settings,
            config.seed,
            rate_limiter,
            deliverer,
        ));
        let app = app(state);
        let (shutdown, signal) = oneshot::channel();
        let acceptor = tls.as_ref().map(|identity| identity.acceptor.clone());
        let task = tokio::spawn(server::serve(listener, app, acceptor, signal));
        tracing::info!(%base_url, flavor = ?config.flavor, "jira emulator serving");
        Ok(EmulatorHandle {
            base_url,
            addr,
            ca_pem: tls.map(|identity| identity.ca_pem),
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

fn app(state: Shared) -> Router {
    routes::router()
        .merge(admin::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}

/// A running emulator; it stops when dropped.
#[derive(Debug)]
pub struct EmulatorHandle {
    base_url: String,
    addr: SocketAddr,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// Where clients reach it, e.g. `http://127.0.0.1:41234` (`https://` when serving TLS; no
    /// trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The PEM certificate of the CA that signed its server certificate, when serving TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits until the server loop has ended.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The loop may already have ended; nothing to tell it then.
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "emulator server task failed");
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
