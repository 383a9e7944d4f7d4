"""Authentication (SigV4 header + presigned, SigV2 header + presigned), request ids,
error shapes, virtual-hosted-style addressing and body transfer forms."""

from __future__ import annotations

import datetime
import hashlib
import re
import socket
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error, empty_and_delete, make_client, unique_bucket_name
import s3helpers as h


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="auth/obj.txt", Body=b"secret data")
    return bucket, "auth/obj.txt"


# ---------------------------------------------------------------- SigV4 header auth

def test_wrong_secret_signature_does_not_match(server, bucket):
    bad = server.client(secret_key="not-the-secret")
    for call in (lambda: bad.list_buckets(), lambda: bad.list_objects_v2(Bucket=bucket),
                 lambda: bad.put_object(Bucket=bucket, Key="x", Body=b"x")):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "SignatureDoesNotMatch", 403)


def test_signature_does_not_match_raw_body(server, obj):
    bucket, key = obj
    r = h.signed("GET", h.url_for(server.url, bucket, key), secret_key="wrong")
    err = h.assert_s3_error(r, 403, "SignatureDoesNotMatch")
    assert err.get("AWSAccessKeyId") == "test"


def test_unknown_access_key(server, bucket):
    c = server.client(access_key="AKIDONTEXIST", secret_key="whatever")
    with pytest.raises(ClientError) as ei:
        c.list_objects_v2(Bucket=bucket)
    assert_client_error(ei, "InvalidAccessKeyId", 403)
    r = h.signed("GET", server.url + "/", access_key="AKIDONTEXIST", secret_key="x")
    err = h.assert_s3_error(r, 403, "InvalidAccessKeyId")
    assert err.get("AWSAccessKeyId") == "AKIDONTEXIST"


@pytest.mark.parametrize("method,path_kind", [("GET", "service"), ("GET", "bucket"), ("GET", "object"),
                                              ("PUT", "object"), ("HEAD", "object"), ("DELETE", "object")])
def test_anonymous_access_denied(server, s3, obj, method, path_kind):
    bucket, key = obj
    url = {"service": server.url + "/", "bucket": h.url_for(server.url, bucket),
           "object": h.url_for(server.url, bucket, key)}[path_kind]
    r = h.send(method, url, body=b"anon" if method == "PUT" else None)
    if method == "HEAD":
        assert r.status == 403
        h.assert_request_ids(r)
    else:
        h.assert_s3_error(r, 403, "AccessDenied")
    # nothing changed
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"secret data"


def test_request_time_too_skewed(server, obj):
    bucket, key = obj
    url = h.url_for(server.url, bucket, key)
    for minutes in (-20, 20):
        when = h.utcnow() + datetime.timedelta(minutes=minutes)
        r = h.send("GET", url, h.sign_v4("GET", url, when=when))
        h.assert_s3_error(r, 403, "RequestTimeTooSkewed")
    # inside the 15-minute window the request is fine
    r = h.send("GET", url, h.sign_v4("GET", url, when=h.utcnow() - datetime.timedelta(minutes=10)))
    assert r.status == 200, r.data
    assert r.data == b"secret data"


def test_authorization_header_missing_signed_headers(server, obj):
    bucket, key = obj
    url = h.url_for(server.url, bucket, key)
    headers = h.sign_v4("GET", url)
    auth = headers["Authorization"]
    broken = re.sub(r",\s*SignedHeaders=[^,]*", "", auth)
    assert "SignedHeaders" not in broken and broken != auth
    headers["Authorization"] = broken
    h.assert_s3_error(h.send("GET", url, headers), 400, "AuthorizationHeaderMalformed")


def test_authorization_header_bad_credential(server, obj):
    bucket, key = obj
    url = h.url_for(server.url, bucket, key)
    headers = h.sign_v4("GET", url)
    headers["Authorization"] = re.sub(r"Credential=[^,]*", "Credential=test/garbage", headers["Authorization"])
    h.assert_s3_error(h.send("GET", url, headers), 400, "AuthorizationHeaderMalformed")


