//! Leader election against a real kube-apiserver: two replicas compete for one Lease, exactly one
//! leads at a time, the leader keeps its Lease by renewing it, and the other takes over within the
//! lease duration when the leader releases the Lease or dies without releasing it, and a leader
//! whose Lease another holder took steps down.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Patch, PatchParams};
use support::TestNamespace;
use tokio::sync::watch;

use jira_active_sync::controller::leader::{LeaderElection, LeaseSettings};

const LEASE: &str = "jira-active-sync-leader";
const LEASE_DURATION: Duration = Duration::from_secs(4);
const RENEW_MARGIN: Duration = Duration::from_secs(2);
/// Beyond the lease duration, a follower may wait up to 1 s (the crate's random pause against
/// collisions) plus a few API round trips before it holds the Lease.
const TAKEOVER_SLACK: Duration = Duration::from_secs(3);

fn settings(namespace: &str, identity: &str) -> LeaseSettings {
    LeaseSettings {
        namespace: namespace.to_owned(),
        lease_name: LEASE.to_owned(),
        identity: identity.to_owned(),
        lease_duration: LEASE_DURATION,
        renew_margin: RENEW_MARGIN,
    }
}

async fn start(client: &Client, namespace: &str, identity: &str) -> LeaderElection {
    LeaderElection::start(client.clone(), settings(namespace, identity))
        .await
        .unwrap_or_else(|e| panic!("start {identity}: {e}"))
}

async fn holder(ns: &TestNamespace) -> Option<String> {
    ns.api::<Lease>()
        .get(LEASE)
        .await
        .expect("the Lease exists")
        .spec
        .and_then(|spec| spec.holder_identity)
}

/// Waits until `leading` says this replica leads; returns how long that took.
async fn leads_within(leading: &mut watch::Receiver<bool>, limit: Duration) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(limit, leading.wait_for(|leading| *leading))
        .await
        .unwrap_or_else(|_| panic!("no leadership within {limit:?}"))
        .expect("the election is running");
    started.elapsed()
}

/// Watches two replicas' "am I the leader" until both elections end; returns how many times both
/// said yes at once, and how many times each became leader.
async fn observe(
    mut a: watch::Receiver<bool>,
    mut b: watch::Receiver<bool>,
) -> (usize, usize, usize) {
    let (mut overlaps, mut a_terms, mut b_terms) = (0, 0, 0);
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        tokio::select! {
            changed = a.changed(), if a_open => match changed {
                Ok(()) => a_terms += usize::from(*a.borrow_and_update()),
                Err(_) => a_open = false,
            },
            changed = b.changed(), if b_open => match changed {
                Ok(()) => b_terms += usize::from(*b.borrow_and_update()),
                Err(_) => b_open = false,
            },
        }
        if *a.borrow() && *b.borrow() {
            overlaps += 1;
        }
    }
    (overlaps, a_terms, b_terms)
}

