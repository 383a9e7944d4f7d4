//! The command line: operations, SSE modes and sizes.

use clap::{Parser, ValueEnum};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "loadgen",
    about = "S3 load generator: PUT/GET/mixed, SigV4, one keep-alive connection per worker, \
             verified bodies; prints one JSON line"
)]
pub struct Args {
    /// S3 endpoint (http only); requests are path-style `/<bucket>/<key>`.
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub endpoint: String,
    #[arg(long, default_value = "test")]
    pub access_key: String,
    #[arg(long, default_value = "test")]
    pub secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Operation: put, get (objects are written first, untimed) or mixed.
    #[arg(long, value_enum, default_value_t = Op::Put)]
    pub op: Op,
    /// Fraction of GETs in mixed and soak mode.
    #[arg(long, default_value_t = 0.5)]
    pub get_ratio: f64,
    /// Soak mode: fraction of ListObjectsV2 requests (of a prefix of one of the worker's keys).
    #[arg(long, default_value_t = 0.1)]
    pub list_ratio: f64,
    /// Soak mode: fraction of DeleteObject requests (the rest, after GET, LIST and DELETE, are PUTs).
    #[arg(long, default_value_t = 0.1)]
    pub delete_ratio: f64,
    /// Object size: bytes, or with a unit (4KiB, 1MiB, 64MiB, 1GiB; K/M/G are binary too, KB/MB/GB decimal).
    #[arg(long, default_value = "4KiB", value_parser = parse_size)]
    pub size: u64,
    /// A list of object sizes (`1KiB,16KiB,100KiB,256KiB`) used instead of --size: each key
    /// version gets one of them, chosen deterministically from (key, version).
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    pub sizes: Option<Vec<u64>>,
    /// Number of workers, each with its own connection.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Measured seconds (after the warm-up). Default 10 when --requests is not given either.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop after this many measured requests in total.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Seconds of warm-up before measuring (those requests are not counted).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Bucket (created if missing). Default: loadgen-<random>.
    #[arg(long)]
    pub bucket: Option<String>,
    /// Number of distinct keys `obj-0..obj-N` (default 16 × concurrency). For put and mixed, key i
    /// belongs to worker i mod concurrency, so it must be at least the concurrency.
    #[arg(long)]
    pub keys: Option<usize>,
    /// Server-side encryption requested on PUT (SSE-C also on GET).
    #[arg(long, value_enum, default_value_t = Sse::None)]
    pub sse: Sse,
    /// KMS key id for sse-kms / dsse-kms (default: the account's aws/s3 key).
    #[arg(long)]
    pub kms_key_id: Option<String>,
    /// Check every GET body byte for byte (the default).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not check GET bodies.
    #[arg(long, overrides_with = "verify")]
    pub no_verify: bool,
    /// Send the payload's hex SHA-256 in x-amz-content-sha256 instead of UNSIGNED-PAYLOAD.
    #[arg(long)]
    pub sign_payload: bool,
    /// get/mixed: do not write the objects first; they must hold version 1 as written by an earlier
    /// run with the same --bucket, --size and key ids (e.g. `--op put --requests N` with N ≥ keys).
    #[arg(long)]
    pub no_populate: bool,
    /// After the run (untimed): delete the keys obj-0..N and the bucket.
    #[arg(long)]
    pub cleanup: bool,
    /// The server's pid: report its CPU time (utime+stime) and resident memory during the run.
    #[arg(long)]
    pub pid: Option<u32>,
    /// With --pid: seconds after the start of the measured window at which the server's VmRSS is
    /// recorded as `rss_mark_mib` (compared with `rss_end_mib`, taken when the load stops).
    #[arg(long, default_value_t = 60.0)]
    pub rss_mark: f64,
    /// Free text copied into the JSON output.
    #[arg(long, default_value = "")]
    pub label: String,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Per-request timeout in seconds (a timed-out request is an error).
    #[arg(long, default_value_t = 600.0)]
    pub timeout: f64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Put,
    Get,
    Mixed,
    /// PUT / GET / LIST / DELETE, with listings and 404s checked against each worker's keys.
    Soak,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sse {
    None,
    #[value(name = "sse-s3")]
    S3,
    #[value(name = "sse-kms")]
    Kms,
    #[value(name = "dsse-kms")]
    Dsse,
    #[value(name = "sse-c")]
    Customer,
    /// Each key version picks one of the five modes above (deterministically).
    Mixed,
}

/// The modes `--sse mixed` picks from.
pub(crate) const SSE_MODES: [Sse; 5] = [Sse::None, Sse::S3, Sse::Kms, Sse::Dsse, Sse::Customer];

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Mixed => "mixed",
            Op::Soak => "soak",
        }
    }
}

impl Sse {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sse::None => "none",
            Sse::S3 => "sse-s3",
            Sse::Kms => "sse-kms",
            Sse::Dsse => "dsse-kms",
            Sse::Customer => "sse-c",
            Sse::Mixed => "mixed",
        }
    }
}

/// `4096`, `4KiB`, `1MiB`, `64MiB`, `1GiB`, `4K` (binary), `4KB` (decimal).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?} (e.g. 4096, 4KiB, 1MiB, 1GiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("invalid size unit in {s:?} (B, KiB, MiB, GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} too large"))
}
