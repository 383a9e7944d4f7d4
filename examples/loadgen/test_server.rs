//! The server the end-to-end tests drive: the built `sealstore` binary, started on `127.0.0.1:0`
//! as a child process (a separate process, so loadgen's `--pid` statistics see the server alone).
//!
//! Examples do not get `CARGO_BIN_EXE_*`, so the binary is `$SEALSTORE_BIN` or the one beside this
//! test executable's directory (`target/<profile>/examples/loadgen-HASH` → `target/<profile>/
//! sealstore`): `cargo test` builds it in the same run, because the `it` test binary needs it.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{Credentials, Region};

/// Generous: CI machines are slow (the server is ready in well under a second).
const READY_DEADLINE: Duration = Duration::from_secs(30);

fn server_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SEALSTORE_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let bin = exe
        .parent()
        .and_then(|examples| examples.parent())
        .map(|profile| profile.join("sealstore"))
        .unwrap_or_default();
    assert!(
        bin.is_file(),
        "the server binary {} is missing: `cargo test` builds it; after \
         `cargo test --example loadgen` alone run `cargo build --bin sealstore` first, \
         or set SEALSTORE_BIN",
        bin.display()
    );
    bin
}

/// A running `sealstore serve`; killed (and its data dir removed) on drop.
pub struct Server {
    child: Child,
    endpoint: String,
    stderr: Arc<Mutex<String>>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Server {
    /// On a fresh temp data dir.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("sealstore-loadgen-")
            .tempdir()
            .unwrap();
        let mut args = vec!["--data-dir".to_string(), dir.path().display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::spawn(args, Some(dir))
    }

    /// With `--memory`.
    pub fn start_memory(extra: &[&str]) -> Server {
        let mut args = vec!["--memory".to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::spawn(args, None)
    }

    fn spawn(args: Vec<String>, data_dir: Option<tempfile::TempDir>) -> Server {
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&chunk[..n]));
                    // Keep the tail only: the request log has a line per request.
                    if s.len() > 1 << 20 {
                        let cut = s.len() - (1 << 19);
                        let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                        s.drain(..cut);
                    }
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(READY_DEADLINE).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!("no readiness line from sealstore ({e}); stderr:\n{stderr:?}")
        });
        let endpoint = line
            .strip_prefix("sealstore listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            endpoint,
            stderr,
            _data_dir: data_dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far (its tail).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// An SDK client for the default account (test/test), path-style, no retries.
    pub fn client(&self) -> Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build();
        Client::from_conf(conf)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "---- sealstore stderr ----\n{}\n---- end ----",
                self.stderr()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn put(client: &Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
}
