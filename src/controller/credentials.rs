//! Credentials and webhook secrets, read from Secrets of the connection's own namespace.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::error::Error;
use crate::api::{AuthType, JiraConnection};
use crate::jira::Credentials;

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

/// The credentials a connection names, from its Secret: `email` + `apiToken` for Basic, `token` for
/// Bearer.
pub fn credentials(connection: &JiraConnection, secret: &Secret) -> Result<Credentials, Error> {
    let name = &connection.spec.auth.secret_ref.name;
    Ok(match connection.spec.auth.type_ {
        AuthType::Basic => Credentials::Basic {
            email: required(secret, name, "email")?,
            api_token: required(secret, name, "apiToken")?,
        },
        AuthType::Bearer => Credentials::Bearer {
            token: required(secret, name, "token")?,
        },
    })
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
    fn webhook_secret_is_read_from_its_key() {
        let conn = connection("Basic");
        let s = webhook_secret(&conn, &secret(&[("secret", "hmac")])).expect("ok");
        assert_eq!(s.as_deref(), Some("hmac"));
    }
}
