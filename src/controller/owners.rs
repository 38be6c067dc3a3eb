//! Reads the assignee annotation (`spec.assignee.fromAnnotation`) on the resources findings are
//! about and on their namespaces. Values are remembered for a few minutes, so that a resync of
//! thousands of findings does not read every resource again; a resource the operator may not read
//! (or that is gone) simply has no value, and the namespace or the default applies.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, ResourceExt};

use crate::sources::{Owners, Report, ResourceKey, findings};

/// How long a value read is trusted.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// An annotation's value on a resource (`None`: none), and when it was read; by resource and key.
type Values = HashMap<(ResourceKey, String), (Option<String>, Instant)>;

/// Annotations on resources and namespaces, as last read.
#[derive(Default)]
pub struct OwnerCache {
    values: Mutex<Values>,
}

impl OwnerCache {
    /// The values of `annotation` on the resources of `reports` and on their namespaces.
    pub async fn owners(
        &self,
        client: &kube::Client,
        annotation: &str,
        reports: &[Report],
    ) -> Owners {
        let mut resources = BTreeSet::new();
        let mut namespaces = BTreeSet::new();
        for report in reports {
            for finding in findings(report) {
                let resource = finding.resource;
                if let Some(key) = resource.and_then(ResourceKey::of) {
                    resources.insert(key);
                }
                let ns = resource
                    .and_then(|r| r.namespace.clone())
                    .or_else(|| report.namespace.clone());
                namespaces.extend(ns);
            }
        }
        let mut owners = Owners::default();
        for key in resources {
            if let Some(value) = self.value(client, &key, annotation).await {
                owners.resources.insert(key, value);
            }
        }
        for ns in namespaces {
            let key = namespace_key(&ns);
            if let Some(value) = self.value(client, &key, annotation).await {
                owners.namespaces.insert(ns, value);
            }
        }
        owners
    }

    async fn value(
        &self,
        client: &kube::Client,
        key: &ResourceKey,
        annotation: &str,
    ) -> Option<String> {
        let cache_key = (key.clone(), annotation.to_owned());
        if let Some((value, at)) = self.lock().get(&cache_key)
            && at.elapsed() < FRESH_FOR
        {
            return value.clone();
        }
        let value = read(client, key)
            .await
            .and_then(|a| a.get(annotation).cloned());
        self.lock()
            .insert(cache_key, (value.clone(), Instant::now()));
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Values> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn namespace_key(name: &str) -> ResourceKey {
    ResourceKey {
        api_version: "v1".to_owned(),
        kind: "Namespace".to_owned(),
        namespace: String::new(),
        name: name.to_owned(),
    }
}

/// A resource's annotations, read as metadata only; `None` when it cannot be read.
async fn read(client: &kube::Client, key: &ResourceKey) -> Option<BTreeMap<String, String>> {
    let found = if key.kind == "Namespace" && key.api_version == "v1" {
        let api: Api<Namespace> = Api::all(client.clone());
        api.get_metadata_opt(&key.name)
            .await
            .map(|m| m.map(|m| m.annotations().clone()))
    } else {
        let (group, version) = key
            .api_version
            .split_once('/')
            .unwrap_or(("", &key.api_version));
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &key.kind));
        let api: Api<DynamicObject> = if key.namespace.is_empty() {
            Api::all_with(client.clone(), &resource)
        } else {
            Api::namespaced_with(client.clone(), &key.namespace, &resource)
        };
        api.get_metadata_opt(&key.name)
            .await
            .map(|m| m.map(|m| m.annotations().clone()))
    };
    match found {
        Ok(annotations) => annotations,
        Err(error) => {
            tracing::debug!(kind = %key.kind, namespace = %key.namespace, name = %key.name, %error, "cannot read the owner annotation");
            None
        }
    }
}
