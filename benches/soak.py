#!/usr/bin/env python3
"""Soak test: the release sealstore under a 64-worker PUT / GET / LIST / DELETE mix across all SSE
modes and a spread of object sizes, for 10 minutes (or 30 s with --short).

It starts `target/release/sealstore serve --listen 127.0.0.1:0 --data-dir <tmp> --kms-key soak-key`,
runs `target/release/examples/loadgen --op soak --sse mixed ...` against it with --pid (so the
server's VmRSS is recorded at --rss-mark seconds and at the end), prints loadgen's JSON line and a
summary, and exits 0 only if there were no errors, GETs were verified and the RSS growth from the
mark to the end is at most --max-rss-growth %. The server is stopped with SIGTERM and the temp dir
removed in every case.

    cargo build --release --example loadgen --bin sealstore
    python3 benches/soak.py              # 10 minutes, RSS mark at 60 s
    python3 benches/soak.py --short      # 30 seconds, RSS mark at 10 s

Python standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
READY = "sealstore listening on "


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help="the CI form: 30 s, RSS mark at 10 s")
    p.add_argument("--duration", type=float, help="seconds (default 600, 30 with --short)")
    p.add_argument("--rss-mark", type=float, help="seconds (default 60, 10 with --short)")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--sizes", default="1KiB,16KiB,100KiB,256KiB",
                   help="object sizes (bodies of 65 KiB or less are stored inline, larger in files)")
    p.add_argument("--get-ratio", type=float, default=0.5)
    p.add_argument("--list-ratio", type=float, default=0.1)
    p.add_argument("--delete-ratio", type=float, default=0.1)
    p.add_argument("--max-rss-growth", type=float, default=10.0, help="percent (default 10)")
    p.add_argument("--server", default=os.path.join(TARGET, "release", "sealstore"))
    p.add_argument("--loadgen", default=os.path.join(TARGET, "release", "examples", "loadgen"))
    p.add_argument("--json-out", help="also write the JSON line to this file")
    a = p.parse_args()
    if a.duration is None:
        a.duration = 30.0 if a.short else 600.0
    if a.rss_mark is None:
        a.rss_mark = 10.0 if a.short else 60.0
    return a


def start_server(binary, data_dir):
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
         "--kms-key", "soak-key"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = {}

    def read():
        for line in proc.stdout:
            if line.startswith(READY) and "endpoint" not in found:
                found["endpoint"] = line[len(READY):].strip()
        # Keep draining until the pipe closes so the server never blocks on stdout.

    t = threading.Thread(target=read, daemon=True)
    t.start()
    deadline = time.time() + 30
    while "endpoint" not in found:
        if proc.poll() is not None:
            raise RuntimeError(f"sealstore exited with {proc.returncode} before it was ready")
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError("sealstore did not print its ready line within 30 s")
        time.sleep(0.02)
    return proc, found["endpoint"]


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def main():
    a = parse_args()
    for path in (a.server, a.loadgen):
        if not os.access(path, os.X_OK):
            sys.exit(f"soak: {path} not found; run: cargo build --release --example loadgen --bin sealstore")
    tmp = tempfile.mkdtemp(prefix="sealstore-soak-")
    proc = None
    try:
        proc, endpoint = start_server(a.server, os.path.join(tmp, "data"))
        cmd = [a.loadgen, "--endpoint", endpoint, "--op", "soak", "--sse", "mixed",
               "--kms-key-id", "soak-key", "--sizes", a.sizes,
               "--concurrency", str(a.concurrency), "--duration", str(a.duration),
               "--rss-mark", str(a.rss_mark), "--get-ratio", str(a.get_ratio),
               "--list-ratio", str(a.list_ratio), "--delete-ratio", str(a.delete_ratio),
               "--pid", str(proc.pid), "--label", "soak", "--timeout", "60"]
        print("soak: " + " ".join(cmd), file=sys.stderr, flush=True)
        run = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                             timeout=a.duration + 600)
        if run.returncode != 0:
            print(f"soak: FAIL: loadgen exited with {run.returncode}", file=sys.stderr)
            return 1
        line = run.stdout.strip().splitlines()[-1]
        r = json.loads(line)
        print(line)
        if a.json_out:
            with open(a.json_out, "w") as f:
                f.write(line + "\n")
        d = r["duration_s"] or 1.0
        print(f"soak: {r['duration_s']:.0f} s, concurrency {r['concurrency']}, sizes {r['sizes']}, "
              f"SSE {r['sse']}")
        for op in ("put", "get", "list", "delete"):
            print(f"  {op:6} {r[op + '_ops']:9d} ops  {r[op + '_ops'] / d:8.1f} ops/s")
        print(f"  total  {r['ops']:9d} ops  {r['ops_per_s']:8.1f} ops/s, {r['mib_per_s']:.1f} MiB/s, "
              f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
        print(f"  errors {r['errors']}, verified GETs {r['verified']}, "
              f"expected 404 NoSuchKey {r['get_not_found']}")
        print(f"  server RSS: {r['rss_mark_mib']} MiB at {a.rss_mark:.0f} s, {r['rss_end_mib']} MiB "
              f"at the end ({r['rss_growth_pct']} %), peak {r['server_rss_peak_mib']} MiB; "
              f"server CPU {r['server_cpu_s']} s, other processes {r['other_cpu_s']} s")
        failures = []
        if r["errors"] != 0:
            failures.append(f"{r['errors']} errors")
        if r["verified"] == 0:
            failures.append("no GET verified")
        growth = r["rss_growth_pct"]
        if growth is None:
            failures.append("no RSS figures (run shorter than --rss-mark?)")
        elif growth > a.max_rss_growth:
            failures.append(f"RSS grew {growth} % > {a.max_rss_growth} %")
        if failures:
            print("soak: FAIL: " + "; ".join(failures))
            return 1
        print("soak: PASS")
        return 0
    finally:
        if proc is not None:
            rc = stop_server(proc)
            if rc not in (0, None):
                print(f"soak: warning: sealstore exited with {rc} after SIGTERM", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
