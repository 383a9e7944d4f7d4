"""Versioning through boto3 and the aws CLI: bucket states, versions on every write, reads and
deletes by version id, delete markers, ListObjectVersions (and its paginator), DeleteObjects with
version ids, BucketNotEmpty while versions remain; every refusal changes nothing."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def read(s3, bucket, key, **kw) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def test_versioning_status_round_trip(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Suspended"
    assert "MFADelete" not in got
    with pytest.raises(ClientError) as e:
        enable(s3, bucket, "Off")
    assert_client_error(e, "MalformedXML", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            "Status": "Enabled", "MFADelete": "Enabled"}, MFA="arn:aws:iam::000000000000:mfa/x 123456")
    assert_client_error(e, "NotImplemented", 501)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versions_read_back_by_id(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    assert read(s3, bucket, "k") == b"two"
    assert read(s3, bucket, "k", VersionId=v1) == b"one"
    assert read(s3, bucket, "k", VersionId="null") == b"before"
    head = s3.head_object(Bucket=bucket, Key="k", VersionId=v1)
    assert head["VersionId"] == v1
    assert head["ContentLength"] == 3
    copied = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1
    assert read(s3, bucket, "c") == b"one"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="0" * 32)
    assert_client_error(e, "NoSuchVersion", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="garbage")
    assert_client_error(e, "InvalidArgument", 400)


def test_delete_marker_and_permanent_delete(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    err = assert_client_error(e, "NoSuchKey", 404)
    headers = err["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert_client_error(e, "MethodNotAllowed", 405)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert_client_error(e, "BucketNotEmpty", 409)
    d = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert d["DeleteMarker"] is True and d["VersionId"] == marker
    assert read(s3, bucket, "k") == b"one"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert_client_error(e, None, 404)
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []


def test_list_object_versions_paginator(s3, bucket):
    enable(s3, bucket)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=str(i).encode())["VersionId"] for i in range(7)]
    s3.delete_object(Bucket=bucket, Key="k")
    seen, markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}):
        assert len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])) <= 3
        seen += [(v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]
        markers += [(m["VersionId"], m["IsLatest"]) for m in page.get("DeleteMarkers", [])]
    assert [v for v, _ in seen] == list(reversed(ids))
    assert not any(latest for _, latest in seen)
    assert len(markers) == 1 and markers[0][1] is True


def test_delete_objects_with_versions(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="a", Body=b"2")["VersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v2}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in out["Deleted"]}
    assert deleted["a"]["VersionId"] == v2
    assert deleted["b"]["DeleteMarker"] is True
    assert "DeleteMarkerVersionId" in deleted["b"]
    assert read(s3, bucket, "a") == b"1"
    assert read(s3, bucket, "a", VersionId=v1) == b"1"


def test_aws_cli_versioning(aws_cli, s3, bucket, tmp_path):
    r = aws_cli("s3api", "put-bucket-versioning", "--bucket", bucket,
                "--versioning-configuration", "Status=Enabled")
    assert r.rc == 0, r
    r = aws_cli("s3api", "get-bucket-versioning", "--bucket", bucket)
    assert json.loads(r.stdout)["Status"] == "Enabled"
    src = tmp_path / "f"
    ids = []
    for body in (b"one", b"two"):
        src.write_bytes(body)
        r = aws_cli("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(src))
        assert r.rc == 0, r
        ids.append(json.loads(r.stdout)["VersionId"])
    out = tmp_path / "out"
    r = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "k", "--version-id", ids[0], str(out))
    assert r.rc == 0, r
    assert out.read_bytes() == b"one"
    r = aws_cli("s3api", "list-object-versions", "--bucket", bucket)
    assert r.rc == 0, r
    listed = json.loads(r.stdout)
    assert [v["VersionId"] for v in listed["Versions"]] == list(reversed(ids))
    r = aws_cli("s3api", "delete-object", "--bucket", bucket, "--key", "k")
    assert json.loads(r.stdout)["DeleteMarker"] is True
    r = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "k", "--version-id", "nope", str(out))
    assert r.rc != 0 and "InvalidArgument" in r.stderr, r
