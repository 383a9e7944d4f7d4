"""Request headers S3 defines and sealstore does not implement yet (ops/unsupported.rs): refused
with 501 NotImplemented naming the header, never accepted and ignored, and nothing changes.
(Tags are implemented: test_tagging.py.)"""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error, unique_bucket_name


def assert_refused(exc_info, header: str):
    err = assert_client_error(exc_info, "NotImplemented", 501)
    assert header in err["Error"]["Message"], err["Error"]


def assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert_client_error(e, None, 404)


@pytest.mark.parametrize("kw,header", [
    ({"ObjectLockMode": "GOVERNANCE",
      "ObjectLockRetainUntilDate": datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)},
     "x-amz-object-lock-"),
    ({"ObjectLockLegalHoldStatus": "ON"}, "x-amz-object-lock-legal-hold"),
    ({"WebsiteRedirectLocation": "/other"}, "x-amz-website-redirect-location"),
    ({"GrantRead": 'id="abc"'}, "x-amz-grant-read"),
])
def test_put_object_unsupported_headers_refused(s3, bucket, kw, header):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", **kw)
    assert_refused(e, header)
    assert_absent(s3, bucket, "k")


def test_put_object_legal_hold_off_is_a_no_op(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ObjectLockLegalHoldStatus="OFF")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_create_multipart_upload_object_lock_refused(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="mp", ObjectLockMode="COMPLIANCE")
    assert_refused(e, "x-amz-object-lock-mode")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_delete_object_mfa_and_bypass_governance_accepted(s3, bucket):
    # No bucket has MFA delete or object lock: these only permit what nothing requires, and the
    # delete happens as asked (test_boto3_objects covers DeleteObjects with the bypass).
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.delete_object(Bucket=bucket, Key="k", BypassGovernanceRetention=True, MFA="serial 123456")
    assert_absent(s3, bucket, "k")


@pytest.mark.parametrize("kw,header", [
    ({"ObjectLockEnabledForBucket": True}, "x-amz-bucket-object-lock-enabled"),
    ({"ObjectOwnership": "ObjectWriter"}, "x-amz-object-ownership"),
    ({"GrantFullControl": 'id="abc"'}, "x-amz-grant-full-control"),
])
def test_create_bucket_unsupported_headers_refused(s3, kw, header):
    name = unique_bucket_name()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, **kw)
    assert_refused(e, header)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert_client_error(e, None, 404)


def test_create_bucket_no_op_values_accepted(s3, cleanup_buckets):
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=False,
                     ObjectOwnership="BucketOwnerEnforced")
    cleanup_buckets.append((s3, name))
    s3.head_bucket(Bucket=name)


def test_missing_bucket_answers_first(s3):
    # The bucket is checked before the headers, as S3 answers.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=unique_bucket_name(), Key="k", Body=b"x",
                      WebsiteRedirectLocation="/other")
    assert_client_error(e, "NoSuchBucket", 404)


@pytest.mark.parametrize("cls", ["STANDARD_IA", "GLACIER", "REDUCED_REDUNDANCY"])
def test_put_object_other_storage_class_refused(s3, bucket, cls):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", StorageClass=cls)
    assert_refused(e, cls)
    assert_absent(s3, bucket, "k")


def test_unknown_storage_class_is_invalid(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"data")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                       StorageClass="NOT_A_CLASS")
    err = assert_client_error(e, "InvalidStorageClass", 400)
    assert err["Error"]["Message"] == "The storage class you specified is not valid"
    assert_absent(s3, bucket, "dst")


def test_standard_storage_class_accepted(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", StorageClass="STANDARD")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", StorageClass="STANDARD")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
