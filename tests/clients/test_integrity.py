"""Body integrity (issue 4): Content-MD5, flexible checksums, x-amz-content-sha256, stored checksums
and ``x-amz-checksum-mode``, XML bodies, and boto3 / the aws CLI on their default checksum settings.

Wrong requests are built with botocore's SigV4 signer and sent raw (``s3helpers``); every refused
upload is checked to have left the previous object under its key untouched.  The checksum values
the tests expect are computed here (CRC32 with zlib, CRC32C and CRC64NVME with a small pure-Python
table implementation checked against the published check values, SHA with hashlib), never taken
from the server.  boto3's CRC32C/CRC64NVME need ``awscrt`` (``pip install 'botocore[crt]'``): when
it is missing those tests fail, they do not skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import assert_client_error, empty_and_delete, make_client, unique_bucket_name

OLD = b"the previous version of this object\n"
HELLO = b"hello world\n"


# -- checksums computed independently of the server -----------------------------------------

def _reflected_table(poly: int) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _reflected_table(0x82F63B78)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5)


def _crc(data: bytes, table: list[int], mask: int) -> int:
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def crc32c_int(data: bytes) -> int:
    return _crc(data, _CRC32C_TABLE, 0xFFFFFFFF)


def crc64nvme_int(data: bytes) -> int:
    return _crc(data, _CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crt():
    """``awscrt.checksums``; a missing awscrt fails the test (CI installs ``botocore[crt]``)."""
    try:
        import awscrt.checksums
    except ImportError:  # pragma: no cover - the environment is wrong
        pytest.fail("awscrt is not installed: run `pip install 'botocore[crt]'`")
    return awscrt.checksums


def checksum(alg: str, data: bytes) -> str:
    """base64 of the big-endian digest, as ``x-amz-checksum-<alg>`` carries it.  Large bodies use
    awscrt for the CRCs the standard library lacks (cross-checked in ``test_checksum_vectors``)."""
    if alg == "crc32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if alg == "crc32c":
        v = crc32c_int(data) if len(data) <= 200_000 else crt().crc32c(data)
        return b64(v.to_bytes(4, "big"))
    if alg == "crc64nvme":
        v = crc64nvme_int(data) if len(data) <= 200_000 else crt().crc64nvme(data)
        return b64(v.to_bytes(8, "big"))
    if alg == "sha1":
        return b64(hashlib.sha1(data).digest())
    if alg == "sha256":
        return b64(hashlib.sha256(data).digest())
    raise AssertionError(alg)


ALGS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]
WIDTH = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}
# boto3's response keys: ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256
BOTO_KEY = {a: "Checksum" + a.upper() for a in ALGS}
CHECKSUM_HEADERS = {f"x-amz-checksum-{a}" for a in ALGS}


def test_checksum_vectors():
    """The expected values used below are right (reference §7), and agree with awscrt."""
    assert checksum("crc32", b"123456789") == "y/Q5Jg=="
    assert checksum("crc32c", b"123456789") == "4waSgw=="
    assert crc32c_int(b"123456789") == 0xE3069283
    assert checksum("crc64nvme", b"123456789") == "rosUhgp5mIg="
    assert crc64nvme_int(b"123456789") == 0xAE8B14860A799888
    assert [checksum(a, b"") for a in ALGS] == [
        "AAAAAA==", "AAAAAA==", "AAAAAAAAAAA=",
        "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ]
    assert [checksum(a, HELLO) for a in ALGS] == [
        "rwg7LQ==", "8P9ykg==", "D3gOhIHSoh8=",
        "IlljY7PeQLBvmB+4XYIxLowO1RE=", "qUiQTy8PR5uPgZdpSzAYSw0u0cHNKh7A+4XSmaGSpEc=",
    ]
    c = crt()
    data = os.urandom(70_001)
    assert c.crc32c(data) == crc32c_int(data)
    assert c.crc64nvme(data) == crc64nvme_int(data)


# -- raw request helpers --------------------------------------------------------------------

def raw_put(server, bucket, key, body: bytes, headers=None, payload_hash=None):
    url = h.url_for(server.url, bucket, key)
    hdrs = h.sign_v4("PUT", url, headers, body, payload_hash=payload_hash)
    return h.send("PUT", url, hdrs, body)


def raw_get(server, bucket, key, headers=None, method="GET"):
    url = h.url_for(server.url, bucket, key)
    hdrs = h.sign_v4(method, url, headers)
    return h.send(method, url, hdrs)


def checksum_headers_of(resp) -> dict:
    return {k.lower(): v for k, v in resp.headers.items() if k.lower().startswith("x-amz-checksum-")}


def data_files(server) -> set:
    """Every file under the server's data dir (a refused upload must leave no blob behind)."""
    root = server.data_dir
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


