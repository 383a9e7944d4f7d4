//! loadgen end to end, against the built `sealstore` binary (see `test_server.rs`). Each run is
//! short (about a second); the checks are that it does work (ops > 0, no errors, every GET
//! verified) and that it notices wrong bodies. The soak's CI form (30 s) is in the full tier
//! (`#[ignore]`d here; `tests/run` runs it).

use clap::Parser;

use crate::args::Args;
use crate::pattern::Pattern;
use crate::report::Report;
use crate::run::run;
use crate::test_server::{Server, put};

async fn loadgen(srv: &Server, extra: &[&str]) -> Report {
    let pid = srv.pid().to_string();
    let mut argv = vec!["loadgen", "--endpoint", srv.endpoint(), "--pid", &pid];
    argv.extend_from_slice(extra);
    let args = Args::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let report = run(args)
        .await
        .unwrap_or_else(|e| panic!("loadgen {argv:?}: {e}\nserver stderr:\n{}", srv.stderr()));
    // The JSON line the binary prints has the documented fields.
    let line = serde_json::to_string(&report).unwrap();
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    for field in [
        "label",
        "op",
        "size",
        "concurrency",
        "sse",
        "duration_s",
        "ops",
        "ops_per_s",
        "mib_per_s",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "errors",
        "verified",
        "server_cpu_s",
        "server_rss_peak_mib",
        "server_hwm_mib",
    ] {
        assert!(json.get(field).is_some(), "{field} missing in {line}");
    }
    report
}

