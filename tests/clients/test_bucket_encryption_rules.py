"""Bucket default encryption applied: SSE-C blocked and unblocked, the rule on PutObject and
CopyObject, the server switches, and the aws CLI."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from bucket_encryption_common import (
    DEFAULT_VIEW, DEFAULT_VIEW_UNBLOCKED, KMS_ID, KMS_UUID, MANAGED_ARN_RE, SSE, SSE_BUCKET_KEY, SSE_KEY_ID, arn,
    assert_raw_error, assert_sealed, config, ealice, eb, ec, esrv, expected_view, expected_xml, get_view, md5_b64,
    raw_get, raw_xml, sse_of, ssec_args, unique_body,
)
from conftest import assert_client_error, empty_and_delete, unique_bucket_name


# == BlockedEncryptionTypes ==================================================================

def test_ssec_blocked_on_new_buckets_then_unblocked_then_reblocked(esrv, ec, eb):
    key = b"K" * 32
    src_plain = unique_body("plain")
    ec.put_object(Bucket=eb, Key="plain", Body=src_plain)
    # New bucket: SSE-C writes refused (PutObject and CopyObject destination); nothing stored.
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="c2", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    for k in ("c1", "c2"):
        with pytest.raises(ClientError) as ei:
            ec.head_object(Bucket=eb, Key=k)
        assert_client_error(ei, None, 404)
    # A rule without BlockedEncryptionTypes keeps SSE-C blocked.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"))
    assert get_view(ec, eb) == DEFAULT_VIEW
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    # NONE unblocks.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256", blocked=["NONE"]))
    assert get_view(ec, eb) == expected_view("AES256", blocked=["NONE"])
    p = ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert p["SSECustomerAlgorithm"] == "AES256" and "ServerSideEncryption" not in p
    assert_sealed(esrv.data_dir, eb, "c1", "SseC")
    cp = ec.copy_object(Bucket=eb, Key="c2", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert cp["SSECustomerAlgorithm"] == "AES256"
    assert_sealed(esrv.data_dir, eb, "c2", "SseC")
    # A later rule without BlockedEncryptionTypes keeps it unblocked.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID))
    assert get_view(ec, eb) == expected_view("aws:kms", KMS_ID, blocked=["NONE"])
    ec.put_object(Bucket=eb, Key="c3", Body=b"third", **ssec_args(key))
    # Re-block: new SSE-C writes refused again; existing SSE-C objects stay readable and listed.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256", blocked=["SSE-C"]))
    assert get_view(ec, eb) == DEFAULT_VIEW
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c4", Body=b"x", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="c4", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    g = ec.get_object(Bucket=eb, Key="c1", **ssec_args(key))
    assert g["Body"].read() == b"secret" and g["SSECustomerAlgorithm"] == "AES256"
    assert ec.get_object(Bucket=eb, Key="c2", **ssec_args(key))["Body"].read() == src_plain
    hd = ec.head_object(Bucket=eb, Key="c3", **ssec_args(key))
    assert hd["ContentLength"] == 5 and hd["SSECustomerAlgorithm"] == "AES256"
    keys = [o["Key"] for o in ec.list_objects_v2(Bucket=eb)["Contents"]]
    assert keys == ["c1", "c2", "c3", "plain"]
    # Copying an SSE-C source (read with its key) to a plain destination is allowed: it gets the rule.
    cp = ec.copy_object(Bucket=eb, Key="from-ssec", CopySource={"Bucket": eb, "Key": "c1"},
                        **ssec_args(key, "CopySourceSSECustomer"))
    assert sse_of(cp) == {SSE: "AES256"}
    assert ec.get_object(Bucket=eb, Key="from-ssec")["Body"].read() == b"secret"
    # Plain writes were never affected.
    assert sse_of(ec.put_object(Bucket=eb, Key="plain2", Body=b"p")) == {SSE: "AES256"}


# == the rule applied to writes ==============================================================

RULES = {
    # name: (config, expected SSE response headers (None key: the aws/s3 key), sealed kind, bucket key)
    "aes256": (config("AES256"), "AES256", None, False, "SseS3"),
    "aes256-bucketkey-ignored": (config("AES256", bucket_key=True), "AES256", None, False, "SseS3"),
    "kms-id": (config("aws:kms", KMS_ID), "aws:kms", arn(KMS_ID), False, "SseKms"),
    "kms-arn-bucketkey": (config("aws:kms", arn(KMS_UUID), bucket_key=True), "aws:kms", arn(KMS_UUID), True,
                          "SseKms"),
    "kms-managed": (config("aws:kms"), "aws:kms", "managed", False, "SseKms"),
    "kms-managed-bucketkey": (config("aws:kms", bucket_key=True), "aws:kms", "managed", True, "SseKms"),
    "dsse-id": (config("aws:kms:dsse", KMS_UUID), "aws:kms:dsse", arn(KMS_UUID), False, "Dsse"),
    "dsse-managed": (config("aws:kms:dsse"), "aws:kms:dsse", "managed", False, "Dsse"),
}


@pytest.fixture(scope="module")
def managed_arn(ec):
    """The account's aws/s3 key ARN, learnt from an explicit SSE-KMS write without a key."""
    b = unique_bucket_name("managed")
    ec.create_bucket(Bucket=b)
    try:
        p = ec.put_object(Bucket=b, Key="m", Body=b"m", ServerSideEncryption="aws:kms")
        key_arn = p["SSEKMSKeyId"]
    finally:
        empty_and_delete(ec, b)
    assert re.fullmatch(MANAGED_ARN_RE, key_arn), key_arn
    return key_arn


