//! HTTPS: loading a PEM certificate chain and private key, generating a self-signed certificate,
//! and building the rustls `ServerConfig` (always with the `ring` provider, chosen explicitly).
//!
//! The accept loop that serves the app over TLS is `server::run_tls`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// File name of the self-signed certificate under `DATA_DIR/tls/`.
pub const SELF_SIGNED_FILE: &str = "self-signed-cert.pem";

/// How long the self-signed certificate is valid (it is regenerated on every start).
const SELF_SIGNED_VALIDITY_DAYS: i64 = 397;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS certificate file {path}: {source}")]
    ReadCert {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read TLS key file {path}: {source}")]
    ReadKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS certificate file {path} is not valid PEM: {reason}")]
    BadCertPem { path: PathBuf, reason: String },
    #[error("TLS certificate file {path} contains no PEM certificate (BEGIN CERTIFICATE)")]
    NoCert { path: PathBuf },
    #[error("TLS key file {path} is not valid PEM: {reason}")]
    BadKeyPem { path: PathBuf, reason: String },
    #[error(
        "TLS key file {path} contains no PEM private key (PKCS#8, PKCS#1/RSA or SEC1/EC PRIVATE KEY)"
    )]
    NoKey { path: PathBuf },
    #[error("TLS key file {key} does not match the certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot use TLS certificate {cert} with key {key}: {reason}")]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot generate a self-signed TLS certificate: {0}")]
    Generate(String),
    #[error("cannot write the self-signed TLS certificate to {path}: {source}")]
    WriteCert {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// `--tls-cert` / `--tls-key`: PEM files.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed`: generated at start for localhost (and `domain`); the certificate PEM
    /// is written to `cert_out` (the private key never touches the disk).
    SelfSigned { domain: String, cert_out: PathBuf },
}

/// A ready TLS setup.
#[derive(Debug)]
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    /// The self-signed certificate file written (None for `TlsSource::Files`).
    pub written_cert: Option<PathBuf>,
}

/// Loads or generates the certificate and builds the server configuration.
pub fn setup(source: &TlsSource) -> Result<TlsSetup, TlsError> {
    match source {
        TlsSource::Files { cert, key } => Ok(TlsSetup {
            config: server_config_from_files(cert, key)?,
            written_cert: None,
        }),
        TlsSource::SelfSigned { domain, cert_out } => {
            let generated = generate_self_signed(&self_signed_names(domain))?;
            write_cert_pem(cert_out, &generated.cert_pem)?;
            let config = server_config(generated.chain, generated.key).map_err(|e| {
                TlsError::Generate(format!("generated certificate is not usable: {e}"))
            })?;
            Ok(TlsSetup {
                config,
                written_cert: Some(cert_out.clone()),
            })
        }
    }
}

/// The default path of the self-signed certificate: `DATA_DIR/tls/self-signed-cert.pem`, or a
/// per-process file in the system temp dir when there is no data dir (`--memory`).
pub fn default_self_signed_path(data_dir: Option<&Path>) -> PathBuf {
    match data_dir {
        Some(dir) => dir.join("tls").join(SELF_SIGNED_FILE),
        None => std::env::temp_dir().join(format!(
            "sealstore-{}-self-signed-cert.pem",
            std::process::id()
        )),
    }
}

/// The stderr line announcing the self-signed certificate (without the `sealstore: ` prefix).
pub fn self_signed_notice(path: &Path) -> String {
    format!(
        "self-signed TLS certificate written to {p} (trust it with AWS_CA_BUNDLE={p})",
        p = path.display()
    )
}

/// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_pem_files(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let cert_bytes = std::fs::read(cert).map_err(|source| TlsError::ReadCert {
        path: cert.to_path_buf(),
        source,
    })?;
    let key_bytes = std::fs::read(key).map_err(|source| TlsError::ReadKey {
        path: key.to_path_buf(),
        source,
    })?;
    let chain = parse_cert_chain(&cert_bytes).map_err(|e| match e {
        None => TlsError::NoCert {
            path: cert.to_path_buf(),
        },
        Some(reason) => TlsError::BadCertPem {
            path: cert.to_path_buf(),
            reason,
        },
    })?;
    let key_der = parse_private_key(&key_bytes).map_err(|e| match e {
        None => TlsError::NoKey {
            path: key.to_path_buf(),
        },
        Some(reason) => TlsError::BadKeyPem {
            path: key.to_path_buf(),
            reason,
        },
    })?;
    Ok((chain, key_der))
}

