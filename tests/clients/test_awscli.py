"""The aws CLI (v1) against sealstore: `aws s3 ...` and `aws s3api ...`, unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import ALICE, unique_bucket_name


def ok(res):
    assert res.rc == 0, res
    return res


@pytest.fixture
def cli_bucket(aws_cli, s3):
    name = unique_bucket_name("cli")
    ok(aws_cli("s3api", "create-bucket", "--bucket", name))
    yield name
    from conftest import empty_and_delete
    empty_and_delete(s3, name)


def test_s3_mb_ls_rb(aws_cli, s3):
    name = unique_bucket_name("cli")
    r = ok(aws_cli("s3", "mb", f"s3://{name}"))
    assert f"make_bucket: {name}" in r.stdout
    s3.head_bucket(Bucket=name)
    r = ok(aws_cli("s3", "ls"))
    assert name in r.stdout.split()
    r = ok(aws_cli("s3", "rb", f"s3://{name}"))
    assert f"remove_bucket: {name}" in r.stdout
    assert name not in ok(aws_cli("s3", "ls")).stdout.split()


def test_s3_mb_existing_other_account(aws_cli, alice, cleanup_buckets):
    name = unique_bucket_name("alice")
    alice.create_bucket(Bucket=name)
    cleanup_buckets.append((alice, name))
    r = aws_cli("s3", "mb", f"s3://{name}")
    assert r.rc != 0
    assert "BucketAlreadyExists" in r.stderr


def test_s3_cp_up_and_down(aws_cli, s3, cli_bucket, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 123)   # below the 8 MiB multipart threshold
    src = tmp_path / "upload.txt"
    src.write_bytes(data)
    r = ok(aws_cli("s3", "cp", str(src), f"s3://{cli_bucket}/dir/up load.txt"))
    assert "upload:" in r.stdout
    hd = s3.head_object(Bucket=cli_bucket, Key="dir/up load.txt")
    assert hd["ContentLength"] == len(data)
    assert hd["ContentType"] == "text/plain"   # guessed from the file name by the CLI
    assert hd["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    dst = tmp_path / "download.bin"
    r = ok(aws_cli("s3", "cp", f"s3://{cli_bucket}/dir/up load.txt", str(dst)))
    assert "download:" in r.stdout
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    # s3 -> s3 copy uses CopyObject
    ok(aws_cli("s3", "cp", f"s3://{cli_bucket}/dir/up load.txt", f"s3://{cli_bucket}/copy/c.txt"))
    assert s3.get_object(Bucket=cli_bucket, Key="copy/c.txt")["Body"].read() == data


def test_s3_ls_objects_and_prefix(aws_cli, s3, cli_bucket):
    for k in ["top.txt", "dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "other/d.txt"]:
        s3.put_object(Bucket=cli_bucket, Key=k, Body=b"12345")
    r = ok(aws_cli("s3", "ls", f"s3://{cli_bucket}"))
    lines = r.stdout.splitlines()
    assert any(ln.strip() == "PRE dir/" for ln in lines), lines
    assert any(ln.strip() == "PRE other/" for ln in lines), lines
    assert any(ln.endswith(" 5 top.txt") for ln in lines), lines
    r = ok(aws_cli("s3", "ls", f"s3://{cli_bucket}/dir/"))
    lines = r.stdout.splitlines()
    assert any(ln.strip() == "PRE sub/" for ln in lines), lines
    assert sorted(ln.split()[-1] for ln in lines if not ln.strip().startswith("PRE")) == ["a.txt", "b.txt"]
    r = ok(aws_cli("s3", "ls", f"s3://{cli_bucket}", "--recursive"))
    assert sorted(ln.split()[-1] for ln in r.stdout.splitlines()) == sorted(
        ["top.txt", "dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "other/d.txt"])


def test_s3_ls_missing_bucket(aws_cli):
    r = aws_cli("s3", "ls", f"s3://{unique_bucket_name('missing')}")
    assert r.rc == 255, r
    assert "NoSuchBucket" in r.stderr


def test_s3_rm_single_and_recursive(aws_cli, s3, cli_bucket):
    for k in ["keep.txt", "gone.txt", "tree/1", "tree/2", "tree/deep/3"]:
        s3.put_object(Bucket=cli_bucket, Key=k, Body=b"x")
    r = ok(aws_cli("s3", "rm", f"s3://{cli_bucket}/gone.txt"))
    assert "delete:" in r.stdout
    r = ok(aws_cli("s3", "rm", f"s3://{cli_bucket}/tree/", "--recursive"))
    assert r.stdout.count("delete:") == 3
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket)["Contents"]] == ["keep.txt"]


def test_s3_rb_force(aws_cli, s3):
    name = unique_bucket_name("cli")
    s3.create_bucket(Bucket=name)
    for i in range(5):
        s3.put_object(Bucket=name, Key=f"f/{i}", Body=b"x")
    r = aws_cli("s3", "rb", f"s3://{name}")
    assert r.rc != 0 and "BucketNotEmpty" in r.stderr, r
    ok(aws_cli("s3", "rb", f"s3://{name}", "--force"))
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_s3_sync(aws_cli, s3, cli_bucket, tmp_path):
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    files = {"a.txt": b"alpha", "nested/b.bin": os.urandom(1000), "with space.txt": b"space"}
    for name, data in files.items():
        (src / name).write_bytes(data)
    ok(aws_cli("s3", "sync", str(src), f"s3://{cli_bucket}/sync/"))
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=cli_bucket, Prefix="sync/")["Contents"])
    assert keys == sorted("sync/" + n for n in files)
    dst = tmp_path / "dst"
    ok(aws_cli("s3", "sync", f"s3://{cli_bucket}/sync/", str(dst)))
    for name, data in files.items():
        assert (dst / name).read_bytes() == data


def test_s3api_object_commands(aws_cli, s3, cli_bucket, tmp_path):
    body = tmp_path / "body.bin"
    body.write_bytes(b"s3api body " * 100)
    r = ok(aws_cli("s3api", "put-object", "--bucket", cli_bucket, "--key", "api/obj key+1", "--body", str(body),
                   "--content-type", "application/x-api", "--metadata", "purpose=test,owner=cli"))
    out = json.loads(r.stdout)
    assert out["ETag"] == '"' + hashlib.md5(body.read_bytes()).hexdigest() + '"'

    r = ok(aws_cli("s3api", "head-object", "--bucket", cli_bucket, "--key", "api/obj key+1"))
    head = json.loads(r.stdout)
    assert head["ContentLength"] == 1100
    assert head["ContentType"] == "application/x-api"
    assert head["Metadata"] == {"purpose": "test", "owner": "cli"}

    outfile = tmp_path / "out.bin"
    r = ok(aws_cli("s3api", "get-object", "--bucket", cli_bucket, "--key", "api/obj key+1", str(outfile)))
    assert json.loads(r.stdout)["ContentLength"] == 1100
    assert outfile.read_bytes() == body.read_bytes()

    r = ok(aws_cli("s3api", "get-object", "--bucket", cli_bucket, "--key", "api/obj key+1",
                   "--range", "bytes=0-4", str(outfile)))
    assert json.loads(r.stdout)["ContentRange"] == "bytes 0-4/1100"
    assert outfile.read_bytes() == b"s3api"

    r = ok(aws_cli("s3api", "copy-object", "--bucket", cli_bucket, "--key", "api/copy",
                   "--copy-source", f"{cli_bucket}/api/obj key+1"))
    assert json.loads(r.stdout)["CopyObjectResult"]["ETag"] == out["ETag"]

    r = ok(aws_cli("s3api", "list-objects-v2", "--bucket", cli_bucket, "--prefix", "api/"))
    listed = json.loads(r.stdout)
    # (the CLI merges pages itself, so per-page fields such as KeyCount are not printed)
    assert [c["Key"] for c in listed["Contents"]] == ["api/copy", "api/obj key+1"]

    # the CLI paginates with --max-items/--page-size transparently
    r = ok(aws_cli("s3api", "list-objects-v2", "--bucket", cli_bucket, "--page-size", "1"))
    assert [c["Key"] for c in json.loads(r.stdout)["Contents"]] == ["api/copy", "api/obj key+1"]

    delete = json.dumps({"Objects": [{"Key": "api/copy"}, {"Key": "api/obj key+1"}, {"Key": "api/none"}]})
    r = ok(aws_cli("s3api", "delete-objects", "--bucket", cli_bucket, "--delete", delete))
    assert sorted(d["Key"] for d in json.loads(r.stdout)["Deleted"]) == ["api/copy", "api/none", "api/obj key+1"]
    assert s3.list_objects_v2(Bucket=cli_bucket)["KeyCount"] == 0


def test_s3api_bucket_commands(aws_cli, cli_bucket):
    r = ok(aws_cli("s3api", "head-bucket", "--bucket", cli_bucket))
    assert json.loads(r.stdout).get("BucketRegion") == "us-east-1"
    r = ok(aws_cli("s3api", "get-bucket-location", "--bucket", cli_bucket))
    assert json.loads(r.stdout).get("LocationConstraint") in (None, "")
    r = ok(aws_cli("s3api", "list-buckets"))
    assert cli_bucket in [b["Name"] for b in json.loads(r.stdout)["Buckets"]]
    r = ok(aws_cli("s3api", "get-bucket-acl", "--bucket", cli_bucket))
    assert [g["Permission"] for g in json.loads(r.stdout)["Grants"]] == ["FULL_CONTROL"]
    r = ok(aws_cli("s3api", "list-object-versions", "--bucket", cli_bucket))
    assert not json.loads(r.stdout or "{}").get("Versions")


def test_s3api_errors(aws_cli, cli_bucket):
    r = aws_cli("s3api", "head-object", "--bucket", cli_bucket, "--key", "missing")
    assert r.rc == 255, r
    assert "404" in r.stderr and "Not Found" in r.stderr
    r = aws_cli("s3api", "get-object", "--bucket", cli_bucket, "--key", "missing", os.devnull)
    assert r.rc == 255, r
    assert "NoSuchKey" in r.stderr
    r = aws_cli("s3api", "get-bucket-cors", "--bucket", cli_bucket)
    assert r.rc == 255 and "NoSuchCORSConfiguration" in r.stderr, r
    r = aws_cli("s3api", "list-objects-v2", "--bucket", cli_bucket, access_key="nobody", secret_key="x")
    assert r.rc == 255 and "InvalidAccessKeyId" in r.stderr, r
    r = aws_cli("s3api", "list-objects-v2", "--bucket", cli_bucket, secret_key="wrong")
    assert r.rc == 255 and "SignatureDoesNotMatch" in r.stderr, r
    r = aws_cli("s3api", "list-objects-v2", "--bucket", cli_bucket, access_key=ALICE[0], secret_key=ALICE[1])
    assert r.rc == 255 and "AccessDenied" in r.stderr, r


def test_s3_presign(aws_cli, s3, cli_bucket):
    s3.put_object(Bucket=cli_bucket, Key="pre/signed file.txt", Body=b"presigned by the cli")
    r = ok(aws_cli("s3", "presign", f"s3://{cli_bucket}/pre/signed file.txt", "--expires-in", "300"))
    url = r.stdout.strip()
    assert url.startswith("http://127.0.0.1:")
    q = parse_qs(urlsplit(url).query)
    assert "Signature" in q or "X-Amz-Signature" in q
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        assert resp.read() == b"presigned by the cli"
