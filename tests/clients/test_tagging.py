"""Object tags with boto3, the aws CLI and raw SigV4 HTTP: Put/Get/DeleteObjectTagging, the
`x-amz-tagging` header on PutObject and CreateMultipartUpload, CopyObject's tagging directive,
`x-amz-tagging-count`; S3's errors with the object and its tags unchanged after each refusal;
directory buckets, which take no tags (501)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
from directory_common import create_dir, dclient, dsrv, empty_dir, gp_client, gpbucket, lc  # noqa: F401
from s3helpers import parse_error, signed, url_for

HEADER_MSG = ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
              "parameters without tag name duplicates.")


def tagset(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def tags_of(s3, bucket, key):
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]]


def refused(fn, code, status, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return assert_client_error(e, code, status)


def test_boto3_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello", Tagging="team=blue&env=prod+eu&empty=")
    assert tags_of(s3, bucket, "k") == [("empty", ""), ("env", "prod eu"), ("team", "blue")]
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 3

    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset([("ü 文", "a+b=c@d:/_.-")]))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "k") == [("ü 文", "a+b=c@d:/_.-")]
    after = s3.head_object(Bucket=bucket, Key="k")
    assert (after["ETag"], after["LastModified"]) == (head["ETag"], head["LastModified"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"

    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == []
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")


ELEVEN = [(f"k{i}", "") for i in range(11)]


@pytest.mark.parametrize("pairs,code,message,fields", [
    (ELEVEN, "BadRequest", "Object tags cannot be greater than 10", {}),
    ([("a", "1"), ("a", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key", {"TagKey": "a"}),
    ([("aws:cost", "1")], "InvalidTag", "Your TagKey cannot be prefixed with aws:", {"TagKey": "aws:cost"}),
    ([("k" * 129, "")], "InvalidTag", "The TagKey you have provided is invalid", {"TagKey": "k" * 129}),
    ([("a#b", "")], "InvalidTag", "The TagKey you have provided is invalid", {"TagKey": "a#b"}),
    ([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is invalid",
     {"TagKey": "k", "TagValue": "v" * 257}),
    ([("k", "a\tb")], "InvalidTag", "The TagValue you have provided is invalid", {"TagKey": "k", "TagValue": "a\tb"}),
], ids=["eleven", "duplicate", "aws-prefix", "long-key", "bad-key-char", "long-value", "tab-value"])
def test_put_object_tagging_refused_changes_nothing(s3, bucket, pairs, code, message, fields):
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", Tagging="keep=me")
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    err = refused(s3.put_object_tagging, code, 400, Bucket=bucket, Key="k", Tagging=tagset(pairs))
    assert err["Error"]["Message"] == message
    for name, value in fields.items():
        assert err["Error"][name] == value, err["Error"]
    assert tags_of(s3, bucket, "k") == [("keep", "me")]
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == etag


def test_the_tagging_operations_need_an_object(s3, bucket):
    for fn, kw in [(s3.put_object_tagging, {"Tagging": tagset([("a", "1")])}),
                   (s3.get_object_tagging, {}), (s3.delete_object_tagging, {})]:
        err = refused(fn, "NoSuchKey", 404, Bucket=bucket, Key="missing", **kw)
        assert err["Error"]["Key"] == "missing"
    refused(s3.head_object, None, 404, Bucket=bucket, Key="missing")


@pytest.mark.parametrize("header,code", [
    ("a=1&a=2", "InvalidArgument"), ("=1", "InvalidArgument"), ("a=%FF", "InvalidArgument"),
    ("a=b=c", "InvalidArgument"), ("&".join(f"k{i}=" for i in range(11)), "BadRequest"),
    ("a%2Cb=1", "InvalidTag"), ("aws:x=1", "InvalidTag"),
])
def test_header_refused_writes_nothing(s3, bucket, header, code):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    err = refused(s3.put_object, code, 400, Bucket=bucket, Key="k", Body=b"new", Tagging=header)
    if code == "InvalidArgument":
        assert err["Error"]["Message"] == HEADER_MSG
        assert err["Error"]["ArgumentName"] == "x-amz-tagging"
        assert err["Error"]["ArgumentValue"] == header
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"
    refused(s3.create_multipart_upload, code, 400, Bucket=bucket, Key="mp", Tagging=header)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_copy_directives(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"src", Tagging="s=1")
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="d1", CopySource=src)
    assert tags_of(s3, bucket, "d1") == [("s", "1")]
    s3.copy_object(Bucket=bucket, Key="d2", CopySource=src, TaggingDirective="REPLACE", Tagging="r=2")
    assert tags_of(s3, bucket, "d2") == [("r", "2")]
    s3.copy_object(Bucket=bucket, Key="d3", CopySource=src, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "d3") == []
    err = refused(s3.copy_object, "InvalidArgument", 400, Bucket=bucket, Key="d4", CopySource=src,
                  TaggingDirective="MOVE")
    assert err["Error"]["ArgumentName"] == "x-amz-tagging-directive"
    refused(s3.head_object, None, 404, Bucket=bucket, Key="d4")


def test_multipart_tags_land_on_the_object(s3, bucket):
    mp = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="m=1&n=2")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=mp["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tags_of(s3, bucket, "mp") == [("m", "1"), ("n", "2")]


# -- raw HTTP: the document -----------------------------------------------------------------------

def raw_put(server, bucket, key, body: bytes):
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    url = url_for(server.url, bucket, key, {"tagging": ""})
    return signed("PUT", url, {"content-md5": md5}, body)


@pytest.mark.parametrize("body", [
    b"<Tagging><TagSet>", b"<Tagging></Tagging>", b"not xml",
    b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
    b"<Tags><TagSet></TagSet></Tags>",
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value><Other/></Tag></TagSet></Tagging>",
], ids=["unterminated", "no-tagset", "not-xml", "no-value", "other-root", "unknown-element"])
def test_raw_malformed_documents(server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    r = raw_put(server, bucket, "k", body)
    assert r.status == 400, r.data
    assert parse_error(r.data)["Code"] == "MalformedXML"
    assert tags_of(s3, bucket, "k") == [("keep", "me")]


def test_raw_document_round_trip_and_missing_digest(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    doc = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
           b"<Tag><Key>b</Key><Value>2</Value></Tag><Tag><Key>a</Key><Value/></Tag></TagSet></Tagging>")
    r = raw_put(server, bucket, "k", doc)
    assert r.status == 200, r.data
    r = signed("GET", url_for(server.url, bucket, "k", {"tagging": ""}))
    assert r.status == 200
    assert r.data.decode().endswith(
        '<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value></Value></Tag>'
        "<Tag><Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>"), r.data
    # Like every PutObjectTagging SDK call: a Content-MD5 or a checksum is required.
    r = signed("PUT", url_for(server.url, bucket, "k", {"tagging": ""}), {}, doc)
    assert r.status == 400, r.data
    assert tags_of(s3, bucket, "k") == [("a", ""), ("b", "2")]
    r = raw_put(server, bucket, "k", b"")
    assert r.status == 400 and parse_error(r.data)["Code"] == "MissingRequestBodyError", r.data


# -- the aws CLI ----------------------------------------------------------------------------------

def test_aws_cli(aws_cli, s3, bucket, tmp_path):
    src = tmp_path / "f.txt"
    src.write_bytes(b"cli")
    r = aws_cli("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(src),
                "--tagging", "project=alpha&owner=ops")
    assert r.rc == 0, r
    r = aws_cli("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k")
    assert r.rc == 0, r
    assert json.loads(r.stdout)["TagSet"] == [{"Key": "owner", "Value": "ops"}, {"Key": "project", "Value": "alpha"}]
    r = aws_cli("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
                "--tagging", "TagSet=[{Key=stage,Value=done}]")
    assert r.rc == 0, r
    assert tags_of(s3, bucket, "k") == [("stage", "done")]
    r = aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "k", str(tmp_path / "out"))
    assert r.rc == 0 and json.loads(r.stdout)["TagCount"] == 1, r
    r = aws_cli("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "k")
    assert r.rc == 0, r
    assert tags_of(s3, bucket, "k") == []
    r = aws_cli("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
                "--tagging", "TagSet=[{Key=aws:x,Value=1}]")
    assert r.rc != 0 and "InvalidTag" in r.stderr, r
    # `aws s3 cp` copies between keys with the source's tags (its default directive).
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset([("c", "1")]))
    r = aws_cli("s3", "cp", f"s3://{bucket}/k", f"s3://{bucket}/k2")
    assert r.rc == 0, r
    assert tags_of(s3, bucket, "k2") == [("c", "1")]


# -- directory buckets: no tags -------------------------------------------------------------------

def test_directory_buckets_take_no_tags(dsrv, lc, gpbucket):  # noqa: F811
    name = create_dir(lc)
    try:
        lc.put_object(Bucket=name, Key="k", Body=b"x")
        for fn, kw in [(lc.put_object_tagging, {"Tagging": tagset([("a", "1")])}),
                       (lc.get_object_tagging, {}), (lc.delete_object_tagging, {})]:
            refused(fn, "NotImplemented", 501, Bucket=name, Key="k", **kw)
        refused(lc.put_object, "NotImplemented", 501, Bucket=name, Key="t", Body=b"x", Tagging="a=1")
        refused(lc.head_object, None, 404, Bucket=name, Key="t")
        refused(lc.create_multipart_upload, "NotImplemented", 501, Bucket=name, Key="t", Tagging="a=1")
        # The empty set is what a directory bucket holds: accepted.
        lc.put_object(Bucket=name, Key="e", Body=b"x", Tagging="")
        # A copy into it: a tagged source (COPY) or REPLACE with tags is 501; REPLACE empty works.
        gp = gp_client(dsrv)
        gp.put_object(Bucket=gpbucket, Key="src", Body=b"src", Tagging="s=1")
        src = {"Bucket": gpbucket, "Key": "src"}
        refused(lc.copy_object, "NotImplemented", 501, Bucket=name, Key="c", CopySource=src)
        refused(lc.copy_object, "NotImplemented", 501, Bucket=name, Key="c", CopySource=src,
                TaggingDirective="REPLACE", Tagging="a=1")
        refused(lc.head_object, None, 404, Bucket=name, Key="c")
        lc.copy_object(Bucket=name, Key="c", CopySource=src, TaggingDirective="REPLACE")
        # Out of a directory bucket: its empty set is copied.
        gp.copy_object(Bucket=gpbucket, Key="back", CopySource={"Bucket": name, "Key": "c"})
        assert tags_of(gp, gpbucket, "back") == []
    finally:
        empty_dir(lc, name)
