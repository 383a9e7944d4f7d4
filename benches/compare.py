#!/usr/bin/env python3
"""sealstore next to moto: the same loadgen workloads against both servers, interleaved.

Starts ``sealstore serve`` (release binary, ``--data-dir`` in a temp dir and/or ``--memory``) and
``moto_server`` on free ports of 127.0.0.1, then for each round and each workload runs
``target/release/examples/loadgen`` against every server in turn (a fresh bucket each time,
objects and bucket deleted afterwards), takes the median of each metric over the rounds and prints
Markdown tables: workload | sealstore | moto | ratio (sealstore/moto).

The memory row streams one 1 GiB object in (PUT) and out (GET, verified) through freshly started
servers and reports each server's peak RSS while doing so.

Python 3.11, standard library only. Builds nothing unless ``--build`` is given::

    cargo build --release --example loadgen --bin sealstore
    python3 benches/compare.py                       # full set, 3 rounds (~15 min)
    python3 benches/compare.py --quick --rounds 1    # smoke run (~1 min)
    python3 benches/compare.py --sealstore-mode both --json-out runs.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
READY_RE = re.compile(r"^sealstore listening on (http://\S+)\s*$")
BUILD_CMD = ["cargo", "build", "--release", "--example", "loadgen", "--bin", "sealstore"]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

# (metric key in loadgen's JSON, table title, format, better, ratio column)
METRICS = [
    ("ops_per_s", "ops/s", "{:.1f}", "higher is better", True),
    ("mib_per_s", "MiB/s", "{:.1f}", "higher is better", True),
    ("p99_ms", "p99 latency (ms)", "{:.2f}", "lower is better", True),
    ("server_cpu_s", "server CPU (s) during the measured window", "{:.2f}", "lower is better",
     True),
    ("server_cpu_us_per_op", "server CPU per request (µs)", "{:.0f}", "lower is better", True),
    ("server_rss_peak_mib", "server peak RSS (MiB)", "{:.1f}", "lower is better", True),
    ("other_cpu_s", "CPU of other processes during the window (s)",
     "{:.2f}", "noise: should be near 0", False),
]


@dataclass
class Workload:
    name: str
    op: str
    size: str
    concurrency: int
    duration: float
    warmup: float
    keys: int | None = None
    # 1 GiB memory row: PUT then GET of one object on fresh servers.
    memory_row: bool = False


def workloads(quick: bool, skip_1gib: bool) -> list[Workload]:
    d, w = (1.0, 0.3) if quick else (5.0, 1.0)
    big, big_label = ("8MiB", "8 MiB") if quick else ("64MiB", "64 MiB")
    out = [
        Workload("4 KiB PUT c1", "put", "4KiB", 1, d, w),
        Workload("4 KiB PUT c16", "put", "4KiB", 16, d, w),
        Workload("4 KiB GET c1", "get", "4KiB", 1, d, w),
        Workload("4 KiB GET c16", "get", "4KiB", 16, d, w),
        Workload("1 MiB PUT c8", "put", "1MiB", 8, d, w, keys=32),
        Workload("1 MiB GET c8", "get", "1MiB", 8, d, w, keys=32),
        Workload(f"{big_label} PUT c1", "put", big, 1, d, w, keys=2),
        Workload(f"{big_label} GET c1", "get", big, 1, d, w, keys=2),
    ]
    if not skip_1gib:
        size, label = ("64MiB", "64 MiB") if quick else ("1GiB", "1 GiB")
        out.append(Workload(f"{label} PUT+GET (memory row)", "memory", size, 1, 0, 0, keys=1,
                            memory_row=True))
    return out


# ------------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """A server child process in its own session (so a terminal Ctrl-C reaches only us), with
    its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, kind: str, workdir: Path):
        self.name = name
        self.kind = kind
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""
        self.log_path = workdir / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self, cmd: list[str], stdout) -> None:
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout,
                                         stderr=log, start_new_session=True)
        finally:
            log.close()

    def start_sealstore(self, binary: Path, memory: bool) -> None:
        cmd = [str(binary), "serve", "--listen", "127.0.0.1:0"]
        if memory:
            cmd.append("--memory")
        else:
            data = self.workdir / f"{self.name}-data"
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir()
            cmd += ["--data-dir", str(data)]
        self._spawn(cmd, subprocess.PIPE)
        assert self.proc is not None and self.proc.stdout is not None
        # Read the ready line on a thread so a silent server cannot block us past the deadline.
        found: list[str] = []
        done = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for raw in self.proc.stdout:
                m = READY_RE.match(raw.decode(errors="replace"))
                if m:
                    found.append(m.group(1))
                    break
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(START_TIMEOUT) or not found:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self.log_path}")
        self.endpoint = found[0]

    def start_moto(self, binary: str) -> None:
        port = free_port()
        log = open(self.log_path, "ab")
        try:
            self._spawn([binary, "-H", "127.0.0.1", "-p", str(port)], log)
        finally:
            log.close()
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def rss_mib(self) -> float | None:
        kib = proc_status_kib(self.pid, "VmRSS") if self.proc else None
        return None if kib is None else kib / 1024

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(STOP_TIMEOUT)


