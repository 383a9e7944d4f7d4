//! The `sealstore` binary: parses flags, opens storage, binds, prints the ready line, serves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use sealstore::config::{Config, StorageMode};
use sealstore::server::{self, AppState};

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
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "SEALSTORE_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
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
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            return fail(format!("{first} (see 'sealstore --help')"));
        }
    };
    let Command::Serve(args) = cli.command;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SEALSTORE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(msg),
    }
}

fn fail(msg: String) -> ExitCode {
    eprintln!("sealstore: {msg}");
    ExitCode::FAILURE
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let credentials = Config::credentials_from(&args.access_key, &args.secret_key, &args.users)
        .map_err(|e| e.to_string())?;
    let storage = if args.memory {
        StorageMode::Memory
    } else {
        StorageMode::Dir(args.data_dir.clone())
    };
    let config = Config {
        storage,
        region: args.region,
        domain: args.domain,
        credentials,
    };
    let state = AppState::open(config)
        .await
        .map_err(|e| format!("cannot use data dir {}: {e}", args.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Signal handlers go in before the ready line, so a SIGTERM right after it is a clean stop.
    let shutdown = shutdown_signal().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    println!("sealstore listening on http://{addr}");
    server::run(listener, Arc::new(state), shutdown)
        .await
        .map_err(|e| e.to_string())
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
