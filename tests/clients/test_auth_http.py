"""Request ids, error shapes, virtual-hosted-style addressing and body transfer forms."""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from auth_common import obj
from conftest import assert_client_error, empty_and_delete, make_client, unique_bucket_name


# ---------------------------------------------------------------- request ids and error shape

def test_request_ids_on_success_and_error(server, s3, bucket):
    ok = s3.list_buckets()["ResponseMetadata"]
    assert ok["HTTPHeaders"].get("x-amz-request-id") and ok["HTTPHeaders"].get("x-amz-id-2")
    ids = set()
    for method, url, hdrs in [
        ("GET", server.url + "/", None),
        ("GET", h.url_for(server.url, bucket), None),
        ("GET", h.url_for(server.url, bucket, "missing"), None),
        ("HEAD", h.url_for(server.url, bucket, "missing"), None),
        ("GET", h.url_for(server.url, "no-such-bucket-" + bucket), None),
    ]:
        r = h.signed(method, url, hdrs)
        h.assert_request_ids(r)
        ids.add(r.headers["x-amz-request-id"])
        if r.status >= 400 and method != "HEAD":
            err = h.parse_error(r.data)
            assert err["RequestId"] == r.headers["x-amz-request-id"]
            assert err.get("HostId") == r.headers["x-amz-id-2"]
    assert len(ids) == 5, "request ids are unique per request"
    # an anonymous / unauthenticated error also carries them
    r = h.send("GET", server.url + "/")
    h.assert_s3_error(r, 403, "AccessDenied")


def test_error_xml_shape(server, bucket):
    r = h.signed("GET", h.url_for(server.url, bucket, "nope/key"))
    err = h.assert_s3_error(r, 404, "NoSuchKey")
    assert err["Key"] == "nope/key"
    assert r.headers.get("Content-Type", "").startswith("application/xml")
    assert r.data.lstrip().startswith(b"<?xml")
    r = h.signed("GET", h.url_for(server.url, "nosuch-" + bucket))
    err = h.assert_s3_error(r, 404, "NoSuchBucket")
    assert err["BucketName"] == "nosuch-" + bucket


# ---------------------------------------------------------------- virtual-hosted style

@pytest.fixture
def localhost_subdomains(monkeypatch):
    """Resolve *.localhost to 127.0.0.1 in this process.

    glibc here does not resolve BUCKET.localhost (checked: getaddrinfo fails; systemd-resolved
    would), so patch the resolver instead of touching /etc/hosts.
    """
    real = socket.getaddrinfo

    def fake(host, *args, **kw):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_virtual_hosted_boto3(server, s3, localhost_subdomains):
    vc = make_client(f"http://localhost:{server.port}", addressing_style="virtual")
    name = unique_bucket_name("vh")
    try:
        vc.create_bucket(Bucket=name)
        vc.head_bucket(Bucket=name)
        vc.put_object(Bucket=name, Key="dir/virtual key+1", Body=b"vhost", Metadata={"m": "1"})
        g = vc.get_object(Bucket=name, Key="dir/virtual key+1")
        assert g["Body"].read() == b"vhost" and g["Metadata"] == {"m": "1"}
        assert [o["Key"] for o in vc.list_objects_v2(Bucket=name)["Contents"]] == ["dir/virtual key+1"]
        assert vc.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
        vc.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "dir/virtual key+1"})
        # same objects through path-style
        assert s3.get_object(Bucket=name, Key="copy")["Body"].read() == b"vhost"
        # ListBuckets on the bare domain
        assert name in [b["Name"] for b in vc.list_buckets()["Buckets"]]
        # SigV2 presigned URL in virtual-hosted style
        url = vc.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "copy"})
        assert urlsplit(url).hostname == f"{name}.localhost"
        r = h.send("GET", url)
        assert r.status == 200 and r.data == b"vhost"
        vc.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "copy"}, {"Key": "dir/virtual key+1"}]})
        vc.delete_bucket(Bucket=name)
        with pytest.raises(ClientError) as ei:
            s3.head_bucket(Bucket=name)
        assert_client_error(ei, None, 404)
    finally:
        empty_and_delete(s3, name)


