"""The kill loop's versioned bucket (tests/crash/kill_loop.py runs it beside the unversioned workload).

Workers own keys v<id>/<name> in a bucket whose versioning is Enabled (set-up first writes a `null`
version into two keys of each worker while the bucket is still unversioned). Between cycles, never
during a workload, the main loop sometimes flips the bucket to Suspended and back, so every write's
versioning state is known. The workers PUT small (inline) and multi-segment (blob file) bodies
under every SSE mode, overwrite, DELETE (a delete marker), DELETE by version id (for good, object
versions and markers alike), DeleteObjects mixing both, CopyObject from any version of their keys
(the same key included: S3's restore), and complete multipart uploads (one part uploaded or copied
from a version with UploadPartCopy, or a 5 MiB part and a small one). A key with `MAX_HISTORY`
entries mostly loses versions by id, which bounds the data the checks read.

The model keeps, per key, the acknowledged history newest first: each entry a version id and either
the version's bytes (SHA-256, size, SSE mode, SSE-C key, parts) or a delete marker. Before each
request it records the histories the request may leave if the kill cuts it off (a new version or
marker on top, with an id the client never saw, or one version gone); after the restart the server's
history must be the acknowledged one or one of those, and the model adopts it, learning the id.

After every restart it checks: the bucket's versioning state; ListObjectVersions, read in pages of
1-7 entries (key and version-id markers, pages that split a key's history), lists keys in order,
each key's versions and markers exactly as the model has them, newest first, with `IsLatest` on
the first alone, and one worker's prefix lists the same entries; every object version reads back by
id with its bytes, SSE algorithm and version id; every marker answers 405 by id; GET and HEAD without
an id answer the newest version, or 404 with `x-amz-delete-marker: true` and the marker's id when
the newest is a marker; ListObjectsV2 shows exactly the keys whose newest entry is an object.
`verify` returns the number of blob files the versions hold, for the kill loop's "nothing
unreferenced" count.
"""

from __future__ import annotations

import random
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from kill_common import (
    LARGE, MODES, PART1, SMALL_MAX, KeyWorker, Version, Violation, blob_files, right_encryption, sha,
    sse_args, ssec_get_args)

VER_BUCKET = "crash-versions"
NULL = "null"
MAX_HISTORY = 6
LIST_PAGE = (1, 7)  # MaxKeys of the ListObjectVersions pages
FLIP_CHANCE = 0.15  # per cycle, Enabled <-> Suspended
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# Key names after the worker's `v<id>/`: the first is a prefix of all the others, and they sort
# (by UTF-8 bytes) differently from their order here, so listing order and the per-key version
# ranges and cursors meet keys that extend one another.
KEY_NAMES = ["k", "kk", "k k", "k/x", "k\u00e9"]


@dataclass(frozen=True)
class Entry:
    """One version of a key: an object version (`v`) or a delete marker (`v` None)."""
    vid: str | None  # None: the id of a cut-off write, learned after the restart
    v: Version | None
    # TAGS HOOK: the version's tags (a tuple of (key, value)) go here when the tagging work lands;
    # PutObjectTagging by version id then records the entry with new tags (its cut-off form in
    # `History.maybe`) and `check_tags` below compares them. Until then every version has none.
    tags: tuple = ()

    @property
    def marker(self) -> bool:
        return self.v is None


@dataclass
class History:
    acked: list = field(default_factory=list)  # [Entry], newest first
    # Histories an operation cut off by the kill may have left (besides `acked`).
    maybe: list = field(default_factory=list)


