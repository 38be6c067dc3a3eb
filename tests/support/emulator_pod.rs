//! The emulator as a Pod of the single-node cluster (the operator's image carries it), behind a
//! Service, over HTTPS with a CA of its own that it prints to its log.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::LogParams;
use serde_json::json;

use super::TestNamespace;
use super::image::Image;
use super::wait::eventually;

/// The Service (and Pod) name.
const NAME: &str = "jira";
/// How long the Pod may take to be Ready.
const PATIENCE: Duration = Duration::from_secs(180);

/// Starts the emulator Pod in `ns` behind the Service `jira` (port 443); gives its URL (by the
/// Service's ClusterIP: the cluster has no DNS) and the PEM of its CA.
pub async fn start(ns: &TestNamespace, image: &Image) -> (String, String) {
    let service: Service = ns
        .create(json!({
            "metadata": {"name": NAME},
            "spec": {"selector": {"app": NAME}, "ports": [{"port": 443, "targetPort": 8443}]}
        }))
        .await;
    let ip = service
        .spec
        .and_then(|s| s.cluster_ip)
        .expect("a ClusterIP");
    let dns = format!("{NAME}.{}.svc", ns.name);
    // The CA goes to the log, where the test reads it (the root filesystem is read-only).
    let args = [
        "--listen",
        "0.0.0.0:8443",
        "--tls",
        "--tls-name",
        &ip,
        "--tls-name",
        &dns,
        "--tls-ca-out",
        "/dev/stdout",
    ];
    let restricted = json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}});
    ns.create::<Pod>(json!({
        "metadata": {"name": NAME, "labels": {"app": NAME}},
        "spec": {"containers": [{
            "name": "emulator", "image": image.reference(), "imagePullPolicy": "Never",
            "command": ["/usr/local/bin/jira-emulator"],
            "args": args,
            "ports": [{"containerPort": 8443}],
            "readinessProbe": {"tcpSocket": {"port": 8443}, "periodSeconds": 1},
            "securityContext": restricted
        }]}
    }))
    .await;
    let ca = eventually("the emulator Pod to be Ready", PATIENCE, || ready_ca(ns)).await;
    // Ready is not yet routed: kube-proxy programs the Service's endpoint a moment later.
    eventually("the emulator's Service to route", PATIENCE, || async {
        tokio::net::TcpStream::connect((ip.as_str(), 443))
            .await
            .ok()
    })
    .await;
    (format!("https://{ip}"), ca)
}

/// The CA the Pod printed, once the Pod is Ready.
async fn ready_ca(ns: &TestNamespace) -> Option<String> {
    let pod = ns.api::<Pod>().get(NAME).await.ok()?;
    let conditions = pod.status?.conditions?;
    conditions
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?;
    let log = ns
        .api::<Pod>()
        .logs(NAME, &LogParams::default())
        .await
        .ok()?;
    let begin = log.find("-----BEGIN CERTIFICATE-----")?;
    let end = "-----END CERTIFICATE-----";
    let length = log[begin..].find(end)? + end.len();
    Some(format!("{}\n", &log[begin..begin + length]))
}
