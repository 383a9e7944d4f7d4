"""Directory buckets (S3 Express One Zone, issue 8), what boto3 and the aws CLI see.

Reference: shared/docs/directory-buckets.md (wire behaviour, captures in
shared/docs/captures/directory-buckets/).  Covered: CreateBucket with a
CreateBucketConfiguration (AvailabilityZone / LocalZone, order-free XML, invalid shapes),
ListDirectoryBuckets (fields, pagination, separation from ListBuckets), HeadBucket,
CreateSession (credentials, ReadOnly sessions, forged / foreign / tampered tokens), bucket
default encryption rules on directory buckets (AES256 / aws:kms only, CMK locked for the
bucket's lifetime, 501 for ExpectedBucketOwner and Content-MD5), object operations with and
without session auth, path-style (127.0.0.1) and virtual-hosted (localhost) addressing, copies
between general purpose and directory buckets, multipart + UploadPartCopy, ListObjectsV2
prefix/delimiter rules, a restart, and the aws CLI.

Error codes that the reference marks "unverified" are the ones the server keeps in one table;
the tests pin the values chosen for sealstore.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import socket
import subprocess
import uuid
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import DEFAULT_ACCOUNT, _no_proxy, assert_client_error, make_client, unique_bucket_name

REGION = "us-east-1"
ZONE = "use1-az4"
LOCAL_ZONE = "usw2-lax1-az1"
# KMS keys the module's servers declare with --kms-key.
KEY1 = "dirkey-1"
KEY2 = "5d0c7e3a-1f2b-4c6d-8e9f-0a1b2c3d4e5f"
ALIAS = "alias/dir-app"
UNKNOWN_KEY = "0badc0de-0000-4000-8000-000000000000"
MIB = 1024 * 1024

MSG_CONTENT_MD5 = "This bucket does not support Content Md5 header."
MSG_PREFIX = ("This bucket does not support a prefix that does not end in a delimiter. "
              "Specify a prefix path ending with a delimiter and try again.")
SESSION_TOKEN_HEADER = "x-amz-s3session-token"


# -- helpers -----------------------------------------------------------------------------------

def dir_name(prefix: str = "d", zone: str = ZONE) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}--{zone}--x-s3"


def kms_arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{key_id}"


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3express:{REGION}:{DEFAULT_ACCOUNT}:bucket/{name}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_b64(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def arn_context(name: str) -> str:
    return b64(json.dumps({"aws:s3express:bucket-arn": bucket_arn(name)}).encode())


def pattern(n: int, seed: int = 0) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def dir_config(zone: str = ZONE, loc_type: str = "AvailabilityZone", redundancy: str | None = None) -> dict:
    if redundancy is None:
        redundancy = "SingleAvailabilityZone" if loc_type == "AvailabilityZone" else "SingleLocalZone"
    return {"Location": {"Type": loc_type, "Name": zone},
            "Bucket": {"Type": "Directory", "DataRedundancy": redundancy}}


class Recorder:
    """Records every request a boto3 client sends (method, url, headers)."""

    def __init__(self, client):
        self.requests: list[tuple[str, str, dict]] = []
        client.meta.events.register("before-send.s3", self._on_send)

    def _on_send(self, request, **kw):
        headers = {}
        for k, v in request.headers.items():
            headers[k.lower()] = v.decode() if isinstance(v, bytes) else v
        self.requests.append((request.method, request.url, headers))

    def clear(self):
        self.requests.clear()

    def data_requests(self):
        """Every request except CreateSession (``?session``) and ListDirectoryBuckets."""
        out = []
        for m, url, hd in self.requests:
            q = urlsplit(url).query
            if q == "session" or q.startswith("session&") or "max-directory-buckets" in q:
                continue
            out.append((m, url, hd))
        return out


def scope_of(headers: dict) -> tuple[str, str]:
    """(access key, service) of a SigV4 Authorization header."""
    auth = headers["authorization"]
    cred = auth.split("Credential=", 1)[1].split(",", 1)[0]
    parts = cred.split("/")
    return parts[0], parts[3]


def dclient(srv, *, session: bool = True, style: str = "ip", access_key: str = "test",
            secret_key: str = "test", token: str | None = None, **kw):
    """A fresh boto3 client for directory buckets.

    style "ip": endpoint http://127.0.0.1:PORT (path-style); "localhost": http://localhost:PORT
    (virtual-hosted ``<bucket>.localhost``).  ``token``: sign with session credentials by hand
    (session auth off in botocore, ``x-amz-s3session-token`` added before signing).
    """
    endpoint = srv.ip_url if style == "ip" else f"http://localhost:{srv.port}"
    c = make_client(endpoint, access_key, secret_key, REGION,
                    s3={"addressing_style": "path", "disable_s3_express_session_auth": not session}, **kw)
    if token is not None:
        def add_token(request, **kw):
            request.headers[SESSION_TOKEN_HEADER] = token
        c.meta.events.register("before-sign.s3", add_token)
    return c


def gp_client(srv):
    """A plain client (general purpose buckets, service s3)."""
    return srv.client()


def create_dir(client, name: str | None = None, **cfg) -> str:
    name = name or dir_name()
    client.create_bucket(Bucket=name, CreateBucketConfiguration=dir_config(**cfg))
    return name


def empty_dir(client, bucket: str, delete_bucket: bool = True):
    """Best-effort teardown of a directory bucket."""
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=o["Key"])
        if delete_bucket:
            client.delete_bucket(Bucket=bucket)
    except Exception:
        pass


def list_dir_names(client, **kw) -> list[str]:
    names = []
    token = None
    while True:
        args = dict(kw)
        if token:
            args["ContinuationToken"] = token
        r = client.list_directory_buckets(**args)
        names += [b["Name"] for b in r.get("Buckets", [])]
        token = r.get("ContinuationToken")
        if not token:
            return names


def kms_rule(key: str | None = KEY1, alg: str = "aws:kms", bucket_key: bool | None = True, **extra) -> dict:
    d = {"SSEAlgorithm": alg}
    if key is not None:
        d["KMSMasterKeyID"] = key
    rule = {"ApplyServerSideEncryptionByDefault": d}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    rule.update(extra)
    return {"Rules": [rule]}


def get_rule(client, bucket: str) -> dict:
    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1, rules
    return rules[0]


def assert_default_aes256(client, bucket: str):
    rule = get_rule(client, bucket)
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rule
    assert "KMSMasterKeyID" not in rule["ApplyServerSideEncryptionByDefault"], rule
    assert "BlockedEncryptionTypes" not in rule, rule


def assert_sse(resp, kms_key: str | None):
    """The SSE fields of a Put/Get/Head/Copy/MPU response: AES256, or aws:kms + key ARN + bucket key."""
    if kms_key is None:
        assert resp.get("ServerSideEncryption") == "AES256", resp.get("ResponseMetadata", {}).get("HTTPHeaders")
        assert "SSEKMSKeyId" not in resp, resp
    else:
        hd = resp.get("ResponseMetadata", {}).get("HTTPHeaders")
        assert resp.get("ServerSideEncryption") == "aws:kms", hd
        assert resp.get("SSEKMSKeyId") == kms_arn(kms_key), hd
        assert resp.get("BucketKeyEnabled") is True, hd


def expect_error(fn, code: str | None, status: int, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    return assert_client_error(ei, code, status)


def tamper_token(token: str) -> str:
    """Edit the token's payload (keeping it well-formed where possible)."""
    head, sep, tail = token.partition(".")
    if sep:
        try:
            raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
            text = raw.decode()
        except Exception:
            text = None
        if text is not None:
            if "ReadOnly" in text:
                edited = text.replace("ReadOnly", "ReadWrite")
            else:
                # bump the last digit found (e.g. the expiry)
                idx = max(i for i, ch in enumerate(text) if ch.isdigit()) if any(c.isdigit() for c in text) else -1
                if idx >= 0:
                    edited = text[:idx] + str((int(text[idx]) + 1) % 10) + text[idx + 1:]
                else:
                    edited = text + "x"
            new_head = base64.urlsafe_b64encode(edited.encode()).decode()
            if "=" not in head:
                new_head = new_head.rstrip("=")
            assert new_head != head
            return new_head + sep + tail
    mid = len(token) // 2
    return token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1:]


