"""Constants, helpers and fixtures of the directory-bucket tests (test_directory_*.py), which cover:

Directory buckets (S3 Express One Zone, issue 8), what boto3 and the aws CLI see.

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
import hashlib
import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, assert_client_error, make_client, unique_bucket_name


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


def session_client(srv, creds: dict, token: str | None = None):
    return dclient(srv, session=False, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                   token=creds["SessionToken"] if token is None else token)


SSEC_KEY = bytes(range(32))
