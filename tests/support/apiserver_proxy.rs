//! A fault-injecting proxy in front of the real kube-apiserver of the test cluster. The operator
//! gets a kubeconfig pointing at the proxy (plain HTTP on loopback); the proxy forwards every request
//! through a `kube::Client` built from the harness's own configuration (its credentials and TLS, or
//! a ServiceAccount token), streaming the answers back, watches included. On command it breaks
//! things the way a real cluster does: every open watch cut mid-stream, watches answered with
//! `410 Expired`, status writes answered with `409 Conflict`, and a fraction of requests refused
//! with 429/500/503 and `Retry-After`. Refused and conflicting requests never reach the API server,
//! as with the real answers they imitate.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use futures::{Stream, StreamExt};
use http::{HeaderValue, StatusCode, header};
use kube::config::AuthInfo;
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::cluster::cluster;

/// Request headers the operator's client sets that matter to the API server (authentication is the
/// proxy's own).
const FORWARDED_REQUEST_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::ACCEPT, header::USER_AGENT];

/// Bodies of requests larger than this are refused (the operator sends small objects).
const MAX_REQUEST_BODY: usize = 16 << 20;

/// What the proxy did, for the figures line of a suite.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Requests received.
    pub requests: u64,
    /// Of those, requests that may write (any method but GET and HEAD).
    pub writes: u64,
    /// Watch requests received (first watches and re-watches alike).
    pub watches: u64,
    /// Watch streams cut while open.
    pub watches_cut: u64,
    /// Watch requests answered with `410 Expired` (forcing a fresh list).
    pub watches_expired: u64,
    /// Status writes answered with `409 Conflict`.
    pub conflicts: u64,
    /// Requests refused with 429.
    pub refused_429: u64,
    /// Requests refused with 500.
    pub refused_500: u64,
    /// Requests refused with 503.
    pub refused_503: u64,
    /// Answers of the API server with 403 Forbidden.
    pub forbidden: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    writes: AtomicU64,
    watches: AtomicU64,
    watches_cut: AtomicU64,
    watches_expired: AtomicU64,
    conflicts: AtomicU64,
    refused_429: AtomicU64,
    refused_500: AtomicU64,
    refused_503: AtomicU64,
    forbidden: AtomicU64,
}

/// The faults armed now.
struct Faults {
    /// Status writes still to answer with 409.
    conflicts_left: AtomicU64,
    /// Watch requests still to answer with 410.
    expiries_left: AtomicU64,
    /// Requests refused, per million.
    refuse_per_million: AtomicU32,
    /// The status codes refusals pick from.
    refuse_codes: Mutex<Vec<u16>>,
    /// Bumped to cut every open watch stream.
    cut: watch::Sender<u64>,
}

struct Shared {
    upstream: kube::Client,
    faults: Faults,
    counters: Counters,
}

/// The proxy, serving until dropped.
pub struct ApiServerProxy {
    /// Kubeconfig for a process that should talk to the cluster through the proxy.
    pub kubeconfig: PathBuf,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    cutter: Mutex<Option<JoinHandle<()>>>,
}

impl ApiServerProxy {
    /// A proxy that acts as the cluster admin.
    pub async fn admin() -> ApiServerProxy {
        ApiServerProxy::start(cluster().await.config("default").await).await
    }

    /// A proxy that authenticates to the API server with `token` only (e.g. a ServiceAccount's),
    /// so the API server enforces that identity's RBAC.
    pub async fn with_token(token: &str) -> ApiServerProxy {
        let mut config = cluster().await.config("default").await;
        config.auth_info = AuthInfo {
            token: Some(token.to_owned().into()),
            ..AuthInfo::default()
        };
        ApiServerProxy::start(config).await
    }

