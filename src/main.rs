//! The `sealstore` binary: parses flags, opens storage, binds, prints the ready line, serves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sealstore::config::{Config, MasterKeySource, StorageMode};
use sealstore::crypto::MasterKey;
use sealstore::server;
use sealstore::state::{self, AppState};
use sealstore::tls::{self, TlsSource};

#[derive(Parser)]
#[command(
    name = "sealstore",
    version,
    about = "An S3-compatible object store that really encrypts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the S3 server.
    Serve(Box<ServeArgs>),
    /// Re-seal the keys the master key protects under a new master key (the server must be
    /// stopped; object bodies are not rewritten).
    RotateMasterKey(RotateArgs),
    /// Replace the system keys themselves (SSE-S3 key, keyring key, metadata key) and re-seal
    /// every data key, seal and MAC in the metadata under the new ones (the server must be
    /// stopped; object bodies are not rewritten). Resumable: after an interruption, run it again.
    RotateSystemKeys(SystemRotateArgs),
}

#[derive(clap::Args)]
struct SystemRotateArgs {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The master key.
    #[command(flatten)]
    master: MasterKeyArgs,
}

#[derive(clap::Args)]
struct RotateArgs {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The new master key (base64 of 32 bytes), e.g. from `head -c 32 /dev/urandom | base64`.
    #[arg(long, value_name = "FILE")]
    new_key_file: PathBuf,
    /// The current master key.
    #[command(flatten)]
    master: MasterKeyArgs,
}

/// Where the master key comes from (`serve` and `rotate-master-key` alike).
#[derive(clap::Args)]
struct MasterKeyArgs {
    /// The master key file (base64 of 32 bytes). Default: DATA_DIR/master.key, generated at first
    /// start (never into a data dir that already holds data: "master key missing"); with --memory
    /// a random key per process. SEALSTORE_MASTER_KEY may hold the key itself.
    #[arg(long, env = "SEALSTORE_MASTER_KEY_FILE", value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    #[arg(
        long = "master-key",
        env = "SEALSTORE_MASTER_KEY",
        hide = true,
        hide_env_values = true
    )]
    master_key: Option<String>,
}