@pytest.fixture
def localhost_subdomains(monkeypatch):
    """Resolve *.localhost to 127.0.0.1 in this process (glibc here does not)."""
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


# -- fixtures ----------------------------------------------------------------------------------

KMS_ARGS = ("--kms-key", KEY1, "--kms-key", KEY2, "--kms-key", ALIAS)


@pytest.fixture(scope="module")
def dsrv(server_factory):
    """An in-memory server with KMS keys for the default account."""
    srv = server_factory.start(*KMS_ARGS, memory=True)
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture(scope="module")
def lc(dsrv):
    """Long-term-key client (session auth off), path-style."""
    return dclient(dsrv, session=False)


@pytest.fixture
def dbucket(lc):
    """A fresh directory bucket with no encryption configuration (SSE-S3 default)."""
    name = create_dir(lc)
    yield name
    empty_dir(lc, name)


@pytest.fixture
def kbucket(lc):
    """A fresh directory bucket whose default encryption is aws:kms with KEY1."""
    name = create_dir(lc)
    lc.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
    yield name
    empty_dir(lc, name)


@pytest.fixture
def gpbucket(dsrv):
    c = gp_client(dsrv)
    name = unique_bucket_name("gp")
    c.create_bucket(Bucket=name)
    yield name
    try:
        for o in c.list_objects_v2(Bucket=name).get("Contents", []):
            c.delete_object(Bucket=name, Key=o["Key"])
        c.delete_bucket(Bucket=name)
    except Exception:
        pass


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