class VersionedWorker(KeyWorker):
    """Owns keys v<id>/<name> in the versioned bucket; at most one of its operations is in flight."""

    def __init__(self, wid: int, rng: random.Random, bucket: Versioned, keys: int):
        super().__init__(wid, rng)
        self.bucket = bucket
        self.done: dict[str, int] = {}  # acknowledged operations by kind
        self.keys = [f"v{wid}/" + (KEY_NAMES[n] if n < len(KEY_NAMES) else f"k{n}") for n in range(keys)]

    # -- the model's side of a request ----------------------------------------------------------

    def on_top(self, h: History, e: Entry) -> list:
        """`h` after a write or delete marker `e`: a null version replaces the key's null version."""
        rest = [x for x in h.acked if x.vid != NULL] if e.vid == NULL else h.acked
        return [e, *rest]

    def pending_id(self) -> str | None:
        return NULL if self.bucket.status == "Suspended" else None

    def check_new_id(self, key: str, h: History, vid, what: str) -> None:
        if self.bucket.status == "Suspended":
            ok = vid == NULL
        else:
            ok = isinstance(vid, str) and vid != NULL and all(x.vid != vid for x in h.acked)
        if not ok:
            raise Violation(f"{what} {key} in a {self.bucket.status} bucket answered version id {vid!r} "
                            f"(history {[x.vid for x in h.acked]})")

    def add(self, key: str, h: History, v: Version | None, send, what: str) -> None:
        """Records a new version (`v`) or marker (`v` None) that `send()` creates and answers the id of."""
        h.maybe = [self.on_top(h, Entry(self.pending_id(), v))]
        vid = send()
        self.check_new_id(key, h, vid, what)
        h.acked, h.maybe = self.on_top(h, Entry(vid, v)), []

    def body(self, size: int) -> bytes:
        return self.rng.randbytes(size)

    def new_version(self, data: bytes, mode: str, parts: int = 0) -> Version:
        key = self.rng.randbytes(32) if mode == "sse-c" else None
        return Version(sha(data), len(data), mode, key, parts)

    def size(self) -> int:
        return self.rng.randint(1, SMALL_MAX) if self.rng.random() < 0.65 else self.rng.randint(*LARGE)

    # -- the operations -------------------------------------------------------------------------

    def step(self, c) -> None:
        key = self.rng.choice(self.keys)
        h = self.bucket.model[key]
        r = self.rng.random()
        if len(h.acked) >= MAX_HISTORY and self.rng.random() < 0.6:
            op = self.delete_version
        # TAGS HOOK: Put/DeleteObjectTagging (with and without a version id) join this table.
        elif r < 0.33:
            op = self.put
        elif r < 0.49:
            op = self.delete_marker
        elif r < 0.61:
            op = self.delete_version
        elif r < 0.69:
            op = self.delete_objects
        elif r < 0.88:
            op = self.copy
        else:
            op = self.multipart
        done = op(c, key, h)
        name = done or op.__name__
        self.done[name] = self.done.get(name, 0) + 1

    def put(self, c, key: str, h: History) -> None:
        data = self.body(self.size())
        mode = self.rng.choice(MODES)
        v = self.new_version(data, mode)
        self.add(key, h, v, lambda: c.put_object(
            Bucket=VER_BUCKET, Key=key, Body=data, **sse_args(mode, v.ssec_key)).get("VersionId"), "PUT")

    def delete_marker(self, c, key: str, h: History) -> None:
        def send():
            r = c.delete_object(Bucket=VER_BUCKET, Key=key)
            if r.get("DeleteMarker") is not True:
                raise Violation(f"DELETE {key} in a versioned bucket answered no delete marker: {r}")
            return r.get("VersionId")
        self.add(key, h, None, send, "DELETE")

    def delete_version(self, c, key: str, h: History) -> str | None:
        if not h.acked:
            self.delete_marker(c, key, h)
            return "delete_marker"
        # Past the cap, mostly the oldest: a long history's tail is where a lost version hides.
        e = h.acked[-1] if len(h.acked) >= MAX_HISTORY and self.rng.random() < 0.5 else self.rng.choice(h.acked)
        after = [x for x in h.acked if x.vid != e.vid]
        h.maybe = [after]
        r = c.delete_object(Bucket=VER_BUCKET, Key=key, VersionId=e.vid)
        if r.get("VersionId") != e.vid or bool(r.get("DeleteMarker")) != e.marker:
            raise Violation(f"DELETE {key}?versionId={e.vid} (marker: {e.marker}) answered {r}")
        h.acked, h.maybe = after, []

    def delete_objects(self, c, *_) -> None:
        batch = self.rng.sample(self.keys, self.rng.randint(2, 3))
        plan = {}  # key -> the version deleted by id, or None for a new delete marker
        for k in batch:
            h = self.bucket.model[k]
            e = self.rng.choice(h.acked) if h.acked and self.rng.random() < 0.5 else None
            plan[k] = e
            if e is None:
                h.maybe = [self.on_top(h, Entry(self.pending_id(), None))]
            else:
                h.maybe = [[x for x in h.acked if x.vid != e.vid]]
        resp = c.delete_objects(Bucket=VER_BUCKET, Delete={"Objects": [
            {"Key": k} if e is None else {"Key": k, "VersionId": e.vid} for k, e in plan.items()]})
        deleted = {d["Key"]: d for d in resp.get("Deleted", [])}
        if resp.get("Errors") or set(deleted) != set(batch):
            raise Violation(f"DeleteObjects {plan} answered {resp.get('Deleted')} and errors {resp.get('Errors')}")
        for k, e in plan.items():
            h, d = self.bucket.model[k], deleted[k]
            if e is None:
                if d.get("DeleteMarker") is not True:
                    raise Violation(f"DeleteObjects added no delete marker for {k}: {d}")
                self.check_new_id(k, h, d.get("DeleteMarkerVersionId"), "DeleteObjects")
                h.acked = self.on_top(h, Entry(d["DeleteMarkerVersionId"], None))
            else:
                if d.get("VersionId") != e.vid or bool(d.get("DeleteMarker")) != e.marker:
                    raise Violation(f"DeleteObjects of {k} version {e.vid} (marker: {e.marker}) answered {d}")
                h.acked = [x for x in h.acked if x.vid != e.vid]
            h.maybe = []

    def pick_source(self, key: str):
        """A random object version of this worker's keys to copy from: (key, entry, CopySource,
        SSE-C source arguments), or None when there is none."""
        sources = [(k, e) for k in self.keys for e in self.bucket.model[k].acked if not e.marker]
        if not sources:
            return None
        src_key, src = self.rng.choice(sources)
        source = {"Bucket": VER_BUCKET, "Key": src_key, "VersionId": src.vid}
        # The current version is also reachable without an id (not onto its own key: S3 refuses
        # copying an object onto itself unchanged unless a version is named).
        if src_key != key and self.bucket.model[src_key].acked[0] is src and self.rng.random() < 0.5:
            del source["VersionId"]
        extra = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": src.v.ssec_key} \
            if src.v.mode == "sse-c" else {}
        return src_key, src, source, extra

    def check_source_id(self, r: dict, src_key: str, src: Entry, what: str) -> None:
        if r.get("CopySourceVersionId") != src.vid:
            raise Violation(f"{what} from {src_key} version {src.vid} answered source version "
                            f"{r.get('CopySourceVersionId')!r}")

    def copy(self, c, key: str, h: History) -> str | None:
        picked = self.pick_source(key)
        if picked is None:
            return "nothing"
        src_key, src, source, extra = picked
        mode = self.rng.choice(MODES)
        dest_ssec = self.rng.randbytes(32) if mode == "sse-c" else None
        v = Version(src.v.digest, src.v.size, mode, dest_ssec)

        def send():
            r = c.copy_object(Bucket=VER_BUCKET, Key=key, CopySource=source, **sse_args(mode, dest_ssec), **extra)
            self.check_source_id(r, src_key, src, "CopyObject")
            return r.get("VersionId")
        self.add(key, h, v, send, "CopyObject")

    def multipart(self, c, key: str, h: History) -> str:
        mode = self.rng.choice(MODES)
        r = self.rng.random()
        picked = self.pick_source(key) if r < 0.3 else None
        if picked:
            # One part copied from a version (UploadPartCopy; the last part may be any size).
            src_key, src, source, extra = picked
            v = Version(src.v.digest, src.v.size, mode, self.rng.randbytes(32) if mode == "sse-c" else None, 1)
        else:
            # One part, or a 5 MiB part and a small one (rarely: the versions stay, and every
            # check reads them all).
            bodies = [self.body(PART1), self.body(self.rng.randint(1, 300 * 1024))] if r > 0.85 \
                else [self.body(self.size())]
            v = self.new_version(b"".join(bodies), mode, parts=len(bodies))
        up = c.create_multipart_upload(Bucket=VER_BUCKET, Key=key, **sse_args(mode, v.ssec_key))
        uid, ssec = up["UploadId"], ssec_get_args(v)
        parts = []
        if picked:
            e = c.upload_part_copy(Bucket=VER_BUCKET, Key=key, UploadId=uid, PartNumber=1, CopySource=source,
                                   **ssec, **extra)
            self.check_source_id(e, src_key, src, "UploadPartCopy")
            parts.append({"PartNumber": 1, "ETag": e["CopyPartResult"]["ETag"]})
        else:
            for n, b in enumerate(bodies, 1):
                e = c.upload_part(Bucket=VER_BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=b, **ssec)
                parts.append({"PartNumber": n, "ETag": e["ETag"]})
        self.add(key, h, v, lambda: c.complete_multipart_upload(
            Bucket=VER_BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}, **ssec
        ).get("VersionId"), "CompleteMultipartUpload")
        return "multipart_part_copy" if picked else f"multipart_{len(parts)}_part"


