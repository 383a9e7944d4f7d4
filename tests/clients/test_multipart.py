"""Multipart uploads: CreateMultipartUpload (checksum types, SSE modes, bucket rules) and UploadPart
(part numbers, Content-MD5, checksums, SSE-C rules)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name
from multipart_common import (
    CKEY, CKEY2, KMS_ALIAS, KMS_ID, KMS_UUID, MSG_COMPOSITE_CRC64, MSG_TYPE_MISMATCH, PART, REGION, SSE, SSEC_ALG,
    SSEC_MD5, SSE_BUCKET_KEY, SSE_KEY_ID, UUID_RE, KiB, arn, assert_no_such_upload, b64, blob_count, checksum, complete,
    create, data, headers_of, mb, mc, mc_plain, md5_b64, mpu_etag, mpu_etag_of_part_etags, msrv, new_bucket, ok,
    part_list, put_parts, quoted_md5, raw, shared_bucket, sse_headers, ssec, status_of,
)


# ================================================================================================
# CreateMultipartUpload
# ================================================================================================

def test_create_returns_ids_and_object_gets_the_metadata(mc, mb):
    up = create(mc, mb, "docs/report.txt", ContentType="text/x-report", Metadata={"owner": "me", "Tag": "v1"},
                CacheControl="max-age=60", ContentDisposition="attachment", ContentLanguage="de")
    assert status_of(up) == 200
    assert up["Bucket"] == mb and up["Key"] == "docs/report.txt"
    assert re.fullmatch(r"[0-9A-Za-z._-]{16,}", up["UploadId"]), up["UploadId"]
    assert sse_headers(up) == {SSE: "AES256"}  # the bucket's default rule
    assert "ChecksumAlgorithm" not in up and "x-amz-checksum-algorithm" not in headers_of(up)
    p = [data(PART), data(100, PART)]
    rs = put_parts(mc, mb, "docs/report.txt", up["UploadId"], p)
    c = complete(mc, mb, "docs/report.txt", up["UploadId"], part_list(rs))
    assert c["Bucket"] == mb and c["Key"] == "docs/report.txt"
    assert c["ETag"] == mpu_etag(p)
    assert c["Location"].endswith(f"/{mb}/docs/report.txt"), c["Location"]
    assert c["ServerSideEncryption"] == "AES256"
    hd = mc.head_object(Bucket=mb, Key="docs/report.txt")
    assert hd["ContentType"] == "text/x-report"
    assert hd["Metadata"] == {"owner": "me", "tag": "v1"}
    assert hd["CacheControl"] == "max-age=60"
    assert hd["ContentDisposition"] == "attachment"
    assert hd["ContentLanguage"] == "de"
    assert hd["ContentLength"] == PART + 100
    assert hd["ETag"] == mpu_etag(p)
    assert hd["ServerSideEncryption"] == "AES256"
    assert "PartsCount" not in hd
    g = mc.get_object(Bucket=mb, Key="docs/report.txt", Range=f"bytes={PART - 100}-")
    assert g["Body"].read() == b"".join(p)[PART - 100:]
    assert g["ContentType"] == "text/x-report" and g["ETag"] == mpu_etag(p)
    listed = mc.list_objects_v2(Bucket=mb)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("docs/report.txt", PART + 100, mpu_etag(p))]


def test_create_in_missing_bucket(mc):
    with pytest.raises(ClientError) as ei:
        create(mc, unique_bucket_name("missing"), "k")
    assert_client_error(ei, "NoSuchBucket", 404)


@pytest.mark.parametrize("alg,default_type", [
    ("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"), ("CRC64NVME", "FULL_OBJECT"),
    ("SHA1", "COMPOSITE"), ("SHA256", "COMPOSITE"),
])
def test_create_checksum_algorithm_default_type(mc, shared_bucket, alg, default_type):
    up = create(mc, shared_bucket, f"ck-default-{alg}", ChecksumAlgorithm=alg)
    try:
        assert up["ChecksumAlgorithm"] == alg
        assert up["ChecksumType"] == default_type
        hdrs = headers_of(up)
        assert hdrs["x-amz-checksum-algorithm"] == alg and hdrs["x-amz-checksum-type"] == default_type
        lp = mc.list_parts(Bucket=shared_bucket, Key=f"ck-default-{alg}", UploadId=up["UploadId"])
        assert lp["ChecksumAlgorithm"] == alg
        assert lp.get("Parts", []) == []
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=f"ck-default-{alg}", UploadId=up["UploadId"])


@pytest.mark.parametrize("alg,kind", [
    ("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT"),
    ("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"), ("SHA1", "COMPOSITE"), ("SHA256", "COMPOSITE"),
])
def test_create_checksum_type_explicit(mc, shared_bucket, alg, kind):
    up = create(mc, shared_bucket, "ck-explicit", ChecksumAlgorithm=alg, ChecksumType=kind)
    mc.abort_multipart_upload(Bucket=shared_bucket, Key="ck-explicit", UploadId=up["UploadId"])
    assert up["ChecksumAlgorithm"] == alg and up["ChecksumType"] == kind


@pytest.mark.parametrize("kw,message", [
    ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, MSG_COMPOSITE_CRC64),
    ({"ChecksumAlgorithm": "SHA1", "ChecksumType": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."),
    ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
    ({"ChecksumType": "FULL_OBJECT"}, None),
    ({"ChecksumType": "COMPOSITE"}, None),
], ids=["composite-crc64nvme", "full-object-sha1", "full-object-sha256", "full-object-alone", "composite-alone"])
def test_create_checksum_invalid_combinations(mc, shared_bucket, kw, message):
    with pytest.raises(ClientError) as ei:
        create(mc, shared_bucket, "ck-bad", **kw)
    e = assert_client_error(ei, "InvalidRequest", 400)
    if message:
        assert e["Error"]["Message"] == message
    assert mc.list_multipart_uploads(Bucket=shared_bucket, Prefix="ck-bad").get("Uploads", []) == []


def _finish_one_part(client, bucket, key, uid, extra=None):
    p = [data(3 * KiB, 9)]
    rs = put_parts(client, bucket, key, uid, p, **(extra or {}))
    c = complete(client, bucket, key, uid, part_list(rs), **(extra or {}))
    return p, rs, c


SSE_MODES = {
    # mode: (create kwargs, expected SSE headers (None: the alias's key), two 5 MiB+ parts?)
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {SSE: "AES256"}, False),
    "kms-id": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID},
               {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID)}, True),
    "kms-arn": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": arn(KMS_UUID)},
                {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}, False),
    "kms-alias": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ALIAS}, None, False),
    "kms-bucket-key": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID, "BucketKeyEnabled": True},
                       {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}, False),
    "dsse": ({"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KMS_ID},
             {SSE: "aws:kms:dsse", SSE_KEY_ID: arn(KMS_ID)}, False),
    "ssec": (ssec(), {SSEC_ALG: "AES256", SSEC_MD5: md5_b64(CKEY)}, True),
}


@pytest.mark.parametrize("mode", list(SSE_MODES))
def test_create_sse_modes_and_the_parts_and_object_report_them(mc, mb, mode):
    kw, want, big = SSE_MODES[mode]
    key = f"sse-{mode}"
    part_extra = ssec() if mode == "ssec" else {}
    read_kw = part_extra
    up = create(mc, mb, key, **kw)
    got = sse_headers(up)
    if want is None:
        assert got[SSE] == "aws:kms"
        assert re.fullmatch(rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}", got[SSE_KEY_ID]), got
        assert got[SSE_KEY_ID] not in (arn(KMS_ID), arn(KMS_UUID))
        want = got
    assert got == want
    uid = up["UploadId"]
    p = [data(PART + 17, 11), data(70000, 13)] if big else [data(3 * KiB, 11)]
    whole = b"".join(p)
    rs = put_parts(mc, mb, key, uid, p, **part_extra)
    for r, body in zip(rs, p):
        assert sse_headers(r) == want
        if mode == "sse-s3":
            assert r["ETag"] == quoted_md5(body)
        else:
            assert re.fullmatch(r'"[0-9a-f]{32}"', r["ETag"]) and r["ETag"] != quoted_md5(body), r["ETag"]
    c = complete(mc, mb, key, uid, part_list(rs))
    if mode == "ssec":
        # S3 answers an SSE-C Complete without any SSE header.
        assert sse_headers(c) == {}
        assert "SSECustomerAlgorithm" not in c
    else:
        assert sse_headers(c) == want
    if mode == "sse-s3":
        assert c["ETag"] == mpu_etag(p)
        assert c["ChecksumCRC64NVME"] == checksum("CRC64NVME", whole)
        assert c["ChecksumType"] == "FULL_OBJECT"
    else:
        assert re.fullmatch(rf'"[0-9a-f]{{32}}-{len(p)}"', c["ETag"]) and c["ETag"] != mpu_etag(p), c["ETag"]
        assert c["ETag"] == mpu_etag_of_part_etags([r["ETag"] for r in rs])
    if mode in ("kms-id", "kms-arn", "kms-alias", "kms-bucket-key", "dsse"):
        # S3 leaves every checksum out of a KMS object's Complete response.
        assert not [k for k in c if k.startswith("Checksum")], c
        assert not [k for k in headers_of(c) if k.startswith("x-amz-checksum")]
    hd = mc.head_object(Bucket=mb, Key=key, **read_kw)
    assert sse_headers(hd) == want
    assert hd["ETag"] == c["ETag"] and hd["ContentLength"] == len(whole)
    if big:
        # Part GETs and ranges across the part boundary decrypt exactly the right bytes.
        g = mc.get_object(Bucket=mb, Key=key, PartNumber=2, **read_kw)
        assert status_of(g) == 206 and g["PartsCount"] == 2
        assert g["ContentRange"] == f"bytes {len(p[0])}-{len(whole) - 1}/{len(whole)}"
        assert g["Body"].read() == p[1]
        assert sse_headers(g) == want
        for a, b in ((len(p[0]) - 5, len(p[0]) + 5), (len(p[0]) - 70000, len(whole) - 1), (0, 99)):
            g = mc.get_object(Bucket=mb, Key=key, Range=f"bytes={a}-{b}", **read_kw)
            assert g["Body"].read() == whole[a:b + 1], (a, b)
    else:
        g = mc.get_object(Bucket=mb, Key=key, **read_kw)
        assert g["Body"].read() == whole
        assert sse_headers(g) == want
    if mode == "ssec":
        with pytest.raises(ClientError) as ei:
            mc.get_object(Bucket=mb, Key=key)
        assert_client_error(ei, "InvalidRequest", 400)
        with pytest.raises(ClientError) as ei:
            mc.get_object(Bucket=mb, Key=key, PartNumber=1, **ssec(CKEY2))
        assert_client_error(ei, "AccessDenied", 403)


def test_create_uses_the_bucket_default_kms_rule(mc):
    name = unique_bucket_name("mpkms")
    mc.create_bucket(Bucket=name)
    try:
        mc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_ID},
            "BucketKeyEnabled": True,
            "BlockedEncryptionTypes": {"EncryptionType": ["NONE"]},
        }]})
        want = {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
        up = create(mc, name, "by-rule")
        assert sse_headers(up) == want
        p, rs, c = _finish_one_part(mc, name, "by-rule", up["UploadId"])
        assert sse_headers(rs[0]) == want and sse_headers(c) == want
        hd = mc.head_object(Bucket=name, Key="by-rule")
        assert sse_headers(hd) == want
        assert mc.get_object(Bucket=name, Key="by-rule")["Body"].read() == b"".join(p)
        # An explicit AES256 wins over the rule.
        up = create(mc, name, "explicit", ServerSideEncryption="AES256")
        assert sse_headers(up) == {SSE: "AES256"}
        p, rs, c = _finish_one_part(mc, name, "explicit", up["UploadId"])
        assert c["ETag"] == mpu_etag(p)
        assert sse_headers(mc.head_object(Bucket=name, Key="explicit")) == {SSE: "AES256"}
    finally:
        empty_and_delete(mc, name)


def test_create_ssec_refused_by_a_bucket_that_blocks_it(mc):
    name = new_bucket(mc, "mpblock", allow_ssec=False)
    try:
        with pytest.raises(ClientError) as ei:
            create(mc, name, "k", **ssec())
        assert_client_error(ei, "AccessDenied", 403)
        assert mc.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        # Other modes are still fine.
        up = create(mc, name, "k")
        mc.abort_multipart_upload(Bucket=name, Key="k", UploadId=up["UploadId"])
    finally:
        empty_and_delete(mc, name)


def test_create_unknown_kms_key(mc, mb):
    with pytest.raises(ClientError) as ei:
        create(mc, mb, "k", ServerSideEncryption="aws:kms", SSEKMSKeyId="no-such-key")
    assert_client_error(ei, "KMS.NotFoundException", 400)
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []


# ================================================================================================
# UploadPart
# ================================================================================================

@pytest.mark.parametrize("number", ["0", "10001", "-1", "abc", ""])
def test_upload_part_number_out_of_range(msrv, mc, shared_bucket, number):
    uid = create(mc, shared_bucket, "pn")["UploadId"]
    try:
        r = raw(msrv, "PUT", shared_bucket, "pn", body=b"x", params={"partNumber": number, "uploadId": uid})
        e = h.assert_s3_error(r, 400, "InvalidArgument")
        assert e.get("ArgumentName") == "partNumber"
        assert mc.list_parts(Bucket=shared_bucket, Key="pn", UploadId=uid).get("Parts", []) == []
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="pn", UploadId=uid)


def test_upload_part_number_limits_accepted(mc, shared_bucket):
    uid = create(mc, shared_bucket, "pn-ok")["UploadId"]
    try:
        for n in (1, 10000):
            mc.upload_part(Bucket=shared_bucket, Key="pn-ok", UploadId=uid, PartNumber=n, Body=b"n%d" % n)
        lp = mc.list_parts(Bucket=shared_bucket, Key="pn-ok", UploadId=uid)
        assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 2), (10000, 6)]
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="pn-ok", UploadId=uid)


def test_upload_part_unknown_upload(msrv, mc, shared_bucket):
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=shared_bucket, Key="k", UploadId="no-such-upload", PartNumber=1, Body=b"x")
    assert_no_such_upload(ei)
    # An upload id of another key is unknown for this key.
    uid = create(mc, shared_bucket, "other-key")["UploadId"]
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
        assert_no_such_upload(ei)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key="other-key", UploadId=uid)


def test_upload_part_content_md5(msrv, mc, mc_plain, shared_bucket):
    key = "md5"
    uid = create(mc, shared_bucket, key)["UploadId"]
    body = data(1000, 3)
    params = {"partNumber": "1", "uploadId": uid}
    try:
        for bad in ("not base64!", b64(b"short")):
            r = raw(msrv, "PUT", shared_bucket, key, {"Content-MD5": bad}, body, params)
            h.assert_s3_error(r, 400, "InvalidDigest")
        r = raw(msrv, "PUT", shared_bucket, key, {"Content-MD5": md5_b64(b"other")}, body, params)
        h.assert_s3_error(r, 400, "BadDigest")
        with pytest.raises(ClientError) as ei:
            mc_plain.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                                 ContentMD5=md5_b64(body[:-1]))
        assert_client_error(ei, "BadDigest", 400)
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        ok = mc_plain.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                                  ContentMD5=md5_b64(body))
        assert ok["ETag"] == quoted_md5(body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_upload_part_checksum_verified(mc, shared_bucket, alg):
    key = f"ck-part-{alg}"
    uid = create(mc, shared_bucket, key, ChecksumAlgorithm=alg)["UploadId"]
    body = data(70 * KiB, 5)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           **{f"Checksum{alg}": checksum(alg, body + b"!")})
        assert_client_error(ei, "BadDigest", 400)
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        # botocore computes it: the right one is accepted and echoed.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm=alg)
        assert r[f"Checksum{alg}"] == checksum(alg, body)
        assert headers_of(r)[f"x-amz-checksum-{alg.lower()}"] == checksum(alg, body)
        assert r["ETag"] == quoted_md5(body)
        # A client-supplied correct value is accepted too.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=2, Body=body[:10],
                           **{f"Checksum{alg}": checksum(alg, body[:10])})
        assert r[f"Checksum{alg}"] == checksum(alg, body[:10])
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_checksum_mismatch_without_upload_algorithm(mc, shared_bucket):
    key = "ck-none"
    uid = create(mc, shared_bucket, key)["UploadId"]
    body = data(4 * KiB, 17)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumCRC32=checksum("CRC32", b"x" + body))
        assert_client_error(ei, "BadDigest", 400)
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumSHA256=checksum("SHA256", b"x" + body))
        assert_client_error(ei, "BadDigest", 400)
        # Any algorithm is fine for an upload created without one; it is echoed.
        r = mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm="SHA1")
        assert r["ChecksumSHA1"] == checksum("SHA1", body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_checksum_of_another_algorithm(msrv, mc, shared_bucket):
    key = "ck-other"
    uid = create(mc, shared_bucket, key, ChecksumAlgorithm="SHA256")["UploadId"]
    body = data(2 * KiB, 19)
    try:
        with pytest.raises(ClientError) as ei:
            mc.upload_part(Bucket=shared_bucket, Key=key, UploadId=uid, PartNumber=1, Body=body,
                           ChecksumAlgorithm="CRC32")
        e = assert_client_error(ei, "InvalidRequest", 400)
        assert e["Error"]["Message"] == MSG_TYPE_MISMATCH
        r = raw(msrv, "PUT", shared_bucket, key, {"x-amz-checksum-crc32": checksum("CRC32", body)}, body,
                {"partNumber": "1", "uploadId": uid})
        e = h.assert_s3_error(r, 400, "InvalidRequest")
        assert e["Message"] == MSG_TYPE_MISMATCH
        assert mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid).get("Parts", []) == []
        # No checksum at all is fine: the server computes the upload's algorithm.
        r = raw(msrv, "PUT", shared_bucket, key, {}, body, {"partNumber": "1", "uploadId": uid})
        assert r.status == 200, r.data
        assert r.headers.get("x-amz-checksum-sha256") == checksum("SHA256", body)
        lp = mc.list_parts(Bucket=shared_bucket, Key=key, UploadId=uid)
        assert lp["Parts"][0]["ChecksumSHA256"] == checksum("SHA256", body)
    finally:
        mc.abort_multipart_upload(Bucket=shared_bucket, Key=key, UploadId=uid)


def test_upload_part_again_replaces_it(msrv, mc, mb):
    before = blob_count(msrv)
    key = "replace"
    uid = create(mc, mb, key)["UploadId"]
    a, b = data(2 * KiB, 21), data(3 * KiB + 5, 23)
    ra = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=a)
    assert blob_count(msrv, before + 1) == before + 1
    rb = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=b)
    assert blob_count(msrv, before + 1) == before + 1  # the replaced part's blob is gone
    assert ra["ETag"] == quoted_md5(a) and rb["ETag"] == quoted_md5(b)
    lp = mc.list_parts(Bucket=mb, Key=key, UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] == [(1, quoted_md5(b), len(b))]
    # The old ETag of part 1 no longer names it.
    with pytest.raises(ClientError) as ei:
        complete(mc, mb, key, uid, [{"PartNumber": 1, "ETag": ra["ETag"]}])
    assert_client_error(ei, "InvalidPart", 400)
    c = complete(mc, mb, key, uid, [{"PartNumber": 1, "ETag": rb["ETag"]}])
    assert c["ETag"] == mpu_etag([b])
    assert mc.get_object(Bucket=mb, Key=key)["Body"].read() == b
    assert blob_count(msrv, before + 1) == before + 1


def test_upload_part_ssec_rules(msrv, mc, mb):
    key = "ssec-parts"
    uid = create(mc, mb, key, **ssec())["UploadId"]
    body = data(3 * KiB, 29)
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body)
    assert_client_error(ei, "InvalidRequest", 400)
    with pytest.raises(ClientError) as ei:
        mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body, **ssec(CKEY2))
    assert_client_error(ei, "InvalidRequest", 400)
    assert mc.list_parts(Bucket=mb, Key=key, UploadId=uid).get("Parts", []) == []
    r = mc.upload_part(Bucket=mb, Key=key, UploadId=uid, PartNumber=1, Body=body, **ssec())
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == md5_b64(CKEY)
    assert "ServerSideEncryption" not in r
    c = complete(mc, mb, key, uid, part_list([r]))
    assert mc.get_object(Bucket=mb, Key=key, **ssec())["Body"].read() == body
    assert c["ETag"] == mpu_etag_of_part_etags([r["ETag"]])

    # SSE-C headers on the parts of an upload that is not SSE-C.
    for kw in ({}, {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_ID}):
        uid = create(mc, mb, "not-ssec", **kw)["UploadId"]
        try:
            with pytest.raises(ClientError) as ei:
                mc.upload_part(Bucket=mb, Key="not-ssec", UploadId=uid, PartNumber=1, Body=body, **ssec())
            assert_client_error(ei, "InvalidRequest", 400)
            assert mc.list_parts(Bucket=mb, Key="not-ssec", UploadId=uid).get("Parts", []) == []
        finally:
            mc.abort_multipart_upload(Bucket=mb, Key="not-ssec", UploadId=uid)
