"""Multipart uploads through the real transfer managers: `aws s3 cp` (100 MiB), `aws s3api`
and boto3's upload_file/download_file."""

from __future__ import annotations

import json
import re

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import assert_client_error, empty_and_delete, unique_bucket_name
from multipart_common import (
    CKEY, KMS_ID, KMS_UUID, PART, SSE, SSEC_ALG, SSEC_MD5, SSE_KEY_ID, MiB, arn, checksum, composite, data, mb, mc,
    mc_plain, md5_b64, mpu_etag, msrv, ok, shared_bucket, sse_headers, ssec, unblock_ssec,
)


CLI_CHUNK = 8 * MiB  # the aws CLI's default multipart_chunksize (and threshold)


def chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i:i + size] for i in range(0, len(body), size)]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mp-big") / "big.bin"
    path.write_bytes(data(100 * MiB))
    return path


@pytest.fixture(scope="module")
def kms_rule_bucket(mc):
    """A bucket whose default rule is SSE-KMS (testkey-1), with SSE-C unblocked."""
    name = unique_bucket_name("mpcli")
    mc.create_bucket(Bucket=name)
    unblock_ssec(mc, name, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_ID})
    yield name
    empty_and_delete(mc, name)


@pytest.mark.parametrize("mode", ["sse-s3", "sse-kms", "sse-c"])
def test_aws_cli_cp_100mib(aws_cli, msrv, mc, kms_rule_bucket, big_file, tmp_path, mode):
    body = data(100 * MiB)
    bucket = kms_rule_bucket
    key = f"cli/{mode}.bin"
    ckey = CKEY.decode()
    if mode == "sse-s3":
        flags = ["--sse", "AES256"]
    elif mode == "sse-kms":
        flags = ["--sse", "aws:kms", "--sse-kms-key-id", KMS_UUID]
    else:
        flags = ["--sse-c", "AES256", "--sse-c-key", ckey]
    ok(aws_cli("s3", "cp", str(big_file), f"s3://{bucket}/{key}", *flags, srv=msrv, timeout=180))
    read_kw = ssec() if mode == "sse-c" else {}
    hd = mc.head_object(Bucket=bucket, Key=key, **read_kw)
    n_parts = -(-len(body) // CLI_CHUNK)
    assert hd["ContentLength"] == len(body)
    assert re.fullmatch(rf'"[0-9a-f]{{32}}-{n_parts}"', hd["ETag"]), hd["ETag"]
    if mode == "sse-s3":
        assert sse_headers(hd) == {SSE: "AES256"}
        assert hd["ETag"] == mpu_etag(chunks(body, CLI_CHUNK))
    elif mode == "sse-kms":
        assert sse_headers(hd) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}
    else:
        assert sse_headers(hd) == {SSEC_ALG: "AES256", SSEC_MD5: md5_b64(CKEY)}
        with pytest.raises(ClientError) as ei:
            mc.head_object(Bucket=bucket, Key=key)
        assert_client_error(ei, None, 400)
    hd_part = mc.head_object(Bucket=bucket, Key=key, PartNumber=2, **read_kw)
    assert hd_part["PartsCount"] == n_parts and hd_part["ContentLength"] == CLI_CHUNK
    assert mc.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []) == []
    dst = tmp_path / "down.bin"
    down_flags = ["--sse-c", "AES256", "--sse-c-key", ckey] if mode == "sse-c" else []
    ok(aws_cli("s3", "cp", f"s3://{bucket}/{key}", str(dst), *down_flags, srv=msrv, timeout=180))
    got = dst.read_bytes()
    assert len(got) == len(body)
    assert got == body
    if mode == "sse-c":
        r = aws_cli("s3", "cp", f"s3://{bucket}/{key}", str(tmp_path / "nokey.bin"), srv=msrv)
        assert r.rc != 0
    mc.delete_object(Bucket=bucket, Key=key)


def test_aws_cli_cp_default_rule(aws_cli, msrv, mc, kms_rule_bucket, tmp_path):
    body = data(9 * MiB + 5, 4096)  # over the CLI's 8 MiB threshold: two parts
    src = tmp_path / "rule.bin"
    src.write_bytes(body)
    ok(aws_cli("s3", "cp", str(src), f"s3://{kms_rule_bucket}/cli/rule.bin", srv=msrv, timeout=120))
    hd = mc.head_object(Bucket=kms_rule_bucket, Key="cli/rule.bin")
    assert sse_headers(hd) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID)}
    assert re.fullmatch(r'"[0-9a-f]{32}-2"', hd["ETag"]), hd["ETag"]
    dst = tmp_path / "rule-down.bin"
    ok(aws_cli("s3", "cp", f"s3://{kms_rule_bucket}/cli/rule.bin", str(dst), srv=msrv, timeout=120))
    assert dst.read_bytes() == body