@pytest.mark.parametrize("name", list(RULES))
def test_rule_applies_to_put_and_copy(esrv, ec, eb, managed_arn, name):
    cfg, alg, key_arn, bucket_key, kind = RULES[name]
    if key_arn == "managed":
        key_arn = managed_arn
    want = {SSE: alg}
    if key_arn:
        want[SSE_KEY_ID] = key_arn
    if bucket_key:
        want[SSE_BUCKET_KEY] = "true"
    # A source written before the rule (SSE-S3 by default), in another bucket.
    src_bucket = unique_bucket_name("src")
    ec.create_bucket(Bucket=src_bucket)
    try:
        src_body = unique_body("src-" + name)
        ec.put_object(Bucket=src_bucket, Key="src", Body=src_body)
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
        body = unique_body(name)
        p = ec.put_object(Bucket=eb, Key="put", Body=body)
        assert sse_of(p) == want
        assert p.get("BucketKeyEnabled") is (True if bucket_key else None)
        cp = ec.copy_object(Bucket=eb, Key="copy", CopySource={"Bucket": src_bucket, "Key": "src"})
        assert sse_of(cp) == want
        for k, data, etag in (("put", body, p["ETag"]), ("copy", src_body, cp["CopyObjectResult"]["ETag"])):
            hd = ec.head_object(Bucket=eb, Key=k)
            assert sse_of(hd) == want, k
            assert hd["ETag"] == etag
            assert ec.get_object(Bucket=eb, Key=k)["Body"].read() == data
            assert_sealed(esrv.data_dir, eb, k, kind, bucket_key if kind == "SseKms" else None)
    finally:
        empty_and_delete(ec, src_bucket)


