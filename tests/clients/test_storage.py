"""Durability across restarts, --memory, concurrent writers, data-dir containment, and the
binary's command line (ready line, SIGTERM, --help/--version, bad flags, env settings)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ALICE, assert_client_error, sealstore_bin, unique_bucket_name
from s3helpers import blob_files


def _tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def test_ready_line_and_sigterm_exit_zero(server_factory):
    srv = server_factory.start()
    assert srv.url == f"http://{srv.host}:{srv.port}"
    assert srv.host == "127.0.0.1" and srv.port > 0
    c = srv.client()
    c.list_buckets()
    assert srv.stop() == 0
    assert srv.extra_stdout == [], f"only the ready line may go to stdout: {srv.extra_stdout}"


def test_startup_is_fast(server_factory):
    srv = server_factory.start()
    # issue 3: "well under 100 ms" on an empty data dir; generous bound for slow CI machines.
    assert srv.startup_seconds < 1.5, srv.startup_seconds


def test_restart_on_same_data_dir(server_factory):
    data_dir = server_factory.new_dir("persist")
    srv = server_factory.start("--user", ":".join(ALICE), data_dir=data_dir)
    c = srv.client()
    b1, b2 = unique_bucket_name("p"), unique_bucket_name("p")
    c.create_bucket(Bucket=b1)
    c.create_bucket(Bucket=b2, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    big = os.urandom(3 * 1024 * 1024 + 5)
    objects = {"small": b"persist me", "empty": b"", "dir/big.bin": big, "../dots/ü key+%": b"weird"}
    for k, v in objects.items():
        c.put_object(Bucket=b1, Key=k, Body=v, Metadata={"n": str(len(v))}, ContentType="text/x-persist")
    c.put_object(Bucket=b1, Key="deleted", Body=b"gone soon")
    c.delete_object(Bucket=b1, Key="deleted")
    c.put_object(Bucket=b1, Key="overwritten", Body=b"v1")
    c.put_object(Bucket=b1, Key="overwritten", Body=b"v2")
    a = srv.client(ALICE[0], ALICE[1])
    ab = unique_bucket_name("alice")
    a.create_bucket(Bucket=ab)
    etags = {k: c.head_object(Bucket=b1, Key=k)["ETag"] for k in objects}
    assert srv.stop() == 0

    srv2 = server_factory.start("--user", ":".join(ALICE), data_dir=data_dir)
    c2 = srv2.client()
    names = [b["Name"] for b in c2.list_buckets()["Buckets"]]
    assert b1 in names and b2 in names and ab not in names
    for k, v in objects.items():
        g = c2.get_object(Bucket=b1, Key=k)
        got = g["Body"].read()
        assert hashlib.sha256(got).digest() == hashlib.sha256(v).digest(), k
        assert g["Metadata"] == {"n": str(len(v))}
        assert g["ContentType"] == "text/x-persist"
        assert g["ETag"] == etags[k]
    assert c2.get_object(Bucket=b1, Key="overwritten")["Body"].read() == b"v2"
    with pytest.raises(ClientError) as ei:
        c2.get_object(Bucket=b1, Key="deleted")
    assert_client_error(ei, "NoSuchKey", 404)
    assert sorted(o["Key"] for o in c2.list_objects_v2(Bucket=b1)["Contents"]) == sorted(
        list(objects) + ["overwritten"])
    assert c2.get_bucket_location(Bucket=b2)["LocationConstraint"] == "eu-west-1"
    # ownership survives too
    a2 = srv2.client(ALICE[0], ALICE[1])
    assert ab in [b["Name"] for b in a2.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as ei:
        a2.get_object(Bucket=b1, Key="small")
    assert_client_error(ei, "AccessDenied", 403)
    # still writable after restart
    c2.put_object(Bucket=b1, Key="after-restart", Body=b"new")
    assert c2.get_object(Bucket=b1, Key="after-restart")["Body"].read() == b"new"
    assert srv2.stop() == 0


def test_memory_mode_basic_ops(server_factory):
    workdir = server_factory.new_dir("memwork")
    srv = server_factory.start("--user", ":".join(ALICE), memory=True, workdir=workdir)
    c = srv.client()
    b = unique_bucket_name("mem")
    c.create_bucket(Bucket=b)
    c.head_bucket(Bucket=b)
    data = os.urandom(1024 * 1024 + 1)
    c.put_object(Bucket=b, Key="m/1", Body=data, Metadata={"x": "y"})
    c.put_object(Bucket=b, Key="m/2", Body=b"two")
    g = c.get_object(Bucket=b, Key="m/1")
    assert g["Body"].read() == data and g["Metadata"] == {"x": "y"}
    assert c.get_object(Bucket=b, Key="m/1", Range="bytes=0-9")["Body"].read() == data[:10]
    c.copy_object(Bucket=b, Key="m/3", CopySource={"Bucket": b, "Key": "m/2"})
    assert [o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]] == ["m/1", "m/2", "m/3"]
    assert [p["Prefix"] for p in c.list_objects(Bucket=b, Delimiter="/")["CommonPrefixes"]] == ["m/"]
    assert len(c.list_object_versions(Bucket=b)["Versions"]) == 3
    with pytest.raises(ClientError) as ei:
        c.delete_bucket(Bucket=b)
    assert_client_error(ei, "BucketNotEmpty", 409)
    with pytest.raises(ClientError) as ei:
        srv.client(ALICE[0], ALICE[1]).get_object(Bucket=b, Key="m/2")
    assert_client_error(ei, "AccessDenied", 403)
    c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "m/1"}, {"Key": "m/2"}]})
    c.delete_object(Bucket=b, Key="m/3")
    c.delete_bucket(Bucket=b)
    assert b not in [x["Name"] for x in c.list_buckets()["Buckets"]]
    assert srv.stop() == 0
    # nothing on disk: the working directory (where the default ./sealstore-data would go)
    # stays empty apart from our own stderr log
    leftovers = {p for p in _tree(workdir) if not p.startswith("stderr-")}
    assert leftovers == set(), leftovers


def test_memory_mode_forgets_on_restart(server_factory):
    srv = server_factory.start(memory=True)
    b = unique_bucket_name("mem")
    srv.client().create_bucket(Bucket=b)
    assert srv.stop() == 0
    srv2 = server_factory.start(memory=True)
    assert b not in [x["Name"] for x in srv2.client().list_buckets()["Buckets"]]


def test_keys_never_escape_data_dir(server_factory):
    root = server_factory.new_dir("contain")
    data_dir = root / "data"
    data_dir.mkdir()
    sentinel = root / "sentinel"
    sentinel.write_bytes(b"do not touch")
    srv = server_factory.start(data_dir=data_dir)
    c = srv.client()
    b = unique_bucket_name("esc")
    c.create_bucket(Bucket=b)
    keys = ["../sentinel", "../../sentinel", "../" * 10 + "tmp/evil", "/abs/path", "..", "../data2/x",
            "a/../../sentinel", "%2e%2e/sentinel", "..\\..\\sentinel"]
    for k in keys:
        c.put_object(Bucket=b, Key=k, Body=b"evil " + k.encode())
    for k in keys:
        assert c.get_object(Bucket=b, Key=k)["Body"].read() == b"evil " + k.encode()
    assert sentinel.read_bytes() == b"do not touch"
    assert sorted(p.name for p in root.iterdir()) == ["data", "sentinel"]
    assert sorted(o["Key"] for o in c.list_objects_v2(Bucket=b)["Contents"]) == sorted(keys)
    assert srv.stop() == 0


def test_concurrent_puts_same_key(server, s3, bucket):
    n_writers, size = 8, 256 * 1024
    bodies = [bytes([i]) * size + os.urandom(64) for i in range(n_writers)]
    digests = {hashlib.sha256(x).digest() for x in bodies}
    errors: list = []
    reads: list[bytes] = []
    start = threading.Barrier(n_writers + 2)

    def writer(i):
        try:
            c = server.client()
            start.wait()
            for _ in range(3):
                c.put_object(Bucket=bucket, Key="race", Body=bodies[i])
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    def reader():
        try:
            c = server.client()
            start.wait()
            for _ in range(15):
                try:
                    reads.append(c.get_object(Bucket=bucket, Key="race")["Body"].read())
                except ClientError as e:
                    if e.response["Error"]["Code"] != "NoSuchKey":
                        raise
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n_writers)]
    threads += [threading.Thread(target=reader), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    final = s3.get_object(Bucket=bucket, Key="race")
    data = final["Body"].read()
    assert hashlib.sha256(data).digest() in digests, "final value must be exactly one writer's body"
    assert final["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    assert final["ContentLength"] == len(data)
    for r in reads:
        assert hashlib.sha256(r).digest() in digests, "a reader saw a mixed or partial body"


def test_concurrent_puts_distinct_keys(server, s3, bucket):
    errors = []

    def writer(i):
        try:
            c = server.client()
            for j in range(10):
                c.put_object(Bucket=bucket, Key=f"par/{i}/{j}", Body=f"{i}-{j}".encode())
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    keys = [k for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="par/")
            for k in [o["Key"] for o in p.get("Contents", [])]]
    assert len(keys) == 80
    assert s3.get_object(Bucket=bucket, Key="par/7/9")["Body"].read() == b"7-9"


# ---------------------------------------------------------------- command line

def _run_bin(*args, cwd=None, timeout=20):
    return subprocess.run([str(sealstore_bin()), *args], capture_output=True, timeout=timeout,
                          cwd=cwd, stdin=subprocess.DEVNULL)


def test_help_and_version(sealstore_binary):
    r = _run_bin("--help")
    assert r.returncode == 0
    assert b"serve" in r.stdout
    r = _run_bin("serve", "--help")
    assert r.returncode == 0
    for flag in (b"--listen", b"--data-dir", b"--memory", b"--region", b"--access-key", b"--secret-key",
                 b"--user", b"--domain"):
        assert flag in r.stdout, flag
    r = _run_bin("--version")
    assert r.returncode == 0
    assert b"sealstore" in r.stdout and b"0." in r.stdout


def test_bad_flag_exits_nonzero_without_panic(sealstore_binary, tmp_path):
    r = _run_bin("serve", "--no-such-flag", cwd=tmp_path)
    assert r.returncode != 0
    assert b"panicked" not in r.stderr
    assert r.stdout.strip() == b"" or b"listening" not in r.stdout


def test_unusable_data_dir_exits_nonzero(sealstore_binary, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    r = _run_bin("serve", "--listen", "127.0.0.1:0", "--data-dir", str(not_a_dir), cwd=tmp_path)
    assert r.returncode != 0
    assert b"panicked" not in r.stderr
    assert b"listening" not in r.stdout
    lines = [ln for ln in r.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    assert 1 <= len(lines) <= 3, f"expected one clear line, got: {lines}"


def test_bad_user_flag_exits_nonzero(sealstore_binary, tmp_path):
    r = _run_bin("serve", "--listen", "127.0.0.1:0", "--memory", "--user", "no-secret-here", cwd=tmp_path)
    assert r.returncode != 0
    assert b"panicked" not in r.stderr


def test_custom_credentials_and_region(server_factory):
    srv = server_factory.start("--access-key", "AKCUSTOM", "--secret-key", "S3cr3t-Value-42", "--region", "eu-west-1",
                               memory=True)
    c = srv.client("AKCUSTOM", "S3cr3t-Value-42", region="eu-west-1")
    b = unique_bucket_name()
    c.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert c.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    with pytest.raises(ClientError) as ei:
        srv.client(region="eu-west-1").list_buckets()   # test/test is not configured here
    assert_client_error(ei, "InvalidAccessKeyId", 403)
    assert srv.stop() == 0
    # secrets never reach the log
    assert "S3cr3t-Value-42" not in srv.stderr_text()


def test_settings_from_environment(server_factory):
    srv = server_factory.start(memory=True, env={"SEALSTORE_ACCESS_KEY": "AKENV", "SEALSTORE_SECRET_KEY": "envsecret",
                                                 "SEALSTORE_REGION": "eu-central-1"})
    c = srv.client("AKENV", "envsecret", region="eu-central-1")
    b = unique_bucket_name()
    c.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert c.get_bucket_location(Bucket=b)["LocationConstraint"] == "eu-central-1"


def test_request_log_lines(server_factory):
    srv = server_factory.start("--user", "logger:L0gS3cretXYZ:222222222222", memory=True)
    c = srv.client("logger", "L0gS3cretXYZ")
    b = unique_bucket_name("log")
    c.create_bucket(Bucket=b)
    c.put_object(Bucket=b, Key="logged-key", Body=b"x")
    with pytest.raises(ClientError):
        c.get_object(Bucket=b, Key="missing-key")
    assert srv.stop() == 0
    log = srv.stderr_text()
    assert "L0gS3cretXYZ" not in log
    assert "logged-key" in log and "missing-key" in log
    assert "404" in log


@pytest.mark.parametrize("sse", ["AES256", "aws:kms:dsse"])
def test_small_bodies_live_in_metadata_large_in_files(server_factory, sse):
    """A body whose sealed form fits 65 KiB (so any body of one 64 KiB segment) is committed
    inside the metadata transaction (no file); a larger one is a blob file. Overwrites between the two and deletes leave no file
    behind, and both kinds survive a restart byte for byte."""
    data_dir = server_factory.new_dir("inline")
    srv = server_factory.start("--kms-key", "k1", data_dir=data_dir)
    c = srv.client()
    b = unique_bucket_name("inline")
    c.create_bucket(Bucket=b)
    extra = {"ServerSideEncryption": sse}
    if sse != "AES256":
        extra["SSEKMSKeyId"] = "k1"
    seg = 64 * 1024
    bodies = {"empty": b"", "4k": os.urandom(4096), "seg": os.urandom(seg), "seg+4k": os.urandom(seg + 4096),
              "1m": os.urandom(1 << 20)}
    for k, v in bodies.items():
        c.put_object(Bucket=b, Key=k, Body=v, **extra)
    # Exactly the two bodies over 65 KiB sealed are files.
    assert len(blob_files(data_dir, 2)) == 2, blob_files(data_dir)
    # Overwrite file -> inline and inline -> file: still one file per large body.
    c.put_object(Bucket=b, Key="1m", Body=b"now small", **extra)
    c.put_object(Bucket=b, Key="4k", Body=bodies["1m"], **extra)
    bodies["1m"], bodies["4k"] = b"now small", bodies["1m"]
    assert len(blob_files(data_dir, 2)) == 2
    assert srv.stop() == 0

    srv2 = server_factory.start("--kms-key", "k1", data_dir=data_dir)
    c2 = srv2.client()
    for k, v in bodies.items():
        got = c2.get_object(Bucket=b, Key=k)["Body"].read()
        assert got == v, k
        r = c2.get_object(Bucket=b, Key=k, Range="bytes=-3")["Body"].read() if v else b""
        assert r == v[-3:], k
    for k in bodies:
        c2.delete_object(Bucket=b, Key=k)
    assert blob_files(data_dir, 0) == set()
    c2.delete_bucket(Bucket=b)
    assert srv2.stop() == 0