def session_client(srv, creds: dict, token: str | None = None):
    return dclient(srv, session=False, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                   token=creds["SessionToken"] if token is None else token)


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


SSEC_KEY = bytes(range(32))

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


# -- restart ---------------------------------------------------------------------------------------

def test_restart_keeps_directory_bucket_key_lock_and_objects(server_factory):
    data_dir = server_factory.new_dir("dirdata")
    srv = server_factory.start(*KMS_ARGS, data_dir=data_dir)
    c = dclient(srv, session=True)
    name = create_dir(c)
    c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
    body = pattern(300_000, 6)
    c.put_object(Bucket=name, Key="persist/obj", Body=body)
    aes = create_dir(c, dir_name("aes"))
    c.put_object(Bucket=aes, Key="a", Body=b"aes object")
    assert srv.stop() == 0

    srv2 = server_factory.start(*KMS_ARGS, data_dir=data_dir)
    try:
        for session in (True, False):
            c2 = dclient(srv2, session=session)
            assert sorted(list_dir_names(c2)) == sorted([name, aes])
            assert name not in [b["Name"] for b in gp_client(srv2).list_buckets()["Buckets"]]
            assert c2.head_bucket(Bucket=name)["BucketLocationName"] == ZONE
            g = c2.get_object(Bucket=name, Key="persist/obj")
            assert g["Body"].read() == body
            assert_sse(g, KEY1)
            assert g.get("StorageClass") == "EXPRESS_ONEZONE"
            assert c2.get_object(Bucket=aes, Key="a")["Body"].read() == b"aes object"
            rule = get_rule(c2, name)
            assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
            expect_error(c2.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                         ServerSideEncryptionConfiguration=kms_rule(KEY2))
        # the lock survives Delete + restart as well
        c2.delete_bucket_encryption(Bucket=name)
        assert srv2.stop() == 0
        srv3 = server_factory.start(*KMS_ARGS, data_dir=data_dir)
        c3 = dclient(srv3, session=False)
        assert_default_aes256(c3, name)
        expect_error(c3.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                     ServerSideEncryptionConfiguration=kms_rule(KEY2))
        c3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(kms_arn(KEY1)))
        assert c3.get_object(Bucket=name, Key="persist/obj")["Body"].read() == body
        assert_sse(c3.put_object(Bucket=name, Key="after", Body=b"x"), KEY1)
        srv3.stop()
    finally:
        if srv2.alive():
            srv2.stop()


