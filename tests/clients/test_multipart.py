"""Multipart uploads (issue 7), what clients see: CreateMultipartUpload, UploadPart,
UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads,
GetObject/HeadObject of parts and ranges of multipart objects, multipart ETags and checksums
(COMPOSITE and FULL_OBJECT), multipart uploads under every SSE mode, and the real transfer
managers: `aws s3 cp` (100 MiB) and boto3's upload_file/download_file.

Every ETag and checksum is computed here from the bytes sent and compared exactly.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import zlib

import pytest
from awscrt import checksums as crt_checksums
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

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
# CreateMultipartUpload
# ================================================================================================

def test_create_returns_ids_and_object_gets_the_metadata(mc, mb):
    up = create(mc, mb, "docs/report.txt", ContentType="text/x-report", Metadata={"owner": "me", "Tag": "v1"},
                CacheControl="max-age=60", ContentDisposition="attachment", ContentLanguage="de")
    assert status_of(up) == 200
    assert up["Bucket"] == mb and up["Key"] == "docs/report.txt"
    assert re.fullmatch(r"[0-9A-Za-z._-]{16,}", up["UploadId"]), up["UploadId"]
    assert sse_headers(up) == {SSE: "AES256"}  # the bucket's default rule
    assert "ChecksumAlgorithm" not in up and "x-amz-checksum-algorithm" not in headers_of(up)
    p = [data(PART), data(100, PART)]
    rs = put_parts(mc, mb, "docs/report.txt", up["UploadId"], p)
    c = complete(mc, mb, "docs/report.txt", up["UploadId"], part_list(rs))
    assert c["Bucket"] == mb and c["Key"] == "docs/report.txt"
    assert c["ETag"] == mpu_etag(p)
    assert c["Location"].endswith(f"/{mb}/docs/report.txt"), c["Location"]
    assert c["ServerSideEncryption"] == "AES256"
    hd = mc.head_object(Bucket=mb, Key="docs/report.txt")
    assert hd["ContentType"] == "text/x-report"
    assert hd["Metadata"] == {"owner": "me", "tag": "v1"}
    assert hd["CacheControl"] == "max-age=60"
    assert hd["ContentDisposition"] == "attachment"
    assert hd["ContentLanguage"] == "de"
    assert hd["ContentLength"] == PART + 100
    assert hd["ETag"] == mpu_etag(p)
    assert hd["ServerSideEncryption"] == "AES256"
    assert "PartsCount" not in hd
    g = mc.get_object(Bucket=mb, Key="docs/report.txt", Range=f"bytes={PART - 100}-")
    assert g["Body"].read() == b"".join(p)[PART - 100:]
    assert g["ContentType"] == "text/x-report" and g["ETag"] == mpu_etag(p)
    listed = mc.list_objects_v2(Bucket=mb)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("docs/report.txt", PART + 100, mpu_etag(p))]


def test_create_in_missing_bucket(mc):
    with pytest.raises(ClientError) as ei:
        create(mc, unique_bucket_name("missing"), "k")
    assert_client_error(ei, "NoSuchBucket", 404)


@pytest.mark.parametrize("alg,default_type", [
    ("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"), ("CRC64NVME", "FULL_OBJECT"),
    ("SHA1", "COMPOSITE"), ("SHA256", "COMPOSITE"),
])
def test_create_checksum_algorithm_default_type(mc, shared_bucket, alg, default_type):
    up = create(mc, shared_bucket, f"ck-default-{alg}", ChecksumAlgorithm=alg)
    try:
        assert up["ChecksumAlgorithm"] == alg
        assert up["ChecksumType"] == default_type
        hdrs = headers_of(up)
        assert hdrs["x-amz-checksum-algorithm"] == alg and hdrs["x-amz-checksum-type"] == default_type
        lp = mc.list_parts(Bucket=shared_bucket, Key=f"ck-default-{alg}", UploadId=up["UploadId"])
        assert lp["ChecksumAlgorithm"] == alg
        assert lp.get("Parts", []) == []
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=f"ck-default-{alg}", UploadId=up["UploadId"])


@pytest.mark.parametrize("alg,kind", [
    ("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT"),
    ("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"), ("SHA1", "COMPOSITE"), ("SHA256", "COMPOSITE"),
])
def test_create_checksum_type_explicit(mc, shared_bucket, alg, kind):
    up = create(mc, shared_bucket, "ck-explicit", ChecksumAlgorithm=alg, ChecksumType=kind)
    mc.abort_multipart_upload(Bucket=shared_bucket, Key="ck-explicit", UploadId=up["UploadId"])
    assert up["ChecksumAlgorithm"] == alg and up["ChecksumType"] == kind


@pytest.mark.parametrize("kw,message", [
    ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, MSG_COMPOSITE_CRC64),
    ({"ChecksumAlgorithm": "SHA1", "ChecksumType": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."),
    ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
    ({"ChecksumType": "FULL_OBJECT"}, None),
    ({"ChecksumType": "COMPOSITE"}, None),
], ids=["composite-crc64nvme", "full-object-sha1", "full-object-sha256", "full-object-alone", "composite-alone"])
def test_create_checksum_invalid_combinations(mc, shared_bucket, kw, message):
    with pytest.raises(ClientError) as ei:
        create(mc, shared_bucket, "ck-bad", **kw)
    e = assert_client_error(ei, "InvalidRequest", 400)
    if message:
        assert e["Error"]["Message"] == message
    assert mc.list_multipart_uploads(Bucket=shared_bucket, Prefix="ck-bad").get("Uploads", []) == []


def _finish_one_part(client, bucket, key, uid, extra=None):
    p = [data(3 * KiB, 9)]
    rs = put_parts(client, bucket, key, uid, p, **(extra or {}))
    c = complete(client, bucket, key, uid, part_list(rs), **(extra or {}))
    return p, rs, c


SSE_MODES = {
    # mode: (create kwargs, expected SSE headers (None: the alias's key), two 5 MiB+ parts?)
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {SSE: "AES256"}, False),
    "kms-id": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID},
               {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID)}, True),
    "kms-arn": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": arn(KMS_UUID)},
                {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}, False),
    "kms-alias": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ALIAS}, None, False),
    "kms-bucket-key": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID, "BucketKeyEnabled": True},
                       {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}, False),
    "dsse": ({"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_ID},
             {SSE: "aws:kms:dsse", SSE_KEY_ID: arn(KMS_ID)}, False),
    "ssec": (ssec(), {SSEC_ALG: "AES256", SSEC_MD5: md5_b64(CKEY)}, True),
}


@pytest.mark.parametrize("mode", list(SSE_MODES))
def test_create_sse_modes_and_the_parts_and_object_report_them(mc, mb, mode):
    kw, want, big = SSE_MODES[mode]
    key = f"sse-{mode}"
    part_extra = ssec() if mode == "ssec" else {}
    read_kw = part_extra
    up = create(mc, mb, key, **kw)
    got = sse_headers(up)
    if want is None:
        assert got[SSE] == "aws:kms"
        assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", got[SSE_KEY_ID]), got
        assert got[SSE_KEY_ID] not in (arn(KMS_ID), arn(KMS_UUID))
        want = got
    assert got == want
    uid = up["UploadId"]
    p = [data(PART + 17, 11), data(70000, 13)] if big else [data(3 * KiB, 11)]
    whole = b"".join(p)
    rs = put_parts(mc, mb, key, uid, p, **part_extra)
    for r, body in zip(rs, p):
        assert sse_headers(r) == want
        if mode == "sse-s3":
            assert r["ETag"] == quoted_md5(body)
        else:
            assert re.fullmatch(r'"[0-9a-f]{32}"', r["ETag"]) and r["ETag"] != quoted_md5(body), r["ETag"]
    c = complete(mc, mb, key, uid, part_list(rs))
    if mode == "ssec":
        # S3 answers an SSE-C Complete without any SSE header.
        assert sse_headers(c) == {}
        assert "SSECustomerAlgorithm" not in c
    else:
        assert sse_headers(c) == want
    if mode == "sse-s3":
        assert c["ETag"] == mpu_etag(p)
        assert c["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)
        assert c["ChecksumType"] == "FULL_OBJECT"
    else:
        assert re.fullmatch(rf'"[0-9a-f]{{32}}-{len(p)}"', c["ETag"]) and c["ETag"] != mpu_etag(p), c["ETag"]
        assert c["ETag"] == mpu_etag_of_part_etags([r["ETag"] for r in rs])
    if mode in ("kms-id", "kms-arn", "kms-alias", "kms-bucket-key", "dsse"):
        # S3 leaves every checksum out of a KMS object's Complete response.
        assert not [k for k in c if k.startswith("Checksum")], c
        assert not [k for k in headers_of(c) if k.startswith("x-amz-checksum")]
    hd = mc.head_object(Bucket=mb, Key=key, **read_kw)
    assert sse_headers(hd) == want
    assert hd["ETag"] == c["ETag"] and hd["ContentLength"] == len(whole)
    if big:
        # Part GETs and ranges across the part boundary decrypt exactly the right bytes.
        g = mc.get_object(Bucket=mb, Key=key, PartNumber=2, **read_kw)
        assert status_of(g) == 206 and g["PartsCount"] == 2
        assert g["ContentRange"] == f"bytes {len(p[0])}-{len(whole) - 1}/{len(whole)}"
        assert g["Body"].read() == p[1]
        assert sse_headers(g) == want
        for a, b in ((len(p[0]) - 5, len(p[0]) + 5), (len(p[0]) - 70000, len(whole) - 1), (0, 99)):
            g = mc.get_object(Bucket=mb, Key=key, Range=f"bytes={a}-{b}", **read_kw)
            assert g["Body"].read() == whole[a:b + 1], (a, b)
    else:
        g = mc.get_object(Bucket=mb, Key=key, **read_kw)
        assert g["Body"].read() == whole
        assert sse_headers(g) == want
    if mode == "ssec":
        with pytest.raises(ClientError) as ei:
            mc.get_object(Bucket=mb, Key=key)
        assert_client_error(ei, "InvalidRequest", 400)
        with pytest.raises(ClientError) as ei:
            mc.get_object(Bucket=mb, Key=key, PartNumber=1, **ssec(CKEY2))
        assert_client_error(ei, "AccessDenied", 403)


def test_create_uses_the_bucket_default_kms_rule(mc):
    name = unique_bucket_name("mpkms")
    mc.create_bucket(Bucket=name)
    try:
        mc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_ID},
            "BucketKeyEnabled": True,
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]},
        }]})
        want = {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
        up = create(mc, name, "by-rule")
        assert sse_headers(up) == want
        p, rs, c = _finish_one_part(mc, name, "by-rule", up["UploadId"])
        assert sse_headers(rs[0]) == want and sse_headers(c) == want
        hd = mc.head_object(Bucket=name, Key="by-rule")
        assert sse_headers(hd) == want
        assert mc.get_object(Bucket=name, Key="by-rule")["Body"].read() == b"".join(p)
        # An explicit AES256 wins over the rule.
        up = create(mc, name, "explicit", ServerSideEncryption="AES256")
        assert sse_headers(up) == {SSE: "AES256"}
        p, rs, c = _finish_one_part(mc, name, "explicit", up["UploadId"])
        assert c["ETag"] == mpu_etag(p)
        assert sse_headers(mc.head_object(Bucket=name, Key="explicit")) == {SSE: "AES256"}
    finally:
        empty_and_delete(mc, name)


def test_create_ssec_refused_by_a_bucket_that_blocks_it(mc):
    name = new_bucket(mc, "mpblock", allow_ssec=False)
    try:
        with pytest.raises(ClientError) as ei:
            create(mc, name, "k", **ssec())
        assert_client_error(ei, "AccessDenied", 403)
        assert mc.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        # Other modes are still fine.
        up = create(mc, name, "k")
        mc.abort_multipart_upload(Bucket=name, Key="k", UploadId=up["UploadId"])
    finally:
        empty_and_delete(mc, name)


def test_create_unknown_kms_key(mc, mb):
    with pytest.raises(ClientError) as ei:
        create(mc, mb, "k", ServerSideEncryption="aws:kms", SSEKMSKeyId="no-such-key")
    assert_client_error(ei, "KMS.NotFoundException", 400)
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []


# ================================================================================================
# UploadPart
# ================================================================================================

@pytest.mark.parametrize("number", ["0", "10001", "-1", "abc", ""])
def test_upload_part_number_out_of_range(msrv, mc, shared_bucket, number):
    uid = create(mc, shared_bucket, "pn")["UploadId"]
    try:
        r = raw(msrv, "PUT", shared_bucket, "pn", body=b"x", params={"partNumber": number, "uploadId": uid})
        e = h.assert_s3_error(r, 400, "InvalidArgument")
        assert e.get("ArgumentName") == "partNumber"
        assert mc.list_parts(Bucket=shared_bucket, Key="pn", UploadId=uid).get("Parts", []) == []
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="pn", UploadId=uid)


def test_upload_part_number_limits_accepted(mc, shared_bucket):
    uid = create(mc, shared_bucket, "pn-ok")["UploadId"]
    try:
        for n in (1, 10000):
            mc.upload_part(Bucket=shared_bucket, Key="pn-ok", UploadId=uid, PartNumber=n, Body=b"n%d" % n)
        lp = mc.list_parts(Bucket=shared_bucket, Key="pn-ok", UploadId=uid)
        assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 2), (10000, 6)]
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="pn-ok", UploadId=uid)


def test_upload_part_unknown_upload(msrv, mc, shared_bucket):
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=shared_bucket, Key="k", UploadId="no-such-upload", PartNumber=1, Body=b"x")
    assert_no_such_upload(ei)
    # An upload id of another key is unknown for this key.
    uid = create(mc, shared_bucket, "other-key")["UploadId"]
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
        assert_no_such_upload(ei)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="other-key", UploadId=uid)


def test_upload_part_content_md5(msrv, mc, mc_plain, shared_bucket):
    key = "md5"
    uid = create(mc, shared_bucket, key)["UploadId"]
    body = data(1000, 3)
    params = {"partNumber": "1", "uploadId": uid}
    try:
        for bad in ("not base64!", b64(b"short")):
            r = raw(msrv, "PUT", shared_bucket, key, {"Content-MD5": bad}, body, params)
            h.assert_s3_error(r, 400, "InvalidDigest")
        r = raw(msrv, "PUT", shared_bucket, key, {"Content-MD5": md5_b64(b"other")}, body, params)
        h.assert_s3_error(r, 400, "BadDigest")
        with pytest.raises(ClientError) as ei:
            mc_plain.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                                 ContentMD5=md5_b64(body[:-1]))
        assert_client_error(ei, "BadDigest", 400)
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        ok = mc_plain.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                                  ContentMD5=md5_b64(body))
        assert ok["ETag"] == quoted_md5(body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_upload_part_checksum_verified(mc, shared_bucket, alg):
    key = f"ck-part-{alg}"
    uid = create(mc, shared_bucket, key, ChecksumAlgorithm=alg)["UploadId"]
    body = data(70 * KiB, 5)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           **{f"Checksum{alg}": checksum(alg, body + b"!")})
        assert_client_error(ei, "BadDigest", 400)
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        # botocore computes it: the right one is accepted and echoed.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == checksum(alg, body)
        assert headers_of(r)[f"x-amz-checksum-{alg.lower()}"] == checksum(alg, body)
        assert r["ETag"] == quoted_md5(body)
        # A client-supplied correct value is accepted too.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=2, Body=body[:10],
                           **{f"Checksum{alg}": checksum(alg, body[:10])})
        assert r[f"Checksum{alg}"] == checksum(alg, body[:10])
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_checksum_mismatch_without_upload_algorithm(mc, shared_bucket):
    key = "ck-none"
    uid = create(mc, shared_bucket, key)["UploadId"]
    body = data(4 * KiB, 17)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumCRC32=checksum("CRC32", b"x" + body))
        assert_client_error(ei, "BadDigest", 400)
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumSHA256=checksum("SHA256", b"x" + body))
        assert_client_error(ei, "BadDigest", 400)
        # Any algorithm is fine for an upload created without one; it is echoed.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm="SHA1")
        assert r["ChecksumSHA1"] == checksum("SHA1", body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_checksum_of_another_algorithm(msrv, mc, shared_bucket):
    key = "ck-other"
    uid = create(mc, shared_bucket, key, ChecksumAlgorithm="SHA256")["UploadId"]
    body = data(2 * KiB, 19)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm="CRC32")
        e = assert_client_error(ei, "InvalidRequest", 400)
        assert e["Error"]["Message"] == MSG_TYPE_MISMATCH
        r = raw(msrv, "PUT", shared_bucket, key, {"x-amz-checksum-crc32": checksum("CRC32", body)}, body,
                {"partNumber": "1", "uploadId": uid})
        e = h.assert_s3_error(r, 400, "InvalidRequest")
        assert e["Message"] == MSG_TYPE_MISMATCH
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        # No checksum at all is fine: the server computes the upload's algorithm.
        r = raw(msrv, "PUT", shared_bucket, key, {}, body, {"partNumber": "1", "uploadId": uid})
        assert r.status == 200, r.data
        assert r.headers.get("x-amz-checksum-sha256") == checksum("SHA256", body)
        lp = mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid)
        assert lp["Parts"][0]["ChecksumSHA256"] == checksum("SHA256", body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_again_replaces_it(msrv, mc, mb):
    before = blob_count(msrv)
    key = "replace"
    uid = create(mc, mb, key)["UploadId"]
    a, b = data(2 * KiB, 21), data(3 * KiB + 5, 23)
    ra = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=a)
    assert blob_count(msrv, before + 1) == before + 1
    rb = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=b)
    assert blob_count(msrv, before + 1) == before + 1  # the replaced part's blob is gone
    assert ra["ETag"] == quoted_md5(a) and rb["ETag"] == quoted_md5(b)
    lp = mc.list_parts(Bucket=mb, Key=key, UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] == [(1, quoted_md5(b), len(b))]
    # The old ETag of part 1 no longer names it.
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, key, uid, [{"PartNumber": 1, "ETag": ra["ETag"]}])
    assert_client_error(ei, "InvalidPart", 400)
    c = complete(mc, mb, key, uid, [{"PartNumber": 1, "ETag": rb["ETag"]}])
    assert c["ETag"] == mpu_etag([b])
    assert mc.get_object(Bucket=mb, Key=key)["Body"].read() == b
    assert blob_count(msrv, before + 1) == before + 1


def test_upload_part_ssec_rules(msrv, mc, mb):
    key = "ssec-parts"
    uid = create(mc, mb, key, **ssec())["UploadId"]
    body = data(3 * KiB, 29)
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body)
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body, **ssec(CKEY2))
    assert_client_error(ei, "InvalidRequest", 400)
    assert mc.list_parts(Bucket=mb, Key=key, UploadId=uid).get("Parts", []) == []
    r = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body, **ssec())
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == md5_b64(CKEY)
    assert "ServerSideEncryption" not in r
    c = complete(mc, mb, key, uid, part_list([r]))
    assert mc.get_object(Bucket=mb, Key=key, **ssec())["Body"].read() == body
    assert c["ETag"] == mpu_etag_of_part_etags([r["ETag"]])

    # SSE-C headers on the parts of an upload that is not SSE-C.
    for kw in ({}, {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID}):
        uid = create(mc, mb, "not-ssec", **kw)["UploadId"]
        try:
            with pytest.raises(ClientError) as ei:
                mc.upload_part(Bucket=mb, Key="not-ssec", UploadId=uid, PartNumber=1, Body=body, **ssec())
            assert_client_error(ei, "InvalidRequest", 400)
            assert mc.list_parts(Bucket=mb, Key="not-ssec", UploadId=uid).get("Parts", []) == []
        finally:
            mc.abort_multipart_upload(Bucket=mb, Key="not-ssec", UploadId=uid)


# ================================================================================================
# UploadPartCopy
# ================================================================================================

def test_upload_part_copy_ranges(mc, mb):
    src = data(PART + 2000, 31)
    put = mc.put_object(Bucket=mb, Key="src", Body=src)
    small = data(1000, 41)
    mc.put_object(Bucket=mb, Key="src-small", Body=small)
    uid = create(mc, mb, "assembled", ContentType="application/x-assembled")["UploadId"]
    r1 = mc.upload_part_copy(Bucket=mb, Key="assembled", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": mb, "Key": "src"}, CopySourceRange=f"bytes=1-{PART}")
    # A regular part, then replaced by a copy of a whole (small) source.
    r2 = mc.upload_part(Bucket=mb, Key="assembled", UploadId=uid, PartNumber=2, Body=b"tail")
    assert r2["ETag"] == quoted_md5(b"tail")
    r2 = mc.upload_part_copy(Bucket=mb, Key="assembled", UploadId=uid, PartNumber=2, CopySource=f"{mb}/src-small")
    pieces = [src[1:PART + 1], small]
    for r, piece in zip((r1, r2), pieces):
        assert r["CopyPartResult"]["ETag"] == quoted_md5(piece)
        assert r["CopyPartResult"]["LastModified"]
        assert r["ServerSideEncryption"] == "AES256"
        # An upload without a checksum algorithm reports none for copied parts.
        assert not [k for k in r["CopyPartResult"] if k.startswith("Checksum")], r
    lp = mc.list_parts(Bucket=mb, Key="assembled", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]] == \
        [(i + 1, len(x), quoted_md5(x)) for i, x in enumerate(pieces)]
    parts = [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
             {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]
    c = complete(mc, mb, "assembled", uid, parts)
    assert c["ETag"] == mpu_etag(pieces)
    whole = b"".join(pieces)
    g = mc.get_object(Bucket=mb, Key="assembled", Range=f"bytes={PART - 3000}-")
    assert g["Body"].read() == whole[PART - 3000:]
    assert g["ContentType"] == "application/x-assembled"
    assert mc.get_object(Bucket=mb, Key="assembled", Range="bytes=0-99")["Body"].read() == src[1:101]
    # The source is untouched.
    assert mc.head_object(Bucket=mb, Key="src")["ETag"] == put["ETag"] == quoted_md5(src)


def test_upload_part_copy_with_checksum_upload(mc, mb):
    src = data(300 * KiB, 43)
    mc.put_object(Bucket=mb, Key="src", Body=src)
    uid = create(mc, mb, "ck-copy", ChecksumAlgorithm="SHA256")["UploadId"]
    r = mc.upload_part_copy(Bucket=mb, Key="ck-copy", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "src"}, CopySourceRange="bytes=100-199")
    assert r["CopyPartResult"]["ChecksumSHA256"] == checksum("SHA256", src[100:200])
    c = complete(mc, mb, "ck-copy", uid, [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"],
                                           "ChecksumSHA256": r["CopyPartResult"]["ChecksumSHA256"]}])
    assert c["ChecksumSHA256"] == composite("SHA256", [src[100:200]])
    assert mc.get_object(Bucket=mb, Key="ck-copy")["Body"].read() == src[100:200]


def test_upload_part_copy_from_ssec_source_and_into_ssec_upload(mc, mb):
    src = data(200 * KiB, 47)
    mc.put_object(Bucket=mb, Key="ssec-src", Body=src, **ssec())
    uid = create(mc, mb, "plain-dst")["UploadId"]
    with pytest.raises(ClientError) as ei:
        mc.upload_part_copy(Bucket=mb, Key="plain-dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "ssec-src"})
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        mc.upload_part_copy(Bucket=mb, Key="plain-dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "ssec-src"},
                            CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=CKEY2)
    assert_client_error(ei, "AccessDenied", 403)
    r = mc.upload_part_copy(Bucket=mb, Key="plain-dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "ssec-src"}, CopySourceRange="bytes=10-70009",
                            CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=CKEY)
    assert r["CopyPartResult"]["ETag"] == quoted_md5(src[10:70010])
    complete(mc, mb, "plain-dst", uid, [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}])
    assert mc.get_object(Bucket=mb, Key="plain-dst")["Body"].read() == src[10:70010]

    # Into an SSE-C upload (another key): the destination key is required on the part.
    uid = create(mc, mb, "ssec-dst", **ssec(CKEY2))["UploadId"]
    src_kw = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": CKEY}
    with pytest.raises(ClientError) as ei:
        mc.upload_part_copy(Bucket=mb, Key="ssec-dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "ssec-src"}, **src_kw)
    assert_client_error(ei, "InvalidRequest", 400)
    r = mc.upload_part_copy(Bucket=mb, Key="ssec-dst", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": mb, "Key": "ssec-src"}, **src_kw, **ssec(CKEY2))
    assert r["SSECustomerKeyMD5"] == md5_b64(CKEY2)
    complete(mc, mb, "ssec-dst", uid, [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}])
    assert mc.get_object(Bucket=mb, Key="ssec-dst", **ssec(CKEY2))["Body"].read() == src


def test_upload_part_copy_conditions(mc, mb):
    src = data(10 * KiB, 53)
    etag = mc.put_object(Bucket=mb, Key="src", Body=src)["ETag"]
    uid = create(mc, mb, "cond")["UploadId"]
    base = dict(Bucket=mb, Key="cond", UploadId=uid, PartNumber=1, CopySource={"Bucket": mb, "Key": "src"})
    try:
        for kw in ({"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'},
                   {"CopySourceIfNoneMatch": etag},
                   {"CopySourceIfUnmodifiedSince": "2001-01-01T00:00:00Z"}):
            with pytest.raises(ClientError) as ei:
                mc.upload_part_copy(**base, **kw)
            assert_client_error(ei, "PreconditionFailed", 412)
        assert mc.list_parts(Bucket=mb, Key="cond", UploadId=uid).get("Parts", []) == []
        r = mc.upload_part_copy(**base, CopySourceIfMatch=etag)
        assert r["CopyPartResult"]["ETag"] == quoted_md5(src)
        r = mc.upload_part_copy(**base, CopySourceIfNoneMatch='"0123456789abcdef0123456789abcdef"',
                                CopySourceIfModifiedSince="2001-01-01T00:00:00Z")
        assert r["CopyPartResult"]["ETag"] == quoted_md5(src)
    finally:
        mc.abort_multipart_upload(Bucket=mb, Key="cond", UploadId=uid)


def test_upload_part_copy_bad_ranges(mc, mb):
    src = data(1000, 59)
    mc.put_object(Bucket=mb, Key="src", Body=src)
    uid = create(mc, mb, "rng")["UploadId"]
    base = dict(Bucket=mb, Key="rng", UploadId=uid, PartNumber=1, CopySource={"Bucket": mb, "Key": "src"})
    try:
        for rng in ("bytes=0-1000", "bytes=999-1000", "bytes=5000-6000"):
            with pytest.raises(ClientError) as ei:
                mc.upload_part_copy(**base, CopySourceRange=rng)
            assert_client_error(ei, "InvalidRange", 416)
        for rng in ("bytes=5-2", "bytes=abc", "0-10", "bytes=-10", "bytes=10-"):
            with pytest.raises(ClientError) as ei:
                mc.upload_part_copy(**base, CopySourceRange=rng)
            assert_client_error(ei, "InvalidArgument", 400)
        with pytest.raises(ClientError) as ei:
            mc.upload_part_copy(**{**base, "CopySource": {"Bucket": mb, "Key": "missing"}})
        assert_client_error(ei, "NoSuchKey", 404)
        assert mc.list_parts(Bucket=mb, Key="rng", UploadId=uid).get("Parts", []) == []
        r = mc.upload_part_copy(**base, CopySourceRange="bytes=999-999")
        assert r["CopyPartResult"]["ETag"] == quoted_md5(src[999:])
    finally:
        mc.abort_multipart_upload(Bucket=mb, Key="rng", UploadId=uid)


# ================================================================================================
# CompleteMultipartUpload
# ================================================================================================

@pytest.fixture
def two_parts(mc, mb):
    """An upload of ``mb``/``cmp`` with two small parts uploaded (complete it with one of them)."""
    uid = create(mc, mb, "cmp")["UploadId"]
    p = [data(2 * KiB, 61), data(KiB, 67)]
    rs = put_parts(mc, mb, "cmp", uid, p)
    return uid, p, rs


def test_complete_invalid_part(mc, mb, two_parts):
    uid, p, rs = two_parts
    bad_lists = [
        [{"PartNumber": 3, "ETag": rs[1]["ETag"]}],
        [{"PartNumber": 2, "ETag": quoted_md5(b"nope")}],
        [{"PartNumber": 1, "ETag": rs[1]["ETag"]}],
    ]
    for parts in bad_lists:
        with pytest.raises(ClientError) as ei:
            complete(mc, mb, "cmp", uid, parts)
        assert_client_error(ei, "InvalidPart", 400)
    # Nothing was created, the upload is intact and completes afterwards.
    with pytest.raises(ClientError) as ei:
        mc.head_object(Bucket=mb, Key="cmp")
    assert_client_error(ei, None, 404)
    assert len(mc.list_parts(Bucket=mb, Key="cmp", UploadId=uid)["Parts"]) == 2
    # ETags may be given without quotes.
    c = complete(mc, mb, "cmp", uid, [{"PartNumber": 2, "ETag": rs[1]["ETag"].strip('"')}])
    assert c["ETag"] == mpu_etag([p[1]])
    assert mc.get_object(Bucket=mb, Key="cmp")["Body"].read() == p[1]


def test_complete_invalid_part_order(mc, mb, two_parts):
    uid, p, rs = two_parts
    for parts in ([{"PartNumber": 2, "ETag": rs[1]["ETag"]}, {"PartNumber": 1, "ETag": rs[0]["ETag"]}],
                  [{"PartNumber": 1, "ETag": rs[0]["ETag"]}, {"PartNumber": 1, "ETag": rs[0]["ETag"]}]):
        with pytest.raises(ClientError) as ei:
            complete(mc, mb, "cmp", uid, parts)
        assert_client_error(ei, "InvalidPartOrder", 400)
    assert len(mc.list_parts(Bucket=mb, Key="cmp", UploadId=uid)["Parts"]) == 2


def test_complete_entity_too_small(mc, mb):
    uid = create(mc, mb, "small")["UploadId"]
    p = [data(PART - 1, 71), data(10, 79)]
    rs = put_parts(mc, mb, "small", uid, p)
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "small", uid, part_list(rs))
    e = assert_client_error(ei, "EntityTooSmall", 400)
    assert e["Error"].get("ProposedSize") == str(PART - 1)
    assert e["Error"].get("MinSizeAllowed") == str(PART)
    # A small part alone (it is the last) is fine.
    c = complete(mc, mb, "small", uid, part_list(rs[1:], numbers=[2]))
    assert c["ETag"] == mpu_etag(p[1:])
    assert mc.get_object(Bucket=mb, Key="small")["Body"].read() == p[1]
    # A one-part upload of a few bytes.
    uid, rs, c = multipart(mc, mb, "tiny", [b"abc"])
    assert c["ETag"] == mpu_etag([b"abc"])
    assert mc.get_object(Bucket=mb, Key="tiny")["Body"].read() == b"abc"


def test_complete_malformed_xml(msrv, mc, mb, two_parts):
    uid, p, rs = two_parts
    params = {"uploadId": uid}
    bodies = [
        b"",
        b"   \n",
        b"garbage",
        b"<CompleteMultipartUpload>",
        b"<CompleteMultipartUpload></CompleteMultipartUpload>",
        b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>',
        b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>",
    ]
    for body in bodies:
        r = raw(msrv, "POST", mb, "cmp", {}, body, params)
        h.assert_s3_error(r, 400, "MalformedXML")
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "cmp", uid, [])
    assert_client_error(ei, "MalformedXML", 400)
    assert len(mc.list_parts(Bucket=mb, Key="cmp", UploadId=uid)["Parts"]) == 2
    # The raw form of a correct request works.
    xml = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{rs[0]['ETag']}</ETag></Part>"
           "</CompleteMultipartUpload>").encode()
    r = raw(msrv, "POST", mb, "cmp", {}, xml, params)
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "CompleteMultipartUploadResult"
    assert h.findall_text(root, "ETag") == [mpu_etag(p[:1])]
    assert h.findall_text(root, "Key") == ["cmp"] and h.findall_text(root, "Bucket") == [mb]


# CRC32 and SHA256 with two parts (the first one 5 MiB), the others with one small part; SHA256 with
# three parts is the ``mp_object`` fixture below.
@pytest.mark.parametrize("alg,sizes", [
    ("CRC32", [PART, 4321]), ("SHA256", [PART, 4321]), ("CRC32C", [4321]), ("SHA1", [4321]),
])
def test_complete_composite_checksum(mc, mb, alg, sizes):
    key = f"comp-{alg}"
    p = [data(n, 89 + 7 * i) for i, n in enumerate(sizes)]
    uid, rs, c = multipart(mc, mb, key, p, create_kw={"ChecksumAlgorithm": alg},
                           part_kw={"ChecksumAlgorithm": alg}, checksum_alg=alg)
    want = composite(alg, p)
    assert [r[f"Checksum{alg}"] for r in rs] == [checksum(alg, x) for x in p]
    assert c[f"Checksum{alg}"] == want
    assert c["ChecksumType"] == "COMPOSITE"
    assert c["ETag"] == mpu_etag(p)
    hd = mc.head_object(Bucket=mb, Key=key, ChecksumMode="ENABLED")
    assert hd[f"Checksum{alg}"] == want and hd["ChecksumType"] == "COMPOSITE"
    assert not [k for k in hd if k.startswith("Checksum") and k not in (f"Checksum{alg}", "ChecksumType")], hd
    # Without ChecksumMode no checksum is sent.
    hd = mc.head_object(Bucket=mb, Key=key)
    assert not [k for k in hd if k.startswith("Checksum")], hd
    if len(p) == 1:
        g = mc.get_object(Bucket=mb, Key=key, ChecksumMode="ENABLED")
        assert g["Body"].read() == p[0]
        assert g[f"Checksum{alg}"] == want and g["ChecksumType"] == "COMPOSITE"


@pytest.mark.parametrize("alg,sizes", [
    ("CRC32", [PART, 999]), ("CRC32C", [PART + 3, 999]), ("CRC64NVME", [PART, 999]), ("CRC32C", [999]),
])
def test_complete_full_object_checksum(mc, mb, alg, sizes):
    key = f"full-{alg}"
    p = [data(n, 101 + 11 * i) for i, n in enumerate(sizes)]
    whole = b"".join(p)
    uid, rs, c = multipart(mc, mb, key, p, create_kw={"ChecksumAlgorithm": alg, "ChecksumType": "FULL_OBJECT"},
                           part_kw={"ChecksumAlgorithm": alg}, checksum_alg=alg)
    assert [r[f"Checksum{alg}"] for r in rs] == [checksum(alg, x) for x in p]
    assert c[f"Checksum{alg}"] == checksum(alg, whole)
    assert c["ChecksumType"] == "FULL_OBJECT"
    assert c["ETag"] == mpu_etag(p)
    hd = mc.head_object(Bucket=mb, Key=key, ChecksumMode="ENABLED")
    assert hd[f"Checksum{alg}"] == checksum(alg, whole) and hd["ChecksumType"] == "FULL_OBJECT"
    if alg == "CRC32C" and len(p) == 2:
        g = mc.get_object(Bucket=mb, Key=key, ChecksumMode="ENABLED")
        assert g["Body"].read() == whole  # botocore validates the full-object checksum too
        assert g[f"Checksum{alg}"] == checksum(alg, whole)


def test_complete_full_object_without_part_checksums_in_the_request(mc, mb):
    p = [data(3000, 103), data(77, 3)]
    up = create(mc, mb, "full-nolist", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    rs = put_parts(mc, mb, "full-nolist", up["UploadId"], p, ChecksumAlgorithm="CRC32")
    c = complete(mc, mb, "full-nolist", up["UploadId"], part_list(rs[1:], numbers=[2]))
    assert c["ChecksumCRC32"] == checksum("CRC32", p[1]) and c["ChecksumType"] == "FULL_OBJECT"


def test_complete_checksum_type_must_match_the_upload(mc, mb):
    up = create(mc, mb, "mode", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    rs = put_parts(mc, mb, "mode", up["UploadId"], [b"mode"], ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "mode", up["UploadId"], part_list(rs, checksum_alg="CRC32"), ChecksumType="COMPOSITE")
    assert_client_error(ei, "InvalidRequest", 400)
    c = complete(mc, mb, "mode", up["UploadId"], part_list(rs, checksum_alg="CRC32"), ChecksumType="FULL_OBJECT")
    assert c["ChecksumCRC32"] == checksum("CRC32", b"mode")


@pytest.mark.parametrize("alg,kind", [("CRC32", "FULL_OBJECT"), ("SHA256", "COMPOSITE")])
def test_complete_with_the_whole_object_checksum_header(mc, mb, alg, kind):
    """CompleteMultipartUpload's x-amz-checksum-<alg> (boto3 Checksum<ALG>) is the checksum of the
    whole object (with ``-N`` for COMPOSITE): a right one is accepted, a wrong one is BadDigest.

    Server bug (open): the Complete handler verifies these headers against the XML request body, so
    the right value is refused with BadDigest and a ``-N`` value with InvalidRequest."""
    key = f"whole-{alg}"
    p = [data(3000, 107)]
    up = create(mc, mb, key, ChecksumAlgorithm=alg, ChecksumType=kind)
    rs = put_parts(mc, mb, key, up["UploadId"], p, ChecksumAlgorithm=alg)
    right = checksum(alg, p[0]) if kind == "FULL_OBJECT" else composite(alg, p)
    wrong = checksum(alg, b"x") if kind == "FULL_OBJECT" else composite(alg, [b"x"])
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, key, up["UploadId"], part_list(rs, checksum_alg=alg), **{f"Checksum{alg}": wrong})
    assert_client_error(ei, "BadDigest", 400)
    c = complete(mc, mb, key, up["UploadId"], part_list(rs, checksum_alg=alg), **{f"Checksum{alg}": right})
    assert c[f"Checksum{alg}"] == right and c["ChecksumType"] == kind


def test_complete_composite_part_checksum_missing_or_wrong(mc, mb):
    alg = "SHA256"
    p = [data(1000, 109)]
    up = create(mc, mb, "comp-bad", ChecksumAlgorithm=alg)
    uid = up["UploadId"]
    rs = put_parts(mc, mb, "comp-bad", uid, p, ChecksumAlgorithm=alg)
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "comp-bad", uid, [{"PartNumber": 1, "ETag": rs[0]["ETag"]}])
    e = assert_client_error(ei, "InvalidRequest", 400)
    assert "part 1" in e["Error"]["Message"], e
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "comp-bad", uid, [{"PartNumber": 1, "ETag": rs[0]["ETag"],
                                            "ChecksumSHA256": checksum(alg, b"not it")}])
    assert_client_error(ei, "BadDigest", 400)
    with pytest.raises(ClientError) as ei:
        mc.head_object(Bucket=mb, Key="comp-bad")
    assert_client_error(ei, None, 404)
    c = complete(mc, mb, "comp-bad", uid, part_list(rs, checksum_alg=alg))
    assert c["ChecksumSHA256"] == composite(alg, p)


def test_complete_mp_object_size(mc, mb, two_parts):
    uid, p, rs = two_parts
    size = len(p[0])
    for wrong in (size - 1, size + 1, 0):
        with pytest.raises(ClientError) as ei:
            complete(mc, mb, "cmp", uid, part_list(rs[:1]), MpuObjectSize=wrong)
        assert_client_error(ei, "InvalidRequest", 400)
    c = complete(mc, mb, "cmp", uid, part_list(rs[:1]), MpuObjectSize=size)
    assert c["ETag"] == mpu_etag(p[:1])


@pytest.mark.parametrize("client_name", ["mc", "mc_plain"])
def test_complete_without_checksum_algorithm_gets_crc64nvme_full_object(request, mb, client_name):
    client = request.getfixturevalue(client_name)  # mc sends CRC32 part checksums, mc_plain none
    p = [data(PART, 113), data(12345, 1)] if client_name == "mc" else [data(12345, 1)]
    whole = b"".join(p)
    uid, rs, c = multipart(client, mb, "no-alg", p)
    assert c["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)
    assert c["ChecksumType"] == "FULL_OBJECT"
    hd = client.head_object(Bucket=mb, Key="no-alg", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)
    assert hd["ChecksumType"] == "FULL_OBJECT"
    assert not [k for k in hd if k.startswith("Checksum") and k not in ("ChecksumCRC64NVME", "ChecksumType")], hd


def test_complete_retried_and_unknown(msrv, mc, mb, two_parts):
    uid, p, rs = two_parts
    c1 = complete(mc, mb, "cmp", uid, part_list(rs[:1]))
    c2 = complete(mc, mb, "cmp", uid, part_list(rs[:1]))
    assert status_of(c2) == 200
    assert c1["ETag"] == c2["ETag"] == mpu_etag(p[:1])
    assert c2["Key"] == "cmp" and c2["Bucket"] == mb
    # Unknown upload ids.
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "cmp", "no-such-upload", part_list(rs))
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "other", uid, part_list(rs))
    assert_no_such_upload(ei)
    # Once the object is overwritten, the old upload id is unknown.
    mc.put_object(Bucket=mb, Key="cmp", Body=b"new")
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, "cmp", uid, part_list(rs))
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        mc.list_parts(Bucket=mb, Key="cmp", UploadId=uid)
    assert_no_such_upload(ei)


def test_complete_discards_unused_parts(msrv, mc, mb):
    before = blob_count(msrv)
    key = "unused"
    uid = create(mc, mb, key)["UploadId"]
    p = [data(PART, 127), data(5000, 13), data(999, 13), data(50, 17)]
    rs = put_parts(mc, mb, key, uid, p)
    assert blob_count(msrv, before + 4) == before + 4
    c = complete(mc, mb, key, uid, part_list([rs[0], rs[2]], numbers=[1, 3]))
    assert c["ETag"] == mpu_etag([p[0], p[2]])
    assert blob_count(msrv, before + 2) == before + 2
    g = mc.get_object(Bucket=mb, Key=key, Range=f"bytes={PART - 100}-")
    assert g["Body"].read() == p[0][-100:] + p[2]
    assert mc.head_object(Bucket=mb, Key=key)["ContentLength"] == PART + 999
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []
    # Overwriting and deleting the object frees its part blobs.
    # (A small body is stored with its metadata, not as a file.)
    mc.put_object(Bucket=mb, Key=key, Body=b"small")
    assert blob_count(msrv, before) == before
    mc.put_object(Bucket=mb, Key=key, Body=data(PART, 3))
    assert blob_count(msrv, before + 1) == before + 1
    mc.delete_object(Bucket=mb, Key=key)
    assert blob_count(msrv, before) == before


def test_complete_replaces_an_existing_object(mc, mb):
    mc.put_object(Bucket=mb, Key="obj", Body=b"old", Metadata={"v": "1"})
    p = [data(10, 19)]
    uid, rs, c = multipart(mc, mb, "obj", p, create_kw={"Metadata": {"v": "2"}})
    g = mc.get_object(Bucket=mb, Key="obj")
    assert g["Body"].read() == b"".join(p) and g["Metadata"] == {"v": "2"} and g["ETag"] == mpu_etag(p)


def test_complete_empty_part(mc, mb):
    uid, rs, c = multipart(mc, mb, "empty", [b""])
    assert rs[0]["ETag"] == quoted_md5(b"")
    assert c["ETag"] == mpu_etag([b""])
    g = mc.get_object(Bucket=mb, Key="empty")
    assert g["Body"].read() == b"" and g["ContentLength"] == 0


# ================================================================================================
# AbortMultipartUpload
# ================================================================================================

def test_abort_removes_the_upload_and_its_parts(msrv, mc, mb):
    before = blob_count(msrv)
    key = "aborted"
    uid = create(mc, mb, key)["UploadId"]
    rs = put_parts(mc, mb, key, uid, [data(2 * KiB, 137), data(KiB, 23), data(KiB, 29)])
    assert blob_count(msrv, before + 3) == before + 3
    a = mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId=uid)
    assert status_of(a) == 204
    assert blob_count(msrv, before) == before
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=4, Body=b"late")
    assert_no_such_upload(ei, uid)
    with pytest.raises(ClientError) as ei:
        mc.list_parts(Bucket=mb, Key=key, UploadId=uid)
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, key, uid, part_list(rs))
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId=uid)
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId="never-existed")
    assert_no_such_upload(ei)
    with pytest.raises(ClientError) as ei:
        mc.head_object(Bucket=mb, Key=key)
    assert_client_error(ei, None, 404)
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []
    assert blob_count(msrv, before) == before


def test_abort_one_upload_leaves_the_others(mc, mb):
    u1 = create(mc, mb, "k")["UploadId"]
    time.sleep(0.005)
    u2 = create(mc, mb, "k")["UploadId"]
    mc.upload_part(Bucket=mb, Key="k", UploadId=u1, PartNumber=1, Body=b"one")
    r2 = mc.upload_part(Bucket=mb, Key="k", UploadId=u2, PartNumber=1, Body=b"two")
    mc.abort_multipart_upload(Bucket=mb, Key="k", UploadId=u1)
    assert [u["UploadId"] for u in mc.list_multipart_uploads(Bucket=mb)["Uploads"]] == [u2]
    complete(mc, mb, "k", u2, part_list([r2]))
    assert mc.get_object(Bucket=mb, Key="k")["Body"].read() == b"two"


# ================================================================================================
# ListParts
# ================================================================================================

def test_list_parts_pagination(mc, mb):
    key = "lp"
    uid = create(mc, mb, key)["UploadId"]
    numbers = [1, 2, 5, 9, 10, 700]
    bodies = {n: data(n * 7 + 1, n) for n in numbers}
    rs = {n: mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=n, Body=bodies[n]) for n in numbers}
    full = mc.list_parts(Bucket=mb, Key=key, UploadId=uid)
    assert full["Bucket"] == mb and full["Key"] == key and full["UploadId"] == uid
    assert full["IsTruncated"] is False
    assert full["MaxParts"] == 1000
    assert full["StorageClass"] == "STANDARD"
    assert full["Owner"]["ID"] and full["Initiator"]["ID"]
    assert "ChecksumAlgorithm" not in full
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in full["Parts"]] == \
        [(n, quoted_md5(bodies[n]), len(bodies[n])) for n in numbers]
    for p in full["Parts"]:
        assert p["LastModified"]
        # botocore sent CRC32 part checksums, but an upload without an algorithm lists none.
        assert not [k for k in p if k.startswith("Checksum")], p
    page = mc.list_parts(Bucket=mb, Key=key, UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2 and page["MaxParts"] == 2
    page = mc.list_parts(Bucket=mb, Key=key, UploadId=uid, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [5, 9]
    assert page["PartNumberMarker"] == 2 and page["NextPartNumberMarker"] == 9 and page["IsTruncated"] is True
    page = mc.list_parts(Bucket=mb, Key=key, UploadId=uid, MaxParts=2, PartNumberMarker=9)
    assert [p["PartNumber"] for p in page["Parts"]] == [10, 700]
    assert page["NextPartNumberMarker"] == 700 and page["IsTruncated"] is False
    page = mc.list_parts(Bucket=mb, Key=key, UploadId=uid, PartNumberMarker=3)
    assert [p["PartNumber"] for p in page["Parts"]] == [5, 9, 10, 700]
    page = mc.list_parts(Bucket=mb, Key=key, UploadId=uid, PartNumberMarker=700)
    assert page.get("Parts", []) == [] and page["IsTruncated"] is False
    pages = list(mc.get_paginator("list_parts").paginate(Bucket=mb, Key=key, UploadId=uid,
                                                         PaginationConfig={"PageSize": 4}))
    assert [[p["PartNumber"] for p in pg["Parts"]] for pg in pages] == [[1, 2, 5, 9], [10, 700]]
    pages = list(mc.get_paginator("list_parts").paginate(Bucket=mb, Key=key, UploadId=uid,
                                                         PaginationConfig={"PageSize": 1}))
    assert [p["PartNumber"] for pg in pages for p in pg["Parts"]] == numbers
    assert [rs[n]["ETag"] for n in numbers] == [p["ETag"] for p in full["Parts"]]
    mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId=uid)


@pytest.mark.parametrize("alg", ["CRC32", "SHA256", "CRC64NVME"])
def test_list_parts_with_checksum_algorithm(mc, mb, alg):
    key = "lp-ck"
    up = create(mc, mb, key, ChecksumAlgorithm=alg)
    uid = up["UploadId"]
    p = [data(1000, 3), data(2000, 5)]
    put_parts(mc, mb, key, uid, p, ChecksumAlgorithm=alg)
    lp = mc.list_parts(Bucket=mb, Key=key, UploadId=uid)
    assert lp["ChecksumAlgorithm"] == alg
    assert lp["ChecksumType"] == up["ChecksumType"]
    assert [p_[f"Checksum{alg}"] for p_ in lp["Parts"]] == [checksum(alg, x) for x in p]
    for p_ in lp["Parts"]:
        assert [k for k in p_ if k.startswith("Checksum")] == [f"Checksum{alg}"]
    mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId=uid)


def test_list_parts_unknown(mc, mb):
    with pytest.raises(ClientError) as ei:
        mc.list_parts(Bucket=mb, Key="k", UploadId="nope")
    assert_no_such_upload(ei)


# ================================================================================================
# ListMultipartUploads
# ================================================================================================

def test_list_multipart_uploads(mc, mb):
    ids = {}
    order = []
    for key in ("a/1", "a/2", "b", "b", "c/x/y", "d"):
        u = create(mc, mb, key, **({"ChecksumAlgorithm": "SHA1"} if key == "d" else {}))
        ids.setdefault(key, []).append(u["UploadId"])
        order.append((key, u["UploadId"]))
        time.sleep(0.003)  # distinct initiation times
    # Uploads of one key list in initiation order.
    expected = sorted(order, key=lambda kv: (kv[0], order.index(kv)))
    full = mc.list_multipart_uploads(Bucket=mb)
    assert full["Bucket"] == mb and full["IsTruncated"] is False and full["MaxUploads"] == 1000
    assert [(u["Key"], u["UploadId"]) for u in full["Uploads"]] == expected
    assert full.get("CommonPrefixes", []) == []
    for u in full["Uploads"]:
        assert u["Initiated"] and u["StorageClass"] == "STANDARD" and u["Owner"]["ID"] and u["Initiator"]["ID"]
        if u["Key"] == "d":
            assert u["ChecksumAlgorithm"] == "SHA1" and u["ChecksumType"] == "COMPOSITE"
        else:
            assert "ChecksumAlgorithm" not in u
    b1, b2 = ids["b"]
    assert b1 < b2 or [u["UploadId"] for u in full["Uploads"] if u["Key"] == "b"] == [b1, b2]

    # prefix
    r = mc.list_multipart_uploads(Bucket=mb, Prefix="a/")
    assert [u["Key"] for u in r["Uploads"]] == ["a/1", "a/2"] and r["Prefix"] == "a/"
    # delimiter
    r = mc.list_multipart_uploads(Bucket=mb, Delimiter="/")
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("b", b1), ("b", b2), ("d", ids["d"][0])]
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["a/", "c/"]
    assert r["Delimiter"] == "/"
    r = mc.list_multipart_uploads(Bucket=mb, Prefix="c/", Delimiter="/")
    assert r.get("Uploads", []) == [] and [c["Prefix"] for c in r["CommonPrefixes"]] == ["c/x/"]
    # key-marker alone: keys after it
    r = mc.list_multipart_uploads(Bucket=mb, KeyMarker="b")
    assert [u["Key"] for u in r["Uploads"]] == ["c/x/y", "d"]
    # key-marker + upload-id-marker: later uploads of that key, then later keys
    r = mc.list_multipart_uploads(Bucket=mb, KeyMarker="b", UploadIdMarker=b1)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("b", b2), ("c/x/y", ids["c/x/y"][0]),
                                                                  ("d", ids["d"][0])]
    assert r["KeyMarker"] == "b" and r["UploadIdMarker"] == b1
    # max-uploads
    r = mc.list_multipart_uploads(Bucket=mb, MaxUploads=3)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == expected[:3]
    assert r["IsTruncated"] is True and r["MaxUploads"] == 3
    assert r["NextKeyMarker"] == "b" and r["NextUploadIdMarker"] == b1
    r = mc.list_multipart_uploads(Bucket=mb, MaxUploads=3, KeyMarker=r["NextKeyMarker"],
                                  UploadIdMarker=r["NextUploadIdMarker"])
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == expected[3:]
    assert r["IsTruncated"] is False
    # max-uploads with delimiter: common prefixes count too
    r = mc.list_multipart_uploads(Bucket=mb, Delimiter="/", MaxUploads=2)
    assert [c["Prefix"] for c in r.get("CommonPrefixes", [])] == ["a/"]
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("b", b1)]
    assert r["IsTruncated"] is True and r["NextKeyMarker"] == "b" and r["NextUploadIdMarker"] == b1
    # paginators
    for size in (1, 2, 4):
        pages = list(mc.get_paginator("list_multipart_uploads").paginate(
            Bucket=mb, PaginationConfig={"PageSize": size}))
        assert [(u["Key"], u["UploadId"]) for pg in pages for u in pg.get("Uploads", [])] == expected
        assert len(pages) == -(-len(expected) // size)
    pages = list(mc.get_paginator("list_multipart_uploads").paginate(
        Bucket=mb, Delimiter="/", PaginationConfig={"PageSize": 1}))
    assert [c["Prefix"] for pg in pages for c in pg.get("CommonPrefixes", [])] == ["a/", "c/"]
    assert [u["Key"] for pg in pages for u in pg.get("Uploads", [])] == ["b", "b", "d"]
    # Completed and aborted uploads disappear from the list.
    r = mc.upload_part(Bucket=mb, Key="d", UploadId=ids["d"][0], PartNumber=1, Body=b"d", ChecksumAlgorithm="SHA1")
    complete(mc, mb, "d", ids["d"][0], part_list([r], checksum_alg="SHA1"))
    mc.abort_multipart_upload(Bucket=mb, Key="b", UploadId=b1)
    r = mc.list_multipart_uploads(Bucket=mb)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [
        ("a/1", ids["a/1"][0]), ("a/2", ids["a/2"][0]), ("b", b2), ("c/x/y", ids["c/x/y"][0])]


def test_list_multipart_uploads_empty_and_missing_bucket(mc, mb):
    r = mc.list_multipart_uploads(Bucket=mb)
    assert r.get("Uploads", []) == [] and r["IsTruncated"] is False
    with pytest.raises(ClientError) as ei:
        mc.list_multipart_uploads(Bucket=unique_bucket_name("missing"))
    assert_client_error(ei, "NoSuchBucket", 404)


def test_list_multipart_uploads_url_encoding(mc, mb):
    key = "dir/with space+plus"
    uid = create(mc, mb, key)["UploadId"]
    r = mc.list_multipart_uploads(Bucket=mb)  # boto3 asks for encoding-type=url and decodes
    assert [u["Key"] for u in r["Uploads"]] == [key]
    mc.abort_multipart_upload(Bucket=mb, Key=key, UploadId=uid)


# ================================================================================================
# GetObject / HeadObject: parts and ranges
# ================================================================================================

PARTS3 = [PART, PART, 100 * KiB + 123]


@pytest.fixture(scope="module")
def mp_object(mc, shared_bucket):
    """A 3-part COMPOSITE-SHA256 object ``mp-obj`` in the shared bucket: (key, parts)."""
    p, off = [], 1000
    for n in PARTS3:
        p.append(data(n, off))
        off += n
    uid, rs, c = multipart(mc, shared_bucket, "mp-obj", p, create_kw={"ChecksumAlgorithm": "SHA256"},
                           part_kw={"ChecksumAlgorithm": "SHA256"}, checksum_alg="SHA256")
    assert c["ETag"] == mpu_etag(p)
    assert c["ChecksumSHA256"] == composite("SHA256", p) and c["ChecksumType"] == "COMPOSITE"
    return "mp-obj", p


def test_get_whole_three_part_object(mc, shared_bucket, mp_object):
    key, p = mp_object
    whole = b"".join(p)
    want = mpu_etag(p)
    g = mc.get_object(Bucket=shared_bucket, Key=key, ChecksumMode="ENABLED")
    assert status_of(g) == 200
    assert g["ETag"] == want and g["ContentLength"] == len(whole)
    assert g["ChecksumSHA256"] == composite("SHA256", p) and g["ChecksumType"] == "COMPOSITE"
    assert "PartsCount" not in g
    assert g["Body"].read() == whole
    hd = mc.head_object(Bucket=shared_bucket, Key=key, ChecksumMode="ENABLED")
    assert hd["ChecksumSHA256"] == composite("SHA256", p) and hd["ChecksumType"] == "COMPOSITE"
    assert hd["ETag"] == want and "PartsCount" not in hd
    # Conditional requests use the multipart ETag.
    assert mc.get_object(Bucket=shared_bucket, Key=key, IfMatch=want, Range="bytes=0-3")["Body"].read() == p[0][:4]
    with pytest.raises(ClientError) as ei:
        mc.get_object(Bucket=shared_bucket, Key=key, IfNoneMatch=want)
    assert_client_error(ei, None, 304)
    listed = mc.list_objects_v2(Bucket=shared_bucket, Prefix=key)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [(key, len(whole), want)]


def test_get_and_head_part_number(mc, shared_bucket, mp_object):
    """Each part: 206, its Content-Range, PartsCount, and (ChecksumMode) its own COMPOSITE checksum."""
    key, p = mp_object
    total = sum(map(len, p))
    start = 0
    for i, body in enumerate(p, start=1):
        end = start + len(body) - 1
        g = mc.get_object(Bucket=shared_bucket, Key=key, PartNumber=i, ChecksumMode="ENABLED")
        assert status_of(g) == 206
        assert g["ContentRange"] == f"bytes {start}-{end}/{total}"
        assert g["ContentLength"] == len(body)
        assert g["PartsCount"] == 3
        assert g["ETag"] == mpu_etag(p)
        assert g["ChecksumSHA256"] == checksum("SHA256", body)
        assert g["ChecksumType"] == "COMPOSITE"
        assert g["Body"].read() == body
        hd = mc.head_object(Bucket=shared_bucket, Key=key, PartNumber=i)
        assert status_of(hd) == 206
        assert hd["ContentRange"] == f"bytes {start}-{end}/{total}"
        assert hd["ContentLength"] == len(body) and hd["PartsCount"] == 3
        assert not [k for k in hd if k.startswith("Checksum")], hd
        hd = mc.head_object(Bucket=shared_bucket, Key=key, PartNumber=i, ChecksumMode="ENABLED")
        assert hd["ChecksumSHA256"] == checksum("SHA256", body) and hd["ChecksumType"] == "COMPOSITE"
        start = end + 1


def test_get_part_number_errors(mc, shared_bucket, mp_object):
    key, p = mp_object
    for n in (4, 10000):
        with pytest.raises(ClientError) as ei:
            mc.get_object(Bucket=shared_bucket, Key=key, PartNumber=n)
        e = assert_client_error(ei, "InvalidPartNumber", 416)
        assert e["Error"].get("ActualPartCount", "3") == "3"
    with pytest.raises(ClientError) as ei:
        mc.head_object(Bucket=shared_bucket, Key=key, PartNumber=4)
    assert_client_error(ei, None, 416)
    with pytest.raises(ClientError) as ei:
        mc.get_object(Bucket=shared_bucket, Key=key, PartNumber=1, Range="bytes=0-10")
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        mc.head_object(Bucket=shared_bucket, Key=key, PartNumber=2, Range="bytes=0-10")
    assert_client_error(ei, None, 400)


def test_get_part_number_raw_bad_values(msrv, shared_bucket, mp_object):
    key, _ = mp_object
    for bad in ("0", "10001", "x"):
        r = raw(msrv, "GET", shared_bucket, key, params={"partNumber": bad})
        h.assert_s3_error(r, 400, "InvalidArgument")


def test_get_part_of_full_object_upload_has_no_part_checksum(mc, mb):
    p = [data(PART, 139), data(100, 31)]
    multipart(mc, mb, "full-parts", p, create_kw={"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
              part_kw={"ChecksumAlgorithm": "CRC32"})
    g = mc.get_object(Bucket=mb, Key="full-parts", PartNumber=2, ChecksumMode="ENABLED")
    assert g["Body"].read() == p[1] and g["PartsCount"] == 2
    assert not [k for k in g if k.startswith("Checksum")], g
    hd = mc.head_object(Bucket=mb, Key="full-parts", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == checksum("CRC32", b"".join(p)) and hd["ChecksumType"] == "FULL_OBJECT"


def test_get_ranges_across_part_boundaries(mc, shared_bucket, mp_object):
    key, p = mp_object
    whole = b"".join(p)
    n = len(whole)
    b1, b2 = PART, 2 * PART
    ranges = [
        (b1 - 1, b1), (b1 - 10, b1 + 10), (b2 - 65536, b2 + 65536), (b2 - 1, b2 - 1), (b2, b2 + 1),
        (b1 - 70000, b1 - 1), (b1, b1), (12345, 12345 + 3 * 65536 + 7), (n - 1, n - 1), (b2 - 3, n - 1),
        (b1 - 65536 * 2 - 5, b1 + 65536 * 2 + 5),
    ]
    for a, b in ranges:
        g = mc.get_object(Bucket=shared_bucket, Key=key, Range=f"bytes={a}-{b}")
        assert status_of(g) == 206
        assert g["ContentRange"] == f"bytes {a}-{b}/{n}"
        assert g["Body"].read() == whole[a:b + 1], (a, b)
    g = mc.get_object(Bucket=shared_bucket, Key=key, Range=f"bytes={b2 - 5}-")
    assert g["Body"].read() == whole[b2 - 5:]
    g = mc.get_object(Bucket=shared_bucket, Key=key, Range=f"bytes=-{len(p[2]) + 200}")
    assert g["Body"].read() == whole[-(len(p[2]) + 200):]
    with pytest.raises(ClientError) as ei:
        mc.get_object(Bucket=shared_bucket, Key=key, Range=f"bytes={n}-")
    assert_client_error(ei, "InvalidRange", 416)
    # Checksums are not sent for ranges.
    g = mc.get_object(Bucket=shared_bucket, Key=key, Range="bytes=0-9", ChecksumMode="ENABLED")
    assert g["Body"].read() == whole[:10]
    assert not [k for k in g if k.startswith("Checksum")], g


def test_single_put_object_part_number(mc, mb):
    body = data(1000, 157)
    mc.put_object(Bucket=mb, Key="single", Body=body)
    g = mc.get_object(Bucket=mb, Key="single", PartNumber=1)
    assert g["Body"].read() == body
    with pytest.raises(ClientError) as ei:
        mc.get_object(Bucket=mb, Key="single", PartNumber=2)
    assert_client_error(ei, "InvalidPartNumber", 416)


def test_copy_object_of_a_multipart_object(mc, mb):
    p = [data(3000, 173)]
    multipart(mc, mb, "mp-src", p, create_kw={"ChecksumAlgorithm": "SHA256"}, part_kw={"ChecksumAlgorithm": "SHA256"},
              checksum_alg="SHA256")
    c = mc.copy_object(Bucket=mb, Key="copied", CopySource={"Bucket": mb, "Key": "mp-src"})
    # A CopyObject makes a single-part object: its ETag is the plain MD5.
    assert c["CopyObjectResult"]["ETag"] == quoted_md5(p[0])
    assert mc.get_object(Bucket=mb, Key="copied")["Body"].read() == p[0]


# ================================================================================================
# Buckets
# ================================================================================================

def test_delete_bucket_with_only_in_progress_uploads(msrv, mc):
    before = blob_count(msrv)
    name = new_bucket(mc, "mpdel")
    u1 = create(mc, name, "x")["UploadId"]
    create(mc, name, "y/z")
    put_parts(mc, name, "x", u1, [data(KiB, 163), data(KiB, 167)])
    assert blob_count(msrv, before + 2) == before + 2
    mc.delete_bucket(Bucket=name)
    assert blob_count(msrv, before) == before
    with pytest.raises(ClientError) as ei:
        mc.list_multipart_uploads(Bucket=name)
    assert_client_error(ei, "NoSuchBucket", 404)
    mc.create_bucket(Bucket=name)
    try:
        assert mc.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        with pytest.raises(ClientError) as ei:
            mc.list_parts(Bucket=name, Key="x", UploadId=u1)
        assert_no_such_upload(ei)
    finally:
        empty_and_delete(mc, name)


def test_delete_bucket_with_an_object_still_refused(mc):
    name = new_bucket(mc, "mpdel2")
    try:
        multipart(mc, name, "obj", [b"abc"])
        create(mc, name, "pending")
        with pytest.raises(ClientError) as ei:
            mc.delete_bucket(Bucket=name)
        assert_client_error(ei, "BucketNotEmpty", 409)
    finally:
        empty_and_delete(mc, name)


def test_other_account_cannot_touch_uploads(msrv, mc, mb):
    uid = create(mc, mb, "mine")["UploadId"]
    other = msrv.client(ALICE[0], ALICE[1])
    try:
        calls = [
            lambda: create(other, mb, "theirs"),
            lambda: other.upload_part(Bucket=mb, Key="mine", UploadId=uid, PartNumber=1, Body=b"x"),
            lambda: other.list_parts(Bucket=mb, Key="mine", UploadId=uid),
            lambda: other.list_multipart_uploads(Bucket=mb),
            lambda: other.abort_multipart_upload(Bucket=mb, Key="mine", UploadId=uid),
            lambda: complete(other, mb, "mine", uid, [{"PartNumber": 1, "ETag": '"x"'}]),
        ]
        for call in calls:
            with pytest.raises(ClientError) as ei:
                call()
            assert_client_error(ei, "AccessDenied", 403)
        assert [u["UploadId"] for u in mc.list_multipart_uploads(Bucket=mb)["Uploads"]] == [uid]
    finally:
        mc.abort_multipart_upload(Bucket=mb, Key="mine", UploadId=uid)


# ================================================================================================
# Transfer managers: aws s3 cp (100 MiB) and boto3 upload_file/download_file
# ================================================================================================

def ok(res):
    assert res.rc == 0, res
    return res


CLI_CHUNK = 8 * MiB  # the aws CLI's default multipart_chunksize (and threshold)


def chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i:i + size] for i in range(0, len(body), size)]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mp-big") / "big.bin"
    path.write_bytes(data(100 * MiB))
    return path


@pytest.fixture(scope="module")
def kms_rule_bucket(mc):
    """A bucket whose default rule is SSE-KMS (testkey-1), with SSE-C unblocked."""
    name = unique_bucket_name("mpcli")
    mc.create_bucket(Bucket=name)
    unblock_ssec(mc, name, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_ID})
    yield name
    empty_and_delete(mc, name)


@pytest.mark.parametrize("mode", ["sse-s3", "sse-kms", "sse-c"])
def test_aws_cli_cp_100mib(aws_cli, msrv, mc, kms_rule_bucket, big_file, tmp_path, mode):
    body = data(100 * MiB)
    bucket = kms_rule_bucket
    key = f"cli/{mode}.bin"
    ckey = CKEY.decode()
    if mode == "sse-s3":
        flags = ["--sse", "AES256"]
    elif mode == "sse-kms":
        flags = ["--sse", "aws:kms", "--sse-kms-key-id", KMS_UUID]
    else:
        flags = ["--sse-c", "AES256", "--sse-c-key", ckey]
    ok(aws_cli("s3", "cp", str(big_file), f"s3://{bucket}/{key}", *flags, srv=msrv, timeout=180))
    read_kw = ssec() if mode == "sse-c" else {}
    hd = mc.head_object(Bucket=bucket, Key=key, **read_kw)
    n_parts = -(-len(body) // CLI_CHUNK)
    assert hd["ContentLength"] == len(body)
    assert re.fullmatch(rf'"[0-9a-f]{{32}}-{n_parts}"', hd["ETag"]), hd["ETag"]
    if mode == "sse-s3":
        assert sse_headers(hd) == {SSE: "AES256"}
        assert hd["ETag"] == mpu_etag(chunks(body, CLI_CHUNK))
    elif mode == "sse-kms":
        assert sse_headers(hd) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}
    else:
        assert sse_headers(hd) == {SSEC_ALG: "AES256", SSEC_MD5: md5_b64(CKEY)}
        with pytest.raises(ClientError) as ei:
            mc.head_object(Bucket=bucket, Key=key)
        assert_client_error(ei, None, 400)
    hd_part = mc.head_object(Bucket=bucket, Key=key, PartNumber=2, **read_kw)
    assert hd_part["PartsCount"] == n_parts and hd_part["ContentLength"] == CLI_CHUNK
    assert mc.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []) == []
    dst = tmp_path / "down.bin"
    down_flags = ["--sse-c", "AES256", "--sse-c-key", ckey] if mode == "sse-c" else []
    ok(aws_cli("s3", "cp", f"s3://{bucket}/{key}", str(dst), *down_flags, srv=msrv, timeout=180))
    got = dst.read_bytes()
    assert len(got) == len(body)
    assert got == body
    if mode == "sse-c":
        r = aws_cli("s3", "cp", f"s3://{bucket}/{key}", str(tmp_path / "nokey.bin"), srv=msrv)
        assert r.rc != 0
    mc.delete_object(Bucket=bucket, Key=key)


def test_aws_cli_cp_default_rule(aws_cli, msrv, mc, kms_rule_bucket, tmp_path):
    body = data(9 * MiB + 5, 4096)  # over the CLI's 8 MiB threshold: two parts
    src = tmp_path / "rule.bin"
    src.write_bytes(body)
    ok(aws_cli("s3", "cp", str(src), f"s3://{kms_rule_bucket}/cli/rule.bin", srv=msrv, timeout=120))
    hd = mc.head_object(Bucket=kms_rule_bucket, Key="cli/rule.bin")
    assert sse_headers(hd) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID)}
    assert re.fullmatch(r'"[0-9a-f]{32}-2"', hd["ETag"]), hd["ETag"]
    dst = tmp_path / "rule-down.bin"
    ok(aws_cli("s3", "cp", f"s3://{kms_rule_bucket}/cli/rule.bin", str(dst), srv=msrv, timeout=120))
    assert dst.read_bytes() == body


def test_aws_cli_s3api_multipart(aws_cli, msrv, mc, mb, tmp_path):
    p1, p2 = data(PART, 5000), data(777, 5)
    f1, f2 = tmp_path / "p1", tmp_path / "p2"
    f1.write_bytes(p1)
    f2.write_bytes(p2)
    r = ok(aws_cli("s3api", "create-multipart-upload", "--bucket", mb, "--key", "api", "--content-type",
                   "text/x-api", "--checksum-algorithm", "SHA256", srv=msrv))
    out = json.loads(r.stdout)
    uid = out["UploadId"]
    assert out["Key"] == "api" and out["ChecksumAlgorithm"] == "SHA256"
    parts = []
    for n, f in ((1, f1), (2, f2)):
        r = ok(aws_cli("s3api", "upload-part", "--bucket", mb, "--key", "api", "--upload-id", uid,
                       "--part-number", str(n), "--body", str(f), "--checksum-algorithm", "SHA256", srv=msrv))
        o = json.loads(r.stdout)
        parts.append({"PartNumber": n, "ETag": o["ETag"], "ChecksumSHA256": o["ChecksumSHA256"]})
    r = ok(aws_cli("s3api", "list-parts", "--bucket", mb, "--key", "api", "--upload-id", uid, srv=msrv))
    assert [p["Size"] for p in json.loads(r.stdout)["Parts"]] == [PART, 777]
    r = ok(aws_cli("s3api", "complete-multipart-upload", "--bucket", mb, "--key", "api", "--upload-id", uid,
                   "--multipart-upload", json.dumps({"Parts": parts}), srv=msrv))
    out = json.loads(r.stdout)
    assert out["ETag"] == mpu_etag([p1, p2])
    assert out["ChecksumSHA256"] == composite("SHA256", [p1, p2])
    g = mc.get_object(Bucket=mb, Key="api")
    assert g["Body"].read() == p1 + p2 and g["ContentType"] == "text/x-api"
    # abort through the CLI
    uid = json.loads(ok(aws_cli("s3api", "create-multipart-upload", "--bucket", mb, "--key", "gone",
                                srv=msrv)).stdout)["UploadId"]
    ok(aws_cli("s3api", "abort-multipart-upload", "--bucket", mb, "--key", "gone", "--upload-id", uid, srv=msrv))
    r = aws_cli("s3api", "abort-multipart-upload", "--bucket", mb, "--key", "gone", "--upload-id", uid, srv=msrv)
    assert r.rc != 0 and "NoSuchUpload" in r.stderr


TRANSFER = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=8)


@pytest.mark.parametrize("mode", ["default", "sse-c"])
def test_boto3_upload_file_download_file(msrv, mc, mb, tmp_path, mode):
    body = data(20 * MiB + 3, 9999)
    src = tmp_path / "src.bin"
    src.write_bytes(body)
    # SSE-C also asks for CRC32C part checksums: a COMPOSITE upload through s3transfer.
    extra = {"default": {}, "sse-c": {**ssec(), "ChecksumAlgorithm": "CRC32C"}}[mode]
    mc.upload_file(str(src), mb, "transfer.bin", ExtraArgs=dict(extra), Config=TRANSFER)
    read_kw = ssec() if mode == "sse-c" else {}
    hd = mc.head_object(Bucket=mb, Key="transfer.bin", ChecksumMode="ENABLED", **read_kw)
    pieces = chunks(body, 5 * MiB)
    assert hd["ContentLength"] == len(body)
    if mode == "default":
        assert hd["ETag"] == mpu_etag(pieces)
        assert hd["ServerSideEncryption"] == "AES256"
        # s3transfer creates the upload with CRC32 (botocore's default algorithm): COMPOSITE.
        assert hd["ChecksumCRC32"] == composite("CRC32", pieces) and hd["ChecksumType"] == "COMPOSITE"
    else:
        assert re.fullmatch(rf'"[0-9a-f]{{32}}-{len(pieces)}"', hd["ETag"]), hd["ETag"]
        assert hd["SSECustomerKeyMD5"] == md5_b64(CKEY) and "ServerSideEncryption" not in hd
        assert hd["ChecksumCRC32C"] == composite("CRC32C", pieces) and hd["ChecksumType"] == "COMPOSITE"
    dst = tmp_path / "dst.bin"
    mc.download_file(mb, "transfer.bin", str(dst), ExtraArgs=dict(read_kw), Config=TRANSFER)
    assert dst.read_bytes() == body
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []


def test_boto3_upload_file_with_a_full_object_checksum(mc, mb, tmp_path):
    """s3transfer turns a caller's ChecksumCRC32 into a FULL_OBJECT CRC32 upload and sends the value
    with CompleteMultipartUpload (x-amz-checksum-crc32), which S3 checks against the object.

    Fails with the same server bug as test_complete_with_the_whole_object_checksum_header."""
    body = data(10 * MiB + 3, 777)
    src = tmp_path / "full.bin"
    src.write_bytes(body)
    mc.upload_file(str(src), mb, "full.bin", ExtraArgs={"ChecksumCRC32": checksum("CRC32", body)}, Config=TRANSFER)
    hd = mc.head_object(Bucket=mb, Key="full.bin", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == checksum("CRC32", body) and hd["ChecksumType"] == "FULL_OBJECT"
    assert hd["ETag"] == mpu_etag(chunks(body, 5 * MiB))
