"""GetObjectAttributes through boto3, the aws CLI and raw HTTP: single PUTs (the unquoted ETag,
the FULL_OBJECT checksum, no ObjectParts), COMPOSITE multipart objects (the checksum without
``-N``, the parts paged by MaxParts / PartNumberMarker), FULL_OBJECT ones (only the part count),
SSE-C objects (the key is needed, as on GET), directory buckets (EXPRESS_ONEZONE, parts always
listed) and every error with its code, status and message; a refused request changes nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from conftest import assert_client_error
from directory_common import (  # noqa: F401 (fixtures)
    MIB, create_dir, dclient, dsrv, empty_dir, lc, session_client,
)
from multipart_common import (  # noqa: F401 (fixtures)
    CKEY, CKEY2, PART, b64, checksum, composite, data, mb, mc, md5_b64, mpu_etag, msrv, raw, ssec,
)

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
MSG_MISSING = ("The x-amz-object-attributes header specifying the attributes to be retrieved is "
               "either missing or empty")
MSG_INVALID = "Invalid attribute name specified."


def upload(c, bucket, key, parts, alg=None, kind=None, sse=None):
    """A completed multipart upload of ``parts`` (each part's checksum of ``alg`` sent)."""
    kw = dict(sse or {})
    create = dict(kw)
    if alg:
        create["ChecksumAlgorithm"] = alg
    if kind:
        create["ChecksumType"] = kind
    uid = c.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for n, body in enumerate(parts, 1):
        extra = dict(kw)
        if alg:
            extra["Checksum" + alg] = checksum(alg, body)
        r = c.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n, Body=body, **extra)
        entry = {"PartNumber": n, "ETag": r["ETag"]}
        if alg:
            entry["Checksum" + alg] = checksum(alg, body)
        done.append(entry)
    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                MultipartUpload={"Parts": done}, **kw)


