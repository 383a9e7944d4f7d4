"""Multipart uploads: AbortMultipartUpload, ListParts, ListMultipartUploads, reads of multipart
objects by part number and by ranges, copies of them, and buckets with uploads in progress."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import ALICE, assert_client_error, empty_and_delete, unique_bucket_name
from multipart_common import (
    PART, KiB, assert_no_such_upload, blob_count, checksum, complete, composite, create, data, mb, mc, mc_plain,
    mpu_etag, msrv, multipart, new_bucket, part_list, put_parts, quoted_md5, raw, shared_bucket, status_of,
)


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
