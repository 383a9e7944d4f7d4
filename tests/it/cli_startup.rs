//! The command line: --help/--version, bad flags and unusable data dirs (one clear line, no
//! panic), the readiness line, signals.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;

fn non_empty_lines(s: &str) -> Vec<&str> {
    s.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Asserts a failed start: non-zero exit, exactly one non-empty stderr line containing `needle`,
/// no panic text, no readiness line.
#[track_caller]
fn assert_clean_failure(args: &[&str], needle: &str) {
    let (status, stdout, stderr) = run_to_exit(args);
    assert!(
        !status.success(),
        "`sealstore {}` succeeded",
        args.join(" ")
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic text on stderr: {stderr}"
    );
    assert!(
        !stdout.contains("listening on"),
        "readiness line printed on a failed start: {stdout}"
    );
    let lines = non_empty_lines(&stderr);
    assert_eq!(
        lines.len(),
        1,
        "expected one clear line on stderr, got:\n{stderr}"
    );
    assert!(
        lines[0].contains(needle),
        "stderr line does not mention {needle:?}: {}",
        lines[0]
    );
}

#[test]
fn help_and_version_exit_zero() {
    let (status, stdout, stderr) = run_to_exit(&["--help"]);
    assert!(status.success(), "--help: {status}\n{stderr}");
    assert!(
        stdout.contains("serve"),
        "--help lists the serve command:\n{stdout}"
    );

    let (status, stdout, stderr) = run_to_exit(&["serve", "--help"]);
    assert!(status.success(), "serve --help: {status}\n{stderr}");
    for flag in [
        "--listen",
        "--data-dir",
        "--memory",
        "--region",
        "--access-key",
        "--secret-key",
        "--user",
        "--domain",
    ] {
        assert!(
            stdout.contains(flag),
            "serve --help mentions {flag}:\n{stdout}"
        );
    }

    let (status, stdout, stderr) = run_to_exit(&["--version"]);
    assert!(status.success(), "--version: {status}\n{stderr}");
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "--version prints {}: {stdout}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn bad_flag_exits_nonzero_with_one_line() {
    assert_clean_failure(&["serve", "--no-such-flag"], "--no-such-flag");
    assert_clean_failure(
        &["serve", "--memory", "--listen", "not-an-address"],
        "not-an-address",
    );
}

#[test]
fn data_dir_that_is_a_file_exits_nonzero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("regular-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let path = file.to_str().unwrap();
    assert_clean_failure(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", path],
        path,
    );
    let nested = file.join("sub");
    let nested = nested.to_str().unwrap();
    assert_clean_failure(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", nested],
        "regular-file",
    );
    // The file is untouched.
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

#[test]
fn listen_address_in_use_exits_nonzero_without_panic() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (status, stdout, stderr) = run_to_exit(&["serve", "--memory", "--listen", &addr]);
    assert!(!status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(
        !non_empty_lines(&stderr).is_empty(),
        "an error line on stderr"
    );
}

#[test]
fn missing_data_dir_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("nested");
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let line = first_line_with_deadline(&mut child.0);
    assert!(
        parse_ready_line(&line).is_some(),
        "readiness line: {line:?}"
    );
    assert!(data.is_dir(), "data dir was created");
}

fn first_line_with_deadline(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(l) => l.trim_end_matches(['\r', '\n']).to_string(),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no readiness line within 30 s")
        }
    }
}

/// Kills the child if a test panics before it exits.
struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server by hand, checks the exact readiness line and that stdout carries nothing
/// else, then stops it with `signal` and expects exit 0.
fn ready_line_then_signal(extra: &[&str], signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = child.0.stderr.take().unwrap();
    let err_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let out_t = thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().and_then(Result::ok));
        lines.map_while(Result::ok).collect::<Vec<String>>()
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("readiness line within 30 s")
        .expect("a readiness line");
    let startup = t0.elapsed();
    println!("sealstore start-up to readiness line: {startup:?} (target: well under 100 ms)");
    let endpoint = parse_ready_line(&first)
        .unwrap_or_else(|| panic!("readiness line has the documented form: {first:?}"));
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    // The port accepts connections as soon as the line is printed.
    std::net::TcpStream::connect(endpoint.trim_start_matches("http://"))
        .expect("connect to the printed address");

    let pid = child.0.id();
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_with_deadline(&mut child.0, Duration::from_secs(30))
        .expect("exit within 30 s of the signal");
    let rest = out_t.join().unwrap();
    let stderr = err_t.join().unwrap();
    assert!(
        rest.is_empty(),
        "stdout carries only the readiness line; also got {rest:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        status.success(),
        "exit status after {signal}: {status}; stderr:\n{stderr}"
    );
}

#[test]
fn readiness_line_and_sigterm_exit_zero() {
    ready_line_then_signal(&[], "-TERM");
}

