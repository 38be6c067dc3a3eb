//! Crash safety: the operator binary is killed with SIGKILL at random moments while it syncs, with
//! Jira losing the answers of creates it committed and its search index lagging behind; after the last
//! restart the tickets must be exactly one per task, each in the state of its task.
//!
//! Quick by default (150 tasks, 5 kills). The full run of the reliability issue:
//! `JAS_CRASH_TASKS=1000 JAS_CRASH_KILLS=20 cargo test --test crash -- --nocapture`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use serde_json::json;

use support::Mode;
use support::operator::Operator;
use support::settings::setting;
use support::{Site, eventually};

/// Creates whose answers the emulator drops, after carrying them out.
async fn lose_create_answers(site: &Site, count: u32) {
    for path in ["/rest/api/3/issue/bulk", "/rest/api/3/issue"] {
        site.jira
            .fault(
                json!({"method": "POST", "path": path, "count": count, "action": "dropResponse"}),
            )
            .await;
    }
}

#[tokio::test]
async fn kill_9_during_a_sync_loses_and_duplicates_nothing() {
    let tasks: usize = setting("JAS_CRASH_TASKS", 150);
    let kills: usize = setting("JAS_CRASH_KILLS", 5);
    let site = Site::new("crash", "crash-token-7f3a", json!({})).await;
    // Longer than the operator's polling and reconcile cycle, shorter than its settle window.
    site.jira.config(json!({"searchLagMs": 3000})).await;
    lose_create_answers(&site, 2).await;
    let names = site.tasks(tasks, "crash").await;
    let mut expected: BTreeMap<String, bool> = names.iter().map(|n| (n.clone(), false)).collect();
    site.individual_sync("s", "crash").await;
    let options = site.operator_options("10s");
    let log = site.log_path();
    let mut operator = Operator::start(Mode::Process, &options, log.clone()).await;
    let mut rng = rand::rng();
    let mut state_changes = 0;
    for kill in 0..kills {
        // Early kills land in the first bulk creates; later ones anywhere in the run.
        let upper = 1500 + 400 * u64::try_from(kill).unwrap_or(0).min(10);
        let wait = rng.random_range(200..upper);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        operator.assert_running(&format!("on its own before kill {kill}"));
        operator.kill().await;
        // While it is down, producers keep working: some tasks complete, some re-open.
        state_changes += site.flip_some(&names, &mut expected, &mut rng).await;
        lose_create_answers(&site, 1).await;
        operator = Operator::start(Mode::Process, &options, log.clone()).await;
    }
    site.until_exact(&expected, "crash suite", &log).await;
    // Searches now see everything at once; wait past the settle window and the poll interval, so a
    // create repeated late would show.
    site.jira.config(json!({"searchLagMs": 0})).await;
    tokio::time::sleep(Duration::from_secs(15)).await;
    let reckoning = site.reckon(&expected).await;
    let requests = site.jira.requests(0).await;
    let lost = requests
        .iter()
        .filter(|r| r["status"] == 0 || r["dropped"] == true)
        .count();
    let creates = requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/rest/api/3/issue/bulk")
        .count();
    println!(
        "crash: tasks={tasks} kills_survived={kills} state_changes={state_changes} bulk_create_calls={creates} \
         create_answers_lost={lost} search_lag_ms=3000 {reckoning}"
    );
    operator.assert_running("on its own");
    assert!(lost > 0, "the dropResponse fault never fired");
    assert!(reckoning.exact(), "{reckoning:#?}");
}

/// The sync's pending creates, as its status records them (a count per group).
async fn recorded_pending(site: &Site) -> usize {
    let status = site.sync_status("s").await.unwrap_or_default();
    status["pendingCreateGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|group| group["count"].as_u64())
        .sum::<u64>() as usize
}

/// A ticket the operator read back by key, but that search does not show yet, stays recorded as a
/// pending create: after a crash the next process knows it only through search, and would
/// otherwise make it again.
#[tokio::test]
async fn a_create_stays_pending_until_search_shows_it() {
    let site = Site::new("pending", "pending-token-2c9e", json!({})).await;
    site.jira.config(json!({"searchLagMs": 15_000})).await;
    let names = site.tasks(3, "pending").await;
    site.individual_sync("s", "pending").await;
    let options = site.operator_options("60s");
    let log = site.log_path();
    let operator = Operator::start(Mode::Process, &options, log.clone()).await;
    let keys = eventually(
        "every task records its ticket",
        Duration::from_secs(30),
        || async {
            let keys = site.recorded_keys().await;
            (keys.len() == names.len()).then_some(keys)
        },
    )
    .await;
    // Another pass, which reads the new tickets back by key (search does not show them yet).
    site.ns
        .api::<jira_active_sync::api::ComplianceTask>()
        .patch(
            &names[0],
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"title": "Fix it now"}})),
        )
        .await
        .expect("task patched");
    let client = site.jira.client(&site.token);
    eventually("the edit reaches Jira", Duration::from_secs(30), || async {
        let issue = client.get_issue(&keys[&names[0]]).await.ok()?;
        issue.summary.contains("Fix it now").then_some(())
    })
    .await;
    assert_eq!(
        recorded_pending(&site).await,
        names.len(),
        "creates that search does not show yet are still recorded as pending; see {}",
        log.display()
    );
    operator.kill().await;
    let mut operator = Operator::start(Mode::Process, &options, log.clone()).await;
    eventually(
        "search shows the creates",
        Duration::from_secs(60),
        || async { (recorded_pending(&site).await == 0).then_some(()) },
    )
    .await;
    let expected: BTreeMap<String, bool> = names.iter().map(|n| (n.clone(), false)).collect();
    let reckoning = site.reckon(&expected).await;
    assert!(operator.running(), "see {}", log.display());
    assert!(reckoning.exact(), "{reckoning:#?}; see {}", log.display());
}
