"""Authorization decisions, one table-driven test per decision across every bucket and object
operation of the router's `Endpoint` enum (docs/security.md has the table):

- another account's bucket -> 403 AccessDenied
- a wrong `x-amz-expected-bucket-owner` -> 403 AccessDenied
- an expired presigned URL -> 403 AccessDenied "Request has expired"
- SSE-C reads with the wrong key -> 403 AccessDenied (UploadPart: 400 InvalidRequest, §2.8 of the
  encryption reference)

Every request is raw (signed with botocore's signers), so the status and the XML code are
checked exactly; HEAD answers carry no body, so only their status is checked. After each denial
the owner's objects are unchanged.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os

import pytest

import s3helpers as h
from conftest import ALICE, DEFAULT_ACCOUNT

OWNER = ("test", "test")
KEY = "obj"
BODY = b"the owner's object"
SSEC_KEY = os.urandom(32)
WRONG_KEY = os.urandom(32)


def md5_b64(b: bytes) -> str:
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def ssec(key: bytes, prefix: str = "x-amz-server-side-encryption-customer-") -> dict:
    return {prefix + "algorithm": "AES256", prefix + "key": base64.b64encode(key).decode(),
            prefix + "key-MD5": md5_b64(key)}


def copy_ssec(key: bytes) -> dict:
    return ssec(key, "x-amz-copy-source-server-side-encryption-customer-")


RULE = (b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
        b"<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
        b"</ServerSideEncryptionConfiguration>")
DELETE = f"<Delete><Object><Key>{KEY}</Key></Object></Delete>".encode()
TAGS = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
COMPLETE = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>"
SUBRESOURCES = {
    "GetBucketAccelerateConfiguration": "accelerate", "GetBucketCors": "cors",
    "GetBucketLifecycleConfiguration": "lifecycle", "GetBucketLogging": "logging",
    "GetBucketNotificationConfiguration": "notification", "GetBucketOwnershipControls": "ownershipControls",
    "GetBucketPolicy": "policy", "GetPublicAccessBlock": "publicAccessBlock",
    "GetBucketRequestPayment": "requestPayment", "GetBucketTagging": "tagging",
    "GetBucketVersioning": "versioning", "GetBucketWebsite": "website",
}

# name -> (method, path, headers, body); {b} the owner's bucket, {uid} an upload of the owner.
OPS = {
    "DeleteBucket": ("DELETE", "/{b}", {}, b""),
    "HeadBucket": ("HEAD", "/{b}", {}, b""),
    "GetBucketLocation": ("GET", "/{b}?location", {}, b""),
    "GetBucketAcl": ("GET", "/{b}?acl", {}, b""),
    "PutBucketAcl": ("PUT", "/{b}?acl", {"x-amz-acl": "private"}, b""),
    "PutBucketEncryption": ("PUT", "/{b}?encryption", {"Content-MD5": md5_b64(RULE)}, RULE),
    "GetBucketEncryption": ("GET", "/{b}?encryption", {}, b""),
    "DeleteBucketEncryption": ("DELETE", "/{b}?encryption", {}, b""),
    **{name: ("GET", f"/{{b}}?{sub}", {}, b"") for name, sub in SUBRESOURCES.items()},
    "ListObjects": ("GET", "/{b}", {}, b""),
    "ListObjectsV2": ("GET", "/{b}?list-type=2", {}, b""),
    "ListObjectVersions": ("GET", "/{b}?versions", {}, b""),
    "DeleteObjects": ("POST", "/{b}?delete", {"Content-MD5": md5_b64(DELETE)}, DELETE),
    "PutObject": ("PUT", f"/{{b}}/{KEY}", {}, b"overwritten"),
    "CopyObject": ("PUT", "/{b}/copy", {"x-amz-copy-source": f"/{{b}}/{KEY}"}, b""),
    "GetObject": ("GET", f"/{{b}}/{KEY}", {}, b""),
    "HeadObject": ("HEAD", f"/{{b}}/{KEY}", {}, b""),
    "GetObjectAttributes": ("GET", f"/{{b}}/{KEY}?attributes", {"x-amz-object-attributes": "ETag"}, b""),
    "DeleteObject": ("DELETE", f"/{{b}}/{KEY}", {}, b""),
    "GetObjectAcl": ("GET", f"/{{b}}/{KEY}?acl", {}, b""),
    "PutObjectAcl": ("PUT", f"/{{b}}/{KEY}?acl", {"x-amz-acl": "private"}, b""),
    "CreateMultipartUpload": ("POST", "/{b}/mp?uploads", {}, b""),
    "UploadPart": ("PUT", "/{b}/mp?partNumber=1&uploadId={uid}", {}, b"part"),
    "UploadPartCopy": ("PUT", "/{b}/mp?partNumber=1&uploadId={uid}", {"x-amz-copy-source": f"/{{b}}/{KEY}"}, b""),
    "CompleteMultipartUpload": ("POST", "/{b}/mp?uploadId={uid}", {}, COMPLETE),
    "AbortMultipartUpload": ("DELETE", "/{b}/mp?uploadId={uid}", {}, b""),
    "ListParts": ("GET", "/{b}/mp?uploadId={uid}", {}, b""),
    "ListMultipartUploads": ("GET", "/{b}?uploads", {}, b""),
    "PutObjectTagging": ("PUT", f"/{{b}}/{KEY}?tagging", {"Content-MD5": md5_b64(TAGS)}, TAGS),
    "GetObjectTagging": ("GET", f"/{{b}}/{KEY}?tagging", {}, b""),
    "DeleteObjectTagging": ("DELETE", f"/{{b}}/{KEY}?tagging", {}, b""),
}


class World:
    """The owner's bucket with an object, an SSE-C object and two open uploads (one SSE-C);
    alice's bucket with an open upload (for copies whose source is the owner's)."""

    def __init__(self, srv):
        self.srv = srv
        self.b = f"authz-{os.urandom(4).hex()}"
        self.ab = f"authz-alice-{os.urandom(4).hex()}"
        self.uid = ""
        ok = self.call("PUT", f"/{self.b}")
        assert ok.status == 200, ok.data
        assert self.call("PUT", f"/{self.b}/{KEY}", body=BODY).status == 200
        assert self.call("PUT", f"/{self.b}/ssec", ssec(SSEC_KEY), BODY).status == 200
        self.uid = self.upload(f"/{self.b}/mp")
        self.ssec_uid = self.upload(f"/{self.b}/ssec-mp", ssec(SSEC_KEY))
        assert self.call("PUT", f"/{self.ab}", creds=ALICE).status == 200
        self.alice_uid = self.upload(f"/{self.ab}/mp", creds=ALICE)

    def url(self, path: str) -> str:
        return self.srv.url + path.format(b=self.b, uid=self.uid)

    def call(self, method, path, headers=None, body=b"", creds=OWNER):
        headers = {k: v.format(b=self.b) for k, v in (headers or {}).items()}
        return h.signed(method, self.url(path), headers, body, access_key=creds[0], secret_key=creds[1])

    def upload(self, path, headers=None, creds=OWNER) -> str:
        r = self.call("POST", path + "?uploads", headers, creds=creds)
        assert r.status == 200, r.data
        return h.findall_text(h.xml_root(r.data), "UploadId")[0]

    def assert_unchanged(self):
        r = self.call("GET", f"/{self.b}/{KEY}")
        assert (r.status, r.data) == (200, BODY)
        # The upload is neither completed nor aborted (tests that succeed on purpose add parts).
        r = self.call("GET", f"/{self.b}/mp?uploadId={self.uid}")
        assert r.status == 200, r.data


@pytest.fixture(scope="module")
def world(server_factory):
    srv = server_factory.start("--user", ":".join(ALICE), "--allow-ssec-by-default")
    yield World(srv)
    srv.stop()


def assert_denied(r, method: str, status: int = 403, code: str = "AccessDenied", message: str | None = None):
    if method == "HEAD":
        assert r.status == status and r.data == b"", (r.status, r.data)
        return
    err = h.assert_s3_error(r, status, code)
    if message is not None:
        assert err["Message"] == message, err


@pytest.mark.parametrize("op", list(OPS))
def test_another_accounts_bucket_is_access_denied(world, op):
    method, path, headers, body = OPS[op]
    assert_denied(world.call(method, path, headers, body, creds=ALICE), method)
    world.assert_unchanged()


@pytest.mark.parametrize("op", ["CopyObject", "UploadPartCopy"])
def test_copy_from_another_accounts_bucket_is_access_denied(world, op):
    """Alice writes into her own bucket, the copy source is the owner's."""
    path = f"/{world.ab}/copy" if op == "CopyObject" else f"/{world.ab}/mp?partNumber=1&uploadId={world.alice_uid}"
    r = world.call("PUT", path, {"x-amz-copy-source": f"/{world.b}/{KEY}"}, creds=ALICE)
    assert_denied(r, "PUT")