class Versioned:
    """The versioned bucket: its model, its workers, its set-up, flips and checks."""

    def __init__(self, rng: random.Random, workers: int, keys: int):
        self.rng = rng
        self.status = "Enabled"
        self.model: dict[str, History] = {}
        self.workers = [VersionedWorker(w, random.Random(rng.random()), self, keys) for w in range(workers)]
        for w in self.workers:
            for k in w.keys:
                self.model[k] = History()
        self.flips = 0
        # Cut-off operations found done / not done after a restart.
        self.cut_off = {"done": 0, "not_done": 0}
        self._raw: list[bytes] = []

    def set_up(self, c) -> None:
        c.create_bucket(Bucket=VER_BUCKET)
        # SSE-C is blocked on new buckets (as on AWS since April 2026): unblock it for the workload.
        c.put_bucket_encryption(Bucket=VER_BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})
        # Objects written before versioning was ever enabled become each key's `null` version.
        for w in self.workers:
            for key, size, mode in ((w.keys[0], 1000, "default"), (w.keys[-1], 300 * 1024, "sse-s3")):
                data = w.body(size)
                c.put_object(Bucket=VER_BUCKET, Key=key, Body=data, **sse_args(mode, None))
                self.model[key].acked = [Entry(NULL, w.new_version(data, mode))]
        c.put_bucket_versioning(Bucket=VER_BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def between_cycles(self, c) -> None:
        """Sometimes flips Enabled <-> Suspended (with no workload running: the model always knows
        which state a write met)."""
        if self.rng.random() < FLIP_CHANCE:
            status = "Suspended" if self.status == "Enabled" else "Enabled"
            c.put_bucket_versioning(Bucket=VER_BUCKET, VersioningConfiguration={"Status": status})
            self.status = status
            self.flips += 1

    @property
    def ops(self) -> int:
        return sum(w.ops for w in self.workers)

    def done(self) -> dict:
        out: dict[str, int] = {}
        for w in self.workers:
            for k, n in w.done.items():
                out[k] = out.get(k, 0) + n
        return dict(sorted(out.items()))

    def entries(self) -> int:
        return sum(len(h.acked) for h in self.model.values())

    # -- verification ---------------------------------------------------------------------------

    def list_all(self, c, cycle: int, prefix: str = "") -> list:
        """Every ListObjectVersions entry under `prefix`, page by page, in listing order: (key, vid,
        marker, size, parts, is_latest). The raw XML gives the order (boto3 splits versions and
        markers)."""
        c.meta.events.register("response-received.s3.ListObjectVersions",
                               lambda response_dict=None, **_: self._raw.append(
                                   response_dict["body"] if response_dict else b""),
                               unique_id="crash-raw-list-versions")
        page = self.rng.randint(*LIST_PAGE)
        out, kw = [], {}
        for _ in range(100_000):
            self._raw.clear()
            resp = c.list_object_versions(Bucket=VER_BUCKET, Prefix=prefix, MaxKeys=page, **kw)
            got = []
            root = ET.fromstring(self._raw[-1])
            # boto3 asks for url-encoded keys (and decodes them in its parsed answer).
            decode = urllib.parse.unquote_plus if root.findtext(f"{S3_NS}EncodingType") == "url" else str
            for el in root:
                tag = el.tag.removeprefix(S3_NS)
                if tag in ("Version", "DeleteMarker"):
                    got.append((decode(el.findtext(f"{S3_NS}Key")), el.findtext(f"{S3_NS}VersionId"),
                                tag == "DeleteMarker", int(el.findtext(f"{S3_NS}Size") or 0),
                                etag_parts(el.findtext(f"{S3_NS}ETag") or ""),
                                el.findtext(f"{S3_NS}IsLatest") == "true"))
            parsed = sorted((e["Key"], e["VersionId"])
                            for e in resp.get("Versions", []) + resp.get("DeleteMarkers", []))
            if len(got) > page or parsed != sorted((e[0], e[1]) for e in got):
                raise Violation(f"cycle {cycle}: a ListObjectVersions page of MaxKeys {page} after {kw} "
                                f"has {len(got)} entries ({resp})")
            out += got
            if not resp.get("IsTruncated"):
                return out
            if not got:
                raise Violation(f"cycle {cycle}: ListObjectVersions answered an empty truncated page after {kw}")
            kw = {"KeyMarker": resp.get("NextKeyMarker", ""), "VersionIdMarker": resp.get("NextVersionIdMarker", "")}
        raise Violation(f"cycle {cycle}: ListObjectVersions never ends")

    def verify(self, c, cycle: int) -> int:
        status = c.get_bucket_versioning(Bucket=VER_BUCKET).get("Status")
        if status != self.status:
            raise Violation(f"cycle {cycle}: versioning {status!r}, acknowledged {self.status!r}")
        listed = self.list_all(c, cycle)
        # One worker's keys alone (a prefix), in other page sizes: the same entries.
        prefix = f"v{self.rng.randrange(len(self.workers))}/" if self.workers else ""
        if self.list_all(c, cycle, prefix) != [e for e in listed if e[0].startswith(prefix)]:
            raise Violation(f"cycle {cycle}: ListObjectVersions with prefix {prefix!r} disagrees with "
                            f"the whole listing {listed}")
        server: dict[str, list] = {}
        for i, (key, vid, marker, size, parts, latest) in enumerate(listed):
            if key not in self.model:
                raise Violation(f"cycle {cycle}: ListObjectVersions lists a key never written: {key!r}")
            if i and (key < listed[i - 1][0] or (key != listed[i - 1][0] and key in server)):
                raise Violation(f"cycle {cycle}: ListObjectVersions out of key order at {key!r}: {listed}")
            hist = server.setdefault(key, [])
            if latest != (not hist) or any(vid == x[0] for x in hist):
                raise Violation(f"cycle {cycle}: {key} listed {hist + [(vid, marker, size, parts, latest)]}: "
                                "IsLatest must mark the first entry alone, ids must be unique")
            hist.append((vid, marker, size, parts, latest))
        reads: dict = {}
        for key, h in sorted(self.model.items()):
            got = server.get(key, [])
            for i, cand in enumerate([h.acked, *h.maybe]):
                learned = self.match(c, key, cand, got, reads)
                if learned is not None:
                    if h.maybe:
                        self.cut_off["done" if i else "not_done"] += 1
                    h.acked, h.maybe = learned, []
                    break
            else:
                raise Violation(f"cycle {cycle}: {key}'s versions match none of its allowed histories; "
                                f"listed {got}, acknowledged {show(h.acked)}, cut off {[show(m) for m in h.maybe]}; "
                                f"reads by id {[(k[1], r) for k, r in reads.items() if k[0] == key]}")
            self.check_current(c, key, h.acked, cycle)
            for e in h.acked:
                if e.marker:
                    self.check_marker_by_id(c, key, e, cycle)
                else:
                    check_tags(c, key, e)
        current = set()
        for p in c.get_paginator("list_objects_v2").paginate(Bucket=VER_BUCKET):
            current |= {o["Key"] for o in p.get("Contents", [])}
        want = {k for k, h in self.model.items() if h.acked and not h.acked[0].marker}
        if current != want:
            raise Violation(f"cycle {cycle}: ListObjectsV2 shows {sorted(current)}, current objects are {sorted(want)}")
        return sum(blob_files(e.v) for h in self.model.values() for e in h.acked)

    def match(self, c, key: str, cand: list, got: list, reads: dict) -> list | None:
        """`cand` with the listed ids filled in if the server's history is that one, else None."""
        if len(cand) != len(got):
            return None
        out = []
        for e, (vid, marker, size, parts, _) in zip(cand, got):
            if e.marker != marker or (e.vid or vid) != vid or (e.vid is None and vid == NULL):
                return None
            # The part count tells a multipart version from a PUT or copy of the same bytes (an
            # UploadPartCopy of a key's own version); the blob-file count depends on it.
            if not marker and (size != e.v.size or parts != e.v.parts):
                return None
            out.append(Entry(vid, e.v, e.tags))
        for e in out:
            if not e.marker:
                got = self.read(c, key, e, reads)
                if got[:3] != ("ok", e.v.digest, e.v.size) or got[5] != e.vid \
                        or not right_encryption(e.v, got[3], got[4]):
                    return None
        return out

    def read(self, c, key: str, e: Entry, reads: dict) -> tuple:
        """GET of version `e.vid` (with `e`'s SSE-C key): what the server answered, kept for the
        other candidate histories (which may expect other bytes or SSE of the same version)."""
        k = (key, e.vid, e.v.ssec_key)
        if k not in reads:
            try:
                r = c.get_object(Bucket=VER_BUCKET, Key=key, VersionId=e.vid, **ssec_get_args(e.v))
                data = r["Body"].read()
                reads[k] = ("ok", sha(data), len(data), r.get("ServerSideEncryption"),
                            r.get("SSECustomerAlgorithm"), r.get("VersionId"))
            except ClientError as err:
                reads[k] = ("error", err.response["Error"]["Code"], None, None, None, None)
            except Exception as err:  # e.g. boto3's response checksum check: report it with the key
                reads[k] = ("exception", repr(err), None, None, None, None)
        return reads[k]

    def check_current(self, c, key: str, hist: list, cycle: int) -> None:
        """GET and HEAD without a version id: the newest version, or 404 (with the marker's headers
        when a delete marker is newest)."""
        newest = hist[0] if hist else None
        ssec = ssec_get_args(newest.v) if newest and newest.v else {}
        for method in ("GET", "HEAD"):
            try:
                if method == "GET":
                    r = c.get_object(Bucket=VER_BUCKET, Key=key, **ssec)
                    data = r["Body"].read()
                    got = ("ok", sha(data), len(data), r.get("VersionId"))
                else:
                    r = c.head_object(Bucket=VER_BUCKET, Key=key, **ssec)
                    got = ("ok", newest.v.digest if newest and newest.v else None, r.get("ContentLength"),
                           r.get("VersionId"))
            except ClientError as err:
                h = err.response["ResponseMetadata"].get("HTTPHeaders", {})
                code = err.response["Error"]["Code"]
                # HEAD's 404 has no body, hence no code but the status.
                got = ("NoSuchKey" if code == "404" else code, h.get("x-amz-delete-marker"),
                       h.get("x-amz-version-id"))
            if newest is None:
                want = ("NoSuchKey", None, None)
            elif newest.marker:
                want = ("NoSuchKey", "true", newest.vid)
            else:
                want = ("ok", newest.v.digest, newest.v.size, newest.vid)
            if got != want:
                raise Violation(f"cycle {cycle}: {method} {key} (no version id) answered {got}, expected {want}")

    def check_marker_by_id(self, c, key: str, e: Entry, cycle: int) -> None:
        try:
            c.get_object(Bucket=VER_BUCKET, Key=key, VersionId=e.vid)
            code = "200"
        except ClientError as err:
            code = err.response["Error"]["Code"]
        if code != "MethodNotAllowed":
            raise Violation(f"cycle {cycle}: GET {key}?versionId={e.vid} (a delete marker) answered {code}")


def check_tags(c, key: str, e: Entry) -> None:
    """TAGS HOOK: GetObjectTagging(VersionId=e.vid) must answer `e.tags` (and GET's
    x-amz-tagging-count their number). Nothing to check until the workload sets tags."""
    assert not e.tags, "tags are not in the workload yet"


def dump(vb: Versioned, path) -> None:
    """Writes the model (SSE-C keys included) beside a kept data dir, to read its versions back."""
    with open(path, "w") as f:
        print(f"status {vb.status}", file=f)
        for key, h in sorted(vb.model.items()):
            for name, hist in [("acked", h.acked)] + [("maybe", m) for m in h.maybe]:
                print(f"{key!r} {name}:", file=f)
                for e in hist:
                    print("   ", e.vid, "marker" if e.marker else
                          f"{e.v.size} {e.v.mode} {e.v.digest} parts={e.v.parts} "
                          f"ssec={e.v.ssec_key.hex() if e.v.ssec_key else None}", file=f)


def etag_parts(etag: str) -> int:
    """The part count a multipart ETag ends with (`"md5-N"`), 0 for any other ETag."""
    _, dash, n = etag.strip('"').rpartition("-")
    return int(n) if dash and n.isdigit() else 0


def show(hist: list) -> list:
    return [(e.vid, "marker" if e.marker else f"{e.v.size}B {e.v.parts}p {e.v.mode} {e.v.digest[:8]}")
            for e in hist]
