//! Jira faults: 429 storms of every `RateLimit-Reason`, a burst of 5xx, an outage of the whole API
//! and slow responses, each injected by the emulator while tasks change. For each scenario:
//! (a) the operator never sends more than its connection's `spec.rateLimit` allows, measured from
//! the emulator's request log; (b) while the fault lasts the sync's `Ready` condition says what
//! is happening; (c) afterwards `Ready` is True again and the tickets equal the tasks exactly.
//!
//! Quick by default (100 tasks, 15 s storms, a 30 s outage; the scenarios run side by side, each
//! with its own namespace, emulator and operator). The long run of the reliability issue:
//! `JAS_FAULTS_TASKS=1000 JAS_FAULTS_STORM_SECS=60 JAS_FAULTS_OUTAGE_SECS=120 cargo test --test jira_faults -- --nocapture`.
//! `JAS_FAULTS_ONLY=outage,slow` runs only the named scenarios.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use futures::future::join_all;
use jira_active_sync::api::{ComplianceTask, JiraConnection};
use jira_active_sync::planner::TicketIdentity;
use kube::api::{ListParams, Patch, PatchParams};
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use tokio::time::Instant;

use support::Mode;
use support::Site;
use support::operator::Operator;
use support::reckoning::Reckoning;
use support::settings::setting;

/// The connection's client-side ceiling: low, so that the operator has to hold itself back.
const RPS: f64 = 5.0;
const BURST: f64 = 10.0;
/// Windows over which the request rate is measured against the token bucket's bound.
const WINDOWS_MS: [i64; 5] = [500, 1_000, 2_000, 5_000, 10_000];
/// Arrival times in the log are stamped by the emulator, not by the client: two requests the bucket
/// let out apart may be stamped closer by this much (`JAS_FAULTS_ARRIVAL_JITTER_MS` on a machine so
/// loaded that the emulator's process stalls).
const ARRIVAL_JITTER_MS: u64 = 50;

/// What the sync's `Ready` must say while a fault lasts.
struct Told {
    /// Acceptable condition reasons.
    reasons: &'static [&'static str],
    /// Words its message must hold.
    words: &'static [&'static str],
}

/// One fault and what the user must be told about it.
struct Scenario {
    name: &'static str,
    /// Fault rules armed when the fault starts; each lasts the fault's length (`forMs`).
    rules: Vec<Value>,
    length: Duration,
    /// `None`: the sync stays Ready (the fault only slows it).
    told: Option<Told>,
    /// Statuses of the answers the fault injects (none: every request in the window is slowed).
    injected: &'static [u64],
    /// Whether the connection is re-checked during the fault, as its periodic check would be
    /// during a long one.
    recheck_connection: bool,
}

const CREATES: [(&str, &str); 2] = [
    ("POST", "/rest/api/3/issue/bulk"),
    ("POST", "/rest/api/3/issue"),
];
const TRANSITIONS: (&str, &str) = ("POST", "/rest/api/3/issue/*/transitions");
/// Edits of an issue: its fields and its entity property.
const EDITS: (&str, &str) = ("PUT", "/rest/api/3/issue/*");
const SEARCHES: [(&str, &str); 2] = [
    ("POST", "/rest/api/3/search/jql"),
    ("GET", "/rest/api/3/search/jql"),
];
const EVERYTHING: (&str, &str) = ("*", "/rest/*");

fn rule(target: (&str, &str), length: Duration, action: Value) -> Value {
    let mut rule = json!({"path": target.1, "forMs": length.as_millis() as u64});
    if target.0 != "*" {
        rule["method"] = json!(target.0);
    }
    merge(&mut rule, action);
    rule
}

fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(base), Value::Object(extra)) = (base, extra) {
        base.extend(extra);
    }
}

/// A 429 storm of `reason` on `targets`.
fn storm(reason: &str, targets: &[(&str, &str)], length: Duration) -> Vec<Value> {
    targets
        .iter()
        .map(|target| {
            rule(
                *target,
                length,
                json!({"action": "error", "status": 429, "retryAfterSecs": 1, "rateLimitReason": reason}),
            )
        })
        .collect()
}

fn error(status: u16) -> Value {
    json!({"action": "error", "status": status})
}

