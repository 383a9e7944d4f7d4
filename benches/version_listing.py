#!/usr/bin/env python3
"""Memory of listing a key with many versions (issue 20: "listing a key with 10,000 versions
pages in bounded memory").

Starts the release binary on a fresh data dir, enables versioning on a bucket, writes N versions
of ONE key (small bodies, a few concurrent writers), then lists them all with
ListObjectVersions at max-keys 1000 (and once at max-keys 100), sampling the server's VmRSS
every 20 ms. A listing that held every version of the key would grow with N; a paged one stays
flat. Prints one JSON line and exits 1 if the RSS growth during the listing passes --limit-mib.

    cargo build --release
    python3 benches/version_listing.py [--bin target/release/sealstore] [--versions 10000]
        [--limit-mib 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

READY_RE = re.compile(r"^sealstore listening on (http://[^\s]+)\s*$")
REPO = Path(__file__).resolve().parents[1]

for _v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_v, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def reset(self) -> float:
        self.peak = rss_mib(self.pid)
        return self.peak


def list_all(s3, bucket: str, max_keys: int) -> tuple[int, int, float]:
    pages, entries, t0 = 0, 0, time.monotonic()
    kw = {"Bucket": bucket, "MaxKeys": max_keys}
    while True:
        page = s3.list_object_versions(**kw)
        pages += 1
        entries += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
        if not page.get("IsTruncated"):
            return pages, entries, time.monotonic() - t0
        kw["KeyMarker"] = page["NextKeyMarker"]
        kw["VersionIdMarker"] = page["NextVersionIdMarker"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / "target/release/sealstore"))
    ap.add_argument("--versions", type=int, default=10_000)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--limit-mib", type=float, default=32.0)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="sealstore-versions-bench-")
    proc = subprocess.Popen(
        [args.bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", data],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "SEALSTORE_LOG": "warn"})
    try:
        endpoint = None
        for line in proc.stdout:
            m = READY_RE.match(line.strip())
            if m:
                endpoint = m.group(1)
                break
        if not endpoint:
            print("server did not start", file=sys.stderr)
            return 1
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(max_pool_connections=args.writers * 2,
                                        retries={"max_attempts": 1}))
        s3.create_bucket(Bucket="versions")
        s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.writers) as pool:
            list(pool.map(lambda i: s3.put_object(Bucket="versions", Key="hot", Body=b"v%d" % i),
                          range(args.versions)))
        put_s = time.monotonic() - t0
        sampler = Sampler(proc.pid)
        sampler.start()
        list_all(s3, "versions", 1000)  # warm-up: one-time allocations out of the figure
        before = sampler.reset()
        pages, entries, list_s = list_all(s3, "versions", 1000)
        pages_100, entries_100, list_100_s = list_all(s3, "versions", 100)
        peak = sampler.peak
        sampler.running = False
        out = {
            "versions": args.versions, "put_s": round(put_s, 2),
            "pages_1000": pages, "entries_1000": entries, "list_1000_s": round(list_s, 2),
            "pages_100": pages_100, "entries_100": entries_100, "list_100_s": round(list_100_s, 2),
            "rss_before_mib": round(before, 1), "rss_peak_mib": round(peak, 1),
            "rss_growth_mib": round(peak - before, 1),
        }
        print(json.dumps(out))
        ok = entries == args.versions and entries_100 == args.versions
        return 0 if ok and peak - before <= args.limit_mib else 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
