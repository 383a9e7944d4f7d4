"""Object operations through boto3: put/get/head/delete, headers, ranges, conditionals, keys."""

from __future__ import annotations

import datetime
import email.utils
import gzip
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
import s3helpers as h


def put(s3, bucket, key, body, **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, **kw)


def get_bytes(s3, bucket, key, **kw) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def http_date(dt: datetime.datetime) -> str:
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024 + 3])
def test_put_get_round_trip(s3, bucket, size):
    body = os.urandom(size)
    r = put(s3, bucket, f"obj-{size}", body)
    assert r["ETag"] == quoted_md5(body)
    g = s3.get_object(Bucket=bucket, Key=f"obj-{size}")
    data = g["Body"].read()
    assert len(data) == size
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(body).hexdigest()
    assert g["ContentLength"] == size
    assert g["ETag"] == quoted_md5(body)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert g["AcceptRanges"] == "bytes"
    # S3's default Content-Type when none was given
    assert g["ContentType"] == "binary/octet-stream"
    assert isinstance(g["LastModified"], datetime.datetime)
    hd = s3.head_object(Bucket=bucket, Key=f"obj-{size}")
    assert hd["ContentLength"] == size
    assert hd["ETag"] == quoted_md5(body)
    assert hd["LastModified"] == g["LastModified"]


def test_empty_object_etag(s3, bucket):
    r = put(s3, bucket, "empty", b"")
    assert r["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_empty_put_then_put_on_same_connection(server, bucket):
    """boto3 sends "Expect: 100-continue" even with Content-Length: 0.  If the server answers
    such a request without a "100 Continue", botocore keeps a stale status line for the pooled
    connection and the next PUT with a body on it hangs until the read timeout
    (boto/botocore#3755, boto/boto3#3757).  S3 answers 100 Continue, so boto3 works there.
    """
    c = server.client(read_timeout=5, max_pool_connections=1)
    c.put_object(Bucket=bucket, Key="e0", Body=b"")
    c.put_object(Bucket=bucket, Key="e1", Body=b"after an empty put")
    c.put_object(Bucket=bucket, Key="e2", Body=b"")
    c.put_object(Bucket=bucket, Key="e3", Body=b"x" * 100000)
    assert c.get_object(Bucket=bucket, Key="e1")["Body"].read() == b"after an empty put"
    assert c.get_object(Bucket=bucket, Key="e3")["ContentLength"] == 100000


def test_overwrite_replaces_body_and_metadata(s3, bucket):
    put(s3, bucket, "k", b"first", Metadata={"v": "1"}, ContentType="text/plain")
    put(s3, bucket, "k", b"second!")
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"second!"
    assert g["Metadata"] == {}
    assert g["ContentType"] == "binary/octet-stream"
    assert g["ETag"] == quoted_md5(b"second!")


def test_metadata_and_content_headers_preserved(s3, bucket):
    body = gzip.compress(b"hello metadata" * 10)
    expires = datetime.datetime(2037, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
    put(
        s3, bucket, "meta", body,
        Metadata={"Color": "Blue", "multi-word-name": "a value with spaces", "empty": ""},
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=3600, must-revalidate",
        ContentDisposition='attachment; filename="report.txt"',
        ContentEncoding="gzip",
        ContentLanguage="de-CH",
        Expires=expires,
    )
    for r in (s3.get_object(Bucket=bucket, Key="meta"), s3.head_object(Bucket=bucket, Key="meta")):
        # S3 lower-cases metadata names (HTTP header names are case-insensitive)
        assert r["Metadata"] == {"color": "Blue", "multi-word-name": "a value with spaces", "empty": ""}
        assert r["ContentType"] == "text/plain; charset=utf-8"
        assert r["CacheControl"] == "max-age=3600, must-revalidate"
        assert r["ContentDisposition"] == 'attachment; filename="report.txt"'
        assert r["ContentEncoding"] == "gzip"
        assert r["ContentLanguage"] == "de-CH"
        assert r["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
        assert r["ETag"] == quoted_md5(body)
    # bytes are returned exactly as stored (never decoded by the server)
    assert get_bytes(s3, bucket, "meta") == body


def test_put_acl_private_accepted(s3, bucket):
    put(s3, bucket, "acl", b"x", ACL="private")
    assert get_bytes(s3, bucket, "acl") == b"x"


def test_put_into_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        put(s3, bucket_name, "k", b"x")
    err = assert_client_error(ei, "NoSuchBucket", 404)
    assert err["Error"].get("BucketName") == bucket_name


def test_get_missing_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="no/such key")
    err = assert_client_error(ei, "NoSuchKey", 404)
    assert err["Error"].get("Key") == "no/such key"


def test_head_missing_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="nothing")
    assert_client_error(ei, None, 404)


def test_head_error_has_no_body(server, bucket):
    r = h.signed("HEAD", h.url_for(server.url, bucket, "nothing"))
    assert r.status == 404
    assert r.data == b""
    h.assert_request_ids(r)


def test_get_version_id_null_is_current(s3, bucket):
    put(s3, bucket, "v", b"current")
    g = s3.get_object(Bucket=bucket, Key="v", VersionId="null")
    assert g["Body"].read() == b"current"
    hd = s3.head_object(Bucket=bucket, Key="v", VersionId="null")
    assert hd["ContentLength"] == len(b"current")


def test_x_id_query_parameter_ignored(server, bucket, s3):
    # The JS SDK v3 appends ?x-id=PutObject / GetObject (issue 3).
    url = h.url_for(server.url, bucket, "xid", params={"x-id": "PutObject"})
    r = h.signed("PUT", url, body=b"via x-id")
    assert r.status == 200, r.data
    r = h.signed("GET", h.url_for(server.url, bucket, "xid", params={"x-id": "GetObject"}))
    assert r.status == 200, r.data
    assert r.data == b"via x-id"


# ---------------------------------------------------------------- delete

def test_delete_object_idempotent(s3, bucket):
    put(s3, bucket, "gone", b"x")
    r = s3.delete_object(Bucket=bucket, Key="gone")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="gone")
    assert_client_error(ei, "NoSuchKey", 404)
    r = s3.delete_object(Bucket=bucket, Key="gone")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    r = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_objects_verbose(s3, bucket):
    for k in ("a", "b", "c"):
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "missing"]
    assert not r.get("Errors")
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert left == ["c"]