def test_unsigned_payload_header_auth(server, s3, bucket):
    url = h.url_for(server.url, bucket, "unsigned")
    r = h.signed("PUT", url, body=b"unsigned body", payload_hash="UNSIGNED-PAYLOAD")
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"unsigned body"


def test_content_sha256_mismatch(server, s3, bucket):
    url = h.url_for(server.url, bucket, "mismatch")
    r = h.signed("PUT", url, body=b"actual body", payload_hash=h.sha256_hex(b"another body"))
    h.assert_s3_error(r, 400, "XAmzContentSHA256Mismatch")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="mismatch")
    assert_client_error(ei, None, 404)


def test_content_sha256_mismatch_does_not_replace(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"old value")
    url = h.url_for(server.url, bucket, "keep")
    r = h.signed("PUT", url, body=b"new value", payload_hash=h.sha256_hex(b"something else"))
    h.assert_s3_error(r, 400, "XAmzContentSHA256Mismatch")
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"old value"


def test_other_region_in_scope_refused_as_s3_does(server, obj):
    """issue 18 (was issue 3's leniency): a scope naming another region than the bucket's is
    refused with S3's AuthorizationHeaderMalformed, the expected <Region> and x-amz-bucket-region."""
    bucket, key = obj
    r = h.signed("GET", h.url_for(server.url, bucket, key), region="us-west-2")
    err = h.assert_s3_error(r, 400, "AuthorizationHeaderMalformed")
    assert err["Message"] == ("The authorization header is malformed; the region 'us-west-2' is wrong; "
                              "expecting 'us-east-1'")
    assert err["Region"] == "us-east-1"
    assert r.headers["x-amz-bucket-region"] == "us-east-1"


# ---------------------------------------------------------------- issue 18: region of the scope

def _attempt_statuses(client) -> list:
    """The HTTP status of every attempt the client makes (redirected retries included)."""
    seen = []

    def record(response_dict=None, **_):
        if response_dict is not None:
            seen.append(response_dict["status_code"])

    client.meta.events.register("response-received.s3", record)
    return seen


def _eu_bucket(s3):
    """A bucket in eu-west-1, created as boto3 in us-east-1 does (S3's global endpoint)."""
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name


