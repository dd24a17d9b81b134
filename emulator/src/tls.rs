//! TLS material generated at start: a self-signed CA and a server certificate for
//! `localhost`, `127.0.0.1` and the configured host names (both SDKs verify the host name,
//! protocol.md §10). The CA is written out as PEM so peers can trust it
//! (NODE_EXTRA_CA_CERTS, Python `server_verification_cert`). The server certificate and its key
//! can be written out too, for a local peer that must be reached under the same trust (Azurite
//! serving file uploads over HTTPS to the Node SDK, which hard-codes `https://`).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

pub struct TlsMaterial {
    pub ca_pem: String,
    /// The CA as a trust anchor for the emulator's own outgoing TLS (the blob lookup, hub/blob_props.rs).
    pub ca_der: CertificateDer<'static>,
    /// Leaf then CA, PEM: what a peer serving under this trust presents.
    pub server_chain_pem: String,
    pub server_key_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

pub fn generate(extra_names: &[String]) -> Result<TlsMaterial, String> {
    let err = |e: rcgen::Error| format!("certificate generation failed: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "iot-emulator local CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    for n in extra_names {
        if !n.is_empty() && !names.iter().any(|m| m.eq_ignore_ascii_case(n)) {
            names.push(n.clone());
        }
    }
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params = CertificateParams::new(names).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = dn;
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let server_chain_pem = format!("{}{}", leaf_cert.pem(), ca_cert.pem());
    let server_key_pem = leaf_key.serialize_pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls config: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("tls config: {e}"))?;
    Ok(TlsMaterial { ca_pem: ca_cert.pem(), ca_der: ca_cert.der().clone(), server_chain_pem, server_key_pem, server_config: Arc::new(config) })
}