def test_request_sse_headers_override_the_rule(esrv, ec, eb, managed_arn):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    ec.put_object(Bucket=eb, Key="src", Body=b"source")
    p = ec.put_object(Bucket=eb, Key="aes", Body=unique_body("aes"), ServerSideEncryption="AES256")
    assert sse_of(p) == {SSE: "AES256"}
    assert_sealed(esrv.data_dir, eb, "aes", "SseS3")
    cp = ec.copy_object(Bucket=eb, Key="aes-copy", CopySource={"Bucket": eb, "Key": "src"},
                        ServerSideEncryption="AES256")
    assert sse_of(cp) == {SSE: "AES256"}
    p = ec.put_object(Bucket=eb, Key="other-kms", Body=unique_body("k"), ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_UUID, BucketKeyEnabled=False)
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}
    assert_sealed(esrv.data_dir, eb, "other-kms", "SseKms", bucket_key=False)
    # The bucket's BucketKeyEnabled applies when the request leaves the header out (§2.2 item 4).
    p = ec.put_object(Bucket=eb, Key="other-kms-bk", Body=unique_body("k2"), ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_UUID)
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID), SSE_BUCKET_KEY: "true"}
    p = ec.put_object(Bucket=eb, Key="dsse", Body=unique_body("d"), ServerSideEncryption="aws:kms:dsse",
                      SSEKMSKeyId=KMS_UUID)
    assert sse_of(p) == {SSE: "aws:kms:dsse", SSE_KEY_ID: arn(KMS_UUID)}
    assert_sealed(esrv.data_dir, eb, "dsse", "Dsse")
    key = b"S" * 32
    p = ec.put_object(Bucket=eb, Key="ssec", Body=unique_body("c"), **ssec_args(key))
    assert "ServerSideEncryption" not in p and p["SSECustomerKeyMD5"] == md5_b64(key)
    assert_sealed(esrv.data_dir, eb, "ssec", "SseC")
    hd = ec.head_object(Bucket=eb, Key="ssec", **ssec_args(key))
    assert "ServerSideEncryption" not in hd
    # A rule of AES256 and an explicit aws:kms without a key: the aws/s3 key.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"))
    p = ec.put_object(Bucket=eb, Key="managed", Body=b"m", ServerSideEncryption="aws:kms")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: managed_arn}


def test_changing_the_rule_affects_only_new_objects(esrv, ec, eb, managed_arn):
    bodies = {}
    steps = [
        ("a", None, {SSE: "AES256"}, "SseS3"),
        ("b", config("aws:kms", KMS_ID, True), {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"},
         "SseKms"),
        ("c", config("aws:kms:dsse"), {SSE: "aws:kms:dsse", SSE_KEY_ID: managed_arn}, "Dsse"),
        ("d", config("AES256"), {SSE: "AES256"}, "SseS3"),
    ]
    for k, cfg, _, _ in steps:
        if cfg is not None:
            ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
        bodies[k] = unique_body(k)
        ec.put_object(Bucket=eb, Key=k, Body=bodies[k])
    ec.delete_bucket_encryption(Bucket=eb)
    bodies["e"] = unique_body("e")
    ec.put_object(Bucket=eb, Key="e", Body=bodies["e"])
    steps.append(("e", None, {SSE: "AES256"}, "SseS3"))
    for k, _, want, kind in steps:
        hd = ec.head_object(Bucket=eb, Key=k)
        assert sse_of(hd) == want, k
        assert_sealed(esrv.data_dir, eb, k, kind)
        g = ec.get_object(Bucket=eb, Key=k)
        assert g["Body"].read() == bodies[k] and sse_of(g) == want, k


@pytest.mark.parametrize("alg", ["aws:kms", "aws:kms:dsse"])
def test_rule_with_nonexistent_kms_key_fails_at_write_time(ec, eb, alg):
    ec.put_object(Bucket=eb, Key="src", Body=b"src")
    r = ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config(alg, "fake-key-id"))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_view(ec, eb) == expected_view(alg, "fake-key-id", blocked=["SSE-C"])
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="k", Body=b"x")
    err = assert_client_error(ei, "KMS.NotFoundException", 400)
    assert err["Error"]["Message"] == "Invalid keyId 'fake-key-id'"
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="k", CopySource={"Bucket": eb, "Key": "src"})
    assert_client_error(ei, "KMS.NotFoundException", 400)
    with pytest.raises(ClientError) as ei:
        ec.head_object(Bucket=eb, Key="k")
    assert_client_error(ei, None, 404)
    # The source (written before the rule) is untouched and readable.
    assert sse_of(ec.head_object(Bucket=eb, Key="src")) == {SSE: "AES256"}
    assert ec.get_object(Bucket=eb, Key="src")["Body"].read() == b"src"


# == server switches ======================================================================