def test_boto3_in_another_region_follows_the_region_hint(server, s3):
    """boto3 configured for us-west-2 on a eu-west-1 bucket: each first request answers 400
    AuthorizationHeaderMalformed with <Region>eu-west-1</Region> (HEAD: x-amz-bucket-region), and
    botocore re-signs for eu-west-1 and retries, so every call succeeds."""
    name = _eu_bucket(s3)
    try:
        west = server.client(region="us-west-2")
        seen = _attempt_statuses(west)
        west.put_object(Bucket=name, Key="k", Body=b"moved")
        # The first attempt was refused with the region hint; botocore re-signed and retried.
        assert seen == [400, 200], seen
        assert west.get_object(Bucket=name, Key="k")["Body"].read() == b"moved"
        assert west.head_object(Bucket=name, Key="k")["ContentLength"] == 5
        assert [o["Key"] for o in west.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
        assert set(seen) == {400, 200} and seen[-1] == 200, seen
        raw = h.signed("GET", h.url_for(server.url, name, "k"), region="us-west-2")
        err = h.assert_s3_error(raw, 400, "AuthorizationHeaderMalformed")
        assert err["Region"] == "eu-west-1"
        assert raw.headers["x-amz-bucket-region"] == "eu-west-1"
        # A presigned URL cannot be redirected: signed for the wrong region it is refused.
        url = west.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"})
        if "X-Amz-Credential" in url:
            r = h.send("GET", url, {}, None)
            err = h.assert_s3_error(r, 400, "AuthorizationQueryParametersError")
            assert err["Region"] == "eu-west-1"
    finally:
        empty_and_delete(s3, name)


def test_boto3_create_bucket_region_rules(server, s3):
    """CreateBucket: a us-east-1 client may name any LocationConstraint (S3's global endpoint);
    a client in another region must name its own, as on S3's regional endpoints."""
    west = server.client(region="eu-west-1")
    name = unique_bucket_name()
    with pytest.raises(ClientError) as ei:
        west.create_bucket(Bucket=name)
    assert_client_error(ei, "IllegalLocationConstraintException", 400)
    assert "The unspecified location constraint is incompatible" in str(ei.value)
    with pytest.raises(ClientError) as ei:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert_client_error(ei, "IllegalLocationConstraintException", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        # ListBuckets accepts any region.
        assert name in [b["Name"] for b in west.list_buckets()["Buckets"]]
    finally:
        empty_and_delete(west, name)


def test_aws_cli_in_another_region(server, s3, aws_cli, tmp_path):
    """The aws CLI configured for us-west-2 on a eu-west-1 bucket works (it follows S3's region
    hint like boto3); `aws s3 mb --region eu-central-1` creates the bucket there."""
    name = _eu_bucket(s3)
    try:
        src = tmp_path / "f.txt"
        src.write_bytes(b"from the cli")
        r = aws_cli("s3", "cp", str(src), f"s3://{name}/f.txt", region="us-west-2")
        assert r.rc == 0, r.stderr
        r = aws_cli("s3api", "get-object", "--bucket", name, "--key", "f.txt", str(tmp_path / "out"),
                    region="us-west-2")
        assert r.rc == 0, r.stderr
        assert (tmp_path / "out").read_bytes() == b"from the cli"
        r = aws_cli("s3", "ls", f"s3://{name}/", region="us-west-2")
        assert r.rc == 0 and "f.txt" in r.stdout, r.stderr
    finally:
        empty_and_delete(s3, name)
    made = unique_bucket_name()
    r = aws_cli("s3", "mb", f"s3://{made}", region="eu-central-1")
    assert r.rc == 0, r.stderr
    try:
        assert s3.get_bucket_location(Bucket=made)["LocationConstraint"] == "eu-central-1"
    finally:
        empty_and_delete(s3, made)


def test_any_region_flag_keeps_the_old_leniency(server_factory):
    srv = server_factory.start("--any-region")
    c = srv.client()
    name = _eu_bucket(c)
    west = srv.client(region="ap-southeast-2")
    seen = _attempt_statuses(west)
    west.put_object(Bucket=name, Key="k", Body=b"v")
    assert seen == [200]  # no redirect needed
    r = h.signed("GET", h.url_for(srv.url, name, "k"), region="us-west-2")
    assert r.status == 200 and r.data == b"v"


# ---------------------------------------------------------------- SigV4 presigned

def v4_presigner(server):
    return server.client(signature_version="s3v4")


def test_presigned_v4_get(server, obj):
    bucket, key = obj
    url = v4_presigner(server).generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                      ExpiresIn=300)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    r = h.send("GET", url)
    assert r.status == 200, r.data
    assert r.data == b"secret data"
    h.assert_request_ids(r)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"secret data"


def test_presigned_v4_with_response_override(server, obj):
    bucket, key = obj
    url = v4_presigner(server).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/x-presigned"})
    r = h.send("GET", url)
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/x-presigned"


def test_presigned_v4_put(server, s3, bucket):
    url = v4_presigner(server).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pv4 put"})
    r = h.send("PUT", url, body=b"uploaded via v4 presign")
    assert r.status == 200, r.data
    assert r.headers.get("ETag") == '"' + hashlib.md5(b"uploaded via v4 presign").hexdigest() + '"'
    assert s3.get_object(Bucket=bucket, Key="pv4 put")["Body"].read() == b"uploaded via v4 presign"


def test_presigned_v4_tampered(server, obj):
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key))
    sig = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    h.assert_s3_error(h.send("GET", bad), 403, "SignatureDoesNotMatch")
    # signature for another key
    other = url.replace("obj.txt", "obj2.txt")
    h.assert_s3_error(h.send("GET", other), 403, "SignatureDoesNotMatch")