def test_delete_objects_quiet(s3, bucket):
    for k in ("q1", "q2"):
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}], "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not r.get("Deleted"), "Quiet mode reports only errors"
    assert not r.get("Errors")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_version_null_and_bypass_governance(s3, bucket):
    # Terraform force_destroy / test teardown: ListObjectVersions then DeleteObjects with
    # VersionId "null" entries and x-amz-bypass-governance-retention (issue 3).
    keys = ["t1", "dir/t2", "sp ace+plus"]
    for k in keys:
        put(s3, bucket, k, b"x")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
    assert all(o["VersionId"] == "null" for o in objs)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs}, BypassGovernanceRetention=True)
    assert not r.get("Errors"), r.get("Errors")
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_special_keys(s3, bucket):
    keys = ["a&b<c>'d\"", "x y", "uni-ü-日本", "p+q%r"]
    for k in keys:
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_deletes_exactly_the_named_keys(s3, bucket):
    """NEL and LINE SEPARATOR are plain characters in S3's XML 1.0 documents: deleting
    "a\u2028b" must not delete "a\nb" (an XML 1.1 parser turns both into LF)."""
    named = ["a\u2028b", "a\u0085b"]
    others = ["a\nb", "a b"]
    for k in named + others:
        put(s3, bucket, k, k.encode())
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in named]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(named)
    assert not r.get("Errors")
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == sorted(others)
    for k in others:
        assert get_bytes(s3, bucket, k) == k.encode()