/// Builds the server configuration from PEM files.
pub fn server_config_from_files(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let (chain, key_der) = load_pem_files(cert, key)?;
    server_config(chain, key_der).map_err(|e| match e {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsError::KeyMismatch {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            }
        }
        other => TlsError::Unusable {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            reason: other.to_string(),
        },
    })
}

/// A rustls server configuration with the `ring` provider, TLS 1.2 and 1.3, and ALPN
/// `http/1.1`. Fails if the key is unsupported or does not match the leaf certificate.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `Err(None)`: no certificate in the file; `Err(Some(reason))`: malformed PEM.
fn parse_cert_chain(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, Option<String>> {
    let mut chain = Vec::new();
    for item in CertificateDer::pem_slice_iter(bytes) {
        chain.push(item.map_err(|e| Some(pem_reason(&e)))?);
    }
    if chain.is_empty() {
        return Err(None);
    }
    Ok(chain)
}

/// `Err(None)`: no private key in the file; `Err(Some(reason))`: malformed PEM.
fn parse_private_key(bytes: &[u8]) -> Result<PrivateKeyDer<'static>, Option<String>> {
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => Err(None),
        Err(e) => Err(Some(pem_reason(&e))),
    }
}

fn pem_reason(e: &pem::Error) -> String {
    // One line: pki-types' Display of some variants spans the offending bytes.
    e.to_string()
        .lines()
        .next()
        .unwrap_or("malformed")
        .to_string()
}

/// The names a self-signed certificate covers: `localhost`, `*.localhost`, `127.0.0.1`, `::1`,
/// and `domain` plus `*.domain` (virtual-hosted-style) when the domain is something else.
pub fn self_signed_names(domain: &str) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "*.localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if !domain.is_empty() && !names.contains(&domain) {
        let is_ip = domain.parse::<IpAddr>().is_ok();
        names.push(domain.clone());
        if !is_ip {
            names.push(format!("*.{domain}"));
        }
    }
    names
}

/// A generated certificate: the PEM to hand to clients and the pair to serve.
pub struct SelfSigned {
    pub cert_pem: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

/// Generates a self-signed ECDSA P-256 certificate for `names` (DNS names or IP addresses).
///
/// It is an end-entity certificate (no CA basic constraints, serverAuth) that is its own
/// issuer, so the certificate file is also the trust anchor clients are given
/// (`AWS_CA_BUNDLE`, `verify=`, `--ca-bundle`): OpenSSL and rustls/webpki both accept a
/// self-signed leaf found in the trust store. It carries no key-usage extension, because
/// OpenSSL only treats a certificate as self-signed if any key usage it declares includes
/// `keyCertSign`.
pub fn generate_self_signed(names: &[String]) -> Result<SelfSigned, TlsError> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let key_pair = KeyPair::generate().map_err(generate)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(generate)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "sealstore self-signed");
    dn.push(DnType::OrganizationName, "sealstore");
    params.distinguished_name = dn;
    params.is_ca = IsCa::NoCa;
    params.key_usages = Vec::new();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_VALIDITY_DAYS);
    let cert = params.self_signed(&key_pair).map_err(generate)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        chain: vec![cert.der().clone()],
        key,
    })
}