@dataclass
class Target:
    """A server to measure: how to (re)start it."""
    name: str
    kind: str  # sealstore-dir | sealstore-memory | moto
    server: Server
    start: object = field(repr=False)

    def restart(self) -> None:
        self.server.stop()
        self.start()  # type: ignore[operator]


# ------------------------------------------------------------------------------------------------
# Running loadgen


def run_loadgen(loadgen: Path, target: Target, args: list[str], label: str,
                timeout: float) -> dict:
    cmd = [str(loadgen), "--endpoint", target.server.endpoint, "--pid", str(target.server.pid),
           "--label", label, *args]
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"loadgen timed out after {timeout:.0f} s: {shlex.join(cmd)}") from e
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {shlex.join(cmd)}\n{out.stderr}")
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if len(lines) != 1:
        raise RuntimeError(f"expected one JSON line from {shlex.join(cmd)}, got:\n{out.stdout}")
    rec = json.loads(lines[0])
    rec["command"] = shlex.join(cmd)
    if rec.get("server_cpu_s") is not None and rec.get("ops"):
        rec["server_cpu_us_per_op"] = rec["server_cpu_s"] / rec["ops"] * 1e6
    else:
        rec["server_cpu_us_per_op"] = None
    if rec.get("errors"):
        print(f"    warning: {rec['errors']} errors: {out.stderr.strip()[:2000]}", file=sys.stderr)
    return rec


def common_args(w: Workload, sse: str, bucket: str) -> list[str]:
    a = ["--size", w.size, "--concurrency", str(w.concurrency), "--sse", sse, "--bucket", bucket]
    if w.keys is not None:
        a += ["--keys", str(w.keys)]
    return a


def run_workload(loadgen: Path, target: Target, w: Workload, rnd: int, sse: str,
                 timeout_scale: float) -> dict:
    bucket = f"cmp-{rnd}-{re.sub(r'[^a-z0-9]+', '-', w.name.lower()).strip('-')}-{os.getpid()}"
    bucket = bucket[:63].rstrip("-")
    label = f"{target.name} | {w.name} | round {rnd}"
    if not w.memory_row:
        args = ["--op", w.op, *common_args(w, sse, bucket), "--duration", str(w.duration),
                "--warmup", str(w.warmup), "--cleanup"]
        rec = run_loadgen(loadgen, target, args, label, timeout=(w.duration + w.warmup + 300)
                          * timeout_scale)
        rec.update(server=target.name, workload=w.name, round=rnd)
        return rec
    # Memory row: fresh server; PUT one object, then GET it back (verified) without rewriting it.
    target.restart()
    base = common_args(w, sse, bucket)
    rss_before = target.server.rss_mib()
    put = run_loadgen(loadgen, target, ["--op", "put", *base, "--requests", "1"], label + " put",
                      timeout=1800 * timeout_scale)
    get = run_loadgen(loadgen, target, ["--op", "get", "--no-populate", *base, "--requests", "1",
                                        "--cleanup"], label + " get",
                      timeout=1800 * timeout_scale)
    peaks = [r["server_rss_peak_mib"] for r in (put, get) if r.get("server_rss_peak_mib")]
    rec = {
        "server": target.name, "workload": w.name, "round": rnd, "op": "memory",
        "size": put["size"], "rss_before_mib": rss_before,
        "server_rss_peak_mib": max(peaks) if peaks else None,
        "server_hwm_mib": get.get("server_hwm_mib"),
        "put_mib_per_s": put["mib_per_s"], "get_mib_per_s": get["mib_per_s"],
        "mib_per_s": None, "ops_per_s": None, "p99_ms": None,
        "server_cpu_s": (put["server_cpu_s"] or 0) + (get["server_cpu_s"] or 0),
        "server_cpu_us_per_op": None,
        "other_cpu_s": sum(r.get("other_cpu_s") or 0 for r in (put, get)),
        "errors": put["errors"] + get["errors"], "verified": get["verified"],
        "runs": [put, get],
    }
    return rec


