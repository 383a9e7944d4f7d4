#!/usr/bin/env python3
"""Load and memory test of the running release binary: 1 GiB PUT, GET and range GET per
encryption mode, with the server's resident memory sampled throughout.

Issue 5 requires that a PUT and a GET of a 1 GiB object keep the server's resident memory growth
under 64 MiB. For each mode this script

1. starts ``sealstore serve --listen 127.0.0.1:0 --data-dir <fresh temp dir>`` (plus
   ``--kms-key bench-key`` for the KMS modes) and reads the ready line
   ``sealstore listening on http://HOST:PORT``;
2. samples ``VmRSS`` of the server from ``/proc/<pid>/status`` every 50 ms in a thread;
3. warms up with a 1 MiB PUT + GET (so one-time allocations such as worker threads are in the
   baseline), then takes the baseline RSS;
4. PUTs a 1 GiB object as ONE PutObject (multipart upload is not implemented by the server) from
   a seekable, synthetic file-like object, so the client never holds the body in memory;
5. GETs it back streaming and checks its SHA-256, then does one range GET (crossing segment
   boundaries) and checks its bytes;
6. deletes the object, stops the server and removes the data dir before the next mode.

It prints a table (RSS start / baseline / peak per phase / growth, MiB/s of PUT and GET) and exits
with status 1 if the growth (peak minus baseline) exceeds the limit (64 MiB) in any mode.

It builds nothing: run ``cargo build --release`` first. Usage::

    python3 benches/memory_load.py [--bin target/release/sealstore] [--size-mib 1024]
        [--modes sse-s3,sse-kms,sse-c] [--limit-mib 64] [--tmp /tmp]

Modes: ``sse-s3`` (no header: the default encryption), ``sse-kms`` (``aws:kms`` with key
``bench-key``), ``dsse-kms`` (``aws:kms:dsse``, two layers), ``sse-c`` (customer key).

About the PUT figures: over plain HTTP botocore always signs the payload, so it reads the whole
body once to compute its SHA-256 before sending it. ``PUT MiB/s`` is the whole ``put_object`` call;
``wire MiB/s`` counts only the last pass over the body (the one that goes to the socket) up to the
response, which is what the server has to keep up with.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MiB = 1024 * 1024
CHUNK = MiB
BUCKET = "bench"
KEY = "big/object.bin"
KMS_KEY = "bench-key"
READY_RE = re.compile(r"^sealstore listening on (http://([^\s:/]+):(\d+))\s*$")
REPO = Path(__file__).resolve().parents[1]

# Keep boto3 away from the developer's ~/.aws files and AWS_* settings.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REQUEST_CHECKSUM_CALCULATION",
           "AWS_RESPONSE_CHECKSUM_VALIDATION"):
    os.environ.pop(_v, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import boto3  # noqa: E402  (after the environment is cleaned)
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


# --------------------------------------------------------------------------------------------
# The body: deterministic, seekable, never materialised.


class PatternFile(io.RawIOBase):
    """``size`` bytes made of 1 MiB chunks: chunk k is a fixed random block whose first 8 bytes
    are replaced by k (big-endian), so every chunk differs. Seekable, so botocore can hash it and
    then rewind it; it records each full pass over the data (start, end) for timing."""

    def __init__(self, size: int, block: bytes):
        super().__init__()
        assert len(block) == CHUNK
        self.size = size
        self.block = block
        self.pos = 0
        self._k = -1
        self._chunk = b""
        self.passes: list[list[float]] = []  # [start, end or 0.0]

    def chunk(self, k: int) -> bytes:
        if k != self._k:
            n = min(CHUNK, self.size - k * CHUNK)
            self._chunk = (k.to_bytes(8, "big") + self.block[8:])[:n]
            self._k = k
        return self._chunk

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_SET:
            self.pos = offset
        elif whence == io.SEEK_CUR:
            self.pos += offset
        elif whence == io.SEEK_END:
            self.pos = self.size + offset
        else:
            raise ValueError(whence)
        self.pos = max(0, min(self.pos, self.size))
        return self.pos

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.size - self.pos
            if n > 64 * MiB:
                raise RuntimeError("refusing to read the whole body into memory")
        n = min(n, self.size - self.pos)
        if n <= 0:
            return b""
        if self.pos == 0:
            self.passes.append([time.monotonic(), 0.0])
        parts = []
        while n > 0:
            k, off = divmod(self.pos, CHUNK)
            c = self.chunk(k)
            take = min(n, len(c) - off)
            parts.append(c[off:off + take])
            self.pos += take
            n -= take
        if self.pos == self.size and self.passes:
            self.passes[-1][1] = time.monotonic()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def __len__(self):
        return self.size


def sha256_of(f: PatternFile) -> str:
    h = hashlib.sha256()
    f.seek(0)
    while True:
        c = f.read(CHUNK)
        if not c:
            break
        h.update(c)
    f.seek(0)
    f.passes.clear()
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# The server and its memory.


def die_with_parent():  # in the child, between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def proc_status_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class RssSampler(threading.Thread):
    """Samples VmRSS every ``interval`` seconds; keeps the peak per phase."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.phase = "start"
        self.peaks: dict[str, int] = {}
        self.samples = 0
        self._halt = threading.Event()

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.sample()

    def sample(self) -> int | None:
        kib = proc_status_kib(self.pid, "VmRSS")
        if kib is not None:
            self.samples += 1
            ph = self.phase
            self.peaks[ph] = max(self.peaks.get(ph, 0), kib)
        return kib

    def run(self):
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(timeout=2)


