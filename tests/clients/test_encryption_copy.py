"""Encryption at rest: CopyObject between SSE modes, and the aws CLI's --sse / --sse-c options."""

from __future__ import annotations

import json
import os
import re

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import DEFAULT_ACCOUNT, assert_client_error
from encryption_common import (
    KMS_ID, KMS_UUID, REGION, SEG, SRC_SSEC_ALG, SRC_SSEC_MD5, UUID_RE, _SHORT, arn, assert_unchanged, expect_s3, kb,
    kc, ksrv, md5_b64, pattern, quoted_md5, raw, sse_headers, ssec_headers, ssec_object,
)


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
