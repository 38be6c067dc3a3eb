//! Credentials, webhook secrets and trusted CAs, read from Secrets of the connection's own namespace.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::connection::jira_flavor;
use super::error::Error;
use crate::api::{AuthType, JiraConnection};
use crate::jira::{Credentials, OAuth2Client};

/// A Secret's value for `key`, as UTF-8 text with surrounding whitespace removed.
fn value(secret: &Secret, key: &str) -> Option<String> {
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|v| String::from_utf8(v.0.clone()).ok());
    let from_string = || {
        secret
            .string_data
            .as_ref()
            .and_then(|d| d.get(key))
            .cloned()
    };
    from_data
        .or_else(from_string)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn required(secret: &Secret, name: &str, key: &str) -> Result<String, Error> {
    value(secret, key)
        .ok_or_else(|| Error::Credentials(format!("Secret {name} has no non-empty key {key:?}")))
}

/// Reads a Secret of `namespace`, saying clearly when it is missing.
pub async fn read_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Secret, Error> {
    Api::<Secret>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await?
        .ok_or_else(|| Error::Credentials(format!("Secret {namespace}/{name} not found")))
}

/// The Secret keys an auth type reads; the secret one (to rotate) last.
pub fn secret_keys(auth: AuthType) -> &'static [&'static str] {
    match auth {
        AuthType::Basic => &["email", "apiToken"],
        AuthType::Bearer => &["token"],
        AuthType::OAuth2ClientCredentials => &["clientId", "clientSecret"],
    }
}

/// The credentials a connection names, from its Secret: `email` + `apiToken` for Basic, `token` for
/// Bearer, `clientId` + `clientSecret` for OAuth2ClientCredentials (with the token endpoint and
/// scopes of the spec).
pub fn credentials(connection: &JiraConnection, secret: &Secret) -> Result<Credentials, Error> {
    let auth = &connection.spec.auth;
    let name = &auth.secret_ref.name;
    Ok(match auth.type_ {
        AuthType::Basic => Credentials::Basic {
            email: required(secret, name, "email")?,
            api_token: required(secret, name, "apiToken")?,
        },
        AuthType::Bearer => Credentials::Bearer {
            token: required(secret, name, "token")?,
        },
        AuthType::OAuth2ClientCredentials => {
            let flavor = jira_flavor(connection.spec.flavor);
            Credentials::OAuth2ClientCredentials(OAuth2Client {
                client_id: required(secret, name, "clientId")?,
                client_secret: required(secret, name, "clientSecret")?,
                token_url: auth
                    .token_url
                    .clone()
                    .unwrap_or_else(|| flavor.default_token_url(&connection.spec.url)),
                scopes: auth.scopes.clone(),
                encoding: flavor.token_request_encoding(),
            })
        }
    })
}

/// The private CA a connection trusts (PEM), from the key its `tls.caSecretRef` names.
pub fn trusted_ca(connection: &JiraConnection, secret: &Secret) -> Result<Option<Vec<u8>>, Error> {
    let Some(tls) = &connection.spec.tls else {
        return Ok(None);
    };
    let reference = &tls.ca_secret_ref;
    let pem = required(secret, &reference.name, &reference.key)?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Error::Credentials(format!(
            "Secret {} key {:?} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            reference.name, reference.key
        )));
    }
    Ok(Some(pem.into_bytes()))
}

/// The webhook HMAC secret of a connection, if it names one.
pub fn webhook_secret(
    connection: &JiraConnection,
    secret: &Secret,
) -> Result<Option<String>, Error> {
    match &connection.spec.webhook {
        Some(webhook) => {
            required(secret, &webhook.secret_ref.name, &webhook.secret_ref.key).map(Some)
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Secret::default()
        }
    }

    fn connection(auth: &str) -> JiraConnection {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "activesync.dev/v1alpha1",
            "kind": "JiraConnection",
            "metadata": {"name": "acme", "namespace": "ns"},
            "spec": {"url": "https://acme.atlassian.net", "auth": {"type": auth, "secretRef": {"name": "creds"}},
                     "webhook": {"secretRef": {"name": "hook", "key": "secret"}}}
        }))
        .expect("valid connection")
    }

    #[test]
    fn basic_needs_email_and_api_token() {
        let conn = connection("Basic");
        let creds =
            credentials(&conn, &secret(&[("email", "a@b.c\n"), ("apiToken", "t")])).expect("ok");
        assert!(matches!(creds, Credentials::Basic { ref email, .. } if email == "a@b.c"));
        let err = credentials(&conn, &secret(&[("email", "a@b.c")])).expect_err("missing token");
        assert_eq!(
            err.to_string(),
            "Secret creds has no non-empty key \"apiToken\""
        );
    }

    #[test]
    fn bearer_needs_token() {
        let conn = connection("Bearer");
        assert!(credentials(&conn, &secret(&[("token", "pat")])).is_ok());
        assert!(credentials(&conn, &secret(&[("token", "  ")])).is_err());
    }

    #[test]
    fn oauth2_takes_client_id_and_secret_and_defaults_the_token_url_per_flavor() {
        let mut conn = connection("OAuth2ClientCredentials");
        let keys = secret(&[("clientId", "svc"), ("clientSecret", "s")]);
        let Credentials::OAuth2ClientCredentials(client) = credentials(&conn, &keys).expect("ok")
        else {
            panic!("expected OAuth 2.0 client credentials");
        };
        assert_eq!(client.token_url, "https://auth.atlassian.com/oauth/token");
        conn.spec.flavor = crate::api::Flavor::DataCenter;
        conn.spec.url = "https://jira.corp.example".into();
        let Credentials::OAuth2ClientCredentials(client) = credentials(&conn, &keys).expect("ok")
        else {
            panic!("expected OAuth 2.0 client credentials");
        };
        assert_eq!(
            client.token_url,
            "https://jira.corp.example/rest/oauth2/latest/token"
        );
        let err = credentials(&conn, &secret(&[("clientId", "svc")])).expect_err("no secret");
        assert!(err.to_string().contains("clientSecret"), "{err}");
    }

    #[test]
    fn a_trusted_ca_must_be_pem() {
        let mut conn = connection("Basic");
        assert_eq!(trusted_ca(&conn, &secret(&[])).expect("no tls"), None);
        conn.spec.tls = Some(crate::api::TlsConfig {
            ca_secret_ref: crate::api::CaSecretRef {
                name: "corp-ca".into(),
                key: "ca.crt".into(),
            },
        });
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert!(
            trusted_ca(&conn, &secret(&[("ca.crt", pem)]))
                .expect("pem")
                .is_some()
        );
        assert!(trusted_ca(&conn, &secret(&[("ca.crt", "not a cert")])).is_err());
    }

    #[test]
    fn webhook_secret_is_read_from_its_key() {
        let conn = connection("Basic");
        let s = webhook_secret(&conn, &secret(&[("secret", "hmac")])).expect("ok");
        assert_eq!(s.as_deref(), Some("hmac"));
    }
}
