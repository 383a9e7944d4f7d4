"""Directory buckets: CreateBucket with its configuration, ListDirectoryBuckets, the bucket
quota, and CreateSession (credentials, forged, tampered and read-only sessions)."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlsplit

import pytest

import s3helpers as h
from conftest import unique_bucket_name
from directory_common import (
    KEY1, LOCAL_ZONE, REGION, SESSION_TOKEN_HEADER, ZONE, Recorder, assert_default_aes256, assert_sse, bucket_arn,
    create_dir, dbucket, dclient, dir_config, dir_name, dsrv, empty_dir, expect_error, gp_client, gpbucket, kbucket,
    kms_rule, lc, list_dir_names, localhost_subdomains, scope_of, session_client, tamper_token,
)


# -- CreateBucket, HeadBucket, ListDirectoryBuckets ----------------------------------------------

@pytest.mark.parametrize("style,session", [("ip", True), ("ip", False), ("localhost", True), ("localhost", False)],
                         ids=["ip-session", "ip-nosession", "localhost-session", "localhost-nosession"])
def test_create_head_and_list_directory_bucket(dsrv, style, session, localhost_subdomains):
    c = dclient(dsrv, session=session, style=style)
    rec = Recorder(c)
    name = dir_name()
    try:
        c.create_bucket(Bucket=name, CreateBucketConfiguration=dir_config())
        hb = c.head_bucket(Bucket=name)
        assert hb["ResponseMetadata"]["HTTPStatusCode"] == 200
        hdrs = hb["ResponseMetadata"]["HTTPHeaders"]
        assert hdrs.get("x-amz-bucket-location-type") == "AvailabilityZone", hdrs
        assert hdrs.get("x-amz-bucket-location-name") == ZONE, hdrs
        assert hb.get("BucketLocationType") == "AvailabilityZone"
        assert hb.get("BucketLocationName") == ZONE

        # what went over the wire: service s3express everywhere; session token iff session auth
        assert rec.requests
        for m, url, hd in rec.requests:
            ak, service = scope_of(hd)
            assert service == "s3express", (m, url)
            if style == "localhost":
                assert urlsplit(url).hostname == f"{name}.localhost", url
            else:
                assert urlsplit(url).path.startswith(f"/{name}"), url
        data = rec.data_requests()
        assert [m for m, _, _ in data] == ["PUT", "HEAD"]
        for m, url, hd in data:
            ak, _ = scope_of(hd)
            if session:
                assert SESSION_TOKEN_HEADER in hd and ak != "test", (m, url)
            else:
                assert SESSION_TOKEN_HEADER not in hd and ak == "test", (m, url)
        if session:
            assert any("session" in urlsplit(u).query for _, u, _ in rec.requests)

        names = list_dir_names(c)
        assert name in names
        listed = [b for b in c.list_directory_buckets()["Buckets"] if b["Name"] == name]
        assert len(listed) == 1
        assert listed[0]["BucketRegion"] == REGION
        assert listed[0]["BucketArn"] == bucket_arn(name)
        # ListBuckets (service s3) does not list directory buckets
        assert name not in [b["Name"] for b in gp_client(dsrv).list_buckets()["Buckets"]]
    finally:
        empty_dir(dclient(dsrv, session=False), name)


def test_create_local_zone_bucket(dsrv):
    c = dclient(dsrv)
    name = dir_name("lz", LOCAL_ZONE)
    try:
        c.create_bucket(Bucket=name, CreateBucketConfiguration=dir_config(LOCAL_ZONE, "LocalZone"))
        hb = c.head_bucket(Bucket=name)
        assert hb.get("BucketLocationType") == "LocalZone"
        assert hb.get("BucketLocationName") == LOCAL_ZONE
        assert name in list_dir_names(c)
    finally:
        empty_dir(dclient(dsrv, session=False), name)


def express_signed(srv, method: str, url: str, body: bytes = b"", headers: dict | None = None):
    """SigV4 with credential-scope service s3express (long-term key), sent raw."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    S3SigV4Auth(Credentials("test", "test"), "s3express", REGION).add_auth(req)
    return h.send(method, url, dict(req.headers.items()), body or None)