class OldObject:
    """OLD stored under ``victim``; calling it asserts the object is still exactly there and that
    the data dir holds the same files as at the last ``rebase`` (no blob left by a refused upload)."""

    def __init__(self, server, s3, bucket):
        self.server, self.s3, self.bucket = server, s3, bucket
        s3.put_object(Bucket=bucket, Key="victim", Body=OLD, ContentType="text/x-old")
        self.rebase()

    def rebase(self):
        self.files = data_files(self.server)

    def __call__(self):
        assert data_files(self.server) == self.files, "a refused upload left or removed files in the data dir"
        g = self.s3.get_object(Bucket=self.bucket, Key="victim")
        assert g["Body"].read() == OLD, "a refused upload replaced the stored object"
        assert g["ContentType"] == "text/x-old"
        assert g["ContentLength"] == len(OLD)


@pytest.fixture
def old(server, s3, bucket):
    return OldObject(server, s3, bucket)


# -- Content-MD5 -------------------------------------------------------------------------------

def test_content_md5_correct_is_accepted(server, s3, bucket):
    md5 = b64(hashlib.md5(HELLO).digest())
    r = raw_put(server, bucket, "md5/raw", HELLO, {"Content-MD5": md5})
    assert r.status == 200, r.data
    assert r.headers["ETag"] == '"' + h.md5_hex(HELLO) + '"'
    s3.put_object(Bucket=bucket, Key="md5/boto", Body=HELLO, ContentMD5=md5)
    assert s3.get_object(Bucket=bucket, Key="md5/boto")["Body"].read() == HELLO


@pytest.mark.parametrize("value", ["__invalid__", "000", "MTIz", "dGVzdC1zdHJpbmc="])
def test_content_md5_malformed_is_invalid_digest(server, bucket, old, value):
    r = raw_put(server, bucket, "victim", HELLO, {"Content-MD5": value})
    err = h.assert_s3_error(r, 400, "InvalidDigest")
    assert err["Message"] == "The Content-MD5 you specified was invalid."
    assert err["Content-MD5"] == value
    old()


def test_content_md5_mismatch_is_bad_digest(server, bucket, old):
    wrong = hashlib.md5(b"something else").digest()
    r = raw_put(server, bucket, "victim", HELLO, {"Content-MD5": b64(wrong)})
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The Content-MD5 you specified did not match what we received."
    assert err["ExpectedDigest"] == wrong.hex()
    assert err["CalculatedDigest"] == b64(hashlib.md5(HELLO).digest())
    old()


def test_content_md5_mismatch_boto3(s3, bucket, old):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="victim", Body=HELLO,
                      ContentMD5=b64(hashlib.md5(b"x").digest()))
    assert_client_error(ei, "BadDigest", 400)
    old()


def test_content_md5_and_checksum_are_both_checked(server, bucket, old):
    good_md5 = b64(hashlib.md5(HELLO).digest())
    r = raw_put(server, bucket, "victim", HELLO,
                {"Content-MD5": good_md5, "x-amz-checksum-crc32": checksum("crc32", b"other")})
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The CRC32 you specified did not match the calculated checksum."
    r = raw_put(server, bucket, "victim", HELLO,
                {"Content-MD5": b64(hashlib.md5(b"other").digest()),
                 "x-amz-checksum-crc32": checksum("crc32", HELLO)})
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The Content-MD5 you specified did not match what we received."
    old()


# -- x-amz-checksum-* headers ----------------------------------------------------------------

@pytest.mark.parametrize("alg", ALGS)
def test_checksum_header_correct_is_stored_and_echoed(server, s3, bucket, alg):
    body = os.urandom(70_000)
    value = checksum(alg, body)
    r = raw_put(server, bucket, f"ck/{alg}", body,
                {f"x-amz-checksum-{alg}": value, "x-amz-sdk-checksum-algorithm": alg.upper()})
    assert r.status == 200, r.data
    assert checksum_headers_of(r) == {f"x-amz-checksum-{alg}": value, "x-amz-checksum-type": "FULL_OBJECT"}
    hd = s3.head_object(Bucket=bucket, Key=f"ck/{alg}", ChecksumMode="ENABLED")
    assert hd[BOTO_KEY[alg]] == value
    assert hd["ChecksumType"] == "FULL_OBJECT"
    g = s3.get_object(Bucket=bucket, Key=f"ck/{alg}", ChecksumMode="ENABLED")
    assert g[BOTO_KEY[alg]] == value
    assert g["Body"].read() == body   # botocore validates the returned checksum while reading
    # no other algorithm's header comes back
    assert [k for k in g if k.startswith("Checksum") and k != "ChecksumType"] == [BOTO_KEY[alg]]