# ---------------------------------------------------------------- keys

SPECIAL_KEYS = [
    "with space",
    "plus+sign",
    "percent%20literal",
    "100%",
    "../escape",
    "../../../../etc/passwd-like",
    "..",
    ".",
    "./dot",
    "a/../b",
    "dir/..",
    "unicode-ü-日本語-😀",
    "dir/sub/file.txt",
    "trailing/",
    "//double//slash",
    "tilde~and=equals&amp",
    "q?mark#hash",
    "semi;colon,comma:colon@at$dollar",
    "tab\tand\\backslash",
    "a" * 1024,
    "é" * 512,                           # 1024 UTF-8 bytes
]


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=lambda k: repr(k[:40]))
def test_special_keys_round_trip(s3, bucket, key):
    body = ("body of " + key).encode()
    put(s3, bucket, key, body)
    assert get_bytes(s3, bucket, key) == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_similar_keys_are_distinct(s3, bucket):
    keys = ["a b", "a+b", "a%20b", "a%2Bb", "A B", "dir", "dir/", "dir/file", "..", "../dir"]
    for k in keys:
        put(s3, bucket, k, k.encode())
    for k in keys:
        assert get_bytes(s3, bucket, k) == k.encode(), k
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda s: s.encode())


@pytest.mark.parametrize("key", ["a" * 1025, "é" * 512 + "a"])
def test_key_too_long(s3, bucket, key):
    with pytest.raises(ClientError) as ei:
        put(s3, bucket, key, b"x")
    assert_client_error(ei, "KeyTooLongError", 400)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# ---------------------------------------------------------------- ranges

RANGE_BODY = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize("rng,start,end", [
    ("bytes=0-0", 0, 0),
    ("bytes=0-9", 0, 9),
    ("bytes=10-19", 10, 19),
    ("bytes=1000-", 1000, 1023),
    ("bytes=5-", 5, 1023),
    ("bytes=-5", 1019, 1023),
    ("bytes=1020-5000", 1020, 1023),     # last-byte-pos past the end is clamped
    ("bytes=-2000", 0, 1023),            # suffix longer than the object is the whole object
])
def test_get_range(s3, bucket, rng, start, end):
    put(s3, bucket, "r", RANGE_BODY)
    g = s3.get_object(Bucket=bucket, Key="r", Range=rng)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == f"bytes {start}-{end}/1024"
    assert g["ContentLength"] == end - start + 1
    assert g["Body"].read() == RANGE_BODY[start:end + 1]
    assert g["ETag"] == quoted_md5(RANGE_BODY)


@pytest.mark.parametrize("rng", ["bytes=1024-", "bytes=2000-3000", "bytes=1024-1030"])
def test_get_range_unsatisfiable(s3, bucket, rng):
    put(s3, bucket, "r", RANGE_BODY)
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="r", Range=rng)
    assert_client_error(ei, "InvalidRange", 416)


def test_range_on_large_object(s3, bucket):
    body = os.urandom(3 * 1024 * 1024 + 17)
    put(s3, bucket, "big", body)
    a, b = 1024 * 1024 - 5, 2 * 1024 * 1024 + 5
    g = s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={a}-{b}")
    assert g["Body"].read() == body[a:b + 1]
    assert g["ContentRange"] == f"bytes {a}-{b}/{len(body)}"
    g = s3.get_object(Bucket=bucket, Key="big", Range="bytes=-100")
    assert g["Body"].read() == body[-100:]


# ---------------------------------------------------------------- conditionals

@pytest.fixture
def cond_obj(s3, bucket):
    put(s3, bucket, "c", b"conditional body")
    hd = s3.head_object(Bucket=bucket, Key="c")
    return bucket, hd["ETag"], hd["LastModified"]


def _status_of(fn):
    try:
        r = fn()
        if "Body" in r:
            r["Body"].read()
        return r["ResponseMetadata"]["HTTPStatusCode"], None
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response.get("Error", {}).get("Code")


