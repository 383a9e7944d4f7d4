//! HTTPS: `--tls-self-signed` (and where it writes its certificate), `--tls-cert/--tls-key`
//! (PKCS#8, PKCS#1/RSA and SEC1/EC keys), the SDK over TLS, plain HTTP to a TLS port, failed
//! handshakes, graceful shutdown, and one-line errors for bad flags and files. boto3 and the aws
//! CLI over TLS are in tests/clients/test_tls.py.

mod cert_files;
mod failures;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, Region};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const NOTICE_PREFIX: &str = "sealstore: self-signed TLS certificate written to ";

/// The certificate path from the exact stderr line
/// `sealstore: self-signed TLS certificate written to PATH (trust it with AWS_CA_BUNDLE=PATH)`.
fn self_signed_path(server: &Server) -> PathBuf {
    let line = server.stderr_line(NOTICE_PREFIX);
    let rest = line.strip_prefix(NOTICE_PREFIX).expect("prefix");
    let (path, tail) = rest
        .split_once(" (trust it with AWS_CA_BUNDLE=")
        .unwrap_or_else(|| panic!("notice has the documented form: {line:?}"));
    assert_eq!(tail, format!("{path})"), "notice line: {line:?}");
    PathBuf::from(path)
}

/// A `--memory --tls-self-signed` server writing its certificate into `dir` (the harness kills
/// servers on drop, so the default per-process temp file would be left behind).
fn start_self_signed_in(dir: &Path) -> Server {
    let out = dir.join("self-signed-cert.pem");
    Server::start_memory(&[
        "--tls-self-signed",
        "--tls-cert-out",
        out.to_str().expect("utf-8 temp path"),
    ])
}

/// An aws-sdk-s3 client (path style, no retries, default checksum settings) whose HTTPS client
/// trusts only `ca_pem`.
fn sdk_trusting(endpoint: &str, ca_pem: &[u8]) -> Client {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(ca_pem.to_vec()))
                .build()
                .expect("TLS context"),
        )
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .http_client(http)
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

