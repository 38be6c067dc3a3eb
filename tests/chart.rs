//! Checks of the Helm chart with helm built from its Go module (`scripts/helm`): lint, the
//! rendered objects validated by a real kube-apiserver 1.33 (server-side dry-run with strict
//! field validation), the restricted Pod Security profile enforced on the operator's pod, and a
//! real `helm install` / upgrade / uninstall whose RBAC is checked verb by verb and exercised
//! under the chart's ServiceAccount.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{
    DeleteParams, DynamicObject, GroupVersionKind, ListParams, ObjectMeta, Patch, PatchParams,
    PostParams,
};
use kube::discovery::{Discovery, Scope};
use kube::{Api, Client};
use serde::Deserialize;
use support::TestNamespace;
use support::cluster::cluster;
use support::helm::{helm, helm_ok, release_deployment, release_fullname};

use jira_active_sync::api::{ComplianceTask, ComplianceTaskSource};
use jira_active_sync::controller::leader::{LeaderElection, LeaseSettings};

const CHART: &str = "charts/jira-active-sync";
/// The oldest Kubernetes version the project supports (README), rendered for.
const KUBE_VERSION: &str = "1.33.0";
/// Values files under the chart's `ci/`, each rendered, linted and validated (plus the defaults).
const VALUES_FILES: &[&str] = &[
    "ci/namespaced-values.yaml",
    "ci/everything-values.yaml",
    "ci/single-replica-values.yaml",
];

/// `--values` arguments for one values file (none for the defaults).
fn values_args(file: Option<&str>) -> Vec<String> {
    file.map(|f| vec!["--values".to_owned(), format!("{CHART}/{f}")])
        .unwrap_or_default()
}

fn every_values_file() -> impl Iterator<Item = Option<&'static str>> {
    std::iter::once(None).chain(VALUES_FILES.iter().copied().map(Some))
}

/// The documents of `helm template` output, empty ones left out.
fn documents(rendered: &str) -> Vec<DynamicObject> {
    serde_yaml::Deserializer::from_str(rendered)
        .filter_map(|document| {
            let value = serde_yaml::Value::deserialize(document).expect("helm renders YAML");
            (!value.is_null()).then(|| {
                serde_yaml::from_value::<DynamicObject>(value)
                    .unwrap_or_else(|e| panic!("rendered document is not an object: {e}"))
            })
        })
        .collect()
}

fn kind_of(object: &DynamicObject) -> &str {
    object
        .types
        .as_ref()
        .map(|types| types.kind.as_str())
        .unwrap_or_default()
}

fn typed<K: serde::de::DeserializeOwned>(object: &DynamicObject) -> K {
    let value = serde_json::to_value(object).expect("objects serialise");
    serde_json::from_value(value).unwrap_or_else(|e| panic!("not a {}: {e}", kind_of(object)))
}

/// Whether `api` has no object `name`.
async fn absent<K>(api: Api<K>, name: &str) -> bool
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.expect("get").is_none()
}

#[tokio::test]
async fn lint_passes_for_the_defaults_and_every_ci_values_file() {
    for file in every_values_file() {
        let mut args = vec!["lint".to_owned(), "--strict".to_owned(), CHART.to_owned()];
        args.extend(values_args(file));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = helm_ok(&args, None).await;
        assert!(
            output.contains("1 chart(s) linted, 0 chart(s) failed"),
            "helm lint with {file:?}:\n{output}"
        );
    }
}

