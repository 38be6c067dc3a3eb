//! Webhook deliveries that reach a standby replica go on to the leader. Both replicas are Ready (a
//! Deployment whose standby never is would never be available), so the Service may pick either;
//! only the leader's syncs can be woken. The Lease names the leader's Pod, the Pod its address, and
//! the delivery is sent there as it came, marked so that it is relayed at most once.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use tokio::sync::watch;

/// Marks a relayed delivery: its receiver takes it itself, even when it no longer leads.
pub const RELAYED_HEADER: &str = "x-jas-relayed";
/// The headers a delivery carries that the receiver reads.
const FORWARDED_HEADERS: [&str; 3] = [
    "content-type",
    "x-hub-signature",
    "x-atlassian-webhook-identifier",
];
/// Longest wait for the leader's answer (it only verifies and wakes syncs).
const RELAY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a delivery could not be relayed (answered 503, so that the sender retries).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The Lease or the leader's Pod could not be read.
    #[error("cannot find the leader: {0}")]
    Kube(#[from] kube::Error),
    /// No replica holds the Lease, or its Pod has no address yet.
    #[error("no leader to relay the delivery to: {0}")]
    NoLeader(String),
    /// The leader did not answer.
    #[error("the leader did not take the delivery: {0}")]
    Http(#[from] reqwest::Error),
}

/// Relays deliveries from a standby to the leader, within the operator's own namespace.
pub struct Relay {
    client: Client,
    namespace: String,
    lease_name: String,
    leading: watch::Receiver<bool>,
    port: u16,
    http: reqwest::Client,
}

impl Relay {
    /// A relay for the replicas competing for `namespace/lease_name`, all listening on `port`.
    pub fn new(
        client: Client,
        namespace: String,
        lease_name: String,
        leading: watch::Receiver<bool>,
        port: u16,
    ) -> Result<Self, RelayError> {
        let http = reqwest::Client::builder().timeout(RELAY_TIMEOUT).build()?;
        Ok(Self {
            client,
            namespace,
            lease_name,
            leading,
            port,
            http,
        })
    }

    /// Whether this delivery goes on to the leader: this replica does not lead, and the
    /// delivery was not relayed already.
    pub fn should_relay(&self, headers: &HeaderMap) -> bool {
        !*self.leading.borrow() && !headers.contains_key(RELAYED_HEADER)
    }

    /// Sends the delivery to `path` on the leader and gives its answer.
    pub async fn forward(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, String), RelayError> {
        let address = self.leader_address().await?;
        let mut request = self
            .http
            .post(format!("http://{address}:{}{path}", self.port))
            .header(RELAYED_HEADER, "1")
            .body(body);
        for name in FORWARDED_HEADERS {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value.as_bytes());
            }
        }
        let response = request.send().await?;
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        Ok((status, response.text().await?))
    }

    /// The leader Pod's address (IPv6 in brackets, for a URL).
    async fn leader_address(&self) -> Result<String, RelayError> {
        let lease = Api::<Lease>::namespaced(self.client.clone(), &self.namespace)
            .get(&self.lease_name)
            .await?;
        let holder = lease.spec.and_then(|spec| spec.holder_identity);
        let holder = holder.ok_or_else(|| RelayError::NoLeader("the Lease is free".into()))?;
        let pod = Api::<Pod>::namespaced(self.client.clone(), &self.namespace)
            .get(&holder)
            .await?;
        let ip = pod.status.and_then(|status| status.pod_ip);
        let ip = ip.ok_or_else(|| RelayError::NoLeader(format!("Pod {holder} has no IP")))?;
        Ok(if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip
        })
    }
}
