"""Bucket default encryption over raw SigV4 HTTP: Content-MD5 and checksum errors, malformed
XML, owners, and the validation order."""

from __future__ import annotations

import hashlib

import pytest

from bucket_encryption_common import (
    AES_DOC, MSG_KMS_WITH_AES, MSG_MALFORMED, apply_doc, assert_raw_error, b64, config, crc32_b64, doc, ealice, eb, ec,
    esrv, expected_xml, md5_b64, raw_get, raw_put, raw_xml,
)
from conftest import ALICE, unique_bucket_name


# == raw HTTP: one request per validation error, in S3's order =====================================

PREV = config("aws:kms", "prev-key-id", bucket_key=True, blocked=["NONE"])
PREV_XML = expected_xml("aws:kms", "prev-key-id", True, ["NONE"])

GOOD = AES_DOC
TWO_ALGS = apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>aws:kms</SSEAlgorithm>")
KMS_WITH_AES = apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>some-key</KMSMasterKeyID>")
BLOCK_SSEC = "<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>"

MALFORMED = {
    "not-xml": b"this is not xml",
    "truncated": GOOD[:-10],
    "wrong-root": b"<EncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
                  b"<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                  b"</ApplyServerSideEncryptionByDefault></Rule></EncryptionConfiguration>",
    "zero-rules": doc(""),
    "two-rules": doc("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                     "</ApplyServerSideEncryptionByDefault></Rule>" * 2),
    "rule-without-apply": doc("<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"),
    "empty-apply": apply_doc(""),
    "missing-algorithm": apply_doc("<KMSMasterKeyID>k</KMSMasterKeyID>"),
    "unknown-algorithm": apply_doc("<SSEAlgorithm>AES512</SSEAlgorithm>"),
    "lowercase-algorithm": apply_doc("<SSEAlgorithm>aes256</SSEAlgorithm>"),
    "two-algorithms": TWO_ALGS,
    "unknown-element-in-apply": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><Bogus>1</Bogus>"),
    "unknown-element-in-rule": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>", "<Bogus>1</Bogus>"),
    "unknown-element-in-root": doc("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                                   "</ApplyServerSideEncryptionByDefault></Rule><Bogus/>"),
    "encryption-type-sse-kms": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>",
                                         "<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType>"
                                         "</BlockedEncryptionTypes>"),
    "bad-bucket-key": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>", "<BucketKeyEnabled>maybe</BucketKeyEnabled>"),
    # MalformedXML is decided before the AES256 + KMSMasterKeyID InvalidArgument.
    "kms-with-aes-and-unknown-element": apply_doc(
        "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID><Bogus/>"),
}


@pytest.fixture
def prev_bucket(esrv, ec, eb):
    """A bucket with a known non-default configuration (SSE-C unblocked)."""
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=PREV)
    assert raw_xml(esrv, eb) == PREV_XML
    return eb


def test_raw_tampered_content_md5(esrv, prev_bucket):
    body = GOOD
    r = raw_put(esrv, prev_bucket, body, {"Content-MD5": md5_b64(body + b" ")}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    # A body changed after its MD5 was computed.
    r = raw_put(esrv, prev_bucket, body.replace(b"AES256", b"AES257"), {"Content-MD5": md5_b64(body)}, md5=False)
    assert_raw_error(r, 400, "BadDigest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


@pytest.mark.parametrize("value", ["__invalid__", "MTIz", "dGVzdC1zdHJpbmc="])
def test_raw_malformed_content_md5(esrv, prev_bucket, value):
    # Checked from the header alone: even a malformed body gets InvalidDigest.
    r = raw_put(esrv, prev_bucket, b"not xml", {"Content-MD5": value}, md5=False)
    assert_raw_error(r, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.", **{"Content-MD5": value})
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_missing_checksum(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, GOOD, md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    # Even a malformed or empty body: integrity comes first.
    r = raw_put(esrv, prev_bucket, b"<nope", md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    r = raw_put(esrv, prev_bucket, b"", md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_sdk_checksum_algorithm_without_checksum(esrv, prev_bucket):
    for md5 in (False, True):
        r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-sdk-checksum-algorithm": "CRC32"}, md5=md5)
        assert_raw_error(r, 400, "InvalidRequest",
                         "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
                         "x-amz-trailer headers were found.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_checksum_mismatch(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-checksum-crc32": crc32_b64(GOOD + b"x"),
                                          "x-amz-sdk-checksum-algorithm": "CRC32"}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    sha = b64(hashlib.sha256(b"other").digest())
    r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-checksum-sha256": sha}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_checksum_alone_is_enough(esrv, prev_bucket):
    body = apply_doc("<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm>")
    r = raw_put(esrv, prev_bucket, body, {"x-amz-checksum-sha256": b64(hashlib.sha256(body).digest())}, md5=False)
    assert r.status == 200, r.data
    # No BlockedEncryptionTypes in the request: the bucket's NONE stays.
    assert raw_xml(esrv, prev_bucket) == expected_xml("aws:kms:dsse", blocked=["NONE"])


def test_raw_empty_body(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, b"")
    assert_raw_error(r, 400, "MissingRequestBodyError", "Request body is empty.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_raw_malformed_xml(esrv, prev_bucket, case):
    r = raw_put(esrv, prev_bucket, MALFORMED[case])
    assert_raw_error(r, 400, "MalformedXML", MSG_MALFORMED)
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_two_sse_algorithms(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, TWO_ALGS)
    assert_raw_error(r, 400, "MalformedXML", MSG_MALFORMED)
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_kms_key_with_aes256(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, KMS_WITH_AES)
    assert_raw_error(r, 400, "InvalidArgument", MSG_KMS_WITH_AES,
                     ArgumentName="ApplyServerSideEncryptionByDefault")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_wrong_expected_owner(esrv, prev_bucket):
    # Owner before integrity: a tampered Content-MD5 and bad body still get AccessDenied.
    for body, headers in ((GOOD, {}), (b"not xml", {"Content-MD5": "__invalid__"})):
        r = raw_put(esrv, prev_bucket, body, {"x-amz-expected-bucket-owner": ALICE[2], **headers},
                    md5="Content-MD5" not in headers)
        assert_raw_error(r, 403, "AccessDenied")
    r = raw_get(esrv, prev_bucket, {"x-amz-expected-bucket-owner": "123456789012"})
    assert_raw_error(r, 403, "AccessDenied")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_another_accounts_bucket(esrv, prev_bucket):
    for body in (GOOD, b"not xml"):
        r = raw_put(esrv, prev_bucket, body, access_key=ALICE[0], secret_key=ALICE[1])
        assert_raw_error(r, 403, "AccessDenied")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_missing_bucket_before_anything_else(esrv):
    name = unique_bucket_name("missing")
    for body, headers, md5 in (
        (GOOD, {}, True),
        (b"not xml", {}, True),
        (b"not xml", {"Content-MD5": "__invalid__"}, False),
        (GOOD, {}, False),
        (KMS_WITH_AES, {}, True),
    ):
        r = raw_put(esrv, name, body, headers, md5=md5)
        assert_raw_error(r, 404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name)


def test_raw_validation_order_between_integrity_and_xml(esrv, prev_bucket):
    # Digest errors beat XML errors; MalformedXML beats InvalidArgument.
    r = raw_put(esrv, prev_bucket, KMS_WITH_AES, {"Content-MD5": md5_b64(b"x")}, md5=False)
    assert_raw_error(r, 400, "BadDigest")
    r = raw_put(esrv, prev_bucket, TWO_ALGS, {"Content-MD5": "MTIz"}, md5=False)
    assert_raw_error(r, 400, "InvalidDigest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML
