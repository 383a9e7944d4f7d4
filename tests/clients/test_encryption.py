"""Encryption at rest (issue 5), what clients see: the SSE modes on PutObject, CopyObject,
GetObject and HeadObject (response headers, ETags, ranges), S3's validation of the SSE request
headers, KMS key resolution and KMS.NotFoundException, SSE-C reads and copies, and the aws CLI's
--sse / --sse-c options.  Reference: shared/docs/s3-encryption-reference.md §2.

What is stored on disk, restarts, the master key, rotation and bucket keys are in
test_encryption_keys.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name

SEG = 64 * 1024
REGION = "us-east-1"
# Keys the module's server declares with --kms-key.
KMS_ID = "testkey-1"
KMS_UUID = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"
KMS_ALIAS = "alias/sealstore-app"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

SSE = "x-amz-server-side-encryption"
SSE_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
SSE_CONTEXT = "x-amz-server-side-encryption-context"
SSEC_ALG = "x-amz-server-side-encryption-customer-algorithm"
SSEC_KEY = "x-amz-server-side-encryption-customer-key"
SSEC_MD5 = "x-amz-server-side-encryption-customer-key-MD5"
SRC_SSEC_ALG = "x-amz-copy-source-server-side-encryption-customer-algorithm"
SRC_SSEC_MD5 = "x-amz-copy-source-server-side-encryption-customer-key-MD5"

MSG_NOT_SUPPORTED = "The encryption method specified is not supported"
MSG_KMS_NEEDS_HEADER = (
    "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
)
MSG_SSEC_INCOMPATIBLE = (
    "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
)
MSG_SSEC_ALGORITHM = "The Encryption request you specified is not valid. Supported value: AES256."
MSG_SSEC_NO_ALGORITHM = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
)
MSG_SSEC_NO_KEY = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
)
MSG_SSEC_KEY_LENGTH = "The secret key was invalid for the specified algorithm."
MSG_SSEC_MD5 = "The calculated MD5 hash of the key did not match the hash that was provided."
MSG_SSEC_MISSING = (
    "The object was stored using a form of Server Side Encryption. "
    "The correct parameters must be provided to retrieve the object."
)
MSG_SSEC_WRONG = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key."
)


def arn(key_id: str, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:kms:{REGION}:{account}:key/{key_id}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_b64(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def pattern(n: int, seed: int = 0) -> bytes:
    """A body whose every 16-byte window is distinct enough to catch misplaced segments."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def ssec_headers(key: bytes, prefix: str = "x-amz-server-side-encryption-customer-") -> dict:
    return {f"{prefix}algorithm": "AES256", f"{prefix}key": b64(key), f"{prefix}key-MD5": md5_b64(key)}


def sse_headers(resp) -> dict:
    """Every x-amz-server-side-encryption* header of a boto3 response (lower-case names)."""
    return {k: v for k, v in resp["ResponseMetadata"]["HTTPHeaders"].items() if k.startswith(SSE)}


def raw_sse_headers(resp) -> dict:
    return {k.lower(): v for k, v in resp.headers.items() if k.lower().startswith(SSE)}


def expect_s3(mode: str, key_arn: str | None = None, bucket_key: bool = False, customer_key: bytes | None = None):
    """The exact SSE response headers of an object in ``mode`` (§2.5)."""
    if mode == "AES256":
        return {SSE: "AES256"}
    if mode in ("aws:kms", "aws:kms:dsse"):
        e = {SSE: mode, SSE_KEY_ID: key_arn}
        if bucket_key:
            e[SSE_BUCKET_KEY] = "true"
        return e
    if mode == "SSE-C":
        return {SSEC_ALG.lower(): "AES256", SSEC_MD5.lower(): md5_b64(customer_key)}
    raise AssertionError(mode)


# -- fixtures ----------------------------------------------------------------------------------

def start(server_factory, *args, **kw):
    return server_factory.start(*args, **kw)


def create_bucket(client, name):
    """Creates a bucket and unblocks SSE-C on it, as users must on AWS since April 2026 (S3 blocks
    SSE-C on every new bucket until its owner sets BlockedEncryptionTypes NONE)."""
    client.create_bucket(Bucket=name)
    client.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]},
        }]},
    )


@pytest.fixture(scope="module")
def ksrv(server_factory):
    """An in-memory server with three declared KMS keys and a second account (alice)."""
    srv = start(
        server_factory,
        "--user", ":".join(ALICE),
        "--kms-key", KMS_ID, "--kms-key", KMS_UUID, "--kms-key", KMS_ALIAS,
        memory=True,
    )
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture(scope="module")
def kc(ksrv):
    return ksrv.client()


@pytest.fixture
def kb(kc):
    name = unique_bucket_name("enc")
    create_bucket(kc, name)
    yield name
    empty_and_delete(kc, name)


def raw(srv, method, bucket, key, headers=None, body=b"", params=None):
    """A SigV4-signed raw request (every header exactly as given)."""
    return h.signed(method, h.url_for(srv.url, bucket, key, params), headers or {}, body)


