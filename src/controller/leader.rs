//! Leader election through a `coordination.k8s.io/v1` Lease, so that several replicas of the
//! operator can run at once while only one of them writes to Jira and to status.
//!
//! The Lease bookkeeping (acquire, renew before expiry, take over an expired lease, release) is
//! kube-lease-manager's; this module runs it as a background campaign, publishes "am I the
//! leader" on a watch channel, steps down as soon as a renewal fails, and releases the Lease on
//! graceful shutdown. A follower looks at the Lease again when the expiry it last saw comes, so
//! takeover comes within one lease duration either way; a released Lease spares it the extra
//! pause the crate takes before it clears an expired holder.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// The Lease the operator's replicas compete for, unless configured otherwise.
pub const DEFAULT_LEASE_NAME: &str = "jira-active-sync-leader";
/// How long a Lease stays valid after its last renewal: the longest a crashed leader blocks
/// the others.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// How long before expiry the leader renews: the clock skew between replicas that is tolerated.
pub const DEFAULT_RENEW_MARGIN: Duration = Duration::from_secs(5);
/// Pause before campaigning again after the API server refused or failed a Lease request.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Environment variable with the pod's name (downward API): the holder identity in a cluster.
pub const POD_NAME_ENV: &str = "POD_NAME";
/// Environment variable with the pod's namespace (downward API): where the Lease lives.
pub const POD_NAMESPACE_ENV: &str = "POD_NAMESPACE";
/// Environment variable naming the Lease (the chart sets one per release, so that two releases
/// in one namespace do not compete for the same Lease).
pub const LEASE_NAME_ENV: &str = "JAS_LEASE_NAME";

/// Which Lease to compete for, under which identity, with which timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Namespace of the Lease (the operator's own).
    pub namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// Holder identity of this replica; unique among the replicas (the pod name in a cluster).
    pub identity: String,
    /// Validity of the Lease after each renewal (whole seconds, at least 2).
    pub lease_duration: Duration,
    /// How long before expiry the holder renews (whole seconds, at least 1, below the duration).
    pub renew_margin: Duration,
}

impl LeaseSettings {
    /// Settings for a replica in a cluster: identity from `POD_NAME`, namespace from
    /// `POD_NAMESPACE` (both set by the chart through the downward API) and Lease name from
    /// `JAS_LEASE_NAME`, falling back to a process-unique identity, the client's default
    /// namespace and [`DEFAULT_LEASE_NAME`] when run outside a pod.
    pub fn from_environment(client: &Client) -> Self {
        let identity = non_empty_env(POD_NAME_ENV).unwrap_or_else(process_identity);
        let namespace = non_empty_env(POD_NAMESPACE_ENV)
            .unwrap_or_else(|| client.default_namespace().to_owned());
        Self {
            namespace,
            lease_name: non_empty_env(LEASE_NAME_ENV)
                .unwrap_or_else(|| DEFAULT_LEASE_NAME.to_owned()),
            identity,
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_margin: DEFAULT_RENEW_MARGIN,
        }
    }

    /// Whole seconds of (duration, margin), checked for what the Lease API and a safe renewal need.
    fn seconds(&self) -> Result<(u64, u64), LeaderElectionError> {
        let duration = self.lease_duration.as_secs();
        let margin = self.renew_margin.as_secs();
        let whole =
            self.lease_duration.subsec_nanos() == 0 && self.renew_margin.subsec_nanos() == 0;
        if !whole || margin < 1 || duration <= margin {
            return Err(LeaderElectionError::InvalidTiming {
                lease_duration: self.lease_duration,
                renew_margin: self.renew_margin,
            });
        }
        Ok((duration, margin))
    }
}

