#!/usr/bin/env python3
"""Crash-safety driver: start sealstore on a data dir, run a concurrent workload, SIGKILL it at a random
moment, restart it, and check that nothing acknowledged was lost and nothing torn was served.

    cargo build --release
    python3 tests/crash/kill_loop.py --cycles 1000                  # the long run (about 30 minutes)
    python3 tests/crash/kill_loop.py --cycles 20 --bin target/debug/sealstore --seed 7

One cycle: start (or restart) the server on the same data dir; verify the whole model against it; run
the workload for a random 0.2-1.2 s; SIGKILL. After the last cycle the server is restarted and
verified once more, then stopped with SIGTERM.

The workload (boto3, one thread per worker, no retries):
- object workers, each owning its own keys so that at most one operation per key is in flight when the
  server dies: PUT and overwrite of small (inline, <= 16 KiB) and multi-segment (200 KiB-1 MiB, blob
  file) objects under no SSE header (bucket default), SSE-S3, SSE-KMS, SSE-KMS with a Bucket Key,
  DSSE-KMS and SSE-C; DeleteObject; DeleteObjects of 2-3 keys; CopyObject from another of its keys
  (SSE-C sources included, the copy taking the source's tags); multipart uploads (a 5 MiB part and
  a small one, completed); object tags set by PutObject's and CreateMultipartUpload's
  `x-amz-tagging` and replaced by PutObjectTagging;
- a rule worker that puts and deletes the default-encryption rule of its own bucket;
- versioned workers (tests/crash/versioned.py), each owning its keys in a bucket with versioning
  Enabled (flipped to Suspended and back between some cycles): PUT and overwrite (every SSE mode,
  inline and blob-file bodies), DELETE (delete markers), DELETE by version id (versions and markers,
  for good), DeleteObjects mixing both, CopyObject from any version (onto its own key too), and
  multipart uploads (parts uploaded or copied from a version), completed.

What is checked after every restart:
- every key reads back exactly its last acknowledged state: the bytes (SHA-256), the SSE algorithm
  and the tags of the acknowledged write (or PutObjectTagging), or 404 after an acknowledged delete; an operation cut off by the kill may
  have happened or not (either state is accepted, and the model learns which);
- the bucket's encryption rule is the last acknowledged one (or the cut-off one);
- in the versioned bucket, every key's history is the acknowledged one (or the one the cut-off
  operation left): ListObjectVersions, read in small pages, lists every acknowledged version and
  delete marker newest first with IsLatest right (and the same under a prefix); every version reads
  back by id with its bytes and SSE algorithm, every marker answers 405 by id, GET and HEAD without an
  id answer the newest version or 404 with x-amz-delete-marker; ListObjectsV2 lists the keys whose
  newest entry is an object (details in versioned.py; tags: a hook there, not yet in the workload);
- no unreferenced file remains under blobs/ after start-up: the files are exactly the blobs of the
  stored objects (one per multi-segment object, one per part of a multipart object), of every stored
  version in the versioned bucket (older ones included), and of the parts of unfinished multipart
  uploads;
- the server starts and answers (a torn metadata database would not).

Exit status 0 when every cycle passed; 1 on the first violation (printed with its seed and cycle, and
the data dir is kept for inspection). One JSON line with the totals is printed on stdout at the end.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

# Isolate boto3 from the developer's AWS configuration.
_ISOLATION = tempfile.mkdtemp(prefix="sealstore-killloop-env-")
atexit.register(shutil.rmtree, _ISOLATION, True)
os.environ["AWS_CONFIG_FILE"] = os.path.join(_ISOLATION, "no-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_ISOLATION, "no-credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _v in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REQUEST_CHECKSUM_CALCULATION",
           "AWS_RESPONSE_CHECKSUM_VALIDATION"):
    os.environ.pop(_v, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kill_common import (  # noqa: E402
    KMS_KEY, LARGE, MODES, PART1, SMALL_MAX, KeyWorker, Version, Violation, blob_files, right_encryption, sha,
    sse_args, ssec_get_args)
import versioned  # noqa: E402

READY_RE = re.compile(r"^sealstore listening on (http://[^\s]+)\s*$")
OBJ_BUCKET = "crash-objects"
RULE_BUCKET = "crash-rules"

ABSENT = None  # the state of a deleted or never-written key


@dataclass
class KeyState:
    acked: Version | None = ABSENT
    # States an operation cut off by the kill may have left (besides `acked`).
    maybe: list = field(default_factory=list)


# One session for every client: it parses the S3 service model once (a new session per client costs
# about 100 ms of CPU). Clients are created on the main thread only.
_SESSION = boto3.session.Session()


def make_client(url: str):
    return _SESSION.client(
        "s3", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=2, read_timeout=30,
                      max_pool_connections=4))


# -- the server ---------------------------------------------------------------------------------

class Server:
    """One server process on a fresh port. (Not the same port across restarts: another process on the
    machine may take it while the server is down, and the clients would then talk to a stranger.)"""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
             "--kms-key", KMS_KEY],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("SEALSTORE_")},
            start_new_session=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode("utf-8", "replace")
        m = READY_RE.match(line.strip())
        if not m:
            self.proc.kill()
            self.proc.wait()
            raise Violation(f"server did not start (exit {self.proc.poll()}): {line!r}; see {log_path}")
        self.url = m.group(1)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


# -- the workload -------------------------------------------------------------------------------

class Worker(KeyWorker):
    """Owns keys w<id>/k<n> in the object bucket; at most one of its operations is ever in flight."""

    def __init__(self, wid: int, rng: random.Random, model: dict, keys: int):
        super().__init__(wid, rng)
        self.model = model
        self.keys = [f"w{wid}/k{n}" for n in range(keys)]

    def body(self, size: int) -> bytes:
        return self.rng.randbytes(size)

    def new_version(self, data: bytes, mode: str) -> Version:
        key = self.rng.randbytes(32) if mode == "sse-c" else None
        return Version(sha(data), len(data), mode, key, tags=self.tags())

    def tags(self) -> tuple:
        """A random tag set (often none): 0-3 tags, ordered by key."""
        n = self.rng.choice([0, 0, 1, 3])
        return tuple(sorted((f"t{i}", f"v{self.rng.randrange(1000)}") for i in range(n)))

    def step(self, c) -> None:
        r = self.rng.random()
        key = self.rng.choice(self.keys)
        st = self.model[key]
        if r < 0.45:
            size = self.rng.randint(1, SMALL_MAX) if self.rng.random() < 0.6 else self.rng.randint(*LARGE)
            data = self.body(size)
            mode = self.rng.choice(MODES)
            v = self.new_version(data, mode)
            st.maybe = [v]
            c.put_object(Bucket=OBJ_BUCKET, Key=key, Body=data, Tagging=tag_header(v.tags),
                         **sse_args(mode, v.ssec_key))
            st.acked, st.maybe = v, []
        elif r < 0.52:
            if st.acked is None or st.maybe:
                return
            v = dataclasses.replace(st.acked, tags=self.tags())
            st.maybe = [v]
            c.put_object_tagging(Bucket=OBJ_BUCKET, Key=key,
                                 Tagging={"TagSet": [{"Key": k, "Value": t} for k, t in v.tags]})
            st.acked, st.maybe = v, []
        elif r < 0.58:
            st.maybe = [ABSENT]
            c.delete_object(Bucket=OBJ_BUCKET, Key=key)
            st.acked, st.maybe = ABSENT, []
        elif r < 0.68:
            batch = self.rng.sample(self.keys, self.rng.randint(2, 3))
            for k in batch:
                self.model[k].maybe = [ABSENT]
            resp = c.delete_objects(Bucket=OBJ_BUCKET, Delete={
                "Objects": [{"Key": k} for k in batch], "Quiet": False})
            deleted = {d["Key"] for d in resp.get("Deleted", [])}
            if resp.get("Errors") or deleted != set(batch):
                raise Violation(f"DeleteObjects answered errors: {resp.get('Errors')}")
            for k in batch:
                self.model[k].acked, self.model[k].maybe = ABSENT, []
        elif r < 0.88:
            src_key = self.rng.choice(self.keys)
            src = self.model[src_key].acked
            if src is None or src_key == key or self.model[src_key].maybe:
                return
            mode = self.rng.choice(MODES)
            dest_ssec = self.rng.randbytes(32) if mode == "sse-c" else None
            v = Version(src.digest, src.size, mode, dest_ssec, tags=src.tags)
            extra = sse_args(mode, dest_ssec)
            if src.mode == "sse-c":
                extra.update(CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=src.ssec_key)
            st.maybe = [v]
            c.copy_object(Bucket=OBJ_BUCKET, Key=key, CopySource={"Bucket": OBJ_BUCKET, "Key": src_key},
                          **extra)
            st.acked, st.maybe = v, []
        else:
            mode = self.rng.choice(MODES)
            p1, p2 = self.body(PART1), self.body(self.rng.randint(1, 300 * 1024))
            v0 = self.new_version(p1 + p2, mode)
            v = Version(v0.digest, v0.size, mode, v0.ssec_key, parts=2, tags=v0.tags)
            up = c.create_multipart_upload(Bucket=OBJ_BUCKET, Key=key, Tagging=tag_header(v.tags),
                                           **sse_args(mode, v.ssec_key))
            uid = up["UploadId"]
            ssec = ssec_get_args(v)
            e1 = c.upload_part(Bucket=OBJ_BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=p1, **ssec)
            e2 = c.upload_part(Bucket=OBJ_BUCKET, Key=key, UploadId=uid, PartNumber=2, Body=p2, **ssec)
            st.maybe = [v]
            c.complete_multipart_upload(
                Bucket=OBJ_BUCKET, Key=key, UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1["ETag"]},
                                           {"PartNumber": 2, "ETag": e2["ETag"]}]},
                **ssec)
            st.acked, st.maybe = v, []


RULES = [
    ("AES256", None, False),
    ("aws:kms", KMS_KEY, False),
    ("aws:kms", KMS_KEY, True),
    ("aws:kms:dsse", KMS_KEY, False),
]
DEFAULT_RULE = ("AES256", None, False)


class RuleWorker:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.acked = DEFAULT_RULE
        self.maybe: list = []
        self.ops = 0
        self.failure: str | None = None

    def run(self, c, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.rng.random() < 0.25:
                    self.maybe = [DEFAULT_RULE]
                    c.delete_bucket_encryption(Bucket=RULE_BUCKET)
                    self.acked, self.maybe = DEFAULT_RULE, []
                else:
                    rule = self.rng.choice(RULES)
                    by_default = {"SSEAlgorithm": rule[0]}
                    if rule[1]:
                        by_default["KMSMasterKeyID"] = rule[1]
                    self.maybe = [rule]
                    c.put_bucket_encryption(Bucket=RULE_BUCKET, ServerSideEncryptionConfiguration={
                        "Rules": [{"ApplyServerSideEncryptionByDefault": by_default,
                                   "BucketKeyEnabled": rule[2]}]})
                    self.acked, self.maybe = rule, []
                self.ops += 1
                time.sleep(0.01)
            except ClientError as e:
                if not stop.wait(0.5):
                    self.failure = f"rule worker: {e}"
                return
            except Exception:
                return


def read_rule(c) -> tuple:
    rules = c.get_bucket_encryption(Bucket=RULE_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    d = rules[0]["ApplyServerSideEncryptionByDefault"]
    key = d.get("KMSMasterKeyID")
    if key and key.startswith("arn:"):
        key = key.rsplit("/", 1)[-1]
    return (d["SSEAlgorithm"], key, bool(rules[0].get("BucketKeyEnabled", False)))


# -- verification -------------------------------------------------------------------------------

def tag_header(tags: tuple) -> str:
    return "&".join(f"{k}={v}" for k, v in tags)


def read_object(c, key: str, v: Version):
    try:
        r = c.get_object(Bucket=OBJ_BUCKET, Key=key, **ssec_get_args(v))
        # The tagging API takes no SSE-C key.
        tags = tuple((t["Key"], t["Value"]) for t in c.get_object_tagging(Bucket=OBJ_BUCKET, Key=key)["TagSet"])
    except ClientError as e:
        return ("error", e.response["Error"]["Code"])
    data = r["Body"].read()
    if r.get("TagCount", 0) != len(tags):
        return ("error", f"TagCount {r.get('TagCount')} for {len(tags)} tags")
    return ("ok", sha(data), len(data), r.get("ServerSideEncryption"), r.get("SSECustomerAlgorithm"), tags)


def matches(c, key: str, v: Version | None) -> bool:
    if v is None:
        try:
            c.head_object(Bucket=OBJ_BUCKET, Key=key)
            return False
        except ClientError as e:
            # A key that exists as SSE-C answers 400 to a HEAD without the key: not absent.
            return e.response["Error"]["Code"] in ("404", "NoSuchKey")
    got = read_object(c, key, v)
    if got[0] != "ok":
        return False
    _, digest, size, alg, cust, tags = got
    return (digest == v.digest and size == v.size and tags == v.tags
            and right_encryption(v, alg, cust))


def verify(c, data_dir: Path, model: dict, rules: RuleWorker, vb: versioned.Versioned, cycle: int) -> dict:
    for key, st in sorted(model.items()):
        candidates = [st.acked] + [m for m in st.maybe if m != st.acked]
        for cand in candidates:
            if matches(c, key, cand):
                st.acked, st.maybe = cand, []
                break
        else:
            raise Violation(f"cycle {cycle}: {key} matches none of its allowed states "
                            f"(acknowledged {st.acked}, cut off {st.maybe}); "
                            f"the server answers {describe(c, key, candidates)}")
    rule = read_rule(c)
    allowed = [rules.acked] + rules.maybe
    if rule not in allowed:
        raise Violation(f"cycle {cycle}: bucket rule {rule}, expected one of {allowed}")
    rules.acked, rules.maybe = rule, []
    version_files = vb.verify(c, cycle)
    # Files: the stored objects' blobs, every stored version's in the versioned bucket, plus the
    # parts of unfinished uploads, nothing else.
    want = sum(blob_files(st.acked) for st in model.values()) + version_files
    uploads = [(b, u) for b in (OBJ_BUCKET, versioned.VER_BUCKET)
               for u in c.list_multipart_uploads(Bucket=b).get("Uploads", [])]
    for b, u in uploads:
        want += len(c.list_parts(Bucket=b, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
    # Replaced blobs are unlinked in the background just after a reply; a restart's garbage
    # collection removes any the kill left. Nothing has been replaced since this start.
    have = sum(1 for p in (data_dir / "blobs").glob("*/*") if p.is_file())
    if have != want:
        raise Violation(f"cycle {cycle}: {have} blob files on disk after start-up, expected {want}")
    # Unfinished uploads are abandoned work: abort them so they do not pile up across cycles.
    for b, u in uploads:
        c.abort_multipart_upload(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])
    return {"uploads_aborted": len(uploads), "files": have}


def describe(c, key: str, candidates) -> str:
    out = []
    for cand in candidates:
        if cand is None:
            continue
        out.append(str(read_object(c, key, cand)))
    try:
        c.head_object(Bucket=OBJ_BUCKET, Key=key)
        out.append("HEAD 200")
    except ClientError as e:
        out.append(f"HEAD {e.response['Error']['Code']}")
    return "; ".join(out)


# -- main ---------------------------------------------------------------------------------------

def run(cycles: int, binary: Path, seed: int, workers: int, keys: int, min_run: float, max_run: float,
        root: Path | None = None, quiet: bool = False, vworkers: int = 2, vkeys: int = 5) -> dict:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="sealstore-killloop-", dir=root))
    data_dir = tmp / "data"
    log_path = tmp / "server.log"
    model: dict[str, KeyState] = {}
    object_workers = [Worker(w, random.Random(rng.random()), model, keys) for w in range(workers)]
    for w in object_workers:
        for k in w.keys:
            model[k] = KeyState()
    rules = RuleWorker(random.Random(rng.random()))
    vb = versioned.Versioned(random.Random(rng.random()), vworkers, vkeys)
    everyone = [*object_workers, rules, *vb.workers]
    totals = {"cycles": 0, "ops": 0, "violations": 0, "seed": seed, "aborted_uploads": 0,
              "versioned_ops": 0, "versions": 0, "versioning_flips": 0}
    started = time.monotonic()
    ok = False
    srv = None
    try:
        srv = Server(binary, data_dir, log_path)
        c = make_client(srv.url)
        c.create_bucket(Bucket=OBJ_BUCKET)
        c.put_bucket_encryption(Bucket=OBJ_BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
        c.create_bucket(Bucket=RULE_BUCKET)
        vb.set_up(c)
        for cycle in range(1, cycles + 1):
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(make_client(srv.url), stop), daemon=True)
                       for w in everyone]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(min_run, max_run))
            srv.kill()  # SIGKILL, mid-flight
            stop.set()
            for t in threads:
                t.join(timeout=60)
            for w in everyone:
                if w.failure:
                    raise Violation(f"cycle {cycle}: an error answer under load: {w.failure}")
            srv = Server(binary, data_dir, log_path)
            c = make_client(srv.url)
            info = verify(c, data_dir, model, rules, vb, cycle)
            vb.between_cycles(c)
            totals["cycles"] = cycle
            totals["aborted_uploads"] += info["uploads_aborted"]
            totals["ops"] = sum(w.ops for w in everyone)
            totals["versioned_ops"] = vb.ops
            totals["versions"] = vb.entries()
            totals["versioning_flips"] = vb.flips
            totals["versioned_cut_off"] = dict(vb.cut_off)
            totals["versioned_by_op"] = vb.done()
            if not quiet and (cycle % 50 == 0 or cycle == cycles):
                print(f"cycle {cycle}/{cycles}: {totals['ops']} acknowledged operations "
                      f"({vb.ops} versioned), {vb.entries()} versions and markers, "
                      f"{info['files']} blob files, {time.monotonic() - started:.0f} s", file=sys.stderr)
        if srv.stop() != 0:
            raise Violation(f"the final server did not exit cleanly on SIGTERM; see {log_path}")
        ok = True
    except Exception as e:  # a Violation, or an unexpected answer while verifying
        totals["violations"] = 1
        totals["error"] = str(e) if isinstance(e, Violation) else f"cycle {totals['cycles'] + 1}: {e!r}"
        totals["kept"] = str(tmp)
        versioned.dump(vb, tmp / "versioned-model.txt")
    except BaseException:  # interrupted: nothing to inspect
        ok = True
        raise
    finally:
        if srv is not None and srv.proc.poll() is None:
            srv.kill()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    totals["seconds"] = round(time.monotonic() - started, 1)
    return totals


def main() -> int:
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the server is killed and nothing is left.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--bin", type=Path, default=Path(os.environ.get("SEALSTORE_BIN", REPO / "target/release/sealstore")))
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    ap.add_argument("--workers", type=int, default=4, help="object workers (plus one rule worker)")
    ap.add_argument("--keys", type=int, default=6, help="keys per object worker")
    ap.add_argument("--vworkers", type=int, default=2, help="workers in the versioned bucket")
    ap.add_argument("--vkeys", type=int, default=5, help="keys per versioned worker")
    ap.add_argument("--min-run", type=float, default=0.2, help="shortest workload before the kill (s)")
    ap.add_argument("--max-run", type=float, default=1.2, help="longest workload before the kill (s)")
    ap.add_argument("--tmp", type=Path, default=None, help="where the data dir goes")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    print(f"kill loop: {a.cycles} cycles, seed {seed}, binary {a.bin}", file=sys.stderr)
    totals = run(a.cycles, a.bin, seed, a.workers, a.keys, a.min_run, a.max_run, a.tmp,
                 vworkers=a.vworkers, vkeys=a.vkeys)
    print(json.dumps(totals))
    if totals["violations"]:
        print(f"VIOLATION: {totals['error']}\n(data dir kept: {totals['kept']})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