@pytest.mark.parametrize("alg", ALGS)
def test_checksum_header_mismatch_is_bad_digest(server, bucket, old, alg):
    r = raw_put(server, bucket, "victim", HELLO, {f"x-amz-checksum-{alg}": checksum(alg, b"not the body")})
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == f"The {alg.upper()} you specified did not match the calculated checksum."
    old()


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("kind", ["not-base64", "too-short", "too-long"])
def test_checksum_header_malformed_is_invalid_request(server, bucket, old, alg, kind):
    value = {
        "not-base64": "!!not base64!!",
        "too-short": b64(b"\x01" * (WIDTH[alg] - 1)),
        "too-long": b64(b"\x01" * (WIDTH[alg] + 1)),
    }[kind]
    r = raw_put(server, bucket, "victim", HELLO, {f"x-amz-checksum-{alg}": value})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == f"Value for x-amz-checksum-{alg} header is invalid."
    old()


def test_two_checksum_headers_are_refused(server, bucket, old):
    r = raw_put(server, bucket, "victim", HELLO,
                {"x-amz-checksum-crc32": checksum("crc32", HELLO), "x-amz-checksum-sha1": checksum("sha1", HELLO)})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
    old()


def test_unknown_checksum_algorithm_is_refused(server, bucket, old):
    r = raw_put(server, bucket, "victim", HELLO, {"x-amz-checksum-foo": "AAAAAA=="})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "The algorithm type you specified in x-amz-checksum- header is invalid."
    old()


def test_sdk_checksum_algorithm_without_checksum_is_refused(server, bucket, old):
    r = raw_put(server, bucket, "victim", HELLO, {"x-amz-sdk-checksum-algorithm": "CRC32"})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == ("x-amz-sdk-checksum-algorithm specified, but no corresponding "
                              "x-amz-checksum-* or x-amz-trailer headers were found.")
    old()


def test_sdk_checksum_algorithm_other_than_header_is_refused(server, bucket, old):
    r = raw_put(server, bucket, "victim", HELLO,
                {"x-amz-sdk-checksum-algorithm": "SHA1", "x-amz-checksum-crc32": checksum("crc32", HELLO)})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "Value for x-amz-sdk-checksum-algorithm header is invalid."
    old()


def test_trailer_on_a_plain_body_is_malformed_trailer(server, bucket, old):
    r = raw_put(server, bucket, "victim", HELLO, {"x-amz-trailer": "x-amz-checksum-crc32"})
    err = h.assert_s3_error(r, 400, "MalformedTrailerError")
    assert err["Message"] == ("The request contained trailing data that was not well-formed "
                              "or did not conform to our published schema.")
    old()


def test_content_sha256_mismatch(server, bucket, old):
    claimed = h.sha256_hex(b"a different body")
    r = raw_put(server, bucket, "victim", HELLO, payload_hash=claimed)
    err = h.assert_s3_error(r, 400, "XAmzContentSHA256Mismatch")
    assert err["Message"] == "The provided 'x-amz-content-sha256' header does not match what was computed."
    assert err["ClientComputedContentSHA256"] == claimed
    assert err["S3ComputedContentSHA256"] == h.sha256_hex(HELLO)
    old()


def test_boto3_explicit_wrong_checksum_is_bad_digest(s3, bucket, old):
    # botocore keeps a checksum value the caller supplies and only fills in missing ones.
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="victim", Body=HELLO, ChecksumSHA256=checksum("sha256", b"x"))
    err = assert_client_error(ei, "BadDigest", 400)
    assert err["Error"]["Message"] == "The SHA256 you specified did not match the calculated checksum."
    old()


# -- stored checksum, x-amz-checksum-mode ------------------------------------------------------

