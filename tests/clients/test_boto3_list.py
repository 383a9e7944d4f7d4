"""ListObjectsV2, ListObjects (v1) and ListObjectVersions through boto3 and raw HTTP."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
import s3helpers as h

KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d e/f", "z"]


@pytest.fixture
def filled(s3, bucket):
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def keys_of(resp):
    return [o["Key"] for o in resp.get("Contents", [])]


def prefixes_of(resp):
    return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]


# ---------------------------------------------------------------- ListObjectsV2

def test_v2_all(s3, filled):
    r = s3.list_objects_v2(Bucket=filled)
    assert keys_of(r) == KEYS
    assert r["KeyCount"] == len(KEYS)
    assert r["IsTruncated"] is False
    assert r["Name"] == filled
    assert r["MaxKeys"] == 1000
    assert "NextContinuationToken" not in r
    for o in r["Contents"]:
        assert o["Size"] == len(o["Key"].encode())
        assert o["ETag"] == '"' + hashlib.md5(o["Key"].encode()).hexdigest() + '"'
        assert o["StorageClass"] == "STANDARD"
        assert o["LastModified"] is not None
        assert "Owner" not in o, "ListObjectsV2 omits Owner unless fetch-owner=true"


def test_v2_empty_bucket(s3, bucket):
    r = s3.list_objects_v2(Bucket=bucket)
    assert r["KeyCount"] == 0
    assert "Contents" not in r
    assert r["IsTruncated"] is False


def test_v2_fetch_owner(s3, filled):
    owner = s3.get_bucket_acl(Bucket=filled)["Owner"]["ID"]
    r = s3.list_objects_v2(Bucket=filled, FetchOwner=True)
    assert r["Contents"]
    for o in r["Contents"]:
        assert o["Owner"]["ID"] == owner


def test_v2_prefix(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, Prefix="a/")
    assert keys_of(r) == ["a/1", "a/2", "a/b/3"]
    assert r["Prefix"] == "a/"
    assert r["KeyCount"] == 3
    assert keys_of(s3.list_objects_v2(Bucket=filled, Prefix="nothing")) == []


def test_v2_delimiter(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert keys_of(r) == ["c", "z"]
    assert prefixes_of(r) == ["a/", "b/", "d e/"]
    assert r["Delimiter"] == "/"
    assert r["KeyCount"] == 5  # keys + common prefixes
    r = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="a/")
    assert keys_of(r) == ["a/1", "a/2"]
    assert prefixes_of(r) == ["a/b/"]
    assert r["KeyCount"] == 3


def test_v2_delimiter_not_slash(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, Delimiter="1")
    assert prefixes_of(r) == ["a/1", "b/1"]
    assert keys_of(r) == ["a/2", "a/b/3", "c", "d e/f", "z"]


def test_v2_max_keys_and_continuation(s3, filled):
    seen = []
    token = None
    pages = 0
    while True:
        kw = {"Bucket": filled, "MaxKeys": 3}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        assert r["MaxKeys"] == 3
        assert r["KeyCount"] == len(r.get("Contents", []))
        assert r["KeyCount"] <= 3
        if token:
            assert r["ContinuationToken"] == token
        seen += keys_of(r)
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        assert r["KeyCount"] == 3
        token = r["NextContinuationToken"]
        assert token
        assert pages < 10
    assert seen == KEYS
    assert pages == 3


def test_v2_paginator_collects_all(s3, filled):
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=filled, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4
    assert [k for p in pages for k in keys_of(p)] == KEYS


def test_v2_pagination_with_delimiter_counts_prefixes(s3, filled):
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 2}))
    assert [k for p in pages for k in keys_of(p)] == ["c", "z"]
    assert [x for p in pages for x in prefixes_of(p)] == ["a/", "b/", "d e/"]
    assert all(p["KeyCount"] <= 2 for p in pages)
    assert len(pages) == 3


def test_v2_start_after(s3, filled):
    r = s3.list_objects_v2(Bucket=filled, StartAfter="a/b/3")
    assert keys_of(r) == ["b/1", "c", "d e/f", "z"]
    assert r["StartAfter"] == "a/b/3"
    r = s3.list_objects_v2(Bucket=filled, StartAfter="b")   # not an existing key
    assert keys_of(r) == ["b/1", "c", "d e/f", "z"]
    r = s3.list_objects_v2(Bucket=filled, StartAfter="zz")
    assert keys_of(r) == [] and r["KeyCount"] == 0
    r = s3.list_objects_v2(Bucket=filled, StartAfter="a/1", Prefix="a/")
    assert keys_of(r) == ["a/2", "a/b/3"]


def test_v2_encoding_type_url_explicit(s3, bucket):
    keys = ["sp ace/x", "plus+/y", "pct%/z", "uni-ü/ß", "amp&lt</q"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    # Explicit EncodingType: boto3 does NOT decode, so we see the server's encoding.
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert r.get("EncodingType") == "url"
    raw = keys_of(r)
    assert len(raw) == len(keys)
    for enc in raw:
        assert enc.isascii() and " " not in enc, enc
    assert sorted(unquote_plus(k) for k in raw) == sorted(keys)
    # the literal '+' must be encoded, or it would decode to a space
    assert not any(unquote_plus(k) == "plus /y" for k in raw)
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert sorted(unquote_plus(p) for p in prefixes_of(r)) == sorted(k.split("/")[0] + "/" for k in keys)
    assert all(" " not in p for p in prefixes_of(r))
    # and the implicit mode (boto3 sends encoding-type=url and decodes) gives the real keys
    assert sorted(keys_of(s3.list_objects_v2(Bucket=bucket))) == sorted(keys)


def test_v2_encoding_type_raw_xml(server, bucket, s3):
    s3.put_object(Bucket=bucket, Key="a b+c", Body=b"x")
    url = h.url_for(server.url, bucket, params={"list-type": "2", "encoding-type": "url", "prefix": "a b"})
    r = h.signed("GET", url)
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "ListBucketResult"
    assert root.tag == "{%s}ListBucketResult" % h.S3_NS
    assert h.findall_text(root, "EncodingType") == ["url"]
    [key] = h.findall_text(root, "Contents/Key")
    assert unquote_plus(key) == "a b+c" and " " not in key
    [prefix] = h.findall_text(root, "Prefix")
    assert unquote_plus(prefix) == "a b" and " " not in prefix
    assert h.findall_text(root, "KeyCount") == ["1"]
    # without encoding-type the key is returned literally
    url = h.url_for(server.url, bucket, params={"list-type": "2"})
    r = h.signed("GET", url)
    assert h.findall_text(h.xml_root(r.data), "Contents/Key") == ["a b+c"]
    assert h.findall_text(h.xml_root(r.data), "EncodingType") == []


def test_v2_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=bucket_name)
    assert_client_error(ei, "NoSuchBucket", 404)


# ---------------------------------------------------------------- ListObjects v1

def test_v1_all(s3, filled):
    r = s3.list_objects(Bucket=filled)
    assert keys_of(r) == KEYS
    assert r["IsTruncated"] is False
    assert r["Marker"] == ""
    assert "NextMarker" not in r


def test_v1_marker_without_delimiter_has_no_next_marker(s3, filled):
    # S3: NextMarker is returned only when a delimiter is specified; otherwise the client
    # uses the last Key as the next marker (ListObjects API reference).
    r = s3.list_objects(Bucket=filled, MaxKeys=2)
    assert keys_of(r) == ["a/1", "a/2"]
    assert r["IsTruncated"] is True
    assert "NextMarker" not in r
    r = s3.list_objects(Bucket=filled, MaxKeys=2, Marker="a/2")
    assert r["Marker"] == "a/2"
    assert keys_of(r) == ["a/b/3", "b/1"]
    r = s3.list_objects(Bucket=filled, Marker="d e/f")
    assert keys_of(r) == ["z"]
    assert r["IsTruncated"] is False


def test_v1_next_marker_with_delimiter(s3, filled):
    r = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert prefixes_of(r) == ["a/", "b/"]
    assert keys_of(r) == []
    assert r["IsTruncated"] is True
    assert r["NextMarker"] == "b/"
    r2 = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2, Marker=r["NextMarker"])
    assert keys_of(r2) == ["c"]
    assert prefixes_of(r2) == ["d e/"]
    assert r2["IsTruncated"] is True
    assert r2["NextMarker"] == "d e/"
    r3 = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2, Marker=r2["NextMarker"])
    assert keys_of(r3) == ["z"]
    assert r3["IsTruncated"] is False


def test_v1_paginator(s3, filled):
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={"PageSize": 3}))
    assert [k for p in pages for k in keys_of(p)] == KEYS
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 1}))
    assert [k for p in pages for k in keys_of(p)] == ["c", "z"]
    assert [x for p in pages for x in prefixes_of(p)] == ["a/", "b/", "d e/"]


def test_v1_prefix_delimiter(s3, filled):
    r = s3.list_objects(Bucket=filled, Prefix="a/", Delimiter="/")
    assert keys_of(r) == ["a/1", "a/2"]
    assert prefixes_of(r) == ["a/b/"]
    assert r["Prefix"] == "a/"


def test_v1_raw_xml_shape(server, filled):
    r = h.signed("GET", h.url_for(server.url, filled, params={"max-keys": "2"}))
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert root.tag == "{%s}ListBucketResult" % h.S3_NS
    assert h.findall_text(root, "Contents/Key") == ["a/1", "a/2"]
    assert h.findall_text(root, "IsTruncated") == ["true"]
    assert h.findall_text(root, "NextMarker") == []
    assert h.findall_text(root, "MaxKeys") == ["2"]
    assert h.findall_text(root, "Name") == [filled]


# ---------------------------------------------------------------- ListObjectVersions

VKEYS = ["k1", "k2", "k3", "k4", "k5"]


@pytest.fixture
def vfilled(s3, bucket):
    for k in VKEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode() * 3)
    return bucket


def _check_versions(vs, keys):
    assert [v["Key"] for v in vs] == keys
    for v in vs:
        assert v["VersionId"] == "null"
        assert v["IsLatest"] is True
        assert v["Size"] == len(v["Key"]) * 3
        assert v["ETag"] == '"' + hashlib.md5(v["Key"].encode() * 3).hexdigest() + '"'
        assert v["LastModified"] is not None


def test_versions_all(s3, vfilled):
    r = s3.list_object_versions(Bucket=vfilled)
    _check_versions(r["Versions"], VKEYS)
    assert r["IsTruncated"] is False
    assert not r.get("DeleteMarkers")
    assert r["Name"] == vfilled


def test_versions_pagination(s3, vfilled):
    r = s3.list_object_versions(Bucket=vfilled, MaxKeys=2)
    _check_versions(r["Versions"], ["k1", "k2"])
    assert r["IsTruncated"] is True
    assert r["MaxKeys"] == 2
    assert r["NextKeyMarker"] == "k2"
    assert r["NextVersionIdMarker"] == "null"
    r = s3.list_object_versions(Bucket=vfilled, MaxKeys=2, KeyMarker=r["NextKeyMarker"],
                                VersionIdMarker=r["NextVersionIdMarker"])
    assert r["KeyMarker"] == "k2"
    _check_versions(r["Versions"], ["k3", "k4"])
    assert r["IsTruncated"] is True
    assert r["NextKeyMarker"] == "k4"
    r = s3.list_object_versions(Bucket=vfilled, MaxKeys=2, KeyMarker=r["NextKeyMarker"],
                                VersionIdMarker=r["NextVersionIdMarker"])
    _check_versions(r["Versions"], ["k5"])
    assert r["IsTruncated"] is False
    assert "NextKeyMarker" not in r


def test_versions_key_marker_only(s3, vfilled):
    r = s3.list_object_versions(Bucket=vfilled, KeyMarker="k3")
    _check_versions(r["Versions"], ["k4", "k5"])


def test_versions_paginator(s3, vfilled):
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket=vfilled, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    _check_versions([v for p in pages for v in p.get("Versions", [])], VKEYS)


def test_versions_prefix_delimiter_encoding(s3, bucket):
    for k in ["x/1", "x/2", "y y/1", "top"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"v")
    r = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [v["Key"] for v in r.get("Versions", [])] == ["top"]
    assert prefixes_of(r) == ["x/", "y y/"]
    r = s3.list_object_versions(Bucket=bucket, Prefix="x/")
    assert [v["Key"] for v in r["Versions"]] == ["x/1", "x/2"]
    r = s3.list_object_versions(Bucket=bucket, EncodingType="url", Prefix="y")
    assert r.get("EncodingType") == "url"
    [key] = [v["Key"] for v in r["Versions"]]
    assert unquote_plus(key) == "y y/1" and " " not in key


def test_versions_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.list_object_versions(Bucket=bucket_name)
    assert_client_error(ei, "NoSuchBucket", 404)