# -- aws CLI ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dcli(dsrv, aws_cli_home):
    """Run the aws CLI (v1) against the module's server (127.0.0.1: path-style)."""
    exe = os.environ.get("AWS_CLI") or shutil.which("aws")
    if not exe:
        pytest.fail("aws CLI not found on PATH")

    def run(*args, disable_session: bool = False, timeout: float = 60):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(aws_cli_home),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "LC_ALL": os.environ.get("LC_ALL", "C.UTF-8"),
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(aws_cli_home / "nonexistent-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws_cli_home / "nonexistent-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
            "NO_PROXY": _no_proxy,
            "no_proxy": _no_proxy,
        }
        if disable_session:
            env["AWS_S3_DISABLE_EXPRESS_SESSION_AUTH"] = "true"
        for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_ROOT", "PYENV_VERSION"):
            if var in os.environ:
                env[var] = os.environ[var]
        argv = [exe, *args, "--endpoint-url", dsrv.ip_url]
        sessions_before = dsrv.stderr_text().count('op="CreateSession"')
        p = subprocess.run(argv, capture_output=True, env=env, cwd=str(aws_cli_home), timeout=timeout,
                           stdin=subprocess.DEVNULL)
        res = (p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
        # session auth on: the CLI asked for a session (server log: one line per request)
        sessions = dsrv.stderr_text().count('op="CreateSession"') - sessions_before
        if disable_session:
            assert sessions == 0, (argv, res)
        elif any("--x-s3" in a for a in args):
            assert sessions >= 1, (argv, res)
        return res

    return run


def cli_ok(res):
    rc, out, err = res
    assert rc == 0, f"rc={rc} stdout={out[-800:]!r} stderr={err[-800:]!r}"
    return out


@pytest.mark.parametrize("disable_session", [False, True], ids=["session", "nosession"])
def test_aws_cli_directory_bucket(dsrv, lc, dcli, tmp_path, disable_session):
    name = dir_name("cli")
    try:
        cli_ok(dcli("s3api", "create-bucket", "--bucket", name, "--create-bucket-configuration",
                    f"Location={{Type=AvailabilityZone,Name={ZONE}}},"
                    "Bucket={DataRedundancy=SingleAvailabilityZone,Type=Directory}",
                    disable_session=disable_session))
        listed = json.loads(cli_ok(dcli("s3api", "list-directory-buckets", disable_session=disable_session)))
        mine = [b for b in listed["Buckets"] if b["Name"] == name]
        assert len(mine) == 1 and mine[0]["BucketArn"] == bucket_arn(name), listed
        assert name not in [b["Name"] for b in gp_client(dsrv).list_buckets()["Buckets"]]
        assert name not in cli_ok(dcli("s3", "ls", disable_session=disable_session))
        hb = json.loads(cli_ok(dcli("s3api", "head-bucket", "--bucket", name, disable_session=disable_session)))
        assert hb.get("BucketLocationType") == "AvailabilityZone" and hb.get("BucketLocationName") == ZONE, hb

        enc = json.loads(cli_ok(dcli("s3api", "get-bucket-encryption", "--bucket", name,
                                     disable_session=disable_session)))
        assert enc["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"][
            "SSEAlgorithm"] == "AES256"
        cfg = json.dumps(kms_rule(KEY1))
        cli_ok(dcli("s3api", "put-bucket-encryption", "--bucket", name,
                    "--server-side-encryption-configuration", cfg, disable_session=disable_session))
        enc = json.loads(cli_ok(dcli("s3api", "get-bucket-encryption", "--bucket", name,
                                     disable_session=disable_session)))
        rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY1, kms_arn(KEY1))
        assert rule["BucketKeyEnabled"] is True
        rc, out, err = dcli("s3api", "put-bucket-encryption", "--bucket", name,
                            "--server-side-encryption-configuration", json.dumps(kms_rule(KEY2)),
                            disable_session=disable_session)
        assert rc != 0 and "InvalidArgument" in err, (rc, out, err)

        data = pattern(1_500_000, 7)
        src = tmp_path / "up.bin"
        src.write_bytes(data)
        out = cli_ok(dcli("s3", "cp", str(src), f"s3://{name}/dir/up.bin", disable_session=disable_session))
        assert "upload:" in out
        hd = lc.head_object(Bucket=name, Key="dir/up.bin")
        assert hd["ContentLength"] == len(data)
        assert_sse(hd, KEY1)
        (tmp_path / "small.txt").write_bytes(b"small file\n")
        cli_ok(dcli("s3", "cp", str(tmp_path / "small.txt"), f"s3://{name}/top.txt", disable_session=disable_session))
        dst = tmp_path / "down.bin"
        out = cli_ok(dcli("s3", "cp", f"s3://{name}/dir/up.bin", str(dst), disable_session=disable_session))
        assert "download:" in out
        assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()

        lines = cli_ok(dcli("s3", "ls", f"s3://{name}/", disable_session=disable_session)).splitlines()
        assert any(ln.strip() == "PRE dir/" for ln in lines), lines
        assert any(ln.endswith(" 11 top.txt") for ln in lines), lines
        lines = cli_ok(dcli("s3", "ls", f"s3://{name}/dir/", disable_session=disable_session)).splitlines()
        assert any(ln.endswith(f" {len(data)} up.bin") for ln in lines), lines
        if not disable_session:
            # above the CLI's 8 MiB threshold: a multipart upload and a ranged download
            big = pattern(9 * MIB + 17, 9)
            (tmp_path / "big.bin").write_bytes(big)
            cli_ok(dcli("s3", "cp", str(tmp_path / "big.bin"), f"s3://{name}/dir/big.bin"))
            hd = lc.head_object(Bucket=name, Key="dir/big.bin")
            assert hd["ContentLength"] == len(big) and hd["ETag"].endswith('-2"'), hd
            assert_sse(hd, KEY1)
            cli_ok(dcli("s3", "cp", f"s3://{name}/dir/big.bin", str(tmp_path / "big-down.bin")))
            assert hashlib.sha256((tmp_path / "big-down.bin").read_bytes()).digest() == hashlib.sha256(big).digest()
    finally:
        empty_dir(lc, name)


