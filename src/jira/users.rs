//! Users looked up by email, cached with an expiry and shared by every client of one Jira site
//! acting as one principal: the connections of many namespaces to one site look each person up
//! once, instead of once per connection (50 namespaces with 50 assignees each would otherwise make
//! 2,500 lookups against the site's rate limit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::model::JiraUser;
use super::principal::PerPrincipal;

/// One cache of lookups. Cheap to clone; clones share the entries.
#[derive(Debug, Clone, Default)]
pub struct UserCache {
    entries: Arc<Mutex<HashMap<String, CachedUser>>>,
    /// One lock per email being looked up, so that concurrent lookups of one email make one call.
    turns: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

#[derive(Debug, Clone)]
struct CachedUser {
    found_at: Instant,
    user: Option<JiraUser>,
}

impl UserCache {
    /// What a lookup of `email_key` found within the last `ttl`: `Some(None)` when it found nobody.
    pub fn get(&self, email_key: &str, ttl: Duration) -> Option<Option<JiraUser>> {
        self.lock()
            .get(email_key)
            .filter(|c| c.found_at.elapsed() < ttl)
            .map(|c| c.user.clone())
    }

    /// Records what a lookup of `email_key` found.
    pub fn put(&self, email_key: String, user: Option<JiraUser>) {
        let found_at = Instant::now();
        self.lock().insert(email_key, CachedUser { found_at, user });
    }

    /// Waits for the turn to look up `email_key`; the turn lasts while the guard lives.
    pub async fn turn(&self, email_key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
            // Locks nobody waits on or holds are dropped, so the map stays as small as the
            // lookups in flight.
            turns.retain(|_, lock| Arc::strong_count(lock) > 1);
            turns.entry(email_key.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, CachedUser>> {
        // Entries are independent values, so a poisoned lock still holds a usable map.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The user caches of every (site, principal) a process talks to. Who a lookup finds depends on
/// the principal's permission to browse users, so principals never share a cache.
pub type UserDirectories = PerPrincipal<UserCache>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::config::Credentials;

    fn basic(email: &str) -> Credentials {
        Credentials::Basic {
            email: email.into(),
            api_token: "t".into(),
        }
    }

    fn user(account: &str) -> JiraUser {
        JiraUser {
            account_id: account.into(),
            display_name: account.into(),
            email: None,
            active: true,
        }
    }

    #[test]
    fn one_site_and_principal_share_a_cache_and_others_do_not() {
        let directories = UserDirectories::default();
        let first = directories.of("https://acme.atlassian.net/", &basic("Bot@acme.io"));
        first.put("alice@acme.io".into(), Some(user("acc-alice")));
        let ttl = Duration::from_secs(600);
        let same = directories.of("https://acme.atlassian.net", &basic("bot@acme.io"));
        assert_eq!(
            same.get("alice@acme.io", ttl)
                .flatten()
                .map(|u| u.account_id),
            Some("acc-alice".to_owned())
        );
        for other in [
            directories.of("https://other.atlassian.net", &basic("bot@acme.io")),
            directories.of("https://acme.atlassian.net", &basic("person@acme.io")),
            directories.of(
                "https://acme.atlassian.net",
                &Credentials::Bearer {
                    token: "pat".into(),
                },
            ),
        ] {
            assert_eq!(other.get("alice@acme.io", ttl), None);
        }
    }

    #[test]
    fn an_entry_expires_and_a_miss_is_remembered() {
        let cache = UserCache::default();
        cache.put("nobody@acme.io".into(), None);
        assert_eq!(
            cache.get("nobody@acme.io", Duration::from_secs(60)),
            Some(None)
        );
        assert_eq!(cache.get("nobody@acme.io", Duration::ZERO), None);
    }

    #[tokio::test]
    async fn lookups_of_one_email_take_turns_and_other_emails_do_not_wait() {
        let cache = UserCache::default();
        let first = cache.turn("alice@acme.io").await;
        let other = tokio::time::timeout(Duration::from_secs(1), cache.turn("bob@acme.io")).await;
        assert!(other.is_ok(), "another email does not wait");
        let second = tokio::time::timeout(Duration::from_millis(50), cache.turn("alice@acme.io"));
        assert!(
            second.await.is_err(),
            "the same email waits for the first lookup"
        );
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(1), cache.turn("alice@acme.io")).await;
        assert!(
            third.is_ok(),
            "the turn passes on once the first lookup is done"
        );
    }
}
