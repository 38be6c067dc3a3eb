//! Service credentials beside the users' own API tokens and personal access tokens: OAuth 2.0
//! clients (client credentials grant) with the access tokens issued to them, and scoped API tokens.
//! Each acts as a seeded user within its scopes; the admin API adds them, and makes them expire or
//! revokes them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::Flavor;
use super::scopes;

/// A credential as the admin API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSpec {
    /// The admin API's name for it (for expire and revoke).
    pub name: String,
    /// The seeded user it acts as, by email.
    pub email: String,
    /// What it is.
    #[serde(flatten)]
    pub kind: CredentialKind,
    /// Scopes it may use (Cloud classic scopes, or Data Center `READ`/`WRITE`/`ADMIN`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// How long an access token issued to it lives.
    #[serde(default = "default_lifetime")]
    pub token_lifetime_secs: u64,
}

fn default_lifetime() -> u64 {
    3600
}

/// The two kinds of service credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum CredentialKind {
    /// An OAuth 2.0 client that exchanges its id and secret for access tokens.
    OauthClient {
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: String,
    },
    /// A scoped API token, sent with Basic auth through the gateway only.
    ScopedToken {
        /// The token.
        token: String,
    },
}

/// Who a service credential acts as, and within which scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCaller {
    /// The user's email.
    pub email: String,
    /// Scopes the request may use.
    pub scopes: Vec<String>,
}

/// An access token handed out by a token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: u64,
    /// Scopes it carries.
    pub scopes: Vec<String>,
}

/// Why a token endpoint refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Unknown client, wrong secret, or revoked.
    InvalidClient,
    /// The scopes asked for exceed the client's.
    InvalidScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Active,
    Expired,
    Revoked,
}

#[derive(Debug, Clone)]
struct Credential {
    spec: CredentialSpec,
    standing: Standing,
}

#[derive(Debug, Clone)]
struct AccessToken {
    credential: String,
    scopes: Vec<String>,
    expires_at: Instant,
}

/// The service credentials of a site and the access tokens they hold.
#[derive(Debug, Default)]
pub struct CredentialRegistry {
    credentials: BTreeMap<String, Credential>,
    tokens: HashMap<String, AccessToken>,
}

impl CredentialRegistry {
    /// Adds (or replaces) a credential; tokens issued under the old one of that name stay valid
    /// until they expire, as Jira's do.
    pub fn add(&mut self, spec: CredentialSpec) {
        let credential = Credential {
            spec: spec.clone(),
            standing: Standing::Active,
        };
        self.credentials.insert(spec.name, credential);
    }

    /// The credentials, as added.
    pub fn specs(&self) -> Vec<CredentialSpec> {
        self.credentials.values().map(|c| c.spec.clone()).collect()
    }

    /// The client credentials grant: a fresh access token for a client whose secret matches.
    pub fn issue(
        &mut self,
        flavor: Flavor,
        client_id: &str,
        client_secret: &str,
        requested: Option<Vec<String>>,
        now: Instant,
    ) -> Result<IssuedToken, TokenRefusal> {
        let credential = self
            .credentials
            .values()
            .find(|c| {
                c.standing != Standing::Revoked
                    && matches!(&c.spec.kind, CredentialKind::OauthClient { client_id: id, client_secret: secret }
                        if id == client_id && secret == client_secret)
            })
            .ok_or(TokenRefusal::InvalidClient)?;
        let scopes = match requested {
            Some(requested) if !scopes::within(flavor, &credential.spec.scopes, &requested) => {
                return Err(TokenRefusal::InvalidScope);
            }
            Some(requested) => requested,
            None => credential.spec.scopes.clone(),
        };
        let lifetime = credential.spec.token_lifetime_secs;
        let access_token = format!("emu-at-{:032x}", rand::random::<u128>());
        self.tokens.insert(
            access_token.clone(),
            AccessToken {
                credential: credential.spec.name.clone(),
                scopes: scopes.clone(),
                expires_at: now + Duration::from_secs(lifetime),
            },
        );
        Ok(IssuedToken {
            access_token,
            expires_in: lifetime,
            scopes,
        })
    }

    /// Who a Bearer access token acts as, while it is valid.
    pub fn bearer(&self, token: &str, now: Instant) -> Option<ServiceCaller> {
        let issued = self.tokens.get(token).filter(|t| t.expires_at > now)?;
        let credential = self.credentials.get(&issued.credential)?;
        (credential.standing != Standing::Revoked).then(|| ServiceCaller {
            email: credential.spec.email.clone(),
            scopes: issued.scopes.clone(),
        })
    }