#[test]
fn sigint_exits_zero() {
    ready_line_then_signal(&["--region", "us-east-1"], "-INT");
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_means_serving() {
    // The readiness line is printed only once requests are served: the first request right
    // after it must succeed (no retries are configured in the client).
    for _ in 0..3 {
        let server = Server::start_memory(&[]);
        println!("start-up: {:?}", server.startup);
        let listed = server.client().list_buckets().send().await.unwrap();
        assert!(listed.buckets().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_and_keeps_data() {
    let mut server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "sigterm").await;
    put(&s3, &b, "k", "before sigterm").await;
    server.restart(); // asserts exit status 0
    let s3 = server.client();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"before sigterm");
}

/// The server's own environment, as the kernel has it (after any re-execution).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environ_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .expect("read /proc/PID/environ")
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// `serve` re-executes itself once with glibc's arena count bounded (src/allocator.rs): the
/// process we started (same pid) runs with `glibc.malloc.arena_max` added to the tunables it was
/// given, and serves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_with_bounded_malloc_arenas() {
    let server = Server::start_with(
        Options::default()
            .memory()
            .env("GLIBC_TUNABLES", "glibc.malloc.tcache_count=7"),
    );
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // glibc rewrites the variable in place while parsing it (a NUL where each `:` was), so the
    // entries are joined with `:` to read the value back whole.
    let expected = format!(
        "GLIBC_TUNABLES=glibc.malloc.tcache_count=7:glibc.malloc.arena_max={}",
        sealstore::allocator::arena_limit(cpus)
    );
    let env = environ_of(server.pid()).join(":");
    assert!(
        env.contains(&expected),
        "{expected:?} not in the server's environment: {env:?}"
    );
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("serve\x00--listen\x00127.0.0.1:0"),
        "arguments kept across the re-execution: {cmdline:?}"
    );
    assert!(server.client().list_buckets().send().await.is_ok());
    assert!(!server.stderr().contains("could not re-execute"));
}

/// An operator's own arena setting wins: no re-execution, the tunables are left as given.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[tokio::test(flavor = "multi_thread")]
async fn an_operators_arena_setting_is_left_alone() {
    for (var, value) in [
        ("MALLOC_ARENA_MAX", "3"),
        ("GLIBC_TUNABLES", "glibc.malloc.arena_max=3"),
    ] {
        let server = Server::start_with(Options::default().memory().env(var, value));
        let env = environ_of(server.pid());
        let tunables: Vec<_> = env
            .iter()
            .filter(|v| v.starts_with("GLIBC_TUNABLES="))
            .collect();
        match var {
            "MALLOC_ARENA_MAX" => assert!(tunables.is_empty(), "{tunables:?}"),
            _ => assert_eq!(tunables, ["GLIBC_TUNABLES=glibc.malloc.arena_max=3"]),
        }
        assert!(server.client().list_buckets().send().await.is_ok());
    }
}

/// Data sealed under a master key that is gone: the server refuses to start with one line saying
/// "master key missing" and writes no new key file (it once generated a fresh, useless
/// `master.key` beside the data and left it there). A wrong key is refused as before, and neither
/// leaves anything behind; the right key still opens the data.
#[tokio::test(flavor = "multi_thread")]
async fn missing_master_key_is_refused_when_data_exists() {
    let mut server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "mkey").await;
    put(&s3, &b, "k", "sealed under the master key").await;
    assert!(server.terminate().success());
    let dir = server.data_dir().unwrap().to_path_buf();
    let d = dir.to_str().unwrap();
    let key_file = dir.join("master.key");
    let good = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let before = files_under(&dir);

    let serve = ["serve", "--listen", "127.0.0.1:0", "--data-dir", d];
    assert_clean_failure(&serve, "master key missing");
    assert!(!key_file.exists(), "a new master key was written");
    assert_eq!(files_under(&dir), before);

    // --master-key-file naming a file that is not there: the same answer.
    let elsewhere = tempfile::tempdir().unwrap();
    let gone = elsewhere.path().join("gone.key");
    let gone_arg = gone.to_str().unwrap();
    fn with_file<'a>(serve: &[&'a str], f: &'a str) -> Vec<&'a str> {
        [serve, &["--master-key-file", f]].concat()
    }
    assert_clean_failure(&with_file(&serve, gone_arg), "master key missing");
    assert!(!gone.exists() && !key_file.exists());

    // A wrong key: refused as before, nothing left behind.
    let wrong = elsewhere.path().join("wrong.key");
    std::fs::write(&wrong, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    assert_clean_failure(
        &with_file(&serve, wrong.to_str().unwrap()),
        "does not match",
    );
    assert!(!key_file.exists());
    assert_eq!(files_under(&dir), before);

    // The right key back in place: the server starts on the same data.
    std::fs::write(&key_file, &good).unwrap();
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(serve)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let line = first_line_with_deadline(&mut child.0);
    assert!(
        parse_ready_line(&line).is_some(),
        "readiness line: {line:?}"
    );
    assert_eq!(std::fs::read(&key_file).unwrap(), good);
}