def assert_unchanged(kc, bucket, key, body: bytes | None):
    """After a refused write: the old object (or none) is still there."""
    if body is None:
        with pytest.raises(ClientError) as ei:
            kc.head_object(Bucket=bucket, Key=key)
        assert_client_error(ei, None, 404)
        return
    g = kc.get_object(Bucket=bucket, Key=key)
    assert g["Body"].read() == body
    assert g["ServerSideEncryption"] == "AES256"
    assert g["ETag"] == quoted_md5(body)


# -- modes: response headers and ETags ------------------------------------------------------------

def test_default_and_aes256_are_sse_s3_with_md5_etag(kc, kb):
    for key, extra in (("default", {}), ("aes256", {"ServerSideEncryption": "AES256"})):
        for body in (b"", b"x", pattern(SEG + 1, 1)):
            p = kc.put_object(Bucket=kb, Key=key, Body=body, **extra)
            assert sse_headers(p) == expect_s3("AES256"), (key, len(body))
            assert p["ETag"] == quoted_md5(body)
            g = kc.get_object(Bucket=kb, Key=key)
            assert g["Body"].read() == body
            assert sse_headers(g) == expect_s3("AES256")
            assert g["ETag"] == quoted_md5(body)
            hd = kc.head_object(Bucket=kb, Key=key)
            assert sse_headers(hd) == expect_s3("AES256")
            assert hd["ETag"] == quoted_md5(body) and hd["ContentLength"] == len(body)
    # S3's documented test vector (§2.6).
    p = kc.put_object(Bucket=kb, Key="vector", Body=b"test-encrypted")
    assert p["ETag"] == '"16b66fb6b9c0e864b0291fa0dbb5a946"'