DAY = datetime.timedelta(days=1)


def _cases(etag, lm):
    """(kwargs, expected status for GET) per the S3 GetObject reference / RFC 7232."""
    return [
        ({"IfMatch": etag}, 200),
        ({"IfMatch": '"0123456789abcdef0123456789abcdef"'}, 412),
        ({"IfNoneMatch": etag}, 304),
        ({"IfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, 200),
        ({"IfModifiedSince": lm - DAY}, 200),
        ({"IfModifiedSince": lm}, 304),
        ({"IfModifiedSince": lm + DAY}, 304),
        ({"IfUnmodifiedSince": lm + DAY}, 200),
        ({"IfUnmodifiedSince": lm}, 200),
        ({"IfUnmodifiedSince": lm - DAY}, 412),
        # If-Match true + If-Unmodified-Since false -> 200 (S3 GetObject reference)
        ({"IfMatch": etag, "IfUnmodifiedSince": lm - DAY}, 200),
        # If-None-Match false + If-Modified-Since true -> 304 (S3 GetObject reference)
        ({"IfNoneMatch": etag, "IfModifiedSince": lm - DAY}, 304),
        ({"IfMatch": '"0123456789abcdef0123456789abcdef"', "IfNoneMatch": etag}, 412),
    ]


def test_get_conditionals(s3, cond_obj):
    bucket, etag, lm = cond_obj
    failures = []
    for kwargs, want in _cases(etag, lm):
        got, code = _status_of(lambda: s3.get_object(Bucket=bucket, Key="c", **kwargs))
        want_code = {412: "PreconditionFailed", 304: "304", 200: None}[want]
        if got != want or (want == 412 and code != want_code):
            failures.append((kwargs, want, got, code))
    assert not failures, f"conditional GET mismatches (kwargs, want, got, code): {failures}"


def test_head_conditionals(s3, cond_obj):
    bucket, etag, lm = cond_obj
    failures = []
    for kwargs, want in _cases(etag, lm):
        got, _ = _status_of(lambda: s3.head_object(Bucket=bucket, Key="c", **kwargs))
        if got != want:
            failures.append((kwargs, want, got))
    assert not failures, f"conditional HEAD mismatches (kwargs, want, got): {failures}"


def test_conditional_raw_shapes(server, cond_obj):
    bucket, etag, lm = cond_obj
    url = h.url_for(server.url, bucket, "c")
    r = h.signed("GET", url, {"If-None-Match": etag})
    assert r.status == 304
    assert r.data == b""
    assert r.headers.get("ETag") == etag
    h.assert_request_ids(r)
    r = h.signed("GET", url, {"If-Match": '"ffffffffffffffffffffffffffffffff"'})
    h.assert_s3_error(r, 412, "PreconditionFailed")


# ---------------------------------------------------------------- response-* overrides

def test_response_header_overrides(s3, bucket):
    put(s3, bucket, "o", b"override me", ContentType="text/plain", CacheControl="no-store")
    exp = datetime.datetime(2030, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    g = s3.get_object(
        Bucket=bucket, Key="o",
        ResponseContentType="application/x-override",
        ResponseContentLanguage="fr",
        ResponseCacheControl="max-age=5",
        ResponseContentDisposition='inline; filename="o.bin"',
        ResponseContentEncoding="identity",
        ResponseExpires=exp,
    )
    assert g["Body"].read() == b"override me"
    assert g["ContentType"] == "application/x-override"
    assert g["ContentLanguage"] == "fr"
    assert g["CacheControl"] == "max-age=5"
    assert g["ContentDisposition"] == 'inline; filename="o.bin"'
    assert g["ContentEncoding"] == "identity"
    assert g["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Sat, 01 Jun 2030 12:00:00 GMT"
    # the stored object is unchanged
    hd = s3.head_object(Bucket=bucket, Key="o")
    assert hd["ContentType"] == "text/plain"
    assert hd["CacheControl"] == "no-store"
