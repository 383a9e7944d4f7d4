"""Encryption at rest: S3's validation of the SSE request headers (nothing stored), KMS key
resolution errors, and SSE-C read errors."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error
from encryption_common import (
    KMS_ID, KMS_UUID, MSG_KMS_NEEDS_HEADER, MSG_NOT_SUPPORTED, MSG_SSEC_ALGORITHM, MSG_SSEC_INCOMPATIBLE,
    MSG_SSEC_KEY_LENGTH, MSG_SSEC_MD5, MSG_SSEC_MISSING, MSG_SSEC_NO_ALGORITHM, MSG_SSEC_NO_KEY, MSG_SSEC_WRONG, SSE,
    SSEC_ALG, SSEC_KEY, SSEC_MD5, SSE_CONTEXT, SSE_KEY_ID, _SHORT, arn, assert_unchanged, b64, kb, kc, ksrv, md5_b64,
    raw, raw_sse_headers, ssec_headers, ssec_object,
)


# -- write validation (§2.3) ------------------------------------------------------------------------

_C = os.urandom(32)
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