fn scenarios(storm_length: Duration, outage: Duration) -> Vec<Scenario> {
    let limited = &["JiraRateLimited"];
    let writes = [CREATES[0], CREATES[1], TRANSITIONS, EDITS];
    vec![
        Scenario {
            name: "429-burst-on-creates",
            rules: storm("jira-burst-based", &CREATES, storm_length),
            length: storm_length,
            told: Some(Told {
                reasons: limited,
                words: &["jira-burst-based", "creating the ticket", "retrying"],
            }),
            injected: &[429],
            recheck_connection: false,
        },
        Scenario {
            name: "429-per-issue-on-transitions-and-edits",
            rules: storm(
                "jira-per-issue-on-write",
                &[TRANSITIONS, EDITS],
                storm_length,
            ),
            length: storm_length,
            told: Some(Told {
                reasons: limited,
                words: &["jira-per-issue-on-write", "retrying"],
            }),
            injected: &[429],
            recheck_connection: false,
        },
        Scenario {
            name: "429-quota-global-on-searches",
            rules: storm("jira-quota-global-based", &SEARCHES, storm_length),
            length: storm_length,
            told: Some(Told {
                reasons: limited,
                words: &["jira-quota-global-based", "searching", "retrying"],
            }),
            injected: &[429],
            recheck_connection: false,
        },
        Scenario {
            name: "429-quota-tenant-on-everything",
            rules: storm("jira-quota-tenant-based", &[EVERYTHING], storm_length),
            length: storm_length,
            // The connection's own check is refused too, and the sync says so.
            told: Some(Told {
                reasons: &["JiraRateLimited", "ConnectionNotReady"],
                words: &["jira-quota-tenant-based", "retrying"],
            }),
            injected: &[429],
            recheck_connection: true,
        },
        Scenario {
            name: "429-no-reason-on-writes",
            rules: storm("none", &writes, storm_length),
            length: storm_length,
            told: Some(Told {
                reasons: limited,
                words: &["rate limited by Jira", "retrying"],
            }),
            injected: &[429],
            recheck_connection: false,
        },
        Scenario {
            name: "5xx-burst",
            rules: {
                let mut rules = vec![
                    rule(CREATES[0], storm_length, error(500)),
                    rule(CREATES[1], storm_length, error(500)),
                    rule(TRANSITIONS, storm_length, error(503)),
                    rule(EDITS, storm_length, error(504)),
                ];
                // Searches fail a few times only, so that the sync gets as far as its writes.
                for target in SEARCHES {
                    let mut search = rule(target, storm_length, error(502));
                    search["count"] = json!(3);
                    rules.push(search);
                }
                rules
            },
            length: storm_length,
            told: Some(Told {
                reasons: &["JiraUnavailable"],
                words: &["(50", "retrying"],
            }),
            injected: &[500, 502, 503, 504],
            recheck_connection: false,
        },
        Scenario {
            name: "outage",
            rules: vec![rule(
                EVERYTHING,
                outage,
                json!({"action": "error", "status": 503, "message": "Jira is down for maintenance"}),
            )],
            length: outage,
            told: Some(Told {
                reasons: &["JiraUnavailable", "ConnectionNotReady"],
                words: &["(503)", "Jira is down for maintenance", "retrying"],
            }),
            injected: &[503],
            recheck_connection: true,
        },
        Scenario {
            name: "slow",
            rules: vec![rule(
                EVERYTHING,
                storm_length,
                json!({"action": "slow", "latencyMs": 1000, "jitterMs": 2000}),
            )],
            length: storm_length,
            told: None,
            injected: &[],
            recheck_connection: false,
        },
    ]
}

/// The emulator's request log, read as it grows (it keeps only the last 10,000).
struct RequestLog {
    next: u64,
    entries: Vec<Value>,
}

impl RequestLog {
    /// Starts reading at the current end of the log.
    async fn from_now(site: &Site) -> RequestLog {
        let next = site
            .jira
            .requests(0)
            .await
            .last()
            .and_then(|r| r["seq"].as_u64())
            .map_or(0, |seq| seq + 1);
        RequestLog {
            next,
            entries: Vec::new(),
        }
    }

    async fn read(&mut self, site: &Site) {
        let new = site.jira.requests(self.next).await;
        if let Some(first) = new.first().and_then(|r| r["seq"].as_u64()) {
            assert_eq!(
                first, self.next,
                "the emulator's request log dropped entries before they were read"
            );
        }
        if let Some(last) = new.last().and_then(|r| r["seq"].as_u64()) {
            self.next = last + 1;
        }
        self.entries.extend(new);
    }