fn assert_clean(r: &Report) {
    assert!(r.ops > 0, "no ops: {r:?}");
    assert_eq!(r.errors, 0, "{r:?}");
    assert!(
        r.ops_per_s > 0.0 && r.p50_ms > 0.0 && r.p99_ms >= r.p50_ms,
        "{r:?}"
    );
    assert!(r.server_rss_peak_mib.is_some_and(|m| m > 0.0), "{r:?}");
    assert!(r.server_hwm_mib.is_some_and(|m| m > 0.0), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_get_4kib_verified() {
    let srv = Server::start_memory(&[]);
    let put = loadgen(
        &srv,
        &[
            "--op",
            "put",
            "--size",
            "4KiB",
            "--concurrency",
            "4",
            "--duration",
            "1",
            "--label",
            "t-put",
        ],
    )
    .await;
    assert_clean(&put);
    assert_eq!(
        (put.op.as_str(), put.size, put.label.as_str()),
        ("put", 4096, "t-put")
    );
    assert_eq!(put.put_ops, put.ops);
    assert_eq!(put.verified, 0);

    let get = loadgen(
        &srv,
        &[
            "--op",
            "get",
            "--size",
            "4KiB",
            "--concurrency",
            "4",
            "--duration",
            "1",
            "--warmup",
            "0.2",
            "--cleanup",
        ],
    )
    .await;
    assert_clean(&get);
    assert_eq!(get.get_ops, get.ops);
    assert_eq!(get.verified, get.ops, "every GET is verified: {get:?}");
    assert!(get.duration_s >= 0.9, "{get:?}");
    // --cleanup deleted the objects and the bucket.
    let gone = srv.client().head_bucket().bucket(&get.bucket).send().await;
    assert!(gone.is_err(), "bucket {} still there", get.bucket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_sse_c_signed_payload_and_request_count() {
    let srv = Server::start_memory(&[]);
    // SSE-C needs the bucket's SSE-C block lifted (loadgen does it); GETs send the key too.
    let r = loadgen(
        &srv,
        &[
            "--op",
            "mixed",
            "--sse",
            "sse-c",
            "--sign-payload",
            "--size",
            "100000",
            "--concurrency",
            "3",
            "--keys",
            "6",
            "--requests",
            "120",
        ],
    )
    .await;
    assert_clean(&r);
    assert_eq!(r.ops, 120, "{r:?}");
    assert!(r.get_ops > 0 && r.put_ops > 0, "{r:?}");
    assert_eq!(r.verified, r.get_ops, "{r:?}");

    let kms = Server::start_memory(&["--kms-key", "lg-key"]);
    for sse in ["sse-kms", "dsse-kms"] {
        let r = loadgen(
            &kms,
            &[
                "--op",
                "mixed",
                "--sse",
                sse,
                "--kms-key-id",
                "lg-key",
                "--size",
                "70000",
                "--requests",
                "40",
            ],
        )
        .await;
        assert_clean(&r);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_bodies_are_errors() {
    let srv = Server::start_memory(&[]);
    let bucket = "loadgen-verify";
    let base = ["--bucket", bucket, "--size", "5000", "--keys", "4"];
    // Write version 1 of obj-0..obj-3 and read them back.
    let first = loadgen(
        &srv,
        &[&base[..], &["--op", "get", "--requests", "20"]].concat(),
    )
    .await;
    assert_clean(&first);

    // Objects of a later run are compared with what this run wrote: still clean.
    let again = [
        &base[..],
        &["--op", "get", "--no-populate", "--requests", "200"],
    ]
    .concat();
    assert_clean(&loadgen(&srv, &again).await);

    // Replace obj-1 with a stale version (version 2's bytes under version 1's header would be a
    // torn object; here: the whole of version 2) and obj-2 with one changed byte.
    let s3 = srv.client();
    let p = Pattern::new();
    put(&s3, bucket, "obj-1", p.to_vec(1, 2, 5000)).await;
    let mut flipped = p.to_vec(2, 1, 5000);
    flipped[4321] ^= 0x80;
    put(&s3, bucket, "obj-2", flipped).await;
    let bad = loadgen(&srv, &again).await;
    assert!(bad.errors > 0, "corrupted objects not detected: {bad:?}");
    assert_eq!(bad.ops + bad.errors, 200, "{bad:?}");
    assert_eq!(bad.verified, bad.ops, "{bad:?}");

    // Without verification the same bodies pass.
    let blind = loadgen(&srv, &[&again[..], &["--no-verify"]].concat()).await;
    assert_clean(&blind);
    assert_eq!(blind.verified, 0);

    // A missing object is an error too (404).
    let missing = loadgen(
        &srv,
        &[
            "--bucket",
            bucket,
            "--size",
            "5000",
            "--keys",
            "8",
            "--op",
            "get",
            "--no-populate",
            "--requests",
            "50",
        ],
    )
    .await;
    assert!(missing.errors > 0, "{missing:?}");
}

/// The CI form of the soak test (`benches/soak.py --short` runs the same against the release
/// build; docs/soak.md): 64 workers for 30 s of PUT / GET / LIST / DELETE, every SSE mode, bodies
/// inline (1 KiB, 16 KiB) and in files (100 KiB, 256 KiB), against a `--data-dir` server. No
/// error, every operation done many times, GETs verified, deleted keys answered 404 NoSuchKey,
/// and the server's RSS at the end within 10 % of its value at 10 s. Speed is not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full tier: a 30 s soak; tests/run runs it"]
async fn soak_30s_c64_mixed_sse_rss_stable() {
    let srv = Server::start(&["--kms-key", "soak-key"]);
    let r = loadgen(
        &srv,
        &[
            "--op",
            "soak",
            "--sse",
            "mixed",
            "--kms-key-id",
            "soak-key",
            "--sizes",
            "1KiB,16KiB,100KiB,256KiB",
            "--concurrency",
            "64",
            "--duration",
            "30",
            "--rss-mark",
            "10",
            "--timeout",
            "60",
            "--label",
            "soak-ci",
        ],
    )
    .await;
    eprintln!("soak: {}", serde_json::to_string(&r).unwrap());
    assert_clean(&r);
    assert_eq!(r.op, "soak");
    assert_eq!(
        r.ops,
        r.get_ops + r.put_ops + r.list_ops + r.delete_ops,
        "{r:?}"
    );
    for (what, n) in [
        ("GET", r.get_ops),
        ("PUT", r.put_ops),
        ("LIST", r.list_ops),
        ("DELETE", r.delete_ops),
        ("404 after DELETE", r.get_not_found),
    ] {
        assert!(n >= 20, "only {n} {what}: {r:?}");
    }
    assert!(r.verified > 0, "{r:?}");
    assert_eq!(r.verified + r.get_not_found, r.get_ops, "{r:?}");
    let (mark, end, growth) = (
        r.rss_mark_mib.unwrap(),
        r.rss_end_mib.unwrap(),
        r.rss_growth_pct.unwrap(),
    );
    assert!(mark > 0.0 && end > 0.0, "{r:?}");
    assert!(
        growth <= 10.0,
        "server RSS grew {growth} % ({mark} MiB at 10 s, {end} MiB at the end): {r:?}"
    );
}

/// The soak checks fail when the store disagrees with what was acknowledged: keys the workers
/// believe present but that are missing make every GET (404 where 200 was due) and every LIST
/// (key not listed) an error; keys re-created behind a worker's back after its DELETE are seen
/// by LIST (listed after its DELETE, or with a foreign size) and GET (2xx or foreign bytes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_checks_detect_missing_and_resurrected_keys() {
    let srv = Server::start_memory(&[]);
    let missing = |ratios: [&'static str; 3]| {
        [
            "--op",
            "soak",
            "--bucket",
            "soak-missing",
            "--no-populate",
            "--keys",
            "4",
            "--requests",
            "20",
            "--get-ratio",
            ratios[0],
            "--list-ratio",
            ratios[1],
            "--delete-ratio",
            ratios[2],
        ]
    };
    for ratios in [["1", "0", "0"], ["0", "1", "0"]] {
        let r = loadgen(&srv, &missing(ratios)).await;
        assert_eq!((r.errors, r.ops), (20, 0), "{ratios:?}: {r:?}");
    }

    // A clean run first (the same bucket and keys), then one with an intruder re-creating keys.
    let base = [
        "--op",
        "soak",
        "--bucket",
        "soak-intruder",
        "--keys",
        "4",
        "--size",
        "3000",
        "--get-ratio",
        "0.3",
        "--list-ratio",
        "0.3",
        "--delete-ratio",
        "0.4",
    ];
    let clean = loadgen(&srv, &[&base[..], &["--requests", "100"]].concat()).await;
    assert_clean(&clean);
    assert!(clean.delete_ops > 0 && clean.list_ops > 0, "{clean:?}");

    let s3 = srv.client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let intruder = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for k in 0..4 {
                    put(&s3, "soak-intruder", &format!("obj-{k}"), b"x".to_vec()).await;
                }
            }
        })
    };
    let bad = loadgen(&srv, &[&base[..], &["--requests", "200"]].concat()).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    intruder.await.unwrap();
    assert!(bad.errors > 0, "re-created keys not detected: {bad:?}");
    assert_eq!(bad.ops + bad.errors, 200, "{bad:?}");
}