def test_presigned_v4_unknown_key(server, obj):
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key), access_key="NOSUCHKEY", secret_key="x")
    h.assert_s3_error(h.send("GET", url), 403, "InvalidAccessKeyId")


def test_presigned_v4_expired(server, obj):
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key), expires=60,
                       when=h.utcnow() - datetime.timedelta(hours=2))
    err = h.assert_s3_error(h.send("GET", url), 403, "AccessDenied")
    assert "expired" in err["Message"].lower()


def test_presigned_v4_not_yet_expired_old_date(server, obj):
    # signed 2 hours ago with a 1 day lifetime: still valid (presigned URLs are not subject
    # to the 15-minute skew rule)
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key), expires=86400,
                       when=h.utcnow() - datetime.timedelta(hours=2))
    r = h.send("GET", url)
    assert r.status == 200, r.data


def _drop_param(url: str, name: str) -> str:
    parts = urlsplit(url)
    kept = "&".join(p for p in parts.query.split("&") if not p.startswith(name + "="))
    return urlunsplit(parts._replace(query=kept))


@pytest.mark.parametrize("param", ["X-Amz-Expires", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                                   "X-Amz-Signature"])
def test_presigned_v4_missing_param(server, obj, param):
    bucket, key = obj
    url = _drop_param(h.presign_v4("GET", h.url_for(server.url, bucket, key)), param)
    assert param not in url
    h.assert_s3_error(h.send("GET", url), 400, "AuthorizationQueryParametersError")


def test_presigned_v4_expires_too_large(server, obj):
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key), expires=604801)
    h.assert_s3_error(h.send("GET", url), 400, "AuthorizationQueryParametersError")
    # exactly one week is the maximum and is accepted
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key), expires=604800)
    assert h.send("GET", url).status == 200


def test_presigned_v4_bad_credential(server, obj):
    bucket, key = obj
    url = h.presign_v4("GET", h.url_for(server.url, bucket, key))
    parts = urlsplit(url)
    q = "&".join("X-Amz-Credential=test%2Fbroken" if p.startswith("X-Amz-Credential=") else p
                 for p in parts.query.split("&"))
    h.assert_s3_error(h.send("GET", urlunsplit(parts._replace(query=q))), 400,
                      "AuthorizationQueryParametersError")


# ---------------------------------------------------------------- SigV2

def test_default_presigned_url_is_sigv2_and_works(server, s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    q = parse_qs(urlsplit(url).query)
    # boto3's default presigner in us-east-1 produces SigV2 (captures/README.md)
    assert set(q) >= {"AWSAccessKeyId", "Signature", "Expires"}, url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert resp.read() == b"secret data"
    r = h.send("GET", url)
    assert r.status == 200 and r.data == b"secret data"
    h.assert_request_ids(r)


def test_sigv2_presigned_with_response_override(server, s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": key, "ResponseContentDisposition": 'attachment; filename="x y.txt"'})
    r = h.send("GET", url)
    assert r.status == 200, r.data
    assert r.headers["Content-Disposition"] == 'attachment; filename="x y.txt"'


def test_sigv2_presigned_tampered(server, s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    q["Signature"] = ["AAAA" + q["Signature"][0][4:]]
    bad = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in q.items()})))
    h.assert_s3_error(h.send("GET", bad), 403, "SignatureDoesNotMatch")
    # changing Expires invalidates the signature as well
    q = parse_qs(parts.query)
    q["Expires"] = [str(int(q["Expires"][0]) + 100)]
    bad = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in q.items()})))
    h.assert_s3_error(h.send("GET", bad), 403, "SignatureDoesNotMatch")


def test_sigv2_presigned_expired(server, obj):
    bucket, key = obj
    url = h.presign_v2("GET", h.url_for(server.url, bucket, key), expires=-60)
    err = h.assert_s3_error(h.send("GET", url), 403, "AccessDenied")
    assert "expired" in err["Message"].lower()