# -- copies naming SSE, presigned URLs -------------------------------------------------------------

def test_copy_into_kms_bucket_sse_headers(dsrv, lc, kbucket, gpbucket):
    c = dclient(dsrv, session=True)
    gp_client(dsrv).put_object(Bucket=gpbucket, Key="src", Body=b"copy source")
    src = {"Bucket": gpbucket, "Key": "src"}
    # the bucket's own key (ARN, as captured in boto3-dir-copy-object-kms--16; and bare id)
    for key, kw in (("own-arn", {"SSEKMSKeyId": kms_arn(KEY1)}), ("own-id", {"SSEKMSKeyId": KEY1}), ("no-key", {})):
        cp = c.copy_object(Bucket=kbucket, Key=key, CopySource=src, ServerSideEncryption="aws:kms", **kw)
        assert_sse(cp, KEY1)
        g = c.get_object(Bucket=kbucket, Key=key)
        assert g["Body"].read() == b"copy source"
        assert_sse(g, KEY1)
    for key, kw in (("other-key", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY2}),
                    ("dsse", {"ServerSideEncryption": "aws:kms:dsse"}),
                    ("aes256", {"ServerSideEncryption": "AES256"}),
                    ("ssec", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY})):
        expect_error(c.copy_object, "InvalidArgument", 400, Bucket=kbucket, Key=key, CopySource=src, **kw)
        expect_error(lc.head_object, None, 404, Bucket=kbucket, Key=key)


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_presigned_get_and_put(dsrv, dbucket, session):
    """generate_presigned_url on a directory bucket: SigV4 (service s3express); with session auth the
    URL carries X-Amz-S3session-Token and the session's access key (boto3-dir-presign-get--23).
    Without session auth botocore would fall back to a SigV2 URL in us-east-1: ask for s3v4."""
    c = dclient(dsrv, session=session, **({} if session else {"signature_version": "s3v4"}))
    c.put_object(Bucket=dbucket, Key="p/obj", Body=b"presigned body")
    url = c.generate_presigned_url("get_object", Params={"Bucket": dbucket, "Key": "p/obj"}, ExpiresIn=120)
    q = urlsplit(url).query
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in q and "%2Fs3express%2Faws4_request" in q, url
    assert ("X-Amz-S3session-Token=" in q) == session, url
    r = h.send("GET", url)
    assert r.status == 200, r.data
    assert r.data == b"presigned body"
    put_url = c.generate_presigned_url("put_object", Params={"Bucket": dbucket, "Key": "p/up"}, ExpiresIn=120)
    r = h.send("PUT", put_url, {}, b"uploaded via url")
    assert r.status == 200, r.data
    assert c.get_object(Bucket=dbucket, Key="p/up")["Body"].read() == b"uploaded via url"
    # an edited signature is refused
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert h.send("GET", bad).status == 403
