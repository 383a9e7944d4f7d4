"""Constants, helpers and fixtures of the multipart tests (test_multipart*.py), which cover:

Multipart uploads (issue 7), what clients see: CreateMultipartUpload, UploadPart,
UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads,
GetObject/HeadObject of parts and ranges of multipart objects, multipart ETags and checksums
(COMPOSITE and FULL_OBJECT), multipart uploads under every SSE mode, and the real transfer
managers: `aws s3 cp` (100 MiB) and boto3's upload_file/download_file.

Every ETag and checksum is computed here from the bytes sent and compared exactly.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

import pytest
from awscrt import checksums as crt_checksums

import s3helpers as h
from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name


KiB = 1024
MiB = 1024 * 1024
PART = 5 * MiB  # S3's minimum size of every part but the last
REGION = "us-east-1"

KMS_ID = "testkey-1"
KMS_UUID = "5d0c8a4e-6f1b-4c2d-9e3f-0a1b2c3d4e5f"
KMS_ALIAS = "alias/sealstore-mp"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

SSE = "x-amz-server-side-encryption"
SSE_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
SSEC_ALG = "x-amz-server-side-encryption-customer-algorithm"
SSEC_MD5 = "x-amz-server-side-encryption-customer-key-md5"

CKEY = b"0123456789abcdef0123456789ABCDEF"  # a 32-byte SSE-C key (also usable on the CLI)
CKEY2 = b"fedcba9876543210FEDCBA9876543210"

MSG_COMPOSITE_CRC64 = "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."
MSG_TYPE_MISMATCH = "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32"


# -- data and digests ----------------------------------------------------------------------------

_POOL: dict[str, bytes] = {}


def pool() -> bytes:
    """100 MiB + 1 MiB of random bytes, generated once; every body is a slice of it."""
    if "p" not in _POOL:
        _POOL["p"] = os.urandom(101 * MiB)
    return _POOL["p"]


def data(n: int, offset: int = 0) -> bytes:
    """``n`` random bytes (distinct offsets give distinct bodies)."""
    p = pool()
    assert offset + n <= len(p)
    return p[offset:offset + n]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def md5_b64(raw: bytes) -> str:
    return b64(hashlib.md5(raw).digest())


def quoted_md5(raw: bytes) -> str:
    return '"' + hashlib.md5(raw).hexdigest() + '"'


def mpu_etag(parts: list[bytes]) -> str:
    """S3's multipart ETag: MD5 of the concatenated binary part MD5s, then ``-<parts>``."""
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def mpu_etag_of_part_etags(etags: list[str]) -> str:
    joined = b"".join(bytes.fromhex(e.strip('"')) for e in etags)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(etags)}"'


def raw_checksum(alg: str, body: bytes) -> bytes:
    if alg == "CRC32":
        return zlib.crc32(body).to_bytes(4, "big")
    if alg == "CRC32C":
        return crt_checksums.crc32c(body).to_bytes(4, "big")
    if alg == "CRC64NVME":
        return crt_checksums.crc64nvme(body).to_bytes(8, "big")
    if alg == "SHA1":
        return hashlib.sha1(body).digest()
    if alg == "SHA256":
        return hashlib.sha256(body).digest()
    raise AssertionError(alg)


def checksum(alg: str, body: bytes) -> str:
    return b64(raw_checksum(alg, body))


def composite(alg: str, parts: list[bytes]) -> str:
    """S3's COMPOSITE checksum: the algorithm over the concatenated raw part checksums, ``-N``."""
    return checksum(alg, b"".join(raw_checksum(alg, p) for p in parts)) + f"-{len(parts)}"


def arn(key_id: str, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:kms:{REGION}:{account}:key/{key_id}"


def headers_of(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def sse_headers(resp) -> dict:
    return {k: v for k, v in headers_of(resp).items() if k.startswith(SSE)}


def status_of(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def ssec(key: bytes = CKEY) -> dict:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def blob_count(srv, expect: int | None = None) -> int:
    return len(h.blob_files(srv.data_dir, expect))


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def msrv(server_factory):
    """An on-disk server of this module (its blob files are counted) with declared KMS keys."""
    srv = server_factory.start("--user", ":".join(ALICE), "--kms-key", KMS_ID, "--kms-key", KMS_UUID, "--kms-key", KMS_ALIAS)
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture(scope="module")
def mc(msrv):
    return msrv.client(read_timeout=120)


@pytest.fixture(scope="module")
def mc_plain(msrv):
    """A client that adds no flexible checksum of its own (botocore's ``when_required``)."""
    return msrv.client(read_timeout=120, request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")


def unblock_ssec(client, name, rule=None):
    """S3 blocks SSE-C on new buckets; tests that use it unblock it as users must."""
    default = rule or {"SSEAlgorithm": "AES256"}
    client.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": default,
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]},
        }]},
    )


def new_bucket(client, prefix="mp", allow_ssec=True):
    name = unique_bucket_name(prefix)
    client.create_bucket(Bucket=name)
    if allow_ssec:
        unblock_ssec(client, name)
    return name


@pytest.fixture
def mb(mc):
    """A fresh bucket of the module's server, SSE-C unblocked."""
    name = new_bucket(mc)
    yield name
    empty_and_delete(mc, name)


@pytest.fixture(scope="module")
def shared_bucket(mc):
    name = new_bucket(mc, "mps")
    yield name
    empty_and_delete(mc, name)


def raw(srv, method, bucket, key, headers=None, body=b"", params=None):
    """A SigV4-signed raw request (every header exactly as given)."""
    return h.signed(method, h.url_for(srv.url, bucket, key, params), headers or {}, body)


def create(client, bucket, key, **kw):
    return client.create_multipart_upload(Bucket=bucket, Key=key, **kw)


def put_parts(client, bucket, key, upload_id, parts, first=1, **kw):
    """Uploads ``parts`` as part numbers first, first+1, ...; returns the responses."""
    return [client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=first + i, Body=p, **kw)
            for i, p in enumerate(parts)]


def part_list(responses, numbers=None, checksum_alg: str | None = None):
    out = []
    for i, r in enumerate(responses):
        e = {"PartNumber": numbers[i] if numbers else i + 1, "ETag": r["ETag"]}
        if checksum_alg:
            e[f"Checksum{checksum_alg}"] = r[f"Checksum{checksum_alg}"]
        out.append(e)
    return out


def complete(client, bucket, key, upload_id, parts, **kw):
    return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                            MultipartUpload={"Parts": parts}, **kw)


def multipart(client, bucket, key, parts, create_kw=None, part_kw=None, complete_kw=None, checksum_alg=None):
    """Create, upload every part, complete; returns (upload_id, part responses, complete response)."""
    up = create(client, bucket, key, **(create_kw or {}))
    uid = up["UploadId"]
    rs = put_parts(client, bucket, key, uid, parts, **(part_kw or {}))
    c = complete(client, bucket, key, uid, part_list(rs, checksum_alg=checksum_alg), **(complete_kw or {}))
    return uid, rs, c


def assert_no_such_upload(exc_info, upload_id=None):
    e = assert_client_error(exc_info, "NoSuchUpload", 404)
    if upload_id is not None and "UploadId" in e["Error"]:
        assert e["Error"]["UploadId"] == upload_id


# ================================================================================================
# Transfer managers: aws s3 cp (100 MiB) and boto3 upload_file/download_file
# ================================================================================================

def ok(res):
    assert res.rc == 0, res
    return res