/// A rustls client (ring provider) that trusts only `ca_pem` and offers ALPN http/1.1.
fn raw_connector(ca_pem: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("PEM certificate")).expect("add root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Connects over TLS to `addr` verifying the certificate for `server_name`, sends an anonymous
/// `GET /` with `Host: host` and returns (negotiated ALPN, response text).
async fn raw_get(
    addr: &str,
    ca_pem: &[u8],
    server_name: &str,
    host: &str,
) -> std::io::Result<(Option<Vec<u8>>, String)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(server_name.to_string()).expect("server name");
    let mut tls = raw_connector(ca_pem).connect(name, tcp).await?;
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    tls.write_all(
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await?;
    Ok((alpn, String::from_utf8_lossy(&out).into_owned()))
}

#[track_caller]
fn assert_access_denied(resp: &str) {
    assert!(
        resp.starts_with("HTTP/1.1 403") && resp.contains("<Code>AccessDenied</Code>"),
        "anonymous GET / answers 403 AccessDenied over TLS: {resp}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_memory_serves_https_and_refuses_plain_http() {
    let mut server = Server::start_memory(&["--tls-self-signed"]);
    assert!(
        server.endpoint().starts_with("https://127.0.0.1:"),
        "{}",
        server.endpoint()
    );
    let path = self_signed_path(&server);
    assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
    assert_eq!(
        path.file_name().and_then(|n| n.to_str()),
        Some(format!("sealstore-{}-self-signed-cert.pem", server.pid()).as_str())
    );
    let pem = std::fs::read(&path).expect("certificate file");
    let text = String::from_utf8_lossy(&pem);
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "the key is never written");

    // The SDK trusting the printed certificate works; one trusting only the system roots fails.
    let s3 = sdk_trusting(server.endpoint(), &pem);
    let b = new_bucket(&s3, "tls-self").await;
    put(&s3, &b, "k", "over tls").await;
    assert_eq!(get_bytes(&s3, &b, "k").await, b"over tls");
    let untrusted = server.client().list_buckets().send().await;
    assert!(untrusted.is_err(), "a client not trusting the cert fails");

    // Raw TLS: ALPN http/1.1, valid for 127.0.0.1 and localhost. (The certificate also names
    // `*.localhost`, but OpenSSL and rustls both refuse a wildcard over a single label, so
    // `bucket.localhost` does not verify: see docs/tls.md.)
    for (name, host) in [
        ("127.0.0.1", server.addr().to_string()),
        ("localhost", format!("localhost:{}", server.port())),
    ] {
        let (alpn, resp) = raw_get(server.addr(), &pem, name, &host)
            .await
            .unwrap_or_else(|e| panic!("TLS to {name}: {e}"));
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
        assert_access_denied(&resp);
    }
    // ...but not for a name it was not made for.
    assert!(
        raw_get(server.addr(), &pem, "example.com", "example.com")
            .await
            .is_err()
    );

    // Plain HTTP to the TLS port gets no HTTP answer, and the server keeps serving.
    let plain = http()
        .get(format!("http://{}/", server.addr()))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP to the TLS port: {plain:?}");
    s3.list_buckets().send().await.expect("still serving");

    // A clean stop removes the per-process temp file (the key died with the process).
    let status = server.terminate();
    assert!(status.success(), "{status}");
    assert!(!path.exists(), "{} removed at exit", path.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_data_dir_writes_cert_under_tls_and_replaces_it() {
    let mut server = Server::start(&["--tls-self-signed"]);
    let data = server.data_dir().expect("data dir").to_path_buf();
    let expected = data.join("tls").join("self-signed-cert.pem");
    assert_eq!(self_signed_path(&server), expected);
    let first = std::fs::read(&expected).unwrap();
    let s3 = sdk_trusting(server.endpoint(), &first);
    let b = new_bucket(&s3, "tls-dir").await;
    put(&s3, &b, "k", "kept").await;

    server.restart();
    assert_eq!(self_signed_path(&server), expected);
    let second = std::fs::read(&expected).unwrap();
    assert_ne!(first, second, "a new certificate on every start");
    let s3 = sdk_trusting(server.endpoint(), &second);
    assert_eq!(get_bytes(&s3, &b, "k").await, b"kept");
    // The old certificate no longer verifies the server.
    let old = sdk_trusting(server.endpoint(), &first);
    assert!(old.list_buckets().send().await.is_err());
    // No private key anywhere in the data dir.
    for f in files_under(&data) {
        let bytes = std::fs::read(data.join(&f)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{} holds a private key",
            f.display()
        );
    }
    assert!(server.terminate().success());
    assert!(expected.exists(), "the data dir copy stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_cert_out_and_env_choose_the_location_and_domain_names() {
    let dir = tempfile::tempdir().unwrap();
    // --memory with --tls-cert-out.
    let out = dir.path().join("nested").join("mem.pem");
    let mut server =
        Server::start_memory(&["--tls-self-signed", "--tls-cert-out", out.to_str().unwrap()]);
    assert_eq!(self_signed_path(&server), out);
    let pem = std::fs::read(&out).unwrap();
    sdk_trusting(server.endpoint(), &pem)
        .list_buckets()
        .send()
        .await
        .unwrap();
    assert!(server.terminate().success());
    assert!(
        out.exists(),
        "a chosen --tls-cert-out file is left in place"
    );

    // A data dir with SEALSTORE_TLS_CERT_OUT and SEALSTORE_TLS_SELF_SIGNED, and a --domain:
    // the certificate also covers the domain and its subdomains (virtual-hosted style).
    let out2 = dir.path().join("env.pem");
    let server = Server::start_with(
        Options::default()
            .args(&["--domain", "s3.sealstore.test"])
            .env("SEALSTORE_TLS_SELF_SIGNED", "true")
            .env("SEALSTORE_TLS_CERT_OUT", out2.to_str().unwrap()),
    );
    assert_eq!(self_signed_path(&server), out2);
    assert!(
        !server.data_dir().unwrap().join("tls").exists(),
        "nothing written under the data dir when the location is chosen"
    );
    let pem = std::fs::read(&out2).unwrap();
    let port = server.port();
    for name in [
        "s3.sealstore.test",
        "bucket.s3.sealstore.test",
        "localhost",
        "::1",
    ] {
        let host = if name.contains(':') {
            format!("[{name}]:{port}")
        } else {
            format!("{name}:{port}")
        };
        let (_, resp) = raw_get(server.addr(), &pem, name, &host)
            .await
            .unwrap_or_else(|e| panic!("certificate valid for {name}: {e}"));
        assert_access_denied(&resp);
    }
}

/// A CA and a leaf it signed for localhost/127.0.0.1, as PEM: (ca, leaf, leaf PKCS#8 key).
fn ca_and_leaf() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sealstore test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}
