//! The server under test: how it is started, its readiness line, and its end (SIGTERM or kill, then
//! the data dir removed).

use super::*;

/// How a server is started.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--memory` instead of `--data-dir <tempdir>`.
    pub memory: bool,
    /// Extra arguments after `serve --listen 127.0.0.1:0 --data-dir D`.
    pub args: Vec<String>,
    /// Extra environment variables for the child.
    pub env: Vec<(String, String)>,
    /// Working directory of the child (default: inherited).
    pub cwd: Option<PathBuf>,
}

impl Options {
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }
    pub fn memory(mut self) -> Self {
        self.memory = true;
        self
    }
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
}

/// A running `sealstore serve` child process.
pub struct Server {
    child: Child,
    endpoint: String,
    opts: Options,
    /// Held so the directory lives as long as the server (and across restarts); removed on drop.
    data_dir: Option<tempfile::TempDir>,
    stderr: Arc<Mutex<String>>,
    /// Time from spawn to the readiness line of the last start.
    pub startup: Duration,
}

impl Server {
    /// Starts a server on a fresh temp data dir with `extra` arguments (e.g. `--user ...`).
    pub fn start(extra: &[&str]) -> Server {
        Server::start_with(Options::default().args(extra))
    }

    /// Starts a server with `--memory`.
    pub fn start_memory(extra: &[&str]) -> Server {
        Server::start_with(Options::default().memory().args(extra))
    }

    /// Starts a server with an extra account `alice` (see [`ALICE`]).
    pub fn start_with_alice() -> Server {
        Server::start(&["--user", ALICE_USER_ARG])
    }

    pub fn start_with(opts: Options) -> Server {
        let data_dir = if opts.memory {
            None
        } else {
            Some(
                tempfile::Builder::new()
                    .prefix("sealstore-it-")
                    .tempdir()
                    .expect("create temp data dir"),
            )
        };
        let (child, endpoint, stderr, startup) =
            spawn_ready(&opts, data_dir.as_ref().map(|d| d.path()));
        Server {
            child,
            endpoint,
            opts,
            data_dir,
            stderr,
            startup,
        }
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS) as printed by the server.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        self.endpoint
            .strip_prefix("https://")
            .or_else(|| self.endpoint.strip_prefix("http://"))
            .unwrap_or(&self.endpoint)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (with the exit deadline) for the server to exit after a signal sent by the test.
    pub fn wait_exit(&mut self) -> ExitStatus {
        wait_with_deadline(&mut self.child, EXIT_DEADLINE).unwrap_or_else(|| {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "server did not exit within {EXIT_DEADLINE:?}; stderr:\n{}",
                self.stderr()
            )
        })
    }

    /// Waits until a stderr line starting with `prefix` has arrived and returns it (the server
    /// writes stderr before its readiness line, but the pipe is drained on another thread).
    pub fn stderr_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.stderr();
            if let Some(line) = text.lines().find(|l| l.starts_with(prefix)) {
                return line.to_string();
            }
            if Instant::now() >= deadline {
                panic!("no stderr line starting with {prefix:?}; stderr:\n{text}");
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn port(&self) -> u16 {
        self.addr()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in endpoint")
    }

    /// The data dir (None with `--memory`).
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_ref().map(|d| d.path())
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Client for the default account (test/test).
    pub fn client(&self) -> Client {
        self.client_for("test", "test")
    }

    pub fn client_for(&self, access_key: &str, secret_key: &str) -> Client {
        client_with(&self.endpoint, access_key, secret_key, "us-east-1", true)
    }

    pub fn alice(&self) -> Client {
        self.client_for(ALICE.0, ALICE.1)
    }

    /// Sends SIGTERM and waits for the exit status (which it returns).
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed: {status}");
        wait_with_deadline(&mut self.child, EXIT_DEADLINE).unwrap_or_else(|| {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "server did not exit within {EXIT_DEADLINE:?} of SIGTERM; stderr:\n{}",
                self.stderr()
            )
        })
    }

    /// SIGKILL (a crash), then starts again with the same options and data dir.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let _ = self.child.wait();
        let (child, endpoint, stderr, startup) =
            spawn_ready(&self.opts, self.data_dir.as_ref().map(|d| d.path()));
        self.child = child;
        self.endpoint = endpoint;
        self.stderr = stderr;
        self.startup = startup;
    }

    /// SIGTERM (asserting exit status 0), runs `edit` on the stopped server's data dir, then
    /// starts again (new port: build new clients after this).
    pub fn restart_after(&mut self, edit: impl FnOnce(&Path)) {
        let status = self.terminate();
        assert!(
            status.success(),
            "exit {status}; stderr:\n{}",
            self.stderr()
        );
        if let Some(dir) = self.data_dir.as_ref() {
            edit(dir.path());
        }
        let (child, endpoint, stderr, startup) =
            spawn_ready(&self.opts, self.data_dir.as_ref().map(|d| d.path()));
        self.child = child;
        self.endpoint = endpoint;
        self.stderr = stderr;
        self.startup = startup;
    }

    /// SIGTERM (asserting exit status 0), then starts again with the same options and data dir.
    /// The port changes: build new clients after this.
    pub fn restart(&mut self) {
        let status = self.terminate();
        assert!(
            status.success(),
            "server exited with {status} after SIGTERM; stderr:\n{}",
            self.stderr()
        );
        let (child, endpoint, stderr, startup) =
            spawn_ready(&self.opts, self.data_dir.as_ref().map(|d| d.path()));
        self.child = child;
        self.endpoint = endpoint;
        self.stderr = stderr;
        self.startup = startup;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "---- sealstore stderr ({}) ----\n{}\n---- end ----",
                self.endpoint,
                self.stderr()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `data_dir` (TempDir) is removed when the struct's fields drop, after the child is gone.
    }
}

