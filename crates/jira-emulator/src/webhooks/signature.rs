//! The `X-Hub-Signature` Jira puts on a webhook whose registration has a secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<lower-case hex HMAC-SHA256 of the body, keyed with the secret>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn differs_with_the_secret_and_the_body() {
        let body = br#"{"webhookEvent":"jira:issue_created"}"#;
        assert_ne!(sign("a", body), sign("b", body));
        assert_ne!(sign("a", body), sign("a", b"{}"));
        assert_eq!(sign("", b"").len(), "sha256=".len() + 64);
    }
}