#[tokio::test]
async fn rendering_refuses_values_that_would_break_the_operator() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--set",
                "replicas=2",
                "--set",
                "leaderElection.enabled=false",
            ],
            "replicas > 1 needs leaderElection.enabled",
        ),
        (
            &["--set", "logFormat=yaml"],
            "logFormat must be json or text",
        ),
        (
            &["--set", "serviceAccount.create=false"],
            "serviceAccount.name is required",
        ),
        (
            &["--set", "installation=Prod_EU"],
            "installation \"Prod_EU\" must be 1 to 40 lower-case letters",
        ),
        (
            &["--set", "uninstall.syncs=Delete"],
            "uninstall.syncs must be Detach, ApplyDeletionPolicies or Keep, not \"Delete\"",
        ),
    ];
    for (set, message) in cases {
        let mut args = vec!["template", "bad", CHART, "--kube-version", KUBE_VERSION];
        args.extend_from_slice(set);
        let error = helm(&args, None)
            .await
            .expect_err("helm template accepted bad values");
        assert!(error.contains(message), "expected {message:?} in:\n{error}");
    }
}

#[tokio::test]
async fn rendered_objects_are_accepted_by_the_api_server_for_every_values_file() {
    let release_ns = TestNamespace::new("chart-dry-run").await;
    let watched = [
        TestNamespace::new("chart-dry-run-watched-a").await,
        TestNamespace::new("chart-dry-run-watched-b").await,
    ];
    let client = release_ns.client.clone();
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("API discovery");
    for file in every_values_file() {
        let mut args: Vec<String> = [
            "template",
            "dry",
            CHART,
            "--namespace",
            &release_ns.name,
            "--kube-version",
            KUBE_VERSION,
        ]
        .map(str::to_owned)
        .into();
        args.extend(values_args(file));
        if file == Some("ci/namespaced-values.yaml") {
            // The file's namespaces do not exist here; render for two that do.
            args.push("--set".to_owned());
            args.push(format!(
                "watchNamespaces={{{},{}}}",
                watched[0].name, watched[1].name
            ));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let objects = documents(&helm_ok(&args, None).await);
        let mut not_served = BTreeSet::new();
        for object in &objects {
            let types = object.types.clone().expect("rendered objects have types");
            let gvk = GroupVersionKind::try_from(&types).expect("valid apiVersion");
            let Some((resource, capabilities)) = discovery.resolve_gvk(&gvk) else {
                not_served.insert(types.kind.clone());
                continue;
            };
            let name = object
                .metadata
                .name
                .clone()
                .expect("rendered objects are named");
            let api: Api<DynamicObject> = match capabilities.scope {
                Scope::Cluster => Api::all_with(client.clone(), &resource),
                Scope::Namespaced => {
                    let namespace = object
                        .metadata
                        .namespace
                        .clone()
                        .unwrap_or_else(|| panic!("{} {name} has no namespace", types.kind));
                    Api::namespaced_with(client.clone(), &namespace, &resource)
                }
            };
            let params = PatchParams::apply("jas-chart-test")
                .dry_run()
                .validation_strict();
            api.patch(&name, &params, &Patch::Apply(object))
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "the API server rejects {} {name} ({file:?}): {e}",
                        types.kind
                    )
                });
        }
        // Only the Prometheus Operator's kinds are unknown to a bare API server; the monitor is
        // checked against the Service it scrapes instead, the rules' metrics by the operator's
        // own unit tests (controller::metrics).
        let expected: BTreeSet<String> = if file == Some("ci/everything-values.yaml") {
            ["PrometheusRule".to_owned(), "ServiceMonitor".to_owned()].into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            not_served, expected,
            "kinds the API server does not serve ({file:?})"
        );
        if !not_served.is_empty() {
            service_monitor_scrapes_the_service(&objects);
        }
    }
}

fn service_monitor_scrapes_the_service(objects: &[DynamicObject]) {
    let find = |kind: &str| {
        objects
            .iter()
            .find(|object| kind_of(object) == kind)
            .unwrap_or_else(|| panic!("no {kind} rendered"))
    };
    let service: Service = typed(find("Service"));
    let monitor = &find("ServiceMonitor").data["spec"];
    let spec = service.spec.expect("service spec");
    assert_eq!(
        serde_json::to_value(spec.selector).expect("labels serialise"),
        monitor["selector"]["matchLabels"],
        "the ServiceMonitor selects the Service's pods' labels"
    );
    let port_names: Vec<_> = spec
        .ports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|port| port.name)
        .collect();
    assert_eq!(monitor["endpoints"][0]["path"], "/metrics");
    let scraped = monitor["endpoints"][0]["port"]
        .as_str()
        .expect("endpoint port name");
    assert!(
        port_names.iter().any(|name| name == scraped),
        "ServiceMonitor scrapes port {scraped}, Service has {port_names:?}"
    );
}