    /// The requests that arrived in `[from, from + window_ms)`, as `HH:MM:SS.mmm METHOD path status`.
    fn within(&self, from: i64, window_ms: i64) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|r| {
                let at = r["time"].as_str()?.parse::<jiff::Timestamp>().ok()?;
                let ms = at.as_millisecond();
                (from..from + window_ms).contains(&ms).then(|| {
                    format!(
                        "{} {} {} {}",
                        at.strftime("%H:%M:%S%.3f"),
                        r["method"].as_str().unwrap_or_default(),
                        r["path"].as_str().unwrap_or_default(),
                        r["status"]
                    )
                })
            })
            .collect()
    }

    fn times_ms(&self) -> Vec<i64> {
        let mut times: Vec<i64> = self
            .entries
            .iter()
            .filter_map(|r| r["time"].as_str()?.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond())
            .collect();
        times.sort_unstable();
        times
    }
}

/// The most requests that arrived within any `window_ms`, and when that window starts.
fn peak(times: &[i64], window_ms: i64) -> (usize, i64) {
    let mut most = (0, 0);
    let mut start = 0;
    for (end, at) in times.iter().enumerate() {
        while at - times[start] >= window_ms {
            start += 1;
        }
        if end + 1 - start > most.0 {
            most = (end + 1 - start, times[start]);
        }
    }
    most
}

/// What the token bucket lets through within `window_ms`: the burst plus the refill.
fn bound(window_ms: i64, jitter_ms: u64) -> usize {
    (BURST + RPS * (window_ms as f64 + jitter_ms as f64) / 1000.0).floor() as usize
}

/// Whether every task's status records a ticket of the right category, per `expected`.
async fn statuses_right(site: &Site, expected: &BTreeMap<String, bool>) -> bool {
    let Ok(tasks) = site
        .ns
        .api::<ComplianceTask>()
        .list(&ListParams::default())
        .await
    else {
        return false;
    };
    let recorded: BTreeMap<String, Option<String>> = tasks
        .items
        .into_iter()
        .map(|t| {
            let category = t
                .status
                .and_then(|s| s.jira)
                .filter(|j| j.key.is_some())
                .and_then(|j| j.status_category);
            (t.metadata.name.unwrap_or_default(), category)
        })
        .collect();
    expected.iter().all(|(task, completed)| {
        let want = if *completed { "done" } else { "new" };
        recorded.get(task).and_then(Option::as_deref) == Some(want)
    })
}

async fn ready(site: &Site) -> Option<(String, String, String)> {
    site.condition("s", "Ready").await
}

/// Retitled tasks whose ticket does not show the new title yet.
async fn stale_titles(site: &Site, retitled: &BTreeSet<String>) -> Vec<String> {
    let tickets = site.all_tickets().await;
    retitled
        .iter()
        .filter(|task| {
            let label = TicketIdentity::Task((*task).clone()).label();
            !tickets
                .iter()
                .any(|t| t.labels.contains(&label) && t.summary.contains("retitled"))
        })
        .cloned()
        .collect()
}

/// Figures of one scenario.
struct Figures {
    line: String,
    problems: Vec<String>,
}

