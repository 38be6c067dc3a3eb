//! HTTPS with a CA of the emulator's own: a fresh CA and a server certificate for the loopback
//! names (and the listen address, when it is another particular one), made at start-up, so clients can be tested against a site behind a private CA.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating a key or certificate failed.
    #[error("cannot generate the emulator's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The certificates do not make a usable server configuration.
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The emulator's CA (which clients trust) and the acceptor serving its server certificate.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// Accepts TLS connections with the server certificate the CA signed.
    pub acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

/// The names the server certificate always covers: the loopback ones.
const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl TlsIdentity {
    /// A new CA and a server certificate signed by it, for the loopback names, `listen` when the
    /// emulator listens on another particular address (e.g. a bridge that containers reach), and
    /// `also` (DNS names or IP addresses, e.g. of a Service in front of it).
    pub fn generate(listen: IpAddr, also: &[String]) -> Result<TlsIdentity, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "jira-emulator private CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut names = SERVER_NAMES.map(str::to_owned).to_vec();
        if !listen.is_loopback() && !listen.is_unspecified() {
            names.push(listen.to_string());
        }
        names.extend(also.iter().cloned());
        let mut server_params = CertificateParams::new(names)?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "jira-emulator");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert = server_params.signed_by(&server_key, &ca)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![server_cert.der().clone(), ca.der().clone()], key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}
