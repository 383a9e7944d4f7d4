"""Content-Encoding is returned as the client sent it, minus the aws-chunked token and the separator
next to it (boto3, real aws-chunked uploads, the aws CLI)."""

from __future__ import annotations

import gzip
import os

import pytest

import s3helpers as h
from test_chunked import SIGNED, UNSIGNED_TRAILER, put_chunked

CASES = [
    ("deflate, gzip", "deflate, gzip"),
    ("deflate,gzip", "deflate,gzip"),
    ("gzip", "gzip"),
    ("aws-chunked, gzip", "gzip"),
    ("gzip,aws-chunked", "gzip"),
    ("gzip, aws-chunked, br", "gzip, br"),
    ("aws-chunked", None),
]


def assert_encoding(server, s3, bucket, key, want):
    assert s3.head_object(Bucket=bucket, Key=key).get("ContentEncoding") == want
    assert s3.get_object(Bucket=bucket, Key=key).get("ContentEncoding") == want
    # Raw HEAD (urllib3 would try to decode a GET's body): the exact header, once.
    r = h.signed("HEAD", h.url_for(server.url, bucket, key))
    assert r.status == 200
    assert r.headers.getlist("Content-Encoding") == ([want] if want else [])


@pytest.mark.parametrize("sent,want", CASES)
def test_boto3_put_object(server, s3, bucket, sent, want):
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentEncoding=sent)
    assert_encoding(server, s3, bucket, "k", want)


@pytest.mark.parametrize("sent,want", CASES)
@pytest.mark.parametrize("mode", [SIGNED, UNSIGNED_TRAILER])
def test_aws_chunked_uploads(server, s3, bucket, sent, want, mode):
    """A really aws-chunked body, with the token anywhere in the list."""
    if "aws-chunked" not in sent:
        sent = f"aws-chunked, {sent}"
    payload = gzip.compress(os.urandom(20_000))
    kw = {"trailer_alg": "crc32"} if mode == UNSIGNED_TRAILER else {}
    r = put_chunked(server, bucket, "c", [payload[:10_000], payload[10_000:]], mode, content_encoding=sent, **kw)
    assert r.status == 200, r.data
    assert_encoding(server, s3, bucket, "c", want)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == payload


def test_copy_and_multipart(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", ContentEncoding="deflate, gzip")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert_encoding(server, s3, bucket, "copy", "deflate, gzip")
    s3.copy_object(Bucket=bucket, Key="repl", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", ContentEncoding="gzip, aws-chunked, br")
    assert_encoding(server, s3, bucket, "repl", "gzip, br")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentEncoding="br, gzip")
    p = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"part")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert_encoding(server, s3, bucket, "mp", "br, gzip")


def test_aws_cli(aws_cli, server, s3, bucket, tmp_path):
    f = tmp_path / "f.gz"
    f.write_bytes(gzip.compress(b"hello"))
    r = aws_cli("s3", "cp", str(f), f"s3://{bucket}/cli.gz", "--content-encoding", "deflate, gzip")
    assert r.rc == 0, r
    assert_encoding(server, s3, bucket, "cli.gz", "deflate, gzip")
    r = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "cli.gz")
    assert r.rc == 0 and '"ContentEncoding": "deflate, gzip"' in r.stdout, r
