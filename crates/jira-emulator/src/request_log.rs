//! What clients sent: a bounded log of API requests (method, path, query, status, body) and counters per endpoint.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

/// Entries kept; older ones are dropped first.
const CAPACITY: usize = 10_000;

/// One logged request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// Position in the log since the emulator started (or was last cleared).
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path (a gateway request's site path, `/rest/...`).
    pub path: String,
    /// Whether it came through the gateway path form `/ex/jira/{cloudId}/...`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gateway: bool,
    /// Query string, if any.
    pub query: Option<String>,
    /// Status of the response (also when it was dropped).
    pub status: u16,
    /// Whether the response was dropped by a fault (the client saw the connection close).
    pub dropped: bool,
    /// Request body: JSON when it parses, else text; absent when empty.
    pub body: Option<Value>,
    /// When it arrived (RFC 3339).
    pub time: String,
}

/// The log and counters.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    next_seq: u64,
    counters: BTreeMap<String, u64>,
}

impl RequestLog {
    /// Records a request; `endpoint` is `METHOD /route/{template}` for the counters.
    pub fn record(&mut self, endpoint: String, mut request: LoggedRequest) {
        request.seq = self.next_seq;
        self.next_seq += 1;
        *self.counters.entry(endpoint).or_default() += 1;
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(request);
    }

    /// Entries with `seq >= since`.
    pub fn since(&self, since: u64) -> Vec<LoggedRequest> {
        self.entries
            .iter()
            .filter(|e| e.seq >= since)
            .cloned()
            .collect()
    }

    /// Requests per endpoint.
    pub fn counters(&self) -> &BTreeMap<String, u64> {
        &self.counters
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.counters.clear();
    }
}