class Server:
    def __init__(self, binary: Path, data_dir: Path, log_path: Path, extra: list[str]):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEALSTORE_")}
        self.log_path = log_path
        self.log = open(log_path, "wb")
        cmd = [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL, env=env,
                                     preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
        line = self._read_ready_line(timeout=30)
        m = READY_RE.match(line.rstrip("\r\n")) if line else None
        if not m:
            self.stop()
            raise RuntimeError(f"no ready line from {cmd} (got {line!r}); stderr:\n{self.stderr_tail()}")
        self.url = m.group(1)
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in iter(self.proc.stdout.readline, b"")],
                         daemon=True).start()

    def _read_ready_line(self, timeout: float) -> str | None:
        box: list = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0]:
            return None
        return box[0].decode("utf-8", "replace")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            self.log.flush()
            return self.log_path.read_text("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        try:
            self.log.close()
        except Exception:
            pass


# --------------------------------------------------------------------------------------------
# One mode.

SSEC_KEY = bytes(range(32))


def mode_args(mode: str) -> tuple[list[str], dict, dict]:
    """(server flags, PutObject extras, GetObject extras)."""
    if mode == "sse-s3":
        return [], {}, {}
    if mode == "sse-kms":
        return ["--kms-key", KMS_KEY], {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY}, {}
    if mode == "dsse-kms":
        return ["--kms-key", KMS_KEY], {"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_KEY}, {}
    if mode == "sse-c":
        c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}
        return [], dict(c), dict(c)
    raise SystemExit(f"unknown mode {mode!r}")


EXPECTED_SSE = {"sse-s3": "AES256", "sse-kms": "aws:kms", "dsse-kms": "aws:kms:dsse", "sse-c": None}


def run_mode(mode: str, args, body: PatternFile, digest: str, root: Path) -> dict:
    flags, put_extra, get_extra = mode_args(mode)
    data_dir = root / f"data-{mode}"
    data_dir.mkdir()
    server = Server(args.bin, data_dir, root / f"server-{mode}.log", flags)
    sampler = RssSampler(server.pid)
    sampler.start()
    res: dict = {"mode": mode}
    try:
        s3 = boto3.session.Session().client(
            "s3", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(s3={"addressing_style": "path"},
                          retries={"total_max_attempts": 1, "mode": "standard"},
                          connect_timeout=10, read_timeout=600,
                          # No CRC32 pass over the body on PUT, no CRC32 check on GET: only the
                          # SHA-256 payload signature (always on over HTTP) costs client time.
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        time.sleep(0.3)
        res["rss_start"] = sampler.sample()
        s3.create_bucket(Bucket=BUCKET)
        if mode == "sse-c":
            # As in S3 since 2026, new buckets block SSE-C writes; unblock it for this bucket.
            try:
                s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
            except ClientError as e:  # a server without bucket encryption does not block SSE-C
                if e.response.get("Error", {}).get("Code") not in ("NotImplemented", "MethodNotAllowed"):
                    raise

        # Warm-up: a small object through the same path, so lazily created threads and buffers
        # are part of the baseline.
        sampler.set_phase("warmup")
        small = PatternFile(MiB, body.block)
        s3.put_object(Bucket=BUCKET, Key="warmup", Body=small, ContentLength=small.size, **put_extra)
        got = s3.get_object(Bucket=BUCKET, Key="warmup", **get_extra)["Body"].read()
        small.seek(0)
        if got != small.read(MiB):
            raise RuntimeError("warm-up object came back different")
        s3.delete_object(Bucket=BUCKET, Key="warmup")
        time.sleep(0.5)
        sampler.set_phase("baseline")
        time.sleep(0.5)
        res["rss_base"] = sampler.sample()

        # PUT: one PutObject of the whole body, streamed from the file-like object.
        sampler.set_phase("put")
        body.seek(0)
        body.passes.clear()
        cpu0 = proc_cpu_s(server.pid)
        t0 = time.monotonic()
        put = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body, ContentLength=body.size, **put_extra)
        t1 = time.monotonic()
        res["put_s"] = t1 - t0
        res["put_wire_s"] = t1 - body.passes[-1][0] if body.passes else t1 - t0
        res["put_passes"] = len(body.passes)
        res["put_cpu"] = proc_cpu_s(server.pid) - cpu0
        want = EXPECTED_SSE[mode]
        if want and put.get("ServerSideEncryption") != want:
            raise RuntimeError(f"PUT answered ServerSideEncryption={put.get('ServerSideEncryption')!r}, want {want!r}")
        if mode == "sse-c" and put.get("SSECustomerAlgorithm") != "AES256":
            raise RuntimeError("PUT did not confirm SSE-C")

        # GET: stream it back, hash it.
        sampler.set_phase("get")
        cpu0 = proc_cpu_s(server.pid)
        t0 = time.monotonic()
        resp = s3.get_object(Bucket=BUCKET, Key=KEY, **get_extra)
        h = hashlib.sha256()
        n = 0
        for c in resp["Body"].iter_chunks(CHUNK):
            h.update(c)
            n += len(c)
        res["get_s"] = time.monotonic() - t0
        res["get_cpu"] = proc_cpu_s(server.pid) - cpu0
        if n != body.size or h.hexdigest() != digest:
            raise RuntimeError(f"GET returned {n} bytes with SHA-256 {h.hexdigest()}, want {body.size} / {digest}")

        # Range GET across segment boundaries, in the middle of the object.
        sampler.set_phase("range")
        start = body.size // 2 - 100
        end = min(body.size - 1, start + 3 * MiB + 200)
        t0 = time.monotonic()
        resp = s3.get_object(Bucket=BUCKET, Key=KEY, Range=f"bytes={start}-{end}", **get_extra)
        got = resp["Body"].read()
        res["range_s"] = time.monotonic() - t0
        body.seek(start)
        if got != body.read(end - start + 1):
            raise RuntimeError("range GET returned the wrong bytes")

        sampler.set_phase("done")
        res["rss_end"] = sampler.sample()
        res["hwm"] = proc_status_kib(server.pid, "VmHWM")
        s3.delete_object(Bucket=BUCKET, Key=KEY)
        s3.delete_bucket(Bucket=BUCKET)
    except Exception:
        print(f"--- server stderr ({mode}) ---\n{server.stderr_tail()}", file=sys.stderr)
        raise
    finally:
        sampler.stop()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    res["peaks"] = dict(sampler.peaks)
    res["samples"] = sampler.samples
    return res


# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", type=Path, default=REPO / "target" / "release" / "sealstore",
                    help="the sealstore binary (default: target/release/sealstore)")
    ap.add_argument("--size-mib", type=int, default=1024, help="object size in MiB (default 1024)")
    ap.add_argument("--modes", default="sse-s3,sse-kms,sse-c",
                    help="comma-separated: sse-s3, sse-kms, dsse-kms, sse-c (default: sse-s3,sse-kms,sse-c)")
    ap.add_argument("--limit-mib", type=float, default=64.0, help="allowed RSS growth (default 64)")
    ap.add_argument("--tmp", default=None, help="where the temporary data dirs go (default: $TMPDIR or /tmp)")
    args = ap.parse_args()

    if not args.bin.is_file():
        print(f"{args.bin} not found: run `cargo build --release` first (or pass --bin)", file=sys.stderr)
        return 2
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        mode_args(m)
    size = args.size_mib * MiB

    root = Path(tempfile.mkdtemp(prefix="sealstore-memload-", dir=args.tmp))
    free = shutil.disk_usage(root).free
    if free < size * 1.1 + 256 * MiB:
        shutil.rmtree(root, ignore_errors=True)
        print(f"not enough space in {root.parent}: {free / MiB:.0f} MiB free, need ~{size * 1.1 / MiB + 256:.0f}",
              file=sys.stderr)
        return 2

    block = os.urandom(CHUNK)
    body = PatternFile(size, block)
    t0 = time.monotonic()
    digest = sha256_of(body)
    print(f"body: {args.size_mib} MiB synthetic, sha256 {digest[:16]}... (computed in {time.monotonic() - t0:.1f}s)")
    print(f"binary: {args.bin}; temp dir: {root}")

    results = []
    try:
        for m in modes:
            print(f"[{m}] running ...", flush=True)
            r = run_mode(m, args, body, digest, root)
            results.append(r)
            print(f"[{m}] PUT {r['put_s']:.2f}s, GET {r['get_s']:.2f}s, "
                  f"range {r['range_s'] * 1000:.0f}ms, {r['samples']} RSS samples", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def m(kib):
        return f"{kib / 1024:.1f}" if kib is not None else "-"

    print()
    print(f"object {args.size_mib} MiB; RSS in MiB (VmRSS sampled every 50 ms); growth = max(peak PUT/GET/range) - baseline")
    hdr = ("mode", "start", "base", "peak PUT", "peak GET", "peak rng", "growth", "VmHWM", "PUT MiB/s", "wire MiB/s", "GET MiB/s", "range ms",
           "srv CPU s PUT/GET")
    rows = []
    failed = []
    for r in results:
        p = r["peaks"]
        peak = max(p.get("put", 0), p.get("get", 0), p.get("range", 0))
        growth = peak - r["rss_base"]
        if growth / 1024 > args.limit_mib:
            failed.append(r["mode"])
        rows.append((r["mode"], m(r["rss_start"]), m(r["rss_base"]), m(p.get("put")), m(p.get("get")),
                     m(p.get("range")), m(growth), m(r["hwm"]),
                     f"{size / MiB / r['put_s']:.0f}", f"{size / MiB / r['put_wire_s']:.0f}",
                     f"{size / MiB / r['get_s']:.0f}", f"{r['range_s'] * 1000:.0f}",
                     f"{r['put_cpu']:.1f}/{r['get_cpu']:.1f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    line = "  ".join(f"{{:>{w}}}" for w in widths)
    print(line.format(*hdr))
    for row in rows:
        print(line.format(*row))
    print()
    if failed:
        print(f"FAIL: RSS growth above {args.limit_mib:g} MiB in: {', '.join(failed)}")
        return 1
    print(f"OK: RSS growth below {args.limit_mib:g} MiB in every mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