    /// Who a scoped API token (Basic `email:token`) acts as, while it is active.
    pub fn scoped_token(&self, email: &str, token: &str) -> Option<ServiceCaller> {
        self.credentials
            .values()
            .find(|c| {
                c.standing == Standing::Active
                    && c.spec.email.eq_ignore_ascii_case(email)
                    && matches!(&c.spec.kind, CredentialKind::ScopedToken { token: t } if t == token)
            })
            .map(|c| ServiceCaller {
                email: c.spec.email.clone(),
                scopes: c.spec.scopes.clone(),
            })
    }

    /// Makes a credential's tokens expire now: an OAuth client's issued tokens (it may fetch new
    /// ones), or a scoped token itself. False when no credential has that name.
    pub fn expire(&mut self, name: &str, now: Instant) -> bool {
        let Some(credential) = self.credentials.get_mut(name) else {
            return false;
        };
        match credential.spec.kind {
            CredentialKind::OauthClient { .. } => {
                for token in self.tokens.values_mut().filter(|t| t.credential == name) {
                    token.expires_at = token.expires_at.min(now);
                }
            }
            CredentialKind::ScopedToken { .. } => credential.standing = Standing::Expired,
        }
        true
    }

    /// Revokes a credential: it and every token issued to it stop working. False when no
    /// credential has that name.
    pub fn revoke(&mut self, name: &str) -> bool {
        let Some(credential) = self.credentials.get_mut(name) else {
            return false;
        };
        credential.standing = Standing::Revoked;
        self.tokens.retain(|_, t| t.credential != name);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scopes: &[&str], lifetime: u64) -> CredentialSpec {
        CredentialSpec {
            name: "svc".into(),
            email: "svc@example.com".into(),
            kind: CredentialKind::OauthClient {
                client_id: "id".into(),
                client_secret: "secret".into(),
            },
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            token_lifetime_secs: lifetime,
        }
    }

    #[test]
    fn issued_tokens_live_their_lifetime_and_end_on_expire_or_revoke() {
        let mut registry = CredentialRegistry::default();
        registry.add(client(&["read:jira-work"], 5));
        let now = Instant::now();
        let issued = registry
            .issue(Flavor::Cloud, "id", "secret", None, now)
            .expect("issued");
        assert_eq!(issued.expires_in, 5);
        assert!(registry.bearer(&issued.access_token, now).is_some());
        assert!(
            registry
                .bearer(&issued.access_token, now + Duration::from_secs(5))
                .is_none()
        );
        assert!(registry.expire("svc", now));
        assert!(registry.bearer(&issued.access_token, now).is_none());
        let fresh = registry
            .issue(Flavor::Cloud, "id", "secret", None, now)
            .expect("a client whose tokens expired gets a new one");
        assert!(registry.revoke("svc"));
        assert!(registry.bearer(&fresh.access_token, now).is_none());
        assert_eq!(
            registry.issue(Flavor::Cloud, "id", "secret", None, now),
            Err(TokenRefusal::InvalidClient)
        );
    }

    #[test]
    fn wrong_secrets_and_excess_scopes_are_refused() {
        let mut registry = CredentialRegistry::default();
        registry.add(client(&["WRITE"], 60));
        let now = Instant::now();
        assert_eq!(
            registry.issue(Flavor::Datacenter, "id", "nope", None, now),
            Err(TokenRefusal::InvalidClient)
        );
        assert_eq!(
            registry.issue(
                Flavor::Datacenter,
                "id",
                "secret",
                Some(vec!["ADMIN".into()]),
                now
            ),
            Err(TokenRefusal::InvalidScope)
        );
        let read = registry
            .issue(
                Flavor::Datacenter,
                "id",
                "secret",
                Some(vec!["READ".into()]),
                now,
            )
            .expect("a lower scope is granted");
        assert_eq!(read.scopes, vec!["READ".to_owned()]);
    }

    #[test]
    fn a_scoped_token_works_until_it_expires() {
        let mut registry = CredentialRegistry::default();
        registry.add(CredentialSpec {
            kind: CredentialKind::ScopedToken {
                token: "scoped".into(),
            },
            ..client(&["read:jira-work"], 60)
        });
        assert!(registry.scoped_token("SVC@example.com", "scoped").is_some());
        assert!(registry.scoped_token("svc@example.com", "other").is_none());
        registry.expire("svc", Instant::now());
        assert!(registry.scoped_token("svc@example.com", "scoped").is_none());
    }
}
