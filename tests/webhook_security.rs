//! Forged and malformed webhook deliveries over real HTTP: the operator binary's `POST /webhooks/jira`
//! refuses each with the right status and nothing changes (no Jira request, no task status, no
//! ticket), while a valid signed delivery brings Jira's status to the task and a replay of it does not
//! act again.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use jira_active_sync::api::{ComplianceTask, JiraActiveSync};
use jira_active_sync::jira::{StatusCategory, TransitionTarget};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::Mode;
use support::operator::Operator;
use support::{Site, eventually};

/// The connection's admin token; the site's Secret holds `{TOKEN}-hook` as the webhook secret.
const TOKEN: &str = "webhook-token-5e1";
/// How long a delivery that was acted on takes at most to show as Jira requests.
const WINDOW: Duration = Duration::from_secs(3);
/// The largest body the endpoint takes.
const BODY_LIMIT: usize = 1024 * 1024;

fn hook_secret() -> String {
    format!("{TOKEN}-hook")
}

/// `X-Hub-Signature` of `body` under `secret`.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One delivery as sent on the wire.
struct Delivery {
    /// What it tries, for the figures line.
    kind: &'static str,
    content_type: Option<&'static str>,
    signature: Option<String>,
    id: String,
    body: Vec<u8>,
    /// Sent in chunks without a `Content-Length`, so its size shows only while it is read.
    chunked: bool,
}

impl Delivery {
    /// A well-formed delivery, validly signed, of `body`.
    fn signed(kind: &'static str, id: &str, body: Vec<u8>) -> Delivery {
        Delivery {
            kind,
            content_type: Some("application/json"),
            signature: Some(sign(&hook_secret(), &body)),
            id: id.to_owned(),
            body,
            chunked: false,
        }
    }

    /// The same delivery carrying the valid signature of other bytes (a tampered body).
    fn signed_over(self, original: &[u8]) -> Delivery {
        Delivery {
            signature: Some(sign(&hook_secret(), original)),
            ..self
        }
    }

    /// Sends it over HTTP/1.1 and gives the answer. Written by hand rather than with reqwest: the
    /// operator may answer an oversized body (413) and close before the body is written, and the
    /// answer is what the test is after, not the write error that follows it.
    async fn send(&self, operator: SocketAddr) -> (StatusCode, String) {
        self.send_to(operator, "/webhooks/jira").await
    }

    /// Sends it to `path` of the operator's listener.
    async fn send_to(&self, operator: SocketAddr, path: &str) -> (StatusCode, String) {
        let stream = TcpStream::connect(operator).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {operator}\r\nConnection: close\r\n\
             X-Atlassian-Webhook-Identifier: {}\r\n",
            self.id
        );
        if let Some(content_type) = self.content_type {
            head += &format!("Content-Type: {content_type}\r\n");
        }
        if let Some(signature) = &self.signature {
            head += &format!("X-Hub-Signature: {signature}\r\n");
        }
        head += &if self.chunked {
            "Transfer-Encoding: chunked\r\n\r\n".to_owned()
        } else {
            format!("Content-Length: {}\r\n\r\n", self.body.len())
        };
        let (body, chunked) = (self.body.clone(), self.chunked);
        let writing = tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await?;
            if chunked {
                for chunk in body.chunks(64 * 1024) {
                    writer
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    writer.write_all(chunk).await?;
                    writer.write_all(b"\r\n").await?;
                }
                writer.write_all(b"0\r\n\r\n").await?;
            } else {
                writer.write_all(&body).await?;
            }
            // Dropping the write half would half-close the connection before the answer comes.
            std::future::pending::<std::io::Result<()>>().await
        });
        let mut answer = Vec::new();
        // A reset after the answer (the rest of a refused body unread) keeps what was read.
        let _ = reader.read_to_end(&mut answer).await;
        writing.abort();
        let answer = String::from_utf8_lossy(&answer);
        let (head, text) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or_else(|| panic!("{}: no HTTP answer: {answer:?}", self.id));
        (status, text.to_owned())
    }
}

/// An `issue_updated` event about `key` carrying `labels`.
fn event(key: &str, labels: &[String]) -> Vec<u8> {
    json!({"webhookEvent": "jira:issue_updated", "timestamp": 1,
           "issue": {"key": key, "fields": {"labels": labels}}})
    .to_string()
    .into_bytes()
}

/// The same event padded with a filler field to `size` bytes.
fn padded(key: &str, labels: &[String], size: usize) -> Vec<u8> {
    let mut body = json!({"webhookEvent": "jira:issue_updated",
                          "issue": {"key": key, "fields": {"labels": labels}}, "filler": ""})
    .to_string();
    let filler = size.saturating_sub(body.len());
    body.insert_str(body.len() - 2, &"x".repeat(filler));
    body.into_bytes()
}

