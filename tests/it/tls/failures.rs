//! One-line errors for bad flags and files, failed handshakes and graceful shutdown.

use super::*;

/// Runs `sealstore <args>` with extra environment to completion (30 s deadline).
fn run_env(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn sealstore");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = wait_with_deadline(&mut child, Duration::from_secs(30)).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("`sealstore {}` did not exit within 30 s", args.join(" "))
    });
    (status, out_t.join().unwrap(), err_t.join().unwrap())
}

/// Non-zero exit, exactly one non-empty stderr line containing every needle, no panic, no
/// readiness line.
#[track_caller]
fn assert_one_line_failure(args: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let (status, stdout, stderr) = run_env(args, env);
    let what = format!("`sealstore {}` with {env:?}", args.join(" "));
    assert!(!status.success(), "{what} succeeded");
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    assert!(!stdout.contains("listening on"), "{what}: {stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: one line expected:\n{stderr}");
    assert!(lines[0].starts_with("sealstore: "), "{what}: {}", lines[0]);
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{what}: {:?} lacks {needle:?}",
            lines[0]
        );
    }
}

#[test]
fn bad_tls_flag_combinations_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_, leaf, key) = ca_and_leaf();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, leaf).unwrap();
    let keyf = dir.path().join("key.pem");
    std::fs::write(&keyf, key).unwrap();
    let (cert, keyf) = (cert.to_str().unwrap(), keyf.to_str().unwrap());
    let base = ["serve", "--memory", "--listen", "127.0.0.1:0"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>, env: &[(&str, &str)], needles: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_one_line_failure(&args, env, needles);
    };
    let mut a = with(&["--tls-cert"]);
    a.push(cert.into());
    run(a, &[], &["--tls-key"]);
    let mut a = with(&["--tls-key"]);
    a.push(keyf.into());
    run(a, &[], &["--tls-cert"]);
    run(with(&[]), &[("SEALSTORE_TLS_CERT", cert)], &["--tls-key"]);
    let mut a = with(&["--tls-self-signed", "--tls-cert"]);
    a.extend([cert.to_string(), "--tls-key".into(), keyf.into()]);
    run(a, &[], &["--tls-self-signed", "--tls-cert"]);
    run(
        with(&["--tls-self-signed"]),
        &[("SEALSTORE_TLS_KEY", keyf)],
        &["--tls-self-signed", "--tls-key"],
    );
    run(
        with(&["--tls-cert-out", "/tmp/x.pem"]),
        &[],
        &["--tls-cert-out", "--tls-self-signed"],
    );
    let mut a = with(&["--tls-cert-out", "/tmp/x.pem", "--tls-cert"]);
    a.extend([cert.to_string(), "--tls-key".into(), keyf.into()]);
    run(a, &[], &["--tls-cert-out"]);
    // A certificate location that cannot be written.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("cert.pem");
    let mut a = with(&["--tls-self-signed", "--tls-cert-out"]);
    a.push(out.to_str().unwrap().into());
    run(a, &[], &[out.to_str().unwrap()]);
}

#[test]
fn bad_tls_files_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, contents: &[u8]| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (ca, leaf, key) = ca_and_leaf();
    let (_, other_leaf, _) = ca_and_leaf();
    let cert = w("cert.pem", leaf.as_bytes());
    let keyf = w("key.pem", key.as_bytes());
    let other = w("other-cert.pem", other_leaf.as_bytes());
    let ca_only = w("ca.pem", ca.as_bytes());
    let garbage = w("garbage.pem", b"this is not PEM at all\n");
    let broken = w(
        "broken.pem",
        b"-----BEGIN CERTIFICATE-----\n%%%% not base64 %%%%\n-----END CERTIFICATE-----\n",
    );
    let truncated = w("truncated.pem", &leaf.as_bytes()[..leaf.len() / 2]);
    let not_der = w(
        "not-der.pem",
        b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    );
    let missing = dir.path().join("missing.pem").to_str().unwrap().to_string();
    let a_dir = dir.path().to_str().unwrap().to_string();

    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (&missing, &keyf, vec![&missing]),
        (&cert, &missing, vec![&missing]),
        (&a_dir, &keyf, vec![&a_dir]),
        (&garbage, &keyf, vec![&garbage, "no PEM certificate"]),
        (&broken, &keyf, vec![&broken, "not valid PEM"]),
        (&truncated, &keyf, vec![&truncated]),
        (&not_der, &keyf, vec![&not_der]),
        (&cert, &garbage, vec![&garbage, "no PEM private key"]),
        (&cert, &cert, vec![&cert, "no PEM private key"]),
        (&other, &keyf, vec![&keyf, &other, "does not match"]),
        (&ca_only, &keyf, vec!["does not match"]),
    ];
    for (c, k, needles) in cases {
        assert_one_line_failure(
            &[
                "serve",
                "--memory",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                c,
                "--tls-key",
                k,
            ],
            &[],
            &needles,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_handshakes_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_self_signed_in(dir.path());
    let pem = std::fs::read(self_signed_path(&server)).unwrap();
    // Garbage, an immediate close, a half-sent ClientHello, and a client that rejects the cert.
    for junk in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"",
        b"\x16\x03\x01\x02\x00\x01",
    ] {
        let mut tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        tcp.write_all(junk).await.unwrap();
        drop(tcp);
    }
    let (other_ca, _, _) = ca_and_leaf();
    assert!(
        raw_get(server.addr(), other_ca.as_bytes(), "localhost", "localhost")
            .await
            .is_err()
    );
    // Still serving, without error-level noise about those connections.
    let (_, resp) = raw_get(server.addr(), &pem, "localhost", "localhost")
        .await
        .unwrap();
    assert_access_denied(&resp);
    sdk_trusting(server.endpoint(), &pem)
        .list_buckets()
        .send()
        .await
        .unwrap();
    let log = server.stderr();
    assert!(
        !log.contains("ERROR") && !log.contains("WARN"),
        "handshake failures are debug-level only:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_an_in_flight_https_download_finish() {
    let mut server = Server::start_memory(&["--tls-self-signed"]);
    let pem = std::fs::read(self_signed_path(&server)).unwrap();
    let s3 = sdk_trusting(server.endpoint(), &pem);
    let b = new_bucket(&s3, "tls-drain").await;
    let body = pattern(20 << 20, 7);
    put(&s3, &b, "big", body.clone()).await;
    // An idle keep-alive connection must not hold the shutdown up.
    let (_, resp) = raw_get(server.addr(), &pem, "localhost", "localhost")
        .await
        .unwrap();
    assert_access_denied(&resp);

    let mut out = s3.get_object().bucket(&b).key("big").send().await.unwrap();
    let first = out.body.next().await.expect("a first chunk").unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut got = first.to_vec();
    while let Some(chunk) = out.body.next().await {
        got.extend_from_slice(&chunk.expect("the in-flight download completes"));
    }
    assert!(
        got == body,
        "all 20 MiB arrive intact ({} bytes)",
        got.len()
    );
    let status = server.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
