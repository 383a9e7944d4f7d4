"""Storage faults and handler panics, injected through the debug build's fault seam
(`src/faults.rs`, `SEALSTORE_FAULTS_FILE`): every failed write answers S3's 500 InternalError, leaves
no partial object and no leaked file, and the server keeps serving."""

from __future__ import annotations

import os
import time

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error, unique_bucket_name
from s3helpers import blob_files

LARGE = 300 * 1024  # a blob file (multi-segment); small bodies live in the metadata database
SMALL = 4 * 1024


@pytest.fixture(scope="module")
def faulty(server_factory, tmp_path_factory):
    path = tmp_path_factory.mktemp("faults") / "faults"
    path.write_text("")
    srv = server_factory.start(env={"SEALSTORE_FAULTS_FILE": str(path)})
    srv.faults_path = path
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture
def c(faulty):
    return faulty.client()


@pytest.fixture
def bucket(c, faulty):
    b = unique_bucket_name("fault")
    c.create_bucket(Bucket=b)
    yield b
    set_faults(faulty)
    for o in c.list_objects_v2(Bucket=b).get("Contents", []):
        c.delete_object(Bucket=b, Key=o["Key"])
    for u in c.list_multipart_uploads(Bucket=b).get("Uploads", []):
        c.abort_multipart_upload(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])
    c.delete_bucket(Bucket=b)


def set_faults(srv, *lines: str) -> None:
    srv.faults_path.write_text("".join(f"{l}\n" for l in lines))
    time.sleep(0.06)  # the server re-reads the file at most every 20 ms


def blob_count(srv, expect: int | None = None) -> int:
    return len(blob_files(srv.data_dir, expect))


def assert_internal_error(exc_info):
    err = assert_client_error(exc_info, "InternalError", 500)
    assert err["Error"]["Message"] == "We encountered an internal error. Please try again."
    assert err["ResponseMetadata"].get("RequestId")
    # Nothing about the cause (paths, errno) reaches the client.
    assert "os error" not in str(err) and "blobs" not in str(err)


WRITE_FAULTS = [
    ("blob-create=eio", LARGE),
    ("blob-write=eio", LARGE),
    ("blob-write=enospc", LARGE),
    ("blob-sync=eio", LARGE),
    ("meta-commit=eio", LARGE),
    ("meta-commit=eio", SMALL),
]


@pytest.mark.parametrize("fault,size", WRITE_FAULTS, ids=[f"{f}-{s}" for f, s in WRITE_FAULTS])
@pytest.mark.parametrize("sse", [{}, {"ServerSideEncryption": "aws:kms:dsse"}], ids=["default", "dsse"])
def test_failed_put_stores_nothing_and_keeps_the_old_version(faulty, c, bucket, fault, size, sse):
    old = os.urandom(LARGE)
    c.put_object(Bucket=bucket, Key="over", Body=old)
    files = blob_count(faulty)
    set_faults(faulty, fault)
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=bucket, Key="new", Body=os.urandom(size), **sse)
    assert_internal_error(e)
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=bucket, Key="over", Body=os.urandom(size), **sse)
    assert_internal_error(e)
    set_faults(faulty)
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=bucket, Key="new")
    assert_client_error(e, None, 404)
    assert c.get_object(Bucket=bucket, Key="over")["Body"].read() == old
    assert blob_count(faulty, files) == files
    # And the server goes on serving, on the same connections.
    body = os.urandom(size)
    c.put_object(Bucket=bucket, Key="new", Body=body, **sse)
    assert c.get_object(Bucket=bucket, Key="new")["Body"].read() == body


def test_failed_copy_and_delete(faulty, c, bucket):
    body = os.urandom(LARGE)
    c.put_object(Bucket=bucket, Key="src", Body=body)
    files = blob_count(faulty)
    set_faults(faulty, "blob-write=enospc")
    with pytest.raises(ClientError) as e:
        c.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert_internal_error(e)
    set_faults(faulty, "meta-commit=eio")
    with pytest.raises(ClientError) as e:
        c.delete_object(Bucket=bucket, Key="src")
    assert_internal_error(e)
    # DeleteObjects reports a failed key in its result (200), as S3 does for per-key errors.
    r = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src"}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(x["Key"], x["Code"]) for x in r["Errors"]] == [("src", "InternalError")]
    assert r.get("Deleted", []) == []
    set_faults(faulty)
    assert c.get_object(Bucket=bucket, Key="src")["Body"].read() == body
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=bucket, Key="dst")
    assert_client_error(e, None, 404)
    assert blob_count(faulty, files) == files


def test_failed_multipart_steps(faulty, c, bucket):
    files = blob_count(faulty)
    uid = c.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part1 = os.urandom(5 * 1024 * 1024)
    set_faults(faulty, "blob-sync=eio")
    with pytest.raises(ClientError) as e:
        c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1)
    assert_internal_error(e)
    set_faults(faulty)
    assert c.list_parts(Bucket=bucket, Key="mp", UploadId=uid).get("Parts", []) == []
    assert blob_count(faulty, files) == files
    e1 = c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    e2 = c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}
    set_faults(faulty, "meta-commit=eio")
    with pytest.raises(ClientError) as e:
        c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts)
    assert_internal_error(e)
    set_faults(faulty)
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=bucket, Key="mp")
    assert_client_error(e, None, 404)
    # The upload is intact and completes once the disk is back.
    assert len(c.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]) == 2
    c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload=parts)
    assert c.get_object(Bucket=bucket, Key="mp")["Body"].read() == part1 + b"tail"
    assert blob_count(faulty, files + 2) == files + 2


def test_failed_bucket_encryption_change_keeps_the_rule(faulty, c, bucket):
    rule = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse"}}]}
    c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=rule)
    set_faults(faulty, "meta-commit=eio")
    with pytest.raises(ClientError) as e:
        c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    assert_internal_error(e)
    with pytest.raises(ClientError) as e:
        c.delete_bucket_encryption(Bucket=bucket)
    assert_internal_error(e)
    set_faults(faulty)
    got = c.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms:dsse"


def test_a_panicking_handler_answers_500_and_the_server_lives_on(faulty, c, bucket):
    c.put_object(Bucket=bucket, Key="k", Body=b"still here")
    set_faults(faulty, "panic=GetObject")
    for _ in range(3):
        with pytest.raises(ClientError) as e:
            c.get_object(Bucket=bucket, Key="k")
        assert_internal_error(e)
        # Other operations, on the same connection pool, are unaffected.
        assert c.head_object(Bucket=bucket, Key="k")["ContentLength"] == 10
    set_faults(faulty)
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"still here"
    assert faulty.alive()
    assert "injected panic in GetObject" in faulty.stderr_text()