    /// A proxy forwarding through a client of `upstream`, on a free loopback port.
    pub async fn start(upstream: kube::Config) -> ApiServerProxy {
        let upstream = kube::Client::try_from(upstream).expect("client for the API server");
        let shared = Arc::new(Shared {
            upstream,
            faults: Faults {
                conflicts_left: AtomicU64::new(0),
                expiries_left: AtomicU64::new(0),
                refuse_per_million: AtomicU32::new(0),
                refuse_codes: Mutex::new(Vec::new()),
                cut: watch::Sender::new(0),
            },
            counters: Counters::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("proxy serves");
        });
        let kubeconfig =
            std::env::temp_dir().join(format!("jas-apiserver-proxy-{}.kubeconfig", address.port()));
        let config = json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "proxy", "cluster": {"server": format!("http://{address}")}}],
            "users": [{"name": "proxy", "user": {}}],
            "contexts": [{"name": "proxy", "context": {"cluster": "proxy", "user": "proxy"}}],
            "current-context": "proxy"
        });
        std::fs::write(
            &kubeconfig,
            serde_yaml::to_string(&config).expect("kubeconfig YAML"),
        )
        .expect("write the proxy's kubeconfig");
        ApiServerProxy {
            kubeconfig,
            shared,
            server,
            cutter: Mutex::new(None),
        }
    }

    /// Cuts every watch stream open now, mid-stream (the connection ends without the closing chunk,
    /// as when an API server or a load balancer in between goes away).
    pub fn cut_watches(&self) {
        self.shared
            .faults
            .cut
            .send_modify(|generation| *generation += 1);
    }

    /// Cuts every open watch stream every `period`, until `stop_cutting` or drop.
    pub fn cut_watches_every(&self, period: Duration) {
        let shared = self.shared.clone();
        let cutter = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                ticks.tick().await;
                shared.faults.cut.send_modify(|generation| *generation += 1);
            }
        });
        if let Some(previous) = lock(&self.cutter).replace(cutter) {
            previous.abort();
        }
    }

    /// Stops the periodic cuts.
    pub fn stop_cutting(&self) {
        if let Some(cutter) = lock(&self.cutter).take() {
            cutter.abort();
        }
    }

    /// Answers the next `count` PATCH/PUT requests to the status of a ComplianceTask or a
    /// JiraActiveSync with `409 Conflict`.
    pub fn conflict_next_status_writes(&self, count: u64) {
        self.shared
            .faults
            .conflicts_left
            .fetch_add(count, Ordering::SeqCst);
    }

    /// Answers the next `count` watch requests with a `410 Expired` watch event (the resource
    /// version is too old: the watcher must list afresh).
    pub fn expire_next_watches(&self, count: u64) {
        self.shared
            .faults
            .expiries_left
            .fetch_add(count, Ordering::SeqCst);
    }

    /// Refuses `fraction` (0 to 1) of all requests with one of `codes` (429, 500, 503), without
    /// forwarding them; 429 and 503 carry `Retry-After: 1`.
    pub fn refuse(&self, fraction: f64, codes: &[u16]) {
        assert!(
            codes.iter().all(|c| [429, 500, 503].contains(c)),
            "refusals are 429, 500 or 503, not {codes:?}"
        );
        *lock(&self.shared.faults.refuse_codes) = codes.to_vec();
        let per_million = (fraction.clamp(0.0, 1.0) * 1_000_000.0).round() as u32;
        self.shared
            .faults
            .refuse_per_million
            .store(per_million, Ordering::SeqCst);
    }

    /// Disarms every fault (periodic cuts included); what was injected stays counted.
    pub fn clear(&self) {
        self.stop_cutting();
        let faults = &self.shared.faults;
        faults.conflicts_left.store(0, Ordering::SeqCst);
        faults.expiries_left.store(0, Ordering::SeqCst);
        faults.refuse_per_million.store(0, Ordering::SeqCst);
    }

    /// What the proxy saw and injected so far.
    pub fn figures(&self) -> Figures {
        let c = &self.shared.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        Figures {
            requests: get(&c.requests),
            writes: get(&c.writes),
            watches: get(&c.watches),
            watches_cut: get(&c.watches_cut),
            watches_expired: get(&c.watches_expired),
            conflicts: get(&c.conflicts),
            refused_429: get(&c.refused_429),
            refused_500: get(&c.refused_500),
            refused_503: get(&c.refused_503),
            forbidden: get(&c.forbidden),
        }
    }
}

impl Drop for ApiServerProxy {
    fn drop(&mut self) {
        self.stop_cutting();
        self.server.abort();
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes one unit of a fault counter, if any is left.
fn take(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
}

fn is_watch(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair == "watch=true" || pair == "watch=1")
}

/// The resource, group and name of a status write of a ComplianceTask or JiraActiveSync:
/// `/apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/status`.
fn status_write<'a>(method: &http::Method, path: &'a str) -> Option<(&'a str, &'a str, &'a str)> {
    if method != http::Method::PATCH && method != http::Method::PUT {
        return None;
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["apis", group, _, "namespaces", _, resource, name, "status"]
            if ["compliancetasks", "jiraactivesyncs"].contains(resource) =>
        {
            Some((resource, group, name))
        }
        _ => None,
    }
}