impl MasterKeyArgs {
    fn source(&self) -> Result<MasterKeySource, String> {
        master_key_source(self.master_key_file.clone(), self.master_key.as_deref())
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (IP:PORT or localhost:PORT); port 0 picks a free port. A non-loopback
    /// address refuses the default test/test credentials unless --allow-default-credentials.
    #[arg(long, env = "SEALSTORE_LISTEN", default_value = "127.0.0.1:9000", value_parser = parse_listen)]
    listen: SocketAddr,
    /// Listen on a non-loopback address even though the credentials are the default test/test
    /// (anyone who can reach the port can then use the server).
    #[arg(long, env = "SEALSTORE_ALLOW_DEFAULT_CREDENTIALS")]
    allow_default_credentials: bool,
    /// Directory for metadata and object data.
    #[arg(
        long,
        env = "SEALSTORE_DATA_DIR",
        default_value = "./sealstore-data",
        conflicts_with = "memory"
    )]
    data_dir: PathBuf,
    /// Keep everything in memory; nothing is written to disk.
    #[arg(long, env = "SEALSTORE_MEMORY")]
    memory: bool,
    /// The region the server reports.
    #[arg(long, env = "SEALSTORE_REGION", default_value = "us-east-1")]
    region: String,
    /// Accept SigV4 signatures scoped to any region, whatever the bucket's region (S3 answers
    /// AuthorizationHeaderMalformed with the bucket's region instead).
    #[arg(long, env = "SEALSTORE_ANY_REGION")]
    any_region: bool,
    /// Access key of the default account (id 000000000000).
    #[arg(long, env = "SEALSTORE_ACCESS_KEY", default_value = "test")]
    access_key: String,
    /// Secret key of the default account.
    #[arg(
        long,
        env = "SEALSTORE_SECRET_KEY",
        default_value = "test",
        hide_env_values = true
    )]
    secret_key: String,
    /// Another user, ACCESS:SECRET[:ACCOUNT_ID] (repeatable; comma-separated in the variable).
    #[arg(
        long = "user",
        env = "SEALSTORE_USERS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    users: Vec<String>,
    /// Domain for virtual-hosted-style requests (<bucket>.<domain>).
    #[arg(long, env = "SEALSTORE_DOMAIN", default_value = "localhost")]
    domain: String,
    #[command(flatten)]
    master: MasterKeyArgs,
    /// Create this KMS key for every account at start: a key id (e.g. testkey-1 or a UUID) or
    /// alias/NAME (repeatable; comma-separated in the variable).
    #[arg(
        long = "kms-key",
        env = "SEALSTORE_KMS_KEYS",
        value_delimiter = ',',
        value_name = "ID"
    )]
    kms_keys: Vec<String>,
    /// Create unknown KMS keys on first use instead of answering KMS.NotFoundException.
    #[arg(long, env = "SEALSTORE_KMS_AUTO_CREATE")]
    kms_auto_create: bool,
    /// GetBucketEncryption on a bucket without a rule answers 404
    /// ServerSideEncryptionConfigurationNotFoundError, as S3 did before 2023.
    #[arg(long, env = "SEALSTORE_LEGACY_ENCRYPTION_NOT_FOUND")]
    legacy_encryption_not_found: bool,
    /// New buckets allow SSE-C, as S3 did before April 2026 (today S3 blocks it on new buckets).
    #[arg(long, env = "SEALSTORE_ALLOW_SSEC_BY_DEFAULT")]
    allow_ssec_by_default: bool,
    /// Lifetime of S3 Express session credentials (CreateSession) in seconds; S3's is 300.
    /// Shorter values let tests see sessions expire.
    #[arg(long, env = "SEALSTORE_SESSION_SECONDS", default_value_t = 300, value_name = "SECS",
          value_parser = clap::value_parser!(i64).range(1..=300))]
    session_seconds: i64,
    /// General purpose buckets each account may own; CreateBucket beyond it answers 400
    /// TooManyBuckets. S3's default quota is 10,000.
    #[arg(long, env = "SEALSTORE_MAX_BUCKETS", default_value_t = sealstore::config::DEFAULT_MAX_BUCKETS,
          value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_buckets: usize,
    /// Directory buckets each account may own in a region; CreateBucket beyond it answers 400
    /// TooManyBuckets. S3's default quota is 100.
    #[arg(long, env = "SEALSTORE_MAX_DIRECTORY_BUCKETS", default_value_t = sealstore::config::DEFAULT_MAX_DIRECTORY_BUCKETS,
          value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    max_directory_buckets: usize,
    /// Seconds a client may leave a request body idle (nothing sent) before the server answers
    /// 400 RequestTimeout, stores nothing and closes the connection. S3 uses about 20.
    #[arg(long, env = "SEALSTORE_BODY_TIMEOUT", default_value_t = 20, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Seconds a client may take to send a request's whole header section (request line and
    /// headers), counted from when the server waits for it (a new connection, or one idle between
    /// requests); the connection is closed without an answer after that.
    #[arg(long, env = "SEALSTORE_HEADER_TIMEOUT", default_value_t = 30, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Serve HTTPS with this PEM certificate chain, leaf first (needs --tls-key).
    #[arg(long, env = "SEALSTORE_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1/RSA or SEC1/EC) of --tls-cert.
    #[arg(long, env = "SEALSTORE_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate generated at start for localhost, 127.0.0.1, ::1 and
    /// --domain; its PEM is written to a file named on stderr (the key stays in memory).
    #[arg(
        long,
        env = "SEALSTORE_TLS_SELF_SIGNED",
        value_parser = clap::builder::BoolishValueParser::new(),
        conflicts_with_all = ["tls_cert", "tls_key"]
    )]
    tls_self_signed: bool,
    /// Where --tls-self-signed writes the certificate [default: DATA_DIR/tls/self-signed-cert.pem,
    /// or a file in the temp dir with --memory].
    #[arg(long, env = "SEALSTORE_TLS_CERT_OUT", value_name = "PATH")]
    tls_cert_out: Option<PathBuf>,
}

