//! Writing an object's finalizers, for the in-use protection of connections and for the uninstall
//! hook that takes the operator's finalizers off.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

/// Sets the finalizers of `object` to `finalizers`. The object's resourceVersion goes with them, so
/// a concurrent change of the finalizers makes this a conflict instead of being overwritten.
pub async fn replace<K>(api: &Api<K>, object: &K, finalizers: &[&str]) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({"metadata": {"finalizers": finalizers,
                                    "resourceVersion": object.resource_version()}});
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