async fn run(scenario: Scenario, tasks: usize, jitter_ms: u64) -> Figures {
    let name = scenario.name;
    let site = Site::new(
        &format!("faults-{name}"),
        &format!("faults-token-{}", name.len()),
        json!({"rateLimit": {"requestsPerSecond": RPS as u32, "burst": BURST as u32}}),
    )
    .await;
    let check = "faults";
    let names = site.tasks(tasks, check).await;
    let mut expected: BTreeMap<String, bool> = names.iter().map(|n| (n.clone(), false)).collect();
    let mut log = RequestLog::from_now(&site).await;
    site.individual_sync("s", check).await;
    let operator =
        Operator::start(Mode::Process, &site.operator_options("3s"), site.log_path()).await;
    let patience = Duration::from_secs(120 + tasks as u64 / 4);
    // Listing every task is the costly check: large runs do it less often, so as not to load the
    // machine whose request timings are measured.
    let listing = Duration::from_millis(500.max(tasks as u64 * 2));
    let mut problems = Vec::new();

    // The first sync, undisturbed.
    let deadline = Instant::now() + patience;
    while !(ready(&site).await.is_some_and(|(s, _, _)| s == "True")
        && statuses_right(&site, &expected).await)
    {
        log.read(&site).await;
        if Instant::now() > deadline {
            panic!(
                "{name}: the first sync did not finish within {patience:?}: {:?}; see {}",
                site.sync_status("s").await,
                site.log_path().display()
            );
        }
        tokio::time::sleep(listing).await;
    }

    // The fault, and producers carrying on meanwhile: tasks complete, are retitled, are added.
    let fault_seq = log.next;
    for rule in &scenario.rules {
        site.jira.fault(rule.clone()).await;
    }
    let fault_start = Instant::now();
    let fault_end = fault_start + scenario.length;
    if scenario.recheck_connection {
        // Any change to the connection makes the operator check it against Jira again.
        site.ns
            .api::<JiraConnection>()
            .patch(
                "acme",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"faults.test/recheck": name}}})),
            )
            .await
            .expect("connection annotated");
    }
    let (completed, retitled) = {
        let mut rng = rand::rng();
        let completed: Vec<String> = names
            .choose_multiple(&mut rng, (tasks / 10).max(1))
            .cloned()
            .collect();
        let retitled: BTreeSet<String> = names
            .iter()
            .filter(|n| !completed.contains(n))
            .cloned()
            .collect::<Vec<_>>()
            .choose_multiple(&mut rng, (tasks / 20).max(1))
            .cloned()
            .collect();
        (completed, retitled)
    };
    // New tasks first, so that the pass the changes start has creates to make.
    let added: Vec<String> = (0..(tasks / 20).max(1))
        .map(|i| format!("n{i:04}"))
        .collect();
    futures::stream::iter(&added)
        .map(|name| site.task(name, check, None))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    expected.extend(added.iter().map(|n| (n.clone(), false)));
    for task in &completed {
        site.set_state(task, "Completed").await;
        expected.insert(task.clone(), true);
    }
    for task in &retitled {
        site.ns
            .api::<ComplianceTask>()
            .patch(
                task,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"title": format!("Fix {task} (retitled)")}})),
            )
            .await
            .expect("task retitled");
    }
    let mut state_changes = completed.len() + retitled.len() + added.len();
    let mut reopened = false;
    let mut told = None;
    let mut not_ready = None;
    while Instant::now() < fault_end {
        // Half-way through, some of the completed tasks re-open.
        if !reopened && Instant::now() > fault_start + scenario.length / 2 {
            for task in completed.iter().take((completed.len() / 4).max(1)) {
                site.set_state(task, "Open").await;
                expected.insert(task.clone(), false);
                state_changes += 1;
            }
            reopened = true;
        }
        if let Some(condition) = ready(&site).await {
            let (status, reason, message) = &condition;
            let fits = scenario.told.as_ref().is_some_and(|t| {
                status == "False"
                    && t.reasons.contains(&reason.as_str())
                    && t.words.iter().all(|w| message.contains(w))
            });
            if fits && told.is_none() {
                told = Some(condition.clone());
            }
            if status == "False" && not_ready.is_none() {
                not_ready = Some(condition);
            }
        }
        log.read(&site).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    match (&scenario.told, &told, &not_ready) {
        (Some(_), None, seen) => problems.push(format!(
            "Ready never said what the fault was while it lasted (first False seen: {seen:?})"
        )),
        (None, _, Some(seen)) => problems.push(format!(
            "Ready went False although the fault only slowed Jira: {seen:?}"
        )),
        _ => {}
    }

    // After the fault: converged, and Ready again.
    let deadline = Instant::now() + patience;
    let converged_after = loop {
        log.read(&site).await;
        let ready_again = ready(&site).await.is_some_and(|(s, _, _)| s == "True");
        if ready_again && statuses_right(&site, &expected).await {
            break fault_end.elapsed();
        }
        if Instant::now() > deadline {
            problems.push(format!(
                "no convergence within {patience:?} of the fault's end: Ready {:?}",
                ready(&site).await
            ));
            break fault_end.elapsed();
        }
        tokio::time::sleep(listing).await;
    };
    // The measured requests end here: the checks below search Jira themselves.
    log.read(&site).await;
    let mut reckoning: Reckoning = site.reckon(&expected).await;
    let mut stale = stale_titles(&site, &retitled).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(reckoning.exact() && stale.is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        reckoning = site.reckon(&expected).await;
        stale = stale_titles(&site, &retitled).await;
    }
    if !reckoning.exact() {
        problems.push(format!("the tickets are not the tasks: {reckoning:?}"));
    }
    if !stale.is_empty() {
        problems.push(format!("tickets still carry old titles: {stale:?}"));
    }

    let times = log.times_ms();
    let mut peaks = Vec::new();
    for window in WINDOWS_MS {
        let ((most, from), allowed) = (peak(&times, window), bound(window, jitter_ms));
        if most > allowed {
            problems.push(format!(
                "{most} requests within {window} ms, more than the bucket's {allowed}: {:?}",
                log.within(from, window)
            ));
        }
        peaks.push((window, most, allowed));
    }
    let during: Vec<&Value> = log
        .entries
        .iter()
        .filter(|r| r["seq"].as_u64().is_some_and(|s| s >= fault_seq))
        .collect();
    let injected = if scenario.injected.is_empty() {
        let end = jiff::Timestamp::now().as_millisecond()
            - i64::try_from(fault_end.elapsed().as_millis()).unwrap_or(0);
        during
            .iter()
            .filter(|r| {
                r["time"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t.as_millisecond() < end)
            })
            .count()
    } else {
        during
            .iter()
            .filter(|r| {
                r["status"]
                    .as_u64()
                    .is_some_and(|s| scenario.injected.contains(&s))
            })
            .count()
    };
    if injected == 0 {
        problems.push("the fault never fired".to_owned());
    }
    let mut operator = operator;
    if !operator.running() {
        problems.push(format!(
            "the operator exited; see {}",
            site.log_path().display()
        ));
    }
    let (_, one_peak, one_bound) = peaks[1];
    let (_, ten_peak, ten_bound) = peaks[4];
    let told_text = match (told, not_ready) {
        (Some((_, reason, message)), _) => format!("{reason}: {message}"),
        (None, Some((_, reason, message))) => format!("NOT TOLD; first False: {reason}: {message}"),
        (None, None) => "Ready stayed True".to_owned(),
    };
    let line = format!(
        "jira_faults: scenario={name} tasks={tasks} state_changes={state_changes} fault_s={} faults_injected={injected} \
         requests={} peak_1s={one_peak}/{one_bound} peak_10s={ten_peak}/{ten_bound} (rateLimit {RPS}/s burst {BURST}, jitter {jitter_ms} ms) \
         converged_after_fault_s={:.1} tickets={} duplicates={} missing={} wrong={}\n  told: {told_text}",
        scenario.length.as_secs(),
        times.len(),
        converged_after.as_secs_f64(),
        reckoning.tickets,
        reckoning.duplicates,
        reckoning.missing.len(),
        reckoning.wrong.len() + stale.len(),
    );
    let problems = problems
        .into_iter()
        .map(|p| format!("{name}: {p} (operator log: {})", site.log_path().display()))
        .collect();
    Figures { line, problems }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_faults_are_survived_exactly_within_the_client_rate() {
    let tasks = usize::try_from(setting::<u64>("JAS_FAULTS_TASKS", 100)).unwrap_or(100);
    let storm = Duration::from_secs(setting("JAS_FAULTS_STORM_SECS", 15));
    let outage = Duration::from_secs(setting("JAS_FAULTS_OUTAGE_SECS", 30));
    let only: Option<Vec<String>> = std::env::var("JAS_FAULTS_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let chosen: Vec<Scenario> = scenarios(storm, outage)
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|o| o.iter().any(|n| n == s.name)))
        .collect();
    assert!(!chosen.is_empty(), "JAS_FAULTS_ONLY names no scenario");
    let jitter_ms = setting("JAS_FAULTS_ARRIVAL_JITTER_MS", ARRIVAL_JITTER_MS);
    let figures = join_all(chosen.into_iter().map(|s| run(s, tasks, jitter_ms))).await;
    let mut problems = Vec::new();
    for f in figures {
        println!("{}", f.line);
        problems.extend(f.problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_sliding_window_counts_the_busiest_stretch() {
    let times = [0, 100, 200, 900, 1_000, 1_050, 5_000];
    assert_eq!(peak(&times, 1_000), (5, 100), "100..=1050");
    assert_eq!(peak(&times, 100).0, 2);
    assert_eq!(peak(&[], 1_000).0, 0);
    assert_eq!(bound(1_000, ARRIVAL_JITTER_MS), 15);
    assert_eq!(bound(10_000, ARRIVAL_JITTER_MS), 60);
    assert_eq!(bound(10_000, 400), 62);
}