impl ServeArgs {
    /// The TLS source the flags ask for (None: plain HTTP), or a one-line error.
    fn tls_source(&self) -> Result<Option<TlsSource>, String> {
        if self.tls_cert_out.is_some() && !self.tls_self_signed {
            return Err("--tls-cert-out is only used with --tls-self-signed".into());
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            })),
            (Some(_), None) => Err("--tls-cert needs --tls-key (give both, or neither)".into()),
            (None, Some(_)) => Err("--tls-key needs --tls-cert (give both, or neither)".into()),
            (None, None) if self.tls_self_signed => {
                let data_dir = (!self.memory).then_some(self.data_dir.as_path());
                Ok(Some(TlsSource::SelfSigned {
                    domain: self.domain.clone(),
                    cert_out: self
                        .tls_cert_out
                        .clone()
                        .unwrap_or_else(|| tls::default_self_signed_path(data_dir)),
                }))
            }
            (None, None) => Ok(None),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One clear line, not clap's multi-line report.
            return fail(format!(
                "{} (see 'sealstore --help')",
                one_line(&e.to_string())
            ));
        }
    };
    // Before any thread starts: re-execute with glibc's arena count bounded (see `allocator`).
    let exec_error = match cli.command {
        Command::Serve(_) => sealstore::allocator::bound_malloc_arenas(),
        Command::RotateMasterKey(_) | Command::RotateSystemKeys(_) => None,
    };
    // Log lines are formatted on the request's thread but written by a logging thread, in batches:
    // one `write` per request cost about 5 % of a small GET's CPU. Nothing is dropped (a full
    // queue makes requests wait), and the guard writes what is queued when `main` returns. The
    // queue is allocated up front (32 bytes a line): 8,192 lines, not the default 128,000 (4 MiB).
    let (log_writer, log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(8192)
        .lossy(false)
        .thread_name("sealstore-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    tracing_subscriber::fmt()
        .with_writer(log_writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEALSTORE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Some(e) = exec_error {
        tracing::warn!(
            "could not re-execute with a bounded malloc arena count ({e}); running with glibc's default"
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::RotateMasterKey(args) => runtime.block_on(rotate(args)),
        Command::RotateSystemKeys(args) => runtime.block_on(rotate_system_keys(args)),
    };
    // Queued log lines first, then the final error (if any), in that order.
    drop(runtime);
    drop(log_guard);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(msg),
    }
}

fn master_key_source(file: Option<PathBuf>, key: Option<&str>) -> Result<MasterKeySource, String> {
    match (file, key) {
        (Some(_), Some(_)) => {
            Err("give the master key as --master-key-file or SEALSTORE_MASTER_KEY, not both".into())
        }
        (Some(path), None) => Ok(MasterKeySource::File(path)),
        (None, Some(text)) => MasterKey::from_base64(text)
            .map(MasterKeySource::Key)
            .map_err(|e| format!("SEALSTORE_MASTER_KEY: {e}")),
        (None, None) => Ok(MasterKeySource::Default),
    }
}

async fn rotate(args: RotateArgs) -> Result<(), String> {
    let source = args.master.source()?;
    let mut config = Config::new(StorageMode::Dir(args.data_dir.clone()), Default::default());
    config.master_key = source;
    let generated = matches!(config.master_key, MasterKeySource::Default);
    if generated && !args.data_dir.join(state::GENERATED_MASTER_KEY).exists() {
        return Err(format!(
            "no master key: {} has none, and neither --master-key-file nor SEALSTORE_MASTER_KEY is set",
            args.data_dir.display()
        ));
    }
    // Rotation needs the key the data was sealed with: never a generated one.
    let old = state::master_key(&config, true).map_err(|e| e.to_string())?;
    let new = MasterKey::load(&args.new_key_file).map_err(|e| e.to_string())?;
    let store = sealstore::store::Store::open_dir(&args.data_dir)
        .await
        .map_err(|e| format!("cannot open data dir {}: {e}", args.data_dir.display()))?;
    sealstore::crypto::system::rotate(&store, &old, &new)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "sealstore: master key rotated; start the server with --master-key-file {}",
        args.new_key_file.display()
    );
    if generated {
        eprintln!(
            "sealstore: {} still holds the old key; remove it once the new key is stored safely",
            args.data_dir.join(state::GENERATED_MASTER_KEY).display()
        );
    }
    Ok(())
}

/// `rotate-system-keys`: new system keys, every record re-sealed under them, progress on stdout.
async fn rotate_system_keys(args: SystemRotateArgs) -> Result<(), String> {
    use sealstore::crypto::{kms, records::RecordKeys, system};
    let mut config = Config::new(StorageMode::Dir(args.data_dir.clone()), Default::default());
    config.master_key = args.master.source()?;
    if matches!(config.master_key, MasterKeySource::Default)
        && !args.data_dir.join(state::GENERATED_MASTER_KEY).exists()
    {
        return Err(format!("no master key in {}", args.data_dir.display()));
    }
    let master = state::master_key(&config, true).map_err(|e| e.to_string())?;
    let store = sealstore::store::Store::open_dir(&args.data_dir)
        .await
        .map_err(|e| format!("cannot open data dir {}: {e}", args.data_dir.display()))?;
    let rotation = system::begin_rotation(&store, &master)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "sealstore: rotating the system keys to generation {}",
        rotation.generation
    );
    let (keys, total) = kms::reseal_keyring(&store, &rotation.old.keyring, &rotation.new.keyring)
        .await
        .map_err(|e| e.to_string())?;
    println!("sealstore: KMS keys: {keys} re-sealed of {total}");
    let (old, new) = (
        RecordKeys::new(&rotation.old.metadata),
        RecordKeys::new(&rotation.new.metadata),
    );
    let rekey = sealstore::store::rotation::Rekey {
        old: &old,
        new: &new,
        old_sse_s3: &rotation.old.sse_s3,
        new_sse_s3: &rotation.new.sse_s3,
    };
    let mut progress = |what: &str, done: usize, seen: usize| {
        println!("sealstore: {what}: {done} re-sealed of {seen} so far");
    };
    let n = store
        .rekey_records(&rekey, &mut progress)
        .await
        .map_err(|e| e.to_string())?;
    system::finish_rotation(&store, &master, &rotation)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "sealstore: system keys rotated (generation {}); {n} records re-sealed",
        rotation.generation
    );
    Ok(())
}