#[tokio::test]
async fn one_leader_at_a_time_and_the_other_takes_over_after_release() {
    let ns = TestNamespace::new("leader-release").await;
    let first = start(&ns.client, &ns.name, "replica-a").await;
    let second = start(&ns.client, &ns.name, "replica-b").await;
    let observer = tokio::spawn(observe(first.is_leader(), second.is_leader()));

    let either = [first.is_leader(), second.is_leader()];
    let limit = LEASE_DURATION + TAKEOVER_SLACK;
    tokio::time::timeout(limit, async {
        while !either.iter().any(|leading| *leading.borrow()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("one replica leads");
    let (leader, follower) = if *first.is_leader().borrow() {
        (first, second)
    } else {
        (second, first)
    };
    assert!(!*follower.is_leader().borrow(), "both lead");
    assert_eq!(holder(&ns).await.as_deref(), Some(leader.identity()));

    // Over several lease durations the leader renews and stays leader; the follower waits.
    tokio::time::sleep(LEASE_DURATION * 3).await;
    assert!(
        *leader.is_leader().borrow(),
        "the leader lost a Lease it renews"
    );
    assert!(
        !*follower.is_leader().borrow(),
        "the follower took a renewed Lease"
    );
    assert_eq!(holder(&ns).await.as_deref(), Some(leader.identity()));

    let leader_identity = leader.identity().to_owned();
    leader.release().await.expect("release the Lease");
    let mut follower_leading = follower.is_leader();
    let takeover = leads_within(&mut follower_leading, limit).await;
    eprintln!("takeover after release: {takeover:?} (lease duration {LEASE_DURATION:?})");
    assert_eq!(holder(&ns).await.as_deref(), Some(follower.identity()));
    assert_ne!(follower.identity(), leader_identity);

    follower.release().await.expect("release the Lease");
    assert_eq!(holder(&ns).await, None, "a released Lease has no holder");
    let (overlaps, a_terms, b_terms) = observer.await.expect("observer");
    assert_eq!(overlaps, 0, "two leaders at once");
    assert_eq!((a_terms, b_terms), (1, 1), "each replica led exactly once");
}

#[tokio::test]
async fn a_crashed_leader_is_replaced_once_its_lease_expires() {
    let ns = TestNamespace::new("leader-crash").await;
    // The first replica runs on a runtime of its own, so that it can die without releasing:
    // shutting the runtime down drops its tasks mid-flight, as a killed process would.
    let crashing = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let config = support::cluster::cluster().await.config(&ns.name).await;
    let namespace = ns.name.clone();
    let first = crashing
        .spawn(async move {
            let client = Client::try_from(config).expect("client");
            let election = start(&client, &namespace, "replica-a").await;
            let mut leading = election.is_leader();
            leads_within(&mut leading, LEASE_DURATION + TAKEOVER_SLACK).await;
            election
        })
        .await
        .expect("first replica leads");
    let second = start(&ns.client, &ns.name, "replica-b").await;
    // The follower stays a follower while the leader lives.
    tokio::time::sleep(LEASE_DURATION * 2).await;
    assert!(
        !*second.is_leader().borrow(),
        "the follower took a live leader's Lease"
    );
    assert_eq!(holder(&ns).await.as_deref(), Some("replica-a"));

    let crashed_at = Instant::now();
    crashing.shutdown_background();
    // Its campaign died with its runtime: dropping the handle releases nothing.
    drop(first);
    let mut leading = second.is_leader();
    leads_within(&mut leading, LEASE_DURATION + TAKEOVER_SLACK).await;
    let takeover = crashed_at.elapsed();
    eprintln!("takeover after crash: {takeover:?} (lease duration {LEASE_DURATION:?})");
    assert_eq!(holder(&ns).await.as_deref(), Some("replica-b"));
    second.release().await.expect("release the Lease");
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_over_steps_down() {
    let ns = TestNamespace::new("leader-usurped").await;
    let election = start(&ns.client, &ns.name, "replica-a").await;
    let mut leading = election.is_leader();
    leads_within(&mut leading, LEASE_DURATION + TAKEOVER_SLACK).await;

    // Someone else writes itself into the Lease (a replica with a skewed clock, a person).
    let now = MicroTime(Timestamp::now());
    let patch = serde_json::json!({"spec": {
        "holderIdentity": "intruder",
        "renewTime": now,
        "leaseDurationSeconds": 60,
    }});
    ns.api::<Lease>()
        .patch(LEASE, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("take the Lease");
    tokio::time::timeout(
        LEASE_DURATION + TAKEOVER_SLACK,
        leading.wait_for(|leading| !*leading),
    )
    .await
    .expect("the leader notices at its next renewal and steps down")
    .expect("election running");
    // Releasing leaves another holder's Lease alone.
    election.release().await.expect("release");
    assert_eq!(holder(&ns).await.as_deref(), Some("intruder"));
}
