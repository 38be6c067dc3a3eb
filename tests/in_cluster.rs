//! The chart installed as users install it: the operator's image (`scripts/image`) run by a real
//! kubelet on the single-node cluster of `scripts/cluster`, in a namespace that enforces the
//! restricted Pod Security profile. Where this machine cannot run that cluster, each test says so
//! on stderr (`SKIPPED ...`) and returns; `JAS_SKIP_IN_CLUSTER=1` skips them the same way.

mod support;

use std::time::Duration;

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use jira_active_sync::jira::{Flavor, StatusCategory, TransitionTarget};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use support::cluster::{Cluster, node_cluster_or_skip};
use support::emulator::{Emulator, SEED_TOKEN};
use support::helm::{helm_ok, release_fullname};
use support::image::{Image, imported};
use support::operator::lease_holder;
use support::{Site, TestNamespace, eventually};

const CHART: &str = "charts/jira-active-sync";
/// How long a Pod may take to start here (image unpacking, a busy machine).
const POD_PATIENCE: Duration = Duration::from_secs(180);

/// How long the operator may take to bring Jira in line with a change.
const SYNC_PATIENCE: Duration = Duration::from_secs(120);

/// A new namespace whose label makes admission enforce the restricted Pod Security profile.
async fn restricted_namespace(prefix: &str) -> TestNamespace {
    let ns = TestNamespace::new(prefix).await;
    let labels = json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }}});
    Api::<Namespace>::all(ns.client.clone())
        .patch(&ns.name, &PatchParams::default(), &Patch::Merge(&labels))
        .await
        .expect("label the namespace");
    ns
}

/// A site whose connection reaches `jira` over HTTPS, trusting its CA through
/// `tls.caSecretRef` (the Secret `jira-ca`, made in the site's namespace).
async fn site_trusting(test: &str, jira: Emulator) -> Site {
    let tls = json!({"tls": {"caSecretRef": {"name": "jira-ca"}}});
    let ca = jira.ca_pem.clone().expect("the emulator serves HTTPS");
    let site = Site::with_jira(test, jira, SEED_TOKEN, tls).await;
    ca_secret(&site.ns, ca).await;
    site
}

/// The Secret `jira-ca` in `ns`, holding the CA the emulator's certificate is signed by.
async fn ca_secret(ns: &TestNamespace, ca: String) {
    ns.create::<Secret>(json!({"metadata": {"name": "jira-ca"}, "stringData": {"ca.crt": ca}}))
        .await;
}

/// The namespace's label is enforced: admission refuses a Pod the restricted profile forbids, so the
/// chart's Pods starting there show they meet it.
async fn admission_refuses_a_privileged_pod(ns: &TestNamespace) {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "privileged"},
        "spec": {"containers": [{"name": "c", "image": "localhost/jas-pause:v1.33.13",
                                 "securityContext": {"privileged": true}}]}
    }))
    .expect("a Pod");
    let refused = ns
        .api::<Pod>()
        .create(&kube::api::PostParams::default(), &pod)
        .await
        .expect_err("a privileged Pod is refused under the restricted profile");
    assert!(
        refused
            .to_string()
            .contains("violates PodSecurity \"restricted"),
        "{refused}"
    );
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The names of the release's Pods, once all `count` are Ready.
async fn ready_pods(ns: &TestNamespace, release: &str, count: usize) -> Vec<String> {
    let selector = format!("app.kubernetes.io/instance={release}");
    eventually("the release's Pods to be Ready", POD_PATIENCE, || async {
        let pods = ns
            .api::<Pod>()
            .list(&ListParams::default().labels(&selector))
            .await
            .ok()?;
        let ready: Vec<String> = pods
            .items
            .iter()
            .filter(|pod| is_ready(pod) && pod.metadata.deletion_timestamp.is_none())
            .filter_map(|pod| pod.metadata.name.clone())
            .collect();
        (ready.len() == count).then_some(ready)
    })
    .await
}