def ssec_b64(key: bytes) -> dict:
    """botocore base64-encodes the SSE-C key and adds its MD5 for GetObject, not for
    GetObjectAttributes: the caller sends both, encoded."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": b64(key), "SSECustomerKeyMD5": md5_b64(key)}


def three_parts(offset: int) -> list[bytes]:
    return [data(PART, offset), data(PART, offset + PART), data(1234, offset + 2 * PART)]


def test_single_put(mc, mb):
    body = b"attributes of a single put"
    put = mc.put_object(Bucket=mb, Key="k", Body=body, ChecksumAlgorithm="SHA1")
    got = mc.get_object_attributes(Bucket=mb, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == hashlib.md5(body).hexdigest() == put["ETag"].strip('"')
    assert got["Checksum"] == {"ChecksumSHA1": checksum("SHA1", body), "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got
    assert got["StorageClass"] == "STANDARD"
    assert got["ObjectSize"] == len(body)
    assert got["LastModified"] == mc.head_object(Bucket=mb, Key="k")["LastModified"]
    assert "VersionId" not in got and "DeleteMarker" not in got
    only = mc.get_object_attributes(Bucket=mb, Key="k", ObjectAttributes=["ObjectSize"])
    assert {k for k in only if k != "ResponseMetadata"} == {"ObjectSize", "LastModified"}


def test_composite_multipart_pages(mc, mb):
    parts = three_parts(0)
    upload(mc, mb, "mp", parts, alg="SHA256")
    got = mc.get_object_attributes(Bucket=mb, Key="mp", ObjectAttributes=ALL)
    assert got["ETag"] == mpu_etag(parts).strip('"')
    assert got["Checksum"] == {"ChecksumSHA256": composite("SHA256", parts).rsplit("-", 1)[0],
                               "ChecksumType": "COMPOSITE"}
    assert got["ObjectSize"] == sum(map(len, parts))
    op = got["ObjectParts"]
    assert (op["TotalPartsCount"], op["PartNumberMarker"], op["NextPartNumberMarker"],
            op["MaxParts"], op["IsTruncated"]) == (3, 0, 3, 1000, False)
    assert op["Parts"] == [{"PartNumber": n, "Size": len(p), "ChecksumSHA256": checksum("SHA256", p)}
                           for n, p in enumerate(parts, 1)]
    page = mc.get_object_attributes(Bucket=mb, Key="mp", ObjectAttributes=["ObjectParts"],
                                    MaxParts=2, PartNumberMarker=1)["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [2, 3]
    assert (page["PartNumberMarker"], page["NextPartNumberMarker"], page["IsTruncated"]) == (1, 3, False)
    page = mc.get_object_attributes(Bucket=mb, Key="mp", ObjectAttributes=["ObjectParts"],
                                    MaxParts=1)["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [1]
    assert (page["NextPartNumberMarker"], page["IsTruncated"]) == (1, True)


def test_full_object_multipart_shows_only_the_count(mc, mb):
    parts = three_parts(3 * PART)
    upload(mc, mb, "full", parts, alg="CRC32", kind="FULL_OBJECT")
    got = mc.get_object_attributes(Bucket=mb, Key="full", ObjectAttributes=ALL)
    assert got["Checksum"] == {"ChecksumCRC32": checksum("CRC32", b"".join(parts)),
                               "ChecksumType": "FULL_OBJECT"}
    assert got["ObjectParts"] == {"TotalPartsCount": 3}


def test_ssec_needs_the_key(mc, mb):
    parts = three_parts(6 * PART)
    upload(mc, mb, "sec", parts, alg="CRC32C", sse=ssec())
    with pytest.raises(ClientError) as e:
        mc.get_object_attributes(Bucket=mb, Key="sec", ObjectAttributes=ALL)
    err = assert_client_error(e, "InvalidRequest", 400)
    assert err["Error"]["Message"] == ("The object was stored using a form of Server Side Encryption. "
                                       "The correct parameters must be provided to retrieve the object.")
    with pytest.raises(ClientError) as e:
        mc.get_object_attributes(Bucket=mb, Key="sec", ObjectAttributes=ALL, **ssec_b64(CKEY2))
    assert_client_error(e, "AccessDenied", 403)
    got = mc.get_object_attributes(Bucket=mb, Key="sec", ObjectAttributes=ALL, **ssec_b64(CKEY))
    assert got["Checksum"]["ChecksumCRC32C"] == composite("CRC32C", parts).rsplit("-", 1)[0]
    assert [p["ChecksumCRC32C"] for p in got["ObjectParts"]["Parts"]] == \
        [checksum("CRC32C", p) for p in parts]


@pytest.mark.parametrize("attrs,extra,code,message", [
    (["ETag", "Owner"], {}, "InvalidArgument", MSG_INVALID),
    (["objectsize"], {}, "InvalidArgument", MSG_INVALID),
    ([], {}, "InvalidRequest", MSG_MISSING),
    (["ETag"], {"MaxParts": -1}, "InvalidArgument", None),
    (["ETag"], {"PartNumberMarker": -5}, "InvalidArgument", None),
    (["ETag"], {"VersionId": "v2"}, "InvalidArgument", "Invalid version id specified"),
], ids=["unknown-name", "wrong-case", "empty", "max-parts", "marker", "version"])
def test_errors(mc, mb, attrs, extra, code, message):
    mc.put_object(Bucket=mb, Key="k", Body=b"unchanged")
    with pytest.raises(ClientError) as e:
        mc.get_object_attributes(Bucket=mb, Key="k", ObjectAttributes=attrs, **extra)
    err = assert_client_error(e, code, 400)
    if message:
        assert err["Error"]["Message"] == message
    assert mc.get_object(Bucket=mb, Key="k")["Body"].read() == b"unchanged"


def test_missing_header_and_object(msrv, mc, mb):
    mc.put_object(Bucket=mb, Key="k", Body=b"x")
    r = raw(msrv, "GET", mb, "k", params={"attributes": ""})
    assert r.status == 400, r.data
    assert b"<Code>InvalidRequest</Code>" in r.data
    with pytest.raises(ClientError) as e:
        mc.get_object_attributes(Bucket=mb, Key="nope", ObjectAttributes=["ETag"])
    assert_client_error(e, "NoSuchKey", 404)
    r = raw(msrv, "PUT", mb, "k", headers={"x-amz-object-attributes": "ETag"}, params={"attributes": ""})
    assert r.status == 405, r.data
    assert mc.get_object(Bucket=mb, Key="k")["Body"].read() == b"x"


def test_aws_cli(aws_cli, s3, bucket, tmp_path):
    body = b"cli attributes"
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    out = aws_cli("s3api", "get-object-attributes", "--bucket", bucket, "--key", "k",
                  "--object-attributes", "ETag", "ObjectSize", "StorageClass")
    assert out.rc == 0, out
    got = json.loads(out.stdout)
    assert got["ETag"] == hashlib.md5(body).hexdigest()
    assert (got["ObjectSize"], got["StorageClass"]) == (len(body), "STANDARD")
    assert "LastModified" in got
    bad = aws_cli("s3api", "get-object-attributes", "--bucket", bucket, "--key", "k",
                  "--object-attributes", "Size")
    assert bad.rc != 0 and "InvalidArgument" in bad.stderr, bad


def test_aws_cli_parts(aws_cli, s3, bucket):
    parts = three_parts(9 * PART)
    upload(s3, bucket, "big", parts, alg="CRC32")
    out = aws_cli("s3api", "get-object-attributes", "--bucket", bucket, "--key", "big",
                  "--object-attributes", "ObjectParts", "Checksum", "--max-parts", "1",
                  "--part-number-marker", "1")
    assert out.rc == 0, out
    got = json.loads(out.stdout)
    assert got["Checksum"]["ChecksumType"] == "COMPOSITE"
    op = got["ObjectParts"]
    assert (op["TotalPartsCount"], op["IsTruncated"], op["NextPartNumberMarker"]) == (3, True, 2)
    assert op["Parts"] == [{"PartNumber": 2, "Size": PART, "ChecksumCRC32": checksum("CRC32", parts[1])}]


@pytest.mark.parametrize("session", [True, False], ids=["session", "no-session"])
def test_directory_bucket(dsrv, lc, session):
    c = dclient(dsrv, session=session)
    name = create_dir(lc)
    try:
        c.put_object(Bucket=name, Key="a/one", Body=b"one")
        got = c.get_object_attributes(Bucket=name, Key="a/one", ObjectAttributes=ALL)
        assert got["StorageClass"] == "EXPRESS_ONEZONE"
        assert got["ObjectSize"] == 3 and "ObjectParts" not in got
        # A multipart object lists its parts in a directory bucket, checksums or not.
        parts = [b"p" * (5 * MIB), b"q" * 10]
        upload(c, name, "a/mp", parts)
        op = c.get_object_attributes(Bucket=name, Key="a/mp", ObjectAttributes=["ObjectParts"])["ObjectParts"]
        assert op["TotalPartsCount"] == 2
        assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [(1, 5 * MIB), (2, 10)]
    finally:
        empty_dir(lc, name)


def test_directory_read_only_session(dsrv, lc):
    """A ReadOnly session may call GetObjectAttributes (CreateSession's list of read operations)."""
    name = create_dir(lc)
    try:
        lc.put_object(Bucket=name, Key="ro/k", Body=b"read me")
        creds = lc.create_session(Bucket=name, SessionMode="ReadOnly")["Credentials"]
        got = session_client(dsrv, creds).get_object_attributes(Bucket=name, Key="ro/k",
                                                                ObjectAttributes=["ObjectSize"])
        assert got["ObjectSize"] == 7
    finally:
        empty_dir(lc, name)
