//! Status writes through server-side apply, as the operator's field manager.

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::Error;
use crate::api::{JiraActiveSync, PendingCreateGroup};

/// Applies `status` to the status subresource of `name`.
pub async fn apply_status<K, S>(
    api: &Api<K>,
    manager: &str,
    name: &str,
    status: &S,
) -> Result<(), Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

/// Records a sync's pending creates, and only them, before the creates go out: a crash between
/// the create and the end of the pass must not lose them. The pass's full status apply follows.
pub async fn record_pending_creates(
    api: &Api<JiraActiveSync>,
    manager: &str,
    name: &str,
    pending: &[PendingCreateGroup],
) -> Result<(), Error> {
    let patch =
        serde_json::json!({"status": {"pendingCreateGroups": pending, "pendingCreates": []}});
    let params = PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    };
    api.patch_status(name, &params, &Patch::Merge(&patch))
        .await?;
    Ok(())
}