fn base_command(opts: &Options, data_dir: Option<&Path>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    match data_dir {
        Some(d) => {
            cmd.arg("--data-dir").arg(d);
        }
        None => {
            cmd.arg("--memory");
        }
    }
    cmd.args(&opts.args);
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    if let Some(dir) = &opts.cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Spawns the server and waits for `sealstore listening on http(s)://HOST:PORT`.
fn spawn_ready(
    opts: &Options,
    data_dir: Option<&Path>,
) -> (Child, String, Arc<Mutex<String>>, Duration) {
    let t0 = Instant::now();
    let mut child = base_command(opts, data_dir)
        .spawn()
        .expect("spawn sealstore");
    let stderr = drain_stderr(&mut child);
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            // Later lines are unexpected but must not block the child; the receiver may be gone.
            let _ = tx.send(line);
        }
    });
    let line = match rx.recv_timeout(READY_DEADLINE) {
        Ok(line) => line,
        Err(e) => {
            let _ = child.kill();
            let status = child.wait();
            // Give the stderr thread a moment to see EOF (bounded, not a readiness sleep).
            let text = stderr_after_exit(&stderr);
            panic!("no readiness line from sealstore ({e:?}); status {status:?}; stderr:\n{text}");
        }
    };
    let startup = t0.elapsed();
    let endpoint = parse_ready_line(&line).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("unexpected first stdout line from sealstore: {line:?}")
    });
    (child, endpoint, stderr, startup)
}

/// Returns `http://HOST:PORT` (or `https://HOST:PORT` with TLS) if `line` is exactly the
/// readiness line with a nonzero port.
pub fn parse_ready_line(line: &str) -> Option<String> {
    let url = line.strip_prefix("sealstore listening on ")?;
    let hostport = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let (host, port) = hostport.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    if host.is_empty() || port == 0 {
        return None;
    }
    Some(url.to_string())
}

fn drain_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("piped stderr");
    let sink = buf.clone();
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&chunk[..n]));
                        // Keep the tail only: a long test run logs one line per request.
                        if s.len() > 1 << 20 {
                            let cut = s.len() - (1 << 19);
                            let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                            s.drain(..cut);
                        }
                    }
                }
            }
        }
    });
    buf
}

fn stderr_after_exit(buf: &Arc<Mutex<String>>) -> String {
    // The child has exited; its stderr pipe reaches EOF promptly. Poll briefly for the text.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = String::new();
    while Instant::now() < deadline {
        last = buf.lock().map(|s| s.clone()).unwrap_or_default();
        if !last.is_empty() {
            break;
        }
        thread::yield_now();
    }
    last
}

/// Polls `try_wait` until the child exits or the deadline passes.
pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + deadline;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= end {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `sealstore <args>` to completion (with a deadline) and returns (status, stdout, stderr).
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sealstore");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = wait_with_deadline(&mut child, Duration::from_secs(30)).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("`sealstore {}` did not exit within 30 s", args.join(" "))
    });
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    (status, stdout, stderr)
}
