"""Directory buckets: a restart, the aws CLI, copies into a KMS bucket and presigned URLs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

import s3helpers as h
from conftest import _no_proxy
from directory_common import (
    KEY1, KEY2, KMS_ARGS, MIB, REGION, SSEC_KEY, ZONE, assert_default_aes256, assert_sse, bucket_arn, create_dir,
    dbucket, dclient, dir_name, dsrv, empty_dir, expect_error, get_rule, gp_client, gpbucket, kbucket, kms_arn,
    kms_rule, lc, list_dir_names, localhost_subdomains, pattern,
)


# -- restart ---------------------------------------------------------------------------------------

def test_restart_keeps_directory_bucket_key_lock_and_objects(server_factory):
    data_dir = server_factory.new_dir("dirdata")
    srv = server_factory.start(*KMS_ARGS, data_dir=data_dir)
    c = dclient(srv, session=True)
    name = create_dir(c)
    c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(KEY1))
    body = pattern(300_000, 6)
    c.put_object(Bucket=name, Key="persist/obj", Body=body)
    aes = create_dir(c, dir_name("aes"))
    c.put_object(Bucket=aes, Key="a", Body=b"aes object")
    assert srv.stop() == 0

    srv2 = server_factory.start(*KMS_ARGS, data_dir=data_dir)
    try:
        for session in (True, False):
            c2 = dclient(srv2, session=session)
            assert sorted(list_dir_names(c2)) == sorted([name, aes])
            assert name not in [b["Name"] for b in gp_client(srv2).list_buckets()["Buckets"]]
            assert c2.head_bucket(Bucket=name)["BucketLocationName"] == ZONE
            g = c2.get_object(Bucket=name, Key="persist/obj")
            assert g["Body"].read() == body
            assert_sse(g, KEY1)
            assert g.get("StorageClass") == "EXPRESS_ONEZONE"
            assert c2.get_object(Bucket=aes, Key="a")["Body"].read() == b"aes object"
            rule = get_rule(c2, name)
            assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
            expect_error(c2.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                         ServerSideEncryptionConfiguration=kms_rule(KEY2))
        # the lock survives Delete + restart as well
        c2.delete_bucket_encryption(Bucket=name)
        assert srv2.stop() == 0
        srv3 = server_factory.start(*KMS_ARGS, data_dir=data_dir)
        c3 = dclient(srv3, session=False)
        assert_default_aes256(c3, name)
        expect_error(c3.put_bucket_encryption, "InvalidArgument", 400, Bucket=name,
                     ServerSideEncryptionConfiguration=kms_rule(KEY2))
        c3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_rule(kms_arn(KEY1)))
        assert c3.get_object(Bucket=name, Key="persist/obj")["Body"].read() == body
        assert_sse(c3.put_object(Bucket=name, Key="after", Body=b"x"), KEY1)
        srv3.stop()
    finally:
        if srv2.alive():
            srv2.stop()


# -- aws CLI ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dcli(dsrv, aws_cli_home):
    """Run the aws CLI (v1) against the module's server (127.0.0.1: path-style)."""
    exe = os.environ.get("AWS_CLI") or shutil.which("aws")
    if not exe:
        pytest.fail("aws CLI not found on PATH")

    def run(*args, disable_session: bool = False, timeout: float = 60):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(aws_cli_home),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "LC_ALL": os.environ.get("LC_ALL", "C.UTF-8"),
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(aws_cli_home / "nonexistent-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws_cli_home / "nonexistent-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
            "NO_PROXY": _no_proxy,
            "no_proxy": _no_proxy,
        }
        if disable_session:
            env["AWS_S3_DISABLE_EXPRESS_SESSION_AUTH"] = "true"
        for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_ROOT", "PYENV_VERSION"):
            if var in os.environ:
                env[var] = os.environ[var]
        argv = [exe, *args, "--endpoint-url", dsrv.ip_url]
        sessions_before = dsrv.stderr_text().count('op="CreateSession"')
        p = subprocess.run(argv, capture_output=True, env=env, cwd=str(aws_cli_home), timeout=timeout,
                           stdin=subprocess.DEVNULL)
        res = (p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
        # session auth on: the CLI asked for a session (server log: one line per request)
        sessions = dsrv.stderr_text().count('op="CreateSession"') - sessions_before
        if disable_session:
            assert sessions == 0, (argv, res)
        elif any("--x-s3" in a for a in args):
            assert sessions >= 1, (argv, res)
        return res

    return run


def cli_ok(res):
    rc, out, err = res
    assert rc == 0, f"rc={rc} stdout={out[-800:]!r} stderr={err[-800:]!r}"
    return out


@pytest.mark.parametrize("disable_session", [False, True], ids=["session", "nosession"])
def test_aws_cli_directory_bucket(dsrv, lc, dcli, tmp_path, disable_session):
    name = dir_name("cli")
    try:
        cli_ok(dcli("s3api", "create-bucket", "--bucket", name, "--create-bucket-configuration",
                    f"Location={{Type=AvailabilityZone,Name={ZONE}}},"
                    "Bucket={DataRedundancy=SingleAvailabilityZone,Type=Directory}",
                    disable_session=disable_session))
        listed = json.loads(cli_ok(dcli("s3api", "list-directory-buckets", disable_session=disable_session)))
        mine = [b for b in listed["Buckets"] if b["Name"] == name]
        assert len(mine) == 1 and mine[0]["BucketArn"] == bucket_arn(name), listed
        assert name not in [b["Name"] for b in gp_client(dsrv).list_buckets()["Buckets"]]
        assert name not in cli_ok(dcli("s3", "ls", disable_session=disable_session))
        hb = json.loads(cli_ok(dcli("s3api", "head-bucket", "--bucket", name, disable_session=disable_session)))
        assert hb.get("BucketLocationType") == "AvailabilityZone" and hb.get("BucketLocationName") == ZONE, hb

        enc = json.loads(cli_ok(dcli("s3api", "get-bucket-encryption", "--bucket", name,
                                     disable_session=disable_session)))
        assert enc["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"][
            "SSEAlgorithm"] == "AES256"
        cfg = json.dumps(kms_rule(KEY1))
        cli_ok(dcli("s3api", "put-bucket-encryption", "--bucket", name,
                    "--server-side-encryption-configuration", cfg, disable_session=disable_session))
        enc = json.loads(cli_ok(dcli("s3api", "get-bucket-encryption", "--bucket", name,
                                     disable_session=disable_session)))
        rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (KEY1, kms_arn(KEY1))
        assert rule["BucketKeyEnabled"] is True
        rc, out, err = dcli("s3api", "put-bucket-encryption", "--bucket", name,
                            "--server-side-encryption-configuration", json.dumps(kms_rule(KEY2)),
                            disable_session=disable_session)
        assert rc != 0 and "InvalidArgument" in err, (rc, out, err)

        data = pattern(1_500_000, 7)
        src = tmp_path / "up.bin"
        src.write_bytes(data)
        out = cli_ok(dcli("s3", "cp", str(src), f"s3://{name}/dir/up.bin", disable_session=disable_session))
        assert "upload:" in out
        hd = lc.head_object(Bucket=name, Key="dir/up.bin")
        assert hd["ContentLength"] == len(data)
        assert_sse(hd, KEY1)
        (tmp_path / "small.txt").write_bytes(b"small file\n")
        cli_ok(dcli("s3", "cp", str(tmp_path / "small.txt"), f"s3://{name}/top.txt", disable_session=disable_session))
        dst = tmp_path / "down.bin"
        out = cli_ok(dcli("s3", "cp", f"s3://{name}/dir/up.bin", str(dst), disable_session=disable_session))
        assert "download:" in out
        assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()

        lines = cli_ok(dcli("s3", "ls", f"s3://{name}/", disable_session=disable_session)).splitlines()
        assert any(ln.strip() == "PRE dir/" for ln in lines), lines
        assert any(ln.endswith(" 11 top.txt") for ln in lines), lines
        lines = cli_ok(dcli("s3", "ls", f"s3://{name}/dir/", disable_session=disable_session)).splitlines()
        assert any(ln.endswith(f" {len(data)} up.bin") for ln in lines), lines
        if not disable_session:
            # above the CLI's 8 MiB threshold: a multipart upload and a ranged download
            big = pattern(9 * MIB + 17, 9)
            (tmp_path / "big.bin").write_bytes(big)
            cli_ok(dcli("s3", "cp", str(tmp_path / "big.bin"), f"s3://{name}/dir/big.bin"))
            hd = lc.head_object(Bucket=name, Key="dir/big.bin")
            assert hd["ContentLength"] == len(big) and hd["ETag"].endswith('-2"'), hd
            assert_sse(hd, KEY1)
            cli_ok(dcli("s3", "cp", f"s3://{name}/dir/big.bin", str(tmp_path / "big-down.bin")))
            assert hashlib.sha256((tmp_path / "big-down.bin").read_bytes()).digest() == hashlib.sha256(big).digest()
    finally:
        empty_dir(lc, name)


# -- copies naming SSE, presigned URLs -------------------------------------------------------------

def test_copy_into_kms_bucket_sse_headers(dsrv, lc, kbucket, gpbucket):
    c = dclient(dsrv, session=True)
    gp_client(dsrv).put_object(Bucket=gpbucket, Key="src", Body=b"copy source")
    src = {"Bucket": gpbucket, "Key": "src"}
    # the bucket's own key (ARN, as captured in boto3-dir-copy-object-kms--16; and bare id)
    for key, kw in (("own-arn", {"SSEKMSKeyId": kms_arn(KEY1)}), ("own-id", {"SSEKMSKeyId": KEY1}), ("no-key", {})):
        cp = c.copy_object(Bucket=kbucket, Key=key, CopySource=src, ServerSideEncryption="aws:kms", **kw)
        assert_sse(cp, KEY1)
        g = c.get_object(Bucket=kbucket, Key=key)
        assert g["Body"].read() == b"copy source"
        assert_sse(g, KEY1)
    for key, kw in (("other-key", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY2}),
                    ("dsse", {"ServerSideEncryption": "aws:kms:dsse"}),
                    ("aes256", {"ServerSideEncryption": "AES256"}),
                    ("ssec", {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": SSEC_KEY})):
        expect_error(c.copy_object, "InvalidArgument", 400, Bucket=kbucket, Key=key, CopySource=src, **kw)
        expect_error(lc.head_object, None, 404, Bucket=kbucket, Key=key)


@pytest.mark.parametrize("session", [True, False], ids=["session", "nosession"])
def test_presigned_get_and_put(dsrv, dbucket, session):
    """generate_presigned_url on a directory bucket: SigV4 (service s3express); with session auth the
    URL carries X-Amz-S3session-Token and the session's access key (boto3-dir-presign-get--23).
    Without session auth botocore would fall back to a SigV2 URL in us-east-1: ask for s3v4."""
    c = dclient(dsrv, session=session, **({} if session else {"signature_version": "s3v4"}))
    c.put_object(Bucket=dbucket, Key="p/obj", Body=b"presigned body")
    url = c.generate_presigned_url("get_object", Params={"Bucket": dbucket, "Key": "p/obj"}, ExpiresIn=120)
    q = urlsplit(url).query
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in q and "%2Fs3express%2Faws4_request" in q, url
    assert ("X-Amz-S3session-Token=" in q) == session, url
    r = h.send("GET", url)
    assert r.status == 200, r.data
    assert r.data == b"presigned body"
    put_url = c.generate_presigned_url("put_object", Params={"Bucket": dbucket, "Key": "p/up"}, ExpiresIn=120)
    r = h.send("PUT", put_url, {}, b"uploaded via url")
    assert r.status == 200, r.data
    assert c.get_object(Bucket=dbucket, Key="p/up")["Body"].read() == b"uploaded via url"
    # an edited signature is refused
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert h.send("GET", bad).status == 403
