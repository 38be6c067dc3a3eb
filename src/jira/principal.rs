//! What a process keeps per (Jira site, principal): the connections of many namespaces to one site,
//! acting as one account, share it, since Jira answers (and rate-limits) the account, not the
//! connection.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::config::{ClientConfig, Credentials};
use super::throttle::PauseDirectory;
use super::users::UserDirectories;

/// What the clients of one site and principal share, for every site and principal a process
/// talks to: the users looked up by email, and the pauses Jira asked for.
#[derive(Debug, Default)]
pub struct PrincipalShares {
    users: UserDirectories,
    pauses: PauseDirectory,
}

impl PrincipalShares {
    /// Gives `config` the user cache and pauses of its site and principal.
    pub fn share_with(&self, config: &mut ClientConfig) {
        config.users = self.users.of(&config.base_url, &config.credentials);
        config.pauses = self.pauses.of(&config.base_url, &config.credentials);
    }
}

/// One `T` per (site, principal) a process talks to. Cheap-to-clone `T`s share their state.
#[derive(Debug, Default)]
pub struct PerPrincipal<T>(Mutex<HashMap<(String, String), T>>);

impl<T: Default + Clone> PerPrincipal<T> {
    /// The `T` of `base_url` for the principal of `credentials`.
    pub fn of(&self, base_url: &str, credentials: &Credentials) -> T {
        let key = (
            base_url.trim_end_matches('/').to_owned(),
            principal(credentials),
        );
        let mut shared = self.0.lock().unwrap_or_else(|p| p.into_inner());
        shared.entry(key).or_default().clone()
    }
}

/// Who the credentials act as, without their secret: an account email, an OAuth client id, or a
/// digest of a personal access token (whose owner the token alone does not name).
fn principal(credentials: &Credentials) -> String {
    match credentials {
        Credentials::Basic { email, .. } => format!("basic:{}", email.to_lowercase()),
        Credentials::Bearer { token } => {
            format!("token:{}", hex::encode(Sha256::digest(token.as_bytes())))
        }
        Credentials::OAuth2ClientCredentials(client) => format!("oauth:{}", client.client_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_principal_never_shows_the_token() {
        let key = principal(&Credentials::Bearer {
            token: "pat-s3cr3t".into(),
        });
        assert!(!key.contains("s3cr3t"), "{key}");
    }
}
