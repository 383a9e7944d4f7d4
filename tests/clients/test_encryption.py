"""Encryption at rest, what clients see: SSE-S3, SSE-KMS (key forms, aliases, the managed key,
bucket keys, context), DSSE-KMS, SSE-C, and ranges in every mode."""

from __future__ import annotations

import json
import os
import re

import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name
from encryption_common import (
    KMS_ALIAS, KMS_ID, KMS_UUID, REGION, SEG, SSE_CONTEXT, UUID_RE, arn, b64, create_bucket, expect_s3, kb, kc, ksrv,
    md5_b64, pattern, quoted_md5, sse_headers, ssec_object,
)


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