/// The first line of clap's report; a line ending in ':' is completed by the indented lines
/// that follow it ("cannot be used with:", "required arguments were not provided:").
fn one_line(report: &str) -> String {
    let mut lines = report.lines();
    let mut out = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    if out.ends_with(':') {
        for more in lines.take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty())
        {
            out.push(' ');
            out.push_str(more.trim());
        }
    }
    out
}

fn fail(msg: String) -> ExitCode {
    eprintln!("sealstore: {msg}");
    ExitCode::FAILURE
}

/// `--listen`: an IP socket address, or `localhost:PORT` (which means `127.0.0.1:PORT`).
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match s.strip_prefix("localhost:").map(str::parse::<u16>) {
        Some(Ok(port)) => Ok(SocketAddr::from(([127, 0, 0, 1], port))),
        _ => Err(format!("'{s}' is not IP:PORT or localhost:PORT")),
    }
}

/// Whether only this machine can connect: 127.0.0.0/8, ::1 (or ::ffff:127.x.y.z).
fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

/// Refuses the well-known test/test credentials on an address other machines can reach, unless
/// `--allow-default-credentials` (then a warning is printed).
fn check_default_credentials(
    listen: &SocketAddr,
    credentials: &sealstore::auth::CredentialStore,
    allowed: bool,
) -> Result<(), String> {
    let default_in_use = credentials
        .get(DEFAULT_CREDENTIAL)
        .is_some_and(|c| c.secret.expose() == DEFAULT_CREDENTIAL);
    if !default_in_use || is_loopback(listen) {
        return Ok(());
    }
    if !allowed {
        return Err(format!(
            "refusing to listen on {listen} with the default credentials test/test: set --access-key/--secret-key (and no --user test:test), or pass --allow-default-credentials to accept that anyone who reaches this address can use the server"
        ));
    }
    eprintln!(
        "sealstore: WARNING: listening on {listen} with the default credentials test/test (--allow-default-credentials): anyone who can reach this address can read and write every object"
    );
    Ok(())
}