/// How many objects of kind `K` carry the release's instance label, in `api`'s scope.
async fn count_of_release<K>(api: Api<K>, release: &str) -> usize
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let selector = format!("app.kubernetes.io/instance={release}");
    api.list(&ListParams::default().labels(&selector))
        .await
        .unwrap_or_else(|e| panic!("list {}: {e}", K::kind(&())))
        .items
        .len()
}

/// Everything the release made, in its namespace and cluster-wide (Pods included).
async fn objects_of_release(client: &Client, ns: &TestNamespace, release: &str) -> usize {
    count_of_release(ns.api::<Deployment>(), release).await
        + count_of_release(ns.api::<Pod>(), release).await
        + count_of_release(ns.api::<Service>(), release).await
        + count_of_release(ns.api::<ServiceAccount>(), release).await
        + count_of_release(ns.api::<Role>(), release).await
        + count_of_release(ns.api::<RoleBinding>(), release).await
        + count_of_release(Api::<ClusterRole>::all(client.clone()), release).await
        + count_of_release(Api::<ClusterRoleBinding>::all(client.clone()), release).await
}

/// `helm install --wait` (or `upgrade`, with `extra` values) of `release` in `ns`, running `image`.
async fn helm_release(
    verb: &str,
    release: &str,
    ns: &TestNamespace,
    image: &Image,
    watched: &TestNamespace,
    extra: &[&str],
) {
    let mut args = vec![verb, release, CHART, "--namespace", &ns.name];
    args.extend(["--wait", "--timeout", "5m"]);
    // Each test's release watches its own namespace only: releases of tests running side by side
    // would otherwise all act on every test's syncs, as two installs of one cluster would.
    let mut values = image.helm_values();
    values.push(format!("watchNamespaces={{{}}}", watched.name));
    for value in values
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
    {
        args.extend(["--set", value]);
    }
    // --wait returns only once the Deployment is available: both replicas Ready.
    helm_ok(&args, ns.cluster().kubeconfig()).await;
}

#[tokio::test]
async fn helm_install_waits_for_two_ready_replicas_under_the_restricted_profile_and_uninstall_keeps_the_crds()
 {
    let test = "helm_install_waits_for_two_ready_replicas_under_the_restricted_profile";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    let ns = restricted_namespace("in-cluster-install").await;
    let release = "install";
    let kubeconfig = cluster.kubeconfig();
    admission_refuses_a_privileged_pod(&ns).await;
    helm_release("install", release, &ns, image, &ns, &[]).await;

    let pods = ready_pods(&ns, release, 2).await;
    let lease = format!("{}-leader", release_fullname(release));
    let holder = eventually("a replica to hold the Lease", POD_PATIENCE, || async {
        lease_holder(&ns.client, &ns.name, &lease).await
    })
    .await;
    assert!(
        pods.contains(&holder),
        "the Lease holder {holder} is one of the release's Pods {pods:?}"
    );

    helm_ok(
        &["uninstall", release, "--namespace", &ns.name, "--wait"],
        kubeconfig,
    )
    .await;
    let admin = cluster.client("default").await;
    eventually("the release's objects to be gone", POD_PATIENCE, || async {
        (objects_of_release(&admin, &ns, release).await == 0).then_some(())
    })
    .await;
    let crds = Api::<CustomResourceDefinition>::all(admin);
    for crd in [
        "jiraactivesyncs.activesync.dev",
        "jiraconnections.activesync.dev",
        "compliancetasks.activesync.dev",
        "compliancetasksources.activesync.dev",
    ] {
        crds.get(crd)
            .await
            .unwrap_or_else(|e| panic!("the CRD {crd} is kept after helm uninstall: {e}"));
    }
}

