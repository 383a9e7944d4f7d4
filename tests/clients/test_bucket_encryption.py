"""Bucket default encryption through boto3: round trips, captured bodies, DELETE, restarts,
missing buckets, owners and refused configurations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from bucket_encryption_common import (
    DEFAULT_VIEW, KMS_ID, KMS_UUID, MSG_KMS_WITH_AES, MSG_MALFORMED, NO_REUSE, SSE, SSE_BUCKET_KEY, SSE_KEY_ID,
    apply_doc, arn, config, crc32_b64, ealice, eb, ec, esrv, expected_view, expected_xml, get_view, raw_put, raw_xml,
    sse_of, ssec_args,
)
from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name


# == GET: the default document and the stored rule ================================================

def test_never_configured_bucket_reports_sse_s3_with_ssec_blocked(esrv, ec, eb):
    assert get_view(ec, eb) == DEFAULT_VIEW
    # Byte-exact body: declaration, namespace, element order.
    assert raw_xml(esrv, eb) == expected_xml("AES256", blocked=["SSE-C"])


@pytest.mark.parametrize("cfg,view", [
    (config("AES256"), expected_view("AES256", blocked=["SSE-C"])),
    (config("AES256", bucket_key=True), expected_view("AES256", bucket_key=True, blocked=["SSE-C"])),
    (config("aws:kms"), expected_view("aws:kms", blocked=["SSE-C"])),
    (config("aws:kms", KMS_ID, bucket_key=True), expected_view("aws:kms", KMS_ID, True, ["SSE-C"])),
    (config("aws:kms", arn(KMS_UUID), bucket_key=False), expected_view("aws:kms", arn(KMS_UUID), False, ["SSE-C"])),
    (config("aws:kms", "alias/my-key"), expected_view("aws:kms", "alias/my-key", blocked=["SSE-C"])),
    (config("aws:kms:dsse", KMS_UUID), expected_view("aws:kms:dsse", KMS_UUID, blocked=["SSE-C"])),
    (config("aws:kms:dsse"), expected_view("aws:kms:dsse", blocked=["SSE-C"])),
    (config("AES256", blocked=["NONE"]), expected_view("AES256", blocked=["NONE"])),
    (config("aws:kms", KMS_ID, True, ["SSE-C"]), expected_view("aws:kms", KMS_ID, True, ["SSE-C"])),
], ids=["aes", "aes-bucketkey", "kms-managed", "kms-id-bk", "kms-arn", "kms-alias", "dsse-uuid",
        "dsse-managed", "aes-unblocked", "kms-blocked"])
def test_put_then_get_round_trips(ec, eb, cfg, view):
    r = ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_view(ec, eb) == view


def test_get_raw_bytes_of_a_kms_rule(esrv, ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config(
        "aws:kms", KMS_UUID, bucket_key=True, blocked=["NONE"]))
    assert raw_xml(esrv, eb) == expected_xml("aws:kms", KMS_UUID, True, ["NONE"])


def test_put_response_is_200_and_empty(esrv, eb):
    r = raw_put(esrv, eb, apply_doc("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k-1</KMSMasterKeyID>",
                                   "<BucketKeyEnabled>true</BucketKeyEnabled>"))
    assert r.status == 200, r.data
    assert r.data == b""
    h.assert_request_ids(r)
    assert raw_xml(esrv, eb) == expected_xml("aws:kms", "k-1", True, ["SSE-C"])


def test_kms_key_ids_are_not_validated_and_stored_as_given(ec, eb):
    for key in ("no-such-key", "alias/nope", arn("ffffffff-0000-4000-8000-000000000000"),
                "arn:aws:kms:eu-west-3:999999999999:key/whatever"):
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", key))
        assert get_view(ec, eb) == expected_view("aws:kms", key, blocked=["SSE-C"]), key


CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"


def captured_put_bodies() -> list[tuple[str, bytes, str]]:
    """(file name, body, recorded CRC32) of every captured PutBucketEncryption request."""
    out = []
    for f in sorted(CAPTURES.glob("*put-bucket-encryption*PutBucketEncryption.txt")):
        text = f.read_text("utf-8")
        body = text.split("--- text (CR/LF shown as \\r \\n) ---\n", 1)[1].split("\n", 1)[0].encode()
        crc = re.search(r"^body crc32 \(base64\): (\S+)$", text, re.M).group(1)
        out.append((f.name, body, crc))
    return out


def test_captured_botocore_bodies_are_accepted(esrv, eb):
    """Every captured boto3/aws-cli body, with the integrity headers botocore sends (CRC32 only)."""
    cases = captured_put_bodies()
    assert len(cases) >= 8, [c[0] for c in cases]
    for name, body, crc in cases:
        assert crc32_b64(body) == crc, name
        r = raw_put(esrv, eb, body, {"x-amz-checksum-crc32": crc, "x-amz-sdk-checksum-algorithm": "CRC32"},
                    md5=False)
        assert r.status == 200, (name, r.data)
        root = h.xml_root(body)
        alg = h.findall_text(root, "Rule/ApplyServerSideEncryptionByDefault/SSEAlgorithm")[0]
        key = (h.findall_text(root, "Rule/ApplyServerSideEncryptionByDefault/KMSMasterKeyID") or [None])[0]
        bk = h.findall_text(root, "Rule/BucketKeyEnabled") == ["true"]
        # No capture unblocks SSE-C: the bucket stays blocked as created.
        assert raw_xml(esrv, eb) == expected_xml(alg, key, bk, ["SSE-C"]), name


# == DELETE ===============================================================================

def test_delete_resets_to_default_and_is_idempotent(esrv, ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    assert get_view(ec, eb) == expected_view("aws:kms", KMS_ID, True, ["NONE"])
    for _ in range(2):
        r = ec.delete_bucket_encryption(Bucket=eb)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
        # Back to the default, including SSE-C blocked again (the bucket was created blocked).
        assert get_view(ec, eb) == DEFAULT_VIEW
    raw = h.signed("DELETE", h.url_for(esrv.url, eb, params={"encryption": ""}), dict(NO_REUSE))
    assert raw.status == 204 and raw.data == b""
    assert raw_xml(esrv, eb) == expected_xml("AES256", blocked=["SSE-C"])
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c", Body=b"x", **ssec_args(b"k" * 32))
    assert_client_error(ei, "AccessDenied", 403)


def test_configuration_survives_restart_and_disappears_with_the_bucket(server_factory):
    data_dir = server_factory.new_dir("benc-restart")
    srv = server_factory.start("--kms-key", KMS_ID, data_dir=data_dir)
    c = srv.client()
    b = unique_bucket_name("persist")
    c.create_bucket(Bucket=b)
    c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    before = raw_xml(srv, b)
    assert before == expected_xml("aws:kms", KMS_ID, True, ["NONE"])
    assert srv.stop() == 0
    srv = server_factory.start("--kms-key", KMS_ID, data_dir=data_dir)
    c = srv.client()
    assert raw_xml(srv, b) == before
    p = c.put_object(Bucket=b, Key="after-restart", Body=b"after")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
    c.put_object(Bucket=b, Key="ssec", Body=b"ssec", **ssec_args(b"r" * 32))  # still unblocked
    empty_and_delete(c, b)
    with pytest.raises(ClientError) as ei:
        c.get_bucket_encryption(Bucket=b)
    assert_client_error(ei, "NoSuchBucket", 404)
    c.create_bucket(Bucket=b)
    assert get_view(c, b) == DEFAULT_VIEW
    assert sse_of(c.put_object(Bucket=b, Key="fresh", Body=b"fresh")) == {SSE: "AES256"}
    empty_and_delete(c, b)
    srv.stop()


# == errors through boto3 ====================================================================

def test_missing_bucket_is_404_for_all_three(ec):
    name = unique_bucket_name("missing")
    for call in (
        lambda: ec.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=config("AES256")),
        lambda: ec.get_bucket_encryption(Bucket=name),
        lambda: ec.delete_bucket_encryption(Bucket=name),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        err = assert_client_error(ei, "NoSuchBucket", 404)
        assert err["Error"]["BucketName"] == name


def test_expected_bucket_owner(ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", "prev"),
                             ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert get_view(ec, eb, ExpectedBucketOwner=DEFAULT_ACCOUNT) == expected_view("aws:kms", "prev",
                                                                                   blocked=["SSE-C"])
    for call in (
        lambda: ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"),
                                         ExpectedBucketOwner=ALICE[2]),
        lambda: ec.get_bucket_encryption(Bucket=eb, ExpectedBucketOwner=ALICE[2]),
        lambda: ec.delete_bucket_encryption(Bucket=eb, ExpectedBucketOwner=ALICE[2]),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    assert get_view(ec, eb) == expected_view("aws:kms", "prev", blocked=["SSE-C"])
    r = ec.delete_bucket_encryption(Bucket=eb, ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert get_view(ec, eb) == DEFAULT_VIEW


def test_another_accounts_bucket_is_403(ec, ealice, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", "prev"))
    for call in (
        lambda: ealice.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256",
                                                                                                  blocked=["NONE"])),
        lambda: ealice.get_bucket_encryption(Bucket=eb),
        lambda: ealice.delete_bucket_encryption(Bucket=eb),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    assert get_view(ec, eb) == expected_view("aws:kms", "prev", blocked=["SSE-C"])


@pytest.mark.parametrize("cfg,code", [
    (config("AES256", key=KMS_ID), "InvalidArgument"),
    (config("AES512"), "MalformedXML"),
    (config("AES256", blocked=["SSE-KMS"]), "MalformedXML"),
    ({"Rules": [{"BucketKeyEnabled": True}]}, "MalformedXML"),
    ({"Rules": config("AES256")["Rules"] + config("aws:kms")["Rules"]}, "MalformedXML"),
], ids=["kms-with-aes", "unknown-alg", "blocked-sse-kms", "no-apply", "two-rules"])
def test_invalid_configurations_through_boto3(ec, eb, cfg, code):
    prev = config("aws:kms:dsse", "prev-key", blocked=["NONE"])
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=prev)
    with pytest.raises(ClientError) as ei:
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
    err = assert_client_error(ei, code, 400)
    if code == "InvalidArgument":
        assert err["Error"]["Message"] == MSG_KMS_WITH_AES
        assert err["Error"]["ArgumentName"] == "ApplyServerSideEncryptionByDefault"
    else:
        assert err["Error"]["Message"] == MSG_MALFORMED
    assert get_view(ec, eb) == expected_view("aws:kms:dsse", "prev-key", blocked=["NONE"])