/// Every forged, malformed or misdirected delivery, with the status it must get.
fn hostile(key: &str, labels: &[String], ns: &str) -> Vec<(Delivery, StatusCode)> {
    let body = event(key, labels);
    let secret = hook_secret();
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let digest = sign(&secret, &body)
        .trim_start_matches("sha256=")
        .to_owned();
    let signed_as = |kind, id: &str, signature: Option<String>| Delivery {
        signature,
        ..Delivery::signed(kind, id, body.clone())
    };
    let typed = |id: &str, content_type| Delivery {
        content_type,
        ..Delivery::signed("wrong_content_type", id, body.clone())
    };
    let unauthorized = [
        signed_as("bad_hmac", "h1", Some(sign("guessed", &body))),
        Delivery::signed("bad_hmac", "h2", tampered).signed_over(&body),
        signed_as("bad_hmac", "h3", Some("sha256=zz".into())),
        signed_as("bad_hmac", "h4", Some("sha256=".into())),
        signed_as("missing_signature", "m1", None),
        signed_as("wrong_algorithm", "a1", Some(format!("sha1={digest}"))),
        signed_as("wrong_algorithm", "a2", Some(format!("sha512={digest}"))),
        signed_as("wrong_algorithm", "a3", Some(digest.clone())),
    ];
    let too_large = [
        Delivery::signed("oversized", "o1", padded(key, labels, BODY_LIMIT + 1)),
        Delivery::signed("oversized", "o2", padded(key, labels, 4 * BODY_LIMIT)),
        Delivery {
            chunked: true,
            ..Delivery::signed("oversized", "o3", padded(key, labels, 2 * BODY_LIMIT))
        },
    ];
    let unsupported = [
        typed("c1", Some("text/plain")),
        typed("c2", Some("application/x-www-form-urlencoded")),
        typed("c3", Some("application/json-seq")),
        typed("c4", None),
    ];
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let bad_request = [
        body[..body.len() / 2].to_vec(),
        b"{}".to_vec(),
        vec![0xff, 0xfe, b'{'],
        deep.into_bytes(),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, bytes)| Delivery::signed("malformed_json", &format!("j{i}"), bytes));
    let ignored = [
        Delivery::signed(
            "unowned_ticket",
            "u1",
            event("SEC-1", &[format!("jas.{ns}.nobody")]),
        ),
        Delivery::signed("unowned_ticket", "u2", event("SEC-99999", &[])),
    ];
    let expect = |status| move |delivery| (delivery, status);
    unauthorized
        .into_iter()
        .map(expect(StatusCode::UNAUTHORIZED))
        .chain(
            too_large
                .into_iter()
                .map(expect(StatusCode::PAYLOAD_TOO_LARGE)),
        )
        .chain(
            unsupported
                .into_iter()
                .map(expect(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
        )
        .chain(bad_request.map(expect(StatusCode::BAD_REQUEST)))
        .chain(ignored.into_iter().map(expect(StatusCode::OK)))
        .collect()
}

/// The Jira status category the task records.
async fn recorded_category(site: &Site, task: &str) -> Option<String> {
    site.ns
        .api::<ComplianceTask>()
        .get(task)
        .await
        .expect("task")
        .status?
        .jira?
        .status_category
}

/// The next sequence number of the emulator's request log.
async fn log_end(site: &Site) -> u64 {
    site.jira
        .requests(0)
        .await
        .last()
        .and_then(|r| r["seq"].as_u64())
        .map_or(0, |seq| seq + 1)
}

/// Waits until the operator has sent no Jira request for [`WINDOW`].
async fn idle(site: &Site) -> u64 {
    eventually("the operator is idle", Duration::from_secs(90), || async {
        let before = log_end(site).await;
        tokio::time::sleep(WINDOW).await;
        (log_end(site).await == before).then_some(before)
    })
    .await
}

/// What the operator asked of Jira since `since`, as `METHOD path` lines.
async fn requests_since(site: &Site, since: u64) -> Vec<String> {
    site.jira
        .requests(since)
        .await
        .iter()
        .map(|r| format!("{} {}", r["method"], r["path"]))
        .collect()
}

/// The operator's `webhook_deliveries` counters by outcome.
async fn counters(operator: &Operator) -> BTreeMap<String, u64> {
    let metrics = operator.get("/metrics").await.expect("metrics");
    metrics
        .lines()
        .filter_map(|line| {
            line.strip_prefix("jira_active_sync_webhook_deliveries_total{outcome=\"")
        })
        .filter_map(|rest| {
            let (outcome, value) = rest.split_once("\"} ")?;
            Some((outcome.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

async fn move_ticket(site: &Site, key: &str, category: StatusCategory) {
    site.jira
        .client(TOKEN)
        .transition(key, &TransitionTarget::Category(category), None, None)
        .await
        .expect("transition in Jira");
}

#[tokio::test]
async fn forged_and_malformed_deliveries_change_nothing_and_a_replay_acts_once() {
    let site = Site::new("webhook-security", TOKEN, json!({})).await;
    let tasks = site.tasks(1, "hook").await;
    let task = tasks[0].as_str();
    // An hour's poll: only a delivery can make the sync read Jira during the test.
    site.individual_sync_every("s", "hook", "1h").await;
    let mut options = site.operator_options("1s");
    options.rust_log =
        "debug,kube=info,tower=info,hyper=info,hyper_util=info,h2=info,reqwest=info,rustls=info";
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
    let operator_addr = operator.listen;
    let labels = vec![format!("jas.{}.s", site.ns.name)];

    let key = eventually(
        "the task's ticket is recorded",
        Duration::from_secs(90),
        || async {
            let t = site.ns.api::<ComplianceTask>().get(task).await.ok()?;
            let jira = t.status?.jira?;
            (jira.status_category.as_deref() == Some("new")).then_some(jira.key?)
        },
    )
    .await;
    // Until the connection's webhook secret is loaded, unsigned deliveries are taken; this probe
    // wakes nothing either way (no labels).
    let probe = Delivery {
        signature: None,
        ..Delivery::signed("probe", "probe", event("SEC-1", &[]))
    };
    eventually(
        "the webhook secret is loaded",
        Duration::from_secs(60),
        || async { (probe.send(operator_addr).await.0 == StatusCode::UNAUTHORIZED).then_some(()) },
    )
    .await;
    idle(&site).await;
    let counted_before = counters(&operator).await;

    // Jira moves on; a delivery that were acted on would bring this to the task.
    move_ticket(&site, &key, StatusCategory::Indeterminate).await;
    let tickets_before = site.all_tickets().await;
    let since = log_end(&site).await;
    let mut tried: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut acted, mut ignored, mut rejected) = (0, 0, 0);
    let mut wrong_answers = Vec::new();
    for (delivery, expected) in hostile(&key, &labels, &site.ns.name) {
        *tried.entry(delivery.kind).or_default() += 1;
        let (status, text) = delivery.send(operator_addr).await;
        if status != expected {
            wrong_answers.push(format!(
                "{} {}: {status} {text}",
                delivery.kind, delivery.id
            ));
        }
        if status.is_success() {
            assert_eq!(text, "0 sync(s) woken", "{}", delivery.id);
            ignored += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(wrong_answers.is_empty(), "{wrong_answers:#?}");
    tokio::time::sleep(WINDOW).await;
    let mut changes = requests_since(&site, since).await;
    if recorded_category(&site, task).await.as_deref() != Some("new") {
        changes.push(format!("task {task} took Jira's new status"));
    }
    let tickets_after = site.all_tickets().await;
    if tickets_after != tickets_before {
        changes.push("tickets changed".to_owned());
    }

    // The control: the same event, validly signed, is acted on.
    let control = Delivery::signed("valid", "control-1", event(&key, &labels));
    *tried.entry(control.kind).or_default() += 1;
    let (status, text) = control.send(operator_addr).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "1 sync(s) woken"));
    acted += 1;
    eventually(
        "the valid delivery brings In Progress to the task",
        Duration::from_secs(30),
        || async {
            (recorded_category(&site, task).await.as_deref() == Some("indeterminate")).then_some(())
        },
    )
    .await;
    // The observation the hostile deliveries are measured by: a delivery that acts shows as Jira
    // requests (the woken sync reading the ticket).
    let reads = requests_since(&site, since).await;
    assert!(!reads.is_empty(), "the woken sync read Jira");

    // The replay: Jira moves again, the same delivery comes a second time and must not act.
    idle(&site).await;
    move_ticket(&site, &key, StatusCategory::New).await;
    let replay_since = log_end(&site).await;
    *tried.entry("replayed").or_default() += 1;
    let (status, text) = control.send(operator_addr).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "duplicate delivery ignored")
    );
    ignored += 1;
    tokio::time::sleep(WINDOW).await;
    changes.extend(requests_since(&site, replay_since).await);
    if recorded_category(&site, task).await.as_deref() != Some("indeterminate") {
        changes.push(format!(
            "the replay brought Jira's new status to task {task}"
        ));
    }
    // A new identifier with the same body is a new delivery: it is acted on.
    let fresh = Delivery::signed("valid", "control-2", event(&key, &labels));
    *tried.entry(fresh.kind).or_default() += 1;
    assert_eq!(fresh.send(operator_addr).await.0, StatusCode::OK);
    acted += 1;
    eventually(
        "a new delivery brings To Do back to the task",
        Duration::from_secs(30),
        || async { (recorded_category(&site, task).await.as_deref() == Some("new")).then_some(()) },
    )
    .await;

    let counted: BTreeMap<String, u64> = counters(&operator)
        .await
        .into_iter()
        .map(|(outcome, n)| {
            let before = counted_before.get(&outcome).copied().unwrap_or(0);
            (outcome, n - before)
        })
        .collect();
    let total: usize = tried.values().sum();
    let kinds: Vec<String> = tried.iter().map(|(k, n)| format!("{k}={n}")).collect();
    println!(
        "webhook_security: deliveries={total} [{}] acted={acted} ignored={ignored} rejected={rejected} \
         metrics={counted:?} changes_found={}",
        kinds.join(" "),
        changes.len()
    );
    assert!(
        changes.is_empty(),
        "hostile deliveries changed things: {changes:#?}"
    );
    let expected: BTreeMap<String, u64> = [
        ("accepted", 4),
        ("bad_request", 8),
        ("bad_signature", 8),
        ("duplicate", 1),
    ]
    .map(|(outcome, n)| (outcome.to_owned(), n))
    .into();
    assert_eq!(
        counted, expected,
        "webhook_deliveries counted during the test"
    );
    operator.kill().await;
}

/// Each connection has its own webhook path, verified with its own secret only: a delivery for
/// tenant A signed with tenant B's secret is refused and changes nothing; signed with A's it
/// brings A's ticket status to A's task; an unknown connection's path answers 404.
#[tokio::test]
async fn a_connections_path_takes_only_its_own_secret() {
    let a = Site::new("hook-tenant-a", "tenant-a-token", json!({})).await;
    let b = Site::new("hook-tenant-b", "tenant-b-token", json!({})).await;
    for site in [&a, &b] {
        site.task("t1", "tenant", None).await;
        // An hour's poll: only a delivery can make the sync read Jira during the test.
        site.individual_sync_every("s", "tenant", "1h").await;
    }
    let mut options = a.operator_options("1s");
    options.also_watch = vec![b.ns.name.clone()];
    let operator = Operator::start(Mode::Process, &options, a.log_path()).await;
    let key = eventually("A's ticket", Duration::from_secs(90), || async {
        a.recorded_keys().await.remove("t1")
    })
    .await;
    eventually("B's ticket", Duration::from_secs(90), || async {
        b.recorded_keys().await.remove("t1")
    })
    .await;
    // Until search shows a create, the sync searches again: that search would find the person's
    // transition below without any delivery.
    for site in [&a, &b] {
        eventually("the creates settled", Duration::from_secs(90), || async {
            let sync = site.ns.api::<JiraActiveSync>().get("s").await.ok()?;
            let status = sync.status?;
            (status.pending_create_groups.is_empty() && status.pending_creates.is_empty())
                .then_some(())
        })
        .await;
    }
    let client = a.jira.client("tenant-a-token");
    let doing = TransitionTarget::Category(StatusCategory::Indeterminate);
    client
        .transition(&key, &doing, None, None)
        .await
        .expect("a person starts A's ticket");
    let body = event(&key, &[format!("jas.{}.s", a.ns.name)]);
    let path = |site: &Site| format!("/webhooks/jira/{}/acme", site.ns.name);
    let post = |path: String, secret: &str, id: &str| {
        let delivery = Delivery {
            signature: Some(sign(secret, &body)),
            ..Delivery::signed("tenant", id, body.clone())
        };
        async move { delivery.send_to(operator.listen, &path).await.0 }
    };
    // Until the connections' secrets are loaded the paths answer 404; B's secret never passes A's.
    let crossed = eventually("A's path answers", Duration::from_secs(30), || async {
        let status = post(path(&a), "tenant-b-token-hook", "cross").await;
        (status != StatusCode::NOT_FOUND).then_some(status)
    })
    .await;
    assert_eq!(crossed, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(WINDOW).await;
    let shown = a.ns.api::<ComplianceTask>().get("t1").await.expect("task");
    let category = shown
        .status
        .and_then(|s| s.jira)
        .and_then(|j| j.status_category);
    assert_eq!(
        category.as_deref(),
        Some("new"),
        "a refused delivery woke nothing"
    );
    assert_eq!(
        post(path(&b), "tenant-a-token-hook", "cross-b").await,
        StatusCode::UNAUTHORIZED
    );
    let missing = format!("/webhooks/jira/{}/nothing", a.ns.name);
    assert_eq!(
        post(missing, "tenant-a-token-hook", "none").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(path(&a), "tenant-a-token-hook", "own").await,
        StatusCode::OK
    );
    eventually(
        "A's task shows the status",
        Duration::from_secs(30),
        || async {
            let t = a.ns.api::<ComplianceTask>().get("t1").await.ok()?;
            let jira = t.status?.jira?;
            (jira.status_category.as_deref() == Some("indeterminate")).then_some(())
        },
    )
    .await;
    operator.remove_log();
}