/// The node's address: where Pods reach the host (the bridge's).
async fn node_ip(cluster: &Cluster) -> String {
    let nodes = Api::<Node>::all(cluster.client("default").await)
        .list(&ListParams::default())
        .await
        .expect("list nodes");
    let addresses = nodes
        .items
        .iter()
        .filter_map(|n| n.status.as_ref()?.addresses.as_ref());
    addresses
        .flatten()
        .find(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
        .expect("the node has an InternalIP")
}

/// Waits until the sync's tickets are exactly one per task of `tasks` (by the tasks' recorded keys,
/// all distinct), and no other ticket carries the sync's label.
async fn one_ticket_per_task(site: &Site, sync: &str, tasks: usize, when: &str) {
    eventually(
        &format!("one ticket per task {when}"),
        SYNC_PATIENCE,
        || async {
            let keys = site.recorded_keys().await;
            let distinct: std::collections::BTreeSet<&String> = keys.values().collect();
            let tickets = site.tickets(sync).await;
            (keys.len() == tasks && distinct.len() == tasks && tickets.len() == tasks).then_some(())
        },
    )
    .await;
}

/// The Lease holder, once it is one of the release's Ready Pods other than `not`.
async fn leader(ns: &TestNamespace, release: &str, not: Option<&str>) -> String {
    let lease = format!("{}-leader", release_fullname(release));
    eventually(
        "a Ready replica to hold the Lease",
        POD_PATIENCE,
        || async {
            let holder = lease_holder(&ns.client, &ns.name, &lease).await?;
            let pods = ready_pods(ns, release, 2).await;
            (pods.contains(&holder) && Some(holder.as_str()) != not).then_some(holder)
        },
    )
    .await
}

#[tokio::test]
async fn the_installed_operator_syncs_over_tls_and_survives_leader_loss_and_a_rolling_upgrade_without_duplicates()
 {
    let test =
        "the_installed_operator_syncs_over_tls_and_survives_leader_loss_and_a_rolling_upgrade";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    // Jira over HTTPS on the node's address, behind a private CA the connection trusts.
    let jira = Emulator::start_for_pods(&node_ip(cluster).await, Flavor::Cloud).await;
    let site = site_trusting("in-cluster-team", jira).await;
    let operator_ns = restricted_namespace("in-cluster-operator").await;
    let release = "sync";
    helm_release("install", release, &operator_ns, image, &site.ns, &[]).await;

    let (sync, check) = ("in-cluster", "cis-1.1");
    let mut tasks = site.tasks(6, check).await.len();
    site.individual_sync(sync, check).await;
    one_ticket_per_task(&site, sync, tasks, "after install").await;

    // The leader Pod deleted (SIGTERM: it releases the Lease) mid-sync: new tasks have just
    // arrived, their creates under way, and more arrive while the other replica takes over.
    let first = leader(&operator_ns, release, None).await;
    for name in ["mid-sync-1", "mid-sync-2", "mid-sync-3"] {
        site.task(name, check, None).await;
        tasks += 1;
    }
    operator_ns
        .api::<Pod>()
        .delete(&first, &DeleteParams::default())
        .await
        .expect("delete the leader Pod");
    for name in ["after-failover-1", "after-failover-2"] {
        site.task(name, check, None).await;
        tasks += 1;
    }
    leader(&operator_ns, release, Some(&first)).await;
    one_ticket_per_task(&site, sync, tasks, "after the leader Pod was deleted").await;

    // A changed value rolls both replicas over, the leader among them, while tasks arrive.
    let before = ready_pods(&operator_ns, release, 2).await;
    let upgrade = helm_release(
        "upgrade",
        release,
        &operator_ns,
        image,
        &site.ns,
        &["logLevel=debug"],
    );
    let arrivals = async {
        for name in ["during-upgrade-1", "during-upgrade-2", "during-upgrade-3"] {
            site.task(name, check, None).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    };
    tokio::join!(upgrade, arrivals);
    tasks += 3;
    let after = ready_pods(&operator_ns, release, 2).await;
    assert!(
        after.iter().all(|pod| !before.contains(pod)),
        "helm upgrade replaced every replica: {before:?} -> {after:?}"
    );
    leader(&operator_ns, release, None).await;
    one_ticket_per_task(&site, sync, tasks, "after the rolling upgrade").await;
    // Every issue of the project is one of the tasks' tickets: no duplicate was made and retired.
    assert_eq!(
        made_issues(site.all_tickets().await).len(),
        tasks,
        "no duplicate, ever"
    );

    uninstall_detaches_and_leaves_jira_untouched(&site, &operator_ns, release).await;
}

/// The issues of a search other than the seed's epic (SEC-1).
fn made_issues(issues: Vec<jira_active_sync::jira::Issue>) -> Vec<jira_active_sync::jira::Issue> {
    issues
        .into_iter()
        .filter(|i| i.issue_type != "Epic")
        .collect()
}

/// A ticket as people see it: key, status, labels, summary.
type Seen = (String, String, Vec<String>, String);

async fn seen(site: &Site) -> Vec<Seen> {
    let tickets = site.all_tickets().await;
    tickets
        .into_iter()
        .map(|i| (i.key, i.status.name, i.labels, i.summary))
        .collect()
}

/// Whether a logged Jira request writes (anything but GETs and the POSTs of search and bulk fetch).
fn writes(request: &support::emulator_admin::Logged) -> bool {
    let reads = ["/search/jql", "/search", "/issue/bulkfetch"];
    request.method != "GET"
        && !(request.method == "POST" && reads.iter().any(|r| request.path.ends_with(r)))
}

/// `helm uninstall` with the default `uninstall.syncs: Detach`: the hook stops the operator and takes
/// its finalizers off, Jira is not written to, and the namespace of the syncs can then be deleted.
async fn uninstall_detaches_and_leaves_jira_untouched(
    site: &Site,
    operator_ns: &TestNamespace,
    release: &str,
) {
    let before = seen(site).await;
    let next = site.jira.logged().await.last().map_or(0, |r| r.seq + 1);
    let kubeconfig = operator_ns.cluster().kubeconfig();
    let args = [
        "uninstall",
        release,
        "--namespace",
        &operator_ns.name,
        "--wait",
    ];
    helm_ok(&args, kubeconfig).await;
    for sync in site
        .ns
        .api::<JiraActiveSync>()
        .list(&ListParams::default())
        .await
        .expect("syncs")
    {
        assert!(
            sync.finalizers().is_empty(),
            "{:?} kept {:?}",
            sync.metadata.name,
            sync.finalizers()
        );
    }
    let connection = site
        .ns
        .api::<JiraConnection>()
        .get(support::site::CONNECTION)
        .await;
    assert!(
        connection
            .expect("the connection stays")
            .finalizers()
            .is_empty()
    );
    delete_namespace(&site.ns).await;
    assert_eq!(seen(site).await, before, "the tickets are as they were");
    let written: Vec<_> = site
        .jira
        .logged_since(next)
        .await
        .into_iter()
        .filter(writes)
        .collect();
    assert!(
        written.is_empty(),
        "Jira was written to after helm uninstall: {written:?}"
    );
}

/// Deletes `ns` and waits until the namespace controller has removed it.
async fn delete_namespace(ns: &TestNamespace) {
    let namespaces = Api::<Namespace>::all(ns.client.clone());
    namespaces
        .delete(&ns.name, &DeleteParams::default())
        .await
        .expect("delete the namespace");
    eventually("the namespace goes", POD_PATIENCE, || async {
        namespaces
            .get_opt(&ns.name)
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

/// `helm uninstall` with `uninstall.syncs: ApplyDeletionPolicies`: the hook deletes the syncs while
/// the operator runs, so a `Close` sync closes its tickets; then the namespace can be deleted.
#[tokio::test]
async fn uninstall_can_apply_each_syncs_deletion_policy_then_the_namespace_goes() {
    let test = "uninstall_can_apply_each_syncs_deletion_policy_then_the_namespace_goes";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    let jira = Emulator::start_for_pods(&node_ip(cluster).await, Flavor::Cloud).await;
    let site = site_trusting("in-cluster-teardown", jira).await;
    let operator_ns = restricted_namespace("in-cluster-teardown-operator").await;
    let release = "teardown";
    let policies = ["uninstall.syncs=ApplyDeletionPolicies"];
    helm_release("install", release, &operator_ns, image, &site.ns, &policies).await;
    let (sync, check) = ("closing", "cis-2.1");
    let tasks = site.tasks(3, check).await.len();
    let spec = json!({"connectionRef": {"name": support::site::CONNECTION},
                      "scope": {"checks": [check]}, "jira": {"project": "SEC", "issueType": "Task"},
                      "deletionPolicy": "Close", "pollInterval": "10s"});
    site.sync(sync, spec).await;
    one_ticket_per_task(&site, sync, tasks, "after install").await;

    let args = [
        "uninstall",
        release,
        "--namespace",
        &operator_ns.name,
        "--wait",
    ];
    helm_ok(&args, cluster.kubeconfig()).await;
    let left = site
        .ns
        .api::<JiraActiveSync>()
        .list(&ListParams::default())
        .await;
    assert!(
        left.expect("syncs").items.is_empty(),
        "the hook deleted the sync"
    );
    let tickets = made_issues(site.all_tickets().await);
    assert_eq!(tickets.len(), tasks);
    for ticket in &tickets {
        assert_eq!(
            ticket.status.category,
            StatusCategory::Done,
            "{} closed by deletionPolicy: Close",
            ticket.key
        );
    }
    delete_namespace(&site.ns).await;
}

/// The ClusterIP of the release's Service.
async fn service_ip(ns: &TestNamespace, release: &str) -> String {
    let service = ns.api::<Service>().get(&release_fullname(release)).await;
    let service = service.expect("the release's Service");
    service
        .spec
        .and_then(|spec| spec.cluster_ip)
        .expect("a ClusterIP")
}

/// The Pod IP of `pod`.
async fn pod_ip(ns: &TestNamespace, pod: &str) -> String {
    let pod = ns.api::<Pod>().get(pod).await.expect("get the Pod");
    pod.status
        .and_then(|s| s.pod_ip)
        .expect("the Pod has an IP")
}

/// `body` signed as Jira signs a delivery with `secret`.
fn signature(secret: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether the task's spec says Completed (the operator's doing, with jiraCompletion CompleteTasks).
async fn completed(site: &Site, task: &str) -> Option<()> {
    let task = site.ns.api::<ComplianceTask>().get(task).await.ok()?;
    let spec = serde_json::to_value(task.spec).ok()?;
    (spec["state"] == "Completed").then_some(())
}

#[tokio::test]
async fn jira_webhooks_reach_the_leader_through_the_service_whichever_replica_takes_them() {
    let test = "jira_webhooks_reach_the_leader_through_the_service_whichever_replica_takes_them";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    // Jira as a Pod behind a Service over HTTPS: its deliveries go Pod -> Service -> operator Pod.
    let jira_ns = restricted_namespace("in-cluster-jira").await;
    let jira = Emulator::in_pod(&jira_ns, image).await;
    let site = site_trusting("in-cluster-hooks", jira).await;
    let operator_ns = restricted_namespace("in-cluster-hooks-operator").await;
    let release = "hooks";
    helm_release("install", release, &operator_ns, image, &site.ns, &[]).await;
    let (sync, check) = ("hooks", "cis-2.2");
    let tasks = site.tasks(4, check).await;
    // Polling once an hour: only a webhook brings Jira's changes in within the test's patience.
    site.sync(
        sync,
        json!({"connectionRef": {"name": "acme"}, "scope": {"checks": [check]},
                           "jira": {"project": "SEC", "issueType": "Task"},
                           "jiraCompletion": "CompleteTasks", "pollInterval": "1h"}),
    )
    .await;
    one_ticket_per_task(&site, sync, tasks.len(), "after install").await;
    let keys = site.recorded_keys().await;
    let hook = format!("{SEED_TOKEN}-hook");
    let path = format!("/webhooks/jira/{}/acme", site.ns.name);
    let url = format!(
        "http://{}:8080{path}",
        service_ip(&operator_ns, release).await
    );
    site.jira.register_webhook(&url, &hook, SEED_TOKEN).await;

    // Each ticket done in Jira: the emulator delivers to the Service, which picks a replica.
    let jira_client = site.jira.client(SEED_TOKEN);
    for task in &tasks[..3] {
        let done = TransitionTarget::Category(StatusCategory::Done);
        let started = std::time::Instant::now();
        let moved = jira_client.transition(&keys[task], &done, None, None).await;
        moved.expect("done in Jira");
        eventually(
            &format!("{task} completed by the webhook"),
            SYNC_PATIENCE,
            || completed(&site, task),
        )
        .await;
        eprintln!(
            "{task}: done in Jira -> completed in {:?}",
            started.elapsed()
        );
    }
    // The emulator Pod's deliveries reached the operator through the Service, each answered 2xx.
    let report = site
        .jira
        .admin(reqwest::Method::GET, "webhooks/deliveries", None)
        .await;
    let delivered = report["deliveries"].as_array().into_iter().flatten();
    let answered = delivered
        .filter(|d| d["delivered"] == true)
        .filter(|d| {
            d["attempts"].as_array().into_iter().flatten().any(|a| {
                a["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
            })
        })
        .count();
    assert!(
        answered >= 3,
        "3 deliveries answered through the Service: {report}"
    );

    // A delivery sent to the standby itself is answered by the leader: it woke the sync.
    let leader = leader(&operator_ns, release, None).await;
    let pods = ready_pods(&operator_ns, release, 2).await;
    let standby = pods.iter().find(|pod| **pod != leader).expect("a standby");
    let last = &tasks[3];
    let label = site
        .ns
        .cluster()
        .sync_labels(&site.ns.name, sync)
        .await
        .current;
    let body = json!({"webhookEvent": "jira:issue_updated",
                      "issue": {"key": keys[last], "fields": {"labels": [label]}}})
    .to_string();
    let standby_url = format!("http://{}:8080{path}", pod_ip(&operator_ns, standby).await);
    let response = reqwest::Client::new()
        .post(&standby_url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature", signature(&hook, &body))
        .body(body)
        .send()
        .await
        .expect("a delivery to the standby");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        status.is_success() && text.starts_with("1 sync"),
        "the standby relays to the leader, whose sync wakes: {status} {text}"
    );
}

/// Server-side applies one document of `examples/` into `ns`, by its kind.
async fn apply_example(ns: &TestNamespace, document: serde_json::Value) {
    let name = document["metadata"]["name"]
        .as_str()
        .expect("named")
        .to_owned();
    let params = PatchParams::apply("jas-tests").force();
    let patch = Patch::Apply(&document);
    let applied = match document["kind"].as_str() {
        Some("Secret") => ns
            .api::<Secret>()
            .patch(&name, &params, &patch)
            .await
            .map(drop),
        Some("JiraConnection") => ns
            .api::<JiraConnection>()
            .patch(&name, &params, &patch)
            .await
            .map(drop),
        Some("ComplianceTask") => ns
            .api::<ComplianceTask>()
            .patch(&name, &params, &patch)
            .await
            .map(drop),
        Some("JiraActiveSync") => ns
            .api::<JiraActiveSync>()
            .patch(&name, &params, &patch)
            .await
            .map(drop),
        other => panic!("examples/ holds a {other:?} this test does not apply"),
    };
    applied.unwrap_or_else(|e| panic!("applying {name}: {e}"));
}

/// `kubectl apply -f examples/` against the chart's operator in Pods: every task gets its ticket,
/// one per vulnerability task and one per assignee of the rest, and no duplicate is made.
#[tokio::test]
async fn the_examples_applied_to_the_installed_operator_get_their_tickets() {
    let test = "the_examples_applied_to_the_installed_operator_get_their_tickets";
    let Some(cluster) = node_cluster_or_skip(test).await else {
        return;
    };
    let image = imported(cluster).await;
    let jira = Emulator::start_for_pods(&node_ip(cluster).await, Flavor::Cloud).await;
    let ns = TestNamespace::new("in-cluster-examples").await;
    ca_secret(&ns, jira.ca_pem.clone().expect("the emulator serves HTTPS")).await;
    let operator_ns = restricted_namespace("in-cluster-examples-operator").await;
    helm_release("install", "examples", &operator_ns, image, &ns, &[]).await;
    for (_, document) in support::examples::documents() {
        let mut document = serde_json::to_value(document).expect("YAML as JSON");
        if document["kind"] == "JiraConnection" {
            document["spec"]["url"] = json!(jira.url);
            document["spec"]["tls"] = json!({"caSecretRef": {"name": "jira-ca"}});
        }
        apply_example(&ns, document).await;
    }
    let tasks = ns
        .api::<ComplianceTask>()
        .list(&ListParams::default())
        .await
        .expect("tasks");
    let keys = eventually(
        "every example task records its ticket",
        SYNC_PATIENCE,
        || async {
            let keys = support::site::recorded_keys(&ns).await;
            (keys.len() == tasks.items.len()).then_some(keys)
        },
    )
    .await;
    let distinct: std::collections::BTreeSet<&String> = keys.values().collect();
    let client = jira.client(SEED_TOKEN);
    let issues = || client.search("project in (SEC, OPS) ORDER BY key ASC");
    // Every issue of the projects: a duplicate made and retired would be counted too.
    let made = made_issues(issues().await.expect("search")).len();
    assert_eq!(
        made,
        distinct.len(),
        "one ticket per task or group, no duplicate: {keys:?}"
    );

    // `kubectl delete -f examples/`: file order, so the Secrets and the connection go first. The
    // connection stays (in use) until the syncs applied their policies with the credentials last
    // loaded; dashboard-sync's policy is Close.
    for (_, document) in support::examples::documents() {
        delete_example(&ns, &serde_json::to_value(document).expect("YAML as JSON")).await;
    }
    eventually("the syncs and the connection go", SYNC_PATIENCE, || async {
        let syncs = ns
            .api::<JiraActiveSync>()
            .list(&ListParams::default())
            .await
            .ok()?;
        let connections = ns
            .api::<JiraConnection>()
            .list(&ListParams::default())
            .await
            .ok()?;
        (syncs.items.is_empty() && connections.items.is_empty()).then_some(())
    })
    .await;
    let ops = client.search("project = OPS").await.expect("search");
    assert!(!ops.is_empty());
    for ticket in ops {
        assert_eq!(
            ticket.status.category,
            StatusCategory::Done,
            "{}",
            ticket.key
        );
    }
}

/// Deletes one document of `examples/` from `ns`, by its kind.
async fn delete_example(ns: &TestNamespace, document: &serde_json::Value) {
    let name = document["metadata"]["name"].as_str().expect("named");
    let params = DeleteParams::default();
    let deleted = match document["kind"].as_str() {
        Some("Secret") => ns.api::<Secret>().delete(name, &params).await.map(drop),
        Some("JiraConnection") => ns
            .api::<JiraConnection>()
            .delete(name, &params)
            .await
            .map(drop),
        Some("ComplianceTask") => ns
            .api::<ComplianceTask>()
            .delete(name, &params)
            .await
            .map(drop),
        Some("JiraActiveSync") => ns
            .api::<JiraActiveSync>()
            .delete(name, &params)
            .await
            .map(drop),
        other => panic!("examples/ holds a {other:?} this test does not delete"),
    };
    deleted.unwrap_or_else(|e| panic!("deleting {name}: {e}"));
}