def test_aws_cli_s3api_multipart(aws_cli, msrv, mc, mb, tmp_path):
    p1, p2 = data(PART, 5000), data(777, 5)
    f1, f2 = tmp_path / "p1", tmp_path / "p2"
    f1.write_bytes(p1)
    f2.write_bytes(p2)
    r = ok(aws_cli("s3api", "create-multipart-upload", "--bucket", mb, "--key", "api", "--content-type",
                   "text/x-api", "--checksum-algorithm", "SHA256", srv=msrv))
    out = json.loads(r.stdout)
    uid = out["UploadId"]
    assert out["Key"] == "api" and out["ChecksumAlgorithm"] == "SHA256"
    parts = []
    for n, f in ((1, f1), (2, f2)):
        r = ok(aws_cli("s3api", "upload-part", "--bucket", mb, "--key", "api", "--upload-id", uid,
                       "--part-number", str(n), "--body", str(f), "--checksum-algorithm", "SHA256", srv=msrv))
        o = json.loads(r.stdout)
        parts.append({"PartNumber": n, "ETag": o["ETag"], "ChecksumSHA256": o["ChecksumSHA256"]})
    r = ok(aws_cli("s3api", "list-parts", "--bucket", mb, "--key", "api", "--upload-id", uid, srv=msrv))
    assert [p["Size"] for p in json.loads(r.stdout)["Parts"]] == [PART, 777]
    r = ok(aws_cli("s3api", "complete-multipart-upload", "--bucket", mb, "--key", "api", "--upload-id", uid,
                   "--multipart-upload", json.dumps({"Parts": parts}), srv=msrv))
    out = json.loads(r.stdout)
    assert out["ETag"] == mpu_etag([p1, p2])
    assert out["ChecksumSHA256"] == composite("SHA256", [p1, p2])
    g = mc.get_object(Bucket=mb, Key="api")
    assert g["Body"].read() == p1 + p2 and g["ContentType"] == "text/x-api"
    # abort through the CLI
    uid = json.loads(ok(aws_cli("s3api", "create-multipart-upload", "--bucket", mb, "--key", "gone",
                                srv=msrv)).stdout)["UploadId"]
    ok(aws_cli("s3api", "abort-multipart-upload", "--bucket", mb, "--key", "gone", "--upload-id", uid, srv=msrv))
    r = aws_cli("s3api", "abort-multipart-upload", "--bucket", mb, "--key", "gone", "--upload-id", uid, srv=msrv)
    assert r.rc != 0 and "NoSuchUpload" in r.stderr


TRANSFER = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=8)


@pytest.mark.parametrize("mode", ["default", "sse-c"])
def test_boto3_upload_file_download_file(msrv, mc, mb, tmp_path, mode):
    body = data(20 * MiB + 3, 9999)
    src = tmp_path / "src.bin"
    src.write_bytes(body)
    # SSE-C also asks for CRC32C part checksums: a COMPOSITE upload through s3transfer.
    extra = {"default": {}, "sse-c": {**ssec(), "ChecksumAlgorithm": "CRC32C"}}[mode]
    mc.upload_file(str(src), mb, "transfer.bin", ExtraArgs=dict(extra), Config=TRANSFER)
    read_kw = ssec() if mode == "sse-c" else {}
    hd = mc.head_object(Bucket=mb, Key="transfer.bin", ChecksumMode="ENABLED", **read_kw)
    pieces = chunks(body, 5 * MiB)
    assert hd["ContentLength"] == len(body)
    if mode == "default":
        assert hd["ETag"] == mpu_etag(pieces)
        assert hd["ServerSideEncryption"] == "AES256"
        # s3transfer creates the upload with CRC32 (botocore's default algorithm): COMPOSITE.
        assert hd["ChecksumCRC32"] == composite("CRC32", pieces) and hd["ChecksumType"] == "COMPOSITE"
    else:
        assert re.fullmatch(rf'"[0-9a-f]{{32}}-{len(pieces)}"', hd["ETag"]), hd["ETag"]
        assert hd["SSECustomerKeyMD5"] == md5_b64(CKEY) and "ServerSideEncryption" not in hd
        assert hd["ChecksumCRC32C"] == composite("CRC32C", pieces) and hd["ChecksumType"] == "COMPOSITE"
    dst = tmp_path / "dst.bin"
    mc.download_file(mb, "transfer.bin", str(dst), ExtraArgs=dict(read_kw), Config=TRANSFER)
    assert dst.read_bytes() == body
    assert mc.list_multipart_uploads(Bucket=mb).get("Uploads", []) == []


def test_boto3_upload_file_with_a_full_object_checksum(mc, mb, tmp_path):
    """s3transfer turns a caller's ChecksumCRC32 into a FULL_OBJECT CRC32 upload and sends the value
    with CompleteMultipartUpload (x-amz-checksum-crc32), which S3 checks against the object.

    Fails with the same server bug as test_complete_with_the_whole_object_checksum_header."""
    body = data(10 * MiB + 3, 777)
    src = tmp_path / "full.bin"
    src.write_bytes(body)
    mc.upload_file(str(src), mb, "full.bin", ExtraArgs={"ChecksumCRC32": checksum("CRC32", body)}, Config=TRANSFER)
    hd = mc.head_object(Bucket=mb, Key="full.bin", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC32"] == checksum("CRC32", body) and hd["ChecksumType"] == "FULL_OBJECT"
    assert hd["ETag"] == mpu_etag(chunks(body, 5 * MiB))
