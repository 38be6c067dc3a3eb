//! Support for integration tests against a real Kubernetes API server.
//!
//! Each test binary gets one cluster: a real kube-apiserver + etcd on loopback, started by
//! `scripts/control-plane up` on first use and stopped by its watchdog when the test process
//! exits (normally, by a panic or by a signal). Each test gets its own namespace and a client
//! for it, with the project's CRDs installed and Established.
//!
//! With `JAS_TEST_USE_EXISTING_CLUSTER=1` and `KUBECONFIG` set, the cluster named by `KUBECONFIG`
//! (kind, k3d, ...) is used instead; test namespaces are then deleted when dropped.

// Each test binary compiles this module and uses its own subset of the helpers.
#![allow(dead_code)]

pub mod cluster;
mod crds;
pub mod emulator;
pub mod helm;
mod namespace;
pub mod wait;

// The client suite takes only the emulator's admin API from here.
#[allow(unused_imports)]
pub use namespace::TestNamespace;
