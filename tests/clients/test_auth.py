"""Authentication (SigV4 header + presigned, SigV2 header + presigned), request ids,
error shapes, virtual-hosted-style addressing and body transfer forms.

This file: SigV4 header authentication and regions."""

from __future__ import annotations

import datetime
import re

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from auth_common import obj
from conftest import assert_client_error, empty_and_delete, unique_bucket_name


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