# ------------------------------------------------------------------------------------------------
# Report


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def host_busy_idle() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(f) - f[3] - f[4], sum(f)


def wait_idle(max_wait: float, threshold: float) -> float:
    """Waits (up to max_wait s) for a second in which the machine's CPUs are busy less than
    `threshold` CPUs' worth (our servers are idle then: what is busy is someone else). Returns
    the last busy figure (CPUs)."""
    deadline = time.monotonic() + max_wait
    busy = 0.0
    ncpu = os.cpu_count() or 1
    while True:
        b0, t0 = host_busy_idle()
        time.sleep(1.0)
        b1, t1 = host_busy_idle()
        busy = (b1 - b0) / max(1, t1 - t0) * ncpu
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = proc_meminfo_gib()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "mem_gib": mem,
        "loadavg_start": loadavg(),
        "timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def proc_meminfo_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def median_of(recs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in recs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def tables(results: list[dict], names: list[str], wl: list[Workload]) -> str:
    sealstores = [n for n in names if n != "moto"]
    out = []
    for key, title, fmt, better, ratio in METRICS:
        rows = []
        for w in wl:
            vals = {n: median_of([r for r in results if r["server"] == n
                                  and r["workload"] == w.name], key) for n in names}
            if all(v is None for v in vals.values()):
                continue
            cells = [w.name] + ["—" if vals[n] is None else fmt.format(vals[n]) for n in names]
            for n in sealstores:
                a, b = vals[n], vals.get("moto")
                if ratio:
                    cells.append("—" if a is None or not b else f"{a / b:.2f}×")
            rows.append(cells)
        if not rows:
            continue
        if "moto" not in names or not ratio:
            rows = [r[:1 + len(names)] for r in rows]
        header = ["workload", *names]
        if "moto" in names and ratio:
            header += [f"ratio {n}/moto" if len(sealstores) > 1 else "ratio (sealstore/moto)"
                       for n in sealstores]
        out.append(f"### {title} ({better})\n")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        out.extend("| " + " | ".join(r) + " |" for r in rows)
        out.append("")
    # The memory row's transfer rates.
    mem = [w for w in wl if w.memory_row]
    if mem:
        size = mem[0].name.split(" PUT")[0]
        out.append(f"### one {size} object streamed in and out, fresh servers (memory row)\n")
        out.append("| server | RSS before (MiB) | peak RSS (MiB) | PUT MiB/s | GET MiB/s |")
        out.append("|---|---:|---:|---:|---:|")
        for n in names:
            recs = [r for r in results if r["server"] == n and r["workload"] == mem[0].name]
            vals = [median_of(recs, k) for k in ("rss_before_mib", "server_rss_peak_mib",
                                                 "put_mib_per_s", "get_mib_per_s")]
            out.append(f"| {n} | " + " | ".join("—" if v is None else f"{v:.1f}" for v in vals)
                       + " |")
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sealstore-mode", choices=["dir", "memory", "both"], default="dir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="1 s runs, 8 MiB instead of 64 MiB, 64 MiB instead of 1 GiB")
    ap.add_argument("--skip-1gib", action="store_true", help="skip the 1 GiB memory row")
    ap.add_argument("--only", default="",
                    help="comma-separated substrings: run only the workloads whose name has one")
    ap.add_argument("--sse", default="sse-s3", help="loadgen --sse for every run (default sse-s3)")
    ap.add_argument("--build", action="store_true", help="run: " + shlex.join(BUILD_CMD))
    ap.add_argument("--sealstore-bin", type=Path, default=REPO / "target/release/sealstore")
    ap.add_argument("--loadgen-bin", type=Path, default=REPO / "target/release/examples/loadgen")
    ap.add_argument("--moto-bin", default=shutil.which("moto_server") or "moto_server")
    ap.add_argument("--no-moto", action="store_true", help="sealstore alone (no ratio column)")
    ap.add_argument("--tmp", type=Path, default=None, help="where the temp dir goes")
    ap.add_argument("--timeout-scale", type=float, default=1.0,
                    help="multiply every loadgen timeout (slow machines)")
    ap.add_argument("--json-out", type=Path, help="write all raw runs (JSON) to this file")
    ap.add_argument("--idle-wait", type=float, default=20.0,
                    help="before each run, wait up to this many seconds for the machine to be "
                         "idle (other processes under --idle-cpus CPUs); 0: do not wait")
    ap.add_argument("--idle-cpus", type=float, default=0.2)
    a = ap.parse_args()

    if a.build:
        print("+ " + shlex.join(BUILD_CMD), file=sys.stderr)
        subprocess.run(BUILD_CMD, cwd=REPO, check=True)
    for p in (a.sealstore_bin, a.loadgen_bin):
        if not p.exists():
            print(f"error: {p} not found; build it with:\n  (cd {REPO} && {shlex.join(BUILD_CMD)})"
                  "\nor pass --build", file=sys.stderr)
            return 2
    if not a.no_moto and shutil.which(a.moto_bin) is None:
        print(f"error: moto_server not found ({a.moto_bin}); pip install 'moto[server]'",
              file=sys.stderr)
        return 2

    wl = workloads(a.quick, a.skip_1gib)
    if a.only:
        keep = [s.strip().lower() for s in a.only.split(",") if s.strip()]
        wl = [w for w in wl if any(k in w.name.lower() for k in keep)]
    info = machine()
    workdir = Path(tempfile.mkdtemp(prefix="sealstore-compare-", dir=a.tmp))
    targets: list[Target] = []

    # SIGTERM/SIGHUP end the run like Ctrl-C: through the finally below.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    results: list[dict] = []
    status = 0
    try:
        modes = ["dir", "memory"] if a.sealstore_mode == "both" else [a.sealstore_mode]
        for m in modes:
            name = "sealstore" if len(modes) == 1 else f"sealstore-{m}"
            srv = Server(name, f"sealstore-{m}", workdir)
            targets.append(Target(name, srv.kind, srv,
                                  lambda srv=srv, m=m: srv.start_sealstore(a.sealstore_bin,
                                                                           m == "memory")))
        if not a.no_moto:
            srv = Server("moto", "moto", workdir)
            targets.append(Target("moto", "moto", srv, lambda srv=srv: srv.start_moto(a.moto_bin)))
        for t in targets:
            t.start()  # type: ignore[operator]
            print(f"{t.name}: pid {t.server.pid} at {t.server.endpoint}", file=sys.stderr)

        for rnd in range(1, a.rounds + 1):
            for w in wl:
                for t in targets:
                    if a.idle_wait > 0:
                        busy = wait_idle(a.idle_wait, a.idle_cpus)
                        if busy >= a.idle_cpus:
                            print(f"    note: machine busy ({busy:.2f} CPUs used by others)",
                                  file=sys.stderr)
                    t0 = time.monotonic()
                    rec = run_workload(a.loadgen_bin, t, w, rnd, a.sse, a.timeout_scale)
                    results.append(rec)
                    summary = (f"{rec['ops_per_s']:.1f} ops/s, {rec['mib_per_s']:.1f} MiB/s, "
                               f"p99 {rec['p99_ms']:.2f} ms" if rec["ops_per_s"] is not None else
                               f"PUT {rec['put_mib_per_s']:.1f} MiB/s, GET "
                               f"{rec['get_mib_per_s']:.1f} MiB/s")
                    print(f"round {rnd} | {w.name:<28} | {t.name:<16} | {summary}, CPU "
                          f"{rec['server_cpu_s']} s, peak RSS {rec['server_rss_peak_mib']} MiB, "
                          f"{rec['errors']} errors, others' CPU {rec.get('other_cpu_s')} s "
                          f"({time.monotonic() - t0:.0f} s)",
                          file=sys.stderr)
                    if rec["errors"]:
                        status = 1
    except KeyboardInterrupt as e:
        print(f"interrupted ({e}); stopping the servers", file=sys.stderr)
        status = 130
    except Exception as e:  # report what we have, then fail
        print(f"error: {e}", file=sys.stderr)
        status = 1
    finally:
        for t in targets:
            with contextlib.suppress(Exception):
                t.server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    info["loadavg_end"] = loadavg()
    names = [t.name for t in targets]
    cmd = "python3 benches/compare.py " + shlex.join(sys.argv[1:])
    print(f"## sealstore vs moto ({info['timestamp']})\n")
    print(f"- machine: {info['nproc']} CPUs ({info['cpu']}), {info['mem_gib']} GiB RAM, "
          f"Linux {info['kernel']}; load average {info['loadavg_start']} at the start, "
          f"{info['loadavg_end']} at the end")
    print(f"- command: `{cmd.strip()}`")
    print(f"- rounds: {a.rounds} (median per metric), SSE `{a.sse}`, sealstore mode "
          f"{a.sealstore_mode}; servers run side by side, workloads interleaved\n")
    if results:
        print(tables(results, names, wl))
    if a.json_out:
        a.json_out.write_text(json.dumps({"machine": info, "command": cmd, "runs": results},
                                         indent=1) + "\n")
        print(f"raw runs written to {a.json_out}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