def test_kms_auto_create_makes_the_rules_key(server_factory):
    srv = server_factory.start("--kms-auto-create", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("auto")
        c.create_bucket(Bucket=b)
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", "auto-rule-key", True))
        p = c.put_object(Bucket=b, Key="k", Body=b"auto")
        assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn("auto-rule-key"), SSE_BUCKET_KEY: "true"}
        assert c.get_object(Bucket=b, Key="k")["Body"].read() == b"auto"
        assert get_view(c, b) == expected_view("aws:kms", "auto-rule-key", True, ["SSE-C"])
    finally:
        srv.stop()


def test_allow_ssec_by_default(server_factory):
    srv = server_factory.start("--allow-ssec-by-default", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("allow")
        c.create_bucket(Bucket=b)
        assert get_view(c, b) == DEFAULT_VIEW_UNBLOCKED
        assert raw_xml(srv, b) == expected_xml("AES256")
        key = b"A" * 32
        c.put_object(Bucket=b, Key="c1", Body=b"one", **ssec_args(key))
        # Blocking works on such a bucket too; DELETE returns to its creation default (allowed).
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("AES256", blocked=["SSE-C"]))
        assert get_view(c, b) == DEFAULT_VIEW
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket=b, Key="c2", Body=b"two", **ssec_args(key))
        assert_client_error(ei, "AccessDenied", 403)
        assert c.get_object(Bucket=b, Key="c1", **ssec_args(key))["Body"].read() == b"one"
        assert c.delete_bucket_encryption(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert get_view(c, b) == DEFAULT_VIEW_UNBLOCKED
        c.put_object(Bucket=b, Key="c2", Body=b"two", **ssec_args(key))
    finally:
        srv.stop()


def test_legacy_encryption_not_found(server_factory):
    srv = server_factory.start("--legacy-encryption-not-found", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("legacy")
        c.create_bucket(Bucket=b)
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=b)
        assert_client_error(ei, "ServerSideEncryptionConfigurationNotFoundError", 404)
        r = raw_get(srv, b)
        assert_raw_error(r, 404, "ServerSideEncryptionConfigurationNotFoundError", BucketName=b)
        # Objects are still SSE-S3 without a rule.
        assert sse_of(c.put_object(Bucket=b, Key="k", Body=b"k")) == {SSE: "AES256"}
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", "legacy-key"))
        assert get_view(c, b) == expected_view("aws:kms", "legacy-key", blocked=["SSE-C"])
        assert c.delete_bucket_encryption(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=b)
        assert_client_error(ei, "ServerSideEncryptionConfigurationNotFoundError", 404)
        # A missing bucket is still NoSuchBucket.
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=unique_bucket_name("gone"))
        assert_client_error(ei, "NoSuchBucket", 404)
    finally:
        srv.stop()


# == aws CLI ==============================================================================

def test_aws_cli_put_get_delete(esrv, ec, eb, aws_cli, tmp_path):
    cfg = config("aws:kms", KMS_ID, True, ["NONE"])
    f = tmp_path / "enc.json"
    f.write_text(json.dumps(cfg))
    r = aws_cli("s3api", "put-bucket-encryption", "--bucket", eb,
                "--server-side-encryption-configuration", f"file://{f}", srv=esrv)
    assert r.rc == 0, r
    assert r.stdout.strip() == ""
    r = aws_cli("s3api", "get-bucket-encryption", "--bucket", eb, srv=esrv)
    assert r.rc == 0, r
    assert json.loads(r.stdout) == {"ServerSideEncryptionConfiguration": expected_view("aws:kms", KMS_ID, True,
                                                                                      ["NONE"])}
    p = ec.put_object(Bucket=eb, Key="via-rule", Body=b"cli rule")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
    r = aws_cli("s3api", "delete-bucket-encryption", "--bucket", eb, srv=esrv)
    assert r.rc == 0, r
    assert get_view(ec, eb) == DEFAULT_VIEW
    # A refused configuration: the CLI fails with S3's code and nothing changes.
    f.write_text(json.dumps(config("AES256", key=KMS_ID)))
    r = aws_cli("s3api", "put-bucket-encryption", "--bucket", eb,
                "--server-side-encryption-configuration", f"file://{f}", srv=esrv)
    assert r.rc != 0 and "(InvalidArgument)" in r.stderr, r
    assert get_view(ec, eb) == DEFAULT_VIEW