/// A Kubernetes `Status` answer.
fn status_response(code: u16, reason: &str, message: String, details: Value) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason,
        "details": details, "code": code
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn refusal(code: u16) -> Response {
    let (reason, message) = match code {
        429 => (
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        503 => (
            "ServiceUnavailable",
            "The server is currently unable to handle the request",
        ),
        _ => (
            "InternalError",
            "Internal error occurred: injected by the test proxy",
        ),
    };
    let details = if code == 500 {
        json!({})
    } else {
        json!({"retryAfterSeconds": 1})
    };
    let mut response = status_response(code, reason, message.to_owned(), details);
    if code != 500 {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Picks a refusal for this request, if the dice say so.
fn refused(faults: &Faults) -> Option<u16> {
    let per_million = faults.refuse_per_million.load(Ordering::SeqCst);
    if per_million == 0 || rand::rng().random_range(0..1_000_000) >= per_million {
        return None;
    }
    let codes = lock(&faults.refuse_codes);
    let index = rand::rng().random_range(0..codes.len().max(1));
    codes.get(index).copied()
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    shared.counters.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
        shared.counters.writes.fetch_add(1, Ordering::SeqCst);
    }
    let watch = is_watch(parts.uri.query().unwrap_or_default());
    if watch {
        shared.counters.watches.fetch_add(1, Ordering::SeqCst);
    }
    if let Some(answer) = injected_answer(&shared, &parts, watch) {
        return answer;
    }
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return status_response(
                413,
                "RequestEntityTooLarge",
                format!("reading the request body: {e}"),
                json!({}),
            );
        }
    };
    pass_on(shared, parts, body, watch).await
}

/// The answer of an armed fault (a refusal, a status-write conflict, an expired watch), which the
/// API server never sees; `None` when no fault takes this request.
fn injected_answer(shared: &Shared, parts: &http::request::Parts, watch: bool) -> Option<Response> {
    let counters = &shared.counters;
    if let Some(code) = refused(&shared.faults) {
        let counter = match code {
            429 => &counters.refused_429,
            503 => &counters.refused_503,
            _ => &counters.refused_500,
        };
        counter.fetch_add(1, Ordering::SeqCst);
        return Some(refusal(code));
    }
    if let Some((resource, group, name)) = status_write(&parts.method, parts.uri.path())
        && take(&shared.faults.conflicts_left)
    {
        counters.conflicts.fetch_add(1, Ordering::SeqCst);
        return Some(status_response(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {resource}.{group} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            json!({"name": name, "group": group, "kind": resource}),
        ));
    }
    if watch && take(&shared.faults.expiries_left) {
        counters.watches_expired.fetch_add(1, Ordering::SeqCst);
        let event = json!({"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "too old resource version: injected by the test proxy",
            "reason": "Expired", "code": 410
        }});
        let mut response = Response::new(Body::from(format!("{event}\n")));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Some(response);
    }
    None
}

/// Sends the request on to the API server and streams its answer back (a watch's cuttable).
async fn pass_on(
    shared: Arc<Shared>,
    parts: http::request::Parts,
    body: Bytes,
    watch: bool,
) -> Response {
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let mut upstream = http::Request::builder()
        .method(parts.method.clone())
        .uri(target);
    for name in FORWARDED_REQUEST_HEADERS {
        if let Some(value) = parts.headers.get(&name) {
            upstream = upstream.header(name, value);
        }
    }
    let upstream = upstream
        .body(kube::client::Body::from(body.to_vec()))
        .expect("a request built from a valid one");
    let answer = match shared.upstream.send(upstream).await {
        Ok(answer) => answer,
        Err(e) => {
            return status_response(
                502,
                "InternalError",
                format!("the test proxy could not reach the API server: {e}"),
                json!({}),
            );
        }
    };
    if answer.status() == StatusCode::FORBIDDEN {
        shared.counters.forbidden.fetch_add(1, Ordering::SeqCst);
    }
    let (answer_parts, answer_body) = answer.into_parts();
    let body = Body::new(answer_body);
    let body = if watch && answer_parts.status.is_success() {
        Body::from_stream(cuttable(body, shared.clone()))
    } else {
        body
    };
    let mut response = Response::new(body);
    *response.status_mut() = answer_parts.status;
    for (name, value) in &answer_parts.headers {
        if name != header::CONTENT_LENGTH
            && name != header::TRANSFER_ENCODING
            && name != header::CONNECTION
        {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// A watch body that ends in an error (an aborted connection) when the cut generation moves on.
fn cuttable(
    body: Body,
    shared: Arc<Shared>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut cut = shared.faults.cut.subscribe();
    cut.mark_unchanged();
    let data = body.into_data_stream();
    futures::stream::unfold(Some((data, cut, shared)), |state| async move {
        let (mut data, mut cut, shared) = state?;
        tokio::select! {
            chunk = data.next() => {
                let chunk = chunk?.map_err(std::io::Error::other);
                Some((chunk, Some((data, cut, shared))))
            }
            Ok(()) = cut.changed() => {
                shared.counters.watches_cut.fetch_add(1, Ordering::SeqCst);
                Some((Err(std::io::Error::other("watch cut by the test proxy")), None))
            }
        }
    })
}