@pytest.mark.parametrize("op", list(OPS))
def test_wrong_expected_bucket_owner_is_access_denied(world, op):
    method, path, headers, body = OPS[op]
    r = world.call(method, path, {**headers, "x-amz-expected-bucket-owner": ALICE[2]}, body)
    assert_denied(r, method)
    world.assert_unchanged()


@pytest.mark.parametrize("op", ["CopyObject", "UploadPartCopy"])
def test_wrong_source_expected_bucket_owner_is_access_denied(world, op):
    method, path, headers, body = OPS[op]
    r = world.call(method, path, {**headers, "x-amz-source-expected-bucket-owner": ALICE[2]}, body)
    assert_denied(r, method)
    # The right owner is accepted.
    r = world.call(method, path, {**headers, "x-amz-source-expected-bucket-owner": DEFAULT_ACCOUNT}, body)
    assert r.status == 200, r.data


@pytest.mark.parametrize("op", list(OPS))
def test_expired_presigned_url_is_access_denied(world, op):
    method, path, headers, body = OPS[op]
    headers = {k: v.format(b=world.b) for k, v in headers.items()}
    url = h.presign_v4(method, world.url(path), expires=60, headers=headers,
                       when=h.utcnow() - datetime.timedelta(hours=2))
    r = h.send(method, url, headers, body or None)
    assert_denied(r, method, message="Request has expired")
    world.assert_unchanged()