/// Writes the certificate PEM (creating the parent directory), replacing any previous file.
pub fn write_cert_pem(path: &Path, pem: &str) -> Result<(), TlsError> {
    let write_err = |source| TlsError::WriteCert {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(write_err)?;
    }
    // Write a sibling temp file and rename it over the old one, so a client reading the file
    // while the server starts never sees half a certificate.
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| SELF_SIGNED_FILE.to_string());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, pem.as_bytes()).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn pkcs8_pem(key: &PrivateKeyDer<'_>) -> String {
        let PrivateKeyDer::Pkcs8(k) = key else {
            panic!("generated keys are PKCS#8")
        };
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            k.secret_pkcs8_der(),
        );
        let body: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            body.join("\n")
        )
    }

    #[test]
    fn names_cover_localhost_and_domain() {
        assert_eq!(
            self_signed_names("localhost"),
            ["localhost", "*.localhost", "127.0.0.1", "::1"]
        );
        let n = self_signed_names("s3.example.test");
        assert!(n.contains(&"s3.example.test".to_string()));
        assert!(n.contains(&"*.s3.example.test".to_string()));
        let n = self_signed_names("10.1.2.3");
        assert!(n.contains(&"10.1.2.3".to_string()));
        assert!(!n.iter().any(|s| s.starts_with("*.10")));
    }

    #[test]
    fn generated_pair_loads_back_from_pem() {
        let dir = tempfile::tempdir().unwrap();
        let generated = generate_self_signed(&self_signed_names("s3.example.test")).unwrap();
        assert!(
            generated
                .cert_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let cert = write(dir.path(), "cert.pem", generated.cert_pem.as_bytes());
        let key = write(dir.path(), "key.pem", pkcs8_pem(&generated.key).as_bytes());
        let (chain, key_der) = load_pem_files(&cert, &key).unwrap();
        assert_eq!(chain, generated.chain);
        assert!(matches!(key_der, PrivateKeyDer::Pkcs8(_)));
        let config = server_config_from_files(&cert, &key).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn setup_self_signed_writes_only_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let out = default_self_signed_path(Some(dir.path()));
        assert_eq!(out, dir.path().join("tls").join(SELF_SIGNED_FILE));
        let done = setup(&TlsSource::SelfSigned {
            domain: "localhost".into(),
            cert_out: out.clone(),
        })
        .unwrap();
        assert_eq!(done.written_cert.as_deref(), Some(out.as_path()));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("BEGIN CERTIFICATE"));
        assert!(!text.contains("PRIVATE KEY"));
        let files: Vec<_> = std::fs::read_dir(dir.path().join("tls"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, vec![std::ffi::OsString::from(SELF_SIGNED_FILE)]);
        // A second start replaces it.
        setup(&TlsSource::SelfSigned {
            domain: "localhost".into(),
            cert_out: out.clone(),
        })
        .unwrap();
        assert_ne!(std::fs::read_to_string(&out).unwrap(), text);
        let line = self_signed_notice(&out);
        assert!(line.ends_with(&format!("(trust it with AWS_CA_BUNDLE={})", out.display())));
    }

    #[test]
    fn bad_pem_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let generated = generate_self_signed(&self_signed_names("localhost")).unwrap();
        let cert = write(dir.path(), "cert.pem", generated.cert_pem.as_bytes());
        let key = write(dir.path(), "key.pem", pkcs8_pem(&generated.key).as_bytes());
        let garbage = write(dir.path(), "garbage.pem", b"hello, not pem\n");
        let broken = write(
            dir.path(),
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        );
        let truncated = write(
            dir.path(),
            "truncated.pem",
            &generated.cert_pem.as_bytes()[..generated.cert_pem.len() / 2],
        );
        let missing = dir.path().join("missing.pem");

        let err = |c: &Path, k: &Path| server_config_from_files(c, k).unwrap_err();
        assert!(matches!(err(&garbage, &key), TlsError::NoCert { .. }));
        assert!(matches!(err(&broken, &key), TlsError::BadCertPem { .. }));
        assert!(matches!(err(&truncated, &key), TlsError::BadCertPem { .. }));
        assert!(matches!(err(&cert, &garbage), TlsError::NoKey { .. }));
        // A certificate where the key should be.
        assert!(matches!(err(&cert, &cert), TlsError::NoKey { .. }));
        assert!(matches!(err(&missing, &key), TlsError::ReadCert { .. }));
        assert!(matches!(err(&cert, &missing), TlsError::ReadKey { .. }));
        for e in [
            err(&garbage, &key),
            err(&broken, &key),
            err(&truncated, &key),
        ] {
            assert_eq!(e.to_string().lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn key_of_another_certificate_is_a_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let a = generate_self_signed(&self_signed_names("localhost")).unwrap();
        let b = generate_self_signed(&self_signed_names("localhost")).unwrap();
        let cert = write(dir.path(), "a.pem", a.cert_pem.as_bytes());
        let key = write(dir.path(), "b-key.pem", pkcs8_pem(&b.key).as_bytes());
        let e = server_config_from_files(&cert, &key).unwrap_err();
        assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
    }
}
