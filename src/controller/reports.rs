//! Watches of the four policy report kinds, as dynamic objects (the report CRDs belong to other
//! projects and may be absent). Each kind's watch says whether its reports can be read: a kind
//! whose CRD is not installed, or that the operator may not list, is `Unavailable` with the API
//! server's words, and is retried with backoff until it can be read.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};

use crate::api::ReportKind;
use crate::sources::Report;

/// Whether a kind's reports can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// The first list has not finished.
    Starting,
    /// Listed and watched.
    Reading,
    /// Not installed, or not allowed; the API server's words.
    Unavailable(String),
    /// Cluster-scoped reports are off in this install.
    Disabled,
}

/// What changed, for the sources to be woken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportChange {
    /// A report of a kind, in a namespace (`None`: cluster-scoped).
    Report(ReportKind, Option<String>),
    /// Whether a kind can be read changed.
    Availability(ReportKind),
}

/// The report stores of one scope, and whether each kind can be read.
#[derive(Clone)]
pub struct ReportWatches {
    stores: BTreeMap<ReportKind, Store<DynamicObject>>,
    availability: Arc<Mutex<BTreeMap<ReportKind, Availability>>>,
}

/// The API resource of a report kind.
pub fn api_resource(kind: ReportKind) -> ApiResource {
    let (group, version) = kind.api_version().split_once('/').unwrap_or(("", ""));
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.kind()),
        kind.plural(),
    )
}

impl ReportWatches {
    /// Watches of the report kinds for a scope (namespaced kinds in `namespace`, or everywhere;
    /// cluster-scoped kinds only when `cluster_reports`), and the future that runs them.
    pub fn start(
        client: &kube::Client,
        namespace: Option<&str>,
        cluster_reports: bool,
        on_change: impl Fn(ReportChange) + Clone + Send + Sync + 'static,
    ) -> (ReportWatches, BoxFuture<'static, ()>) {
        let mut watches = ReportWatches {
            stores: BTreeMap::new(),
            availability: Arc::default(),
        };
        let mut runs = Vec::new();
        for kind in ReportKind::ALL {
            if kind.cluster_scoped() && !cluster_reports {
                watches.set(kind, Availability::Disabled);
                continue;
            }
            watches.set(kind, Availability::Starting);
            let resource = api_resource(kind);
            let api = match namespace {
                Some(ns) if !kind.cluster_scoped() => {
                    Api::namespaced_with(client.clone(), ns, &resource)
                }
                _ => Api::all_with(client.clone(), &resource),
            };
            let writer = reflector::store::Writer::new(resource);
            watches.stores.insert(kind, writer.as_reader());
            runs.push(watches.clone().run(kind, api, writer, on_change.clone()));
        }
        let all = futures::future::join_all(runs).map(drop).boxed();
        (watches, all)
    }

    /// Runs one kind's watch until shutdown.
    async fn run(
        self,
        kind: ReportKind,
        api: Api<DynamicObject>,
        writer: reflector::store::Writer<DynamicObject>,
        on_change: impl Fn(ReportChange),
    ) {
        let events = watcher(api, watcher::Config::default())
            .modify(|report| report.managed_fields_mut().clear())
            .default_backoff();
        let mut events = std::pin::pin!(reflector::reflector(writer, events));
        while let Some(event) = events.next().await {
            let changed = match event {
                Ok(watcher::Event::InitDone) => self.set(kind, Availability::Reading),
                Ok(watcher::Event::Apply(report) | watcher::Event::Delete(report)) => {
                    on_change(ReportChange::Report(kind, report.namespace()));
                    false
                }
                Ok(_) => false,
                Err(error) => self.set(kind, Availability::Unavailable(unavailable(kind, &error))),
            };
            if changed {
                on_change(ReportChange::Availability(kind));
            }
        }
    }

    /// Records a kind's availability; whether it changed.
    fn set(&self, kind: ReportKind, availability: Availability) -> bool {
        let mut all = self
            .availability
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.insert(kind, availability.clone()) != Some(availability)
    }

    /// Whether a kind's reports can be read now.
    pub fn availability(&self, kind: ReportKind) -> Availability {
        let all = self
            .availability
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.get(&kind).cloned().unwrap_or(Availability::Disabled)
    }

    /// The reports of a kind in `namespace` (every one for cluster-scoped kinds); reports that do
    /// not parse are skipped with a warning.
    pub fn reports(&self, kind: ReportKind, namespace: &str) -> Vec<Report> {
        let Some(store) = self.stores.get(&kind) else {
            return Vec::new();
        };
        store
            .state()
            .iter()
            .filter(|r| kind.cluster_scoped() || r.namespace().as_deref() == Some(namespace))
            .filter_map(|r| parse(kind, r))
            .collect()
    }
}

fn parse(kind: ReportKind, object: &DynamicObject) -> Option<Report> {
    let labels = object.labels().clone();
    let name = object.name_any();
    match Report::from_json(
        kind,
        object.namespace(),
        name.clone(),
        &labels,
        object.data.clone(),
    ) {
        Ok(report) => Some(report),
        Err(error) => {
            tracing::warn!(kind = kind.kind(), namespace = ?object.namespace(), %name, %error, "skipping a report that does not parse");
            None
        }
    }
}

/// Why a kind cannot be read, in words for a condition.
fn unavailable(kind: ReportKind, error: &watcher::Error) -> String {
    let status = super::refusal(error);
    let name = format!("{} ({})", kind.kind(), kind.api_version());
    match status {
        Some(s) if s.code == 404 => format!(
            "{name} is not installed in this cluster (no such resource); its reports are not read"
        ),
        Some(s) if s.code == 403 => format!("the operator may not list {name}: {}", s.message),
        _ => format!("{name} cannot be read: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, message: &str) -> watcher::Error {
        watcher::Error::InitialListFailed(kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: message.to_owned(),
            ..kube::core::Status::default()
        })))
    }

    #[test]
    fn a_missing_crd_and_a_refusal_are_told_apart() {
        let missing = unavailable(
            ReportKind::PolicyReport,
            &refused(404, "the server could not find the requested resource"),
        );
        assert_eq!(
            missing,
            "PolicyReport (wgpolicyk8s.io/v1alpha2) is not installed in this cluster (no such resource); its reports are not read"
        );
        let forbidden = unavailable(
            ReportKind::Report,
            &refused(403, "reports.openreports.io is forbidden"),
        );
        assert!(
            forbidden.starts_with("the operator may not list Report (openreports.io/v1alpha1)"),
            "{forbidden}"
        );
    }

    #[test]
    fn report_kinds_map_to_their_api_resources() {
        let resource = api_resource(ReportKind::ClusterPolicyReport);
        assert_eq!(resource.api_version, "wgpolicyk8s.io/v1alpha2");
        assert_eq!(resource.plural, "clusterpolicyreports");
        assert_eq!(api_resource(ReportKind::Report).group, "openreports.io");
    }
}
