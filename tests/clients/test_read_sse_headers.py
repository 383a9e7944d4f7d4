"""SSE request headers on GetObject and HeadObject: S3 answers 400 InvalidArgument ("If you include
these headers in your GET request for an object that uses SSE-S3/KMS, you get an HTTP 400 Bad
Request error"), for objects under SSE-S3, SSE-KMS, DSSE-KMS and SSE-C; nothing changes."""

from __future__ import annotations

import base64
import json
import os

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import assert_client_error
from encryption_common import (
    KMS_ID, MSG_KMS_NEEDS_HEADER, MSG_SSEC_INCOMPATIBLE, SSE, SSE_BUCKET_KEY, SSE_CONTEXT, SSE_KEY_ID, kb, kc,
    ksrv, raw, ssec_headers,
)

MSG = "{} header is not supported for this operation."
MSG_CONTEXT = ("Server Side Encryption with an encryption context requires HTTP header "
               "x-amz-server-side-encryption : aws:kms")
CONTEXT = base64.b64encode(json.dumps({"app": "x"}).encode()).decode()

# (headers, message, ArgumentName, ArgumentValue)
CASES = [
    ({SSE: "AES256"}, MSG.format(SSE), SSE, "AES256"),
    ({SSE: "aws:kms", SSE_KEY_ID: KMS_ID}, MSG.format(SSE), SSE, "aws:kms"),
    ({SSE: "aws:kms:dsse"}, MSG.format(SSE), SSE, "aws:kms:dsse"),
    ({SSE: "aws:kms", SSE_CONTEXT: CONTEXT, SSE_BUCKET_KEY: "true"}, MSG.format(SSE), SSE, "aws:kms"),
    ({SSE_KEY_ID: KMS_ID}, MSG_KMS_NEEDS_HEADER, SSE, None),
    ({SSE_CONTEXT: CONTEXT}, MSG_CONTEXT, SSE_CONTEXT, ""),
    ({SSE_BUCKET_KEY: "true"}, MSG.format(SSE_BUCKET_KEY), SSE_BUCKET_KEY, "true"),
]
MODES = {
    "sse-s3": {"ServerSideEncryption": "AES256"},
    "sse-kms": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID},
    "dsse-kms": {"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_ID},
}


