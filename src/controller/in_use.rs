//! In-use protection: a JiraConnection keeps the finalizer `activesync.dev/in-use` while a sync of
//! its namespace still needs it for its deletion policy, so that `kubectl delete -f dir/` in file
//! order and namespace deletion finish with every sync's policy applied.

use kube::{Api, ResourceExt};

use super::context::Context;
use super::error::Error;
use super::finalizers;
use super::pass::needs_jira_to_delete;
use crate::api::{IN_USE, JiraConnection};

/// What became of the connection's protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// It stays (protected or not, as its syncs need).
    Kept,
    /// It was being deleted and no sync needs it any more: the finalizer is gone, and so will it.
    Released,
}

/// The syncs of the connection's namespace whose deletion policy needs it, by name.
fn needed_by(ctx: &Context, connection: &JiraConnection) -> Vec<String> {
    let namespace = connection.namespace();
    let name = connection.name_any();
    ctx.stores
        .syncs
        .state()
        .into_iter()
        .filter(|s| s.namespace() == namespace && s.spec.connection_ref.name == name)
        .filter(|s| needs_jira_to_delete(s))
        .map(|s| s.name_any())
        .collect()
}

/// Adds or removes the in-use finalizer as the connection's syncs need. A finalizer cannot be added
/// to an object being deleted; one already there stays until the last sync that needs it is gone.
pub async fn protect(ctx: &Context, connection: &JiraConnection) -> Result<Protection, Error> {
    let needed = needed_by(ctx, connection);
    let has = connection.finalizers().iter().any(|f| f == IN_USE);
    let deleting = connection.metadata.deletion_timestamp.is_some();
    let mut finalizers: Vec<&str> = connection.finalizers().iter().map(String::as_str).collect();
    match (needed.is_empty(), has) {
        (false, false) if !deleting => finalizers.push(IN_USE),
        (true, true) => finalizers.retain(|f| *f != IN_USE),
        (false, true) if deleting => {
            tracing::info!(connection = %connection.name_any(), namespace = ?connection.namespace(), syncs = ?needed, "connection deletion waits for the syncs that need it for their deletion policy");
            return Ok(Protection::Kept);
        }
        _ => return Ok(Protection::Kept),
    }
    let namespace = connection
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let api: Api<JiraConnection> = Api::namespaced(ctx.kube.clone(), &namespace);
    // A concurrent change of the finalizers is a conflict, retried at once.
    finalizers::replace(&api, connection, &finalizers).await?;
    Ok(if deleting && needed.is_empty() {
        Protection::Released
    } else {
        Protection::Kept
    })
}
