//! One run: set-up, warm-up, the measured window, the report.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::args::*;
use crate::conn::*;
use crate::ctx::*;
use crate::report::*;
use crate::worker::*;
use crate::{BoxError, MIB};

pub(crate) fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs one load test and returns its report.
pub async fn run(args: Args) -> Result<Report, BoxError> {
    let c = args.concurrency;
    if c == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let ratios = [args.get_ratio, args.list_ratio, args.delete_ratio];
    if ratios.iter().any(|r| !(0.0..=1.0).contains(r)) {
        return Err("--get-ratio, --list-ratio and --delete-ratio must be between 0 and 1".into());
    }
    if args.op == Op::Soak && ratios.iter().sum::<f64>() > 1.0 {
        return Err("--get-ratio + --list-ratio + --delete-ratio must be at most 1".into());
    }
    if !(args.rss_mark.is_finite() && args.rss_mark >= 0.0) {
        return Err("--rss-mark must be a number of seconds, not negative".into());
    }
    if args.sizes.as_ref().is_some_and(|s| s.is_empty()) {
        return Err("--sizes needs at least one size".into());
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if args.duration.is_some_and(|d| !positive(d)) || !(args.warmup == 0.0 || positive(args.warmup))
    {
        return Err("--duration must be positive and --warmup not negative".into());
    }
    if !positive(args.timeout) || args.timeout > 1e9 {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let duration = match (args.duration, args.requests) {
        (None, None) => Some(10.0),
        (d, _) => d,
    };
    let total_keys = args.keys.unwrap_or(16 * c);
    if total_keys == 0 {
        return Err("--keys must be at least 1".into());
    }
    if args.op != Op::Get && total_keys < c {
        return Err(format!(
            "--keys ({total_keys}) must be at least --concurrency ({c}) for put and mixed: each \
             worker writes only its own keys"
        )
        .into());
    }
    if let Some(pid) = args.pid {
        if proc_cpu_ticks(pid).is_none() {
            return Err(format!("--pid {pid}: cannot read /proc/{pid}/stat").into());
        }
    }
    let bucket = args
        .bucket
        .clone()
        .unwrap_or_else(|| format!("loadgen-{:08x}", rand::random::<u32>()));
    let ctx = Arc::new(Ctx::new(&args, bucket)?);

    // Set-up (untimed): bucket, then version 1 of every key for get and mixed.
    let mut setup_conn = Conn::default();
    ctx.set_up_bucket(&mut setup_conn, args.sse).await?;
    drop(setup_conn);
    let owned = |w: usize| -> Vec<u64> { (w as u64..total_keys as u64).step_by(c).collect() };
    let mut conns: Vec<Conn> = Vec::with_capacity(c);
    if args.op != Op::Put && !args.no_populate {
        let tasks: Vec<_> = (0..c)
            .map(|w| tokio::spawn(populate(ctx.clone(), owned(w))))
            .collect();
        let mut errors = 0;
        for t in tasks {
            let (conn, e) = t.await?;
            conns.push(conn);
            errors += e;
        }
        if errors > 0 {
            return Err(format!("{errors} PUTs failed while writing the objects to read").into());
        }
    } else {
        conns.resize_with(c, Conn::default);
    }

    // The measured run.
    let t0 = Instant::now();
    let measure_start = t0 + Duration::from_secs_f64(args.warmup);
    let plan = Arc::new(Plan {
        op: args.op,
        get_ratio: args.get_ratio,
        list_ratio: args.list_ratio,
        delete_ratio: args.delete_ratio,
        total_keys: total_keys as u64,
        measure_start,
        deadline: duration.map(|d| measure_start + Duration::from_secs_f64(d)),
        requests: args.requests,
        tickets: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let rss_mark = measure_start + Duration::from_secs_f64(args.rss_mark);
    let sampler = sample(args.pid, measure_start, rss_mark, stop.clone());
    // In put mode a key's first PUT is version 1; in mixed and soak mode version 1 is already
    // there (written above, or by an earlier run with --no-populate).
    let initial = if matches!(args.op, Op::Mixed | Op::Soak) {
        1
    } else {
        0
    };
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(w, conn)| {
            let keys = if args.op == Op::Get {
                Vec::new()
            } else {
                owned(w)
                    .into_iter()
                    .map(|id| KeyState {
                        id,
                        latest: initial,
                        accepted: vec![initial.max(1)],
                        absent_ok: false,
                    })
                    .collect()
            };
            tokio::spawn(worker(ctx.clone(), plan.clone(), w, conn, keys))
        })
        .collect();
    let mut total = WorkerOut::default();
    let mut join_error = None;
    for t in tasks {
        match t.await {
            Ok(o) => {
                total.lat_ns.extend(o.lat_ns);
                total.get_ops += o.get_ops;
                total.put_ops += o.put_ops;
                total.list_ops += o.list_ops;
                total.delete_ops += o.delete_ops;
                total.not_found += o.not_found;
                total.bytes += o.bytes;
                total.errors += o.errors;
                total.verified += o.verified;
            }
            Err(e) => join_error = Some(e),
        }
    }
    let end = Instant::now();
    let rss_end_kb = args.pid.and_then(|pid| proc_status_kb(pid, "VmRSS"));
    stop.store(true, Ordering::Relaxed);
    if let Some(e) = join_error {
        return Err(format!("a worker failed: {e}").into());
    }
    let (cpu0, peak_kb, rss_mark_kb) = sampler
        .join()
        .map_err(|_| "the /proc sampler thread panicked")?;
    let cpu1 = CpuSnapshot::take(args.pid);
    let ticks = clock_ticks_per_second();
    let secs = |a: Option<u64>, b: Option<u64>| -> Option<f64> {
        Some(b?.saturating_sub(a?) as f64 / ticks)
    };
    let server_cpu_s = secs(cpu0.server, cpu1.server);
    let loadgen_cpu_s = secs(cpu0.own, cpu1.own);
    let host_cpu_busy_s = secs(cpu0.host_busy, cpu1.host_busy);
    let other_cpu_s = match (host_cpu_busy_s, server_cpu_s, loadgen_cpu_s) {
        (Some(h), Some(s), Some(l)) => Some((h - s - l).max(0.0)),
        _ => None,
    };
    let mib = |kb: u64| round3(kb as f64 / 1024.0);
    let server_rss_peak_mib = args.pid.map(|_| mib(peak_kb));
    let rss_growth_pct = match (rss_mark_kb, rss_end_kb) {
        (Some(m), Some(e)) if m > 0 => Some(round3((e as f64 - m as f64) / m as f64 * 100.0)),
        _ => None,
    };
    let server_hwm_mib = args
        .pid
        .and_then(|pid| proc_status_kb(pid, "VmHWM"))
        .map(mib);

    if args.cleanup {
        let tasks: Vec<_> = (0..c)
            .map(|w| tokio::spawn(delete_keys(ctx.clone(), owned(w))))
            .collect();
        let mut failed = 0;
        for t in tasks {
            failed += t.await.unwrap_or(1);
        }
        let mut conn = Conn::default();
        let bucket_path = format!("/{}", ctx.bucket);
        if let Err(e) = ctx.delete(&mut conn, &bucket_path).await {
            eprintln!(
                "loadgen: warning: cleanup: DeleteBucket {}: {e}",
                ctx.bucket
            );
        }
        if failed > 0 {
            eprintln!("loadgen: warning: cleanup: {failed} DeleteObject requests failed");
        }
    }

    let duration_s = end.saturating_duration_since(measure_start).as_secs_f64();
    let ops = total.get_ops + total.put_ops + total.list_ops + total.delete_ops;
    let mut lat = total.lat_ns;
    lat.sort_unstable();
    let mean_ms = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&n| n as f64).sum::<f64>() / lat.len() as f64 / 1e6
    };
    let per_s = |x: f64| {
        if duration_s > 0.0 {
            x / duration_s
        } else {
            0.0
        }
    };
    Ok(Report {
        label: args.label.clone(),
        endpoint: args.endpoint.clone(),
        bucket: ctx.bucket.clone(),
        op: args.op.name().to_string(),
        size: args.size,
        sizes: args.sizes.clone().unwrap_or_default(),
        concurrency: c,
        keys: total_keys,
        sse: args.sse.name().to_string(),
        sign_payload: args.sign_payload,
        verify: ctx.verify,
        duration_s: round3(duration_s),
        ops,
        get_ops: total.get_ops,
        put_ops: total.put_ops,
        list_ops: total.list_ops,
        delete_ops: total.delete_ops,
        get_not_found: total.not_found,
        ops_per_s: round3(per_s(ops as f64)),
        mib_per_s: round3(per_s(total.bytes as f64 / MIB)),
        mean_ms: round3(mean_ms),
        p50_ms: round3(percentile(&lat, 0.50)),
        p90_ms: round3(percentile(&lat, 0.90)),
        p99_ms: round3(percentile(&lat, 0.99)),
        p999_ms: round3(percentile(&lat, 0.999)),
        max_ms: round3(lat.last().map_or(0.0, |&n| n as f64 / 1e6)),
        errors: total.errors,
        verified: total.verified,
        server_cpu_s: server_cpu_s.map(round3),
        server_rss_peak_mib,
        server_hwm_mib,
        rss_mark_mib: rss_mark_kb.map(mib),
        rss_end_mib: rss_end_kb.map(mib),
        rss_growth_pct,
        loadgen_cpu_s: loadgen_cpu_s.map(round3),
        host_cpu_busy_s: host_cpu_busy_s.map(round3),
        other_cpu_s: other_cpu_s.map(round3),
    })
}