@pytest.mark.parametrize("xml", [
    # aws CLI order: DataRedundancy before Type
    "<Location><Type>AvailabilityZone</Type><Name>{zone}</Name></Location>"
    "<Bucket><DataRedundancy>SingleAvailabilityZone</DataRedundancy><Type>Directory</Type></Bucket>",
    # Bucket before Location, Name before Type
    "<Bucket><Type>Directory</Type><DataRedundancy>SingleAvailabilityZone</DataRedundancy></Bucket>"
    "<Location><Name>{zone}</Name><Type>AvailabilityZone</Type></Location>",
], ids=["cli-order", "reversed"])
def test_create_bucket_configuration_order_free(dsrv, lc, xml):
    name = dir_name("ord")
    body = ('<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + xml.format(zone=ZONE) + "</CreateBucketConfiguration>").encode()
    r = express_signed(dsrv, "PUT", h.url_for(dsrv.ip_url, name), body)
    try:
        assert r.status == 200, r.data
        assert name in list_dir_names(lc)
        assert lc.head_bucket(Bucket=name)["BucketLocationName"] == ZONE
    finally:
        empty_dir(lc, name)


@pytest.mark.parametrize("name_zone,cfg,code", [
    ("use1-az5", dir_config(ZONE), "InvalidBucketName"),                       # zone in name != Location/Name
    (ZONE, None, "MalformedXML"),                                               # no configuration at all
    (ZONE, {"LocationConstraint": "us-west-2"}, "MalformedXML"),               # GP-style configuration
    (ZONE, dir_config(ZONE, "AvailabilityZone", "SingleLocalZone"), "InvalidArgument"),
    (LOCAL_ZONE, dir_config(LOCAL_ZONE, "LocalZone", "SingleAvailabilityZone"), "InvalidArgument"),
    (None, dir_config(ZONE), "InvalidBucketName"),                              # GP name, Directory config
], ids=["zone-mismatch", "missing-config", "location-constraint-only", "az-with-single-local-zone", "lz-with-single-az", "gp-name-directory"])
@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_create_bucket_invalid_configuration(dsrv, lc, name_zone, cfg, code, session):
    name = dir_name("bad", name_zone) if name_zone else unique_bucket_name("gpdir")
    c = dclient(dsrv, session=session) if name_zone else gp_client(dsrv)
    kw = {"Bucket": name}
    if cfg is not None:
        kw["CreateBucketConfiguration"] = cfg
    try:
        expect_error(c.create_bucket, code, 400, **kw)
        assert name not in list_dir_names(lc)
        assert name not in [b["Name"] for b in gp_client(dsrv).list_buckets()["Buckets"]]
    finally:
        empty_dir(lc, name)


def test_list_directory_buckets_pagination(server_factory):
    srv = server_factory.start(memory=True)
    c = dclient(srv, session=False)
    gp = gp_client(srv)
    gp.create_bucket(Bucket="plain-general-bucket")
    names = sorted(create_dir(c, dir_name(f"p{i}")) for i in range(5))
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)

    full = c.list_directory_buckets()
    assert sorted(b["Name"] for b in full["Buckets"]) == names
    assert not full.get("ContinuationToken")
    for b in full["Buckets"]:
        assert b["BucketRegion"] == REGION
        assert b["BucketArn"] == bucket_arn(b["Name"])
        assert before <= b["CreationDate"] <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)

    pages = []
    token = None
    while True:
        kw = {"MaxDirectoryBuckets": 2}
        if token:
            kw["ContinuationToken"] = token
        r = c.list_directory_buckets(**kw)
        pages.append([b["Name"] for b in r["Buckets"]])
        token = r.get("ContinuationToken")
        if not token:
            break
        assert len(pages) < 10
    assert [len(p) for p in pages] == [2, 2, 1], pages
    assert sorted(n for p in pages for n in p) == names
    # the boto3 paginator agrees
    got = [b["Name"] for page in c.get_paginator("list_directory_buckets").paginate(
        PaginationConfig={"PageSize": 3}) for b in page["Buckets"]]
    assert sorted(got) == names
    # ListBuckets lists only the general purpose bucket
    assert [b["Name"] for b in gp.list_buckets()["Buckets"]] == ["plain-general-bucket"]
    # on the wire: GET / with service s3express (aws CLI: no query) is ListDirectoryBuckets
    r = express_signed(srv, "GET", srv.ip_url + "/")
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "ListAllMyDirectoryBucketsResult"
    assert sorted(h.findall_text(root, "Buckets/Bucket/Name")) == names
    # ... and with service s3 it is ListBuckets
    r = h.signed("GET", srv.ip_url + "/")
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "ListAllMyBucketsResult"
    assert h.findall_text(root, "Buckets/Bucket/Name") == ["plain-general-bucket"]
    # CreateSession answers CreateSessionResult
    r = express_signed(srv, "GET", h.url_for(srv.ip_url, names[0]) + "?session")
    assert r.status == 200, r.data
    root = h.xml_root(r.data)
    assert h.strip_ns(root.tag) == "CreateSessionResult"
    assert all(h.findall_text(root, f"Credentials/{k}")[0] for k in
               ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"))


def test_directory_bucket_quota_is_separate_from_general_purpose(server_factory):
    """S3's quotas: directory buckets per account and region (100), general purpose buckets per
    account (10,000); neither kind counts against the other."""
    srv = server_factory.start("--max-directory-buckets", "2", "--max-buckets", "1", memory=True)
    c = dclient(srv, session=False)
    gp = gp_client(srv)
    first = create_dir(c)
    create_dir(c)
    expect_error(create_dir, "TooManyBuckets", 400, client=c)
    assert len(c.list_directory_buckets()["Buckets"]) == 2
    # the general purpose quota is untouched by the two directory buckets ...
    gp.create_bucket(Bucket=unique_bucket_name("gpq"))
    expect_error(gp.create_bucket, "TooManyBuckets", 400, Bucket=unique_bucket_name("gpq"))
    # ... and a deleted directory bucket frees its place
    c.delete_bucket(Bucket=first)
    create_dir(c)


# -- CreateSession -------------------------------------------------------------------------------

def assert_credentials(creds: dict):
    for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        assert creds.get(k), creds
    assert creds["AccessKeyId"] != "test" and creds["SecretAccessKey"] != "test"
    left = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 240 <= left <= 330, left


def test_create_session_existing_and_missing_bucket(lc, dbucket):
    s = lc.create_session(Bucket=dbucket)
    assert_credentials(s["Credentials"])
    # the SDK calls CreateSession before CreateBucket: a not-yet-existing name gets a session
    future = dir_name("future")
    s2 = lc.create_session(Bucket=future)
    assert_credentials(s2["Credentials"])
    assert s2["Credentials"]["SessionToken"] != s["Credentials"]["SessionToken"]
    assert future not in list_dir_names(lc)


def test_session_signed_requests(dsrv, lc, dbucket):
    creds = lc.create_session(Bucket=dbucket)["Credentials"]
    sc = session_client(dsrv, creds)
    rec = Recorder(sc)
    p = sc.put_object(Bucket=dbucket, Key="s/k1", Body=b"session write")
    assert_sse(p, None)
    assert sc.get_object(Bucket=dbucket, Key="s/k1")["Body"].read() == b"session write"
    assert sc.head_object(Bucket=dbucket, Key="s/k1")["ContentLength"] == 13
    assert [o["Key"] for o in sc.list_objects_v2(Bucket=dbucket, Prefix="s/")["Contents"]] == ["s/k1"]
    for _, _, hd in rec.requests:
        assert hd.get(SESSION_TOKEN_HEADER) == creds["SessionToken"]
        assert scope_of(hd) == (creds["AccessKeyId"], "s3express")
    # the long-term key is always accepted too
    assert lc.get_object(Bucket=dbucket, Key="s/k1")["Body"].read() == b"session write"


def test_session_garbled_token(dsrv, lc, dbucket):
    creds = lc.create_session(Bucket=dbucket)["Credentials"]
    sc = session_client(dsrv, creds, token="garbled-" + uuid.uuid4().hex)
    expect_error(sc.put_object, "InvalidToken", 403, Bucket=dbucket, Key="g", Body=b"x")
    expect_error(sc.list_objects_v2, "InvalidToken", 403, Bucket=dbucket)
    expect_error(lc.head_object, None, 404, Bucket=dbucket, Key="g")


def test_session_tampered_token(dsrv, lc, dbucket):
    lc.put_object(Bucket=dbucket, Key="t", Body=b"tamper")
    for mode in ("ReadWrite", "ReadOnly"):
        creds = lc.create_session(Bucket=dbucket, SessionMode=mode)["Credentials"]
        bad = tamper_token(creds["SessionToken"])
        sc = session_client(dsrv, creds, token=bad)
        expect_error(sc.put_object, "InvalidToken", 403, Bucket=dbucket, Key="t", Body=b"overwritten")
        expect_error(sc.get_object, "InvalidToken", 403, Bucket=dbucket, Key="t")
    assert lc.get_object(Bucket=dbucket, Key="t")["Body"].read() == b"tamper"


def test_session_credentials_misused(dsrv, lc, dbucket):
    creds = lc.create_session(Bucket=dbucket)["Credentials"]
    # wrong secret with the right token: the signature does not match
    bad_secret = dict(creds, SecretAccessKey=creds["SecretAccessKey"][::-1])
    expect_error(session_client(dsrv, bad_secret).put_object, None, 403, Bucket=dbucket, Key="m", Body=b"x")
    # session access key without its token
    no_token = dclient(dsrv, session=False, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"])
    expect_error(no_token.put_object, None, 403, Bucket=dbucket, Key="m", Body=b"x")
    # the token of one session with another session's keys
    other = lc.create_session(Bucket=dbucket)["Credentials"]
    mixed = dict(other, SessionToken=creds["SessionToken"])
    expect_error(session_client(dsrv, mixed).put_object, None, 403, Bucket=dbucket, Key="m", Body=b"x")
    expect_error(lc.head_object, None, 404, Bucket=dbucket, Key="m")


def test_session_cannot_create_another_bucket_or_read_general_purpose(dsrv, lc, gpbucket):
    a, b = dir_name("sa"), dir_name("sb")
    try:
        sc = session_client(dsrv, lc.create_session(Bucket=a)["Credentials"])
        expect_error(sc.create_bucket, "AccessDenied", 403, Bucket=b, CreateBucketConfiguration=dir_config())
        ro = session_client(dsrv, lc.create_session(Bucket=a, SessionMode="ReadOnly")["Credentials"])
        expect_error(ro.create_bucket, "AccessDenied", 403, Bucket=a, CreateBucketConfiguration=dir_config())
        names = list_dir_names(lc)
        assert a not in names and b not in names
        # the ReadWrite session may create its own bucket
        sc.create_bucket(Bucket=a, CreateBucketConfiguration=dir_config())
        assert a in list_dir_names(lc)
        # a directory-bucket session is no key to a general purpose bucket
        gp_client(dsrv).put_object(Bucket=gpbucket, Key="k", Body=b"gp")
        expect_error(sc.get_object, "AccessDenied", 403, Bucket=gpbucket, Key="k")
        expect_error(sc.put_object, "AccessDenied", 403, Bucket=gpbucket, Key="k2", Body=b"x")
    finally:
        empty_dir(lc, a)
        empty_dir(lc, b)


def test_session_of_another_bucket(dsrv, lc, dbucket):
    other = create_dir(lc, dir_name("other"))
    try:
        lc.put_object(Bucket=other, Key="o", Body=b"other bucket")
        creds = lc.create_session(Bucket=dbucket)["Credentials"]
        sc = session_client(dsrv, creds)
        sc.put_object(Bucket=dbucket, Key="mine", Body=b"ok")   # its own bucket works
        expect_error(sc.put_object, "AccessDenied", 403, Bucket=other, Key="x", Body=b"x")
        expect_error(sc.get_object, "AccessDenied", 403, Bucket=other, Key="o")
        expect_error(sc.list_objects_v2, "AccessDenied", 403, Bucket=other)
        expect_error(sc.put_bucket_encryption, "AccessDenied", 403, Bucket=other,
                     ServerSideEncryptionConfiguration=kms_rule(KEY1))
        expect_error(lc.head_object, None, 404, Bucket=other, Key="x")
        assert_default_aes256(lc, other)
    finally:
        empty_dir(lc, other)


def test_read_only_session(dsrv, lc, dbucket):
    lc.put_object(Bucket=dbucket, Key="ro/k", Body=b"read me")
    creds = lc.create_session(Bucket=dbucket, SessionMode="ReadOnly")["Credentials"]
    assert_credentials(creds)
    sc = session_client(dsrv, creds)
    assert sc.get_object(Bucket=dbucket, Key="ro/k")["Body"].read() == b"read me"
    assert sc.head_object(Bucket=dbucket, Key="ro/k")["ContentLength"] == 7
    assert [o["Key"] for o in sc.list_objects_v2(Bucket=dbucket)["Contents"]] == ["ro/k"]
    expect_error(sc.put_object, "AccessDenied", 403, Bucket=dbucket, Key="ro/new", Body=b"nope")
    expect_error(sc.put_object, "AccessDenied", 403, Bucket=dbucket, Key="ro/k", Body=b"overwrite")
    expect_error(sc.delete_object, "AccessDenied", 403, Bucket=dbucket, Key="ro/k")
    expect_error(sc.create_multipart_upload, "AccessDenied", 403, Bucket=dbucket, Key="ro/mpu")
    assert lc.get_object(Bucket=dbucket, Key="ro/k")["Body"].read() == b"read me"
    expect_error(lc.head_object, None, 404, Bucket=dbucket, Key="ro/new")
    # every other write is refused too
    gp = gp_client(dsrv)
    gpname = unique_bucket_name("rosrc")
    gp.create_bucket(Bucket=gpname)
    try:
        gp.put_object(Bucket=gpname, Key="src", Body=b"copy me")
        expect_error(sc.copy_object, "AccessDenied", 403, Bucket=dbucket, Key="ro/copy",
                     CopySource={"Bucket": gpname, "Key": "src"})
    finally:
        gp.delete_object(Bucket=gpname, Key="src")
        gp.delete_bucket(Bucket=gpname)
    expect_error(sc.put_bucket_encryption, "AccessDenied", 403, Bucket=dbucket,
                 ServerSideEncryptionConfiguration=kms_rule(KEY1))
    expect_error(sc.delete_bucket_encryption, "AccessDenied", 403, Bucket=dbucket)
    assert_default_aes256(lc, dbucket)
    uid = lc.create_multipart_upload(Bucket=dbucket, Key="ro/mpu2")["UploadId"]
    expect_error(sc.upload_part, "AccessDenied", 403, Bucket=dbucket, Key="ro/mpu2", UploadId=uid,
                 PartNumber=1, Body=b"part")
    lc.abort_multipart_upload(Bucket=dbucket, Key="ro/mpu2", UploadId=uid)
    expect_error(lc.head_object, None, 404, Bucket=dbucket, Key="ro/copy")
    # a ReadWrite session on the same bucket may write
    rw = session_client(dsrv, lc.create_session(Bucket=dbucket, SessionMode="ReadWrite")["Credentials"])
    rw.put_object(Bucket=dbucket, Key="ro/new", Body=b"rw")
