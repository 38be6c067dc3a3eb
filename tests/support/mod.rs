//! The one test harness of the integration suites.
//!
//! - The cluster: each test binary gets one, a real kube-apiserver + etcd on loopback, started by
//!   `scripts/control-plane up` on first use and stopped by its watchdog when the test process
//!   exits (normally, by a panic or by a signal); each test gets its own namespace and a client for
//!   it, with the project's CRDs installed and Established (`cluster`, `namespace`, `crds`). With
//!   `JAS_TEST_USE_EXISTING_CLUSTER=1` and `KUBECONFIG` set, the cluster named by `KUBECONFIG`
//!   (kind, k3d, ...) is used instead; test namespaces are then deleted when dropped.
//! - The Jira emulator, in this process or as a process, and its admin API (`emulator`,
//!   `emulator_admin`); the OpenAPI validator and the conformance of logged requests (`openapi`,
//!   `conformance`).
//! - The operator, in this process or as a process (`operator`); the `Site` it syncs (a namespace
//!   with credentials and a connection to an emulator: `site`); and the reckoning of tickets
//!   against tasks (`reckoning`).
//! - The single-node cluster (`cluster::node_cluster`, `scripts/cluster`): a kubelet runs Pods of
//!   the operator's image (`image`, `scripts/image`); where the machine cannot run containers it
//!   says why, and the in-cluster suite skips.
//! - A fault-injecting proxy in front of the API server (`apiserver_proxy`), Helm (`helm`),
//!   waiting (`wait`), and the size of a run from the environment (`settings`).

// Each test binary compiles this module and uses its own part of the harness.
#![allow(dead_code)]

pub mod apiserver_proxy;
pub mod cluster;
pub mod conformance;
mod crds;
pub mod emulator;
pub mod emulator_admin;
mod emulator_pod;
pub mod examples;
pub mod helm;
pub mod image;
mod namespace;
pub mod openapi;
pub mod operator;
pub mod reckoning;
pub mod settings;
pub mod site;
pub mod wait;

/// Where a part under test (the emulator, the operator) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A task of the test's own runtime: quick to start, stopped with the test.
    InProcess,
    /// Its real binary, in a process of its own (killed when its handle is dropped), so that a
    /// kill is a real crash and a stall of the test does not stall it.
    Process,
}

// Not every suite takes each of these from here.
#[allow(unused_imports)]
pub use namespace::TestNamespace;
#[allow(unused_imports)]
pub use site::Site;
#[allow(unused_imports)]
pub use wait::eventually;
