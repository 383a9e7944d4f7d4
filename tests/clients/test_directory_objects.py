"""Directory buckets: default encryption rules, Content-MD5 (501), object operations with and
without sessions, copies, multipart + UploadPartCopy and the ListObjectsV2 rules."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

import pytest

from conftest import DEFAULT_ACCOUNT
from directory_common import (
    ALIAS, KEY1, KEY2, MIB, MSG_CONTENT_MD5, MSG_PREFIX, REGION, SESSION_TOKEN_HEADER, SSEC_KEY, UNKNOWN_KEY, Recorder,
    arn_context, assert_default_aes256, assert_sse, b64, create_dir, dbucket, dclient, dir_config, dir_name, dsrv,
    empty_dir, expect_error, get_rule, gp_client, gpbucket, kbucket, kms_arn, kms_rule, lc, list_dir_names,
    localhost_subdomains, md5_b64, pattern, scope_of,
)


# -- bucket default encryption -------------------------------------------------------------------

@pytest.mark.parametrize("style,session", [("ip", True), ("ip", False), ("localhost", True)],
                         ids=["ip-session", "ip-nosession", "localhost-session"])
def test_bucket_encryption_default_kms_lock_and_delete(dsrv, style, session, localhost_subdomains):
    c = dclient(dsrv, session=session, style=style)
    name = create_dir(c)
    try:
        assert_default_aes256(c, name)
        # aws:kms with a key id; BucketKeyEnabled false is accepted and reported as true
        r = c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1, bucket_key=False))
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        rule = get_rule(c, name)
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY1, kms_arn(KEY1))
        assert rule["BucketKeyEnabled"] is True
        assert "BlockedEncryptionTypes" not in rule
        # the same key as an ARN is the same key
        c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(kms_arn(KEY1)))
        assert get_rule(c, name)["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY1, kms_arn(KEY1))
        # a different key is refused, by id and by ARN
        expect_error(c.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                     ServerSideEncryptionConfiguration=kms_rule(KEY2))
        expect_error(c.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                     ServerSideEncryptionConfiguration=kms_rule(kms_arn(KEY2)))
        assert get_rule(c, name)["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY1, kms_arn(KEY1))
        # delete: 204, back to AES256
        d = c.delete_bucket_encryption(Bucket=name)
        assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert_default_aes256(c, name)
        # the first key stays locked for the bucket's lifetime
        expect_error(c.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                     ServerSideEncryptionConfiguration=kms_rule(KEY2))
        assert_default_aes256(c, name)
        c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(kms_arn(KEY1)))
        assert get_rule(c, name)["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    finally:
        empty_dir(dclient(dsrv, session=False), name)


@pytest.mark.parametrize("config,code", [
    (kms_rule(None, alg="aws:kms:dsse"), "InvalidArgument"),
    (kms_rule(KEY1, alg="aws:kms:dsse"), "InvalidArgument"),
    (kms_rule(KEY1, alg="AES256", bucket_key=None), "InvalidArgument"),
    (kms_rule(None), "InvalidArgument"),
    (kms_rule(ALIAS), "InvalidArgument"),
    (kms_rule(f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:{ALIAS}"), "InvalidArgument"),
    (kms_rule(UNKNOWN_KEY), "KMS.NotFoundException"),
    (kms_rule(kms_arn(UNKNOWN_KEY)), "KMS.NotFoundException"),
    (kms_rule(KEY1, BlockedEncryptionTypes={"EncryptionType": ["SSE-C"]}), "InvalidArgument"),
    (kms_rule(None, alg="AES256", bucket_key=None, BlockedEncryptionTypes={"EncryptionType": ["NONE"]}),
     "InvalidArgument"),
], ids=["dsse", "dsse-with-key", "aes256-with-key", "kms-without-key", "alias", "alias-arn",
        "unknown-key", "unknown-key-arn", "blocked-types-kms", "blocked-types-aes256"])
def test_bucket_encryption_rejected(lc, dbucket, config, code):
    expect_error(lc.put_bucket_encryption, code, 400, Bucket=dbucket, ServerSideEncryptionConfiguration=config)
    assert_default_aes256(lc, dbucket)
    # nothing got locked: the bucket can still take KEY2 (Bucket Key on even when not asked for)
    lc.put_bucket_encryption(Bucket=dbucket, ServerSideEncryptionConfiguration=kms_rule(KEY2, bucket_key=None))
    rule = get_rule(lc, dbucket)
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY2, kms_arn(KEY2))
    assert rule["BucketKeyEnabled"] is True


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_bucket_encryption_expected_bucket_owner_is_501(dsrv, session):
    c = dclient(dsrv, session=session)
    name = create_dir(c)
    try:
        for owner in (DEFAULT_ACCOUNT, "111111111111"):
            expect_error(c.put_bucket_encryption, "NotImplemented", 501, Bucket=name,
                         ServerSideEncryptionConfiguration=kms_rule(KEY1), ExpectedBucketOwner=owner)
            expect_error(c.get_bucket_encryption, "NotImplemented", 501, Bucket=name, ExpectedBucketOwner=owner)
            expect_error(c.delete_bucket_encryption, "NotImplemented", 501, Bucket=name, ExpectedBucketOwner=owner)
        assert_default_aes256(c, name)
    finally:
        empty_dir(dclient(dsrv, session=False), name)


def add_content_md5(request, **kw):
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, (bytes, bytearray)):
        pos = body.tell()
        data = body.read()
        body.seek(pos)
        body = data
    request.headers["Content-MD5"] = md5_b64(bytes(body))


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_content_md5_is_501(dsrv, session):
    c = dclient(dsrv, session=session)
    name = create_dir(c)
    try:
        body = b"with content md5"
        err = expect_error(c.put_object, "NotImplemented", 501, Bucket=name, Key="md5", Body=body,
                           ContentMD5=md5_b64(body))
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        expect_error(c.head_object, None, 404, Bucket=name, Key="md5")
        # a correct Content-MD5 on PutBucketEncryption and UploadPart: 501 as well
        c.meta.events.register("before-sign.s3.PutBucketEncryption", add_content_md5)
        c.meta.events.register("before-sign.s3.UploadPart", add_content_md5)
        err = expect_error(c.put_bucket_encryption, "NotImplemented", 501, Bucket=name,
                           ServerSideEncryptionConfiguration=kms_rule(KEY1))
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        assert_default_aes256(c, name)
        uid = c.create_multipart_upload(Bucket=name, Key="mpu-md5")["UploadId"]
        err = expect_error(c.upload_part, "NotImplemented", 501, Bucket=name, Key="mpu-md5", UploadId=uid,
                           PartNumber=1, Body=b"part")
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        # CompleteMultipartUpload and DeleteObjects bodies with a (correct) Content-MD5
        c.meta.events.register("before-sign.s3.CompleteMultipartUpload", add_content_md5)
        c.meta.events.register("before-sign.s3.DeleteObjects", add_content_md5)
        err = expect_error(c.complete_multipart_upload, "NotImplemented", 501, Bucket=name, Key="mpu-md5",
                           UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        c.abort_multipart_upload(Bucket=name, Key="mpu-md5", UploadId=uid)
        c.put_object(Bucket=name, Key="keep", Body=b"keep")
        err = expect_error(c.delete_objects, "NotImplemented", 501, Bucket=name,
                           Delete={"Objects": [{"Key": "keep"}]})
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        assert c.get_object(Bucket=name, Key="keep")["Body"].read() == b"keep"
    finally:
        empty_dir(dclient(dsrv, session=False), name)


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_content_md5_on_create_directory_bucket_is_501(dsrv, lc, session):
    """CreateBucket of a --x-s3 name is a directory-bucket request too: a (correct) Content-MD5
    on its configuration body gets the same 501, and no bucket is created."""
    c = dclient(dsrv, session=session)
    c.meta.events.register("before-sign.s3.CreateBucket", add_content_md5)
    name = dir_name("md5")
    try:
        err = expect_error(c.create_bucket, "NotImplemented", 501, Bucket=name,
                           CreateBucketConfiguration=dir_config())
        assert err["Error"]["Message"] == MSG_CONTENT_MD5
        assert name not in list_dir_names(lc)
    finally:
        empty_dir(lc, name)


# -- objects ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("style,session", [("ip", True), ("ip", False), ("localhost", True), ("localhost", False)],
                         ids=["ip-session", "ip-nosession", "localhost-session", "localhost-nosession"])
def test_object_round_trip(dsrv, style, session, localhost_subdomains):
    c = dclient(dsrv, session=session, style=style)
    name = create_dir(c)
    rec = Recorder(c)
    try:
        body = pattern(70_000, 1)
        p = c.put_object(Bucket=name, Key="dir/obj.bin", Body=body, ContentType="application/x-test",
                         Metadata={"m": "v"})
        assert_sse(p, None)
        g = c.get_object(Bucket=name, Key="dir/obj.bin")
        assert g["Body"].read() == body
        assert_sse(g, None)
        assert g.get("StorageClass") == "EXPRESS_ONEZONE"
        assert g["ContentType"] == "application/x-test" and g["Metadata"] == {"m": "v"}
        hd = c.head_object(Bucket=name, Key="dir/obj.bin")
        assert hd["ContentLength"] == len(body)
        assert_sse(hd, None)
        assert hd.get("StorageClass") == "EXPRESS_ONEZONE"
        r = c.get_object(Bucket=name, Key="dir/obj.bin", Range="bytes=100-199")
        assert r["Body"].read() == body[100:200]
        lst = c.list_objects_v2(Bucket=name)
        assert [(o["Key"], o["Size"], o.get("StorageClass")) for o in lst["Contents"]] == \
            [("dir/obj.bin", len(body), "EXPRESS_ONEZONE")]
        c.delete_object(Bucket=name, Key="dir/obj.bin")
        expect_error(c.head_object, None, 404, Bucket=name, Key="dir/obj.bin")
        expect_error(c.get_object, "NoSuchKey", 404, Bucket=name, Key="dir/obj.bin")
        assert len(rec.data_requests()) >= 8
        for m, url, hdrs in rec.data_requests():
            ak, service = scope_of(hdrs)
            assert service == "s3express"
            assert (SESSION_TOKEN_HEADER in hdrs) == session, (m, url)
            if style == "localhost":
                assert urlsplit(url).hostname == f"{name}.localhost", url
        # DeleteObjects (botocore sends CRC32, not Content-MD5, to directory buckets), then DeleteBucket
        for k in ("x/1", "x/2"):
            c.put_object(Bucket=name, Key=k, Body=b"1")
        d = c.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "x/1"}, {"Key": "x/2"}]})
        assert sorted(o["Key"] for o in d["Deleted"]) == ["x/1", "x/2"] and not d.get("Errors")
        assert not c.list_objects_v2(Bucket=name).get("Contents")
        c.delete_bucket(Bucket=name)
        assert name not in list_dir_names(c)
    finally:
        empty_dir(dclient(dsrv, session=False), name)


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_kms_bucket_object_defaults(dsrv, lc, kbucket, session):
    c = dclient(dsrv, session=session)
    body = b"kms by default"
    p = c.put_object(Bucket=kbucket, Key="k/default", Body=body)
    assert_sse(p, KEY1)
    g = c.get_object(Bucket=kbucket, Key="k/default")
    assert g["Body"].read() == body
    assert_sse(g, KEY1)
    assert g.get("StorageClass") == "EXPRESS_ONEZONE"
    hd = c.head_object(Bucket=kbucket, Key="k/default")
    assert_sse(hd, KEY1)
    assert hd.get("StorageClass") == "EXPRESS_ONEZONE"
    # aws:kms naming the bucket's own key (id, ARN), with and without the bucket-ARN context
    variants = {
        "k/plain": {"ServerSideEncryption": "aws:kms"},
        "k/id": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1},
        "k/arn": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_arn(KEY1)},
        "k/ctx": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_arn(KEY1),
                  "SSEKMSEncryptionContext": arn_context(kbucket)},
        "k/bk": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1, "BucketKeyEnabled": True},
    }
    for key, kw in variants.items():
        p = c.put_object(Bucket=kbucket, Key=key, Body=key.encode(), **kw)
        assert_sse(p, KEY1)
        g = c.get_object(Bucket=kbucket, Key=key)
        assert g["Body"].read() == key.encode()
        assert_sse(g, KEY1)
    # and AES256 explicitly on an AES256 bucket
    aes = create_dir(lc)
    try:
        p = c.put_object(Bucket=aes, Key="a", Body=b"aes", ServerSideEncryption="AES256")
        assert_sse(p, None)
        assert_sse(c.head_object(Bucket=aes, Key="a"), None)
    finally:
        empty_dir(lc, aes)


REJECTED_WRITES = [
    ("aes", {"ServerSideEncryption": "aws:kms:dsse"}),
    ("kms", {"ServerSideEncryption": "aws:kms:dsse"}),
    ("kms", {"ServerSideEncryption": "aws:kms:dsse", "SSEKMSKeyId": KEY1}),
    ("aes", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}),
    ("kms", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY}),
    ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY2}),
    ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_arn(KEY2)}),
    ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": ALIAS}),
    ("kms", {"ServerSideEncryption": "AES256"}),
    ("aes", {"ServerSideEncryption": "aws:kms"}),
    ("aes", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1}),
    ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1,
             "SSEKMSEncryptionContext": b64(json.dumps({"team": "a"}).encode())}),
    ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1,
             "SSEKMSEncryptionContext": "OTHER-BUCKET"}),
]
REJECTED_IDS = ["dsse-aes-bucket", "dsse-kms-bucket", "dsse-with-key", "ssec-aes-bucket", "ssec-kms-bucket",
                "other-key-id", "other-key-arn", "other-key-alias", "aes256-on-kms-bucket", "kms-on-aes-bucket",
                "kms-key-on-aes-bucket", "foreign-context", "other-bucket-arn-context"]


@pytest.mark.parametrize("kind,kw", REJECTED_WRITES, ids=REJECTED_IDS)
def test_rejected_object_writes(dsrv, lc, kind, kw):
    c = dclient(dsrv, session=True)
    name = create_dir(lc)
    try:
        if kind == "kms":
            lc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
        kw = dict(kw)
        if kw.get("SSEKMSEncryptionContext") == "OTHER-BUCKET":
            kw["SSEKMSEncryptionContext"] = arn_context(dir_name("elsewhere"))
        expect_error(c.put_object, "InvalidArgument", 400, Bucket=name, Key="w", Body=b"refused", **kw)
        expect_error(lc.head_object, None, 404, Bucket=name, Key="w")
        expect_error(c.create_multipart_upload, "InvalidArgument", 400, Bucket=name, Key="m", **kw)
        assert not lc.list_multipart_uploads(Bucket=name).get("Uploads")
    finally:
        empty_dir(lc, name)


@pytest.mark.parametrize("kms,style", [(False, "ip"), (True, "ip"), (True, "localhost")],
                         ids=["aes-bucket", "kms-bucket", "kms-bucket-localhost"])
def test_copy_between_general_purpose_and_directory(dsrv, lc, gpbucket, kms, style, localhost_subdomains):
    c = dclient(dsrv, session=True, style=style)
    gp = gp_client(dsrv)
    name = create_dir(lc)
    key = KEY1 if kms else None
    try:
        if kms:
            lc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
        body = pattern(200_000, 2)
        gp.put_object(Bucket=gpbucket, Key="src/gp.bin", Body=body)
        # general purpose -> directory (CopyObject is signed with the long-term key by the SDK)
        cp = c.copy_object(Bucket=name, Key="from-gp", CopySource={"Bucket": gpbucket, "Key": "src/gp.bin"})
        assert cp["CopyObjectResult"]["ETag"]
        assert_sse(cp, key)
        g = c.get_object(Bucket=name, Key="from-gp")
        assert g["Body"].read() == body
        assert_sse(g, key)
        assert g.get("StorageClass") == "EXPRESS_ONEZONE"
        # directory -> directory
        c.copy_object(Bucket=name, Key="dir-copy", CopySource={"Bucket": name, "Key": "from-gp"})
        assert c.get_object(Bucket=name, Key="dir-copy")["Body"].read() == body
        assert_sse(c.head_object(Bucket=name, Key="dir-copy"), key)
        # directory -> general purpose (the destination's rules apply: SSE-S3)
        c.put_object(Bucket=name, Key="src/dir.bin", Body=body[::-1])
        cp2 = gp.copy_object(Bucket=gpbucket, Key="from-dir", CopySource={"Bucket": name, "Key": "src/dir.bin"})
        assert cp2["ServerSideEncryption"] == "AES256"
        g2 = gp.get_object(Bucket=gpbucket, Key="from-dir")
        assert g2["Body"].read() == body[::-1]
        assert g2.get("StorageClass", "STANDARD") == "STANDARD"
    finally:
        empty_dir(lc, name)


@pytest.mark.parametrize("kms,session,style", [(False, True, "ip"), (True, True, "ip"), (True, False, "ip"),
                                               (True, True, "localhost")],
                         ids=["aes-session", "kms-session", "kms-nosession", "kms-localhost-session"])
def test_multipart_and_upload_part_copy(dsrv, lc, kms, session, style, localhost_subdomains):
    c = dclient(dsrv, session=session, style=style)
    name = create_dir(lc)
    key = KEY1 if kms else None
    try:
        if kms:
            lc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
        p1 = pattern(5 * MIB, 3)
        p2 = pattern(5 * MIB, 4)
        p3 = pattern(123_456, 5)
        c.put_object(Bucket=name, Key="src/part2", Body=p2)
        up = c.create_multipart_upload(Bucket=name, Key="big/obj")
        assert_sse(up, key)
        uid = up["UploadId"]
        r1 = c.upload_part(Bucket=name, Key="big/obj", UploadId=uid, PartNumber=1, Body=p1)
        r2 = c.upload_part_copy(Bucket=name, Key="big/obj", UploadId=uid, PartNumber=2,
                                CopySource={"Bucket": name, "Key": "src/part2"})
        r3 = c.upload_part(Bucket=name, Key="big/obj", UploadId=uid, PartNumber=3, Body=p3)
        parts = [{"PartNumber": 1, "ETag": r1["ETag"]},
                 {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]},
                 {"PartNumber": 3, "ETag": r3["ETag"]}]
        done = c.complete_multipart_upload(Bucket=name, Key="big/obj", UploadId=uid,
                                           MultipartUpload={"Parts": parts})
        assert done["ETag"].endswith('-3"'), done["ETag"]
        assert_sse(done, key)
        g = c.get_object(Bucket=name, Key="big/obj")
        data = g["Body"].read()
        assert len(data) == len(p1) + len(p2) + len(p3)
        assert hashlib.sha256(data).digest() == hashlib.sha256(p1 + p2 + p3).digest()
        assert_sse(g, key)
        assert g.get("StorageClass") == "EXPRESS_ONEZONE"
        assert c.get_object(Bucket=name, Key="big/obj", Range=f"bytes={5 * MIB - 10}-{5 * MIB + 9}")["Body"].read() \
            == (p1 + p2)[5 * MIB - 10:5 * MIB + 10]
        assert_sse(c.head_object(Bucket=name, Key="big/obj"), key)
    finally:
        empty_dir(lc, name)


@pytest.mark.parametrize("kms", [False, True], ids=["aes-bucket", "kms-bucket"])
def test_upload_part_copy_from_general_purpose(dsrv, lc, gpbucket, kms):
    c = dclient(dsrv, session=True)
    name = create_dir(lc)
    key = KEY1 if kms else None
    try:
        if kms:
            lc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
        src = pattern(6 * MIB, 8)
        gp_client(dsrv).put_object(Bucket=gpbucket, Key="gp-src", Body=src)
        uid = c.create_multipart_upload(Bucket=name, Key="mixed")["UploadId"]
        r1 = c.upload_part_copy(Bucket=name, Key="mixed", UploadId=uid, PartNumber=1,
                                CopySource={"Bucket": gpbucket, "Key": "gp-src"}, CopySourceRange=f"bytes=0-{5 * MIB - 1}")
        r2 = c.upload_part(Bucket=name, Key="mixed", UploadId=uid, PartNumber=2, Body=b"tail")
        c.complete_multipart_upload(Bucket=name, Key="mixed", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]})
        g = c.get_object(Bucket=name, Key="mixed")
        assert hashlib.sha256(g["Body"].read()).digest() == hashlib.sha256(src[:5 * MIB] + b"tail").digest()
        assert_sse(g, key)
    finally:
        empty_dir(lc, name)


@pytest.mark.parametrize("style,session", [("ip", True), ("ip", False), ("localhost", True)],
                         ids=["ip-session", "ip-nosession", "localhost-session"])
def test_list_objects_v2_prefix_and_delimiter_rules(dsrv, lc, dbucket, style, session, localhost_subdomains):
    c = dclient(dsrv, session=session, style=style)
    for k in ("top.txt", "dir/a.txt", "dir/sub/b.txt", "other/c.txt"):
        c.put_object(Bucket=dbucket, Key=k, Body=k.encode())
    everything = c.list_objects_v2(Bucket=dbucket)
    assert sorted(o["Key"] for o in everything["Contents"]) == ["dir/a.txt", "dir/sub/b.txt", "other/c.txt", "top.txt"]
    assert {o.get("StorageClass") for o in everything["Contents"]} == {"EXPRESS_ONEZONE"}
    top = c.list_objects_v2(Bucket=dbucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["top.txt"]
    assert sorted(p["Prefix"] for p in top["CommonPrefixes"]) == ["dir/", "other/"]
    sub = c.list_objects_v2(Bucket=dbucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["dir/a.txt"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["dir/sub/"]
    deep = c.list_objects_v2(Bucket=dbucket, Prefix="dir/")
    assert sorted(o["Key"] for o in deep["Contents"]) == ["dir/a.txt", "dir/sub/b.txt"]
    # pagination (the paginator follows NextContinuationToken)
    pages = list(c.get_paginator("list_objects_v2").paginate(Bucket=dbucket, PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 4
    assert sorted(o["Key"] for p in pages for o in p.get("Contents", [])) == \
        ["dir/a.txt", "dir/sub/b.txt", "other/c.txt", "top.txt"]
    # prefixes must end in the delimiter
    for prefix, delim in (("di", None), ("dir", "/"), ("dir/su", "/"), ("top.txt", None)):
        kw = {"Bucket": dbucket, "Prefix": prefix}
        if delim:
            kw["Delimiter"] = delim
        err = expect_error(c.list_objects_v2, "InvalidRequest", 400, **kw)
        assert err["Error"]["Message"] == MSG_PREFIX
    # only "/" is a delimiter
    for delim in ("|", "-", "//"):
        expect_error(c.list_objects_v2, "InvalidRequest", 400, Bucket=dbucket, Delimiter=delim)
        expect_error(c.list_objects_v2, "InvalidRequest", 400, Bucket=dbucket, Prefix="dir/", Delimiter=delim)