def test_no_checksum_sent_stores_crc64nvme(server, s3, bucket):
    body = os.urandom(100_000)
    r = raw_put(server, bucket, "plain", body)
    assert r.status == 200, r.data
    want = checksum("crc64nvme", body)
    assert checksum_headers_of(r) == {"x-amz-checksum-crc64nvme": want, "x-amz-checksum-type": "FULL_OBJECT"}
    hd = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert hd["ChecksumCRC64NVME"] == want
    assert hd["ChecksumType"] == "FULL_OBJECT"
    # an empty object too
    r = raw_put(server, bucket, "empty", b"")
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-crc64nvme"] == "AAAAAAAAAAA="
    g = s3.get_object(Bucket=bucket, Key="empty", ChecksumMode="ENABLED")
    assert g["ChecksumCRC64NVME"] == "AAAAAAAAAAA="
    assert g["Body"].read() == b""


def test_checksum_returned_only_when_asked_and_only_for_whole_object(server, bucket):
    body = os.urandom(5000)
    value = checksum("sha256", body)
    assert raw_put(server, bucket, "k", body, {"x-amz-checksum-sha256": value}).status == 200
    want = {"x-amz-checksum-sha256": value, "x-amz-checksum-type": "FULL_OBJECT"}
    for method in ("GET", "HEAD"):
        plain = raw_get(server, bucket, "k", method=method)
        assert plain.status == 200
        assert checksum_headers_of(plain) == {}, method
        asked = raw_get(server, bucket, "k", {"x-amz-checksum-mode": "ENABLED"}, method=method)
        assert asked.status == 200
        assert checksum_headers_of(asked) == want, method
        ranged = raw_get(server, bucket, "k", {"x-amz-checksum-mode": "ENABLED", "Range": "bytes=10-99"},
                         method=method)
        assert ranged.status == 206
        assert checksum_headers_of(ranged) == {}, method
    assert raw_get(server, bucket, "k", {"x-amz-checksum-mode": "ENABLED"}).data == body


def test_boto3_ranged_get_with_checksum_mode(s3, bucket):
    body = os.urandom(4096)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=100-199", ChecksumMode="ENABLED")
    assert g["Body"].read() == body[100:200]
    assert "ChecksumCRC32" not in g and "ChecksumType" not in g


