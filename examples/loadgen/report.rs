//! The JSON line printed per run, and the server statistics read from /proc.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The one JSON line printed per run.
#[derive(Serialize, Debug, Clone)]
pub struct Report {
    pub label: String,
    pub endpoint: String,
    pub bucket: String,
    pub op: String,
    pub size: u64,
    /// The --sizes list (empty without it: every body is `size` bytes).
    pub sizes: Vec<u64>,
    pub concurrency: usize,
    pub keys: usize,
    pub sse: String,
    pub sign_payload: bool,
    pub verify: bool,
    /// Seconds from the end of the warm-up to the completion of the last measured request.
    pub duration_s: f64,
    /// Successful measured requests (errors are not included).
    pub ops: u64,
    pub get_ops: u64,
    pub put_ops: u64,
    /// Soak mode: ListObjectsV2 listings (all pages of one prefix count as one), each checked.
    pub list_ops: u64,
    /// Soak mode: DeleteObject requests.
    pub delete_ops: u64,
    /// Soak mode: GETs of deleted keys answered 404 NoSuchKey, as expected (included in get_ops).
    pub get_not_found: u64,
    pub ops_per_s: f64,
    pub mib_per_s: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Measured requests that failed: transport errors, timeouts, non-2xx answers, body mismatches.
    pub errors: u64,
    /// GET bodies checked byte for byte against the expected content.
    pub verified: u64,
    pub server_cpu_s: Option<f64>,
    pub server_rss_peak_mib: Option<f64>,
    pub server_hwm_mib: Option<f64>,
    /// With --pid: the server's VmRSS --rss-mark seconds into the measured window (none when the
    /// run ended before), at the end of the load, and the growth from the first to the second in %.
    pub rss_mark_mib: Option<f64>,
    pub rss_end_mib: Option<f64>,
    pub rss_growth_pct: Option<f64>,
    /// CPU time of this load generator during the measured window.
    pub loadgen_cpu_s: Option<f64>,
    /// Busy time of all the machine's CPUs during the measured window.
    pub host_cpu_busy_s: Option<f64>,
    /// host_cpu_busy_s minus the server's and ours: other processes (noise), with --pid.
    pub other_cpu_s: Option<f64>,
}

/// utime + stime of `pid` in clock ticks.
pub(crate) fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `/proc/PID/status` field in kB (VmRSS, VmHWM).
pub(crate) fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let v = l.strip_prefix(field)?.strip_prefix(':')?;
        v.split_whitespace().next()?.parse().ok()
    })
}

pub(crate) fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|&t| t > 0.0)
        .unwrap_or(100.0)
}

/// Busy time of all CPUs (user, nice, system, irq, softirq, steal) in clock ticks.
pub(crate) fn host_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    Some(f.get(..8)?.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
}

/// CPU time so far, in clock ticks: the server's, our own, and all CPUs' busy time.
#[derive(Clone, Copy, Default)]
pub(crate) struct CpuSnapshot {
    pub(crate) server: Option<u64>,
    pub(crate) own: Option<u64>,
    pub(crate) host_busy: Option<u64>,
}

impl CpuSnapshot {
    pub(crate) fn take(pid: Option<u32>) -> CpuSnapshot {
        CpuSnapshot {
            server: pid.and_then(proc_cpu_ticks),
            own: proc_cpu_ticks(std::process::id()),
            host_busy: host_busy_ticks(),
        }
    }
}

/// Waits until `start`, takes a CPU snapshot, then samples the server's VmRSS every 50 ms until
/// `stop`; returns (the snapshot at `start`, peak VmRSS in kB, the first VmRSS sampled at or
/// after `mark` in kB).
pub(crate) fn sample(
    pid: Option<u32>,
    start: Instant,
    mark: Instant,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(CpuSnapshot, u64, Option<u64>)> {
    std::thread::spawn(move || {
        let now = Instant::now();
        if start > now {
            std::thread::sleep(start - now);
        }
        let cpu0 = CpuSnapshot::take(pid);
        let mut peak = 0;
        let mut at_mark = None;
        loop {
            // Read before the kB sample: a mark reached just as the run stops is not recorded.
            let stopping = stop.load(Ordering::Relaxed);
            if let Some(kb) = pid.and_then(|p| proc_status_kb(p, "VmRSS")) {
                peak = peak.max(kb);
                if at_mark.is_none() && !stopping && Instant::now() >= mark {
                    at_mark = Some(kb);
                }
            }
            if stopping {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (cpu0, peak, at_mark)
    })
}
