"""Constants, helpers and fixtures of the encryption tests (test_encryption*.py), which cover:

Encryption at rest (issue 5), what clients see: the SSE modes on PutObject, CopyObject,
GetObject and HeadObject (response headers, ETags, ranges), S3's validation of the SSE request
headers, KMS key resolution and KMS.NotFoundException, SSE-C reads and copies, and the aws CLI's
--sse / --sse-c options.  Reference: shared/docs/s3-encryption-reference.md §2.

What is stored on disk, restarts, the master key, rotation and bucket keys are in
test_encryption_keys.py.
"""

from __future__ import annotations

import base64
import hashlib
import os

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


_SHORT = os.urandom(16)


# -- SSE-C reads (§2.7) ----------------------------------------------------------------------------

@pytest.fixture
def ssec_object(kc, kb):
    key = os.urandom(32)
    body = pattern(SEG + 500, 9)
    kc.put_object(Bucket=kb, Key="secret", Body=body, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    kc.put_object(Bucket=kb, Key="plain", Body=b"plain body")
    kc.put_object(Bucket=kb, Key="kms", Body=b"kms body", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    return kb, key, body
