"""Authentication: presigned URLs (SigV4 and SigV2) and SigV2 header authentication."""

from __future__ import annotations

import datetime
import hashlib
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

import s3helpers as h
from auth_common import obj
from conftest import empty_and_delete, unique_bucket_name


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
