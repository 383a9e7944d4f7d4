//! `--tls-cert/--tls-key`: PKCS#8, PKCS#1/RSA and SEC1/EC keys serving the SDK.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn cert_and_key_files_serve_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf, key) = ca_and_leaf();
    let cert_path = dir.path().join("chain.pem");
    std::fs::write(&cert_path, format!("{leaf}{ca}")).unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(&key_path, &key).unwrap();

    let server = Server::start(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    assert!(
        server.endpoint().starts_with("https://"),
        "{}",
        server.endpoint()
    );
    assert!(!server.stderr().contains(NOTICE_PREFIX));
    let s3 = sdk_trusting(server.endpoint(), ca.as_bytes());
    let b = new_bucket(&s3, "tls-files").await;
    s3.head_bucket().bucket(&b).send().await.unwrap();
    for (i, len) in [0usize, 1, 65_535, 65_536, 65_537, 1 << 20]
        .into_iter()
        .enumerate()
    {
        let body = pattern(len, i as u8);
        let key = format!("obj-{len}");
        let etag = put(&s3, &b, &key, body.clone()).await;
        assert_eq!(etag, etag_of(&body));
        assert_eq!(get_bytes(&s3, &b, &key).await, body, "{len} bytes back");
    }
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(
        listed
            .buckets()
            .iter()
            .any(|x| x.name() == Some(b.as_str()))
    );

    // The same through SEALSTORE_TLS_CERT / SEALSTORE_TLS_KEY.
    let server = Server::start_with(
        Options::default()
            .memory()
            .env("SEALSTORE_TLS_CERT", cert_path.to_str().unwrap())
            .env("SEALSTORE_TLS_KEY", key_path.to_str().unwrap()),
    );
    assert!(
        server.endpoint().starts_with("https://"),
        "{}",
        server.endpoint()
    );
    let s3 = sdk_trusting(server.endpoint(), ca.as_bytes());
    s3.list_buckets().send().await.unwrap();
}

fn openssl(args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn pkcs1_rsa_and_sec1_ec_keys_are_accepted() {
    if !openssl(&["version"]) {
        println!("SKIPPED: the openssl command is not installed (it makes the RSA and SEC1 keys)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
    // rustls (the SDK's TLS) refuses a CA certificate as the server's own: mark it a leaf.
    let leaf = "basicConstraints=critical,CA:FALSE";
    assert!(openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &p("rsa8.pem"),
        "-out",
        &p("rsa.crt"),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        san,
        "-addext",
        leaf,
    ]));
    assert!(openssl(&[
        "rsa",
        "-in",
        &p("rsa8.pem"),
        "-traditional",
        "-out",
        &p("rsa1.pem")
    ]));
    assert!(openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        &p("ec1.pem")
    ]));
    assert!(openssl(&[
        "req",
        "-x509",
        "-key",
        &p("ec1.pem"),
        "-out",
        &p("ec.crt"),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        san,
        "-addext",
        leaf,
    ]));
    let rsa1 = std::fs::read_to_string(p("rsa1.pem")).unwrap();
    assert!(
        rsa1.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{rsa1}"
    );
    let ec1 = std::fs::read_to_string(p("ec1.pem")).unwrap();
    assert!(ec1.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{ec1}");

    for (cert, key) in [
        ("rsa.crt", "rsa1.pem"),
        ("rsa.crt", "rsa8.pem"),
        ("ec.crt", "ec1.pem"),
    ] {
        let server = Server::start_memory(&["--tls-cert", &p(cert), "--tls-key", &p(key)]);
        let pem = std::fs::read(p(cert)).unwrap();
        sdk_trusting(server.endpoint(), &pem)
            .list_buckets()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{cert} + {key}: {e:?}"));
    }
}
