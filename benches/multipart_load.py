#!/usr/bin/env python3
"""Load and memory test of multipart uploads against the running release binary.

Issue 7 requires that 8 concurrent part uploads of 16 MiB each keep the server's resident memory
growth under 128 MiB. For each encryption mode this script

1. starts ``sealstore serve --listen 127.0.0.1:0 --data-dir <fresh temp dir>`` (the server and RSS
   sampler of ``memory_load.py``);
2. warms up with one small multipart upload (so worker threads and buffers are in the baseline),
   then takes the baseline RSS;
3. creates one upload and sends ``--rounds`` rounds of 8 concurrent UploadPart requests of
   ``--part-mib`` MiB each (8 client threads, one connection each), bodies streamed from
   synthetic seekable file-like objects, so the client never holds a part in memory;
4. completes the upload, GETs the object back streaming and checks its SHA-256, and reads one
   range that crosses a part boundary;
5. prints RSS baseline / peak per phase / growth and MiB/s of the part uploads, and exits with
   status 1 if the growth (peak minus baseline) exceeds ``--limit-mib`` (128) in any mode.

It builds nothing: run ``cargo build --release`` first. Usage::

    python3 benches/multipart_load.py [--bin target/release/sealstore] [--part-mib 16]
        [--rounds 4] [--modes sse-s3,sse-kms,sse-c] [--limit-mib 128] [--tmp /tmp]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_load import (  # noqa: E402  (the shared server, sampler and body helpers)
    CHUNK,
    EXPECTED_SSE,
    REPO,
    MiB,
    PatternFile,
    RssSampler,
    Server,
    mode_args,
    proc_cpu_s,
)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

BUCKET = "bench-mpu"
KEY = "multipart/object.bin"
CONCURRENCY = 8


def client(url: str):
    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1, "mode": "standard"},
                      max_pool_connections=CONCURRENCY * 2,
                      connect_timeout=10, read_timeout=600,
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


def part_body(block: bytes, n: int, size: int) -> PatternFile:
    """Part ``n``'s bytes: the pattern with the part number folded into the block, so parts differ."""
    b = bytearray(block)
    b[8:16] = n.to_bytes(8, "big")
    return PatternFile(size, bytes(b))


def upload(s3, upload_id: str, numbers: list[int], block: bytes, part_size: int, extra: dict,
           pool: ThreadPoolExecutor) -> list[dict]:
    def one(n: int) -> dict:
        body = part_body(block, n, part_size)
        r = s3.upload_part(Bucket=BUCKET, Key=KEY, UploadId=upload_id, PartNumber=n,
                           Body=body, ContentLength=part_size, **extra)
        return {"PartNumber": n, "ETag": r["ETag"]}
    return list(pool.map(one, numbers))


def expected_digest(block: bytes, count: int, part_size: int) -> str:
    h = hashlib.sha256()
    for n in range(1, count + 1):
        body = part_body(block, n, part_size)
        while True:
            c = body.read(CHUNK)
            if not c:
                break
            h.update(c)
    return h.hexdigest()


