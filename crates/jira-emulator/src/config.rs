//! How an emulator is set up: which Jira it pretends to be and which of Jira's limits it enforces.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::seed::Seed;
use super::webhooks::RetryPolicy;

/// Which Jira the emulator pretends to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Jira Cloud: REST v3 (ADF) and v2, account ids, `parent` for epics, rate limits.
    #[default]
    Cloud,
    /// Jira Data Center: REST v2 only, user names, the Epic Link custom field.
    Datacenter,
}

/// Which REST API version a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `/rest/api/2`: wiki-markup text.
    V2,
    /// `/rest/api/3`: ADF text.
    V3,
}

impl Api {
    /// The version number in paths.
    pub fn number(self) -> u8 {
        match self {
            Api::V2 => 2,
            Api::V3 => 3,
        }
    }
}

/// Everything an emulator starts with.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// The initial site.
    pub seed: Seed,
    /// Whether Jira Cloud's rate limits are enforced.
    pub rate_limits: bool,
    /// How webhook deliveries are retried.
    pub webhook_retry: RetryPolicy,
    /// Serve HTTPS with a certificate from a CA made at start-up.
    pub tls: bool,
    /// Names the certificate covers besides the loopback ones and the listen address.
    pub tls_names: Vec<String>,
}

/// Settings that the admin API can change while the emulator runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeSettings {
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// Whether Jira Cloud's rate limits are enforced.
    pub rate_limits: bool,
    /// How long changes take to reach search results.
    #[serde(with = "millis", rename = "searchLagMs")]
    pub search_lag: Duration,
    /// Latency added to every API request.
    #[serde(with = "millis", rename = "latencyMs")]
    pub latency: Duration,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