def test_sigv2_presigned_unknown_key(server, obj):
    bucket, key = obj
    url = h.presign_v2("GET", h.url_for(server.url, bucket, key), access_key="NOPE", secret_key="x")
    h.assert_s3_error(h.send("GET", url), 403, "InvalidAccessKeyId")


def test_sigv2_presigned_put(server, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2 put+x"})
    assert "AWSAccessKeyId=" in url
    r = h.send("PUT", url, body=b"uploaded via v2 presign")
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="v2 put+x")["Body"].read() == b"uploaded via v2 presign"


def test_sigv2_header_auth(server, s3, bucket):
    url = h.url_for(server.url, bucket, "v2/header key")
    headers = h.sign_v2("PUT", url, {"Content-Type": "text/plain", "x-amz-meta-via": "v2"})
    assert headers["Authorization"].startswith("AWS test:")
    r = h.send("PUT", url, headers, b"v2 header body")
    assert r.status == 200, r.data
    h.assert_request_ids(r)
    r = h.send("GET", url, h.sign_v2("GET", url))
    assert r.status == 200 and r.data == b"v2 header body"
    g = s3.head_object(Bucket=bucket, Key="v2/header key")
    assert g["Metadata"] == {"via": "v2"} and g["ContentType"] == "text/plain"
    # ListBuckets and a sub-resource (?acl) through SigV2
    r = h.send("GET", server.url + "/", h.sign_v2("GET", server.url + "/"))
    assert r.status == 200 and bucket.encode() in r.data
    acl_url = h.url_for(server.url, bucket, params={"acl": ""}).replace("acl=", "acl")
    r = h.send("GET", acl_url, h.sign_v2("GET", acl_url))
    assert r.status == 200, r.data
    assert b"FULL_CONTROL" in r.data


def test_sigv2_header_errors(server, obj):
    bucket, key = obj
    url = h.url_for(server.url, bucket, key)
    h.assert_s3_error(h.send("GET", url, h.sign_v2("GET", url, secret_key="bad")), 403, "SignatureDoesNotMatch")
    h.assert_s3_error(h.send("GET", url, h.sign_v2("GET", url, access_key="NOPE")), 403, "InvalidAccessKeyId")


def test_boto3_sigv2_client_bucket_ops(server, s3):
    # botocore's SigV2 signer sends path-style bucket requests as "/bucket" but signs the
    # resource "/bucket/" (HmacV1Auth auth_path), as S3 defines it for bucket-level requests.
    c = server.client(signature_version="s3")
    name = unique_bucket_name("v2")
    try:
        c.create_bucket(Bucket=name)
        c.head_bucket(Bucket=name)
        assert name in [b["Name"] for b in c.list_buckets()["Buckets"]]
        assert c.list_objects_v2(Bucket=name)["KeyCount"] == 0
        assert c.list_objects(Bucket=name).get("Contents") is None
        c.get_bucket_acl(Bucket=name)
        c.delete_bucket(Bucket=name)
    finally:
        empty_and_delete(s3, name)


def test_boto3_sigv2_client(server, bucket):
    c = server.client(signature_version="s3")
    c.put_object(Bucket=bucket, Key="s3sig/a b", Body=b"sig v2 client", Metadata={"k": "v"})
    assert c.get_object(Bucket=bucket, Key="s3sig/a b")["Body"].read() == b"sig v2 client"
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket, Prefix="s3sig/")["Contents"]] == ["s3sig/a b"]
    c.copy_object(Bucket=bucket, Key="s3sig/copy", CopySource={"Bucket": bucket, "Key": "s3sig/a b"})
    c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "s3sig/a b"}, {"Key": "s3sig/copy"}]})
    assert c.list_objects_v2(Bucket=bucket, Prefix="s3sig/")["KeyCount"] == 0


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
