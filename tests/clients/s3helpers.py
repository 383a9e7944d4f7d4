"""Helpers shared by the client tests: raw signed requests, error parsing.

boto3 cannot produce most malformed or deliberately wrong requests, so the auth
and protocol tests build them with botocore's own signers (SigV4, SigV2) on an
``AWSRequest`` and send them with a plain ``urllib3`` pool.  Only loopback
addresses are ever used.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import time
import xml.etree.ElementTree as ET
from unittest import mock
from urllib.parse import quote

import urllib3
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# One pool for every raw request; no retries, no redirects, short timeouts.
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=60))


def blob_files(data_dir, expect: int | None = None, timeout: float = 5.0) -> set[str]:
    """The names of the blob files under ``data_dir/blobs``. Replaced blobs are unlinked just after
    the reply, in the background, so this waits (up to ``timeout``) until there are ``expect`` of
    them or, without ``expect``, until the set holds still for 50 ms."""
    def now() -> set[str]:
        return {p.name for p in (data_dir / "blobs").glob("*/*") if p.is_file()}
    deadline = time.monotonic() + timeout
    files = now()
    while time.monotonic() < deadline:
        if expect is not None and len(files) == expect:
            return files
        time.sleep(0.05)
        later = now()
        if expect is None and later == files:
            return files
        files = later
    return files


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def key_path(key: str) -> str:
    """Encode a key for the URL path the way botocore does (``/`` and ``~`` kept)."""
    return quote(key, safe="/~")


def query_string(params: dict | None) -> str:
    """Canonically encoded query string (botocore signs the URL's query as is)."""
    if not params:
        return ""
    parts = []
    for k, v in params.items():
        v = "" if v is None else str(v)
        parts.append(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}")
    return "&".join(parts)


def url_for(base: str, bucket: str | None = None, key: str | None = None, params=None) -> str:
    path = "/"
    if bucket is not None:
        path += bucket
        if key is not None:
            path += "/" + key_path(key)
    q = query_string(params)
    return base + path + (("?" + q) if q else "")


@contextlib.contextmanager
def signing_time(when: datetime.datetime | None):
    """Make botocore's signers believe the current time is ``when``."""
    if when is None:
        yield
        return
    naive = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        yield


class _SigV4(S3SigV4Auth):
    """S3 SigV4 header signer whose payload hash can be forced."""

    def __init__(self, credentials, region, payload_hash=None):
        super().__init__(credentials, "s3", region)
        self._forced_payload = payload_hash

    def payload(self, request):
        if self._forced_payload is not None:
            return self._forced_payload
        return super().payload(request)


def sign_v4(
    method: str,
    url: str,
    headers: dict | None = None,
    body: bytes = b"",
    *,
    access_key: str = "test",
    secret_key: str = "test",
    region: str = "us-east-1",
    payload_hash: str | None = None,
    when: datetime.datetime | None = None,
) -> dict:
    """Return the headers (including Authorization) of a SigV4-signed request."""
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    signer = _SigV4(Credentials(access_key, secret_key), region, payload_hash)
    with signing_time(when):
        signer.add_auth(req)
    return {k: v for k, v in req.headers.items()}


def presign_v4(
    method: str,
    url: str,
    *,
    expires: int = 3600,
    access_key: str = "test",
    secret_key: str = "test",
    region: str = "us-east-1",
    when: datetime.datetime | None = None,
    headers: dict | None = None,
) -> str:
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    signer = S3SigV4QueryAuth(Credentials(access_key, secret_key), "s3", region, expires=expires)
    with signing_time(when):
        signer.add_auth(req)
    return req.url


def sign_v2(
    method: str,
    url: str,
    headers: dict | None = None,
    *,
    access_key: str = "test",
    secret_key: str = "test",
    auth_path: str | None = None,
) -> dict:
    """Headers of a request signed with the SigV2 ``Authorization: AWS AK:SIG`` form."""
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    req.auth_path = auth_path
    HmacV1Auth(Credentials(access_key, secret_key)).add_auth(req)
    return {k: v for k, v in req.headers.items()}


def presign_v2(
    method: str,
    url: str,
    *,
    expires: int = 3600,
    access_key: str = "test",
    secret_key: str = "test",
) -> str:
    """SigV2 query-string presigned URL; ``expires`` is relative (negative = in the past)."""
    req = AWSRequest(method=method, url=url, headers={})
    HmacV1QueryAuth(Credentials(access_key, secret_key), expires=expires).add_auth(req)
    return req.url


def send(method: str, url: str, headers: dict | None = None, body=None, *, chunked: bool = False):
    """Send a request with urllib3; returns the urllib3 response (body preloaded)."""
    return HTTP.request(
        method,
        url,
        headers=headers or {},
        body=body,
        chunked=chunked,
        redirect=False,
        preload_content=True,
    )


def signed(method, url, headers=None, body=b"", **kw):
    """Sign with SigV4 and send."""
    h = sign_v4(method, url, headers, body, **kw)
    return send(method, url, h, body if body else None)


def strip_ns(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def parse_error(data: bytes) -> dict:
    """Parse an S3 ``<Error>`` body into {child tag: text}; asserts the root shape."""
    root = ET.fromstring(data)
    assert root.tag == "Error", f"error root must be <Error> without namespace, got {root.tag!r}"
    return {strip_ns(c.tag): (c.text or "") for c in root}


def xml_root(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def findall_text(root: ET.Element, path: str) -> list[str]:
    """``path`` like 'Contents/Key' (namespace-agnostic)."""
    nodes = [root]
    for part in path.split("/"):
        nodes = [c for n in nodes for c in n if strip_ns(c.tag) == part]
    return [n.text or "" for n in nodes]


def assert_request_ids(resp) -> None:
    """Every S3 response carries x-amz-request-id and x-amz-id-2 (non-empty)."""
    assert resp.headers.get("x-amz-request-id"), f"missing x-amz-request-id: {dict(resp.headers)}"
    assert resp.headers.get("x-amz-id-2"), f"missing x-amz-id-2: {dict(resp.headers)}"


def assert_s3_error(resp, status: int, code: str) -> dict:
    """Raw-response error check: status, XML code, RequestId/HostId equal to the headers."""
    body = resp.data
    assert resp.status == status, f"expected {status} {code}, got {resp.status}: {body[:500]!r}"
    assert_request_ids(resp)
    err = parse_error(body)
    assert err.get("Code") == code, f"expected code {code}, got {err}"
    assert err.get("Message"), f"error without Message: {err}"
    assert err.get("RequestId") == resp.headers["x-amz-request-id"], err
    return err
