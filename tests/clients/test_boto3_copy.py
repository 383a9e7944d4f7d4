"""CopyObject through boto3 and raw HTTP."""

from __future__ import annotations

import datetime
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
import s3helpers as h

DAY = datetime.timedelta(days=1)


def body_of(s3, b, k):
    return s3.get_object(Bucket=b, Key=k)["Body"].read()


def test_copy_same_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me")
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(b"copy me").hexdigest() + '"'
    assert r["CopyObjectResult"]["LastModified"] is not None
    assert body_of(s3, bucket, "dst") == b"copy me"
    assert body_of(s3, bucket, "src") == b"copy me"


def test_copy_cross_bucket_large(s3, bucket, cleanup_buckets):
    from conftest import unique_bucket_name
    other = unique_bucket_name()
    s3.create_bucket(Bucket=other)
    cleanup_buckets.append((s3, other))
    data = os.urandom(2 * 1024 * 1024 + 11)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    r = s3.copy_object(Bucket=other, Key="copied/big", CopySource={"Bucket": bucket, "Key": "big"})
    assert r["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    got = body_of(s3, other, "copied/big")
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("key", ["sp ace/a+b", "pct%25/x%y", "uni-ü-日本/😀", "q?x=1&y#z", "../up", "a" * 1024])
def test_copy_keys_needing_encoding(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=b"enc " + key.encode())
    dst = "dst/" + key[:1000]
    s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": key})
    assert body_of(s3, bucket, dst) == b"enc " + key.encode()
    # string form "bucket/key" (boto3 URL-encodes it too)
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/{key}")
    assert body_of(s3, bucket, "dst2") == b"enc " + key.encode()


def test_copy_source_raw_header_forms(server, s3, bucket):
    key = "raw src/ü+x"
    s3.put_object(Bucket=bucket, Key=key, Body=b"raw")
    enc = h.key_path(key)
    for i, src in enumerate([f"{bucket}/{enc}", f"/{bucket}/{enc}", f"/{bucket}/{enc}?versionId=null"]):
        url = h.url_for(server.url, bucket, f"d{i}")
        r = h.signed("PUT", url, {"x-amz-copy-source": src})
        assert r.status == 200, (src, r.data)
        root = h.xml_root(r.data)
        assert h.strip_ns(root.tag) == "CopyObjectResult"
        assert h.findall_text(root, "ETag") == ['"' + hashlib.md5(b"raw").hexdigest() + '"']
        assert body_of(s3, bucket, f"d{i}") == b"raw"


def test_copy_source_version_null(s3, bucket):
    s3.put_object(Bucket=bucket, Key="v", Body=b"vnull")
    s3.copy_object(Bucket=bucket, Key="v2", CopySource={"Bucket": bucket, "Key": "v", "VersionId": "null"})
    assert body_of(s3, bucket, "v2") == b"vnull"


def test_metadata_directive_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"m", Metadata={"a": "1", "b": "two"},
                  ContentType="text/x-src", CacheControl="no-cache", ContentLanguage="en",
                  ContentDisposition="inline")
    # COPY is the default; any metadata given with it is ignored
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="COPY", Metadata={"ignored": "yes"})
    for k in ("dst", "dst2"):
        hd = s3.head_object(Bucket=bucket, Key=k)
        assert hd["Metadata"] == {"a": "1", "b": "two"}
        assert hd["ContentType"] == "text/x-src"
        assert hd["CacheControl"] == "no-cache"
        assert hd["ContentLanguage"] == "en"
        assert hd["ContentDisposition"] == "inline"


def test_metadata_directive_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"m", Metadata={"a": "1"}, ContentType="text/x-src",
                  CacheControl="no-cache")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"new": "value"}, ContentType="application/x-new")
    hd = s3.head_object(Bucket=bucket, Key="dst")
    assert hd["Metadata"] == {"new": "value"}
    assert hd["ContentType"] == "application/x-new"
    assert "CacheControl" not in hd
    assert body_of(s3, bucket, "dst") == b"m"
    # source untouched
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"a": "1"}


def test_copy_onto_itself_requires_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"self", Metadata={"old": "1"})
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                       MetadataDirective="COPY")
    assert_client_error(ei, "InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"new": "2"})
    g = s3.get_object(Bucket=bucket, Key="self")
    assert g["Body"].read() == b"self"
    assert g["Metadata"] == {"new": "2"}


def test_copy_missing_source_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})
    assert_client_error(ei, "NoSuchKey", 404)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_copy_missing_source_bucket(s3, bucket, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket_name, "Key": "k"})
    assert_client_error(ei, "NoSuchBucket", 404)


def test_copy_source_conditionals(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"cond")
    hd = s3.head_object(Bucket=bucket, Key="src")
    etag, lm = hd["ETag"], hd["LastModified"]
    other = '"0123456789abcdef0123456789abcdef"'
    # CopyObject reference: every failing copy-source condition -> 412 PreconditionFailed;
    # if-match true + if-unmodified-since false -> copy; if-none-match false +
    # if-modified-since true -> 412.
    cases = [
        ({"CopySourceIfMatch": etag}, 200),
        ({"CopySourceIfMatch": other}, 412),
        ({"CopySourceIfNoneMatch": etag}, 412),
        ({"CopySourceIfNoneMatch": other}, 200),
        ({"CopySourceIfModifiedSince": lm - DAY}, 200),
        ({"CopySourceIfModifiedSince": lm + DAY}, 412),
        ({"CopySourceIfUnmodifiedSince": lm + DAY}, 200),
        ({"CopySourceIfUnmodifiedSince": lm - DAY}, 412),
        ({"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": lm - DAY}, 200),
        ({"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": lm - DAY}, 412),
    ]
    failures = []
    for i, (kw, want) in enumerate(cases):
        dst = f"dst{i}"
        try:
            r = s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": "src"}, **kw)
            got, code = r["ResponseMetadata"]["HTTPStatusCode"], None
        except ClientError as e:
            got, code = e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
        if got != want or (want == 412 and code != "PreconditionFailed"):
            failures.append((kw, want, got, code))
        exists = dst in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=dst).get("Contents", [])]
        if exists != (want == 200):
            failures.append((kw, "object exists" if want != 200 else "object missing"))
    assert not failures, f"copy-source conditional mismatches: {failures}"