def test_virtual_hosted_raw_host_header(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="vh/raw", Body=b"raw vhost")
    url = f"{server.ip_url}/vh/raw"
    host = f"{bucket}.localhost:{server.port}"
    r = h.send("GET", url, h.sign_v4("GET", url, {"Host": host}) | {"Host": host})
    assert r.status == 200, r.data
    assert r.data == b"raw vhost"
    # bucket-level request (ListObjectsV2) in virtual-hosted style
    lurl = f"{server.ip_url}/?list-type=2"
    r = h.send("GET", lurl, h.sign_v4("GET", lurl, {"Host": host}) | {"Host": host})
    assert r.status == 200, r.data
    assert h.findall_text(h.xml_root(r.data), "Contents/Key") == ["vh/raw"]
    # SigV2 header auth in virtual-hosted style signs the full /bucket/key path
    r = h.send("GET", url, h.sign_v2("GET", url, {"Host": host}, auth_path=f"/{bucket}/vh/raw") | {"Host": host})
    assert r.status == 200, r.data


def test_custom_domain(server_factory):
    srv = server_factory.start("--domain", "s3.sealstore.test")
    c = srv.client()
    name = unique_bucket_name("dom")
    c.create_bucket(Bucket=name)
    c.put_object(Bucket=name, Key="k", Body=b"domain")
    url = f"{srv.ip_url}/k"
    host = f"{name}.s3.sealstore.test:{srv.port}"
    r = h.send("GET", url, h.sign_v4("GET", url, {"Host": host}) | {"Host": host})
    assert r.status == 200 and r.data == b"domain"


# ---------------------------------------------------------------- transfer forms

def _chunks(data: bytes, n: int):
    for i in range(0, len(data), n):
        yield data[i:i + n]


def test_put_transfer_encoding_chunked_unsigned(server, s3, bucket):
    data = bytes(range(256)) * 4000 + b"tail"
    url = h.url_for(server.url, bucket, "chunked/unsigned")
    headers = h.sign_v4("PUT", url, payload_hash="UNSIGNED-PAYLOAD")
    r = h.send("PUT", url, headers, _chunks(data, 65536), chunked=True)
    assert r.status == 200, r.data
    assert r.headers.get("ETag") == '"' + hashlib.md5(data).hexdigest() + '"'
    g = s3.get_object(Bucket=bucket, Key="chunked/unsigned")
    assert g["ContentLength"] == len(data)
    assert g["Body"].read() == data


def test_put_transfer_encoding_chunked_signed_hash(server, s3, bucket):
    data = b"chunked with a signed sha256 " * 1000
    url = h.url_for(server.url, bucket, "chunked/signed")
    headers = h.sign_v4("PUT", url, payload_hash=h.sha256_hex(data))
    r = h.send("PUT", url, headers, _chunks(data, 1000), chunked=True)
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="chunked/signed")["Body"].read() == data
    # and a wrong hash is still detected with a chunked body
    headers = h.sign_v4("PUT", url, payload_hash=h.sha256_hex(b"nope"))
    r = h.send("PUT", url, headers, _chunks(data, 1000), chunked=True)
    h.assert_s3_error(r, 400, "XAmzContentSHA256Mismatch")


def test_expect_100_continue_raw_socket(server, s3, bucket):
    body = b"sent after 100 Continue" * 100
    path = f"/{bucket}/expect100"
    url = server.ip_url + path
    headers = h.sign_v4("PUT", url, body=body)
    headers["Expect"] = "100-continue"
    headers["Content-Length"] = str(len(body))
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    head += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), f"expected 100 Continue before the body, got {interim[:200]!r}"
        sock.sendall(body)
        resp = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            resp += chunk
    rest = interim + resp
    while rest.startswith(b"HTTP/1.1 1"):   # skip interim 1xx responses
        rest = rest.split(b"\r\n\r\n", 1)[1]
    assert rest.startswith(b"HTTP/1.1 200"), rest[:300]
    assert s3.get_object(Bucket=bucket, Key="expect100")["Body"].read() == body


def test_boto3_sends_expect_100_continue(server, bucket):
    # boto3 adds "Expect: 100-continue" to every PutObject (captures); a 1 MiB body must work.
    c = server.client()
    seen = []

    def record(request, **kw):
        seen.append(request.headers.get("Expect"))

    c.meta.events.register("before-send.s3.PutObject", record)
    data = b"x" * (1024 * 1024)
    c.put_object(Bucket=bucket, Key="e100", Body=data)
    assert seen and seen[0] in (b"100-continue", "100-continue"), seen
    assert c.head_object(Bucket=bucket, Key="e100")["ContentLength"] == 1024 * 1024
