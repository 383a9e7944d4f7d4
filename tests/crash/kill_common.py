"""What the kill loop's two workloads share (tests/crash/kill_loop.py, the unversioned bucket, and
tests/crash/versioned.py, the versioned one): the stored-version record, SSE request arguments, the
blob-file arithmetic and the worker loop. No boto3 import here: kill_loop.py isolates boto3 from the
developer's AWS configuration before anything imports it."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from botocore.exceptions import ClientError

KMS_KEY = "crash-key-1"
MODES = ["default", "sse-s3", "sse-kms", "sse-kms-bk", "dsse-kms", "sse-c"]
SMALL_MAX = 16 * 1024
LARGE = (200 * 1024, 1024 * 1024)
PART1 = 5 * 1024 * 1024
# A body lives in the metadata database when its sealed form (16-byte header, 16-byte tag per layer
# per 64 KiB segment) fits in 65 KiB; the workload's sizes stay far from that line.
INLINE_MAX = 65 * 1024


class Violation(Exception):
    pass


@dataclass(frozen=True)
class Version:
    """One stored state of a key: its bytes' digest, size, SSE mode, SSE-C key, part count, tags."""
    digest: str
    size: int
    mode: str
    ssec_key: bytes | None = None
    parts: int = 0  # 0: a single PUT or copy; n: a multipart object of n parts
    tags: tuple = ()  # ((key, value), ...) ordered by key, as GetObjectTagging lists them


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sse_args(mode: str, ssec_key: bytes | None) -> dict:
    if mode == "sse-s3":
        return {"ServerSideEncryption": "AES256"}
    if mode == "sse-kms":
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY}
    if mode == "sse-kms-bk":
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY, "BucketKeyEnabled": True}
    if mode == "dsse-kms":
        return {"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_KEY}
    if mode == "sse-c":
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": ssec_key}
    return {}


def expected_algorithm(mode: str) -> str | None:
    """The x-amz-server-side-encryption a GET answers for an object written in `mode` (None for
    SSE-C, whose answer carries the customer algorithm instead; `default` follows the bucket rule,
    which the workload buckets leave at S3's default SSE-S3)."""
    return {"default": "AES256", "sse-s3": "AES256", "sse-kms": "aws:kms", "sse-kms-bk": "aws:kms",
            "dsse-kms": "aws:kms:dsse", "sse-c": None}[mode]


def ssec_get_args(v: Version) -> dict:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": v.ssec_key} if v.mode == "sse-c" else {}


def right_encryption(v: Version, alg: str | None, cust: str | None) -> bool:
    """Whether a GET's SSE answer headers are those of a version written as `v`."""
    if v.mode == "sse-c":
        return cust == "AES256"
    return alg == expected_algorithm(v.mode)


def blob_files(v: Version | None) -> int:
    """Blob files behind one stored version."""
    if v is None:
        return 0
    if v.parts:
        return v.parts
    layers = 2 if v.mode == "dsse-kms" else 1
    segments = max(1, -(-v.size // (64 * 1024)))
    sealed = 16 + v.size + segments * 16 * layers
    return 0 if sealed <= INLINE_MAX else 1


class KeyWorker:
    """A worker thread owning its keys, so that at most one of its operations is ever in flight
    when the server dies. Subclasses implement `step` (one operation, recording in the model what
    a cut-off attempt may have left before sending it)."""

    def __init__(self, wid: int, rng):
        self.wid = wid
        self.rng = rng
        self.ops = 0
        self.failure: str | None = None

    def step(self, c) -> None:
        raise NotImplementedError

    def run(self, c, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step(c)
            except (ClientError, Violation) as e:
                # The server answered with an error to a valid request: a bug, unless it was dying.
                if not stop.wait(0.5):
                    self.failure = f"{type(self).__name__} {self.wid}: {e}"
                return
            except Exception:
                # The server died mid-request: the op's outcome is unknown and is already recorded
                # in the model; the next cycle's verification settles it.
                return
            self.ops += 1