def test_copy_object_keeps_or_changes_the_algorithm(s3, bucket):
    body = os.urandom(30_000)
    s3.put_object(Bucket=bucket, Key="src", Body=body, ChecksumAlgorithm="SHA1")
    c = s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "src"})
    assert c["CopyObjectResult"]["ChecksumSHA1"] == checksum("sha1", body)
    assert "ChecksumCRC64NVME" not in c["CopyObjectResult"]
    hd = s3.head_object(Bucket=bucket, Key="same", ChecksumMode="ENABLED")
    assert (hd["ChecksumSHA1"], hd["ChecksumType"]) == (checksum("sha1", body), "FULL_OBJECT")

    c = s3.copy_object(Bucket=bucket, Key="other", CopySource={"Bucket": bucket, "Key": "src"},
                       ChecksumAlgorithm="CRC32C")
    assert c["CopyObjectResult"]["ChecksumCRC32C"] == checksum("crc32c", body)
    assert "ChecksumSHA1" not in c["CopyObjectResult"]
    g = s3.get_object(Bucket=bucket, Key="other", ChecksumMode="ENABLED")
    assert g["ChecksumCRC32C"] == checksum("crc32c", body)
    assert g["Body"].read() == body

    # a source stored without any client checksum (CRC64NVME) copies as CRC64NVME
    quiet = make_client(s3.meta.endpoint_url, request_checksum_calculation="when_required")
    r = quiet.put_object(Bucket=bucket, Key="nvme", Body=body)
    assert "ChecksumCRC32" not in r
    assert r["ChecksumCRC64NVME"] == checksum("crc64nvme", body)
    c = s3.copy_object(Bucket=bucket, Key="nvme-copy", CopySource={"Bucket": bucket, "Key": "nvme"})
    assert c["CopyObjectResult"]["ChecksumCRC64NVME"] == checksum("crc64nvme", body)
    assert c["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"


# -- XML bodies -------------------------------------------------------------------------------

LOCATION_XML = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")


@pytest.mark.parametrize("header,value,code", [
    ("Content-MD5", b64(hashlib.md5(b"another document").digest()), "BadDigest"),
    ("Content-MD5", "MTIz", "InvalidDigest"),
    ("x-amz-checksum-crc32", checksum("crc32", b"another document"), "BadDigest"),
])
def test_create_bucket_body_digest_is_checked(server, s3, header, value, code):
    name = unique_bucket_name("xml")
    url = h.url_for(server.url, name)
    hdrs = h.sign_v4("PUT", url, {header: value}, LOCATION_XML)
    r = h.send("PUT", url, hdrs, LOCATION_XML)
    h.assert_s3_error(r, 400, code)
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert_client_error(ei, None, 404)


def _delete_xml(keys) -> bytes:
    objs = "".join(f"<Object><Key>{k}</Key></Object>" for k in keys)
    return f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{objs}</Delete>'.encode()


def test_delete_objects_requires_and_checks_a_digest(server, s3, bucket):
    for k in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    body = _delete_xml(["a", "b"])
    url = h.url_for(server.url, bucket, params={"delete": ""})

    r = h.send("POST", url, h.sign_v4("POST", url, {}, body), body)
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "Missing required header for this request: Content-MD5"

    wrong = {"Content-MD5": b64(hashlib.md5(body + b" ").digest())}
    r = h.send("POST", url, h.sign_v4("POST", url, wrong, body), body)
    h.assert_s3_error(r, 400, "BadDigest")

    wrong = {"x-amz-checksum-sha256": checksum("sha256", body + b" ")}
    r = h.send("POST", url, h.sign_v4("POST", url, wrong, body), body)
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The SHA256 you specified did not match the calculated checksum."
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["a", "b"]

    good = {"x-amz-checksum-crc32": checksum("crc32", body)}
    r = h.send("POST", url, h.sign_v4("POST", url, good, body), body)
    assert r.status == 200, r.data
    assert h.findall_text(h.xml_root(r.data), "Deleted/Key") == ["a", "b"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    s3.put_object(Bucket=bucket, Key="c", Body=b"c")
    good = {"Content-MD5": b64(hashlib.md5(_delete_xml(["c"])).digest())}
    r = h.send("POST", url, h.sign_v4("POST", url, good, _delete_xml(["c"])), _delete_xml(["c"]))
    assert r.status == 200, r.data
    s3.put_object(Bucket=bucket, Key="d", Body=b"d")
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d"}]})   # boto3 default: CRC32
    assert [d["Key"] for d in res["Deleted"]] == ["d"]


# -- default-settings clients ------------------------------------------------------------------

SIZES = [0, 1, 65535, 65536, 65537, 20 * 1024 * 1024]
SIZE_IDS = ["0B", "1B", "64KiB-1", "64KiB", "64KiB+1", "20MiB"]


@pytest.fixture(scope="module")
def bodies():
    cache: dict[int, bytes] = {}

    def get(n: int) -> bytes:
        if n not in cache:
            cache[n] = os.urandom(n)
        return cache[n]

    return get


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_boto3_default_put_get(s3, bucket, bodies, size):
    data = bodies(size)
    put = s3.put_object(Bucket=bucket, Key="obj", Body=data)
    # botocore 1.36+ over http: x-amz-checksum-crc32 + signed sha256, no aws-chunked
    assert put["ChecksumCRC32"] == checksum("crc32", data)
    assert put["ChecksumType"] == "FULL_OBJECT"
    assert put["ETag"] == '"' + h.md5_hex(data) + '"'
    g = s3.get_object(Bucket=bucket, Key="obj")   # sends x-amz-checksum-mode: ENABLED by default
    assert g["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc32") == checksum("crc32", data)
    got = g["Body"].read()
    assert len(got) == size and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


ALG_CASES = [(a, n) for a in ALGS for n in (0, 65537)] + [(a, 20 * 1024 * 1024) for a in ("crc32c", "crc64nvme")]


@pytest.mark.parametrize("alg,size", ALG_CASES, ids=[f"{a}-{n}B" for a, n in ALG_CASES])
def test_boto3_checksum_algorithm_put_get(s3, bucket, bodies, alg, size):
    if alg in ("crc32c", "crc64nvme"):
        crt()   # botocore needs awscrt for these
    data = bodies(size)
    want = checksum(alg, data)
    put = s3.put_object(Bucket=bucket, Key=f"alg/{alg}", Body=data, ChecksumAlgorithm=alg.upper())
    assert put[BOTO_KEY[alg]] == want
    assert put["ChecksumType"] == "FULL_OBJECT"
    g = s3.get_object(Bucket=bucket, Key=f"alg/{alg}", ChecksumMode="ENABLED")
    assert g[BOTO_KEY[alg]] == want and g["ChecksumType"] == "FULL_OBJECT"
    got = g["Body"].read()   # botocore validates `want` against what it read
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    hd = s3.head_object(Bucket=bucket, Key=f"alg/{alg}", ChecksumMode="ENABLED")
    assert hd[BOTO_KEY[alg]] == want


def test_boto3_upload_fileobj_default(s3, bucket, bodies, tmp_path):
    data = bodies(65537)
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    s3.upload_file(str(p), bucket, "file")
    out = tmp_path / "back.bin"
    s3.download_file(bucket, "file", str(out))
    assert out.read_bytes() == data


def _cli_ok(res):
    assert res.rc == 0, res
    return res


@pytest.fixture(scope="module")
def cli_bucket(server):
    """One bucket for the CLI tests (created with boto3: each CLI start costs a second)."""
    s3 = server.client()
    name = unique_bucket_name("clisum")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def _same(path, data: bytes) -> bool:
    return hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_aws_cli_s3_cp_every_small_size(aws_cli, s3, cli_bucket, bodies, tmp_path):
    """`aws s3 cp` (≤ 8 MiB: single PutObject, CRC32 by default) up and down, one CLI run each way."""
    up = tmp_path / "up"
    up.mkdir()
    for size, name in zip(SIZES[:5], SIZE_IDS[:5]):
        (up / f"{name}.bin").write_bytes(bodies(size))
    _cli_ok(aws_cli("s3", "cp", "--recursive", str(up), f"s3://{cli_bucket}/cp/"))
    for size, name in zip(SIZES[:5], SIZE_IDS[:5]):
        hd = s3.head_object(Bucket=cli_bucket, Key=f"cp/{name}.bin", ChecksumMode="ENABLED")
        assert hd["ContentLength"] == size
        assert hd["ChecksumCRC32"] == checksum("crc32", bodies(size)), name
        assert hd["ETag"] == '"' + h.md5_hex(bodies(size)) + '"'
    down = tmp_path / "down"
    _cli_ok(aws_cli("s3", "cp", "--recursive", f"s3://{cli_bucket}/cp/", str(down)))
    for size, name in zip(SIZES[:5], SIZE_IDS[:5]):
        assert _same(down / f"{name}.bin", bodies(size)), name


def test_aws_cli_s3api_put_object_every_size(aws_cli, s3, cli_bucket, bodies, tmp_path):
    """`aws s3api put-object` of every size (20 MiB too: no multipart), then downloads with
    `aws s3 cp --recursive` (ranged GETs for the 20 MiB object) and `s3api get-object`."""
    for size, name in zip(SIZES, SIZE_IDS):
        src = tmp_path / f"{name}.bin"
        src.write_bytes(bodies(size))
        r = _cli_ok(aws_cli("s3api", "put-object", "--bucket", cli_bucket, "--key", f"api/{name}.bin",
                            "--body", str(src)))
        out = json.loads(r.stdout)
        assert out["ETag"] == '"' + h.md5_hex(bodies(size)) + '"', name
        assert out["ChecksumCRC32"] == checksum("crc32", bodies(size)), name
    down = tmp_path / "down"
    _cli_ok(aws_cli("s3", "cp", "--recursive", f"s3://{cli_bucket}/api/", str(down)))
    for size, name in zip(SIZES, SIZE_IDS):
        assert _same(down / f"{name}.bin", bodies(size)), name
    big = tmp_path / "big.bin"
    r = _cli_ok(aws_cli("s3api", "get-object", "--bucket", cli_bucket, "--key", "api/20MiB.bin",
                        "--checksum-mode", "ENABLED", str(big)))
    assert json.loads(r.stdout)["ChecksumCRC32"] == checksum("crc32", bodies(SIZES[-1]))
    assert _same(big, bodies(SIZES[-1]))


def test_aws_cli_s3api_checksum_algorithm_sha256(aws_cli, s3, cli_bucket, tmp_path):
    data = os.urandom(100_001)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    r = _cli_ok(aws_cli("s3api", "put-object", "--bucket", cli_bucket, "--key", "sha.bin", "--body", str(src),
                        "--checksum-algorithm", "SHA256"))
    assert json.loads(r.stdout)["ChecksumSHA256"] == checksum("sha256", data)
    hd = s3.head_object(Bucket=cli_bucket, Key="sha.bin", ChecksumMode="ENABLED")
    assert hd["ChecksumSHA256"] == checksum("sha256", data)
