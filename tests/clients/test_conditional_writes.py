"""Conditional writes through boto3 and the aws CLI: If-None-Match: * and If-Match on PutObject,
CopyObject and CompleteMultipartUpload, If-Match on DeleteObject; every refusal changes nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def body_of(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert_client_error(e, None, 404)


def test_put_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    err = assert_client_error(e, "PreconditionFailed", 412)
    assert err["Error"]["Message"] == "At least one of the pre-conditions you specified did not hold"
    assert err["Error"]["Condition"] == "If-None-Match"
    assert body_of(s3, bucket, "k") == b"one"


def test_put_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=quoted_md5(b"stale"))
    err = assert_client_error(e, "PreconditionFailed", 412)
    assert err["Error"]["Condition"] == "If-Match"
    assert body_of(s3, bucket, "k") == b"one"
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)
    assert body_of(s3, bucket, "k") == b"two"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="none", Body=b"x", IfMatch=etag)
    assert_client_error(e, "NoSuchKey", 404)
    absent(s3, bucket, "none")


@pytest.mark.parametrize("extra", [{"IfNoneMatch": '"abc"'}, {"IfNoneMatch": "*", "IfMatch": '"abc"'}])
def test_put_unsupported_conditions_are_501(s3, bucket, extra):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", **extra)
    assert_client_error(e, "NotImplemented", 501)
    absent(s3, bucket, "k")


def test_copy_destination_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", IfNoneMatch="*")
    assert_client_error(e, "PreconditionFailed", 412)
    assert body_of(s3, bucket, "dst") == b"old"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src",
                       IfMatch=quoted_md5(b"stale"))
    assert_client_error(e, "PreconditionFailed", 412)
    assert body_of(s3, bucket, "dst") == b"old"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="none", CopySource=f"{bucket}/src",
                       IfMatch=quoted_md5(b"old"))
    assert_client_error(e, "NoSuchKey", 404)
    absent(s3, bucket, "none")
    s3.copy_object(Bucket=bucket, Key="fresh", CopySource=f"{bucket}/src", IfNoneMatch="*")
    assert body_of(s3, bucket, "fresh") == b"source"
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", IfMatch=quoted_md5(b"old"))
    assert body_of(s3, bucket, "dst") == b"source"


def one_part_upload(s3, bucket, key, body):
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
    return uid, {"Parts": [{"PartNumber": 1, "ETag": etag}]}


def test_complete_multipart_upload_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"existing")
    uid, parts = one_part_upload(s3, bucket, "k", b"new")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfNoneMatch="*")
    assert_client_error(e, "PreconditionFailed", 412)
    assert body_of(s3, bucket, "k") == b"existing"
    # The upload is kept: the client can complete it (here without the condition).
    assert len(s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]) == 1
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts)
    assert body_of(s3, bucket, "k") == b"new"

    uid, parts = one_part_upload(s3, bucket, "fresh", b"created")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="fresh", UploadId=uid, MultipartUpload=parts, IfNoneMatch="*")
    assert body_of(s3, bucket, "fresh") == b"created"


def test_complete_multipart_upload_if_match(s3, bucket):
    uid, parts = one_part_upload(s3, bucket, "k", b"new")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfMatch='"abc"')
    assert_client_error(e, "NoSuchKey", 404)
    absent(s3, bucket, "k")
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfMatch='"abc"')
    assert_client_error(e, "PreconditionFailed", 412)
    assert body_of(s3, bucket, "k") == b"v1"
    s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfMatch=etag)
    assert body_of(s3, bucket, "k") == b"new"


def test_delete_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"body")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch=quoted_md5(b"stale"))
    assert_client_error(e, "PreconditionFailed", 412)
    assert body_of(s3, bucket, "k") == b"body"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="none", IfMatch="*")
    assert_client_error(e, "NoSuchKey", 404)
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    absent(s3, bucket, "k")


def test_aws_cli_put_object_if_none_match(aws_cli, s3, bucket, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"cli body")
    args = ["s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(src),
            "--if-none-match", "*"]
    first = aws_cli(*args)
    assert first.rc == 0, first
    assert json.loads(first.stdout)["ETag"] == quoted_md5(b"cli body")
    src.write_bytes(b"other")
    second = aws_cli(*args)
    assert second.rc != 0, second
    assert "PreconditionFailed" in second.stderr, second
    assert body_of(s3, bucket, "k") == b"cli body"