/// The renew margin for a lease duration: a third of it (at least 1 s), so that a leader tries
/// to renew twice before its Lease can expire.
pub fn renew_margin(lease_duration: Duration) -> Duration {
    Duration::from_secs((lease_duration.as_secs() / 3).max(1))
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// An identity no other process shares: outside a pod there is no name to borrow.
fn process_identity() -> String {
    format!(
        "jira-active-sync-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// What can go wrong in leader election.
#[derive(Debug, thiserror::Error)]
pub enum LeaderElectionError {
    /// The timing cannot make a safe lease.
    #[error(
        "lease duration {lease_duration:?} and renew margin {renew_margin:?} must be whole seconds, \
         with a margin of at least 1s and a duration longer than the margin"
    )]
    InvalidTiming {
        /// The configured lease duration.
        lease_duration: Duration,
        /// The configured renew margin.
        renew_margin: Duration,
    },
    /// The Lease could not be read or created.
    #[error("cannot set up Lease {namespace}/{lease_name}: {source}")]
    Setup {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        lease_name: String,
        /// What the API server or the lease manager said.
        #[source]
        source: LeaseManagerError,
    },
    /// The Lease could not be released on shutdown; the others take over after it expires.
    #[error("cannot release Lease {namespace}/{lease_name}: {source}")]
    Release {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        lease_name: String,
        /// What the API server or the lease manager said.
        #[source]
        source: LeaseManagerError,
    },
    /// The background campaign panicked or was cancelled.
    #[error(
        "the leader election task for Lease {namespace}/{lease_name} ended abnormally: {source}"
    )]
    Task {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        lease_name: String,
        /// Why the task ended.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// A running campaign for a Lease. Dropping it also stops the campaign and releases the Lease
/// in the background; [`LeaderElection::release`] does so and waits for it.
#[derive(Debug)]
pub struct LeaderElection {
    settings: LeaseSettings,
    is_leader: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    campaign: Option<JoinHandle<Result<(), LeaderElectionError>>>,
}

impl LeaderElection {
    /// Makes sure the Lease exists and starts competing for it in the background.
    pub async fn start(
        client: Client,
        settings: LeaseSettings,
    ) -> Result<Self, LeaderElectionError> {
        let (duration, margin) = settings.seconds()?;
        let manager = LeaseManagerBuilder::new(client, settings.lease_name.clone())
            .with_namespace(settings.namespace.clone())
            .with_identity(settings.identity.clone())
            .with_duration(duration)
            .with_grace(margin)
            .build()
            .await
            .map_err(|source| LeaderElectionError::Setup {
                namespace: settings.namespace.clone(),
                lease_name: settings.lease_name.clone(),
                source,
            })?;
        let (leader_sender, is_leader) = watch::channel(false);
        let (stop, stopped) = oneshot::channel();
        let campaign = tokio::spawn(campaign(manager, settings.clone(), leader_sender, stopped));
        Ok(Self {
            settings,
            is_leader,
            stop: Some(stop),
            campaign: Some(campaign),
        })
    }

    /// "Am I the leader", updated whenever it changes; `false` until the Lease is acquired.
    pub fn is_leader(&self) -> watch::Receiver<bool> {
        self.is_leader.clone()
    }

    /// The holder identity this replica competes under.
    pub fn identity(&self) -> &str {
        &self.settings.identity
    }

    /// Stops competing and releases the Lease if held, so that another replica takes over at
    /// once. Call it on graceful shutdown after the in-flight writes have finished.
    pub async fn release(mut self) -> Result<(), LeaderElectionError> {
        if let Some(stop) = self.stop.take() {
            // The campaign may have ended already; then there is nothing left to stop.
            let _ = stop.send(());
        }
        let Some(campaign) = self.campaign.take() else {
            return Ok(());
        };
        campaign.await.map_err(|source| LeaderElectionError::Task {
            namespace: self.settings.namespace.clone(),
            lease_name: self.settings.lease_name.clone(),
            source,
        })?
    }
}

/// Competes for the Lease until told to stop (or the handle is dropped), then releases it.
async fn campaign(
    manager: LeaseManager,
    settings: LeaseSettings,
    leader: watch::Sender<bool>,
    mut stop: oneshot::Receiver<()>,
) -> Result<(), LeaderElectionError> {
    let lease = format!("{}/{}", settings.namespace, settings.lease_name);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            changed = manager.changed() => match changed {
                Ok(leading) => {
                    info!(lease, identity = settings.identity, leading, "leadership changed");
                    leader.send_replace(leading);
                }
                Err(error) => {
                    // A lease that was not renewed may be taken over once it expires: stepping
                    // down now is the only way to be sure there are never two leaders.
                    if leader.send_replace(false) {
                        warn!(lease, identity = settings.identity, %error, "cannot renew the lease; stepping down");
                    } else {
                        warn!(lease, identity = settings.identity, %error, "cannot acquire the lease");
                    }
                    if let Err(error) = manager.release().await {
                        warn!(lease, %error, "cannot release the lease after a failed renewal");
                    }
                    tokio::select! {
                        _ = &mut stop => break,
                        () = tokio::time::sleep(RETRY_AFTER_FAILURE) => {}
                    }
                }
            },
        }
    }
    leader.send_replace(false);
    manager
        .release()
        .await
        .map_err(|source| LeaderElectionError::Release {
            namespace: settings.namespace.clone(),
            lease_name: settings.lease_name.clone(),
            source,
        })?;
    info!(lease, identity = settings.identity, "released the lease");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(duration: Duration, margin: Duration) -> LeaseSettings {
        LeaseSettings {
            namespace: "ns".into(),
            lease_name: "lease".into(),
            identity: "me".into(),
            lease_duration: duration,
            renew_margin: margin,
        }
    }

    #[test]
    fn timing_must_leave_room_to_renew() {
        let ok = settings(Duration::from_secs(15), Duration::from_secs(5));
        assert_eq!(ok.seconds().unwrap(), (15, 5));
        for (duration, margin) in [
            (Duration::from_secs(5), Duration::from_secs(5)),
            (Duration::from_secs(5), Duration::ZERO),
            (Duration::from_millis(2500), Duration::from_secs(1)),
            (Duration::from_secs(3), Duration::from_millis(1500)),
        ] {
            let error = settings(duration, margin).seconds().unwrap_err();
            assert!(
                matches!(error, LeaderElectionError::InvalidTiming { .. }),
                "{duration:?}/{margin:?} accepted"
            );
        }
    }

    #[test]
    fn the_renew_margin_is_a_third_of_the_lease() {
        assert_eq!(
            renew_margin(Duration::from_secs(15)),
            Duration::from_secs(5)
        );
        assert_eq!(renew_margin(Duration::from_secs(2)), Duration::from_secs(1));
        let three = settings(Duration::from_secs(3), renew_margin(Duration::from_secs(3)));
        assert_eq!(three.seconds().unwrap(), (3, 1));
    }

    #[test]
    fn identities_outside_a_pod_differ_between_processes_and_calls() {
        let first = process_identity();
        assert!(first.starts_with(&format!("jira-active-sync-{}-", std::process::id())));
        assert_ne!(first, process_identity());
    }
}