/// The access key and secret key everyone knows.
const DEFAULT_CREDENTIAL: &str = "test";

async fn serve(args: ServeArgs) -> Result<(), String> {
    let credentials = Config::credentials_from(&args.access_key, &args.secret_key, &args.users)
        .map_err(|e| e.to_string())?;
    check_default_credentials(&args.listen, &credentials, args.allow_default_credentials)?;
    let tls_source = args.tls_source()?;
    // Certificate files are checked before storage is touched.
    let mut tls_config = match &tls_source {
        Some(source @ TlsSource::Files { .. }) => {
            Some(tls::setup(source).map_err(|e| e.to_string())?.config)
        }
        _ => None,
    };
    let storage = if args.memory {
        StorageMode::Memory
    } else {
        StorageMode::Dir(args.data_dir.clone())
    };
    let master_key = args.master.source()?;
    let config = Config {
        storage,
        region: args.region,
        any_region: args.any_region,
        domain: args.domain,
        credentials,
        master_key,
        kms_keys: args.kms_keys,
        kms_auto_create: args.kms_auto_create,
        legacy_encryption_not_found: args.legacy_encryption_not_found,
        allow_ssec_by_default: args.allow_ssec_by_default,
        session_seconds: args.session_seconds,
        https: tls_source.is_some(),
        max_buckets: args.max_buckets,
        max_directory_buckets: args.max_directory_buckets,
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
    };
    let state = AppState::open(config)
        .await
        .map_err(|e| format!("cannot use data dir {}: {e}", args.data_dir.display()))?;
    // Modes are checked once the data dir (and a generated key) exist; looser ones only warn.
    if !args.memory {
        let key_file = match &state.config.master_key {
            MasterKeySource::File(path) => Some(path.clone()),
            MasterKeySource::Default => Some(args.data_dir.join(state::GENERATED_MASTER_KEY)),
            MasterKeySource::Key(_) => None,
        };
        for warning in sealstore::fsmode::loose_modes(Some(&args.data_dir), key_file.as_deref()) {
            eprintln!("sealstore: {warning}");
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if let Some(source @ TlsSource::SelfSigned { .. }) = &tls_source {
        let setup = tls::setup(source).map_err(|e| e.to_string())?;
        if let Some(path) = &setup.written_cert {
            eprintln!("sealstore: {}", tls::self_signed_notice(path));
        }
        tls_config = Some(setup.config);
    }
    // Signal handlers go in before the ready line, so a SIGTERM right after it is a clean stop.
    let shutdown = shutdown_signal().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let state = Arc::new(state);
    let served = match tls_config {
        Some(tls_config) => {
            println!("sealstore listening on https://{addr}");
            server::run_tls(listener, state, tls_config, shutdown).await
        }
        None => {
            println!("sealstore listening on http://{addr}");
            server::run(listener, state, shutdown).await
        }
    };
    // The per-process temp file of --memory --tls-self-signed is useless once the key is gone.
    if let Some(TlsSource::SelfSigned { cert_out, .. }) = &tls_source {
        if args.memory && args.tls_cert_out.is_none() {
            let _ = std::fs::remove_file(cert_out);
        }
    }
    served.map_err(|e| e.to_string())
}

/// A future that resolves on SIGTERM or Ctrl-C; the handlers are installed when this returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}