def run_mode(mode: str, args, block: bytes, root: Path) -> dict:
    flags, put_extra, get_extra = mode_args(mode)
    part_extra = dict(get_extra)  # SSE-C parts repeat the customer key; other modes send nothing
    data_dir = root / f"data-{mode}"
    data_dir.mkdir()
    server = Server(args.bin, data_dir, root / f"server-{mode}.log", flags)
    sampler = RssSampler(server.pid)
    sampler.start()
    part_size = args.part_mib * MiB
    count = CONCURRENCY * args.rounds
    res: dict = {"mode": mode}
    pool = ThreadPoolExecutor(CONCURRENCY)
    try:
        s3 = client(server.url)
        s3.create_bucket(Bucket=BUCKET)
        if mode == "sse-c":
            s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})

        sampler.set_phase("warmup")
        up = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY, **put_extra)["UploadId"]
        parts = upload(s3, up, list(range(1, CONCURRENCY + 1)), block, MiB, part_extra, pool)
        s3.abort_multipart_upload(Bucket=BUCKET, Key=KEY, UploadId=up)
        time.sleep(0.5)
        sampler.set_phase("baseline")
        time.sleep(0.5)
        res["rss_base"] = sampler.sample()

        sampler.set_phase("parts")
        up = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY, **put_extra)
        if EXPECTED_SSE[mode] and up.get("ServerSideEncryption") != EXPECTED_SSE[mode]:
            raise RuntimeError(f"CreateMultipartUpload answered {up.get('ServerSideEncryption')!r}")
        up = up["UploadId"]
        cpu0 = proc_cpu_s(server.pid)
        t0 = time.monotonic()
        parts = []
        for r in range(args.rounds):
            numbers = list(range(r * CONCURRENCY + 1, (r + 1) * CONCURRENCY + 1))
            parts += upload(s3, up, numbers, block, part_size, part_extra, pool)
        res["parts_s"] = time.monotonic() - t0
        res["parts_cpu"] = proc_cpu_s(server.pid) - cpu0

        sampler.set_phase("complete")
        t0 = time.monotonic()
        s3.complete_multipart_upload(Bucket=BUCKET, Key=KEY, UploadId=up,
                                     MultipartUpload={"Parts": parts}, **get_extra)
        res["complete_s"] = time.monotonic() - t0

        sampler.set_phase("get")
        t0 = time.monotonic()
        resp = s3.get_object(Bucket=BUCKET, Key=KEY, **get_extra)
        h = hashlib.sha256()
        n = 0
        for c in resp["Body"].iter_chunks(CHUNK):
            h.update(c)
            n += len(c)
        res["get_s"] = time.monotonic() - t0
        if n != count * part_size or h.hexdigest() != expected_digest(block, count, part_size):
            raise RuntimeError("GET of the completed object returned the wrong bytes")

        sampler.set_phase("range")
        start = part_size - 1000
        got = s3.get_object(Bucket=BUCKET, Key=KEY, Range=f"bytes={start}-{start + 1999}",
                            **get_extra)["Body"].read()
        a = part_body(block, 1, part_size)
        a.seek(start)
        b = part_body(block, 2, part_size)
        if got != a.read(1000) + b.read(1000):
            raise RuntimeError("range GET across the part boundary returned the wrong bytes")

        sampler.set_phase("done")
        s3.delete_object(Bucket=BUCKET, Key=KEY)
        s3.delete_bucket(Bucket=BUCKET)
    except Exception:
        print(f"--- server stderr ({mode}) ---\n{server.stderr_tail()}", file=sys.stderr)
        raise
    finally:
        pool.shutdown(wait=True)
        sampler.stop()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    res["peaks"] = dict(sampler.peaks)
    res["mib"] = count * args.part_mib
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, default=REPO / "target" / "release" / "sealstore")
    ap.add_argument("--part-mib", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--modes", default="sse-s3,sse-kms,sse-c")
    ap.add_argument("--limit-mib", type=int, default=128)
    ap.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = ap.parse_args()
    if not args.bin.exists():
        print(f"{args.bin} not found: run cargo build --release first", file=sys.stderr)
        return 2
    block = os.urandom(MiB)
    root = Path(tempfile.mkdtemp(prefix="sealstore-mpu-bench-", dir=args.tmp))
    failed = False
    try:
        print(f"{CONCURRENCY} concurrent UploadPart x {args.rounds} rounds x {args.part_mib} MiB "
              f"per mode; limit {args.limit_mib} MiB RSS growth")
        print(f"{'mode':8} {'base MiB':>8} {'parts pk':>8} {'cmpl pk':>8} {'get pk':>8} "
              f"{'growth':>7} {'parts MiB/s':>11} {'srv cpu s':>9} {'complete ms':>11} {'GET MiB/s':>9}")
        for mode in args.modes.split(","):
            r = run_mode(mode, args, block, root)
            base = r["rss_base"] / 1024
            pk = {k: v / 1024 for k, v in r["peaks"].items()}
            peak = max(pk.get(p, 0) for p in ("parts", "complete", "get", "range"))
            growth = peak - base
            failed |= growth > args.limit_mib
            print(f"{mode:8} {base:8.1f} {pk.get('parts', 0):8.1f} {pk.get('complete', 0):8.1f} "
                  f"{pk.get('get', 0):8.1f} {growth:7.1f} {r['mib'] / r['parts_s']:11.1f} "
                  f"{r['parts_cpu']:9.2f} {r['complete_s'] * 1000:11.1f} {r['mib'] / r['get_s']:9.1f}"
                  + ("   OVER LIMIT" if growth > args.limit_mib else ""))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    threading.current_thread().name = "main"
    sys.exit(main())