MSG_SSEC_WRONG = ("Requests specifying Server Side Encryption with Customer provided keys must provide "
                  "the correct secret key.")

# name -> (method, path, headers, status, code); the SSE-C object and upload were made with SSEC_KEY.
SSEC_OPS = {
    "GetObject": ("GET", "/{b}/ssec", ssec(WRONG_KEY), 403, "AccessDenied"),
    "HeadObject": ("HEAD", "/{b}/ssec", ssec(WRONG_KEY), 403, "AccessDenied"),
    "GetObjectAttributes": ("GET", "/{b}/ssec?attributes", {"x-amz-object-attributes": "ObjectSize", **ssec(WRONG_KEY)},
                            403, "AccessDenied"),
    "CopyObject(source)": ("PUT", "/{b}/copy", {"x-amz-copy-source": "/{b}/ssec", **copy_ssec(WRONG_KEY)},
                           403, "AccessDenied"),
    "UploadPartCopy(source)": ("PUT", "/{b}/mp?partNumber=1&uploadId={uid}",
                               {"x-amz-copy-source": "/{b}/ssec", **copy_ssec(WRONG_KEY)}, 403, "AccessDenied"),
    # Another key than the upload's: 400 InvalidRequest (reference §2.8, captured from S3).
    "UploadPart": ("PUT", "/{b}/ssec-mp?partNumber=1&uploadId={ssec_uid}", ssec(WRONG_KEY), 400, "InvalidRequest"),
}


@pytest.mark.parametrize("op", list(SSEC_OPS))
def test_ssec_wrong_key(world, op):
    method, path, headers, status, code = SSEC_OPS[op]
    path = path.replace("{ssec_uid}", world.ssec_uid)
    body = b"part" if op == "UploadPart" else b""
    r = world.call(method, path, headers, body)
    assert_denied(r, method, status, code, MSG_SSEC_WRONG if code == "AccessDenied" and op == "GetObject" else None)
    # With the right key the same request succeeds.
    right = {k: v for k, v in headers.items()}
    right.update(copy_ssec(SSEC_KEY) if "source" in op else ssec(SSEC_KEY))
    r = world.call(method, path, right, body)
    assert r.status == 200, r.data
    world.assert_unchanged()
