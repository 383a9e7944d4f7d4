//! `loadgen`: a small, cheap S3 load generator (PUT, GET or a mix) for sealstore or any S3
//! endpoint (moto, MinIO, ...).
//!
//! Every request is signed with SigV4 (`UNSIGNED-PAYLOAD` by default, `--sign-payload` for the hex
//! SHA-256), path-style (`/<bucket>/<key>`). Each worker owns one keep-alive HTTP/1.1 connection.
//! Object bodies are deterministic functions of (key, version): the first 16 bytes hold the key id
//! and the version (little endian), the rest is a window of a shared pseudo-random pool whose
//! start depends on (key, version). Bodies are streamed as slices of that pool (no per-request
//! buffer beyond the first 64 KiB), and GET bodies are compared with it chunk by chunk.
//!
//! Output: one JSON line on stdout per run (see [`Report`]); errors and a summary go to stderr.
//!
//! ```sh
//! cargo build --release --example loadgen --bin sealstore
//! target/release/examples/loadgen --endpoint http://127.0.0.1:9000 --op put --size 4KiB \
//!     --concurrency 16 --duration 5 --warmup 1 --pid "$(pidof sealstore)"
//! ```
//!
//! Its tests (`cargo test --example loadgen`, part of `cargo test`) run in this example's own test
//! binary: unit tests in `tests.rs`, runs against the built server in `e2e.rs`.

mod args;
mod conn;
mod ctx;
mod pattern;
mod report;
mod requests;
mod run;
mod worker;

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

use std::error::Error as StdError;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Args;
use crate::run::run;

pub type BoxError = Box<dyn StdError + Send + Sync>;

const MIB: f64 = 1024.0 * 1024.0;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Period of the body pattern: 1 MiB plus an odd amount, so that no two 64 KiB segments of an
/// object (the server's encryption unit) carry the same bytes.
const PERIOD: usize = (1 << 20) + 4099;
/// Largest body frame sent (a zero-copy slice of the pool).
const CHUNK: usize = 256 * 1024;
/// The first frame of a body is a fresh buffer (header + pattern) of at most this size.
const FIRST: usize = 64 * 1024;
/// Bytes of (key id, version) at the start of each body.
const HEADER: usize = 16;
/// How many errors are printed to stderr (all are counted).
const PRINTED_ERRORS: usize = 5;
/// The SSE-C customer key (fixed: the objects must be readable by a later run).
const SSEC_KEY: [u8; 32] = *b"loadgen-sse-c-customer-key-32by!";

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                eprintln!(
                    "loadgen: {} {} B c{}: {} ops in {:.2} s = {:.1} ops/s, {:.1} MiB/s, p50 {:.3} ms, \
                     p99 {:.3} ms, {} errors, {} verified",
                    report.op,
                    report.size,
                    report.concurrency,
                    report.ops,
                    report.duration_s,
                    report.ops_per_s,
                    report.mib_per_s,
                    report.p50_ms,
                    report.p99_ms,
                    report.errors,
                    report.verified
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen: cannot encode the report: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