/// Labels a namespace so that the API server enforces the restricted Pod Security profile there.
async fn enforce_restricted_pod_security(client: &Client, namespace: &str) {
    let patch = serde_json::json!({"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.33",
    }}});
    Api::<Namespace>::all(client.clone())
        .patch(namespace, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("label the namespace");
}

#[tokio::test]
async fn the_operator_pod_meets_the_restricted_pod_security_profile() {
    let ns = TestNamespace::new("chart-pod-security").await;
    enforce_restricted_pod_security(&ns.client, &ns.name).await;
    let rendered = helm_ok(
        &[
            "template",
            "pss",
            CHART,
            "--namespace",
            &ns.name,
            "--kube-version",
            KUBE_VERSION,
        ],
        None,
    )
    .await;
    let objects = documents(&rendered);
    let find = |kind: &str| {
        objects
            .iter()
            .find(|object| kind_of(object) == kind)
            .unwrap_or_else(|| panic!("no {kind} rendered"))
    };
    // The pod's ServiceAccount must exist for the pod to be admitted at all.
    let account: ServiceAccount = typed(find("ServiceAccount"));
    ns.api::<ServiceAccount>()
        .create(&PostParams::default(), &account)
        .await
        .expect("create the ServiceAccount");
    let deployment: Deployment = typed(find("Deployment"));
    let template = deployment.spec.expect("deployment spec").template;
    let pod = Pod {
        metadata: ObjectMeta {
            name: Some("operator".to_owned()),
            labels: template.metadata.and_then(|meta| meta.labels),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        ..Pod::default()
    };
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    ns.api::<Pod>()
        .create(&dry_run, &pod)
        .await
        .unwrap_or_else(|e| panic!("the restricted profile rejects the operator's pod: {e}"));

    // The same pod with capabilities kept is refused: the namespace really enforces the profile.
    let mut weakened = pod.clone();
    if let Some(spec) = weakened.spec.as_mut() {
        for container in &mut spec.containers {
            if let Some(context) = container.security_context.as_mut() {
                context.capabilities = None;
            }
        }
    }
    let error = ns
        .api::<Pod>()
        .create(&dry_run, &weakened)
        .await
        .expect_err("a pod that keeps its capabilities is admitted under the restricted profile");
    assert!(
        error.to_string().contains("restricted"),
        "unexpected rejection: {error}"
    );
}

/// Who the operator runs as once installed.
struct Subject {
    namespace: String,
    service_account: String,
}

impl Subject {
    fn user(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    fn groups(&self) -> Vec<String> {
        vec![
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{}", self.namespace),
            "system:authenticated".to_owned(),
        ]
    }

    /// Whether the API server's authorizer lets the ServiceAccount do `verb` on `resource`
    /// (`group/resource[/subresource]`, core group as `/resource`) in `namespace`, named `name`.
    async fn can(
        &self,
        admin: &Client,
        verb: &str,
        resource: &str,
        namespace: &str,
        name: Option<&str>,
    ) -> bool {
        let (group, rest) = resource.split_once('/').expect("group/resource");
        let (resource, subresource) = match rest.split_once('/') {
            Some((resource, subresource)) => (resource, Some(subresource.to_owned())),
            None => (rest, None),
        };
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(self.user()),
                groups: Some(self.groups()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some(group.to_owned()),
                    resource: Some(resource.to_owned()),
                    subresource,
                    verb: Some(verb.to_owned()),
                    namespace: Some(namespace.to_owned()),
                    name: name.map(str::to_owned),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let answer = Api::<SubjectAccessReview>::all(admin.clone())
            .create(&PostParams::default(), &review)
            .await
            .expect("SubjectAccessReview");
        answer.status.is_some_and(|status| status.allowed)
    }

    /// A client that acts as the ServiceAccount (impersonation by the admin), so RBAC applies.
    async fn client(&self, namespace: &str) -> Client {
        let mut config = cluster().await.config(namespace).await;
        config.auth_info.impersonate = Some(self.user());
        config.auth_info.impersonate_groups = Some(self.groups());
        Client::try_from(config).expect("impersonating client")
    }
}

/// What the operator does in a watched namespace: every one must be allowed.
const NEEDED_IN_WATCHED: &[(&str, &str)] = &[
    ("get", "activesync.dev/jiraactivesyncs"),
    ("list", "activesync.dev/jiraactivesyncs"),
    ("watch", "activesync.dev/jiraactivesyncs"),
    ("update", "activesync.dev/jiraactivesyncs"),
    ("patch", "activesync.dev/jiraactivesyncs"),
    ("patch", "activesync.dev/jiraactivesyncs/status"),
    ("update", "activesync.dev/jiraactivesyncs/status"),
    ("get", "activesync.dev/jiraconnections"),
    ("list", "activesync.dev/jiraconnections"),
    ("watch", "activesync.dev/jiraconnections"),
    ("patch", "activesync.dev/jiraconnections"),
    ("patch", "activesync.dev/jiraconnections/status"),
    ("update", "activesync.dev/jiraconnections/status"),
    ("get", "activesync.dev/compliancetasks"),
    ("list", "activesync.dev/compliancetasks"),
    ("watch", "activesync.dev/compliancetasks"),
    ("patch", "activesync.dev/compliancetasks"),
    ("create", "activesync.dev/compliancetasks"),
    ("delete", "activesync.dev/compliancetasks"),
    ("patch", "activesync.dev/compliancetasks/status"),
    ("get", "activesync.dev/compliancetasksources"),
    ("list", "activesync.dev/compliancetasksources"),
    ("watch", "activesync.dev/compliancetasksources"),
    ("patch", "activesync.dev/compliancetasksources"),
    ("patch", "activesync.dev/compliancetasksources/status"),
    ("list", "wgpolicyk8s.io/policyreports"),
    ("watch", "wgpolicyk8s.io/policyreports"),
    ("list", "openreports.io/reports"),
    ("watch", "openreports.io/reports"),
    ("update", "activesync.dev/compliancetasks/status"),
    ("get", "/secrets"),
    ("list", "/secrets"),
    ("watch", "/secrets"),
    ("create", "events.k8s.io/events"),
    ("patch", "events.k8s.io/events"),
    ("create", "/events"),
    ("patch", "/events"),
];

/// What the operator never does: every one must be denied, in watched namespaces too (its Lease
/// rights in its own namespace are checked by `assert_lease_rights`).
const FORBIDDEN_IN_WATCHED: &[(&str, &str)] = &[
    ("create", "activesync.dev/jiraactivesyncs"),
    ("delete", "activesync.dev/jiraactivesyncs"),
    ("update", "activesync.dev/compliancetasks"),
    ("deletecollection", "activesync.dev/compliancetasks"),
    ("update", "activesync.dev/jiraconnections"),
    ("create", "activesync.dev/compliancetasksources"),
    ("delete", "activesync.dev/compliancetasksources"),
    ("create", "wgpolicyk8s.io/policyreports"),
    ("patch", "openreports.io/reports"),
    ("delete", "activesync.dev/jiraconnections"),
    ("create", "/secrets"),
    ("update", "/secrets"),
    ("delete", "/secrets"),
    ("get", "/configmaps"),
    ("list", "/pods"),
    ("create", "/pods"),
    ("delete", "/events"),
    ("list", "coordination.k8s.io/leases"),
    ("create", "rbac.authorization.k8s.io/rolebindings"),
    ("create", "apps/deployments"),
];

async fn assert_verbs(
    subject: &Subject,
    admin: &Client,
    namespace: &str,
    verbs: &[(&str, &str)],
    allowed: bool,
) {
    let mut wrong = Vec::new();
    for (verb, resource) in verbs {
        if subject.can(admin, verb, resource, namespace, None).await != allowed {
            wrong.push(format!("{verb} {resource}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "in namespace {namespace}, {} should be {} but are not: {wrong:?}",
        subject.user(),
        if allowed { "allowed" } else { "denied" }
    );
}

/// The leader-election Lease name the chart gives the operator (env `JAS_LEASE_NAME`).
fn lease_name(deployment: &Deployment) -> String {
    let spec = deployment.spec.as_ref().expect("deployment spec");
    let container = &spec.template.spec.as_ref().expect("pod spec").containers[0];
    container
        .env
        .iter()
        .flatten()
        .find(|var| var.name == "JAS_LEASE_NAME")
        .and_then(|var| var.value.clone())
        .expect("JAS_LEASE_NAME set")
}

/// The Lease rights of the operator: its own Lease in its own namespace, nothing else.
async fn assert_lease_rights(subject: &Subject, admin: &Client, namespace: &str, lease: &str) {
    let leases = "coordination.k8s.io/leases";
    for verb in ["get", "patch"] {
        assert!(
            subject
                .can(admin, verb, leases, namespace, Some(lease))
                .await,
            "{verb} own lease"
        );
        assert!(
            !subject
                .can(admin, verb, leases, namespace, Some("kube-scheduler"))
                .await,
            "{verb} another lease"
        );
    }
    assert!(
        subject.can(admin, "create", leases, namespace, None).await,
        "create a lease"
    );
    for verb in ["list", "watch", "update", "delete"] {
        assert!(
            !subject
                .can(admin, verb, leases, namespace, Some(lease))
                .await,
            "{verb} own lease"
        );
    }
}

/// The real leader-election code, running as the ServiceAccount, takes and releases the Lease.
async fn leader_election_works_under_the_service_account(subject: &Subject, lease: &str) {
    let client = subject.client(&subject.namespace).await;
    let settings = LeaseSettings {
        namespace: subject.namespace.clone(),
        lease_name: lease.to_owned(),
        identity: "chart-test-replica".to_owned(),
        lease_duration: Duration::from_secs(5),
        renew_margin: Duration::from_secs(2),
    };
    let election = LeaderElection::start(client, settings)
        .await
        .expect("start leader election as the ServiceAccount");
    let mut leading = election.is_leader();
    tokio::time::timeout(
        Duration::from_secs(20),
        leading.wait_for(|leading| *leading),
    )
    .await
    .expect("the ServiceAccount acquires its Lease")
    .expect("election running");
    election.release().await.expect("release the Lease");
}

#[tokio::test]
async fn install_cluster_wide_grants_exactly_what_the_operator_needs_then_upgrade_and_uninstall() {
    let ns = TestNamespace::new("chart-install").await;
    let other = TestNamespace::new("chart-install-elsewhere").await;
    let kubeconfig = cluster().await.kubeconfig().map(Path::to_path_buf);
    let kubeconfig = kubeconfig.as_deref();
    let release = "cluster-wide";
    let notes = helm_ok(
        &["install", release, CHART, "--namespace", &ns.name],
        kubeconfig,
    )
    .await;
    assert!(
        notes.contains("/webhooks/jira"),
        "NOTES tell how to register the webhook:\n{notes}"
    );
    assert!(
        notes.contains("every namespace"),
        "NOTES say what is watched:\n{notes}"
    );

    let fullname = release_fullname(release);
    let deployment = release_deployment(&ns, release).await;
    let spec = deployment.spec.as_ref().expect("deployment spec");
    assert_eq!(spec.replicas, Some(2));
    let args = spec.template.spec.as_ref().expect("pod spec").containers[0]
        .args
        .clone()
        .unwrap_or_default();
    assert_eq!(
        args,
        [
            "run",
            "--listen",
            "0.0.0.0:8080",
            "--leader-election",
            "--lease-duration",
            "15s",
            "--log-format",
            "json"
        ]
    );
    ns.api::<ServiceAccount>()
        .get(&fullname)
        .await
        .expect("ServiceAccount");
    ns.api::<Service>().get(&fullname).await.expect("Service");
    assert!(
        absent(ns.api::<PodDisruptionBudget>(), &fullname).await,
        "no PodDisruptionBudget by default: it would block draining the leader's node"
    );
    let admin = ns.client.clone();
    Api::<ClusterRole>::all(admin.clone())
        .get(&fullname)
        .await
        .expect("ClusterRole");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .get(&fullname)
        .await
        .expect("ClusterRoleBinding");
    ns.api::<Role>()
        .get(&format!("{fullname}-leader-election"))
        .await
        .expect("Role");

    let subject = Subject {
        namespace: ns.name.clone(),
        service_account: fullname.clone(),
    };
    for namespace in [&ns.name, &other.name] {
        assert_verbs(&subject, &admin, namespace, NEEDED_IN_WATCHED, true).await;
        assert_verbs(&subject, &admin, namespace, FORBIDDEN_IN_WATCHED, false).await;
    }
    let lease = lease_name(&deployment);
    assert_lease_rights(&subject, &admin, &ns.name, &lease).await;
    assert!(
        !subject
            .can(
                &admin,
                "create",
                "coordination.k8s.io/leases",
                &other.name,
                None
            )
            .await,
        "Leases outside the release namespace"
    );
    for (verb, resource) in [
        ("list", "/namespaces"),
        ("list", "apiextensions.k8s.io/customresourcedefinitions"),
        ("list", "/nodes"),
    ] {
        assert!(
            !subject.can(&admin, verb, resource, "", None).await,
            "{verb} {resource} cluster-wide"
        );
    }
    leader_election_works_under_the_service_account(&subject, &lease).await;

    // RBAC enforced on real requests, not only in reviews.
    let as_operator = subject.client(&other.name).await;
    let tasks = Api::<ComplianceTask>::namespaced(as_operator.clone(), &other.name);
    tasks
        .list(&ListParams::default())
        .await
        .expect("the operator lists tasks");
    // Task sources delete their tasks (taskDeletionPolicy: Delete); no one's sources.
    let sources = Api::<ComplianceTaskSource>::namespaced(as_operator.clone(), &other.name);
    let denied = sources
        .delete("any", &DeleteParams::default())
        .await
        .expect_err("the operator deletes a task source");
    assert!(
        matches!(&denied, kube::Error::Api(status) if status.code == 403),
        "{denied}"
    );

    helm_ok(
        &[
            "upgrade",
            release,
            CHART,
            "--namespace",
            &ns.name,
            "--reuse-values",
            "--set",
            "replicas=3",
        ],
        kubeconfig,
    )
    .await;
    let upgraded = release_deployment(&ns, release).await;
    assert_eq!(upgraded.spec.and_then(|spec| spec.replicas), Some(3));

    // This control plane has no node to run the pre-delete hook's Job: the in-cluster suite runs it.
    let uninstall = ["uninstall", release, "--namespace", &ns.name, "--no-hooks"];
    helm_ok(&uninstall, kubeconfig).await;
    assert!(absent(ns.api::<Deployment>(), &fullname).await);
    assert!(absent(ns.api::<ServiceAccount>(), &fullname).await);
    assert!(absent(Api::<ClusterRole>::all(admin.clone()), &fullname).await);
    assert!(absent(Api::<ClusterRoleBinding>::all(admin.clone()), &fullname).await);
    assert!(
        !subject
            .can(
                &admin,
                "list",
                "activesync.dev/compliancetasks",
                &other.name,
                None
            )
            .await
    );
}

#[tokio::test]
async fn install_for_listed_namespaces_grants_nothing_elsewhere() {
    let ns = TestNamespace::new("chart-namespaced").await;
    let watched = TestNamespace::new("chart-namespaced-watched").await;
    let unwatched = TestNamespace::new("chart-namespaced-unwatched").await;
    let kubeconfig = cluster().await.kubeconfig().map(Path::to_path_buf);
    let kubeconfig = kubeconfig.as_deref();
    let release = "namespaced";
    let watch = format!("watchNamespaces={{{}}}", watched.name);
    let notes = helm_ok(
        &[
            "install",
            release,
            CHART,
            "--namespace",
            &ns.name,
            "--set",
            &watch,
        ],
        kubeconfig,
    )
    .await;
    assert!(
        notes.contains(&watched.name),
        "NOTES name the watched namespace:\n{notes}"
    );

    let fullname = release_fullname(release);
    let deployment = release_deployment(&ns, release).await;
    let args = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .expect("pod spec")
        .containers[0]
        .args
        .clone()
        .unwrap_or_default();
    let expected_namespace = ["--namespace".to_owned(), watched.name.clone()];
    assert!(
        args.windows(2).any(|pair| pair == expected_namespace),
        "{args:?}"
    );
    let admin = ns.client.clone();
    assert!(
        absent(Api::<ClusterRoleBinding>::all(admin.clone()), &fullname).await,
        "no cluster-wide binding when namespaces are listed"
    );
    watched
        .api::<RoleBinding>()
        .get(&fullname)
        .await
        .expect("RoleBinding in the watched namespace");

    let subject = Subject {
        namespace: ns.name.clone(),
        service_account: fullname.clone(),
    };
    assert_verbs(&subject, &admin, &watched.name, NEEDED_IN_WATCHED, true).await;
    assert_verbs(&subject, &admin, &watched.name, FORBIDDEN_IN_WATCHED, false).await;
    for namespace in [&unwatched.name, &ns.name] {
        assert_verbs(&subject, &admin, namespace, NEEDED_IN_WATCHED, false).await;
    }
    assert_lease_rights(&subject, &admin, &ns.name, &lease_name(&deployment)).await;
    // The installation identity comes from the kube-system namespace: that one, and no other.
    assert!(
        subject
            .can(&admin, "get", "/namespaces", "", Some("kube-system"))
            .await
    );
    assert!(
        !subject
            .can(&admin, "get", "/namespaces", "", Some(&unwatched.name))
            .await
    );

    // This control plane has no node to run the pre-delete hook's Job: the in-cluster suite runs it.
    let uninstall = ["uninstall", release, "--namespace", &ns.name, "--no-hooks"];
    helm_ok(&uninstall, kubeconfig).await;
    assert!(absent(watched.api::<RoleBinding>(), &fullname).await);
}

#[tokio::test]
async fn the_operator_binary_accepts_the_rendered_command_line_for_every_values_file() {
    for file in every_values_file() {
        let mut args: Vec<String> = ["template", "cli", CHART, "--kube-version", KUBE_VERSION]
            .map(str::to_owned)
            .into();
        args.extend(values_args(file));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let objects = documents(&helm_ok(&args, None).await);
        let deployment: Deployment = typed(
            objects
                .iter()
                .find(|object| kind_of(object) == "Deployment")
                .expect("a Deployment"),
        );
        let container = &deployment
            .spec
            .and_then(|spec| spec.template.spec)
            .expect("pod spec")
            .containers[0];
        let mut command_line = container.args.clone().unwrap_or_default();
        // clap reports every argument before it that it does not take, and otherwise prints help.
        command_line.push("--help".to_owned());
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-active-sync"))
            .args(&command_line)
            .output()
            .await
            .expect("run the operator binary");
        assert!(
            output.status.success(),
            "the operator refuses the chart's command line {command_line:?} ({file:?}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