def add_headers(client, headers: dict):
    """Adds ``headers`` to every GetObject/HeadObject of ``client`` before signing (their models
    have no SSE parameters); returns the handler to unregister."""
    def handler(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    for op in ("GetObject", "HeadObject"):
        client.meta.events.register(f"before-sign.s3.{op}", handler)
    return handler


def remove_headers(client, handler):
    for op in ("GetObject", "HeadObject"):
        client.meta.events.unregister(f"before-sign.s3.{op}", handler)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_raw_get_and_head_refuse_sse_headers(ksrv, kc, kb, mode, case):
    headers, message, name, value = CASES[case]
    body = os.urandom(100)
    kc.put_object(Bucket=kb, Key="k", Body=body, **MODES[mode])
    r = raw(ksrv, "GET", kb, "k", headers)
    err = h.assert_s3_error(r, 400, "InvalidArgument")
    assert (err["Message"], err["ArgumentName"], err.get("ArgumentValue")) == (message, name, value)
    r = raw(ksrv, "GET", kb, "k", {**headers, "Range": "bytes=0-9"})
    h.assert_s3_error(r, 400, "InvalidArgument")
    hd = raw(ksrv, "HEAD", kb, "k", headers)
    assert (hd.status, hd.data) == (400, b"")
    h.assert_request_ids(hd)
    got = kc.get_object(Bucket=kb, Key="k")
    assert got["Body"].read() == body and got["ServerSideEncryption"] == MODES[mode]["ServerSideEncryption"]


def test_boto3_get_and_head_refuse_sse_headers(ksrv, kb):
    c = ksrv.client()
    c.put_object(Bucket=kb, Key="k", Body=b"kms body", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    handler = add_headers(c, {SSE: "aws:kms"})
    try:
        with pytest.raises(ClientError) as ei:
            c.get_object(Bucket=kb, Key="k")
        err = assert_client_error(ei, "InvalidArgument", 400)
        assert err["Error"]["Message"] == MSG.format(SSE)
        assert err["Error"]["ArgumentName"] == SSE and err["Error"]["ArgumentValue"] == "aws:kms"
        with pytest.raises(ClientError) as ei:
            c.head_object(Bucket=kb, Key="k")
        assert_client_error(ei, None, 400)
    finally:
        remove_headers(c, handler)
    assert c.get_object(Bucket=kb, Key="k")["Body"].read() == b"kms body"


def test_ssec_object(ksrv, kc, kb):
    key = os.urandom(32)
    kc.put_object(Bucket=kb, Key="c", Body=b"customer", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    ssec = ssec_headers(key)
    # With its key: x-amz-server-side-encryption is the incompatible combination; each KMS header
    # is refused naming itself.
    r = raw(ksrv, "GET", kb, "c", {**ssec, SSE: "AES256"})
    err = h.assert_s3_error(r, 400, "InvalidArgument")
    assert err["Message"] == MSG_SSEC_INCOMPATIBLE
    for name, value in [(SSE_KEY_ID, KMS_ID), (SSE_CONTEXT, CONTEXT), (SSE_BUCKET_KEY, "true")]:
        r = raw(ksrv, "GET", kb, "c", {**ssec, name: value})
        err = h.assert_s3_error(r, 400, "InvalidArgument")
        assert (err["Message"], err["ArgumentName"], err["ArgumentValue"]) == (MSG.format(name), name, value)
        hd = raw(ksrv, "HEAD", kb, "c", {**ssec, name: value})
        assert (hd.status, hd.data) == (400, b"")
    # Without its key the SSE header is refused first (not the missing key's InvalidRequest).
    r = raw(ksrv, "GET", kb, "c", {SSE: "AES256"})
    err = h.assert_s3_error(r, 400, "InvalidArgument")
    assert err["Message"] == MSG.format(SSE)
    got = kc.get_object(Bucket=kb, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"customer"


def test_copy_object_takes_sse_headers_for_its_destination(kc, kb):
    """CopyObject's SSE headers choose the new object's encryption (S3 has no such header for the
    source side, only the SSE-C copy-source key): they are accepted."""
    kc.put_object(Bucket=kb, Key="src", Body=b"copy me")
    out = kc.copy_object(Bucket=kb, Key="dst", CopySource={"Bucket": kb, "Key": "src"},
                         ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    assert out["ServerSideEncryption"] == "aws:kms"
    assert kc.get_object(Bucket=kb, Key="dst")["Body"].read() == b"copy me"


def test_upload_part_refuses_sse_headers(ksrv, kc, kb):
    """The upload's encryption is chosen by CreateMultipartUpload; UploadPart refuses the headers
    (S3's InvalidArgument) and stores nothing."""
    up = kc.create_multipart_upload(Bucket=kb, Key="mp", ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_ID)
    params = {"partNumber": "1", "uploadId": up["UploadId"]}
    r = raw(ksrv, "PUT", kb, "mp", {SSE: "aws:kms"}, body=b"part", params=params)
    err = h.assert_s3_error(r, 400, "InvalidArgument")
    assert (err["Message"], err["ArgumentName"], err["ArgumentValue"]) == (MSG.format(SSE), SSE, "aws:kms")
    assert kc.list_parts(Bucket=kb, Key="mp", UploadId=up["UploadId"]).get("Parts", []) == []
    p = kc.upload_part(Bucket=kb, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"part")
    kc.complete_multipart_upload(Bucket=kb, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert kc.get_object(Bucket=kb, Key="mp")["Body"].read() == b"part"