@pytest.mark.parametrize("key_ref,key_id", [
    (KMS_ID, KMS_ID),
    (arn(KMS_ID), KMS_ID),
    (KMS_UUID, KMS_UUID),
    (arn(KMS_UUID), KMS_UUID),
])
def test_kms_key_forms_report_the_key_arn(kc, kb, key_ref, key_id):
    body = pattern(3 * SEG + 7, 2)
    p = kc.put_object(Bucket=kb, Key="k", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_ref)
    want = expect_s3("aws:kms", arn(key_id))
    assert sse_headers(p) == want
    assert p["SSEKMSKeyId"] == arn(key_id)
    assert "BucketKeyEnabled" not in p
    etag = p["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
    assert etag != quoted_md5(body), "a KMS object's ETag is not the plaintext MD5"
    g = kc.get_object(Bucket=kb, Key="k")
    assert g["Body"].read() == body
    assert sse_headers(g) == want and g["ETag"] == etag
    hd = kc.head_object(Bucket=kb, Key="k")
    assert sse_headers(hd) == want and hd["ETag"] == etag


def test_kms_alias_and_alias_arn_resolve_to_one_key(kc, kb):
    p1 = kc.put_object(Bucket=kb, Key="a", Body=b"alias", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ALIAS)
    key_arn = p1["SSEKMSKeyId"]
    assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", key_arn), key_arn
    alias_arn = f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:{KMS_ALIAS}"
    p2 = kc.put_object(Bucket=kb, Key="b", Body=b"alias arn", ServerSideEncryption="aws:kms", SSEKMSKeyId=alias_arn)
    assert p2["SSEKMSKeyId"] == key_arn
    # The key the alias names can also be used by its id.
    key_id = key_arn.rsplit("/", 1)[1]
    p3 = kc.put_object(Bucket=kb, Key="c", Body=b"by id", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    assert p3["SSEKMSKeyId"] == key_arn
    for k, body in (("a", b"alias"), ("b", b"alias arn"), ("c", b"by id")):
        g = kc.get_object(Bucket=kb, Key=k)
        assert g["Body"].read() == body
        assert sse_headers(g) == expect_s3("aws:kms", key_arn)


def test_kms_without_key_uses_the_accounts_aws_managed_key(ksrv, kc, kb):
    p = kc.put_object(Bucket=kb, Key="m", Body=b"managed", ServerSideEncryption="aws:kms")
    managed = p["SSEKMSKeyId"]
    assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", managed), managed
    assert sse_headers(p) == expect_s3("aws:kms", managed)
    assert managed not in (arn(KMS_UUID),)
    # Same key for every bucket of the account, and by its alias.
    other = unique_bucket_name("enc")
    create_bucket(kc, other)
    try:
        assert kc.put_object(Bucket=other, Key="m", Body=b"2", ServerSideEncryption="aws:kms")["SSEKMSKeyId"] == managed
        assert kc.put_object(Bucket=other, Key="n", Body=b"3", ServerSideEncryption="aws:kms",
                             SSEKMSKeyId="alias/aws/s3")["SSEKMSKeyId"] == managed
    finally:
        empty_and_delete(kc, other)
    hd = kc.head_object(Bucket=kb, Key="m")
    assert sse_headers(hd) == expect_s3("aws:kms", managed)
    # Another account has its own aws/s3 key, in its own account.
    a = ksrv.client(ALICE[0], ALICE[1])
    ab = unique_bucket_name("alice")
    create_bucket(a, ab)
    try:
        pa = a.put_object(Bucket=ab, Key="m", Body=b"alice", ServerSideEncryption="aws:kms")
        assert re.fullmatch(rf"arn:aws:kms:{REGION}:{ALICE[2]}:key/{UUID_RE}", pa["SSEKMSKeyId"]), pa["SSEKMSKeyId"]
        assert pa["SSEKMSKeyId"].rsplit("/", 1)[1] != managed.rsplit("/", 1)[1]
        # --kms-key declares the key for every account.
        pk = a.put_object(Bucket=ab, Key="k", Body=b"alice k", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
        assert pk["SSEKMSKeyId"] == arn(KMS_ID, ALICE[2])
        assert a.get_object(Bucket=ab, Key="k")["Body"].read() == b"alice k"
    finally:
        empty_and_delete(a, ab)


def test_kms_bucket_key_flag_is_reported_only_when_true(kc, kb):
    body = pattern(SEG * 2, 3)
    for key, flag in (("on", True), ("off", False)):
        p = kc.put_object(Bucket=kb, Key=key, Body=body, ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=KMS_ID, BucketKeyEnabled=flag)
        want = expect_s3("aws:kms", arn(KMS_ID), bucket_key=flag)
        assert sse_headers(p) == want, key
        g = kc.get_object(Bucket=kb, Key=key)
        assert g["Body"].read() == body
        assert sse_headers(g) == want, key
        assert g.get("BucketKeyEnabled") is (True if flag else None)
        hd = kc.head_object(Bucket=kb, Key=key)
        assert sse_headers(hd) == want, key
        assert hd.get("BucketKeyEnabled") is (True if flag else None)


def test_kms_with_encryption_context(kc, kb):
    ctx = b64(json.dumps({"project": "sealstore", "team": "storage"}).encode())
    body = pattern(SEG + 100, 4)
    p = kc.put_object(Bucket=kb, Key="ctx", Body=body, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_ID, SSEKMSEncryptionContext=ctx)
    got = sse_headers(p)
    got.pop(SSE_CONTEXT, None)   # whether PUT echoes the context is unverified (§2.5)
    assert got == expect_s3("aws:kms", arn(KMS_ID))
    g = kc.get_object(Bucket=kb, Key="ctx")
    assert g["Body"].read() == body
    assert g["SSEKMSKeyId"] == arn(KMS_ID)
    r = kc.get_object(Bucket=kb, Key="ctx", Range="bytes=65530-65545")
    assert r["Body"].read() == body[65530:65546]


def test_dsse_kms(kc, kb):
    body = pattern(2 * SEG + 3, 5)
    for key, extra, key_arn in (
        ("dsse-key", {"SSEKMSKeyId": KMS_ID}, arn(KMS_ID)),
        ("dsse-managed", {}, None),
    ):
        p = kc.put_object(Bucket=kb, Key=key, Body=body, ServerSideEncryption="aws:kms:dsse", **extra)
        if key_arn is None:
            key_arn = p["SSEKMSKeyId"]
            assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", key_arn), key_arn
        want = expect_s3("aws:kms:dsse", key_arn)
        assert sse_headers(p) == want
        assert re.fullmatch(r'"[0-9a-f]{32}"', p["ETag"]) and p["ETag"] != quoted_md5(body)
        g = kc.get_object(Bucket=kb, Key=key)
        assert g["Body"].read() == body
        assert sse_headers(g) == want and g["ETag"] == p["ETag"]
        assert sse_headers(kc.head_object(Bucket=kb, Key=key)) == want


def test_ssec_put_get_head(kc, kb):
    key = os.urandom(32)
    body = pattern(3 * SEG + 11, 6)
    p = kc.put_object(Bucket=kb, Key="c", Body=body, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    want = expect_s3("SSE-C", customer_key=key)
    assert sse_headers(p) == want
    assert p["SSECustomerAlgorithm"] == "AES256" and p["SSECustomerKeyMD5"] == md5_b64(key)
    assert "ServerSideEncryption" not in p
    assert re.fullmatch(r'"[0-9a-f]{32}"', p["ETag"]) and p["ETag"] != quoted_md5(body)
    g = kc.get_object(Bucket=kb, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert g["Body"].read() == body
    assert sse_headers(g) == want and g["ETag"] == p["ETag"]
    hd = kc.head_object(Bucket=kb, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert sse_headers(hd) == want and hd["ContentLength"] == len(body)
    # Empty SSE-C object.
    kc.put_object(Bucket=kb, Key="empty", Body=b"", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    g = kc.get_object(Bucket=kb, Key="empty", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert g["Body"].read() == b"" and sse_headers(g) == want


# -- ranges in every mode ------------------------------------------------------------------------

SIZE = 3 * SEG + 1000
RANGES = [
    ("bytes=65530-65545", 65530, 65545),        # across the first segment boundary
    ("bytes=0-0", 0, 0),
    ("bytes=65536-131071", 65536, 131071),      # exactly segment 1
    ("bytes=131071-131072", 131071, 131072),
    ("bytes=196700-196800", 196700, 196800),    # inside the last (short) segment
    ("bytes=-100", SIZE - 100, SIZE - 1),       # suffix inside the last segment
    ("bytes=-70000", SIZE - 70000, SIZE - 1),   # suffix across two boundaries
    ("bytes=196608-", 196608, SIZE - 1),        # open-ended: exactly the last segment
    ("bytes=100000-99999999", 100000, SIZE - 1),
]

MODES = {
    "default": ({}, {}),
    "aes256": ({"ServerSideEncryption": "AES256"}, {}),
    "kms": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID}, {}),
    "kms-bucket-key": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID, "BucketKeyEnabled": True}, {}),
    "dsse": ({"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_ID}, {}),
    "ssec": ("ssec", "ssec"),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_ranges_in_every_mode(kc, kb, mode):
    ckey = os.urandom(32)
    put_kw, get_kw = MODES[mode]
    if put_kw == "ssec":
        put_kw = get_kw = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": ckey}
    body = pattern(SIZE, 7)
    kc.put_object(Bucket=kb, Key="r", Body=body, **put_kw)
    for spec, first, last in RANGES:
        g = kc.get_object(Bucket=kb, Key="r", Range=spec, **get_kw)
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 206, spec
        assert g["ContentRange"] == f"bytes {first}-{last}/{SIZE}", spec
        assert g["ContentLength"] == last - first + 1, spec
        assert g["Body"].read() == body[first:last + 1], spec
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=kb, Key="r", Range=f"bytes={SIZE}-", **get_kw)
    assert_client_error(ei, "InvalidRange", 416)
    # Segment-sized objects: the last byte, and the byte after a full segment.
    for n in (SEG, SEG + 1):
        small = pattern(n, 8)
        kc.put_object(Bucket=kb, Key="s", Body=small, **put_kw)
        for spec, first in ((f"bytes={n - 1}-{n - 1}", n - 1), ("bytes=-1", n - 1), (f"bytes={SEG - 2}-", SEG - 2)):
            g = kc.get_object(Bucket=kb, Key="s", Range=spec, **get_kw)
            assert g["Body"].read() == small[first:], (n, spec)


# -- write validation (§2.3) ------------------------------------------------------------------------

_C = os.urandom(32)
_SHORT = os.urandom(16)
_CTX_NOT_JSON = b64(b"not json at all")

# (id, headers, status, code, message or None, extra error fields)
WRITE_ERRORS = [
    ("unknown-sse", {SSE: "AES512"}, 400, "InvalidArgument", MSG_NOT_SUPPORTED,
     {"ArgumentName": SSE, "ArgumentValue": "AES512"}),
    ("kms-id-with-aes256", {SSE: "AES256", SSE_KEY_ID: KMS_ID}, 400, "InvalidArgument", MSG_KMS_NEEDS_HEADER,
     {"ArgumentName": SSE}),
    ("kms-id-without-sse", {SSE_KEY_ID: KMS_ID}, 400, "InvalidArgument", MSG_KMS_NEEDS_HEADER,
     {"ArgumentName": SSE}),
    ("ssec-with-aes256", {SSE: "AES256", **ssec_headers(_C)}, 400, "InvalidArgument", MSG_SSEC_INCOMPATIBLE,
     {"ArgumentName": SSE, "ArgumentValue": "AES256"}),
    ("ssec-with-kms", {SSE: "aws:kms", **ssec_headers(_C)}, 400, "InvalidArgument", MSG_SSEC_INCOMPATIBLE,
     {"ArgumentName": SSE, "ArgumentValue": "aws:kms"}),
    ("ssec-algorithm", {**ssec_headers(_C), SSEC_ALG: "AES128"}, 400, "InvalidEncryptionAlgorithmError",
     MSG_SSEC_ALGORITHM, {"ArgumentName": SSE, "ArgumentValue": "AES128"}),
    ("ssec-no-algorithm", {SSEC_KEY: b64(_C), SSEC_MD5: md5_b64(_C)}, 400, "InvalidArgument",
     MSG_SSEC_NO_ALGORITHM, {"ArgumentName": SSE}),
    ("ssec-no-key", {SSEC_ALG: "AES256"}, 400, "InvalidArgument", MSG_SSEC_NO_KEY, {"ArgumentName": SSE}),
    ("ssec-short-key", ssec_headers(_SHORT), 400, "InvalidArgument", MSG_SSEC_KEY_LENGTH, {"ArgumentName": SSE}),
    ("ssec-long-key", ssec_headers(os.urandom(33)), 400, "InvalidArgument", MSG_SSEC_KEY_LENGTH,
     {"ArgumentName": SSE}),
    ("ssec-md5-mismatch", {**ssec_headers(_C), SSEC_MD5: md5_b64(b"other")}, 400, "InvalidArgument",
     MSG_SSEC_MD5, {"ArgumentName": SSE}),
    ("context-not-base64", {SSE: "aws:kms", SSE_CONTEXT: "{not base64}"}, 400, "InvalidArgument", None, {}),
    ("context-not-json", {SSE: "aws:kms", SSE_CONTEXT: _CTX_NOT_JSON}, 400, "InvalidArgument", None, {}),
    ("kms-unknown-id", {SSE: "aws:kms", SSE_KEY_ID: "fake-key-id"}, 400, "KMS.NotFoundException",
     "Invalid keyId 'fake-key-id'", {}),
    ("kms-unknown-uuid", {SSE: "aws:kms", SSE_KEY_ID: "1234abcd-12ab-34cd-56ef-1234567890ab"}, 400,
     "KMS.NotFoundException", f"Key '{arn('1234abcd-12ab-34cd-56ef-1234567890ab')}' does not exist", {}),
    ("kms-unknown-arn", {SSE: "aws:kms", SSE_KEY_ID: arn("1234abcd-12ab-34cd-56ef-1234567890ab")}, 400,
     "KMS.NotFoundException", f"Key '{arn('1234abcd-12ab-34cd-56ef-1234567890ab')}' does not exist", {}),
    # The key id exists, but in us-east-1: an ARN naming another region is still not found.
    ("kms-other-region-arn",
     {SSE: "aws:kms", SSE_KEY_ID: f"arn:aws:kms:eu-west-1:{DEFAULT_ACCOUNT}:key/{KMS_UUID}"}, 400,
     "KMS.NotFoundException", "Invalid arn eu-west-1", {}),
    ("kms-other-region-arn-unknown-id",
     {SSE: "aws:kms", SSE_KEY_ID: f"arn:aws:kms:eu-west-1:{DEFAULT_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
     400, "KMS.NotFoundException", "Invalid arn eu-west-1", {}),
    ("kms-unknown-alias", {SSE: "aws:kms", SSE_KEY_ID: "alias/no-such-alias"}, 400, "KMS.NotFoundException",
     None, {}),
    ("dsse-unknown-id", {SSE: "aws:kms:dsse", SSE_KEY_ID: "fake-key-id"}, 400, "KMS.NotFoundException",
     "Invalid keyId 'fake-key-id'", {}),
]


@pytest.mark.parametrize("case", WRITE_ERRORS, ids=[c[0] for c in WRITE_ERRORS])
def test_put_validation_stores_nothing(ksrv, kc, kb, case):
    _, headers, status, code, message, fields = case
    kc.put_object(Bucket=kb, Key="existing", Body=b"original body")
    body = b"SHOULD-NOT-BE-STORED" * 100
    for key, old in (("existing", b"original body"), ("fresh", None)):
        r = raw(ksrv, "PUT", kb, key, headers, body)
        err = h.assert_s3_error(r, status, code)
        if message is not None:
            assert err["Message"] == message, err
        for name, value in fields.items():
            assert err.get(name) == value, (name, err)
        assert_unchanged(kc, kb, key, old)


@pytest.mark.parametrize("case", [c for c in WRITE_ERRORS if c[0] in (
    "unknown-sse", "kms-id-with-aes256", "ssec-with-aes256", "ssec-algorithm", "ssec-md5-mismatch",
    "context-not-json", "kms-unknown-id", "kms-unknown-uuid", "kms-other-region-arn",
    "kms-other-region-arn-unknown-id")], ids=lambda c: c[0])
def test_copy_destination_validation_stores_nothing(ksrv, kc, kb, case):
    _, headers, status, code, message, fields = case
    kc.put_object(Bucket=kb, Key="src", Body=b"source body")
    kc.put_object(Bucket=kb, Key="existing", Body=b"original body")
    r = raw(ksrv, "PUT", kb, "existing", {"x-amz-copy-source": f"/{kb}/src", **headers})
    err = h.assert_s3_error(r, status, code)
    if message is not None:
        assert err["Message"] == message, err
    for name, value in fields.items():
        assert err.get(name) == value, (name, err)
    assert_unchanged(kc, kb, "existing", b"original body")


@pytest.mark.parametrize("account", [ALICE[2], "222222222222"])
def test_kms_arn_of_another_account_is_never_replaced_by_the_callers_key(kc, kb, account):
    """An ARN names one key; S3 uses that key or fails, never a same-named key of the caller (§2.4)."""
    named = arn(KMS_ID, account)
    try:
        p = kc.put_object(Bucket=kb, Key="foreign", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=named)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403), e.response
        assert_unchanged(kc, kb, "foreign", None)
        return
    assert p["SSEKMSKeyId"] == named, f"asked for {named}, encrypted under {p['SSEKMSKeyId']}"


def test_kms_not_found_through_boto3(kc, kb):
    with pytest.raises(ClientError) as ei:
        kc.put_object(Bucket=kb, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="fake-key-id")
    err = assert_client_error(ei, "KMS.NotFoundException", 400)
    assert err["Error"]["Message"] == "Invalid keyId 'fake-key-id'"
    assert_unchanged(kc, kb, "k", None)


# -- SSE-C reads (§2.7) ----------------------------------------------------------------------------

@pytest.fixture
def ssec_object(kc, kb):
    key = os.urandom(32)
    body = pattern(SEG + 500, 9)
    kc.put_object(Bucket=kb, Key="secret", Body=body, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    kc.put_object(Bucket=kb, Key="plain", Body=b"plain body")
    kc.put_object(Bucket=kb, Key="kms", Body=b"kms body", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    return kb, key, body


def _ssec_read_cases(key):
    other = os.urandom(32)
    return [
        ("no-key", {}, 400, "InvalidRequest", MSG_SSEC_MISSING),
        ("wrong-key", ssec_headers(other), 403, "AccessDenied", MSG_SSEC_WRONG),
        ("short-key", ssec_headers(_SHORT), 400, "InvalidArgument", MSG_SSEC_KEY_LENGTH),
        ("md5-mismatch", {**ssec_headers(key), SSEC_MD5: md5_b64(other)}, 400, "InvalidArgument", MSG_SSEC_MD5),
        ("algorithm", {**ssec_headers(key), SSEC_ALG: "AES128"}, 400, "InvalidEncryptionAlgorithmError",
         MSG_SSEC_ALGORITHM),
        ("no-algorithm", {SSEC_KEY: b64(key), SSEC_MD5: md5_b64(key)}, 400, "InvalidArgument",
         MSG_SSEC_NO_ALGORITHM),
    ]


def test_ssec_get_and_head_errors(ksrv, ssec_object):
    bucket, key, body = ssec_object
    for name, headers, status, code, message in _ssec_read_cases(key):
        r = raw(ksrv, "GET", bucket, "secret", headers)
        err = h.assert_s3_error(r, status, code)
        assert err["Message"] == message, (name, err)
        hd = raw(ksrv, "HEAD", bucket, "secret", headers)
        assert hd.status == status, (name, hd.status)
        assert hd.data == b"", name
        # A range read is refused the same way, before any byte is decrypted.
        r = raw(ksrv, "GET", bucket, "secret", {**headers, "Range": "bytes=0-10"})
        h.assert_s3_error(r, status, code)
    ok = raw(ksrv, "GET", bucket, "secret", ssec_headers(key))
    assert ok.status == 200 and ok.data == body
    assert raw_sse_headers(ok) == {SSEC_ALG: "AES256", SSEC_MD5.lower(): md5_b64(key)}


def test_ssec_errors_through_boto3(kc, ssec_object):
    bucket, key, _ = ssec_object
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=bucket, Key="secret")
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(32))
    assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        kc.head_object(Bucket=bucket, Key="secret")
    assert_client_error(ei, None, 400)
    with pytest.raises(ClientError) as ei:
        kc.head_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(32))
    assert_client_error(ei, None, 403)
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(16))
    assert_client_error(ei, "InvalidArgument", 400)


@pytest.mark.parametrize("target", ["plain", "kms"])
def test_ssec_headers_on_a_non_ssec_object(ksrv, kc, ssec_object, target):
    bucket, key, _ = ssec_object
    r = raw(ksrv, "GET", bucket, target, ssec_headers(key))
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "The encryption parameters are not applicable to this object.", err
    hd = raw(ksrv, "HEAD", bucket, target, ssec_headers(key))
    assert hd.status == 400 and hd.data == b""
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=bucket, Key=target, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert_client_error(ei, "InvalidRequest", 400)


def test_ssec_overwrite_with_another_key(kc, kb):
    k1, k2 = os.urandom(32), os.urandom(32)
    kc.put_object(Bucket=kb, Key="o", Body=b"one", SSECustomerAlgorithm="AES256", SSECustomerKey=k1)
    kc.put_object(Bucket=kb, Key="o", Body=b"two", SSECustomerAlgorithm="AES256", SSECustomerKey=k2)
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=kb, Key="o", SSECustomerAlgorithm="AES256", SSECustomerKey=k1)
    assert_client_error(ei, "AccessDenied", 403)
    g = kc.get_object(Bucket=kb, Key="o", SSECustomerAlgorithm="AES256", SSECustomerKey=k2)
    assert g["Body"].read() == b"two"


# -- CopyObject ------------------------------------------------------------------------------------

def test_copy_ssec_source_needs_its_key(ksrv, kc, ssec_object):
    bucket, key, body = ssec_object
    kc.put_object(Bucket=bucket, Key="dest", Body=b"old dest")
    src = {"Bucket": bucket, "Key": "secret"}
    with pytest.raises(ClientError) as ei:
        kc.copy_object(Bucket=bucket, Key="dest", CopySource=src)
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        kc.copy_object(Bucket=bucket, Key="dest", CopySource=src,
                       CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=os.urandom(32))
    assert_client_error(ei, "AccessDenied", 403)
    # The source key in the destination headers does not open the source.
    with pytest.raises(ClientError) as ei:
        kc.copy_object(Bucket=bucket, Key="dest", CopySource=src, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert_client_error(ei, "InvalidRequest", 400)
    # Raw: exact codes for malformed copy-source SSE-C headers.
    copy = {"x-amz-copy-source": f"/{bucket}/secret"}
    prefix = "x-amz-copy-source-server-side-encryption-customer-"
    r = raw(ksrv, "PUT", bucket, "dest", {**copy, **ssec_headers(_SHORT, prefix)})
    h.assert_s3_error(r, 400, "InvalidArgument")
    r = raw(ksrv, "PUT", bucket, "dest", {**copy, **ssec_headers(key, prefix), SRC_SSEC_MD5: md5_b64(b"x")})
    h.assert_s3_error(r, 400, "InvalidArgument")
    r = raw(ksrv, "PUT", bucket, "dest", {**copy, **ssec_headers(key, prefix), SRC_SSEC_ALG: "AES128"})
    h.assert_s3_error(r, 400, "InvalidEncryptionAlgorithmError")
    # Copy-source SSE-C headers for a source that is not SSE-C.
    r = raw(ksrv, "PUT", bucket, "dest", {"x-amz-copy-source": f"/{bucket}/plain", **ssec_headers(key, prefix)})
    h.assert_s3_error(r, 400, "InvalidRequest")
    assert_unchanged(kc, bucket, "dest", b"old dest")


def test_copy_ssec_to_every_mode(kc, ssec_object):
    bucket, key, body = ssec_object
    src = {"Bucket": bucket, "Key": "secret"}
    skw = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}

    # No destination SSE: SSE-S3, readable without any key, ETag = MD5 again.
    c = kc.copy_object(Bucket=bucket, Key="to-s3", CopySource=src, **skw)
    assert sse_headers(c) == expect_s3("AES256")
    assert c["CopyObjectResult"]["ETag"] == quoted_md5(body)
    g = kc.get_object(Bucket=bucket, Key="to-s3")
    assert g["Body"].read() == body and sse_headers(g) == expect_s3("AES256")

    c = kc.copy_object(Bucket=bucket, Key="to-kms", CopySource=src, ServerSideEncryption="aws:kms",
                       SSEKMSKeyId=KMS_ID, BucketKeyEnabled=True, **skw)
    want = expect_s3("aws:kms", arn(KMS_ID), bucket_key=True)
    assert sse_headers(c) == want
    assert c["CopyObjectResult"]["ETag"] != quoted_md5(body)
    g = kc.get_object(Bucket=bucket, Key="to-kms")
    assert g["Body"].read() == body and sse_headers(g) == want
    assert g["ETag"] == c["CopyObjectResult"]["ETag"]

    c = kc.copy_object(Bucket=bucket, Key="to-dsse", CopySource=src, ServerSideEncryption="aws:kms:dsse",
                       SSEKMSKeyId=KMS_UUID, **skw)
    assert sse_headers(c) == expect_s3("aws:kms:dsse", arn(KMS_UUID))
    assert kc.get_object(Bucket=bucket, Key="to-dsse")["Body"].read() == body

    new = os.urandom(32)
    c = kc.copy_object(Bucket=bucket, Key="to-ssec", CopySource=src, SSECustomerAlgorithm="AES256",
                       SSECustomerKey=new, **skw)
    assert sse_headers(c) == expect_s3("SSE-C", customer_key=new)
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=bucket, Key="to-ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert_client_error(ei, "AccessDenied", 403)
    g = kc.get_object(Bucket=bucket, Key="to-ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=new,
                      Range="bytes=65530-65545")
    assert g["Body"].read() == body[65530:65546]
    # The source is untouched and still needs its own key.
    g = kc.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert g["Body"].read() == body


def test_copy_kms_source_to_default_and_to_ssec(kc, kb):
    body = pattern(2 * SEG + 1, 10)
    kc.put_object(Bucket=kb, Key="k", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID,
                  BucketKeyEnabled=True)
    c = kc.copy_object(Bucket=kb, Key="plain", CopySource={"Bucket": kb, "Key": "k"})
    assert sse_headers(c) == expect_s3("AES256"), "a copy without SSE headers gets the bucket default, not the source's"
    assert c["CopyObjectResult"]["ETag"] == quoted_md5(body)
    hd = kc.head_object(Bucket=kb, Key="plain")
    assert sse_headers(hd) == expect_s3("AES256")
    ck = os.urandom(32)
    c = kc.copy_object(Bucket=kb, Key="c", CopySource={"Bucket": kb, "Key": "k"},
                       SSECustomerAlgorithm="AES256", SSECustomerKey=ck)
    assert sse_headers(c) == expect_s3("SSE-C", customer_key=ck)
    with pytest.raises(ClientError) as ei:
        kc.get_object(Bucket=kb, Key="c")
    assert_client_error(ei, "InvalidRequest", 400)
    assert kc.get_object(Bucket=kb, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=ck)["Body"].read() == body


def test_copy_in_place_changes_the_mode(kc, kb):
    body = pattern(SEG + 3, 11)
    kc.put_object(Bucket=kb, Key="o", Body=body)
    here = {"Bucket": kb, "Key": "o"}
    # A copy onto itself that changes nothing is refused (pre-existing rule); with SSE it is a change.
    with pytest.raises(ClientError) as ei:
        kc.copy_object(Bucket=kb, Key="o", CopySource=here)
    assert_client_error(ei, "InvalidRequest", 400)

    c = kc.copy_object(Bucket=kb, Key="o", CopySource=here, ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    assert sse_headers(c) == expect_s3("aws:kms", arn(KMS_ID))
    hd = kc.head_object(Bucket=kb, Key="o")
    assert sse_headers(hd) == expect_s3("aws:kms", arn(KMS_ID))
    assert kc.get_object(Bucket=kb, Key="o")["Body"].read() == body

    ck = os.urandom(32)
    c = kc.copy_object(Bucket=kb, Key="o", CopySource=here, SSECustomerAlgorithm="AES256", SSECustomerKey=ck)
    assert sse_headers(c) == expect_s3("SSE-C", customer_key=ck)
    with pytest.raises(ClientError) as ei:
        kc.head_object(Bucket=kb, Key="o")
    assert_client_error(ei, None, 400)

    c = kc.copy_object(Bucket=kb, Key="o", CopySource=here, ServerSideEncryption="AES256",
                       CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=ck)
    assert sse_headers(c) == expect_s3("AES256")
    g = kc.get_object(Bucket=kb, Key="o")
    assert g["Body"].read() == body and g["ETag"] == quoted_md5(body)


def test_copy_with_unknown_kms_key_keeps_the_destination(kc, kb):
    kc.put_object(Bucket=kb, Key="src", Body=b"src")
    kc.put_object(Bucket=kb, Key="existing", Body=b"original body")
    with pytest.raises(ClientError) as ei:
        kc.copy_object(Bucket=kb, Key="existing", CopySource={"Bucket": kb, "Key": "src"},
                       ServerSideEncryption="aws:kms", SSEKMSKeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    err = assert_client_error(ei, "KMS.NotFoundException", 400)
    assert err["Error"]["Message"] == (
        f"Key '{arn('1234abcd-12ab-34cd-56ef-1234567890ab')}' does not exist")
    assert_unchanged(kc, kb, "existing", b"original body")


# -- aws CLI ---------------------------------------------------------------------------------------

def test_aws_cli_sse_options(aws_cli, ksrv, kc, kb, tmp_path):
    def ok(res):
        assert res.rc == 0, res
        return res

    data = pattern(3 * SEG + 77, 12)
    src = tmp_path / "data.bin"
    src.write_bytes(data)
    key_file = tmp_path / "key.bin"
    ckey = os.urandom(32)
    key_file.write_bytes(ckey)

    ok(aws_cli("s3", "cp", str(src), f"s3://{kb}/aes", "--sse", "AES256", srv=ksrv))
    hd = kc.head_object(Bucket=kb, Key="aes")
    assert sse_headers(hd) == expect_s3("AES256") and hd["ETag"] == quoted_md5(data)

    ok(aws_cli("s3", "cp", str(src), f"s3://{kb}/kms", "--sse", "aws:kms", "--sse-kms-key-id", KMS_ID, srv=ksrv))
    r = ok(aws_cli("s3api", "head-object", "--bucket", kb, "--key", "kms", srv=ksrv))
    out = json.loads(r.stdout)
    assert out["ServerSideEncryption"] == "aws:kms" and out["SSEKMSKeyId"] == arn(KMS_ID), out
    assert out["ContentLength"] == len(data)

    ok(aws_cli("s3", "cp", str(src), f"s3://{kb}/ssec", "--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}",
               srv=ksrv))
    hd = kc.head_object(Bucket=kb, Key="ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=ckey)
    assert sse_headers(hd) == expect_s3("SSE-C", customer_key=ckey)
    dst = tmp_path / "down.bin"
    ok(aws_cli("s3", "cp", f"s3://{kb}/ssec", str(dst), "--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}",
               srv=ksrv))
    assert dst.read_bytes() == data

    r = ok(aws_cli("s3api", "put-object", "--bucket", kb, "--key", "dsse", "--body", str(src),
                   "--server-side-encryption", "aws:kms:dsse", srv=ksrv))
    out = json.loads(r.stdout)
    assert out["ServerSideEncryption"] == "aws:kms:dsse", out
    assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", out["SSEKMSKeyId"]), out
    g = kc.get_object(Bucket=kb, Key="dsse")
    assert g["Body"].read() == data and g["ServerSideEncryption"] == "aws:kms:dsse"
    assert kc.get_object(Bucket=kb, Key="kms")["Body"].read() == data
