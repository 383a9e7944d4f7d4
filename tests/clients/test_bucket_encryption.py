"""Bucket default encryption (issue 6): PutBucketEncryption / GetBucketEncryption /
DeleteBucketEncryption through boto3, raw SigV4 HTTP and the aws CLI; the rule applied to
PutObject and CopyObject (checked on the response, on HEAD and in the data dir's metadata);
BlockedEncryptionTypes (SSE-C blocked on new buckets); the server switches
--allow-ssec-by-default, --legacy-encryption-not-found and --kms-auto-create.

Reference: shared/docs/s3-encryption-reference.md §1 (API, validation order §1.4, GET §1.5,
DELETE §1.6) and §2.2 (which encryption an object gets).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
import zlib
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import s3helpers as h
from conftest import ALICE, DEFAULT_ACCOUNT, assert_client_error, empty_and_delete, unique_bucket_name

REGION = "us-east-1"
KMS_ID = "bucketenc-key-1"
KMS_UUID = "3e1f6a52-8c0d-4b7e-9f21-0a1b2c3d4e5f"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MANAGED_ARN_RE = rf"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/{UUID_RE}"

SSE = "x-amz-server-side-encryption"
SSE_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS_ATTR = f'xmlns="{h.S3_NS}"'
MSG_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
MSG_KMS_WITH_AES = (
    "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
)


def arn(key_id: str, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:kms:{REGION}:{account}:key/{key_id}"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_b64(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def crc32_b64(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def unique_body(tag: str) -> bytes:
    return f"{tag}:{uuid.uuid4().hex}".encode() * 37


# -- configuration documents ---------------------------------------------------------------------

def config(alg: str, key: str | None = None, bucket_key: bool | None = None,
           blocked: list[str] | None = None) -> dict:
    """A boto3 ServerSideEncryptionConfiguration."""
    apply = {"SSEAlgorithm": alg}
    if key is not None:
        apply["KMSMasterKeyID"] = key
    rule: dict = {"ApplyServerSideEncryptionByDefault": apply}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    if blocked is not None:
        rule["BlockedEncryptionTypes"] = {"EncryptionType": blocked}
    return {"Rules": [rule]}


def expected_view(alg: str, key: str | None = None, bucket_key: bool = False,
                  blocked: list[str] | None = None) -> dict:
    """What boto3's get_bucket_encryption returns for that stored rule."""
    apply = {"SSEAlgorithm": alg}
    if key is not None:
        apply["KMSMasterKeyID"] = key
    rule: dict = {"ApplyServerSideEncryptionByDefault": apply, "BucketKeyEnabled": bucket_key}
    if blocked:
        rule["BlockedEncryptionTypes"] = {"EncryptionType": blocked}
    return {"Rules": [rule]}


DEFAULT_VIEW = expected_view("AES256", blocked=["SSE-C"])
DEFAULT_VIEW_UNBLOCKED = expected_view("AES256")


def expected_xml(alg: str, key: str | None = None, bucket_key: bool = False,
                 blocked: list[str] | None = None) -> bytes:
    """GetBucketEncryption's exact body (S3 order: Apply…, BucketKeyEnabled, BlockedEncryptionTypes)."""
    k = f"<KMSMasterKeyID>{key}</KMSMasterKeyID>" if key is not None else ""
    b = ""
    if blocked:
        b = "<BlockedEncryptionTypes>" + "".join(
            f"<EncryptionType>{t}</EncryptionType>" for t in blocked) + "</BlockedEncryptionTypes>"
    return (
        f"{XML_DECL}<ServerSideEncryptionConfiguration {NS_ATTR}><Rule><ApplyServerSideEncryptionByDefault>"
        f"<SSEAlgorithm>{alg}</SSEAlgorithm>{k}</ApplyServerSideEncryptionByDefault>"
        f"<BucketKeyEnabled>{'true' if bucket_key else 'false'}</BucketKeyEnabled>{b}</Rule>"
        f"</ServerSideEncryptionConfiguration>"
    ).encode()


def doc(rule_inner: str) -> bytes:
    """A request document with ``rule_inner`` inside the root element."""
    return f"<ServerSideEncryptionConfiguration {NS_ATTR}>{rule_inner}</ServerSideEncryptionConfiguration>".encode()


def apply_doc(apply_inner: str, after: str = "") -> bytes:
    return doc(f"<Rule><ApplyServerSideEncryptionByDefault>{apply_inner}</ApplyServerSideEncryptionByDefault>"
               f"{after}</Rule>")


AES_DOC = apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>")


def get_view(client, bucket: str, **kw) -> dict:
    r = client.get_bucket_encryption(Bucket=bucket, **kw)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    return r["ServerSideEncryptionConfiguration"]


# -- raw requests --------------------------------------------------------------------------------

# The server may answer an error before it reads the request body and then close the connection
# without saying so (no `Connection: close`); a pooled connection would then fail the next request.
# Raw requests therefore never reuse connections.
NO_REUSE = {"Connection": "close"}


def raw_put(srv, bucket: str, body: bytes, headers: dict | None = None, *, md5: bool = True,
            access_key: str = "test", secret_key: str = "test"):
    hd = dict(NO_REUSE)
    if md5:
        hd["Content-MD5"] = md5_b64(body)
    hd.update(headers or {})
    url = h.url_for(srv.url, bucket, params={"encryption": ""})
    sig = h.sign_v4("PUT", url, hd, body, access_key=access_key, secret_key=secret_key)
    return h.send("PUT", url, sig, body)


def raw_get(srv, bucket: str, headers: dict | None = None):
    return h.signed("GET", h.url_for(srv.url, bucket, params={"encryption": ""}), {**NO_REUSE, **(headers or {})})


def raw_xml(srv, bucket: str) -> bytes:
    r = raw_get(srv, bucket)
    assert r.status == 200, r.data
    assert r.headers.get("Content-Type", "").startswith("application/xml"), dict(r.headers)
    return r.data


# -- what was stored -----------------------------------------------------------------------------

def object_records(data_dir, bucket: str, key: str) -> list[dict]:
    """Every copy of the object record of bucket/key in meta.redb (old pages may hold older copies).
    Records no longer hold their ETag in the clear (issue 18 item 8: it is sealed), so they are found
    by their table key: redb's leaf pages (type 1) hold `type, pad, u16 count, u32 key ends, u32
    value ends, keys, values` (little-endian, offsets from the page start, 4 KiB-aligned pages)."""
    raw = (data_dir / "meta.redb").read_bytes()
    want = bucket.encode() + b"\0" + key.encode()
    out = []
    for start in range(0, len(raw) - 4, 4096):
        if raw[start] != 1:
            continue
        n = int.from_bytes(raw[start + 2:start + 4], "little")
        head = start + 4 + 8 * n
        if n == 0 or head > len(raw):
            continue
        ends = [int.from_bytes(raw[start + 4 + 4 * i:start + 8 + 4 * i], "little") for i in range(2 * n)]
        key_ends, value_ends = ends[:n], ends[n:]
        bounds = [head - start] + key_ends + value_ends
        if bounds != sorted(bounds) or start + bounds[-1] > len(raw):
            continue
        for i in range(n):
            k = raw[start + (key_ends[i - 1] if i else head - start):start + key_ends[i]]
            if k != want:
                continue
            v0 = value_ends[i - 1] if i else key_ends[-1]
            try:
                out.append(json.loads(raw[start + v0:start + value_ends[i]]))
            except ValueError:
                pass
    return out


def assert_sealed(data_dir, bucket: str, key: str, kind: str, bucket_key: bool | None = None):
    recs = [r for r in object_records(data_dir, bucket, key) if isinstance(r, dict) and "encryption" in r]
    assert recs, f"no metadata record of {bucket}/{key} in meta.redb"
    kinds = {next(iter(r["encryption"])) for r in recs}
    assert kinds == {kind}, f"sealed key kind {kinds}, expected {kind}"
    if bucket_key is not None:
        assert all(r["encryption"]["SseKms"]["bucket_key"] is bucket_key for r in recs), recs


def sse_of(resp) -> dict:
    return {k: v for k, v in resp["ResponseMetadata"]["HTTPHeaders"].items() if k.startswith(SSE)}


def ssec_args(key: bytes, prefix: str = "SSECustomer") -> dict:
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": key}


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def esrv(server_factory):
    """On-disk server (its meta.redb is inspected) with alice and two declared KMS keys."""
    srv = server_factory.start("--user", ":".join(ALICE), "--kms-key", KMS_ID, "--kms-key", KMS_UUID)
    yield srv
    if srv.alive():
        srv.stop()


@pytest.fixture(scope="module")
def ec(esrv):
    return esrv.client()


@pytest.fixture(scope="module")
def ealice(esrv):
    return esrv.client(ALICE[0], ALICE[1])


@pytest.fixture
def eb(ec):
    name = unique_bucket_name("benc")
    ec.create_bucket(Bucket=name)
    yield name
    empty_and_delete(ec, name)


# == GET: the default document and the stored rule ================================================

def test_never_configured_bucket_reports_sse_s3_with_ssec_blocked(esrv, ec, eb):
    assert get_view(ec, eb) == DEFAULT_VIEW
    # Byte-exact body: declaration, namespace, element order.
    assert raw_xml(esrv, eb) == expected_xml("AES256", blocked=["SSE-C"])


@pytest.mark.parametrize("cfg,view", [
    (config("AES256"), expected_view("AES256", blocked=["SSE-C"])),
    (config("AES256", bucket_key=True), expected_view("AES256", bucket_key=True, blocked=["SSE-C"])),
    (config("aws:kms"), expected_view("aws:kms", blocked=["SSE-C"])),
    (config("aws:kms", KMS_ID, bucket_key=True), expected_view("aws:kms", KMS_ID, True, ["SSE-C"])),
    (config("aws:kms", arn(KMS_UUID), bucket_key=False), expected_view("aws:kms", arn(KMS_UUID), False, ["SSE-C"])),
    (config("aws:kms", "alias/my-key"), expected_view("aws:kms", "alias/my-key", blocked=["SSE-C"])),
    (config("aws:kms:dsse", KMS_UUID), expected_view("aws:kms:dsse", KMS_UUID, blocked=["SSE-C"])),
    (config("aws:kms:dsse"), expected_view("aws:kms:dsse", blocked=["SSE-C"])),
    (config("AES256", blocked=["NONE"]), expected_view("AES256", blocked=["NONE"])),
    (config("aws:kms", KMS_ID, True, ["SSE-C"]), expected_view("aws:kms", KMS_ID, True, ["SSE-C"])),
], ids=["aes", "aes-bucketkey", "kms-managed", "kms-id-bk", "kms-arn", "kms-alias", "dsse-uuid",
        "dsse-managed", "aes-unblocked", "kms-blocked"])
def test_put_then_get_round_trips(ec, eb, cfg, view):
    r = ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_view(ec, eb) == view


def test_get_raw_bytes_of_a_kms_rule(esrv, ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config(
        "aws:kms", KMS_UUID, bucket_key=True, blocked=["NONE"]))
    assert raw_xml(esrv, eb) == expected_xml("aws:kms", KMS_UUID, True, ["NONE"])


def test_put_response_is_200_and_empty(esrv, eb):
    r = raw_put(esrv, eb, apply_doc("<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k-1</KMSMasterKeyID>",
                                   "<BucketKeyEnabled>true</BucketKeyEnabled>"))
    assert r.status == 200, r.data
    assert r.data == b""
    h.assert_request_ids(r)
    assert raw_xml(esrv, eb) == expected_xml("aws:kms", "k-1", True, ["SSE-C"])


def test_kms_key_ids_are_not_validated_and_stored_as_given(ec, eb):
    for key in ("no-such-key", "alias/nope", arn("ffffffff-0000-4000-8000-000000000000"),
                "arn:aws:kms:eu-west-3:999999999999:key/whatever"):
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", key))
        assert get_view(ec, eb) == expected_view("aws:kms", key, blocked=["SSE-C"]), key


CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"


def captured_put_bodies() -> list[tuple[str, bytes, str]]:
    """(file name, body, recorded CRC32) of every captured PutBucketEncryption request."""
    out = []
    for f in sorted(CAPTURES.glob("*put-bucket-encryption*PutBucketEncryption.txt")):
        text = f.read_text("utf-8")
        body = text.split("--- text (CR/LF shown as \\r \\n) ---\n", 1)[1].split("\n", 1)[0].encode()
        crc = re.search(r"^body crc32 \(base64\): (\S+)$", text, re.M).group(1)
        out.append((f.name, body, crc))
    return out


def test_captured_botocore_bodies_are_accepted(esrv, eb):
    """Every captured boto3/aws-cli body, with the integrity headers botocore sends (CRC32 only)."""
    cases = captured_put_bodies()
    assert len(cases) >= 8, [c[0] for c in cases]
    for name, body, crc in cases:
        assert crc32_b64(body) == crc, name
        r = raw_put(esrv, eb, body, {"x-amz-checksum-crc32": crc, "x-amz-sdk-checksum-algorithm": "CRC32"},
                    md5=False)
        assert r.status == 200, (name, r.data)
        root = h.xml_root(body)
        alg = h.findall_text(root, "Rule/ApplyServerSideEncryptionByDefault/SSEAlgorithm")[0]
        key = (h.findall_text(root, "Rule/ApplyServerSideEncryptionByDefault/KMSMasterKeyID") or [None])[0]
        bk = h.findall_text(root, "Rule/BucketKeyEnabled") == ["true"]
        # No capture unblocks SSE-C: the bucket stays blocked as created.
        assert raw_xml(esrv, eb) == expected_xml(alg, key, bk, ["SSE-C"]), name


# == DELETE ===============================================================================

def test_delete_resets_to_default_and_is_idempotent(esrv, ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    assert get_view(ec, eb) == expected_view("aws:kms", KMS_ID, True, ["NONE"])
    for _ in range(2):
        r = ec.delete_bucket_encryption(Bucket=eb)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
        # Back to the default, including SSE-C blocked again (the bucket was created blocked).
        assert get_view(ec, eb) == DEFAULT_VIEW
    raw = h.signed("DELETE", h.url_for(esrv.url, eb, params={"encryption": ""}), dict(NO_REUSE))
    assert raw.status == 204 and raw.data == b""
    assert raw_xml(esrv, eb) == expected_xml("AES256", blocked=["SSE-C"])
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c", Body=b"x", **ssec_args(b"k" * 32))
    assert_client_error(ei, "AccessDenied", 403)


def test_configuration_survives_restart_and_disappears_with_the_bucket(server_factory):
    data_dir = server_factory.new_dir("benc-restart")
    srv = server_factory.start("--kms-key", KMS_ID, data_dir=data_dir)
    c = srv.client()
    b = unique_bucket_name("persist")
    c.create_bucket(Bucket=b)
    c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    before = raw_xml(srv, b)
    assert before == expected_xml("aws:kms", KMS_ID, True, ["NONE"])
    assert srv.stop() == 0
    srv = server_factory.start("--kms-key", KMS_ID, data_dir=data_dir)
    c = srv.client()
    assert raw_xml(srv, b) == before
    p = c.put_object(Bucket=b, Key="after-restart", Body=b"after")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
    c.put_object(Bucket=b, Key="ssec", Body=b"ssec", **ssec_args(b"r" * 32))  # still unblocked
    empty_and_delete(c, b)
    with pytest.raises(ClientError) as ei:
        c.get_bucket_encryption(Bucket=b)
    assert_client_error(ei, "NoSuchBucket", 404)
    c.create_bucket(Bucket=b)
    assert get_view(c, b) == DEFAULT_VIEW
    assert sse_of(c.put_object(Bucket=b, Key="fresh", Body=b"fresh")) == {SSE: "AES256"}
    empty_and_delete(c, b)
    srv.stop()


# == errors through boto3 ====================================================================

def test_missing_bucket_is_404_for_all_three(ec):
    name = unique_bucket_name("missing")
    for call in (
        lambda: ec.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=config("AES256")),
        lambda: ec.get_bucket_encryption(Bucket=name),
        lambda: ec.delete_bucket_encryption(Bucket=name),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        err = assert_client_error(ei, "NoSuchBucket", 404)
        assert err["Error"]["BucketName"] == name


def test_expected_bucket_owner(ec, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", "prev"),
                             ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert get_view(ec, eb, ExpectedBucketOwner=DEFAULT_ACCOUNT) == expected_view("aws:kms", "prev",
                                                                                   blocked=["SSE-C"])
    for call in (
        lambda: ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"),
                                         ExpectedBucketOwner=ALICE[2]),
        lambda: ec.get_bucket_encryption(Bucket=eb, ExpectedBucketOwner=ALICE[2]),
        lambda: ec.delete_bucket_encryption(Bucket=eb, ExpectedBucketOwner=ALICE[2]),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    assert get_view(ec, eb) == expected_view("aws:kms", "prev", blocked=["SSE-C"])
    r = ec.delete_bucket_encryption(Bucket=eb, ExpectedBucketOwner=DEFAULT_ACCOUNT)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert get_view(ec, eb) == DEFAULT_VIEW


def test_another_accounts_bucket_is_403(ec, ealice, eb):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", "prev"))
    for call in (
        lambda: ealice.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256",
                                                                                                  blocked=["NONE"])),
        lambda: ealice.get_bucket_encryption(Bucket=eb),
        lambda: ealice.delete_bucket_encryption(Bucket=eb),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        assert_client_error(ei, "AccessDenied", 403)
    assert get_view(ec, eb) == expected_view("aws:kms", "prev", blocked=["SSE-C"])


@pytest.mark.parametrize("cfg,code", [
    (config("AES256", key=KMS_ID), "InvalidArgument"),
    (config("AES512"), "MalformedXML"),
    (config("AES256", blocked=["SSE-KMS"]), "MalformedXML"),
    ({"Rules": [{"BucketKeyEnabled": True}]}, "MalformedXML"),
    ({"Rules": config("AES256")["Rules"] + config("aws:kms")["Rules"]}, "MalformedXML"),
], ids=["kms-with-aes", "unknown-alg", "blocked-sse-kms", "no-apply", "two-rules"])
def test_invalid_configurations_through_boto3(ec, eb, cfg, code):
    prev = config("aws:kms:dsse", "prev-key", blocked=["NONE"])
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=prev)
    with pytest.raises(ClientError) as ei:
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
    err = assert_client_error(ei, code, 400)
    if code == "InvalidArgument":
        assert err["Error"]["Message"] == MSG_KMS_WITH_AES
        assert err["Error"]["ArgumentName"] == "ApplyServerSideEncryptionByDefault"
    else:
        assert err["Error"]["Message"] == MSG_MALFORMED
    assert get_view(ec, eb) == expected_view("aws:kms:dsse", "prev-key", blocked=["NONE"])


# == raw HTTP: one request per validation error, in S3's order =====================================

PREV = config("aws:kms", "prev-key-id", bucket_key=True, blocked=["NONE"])
PREV_XML = expected_xml("aws:kms", "prev-key-id", True, ["NONE"])

GOOD = AES_DOC
TWO_ALGS = apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>aws:kms</SSEAlgorithm>")
KMS_WITH_AES = apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>some-key</KMSMasterKeyID>")
BLOCK_SSEC = "<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes>"

MALFORMED = {
    "not-xml": b"this is not xml",
    "truncated": GOOD[:-10],
    "wrong-root": b"<EncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
                  b"<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                  b"</ApplyServerSideEncryptionByDefault></Rule></EncryptionConfiguration>",
    "zero-rules": doc(""),
    "two-rules": doc("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                     "</ApplyServerSideEncryptionByDefault></Rule>" * 2),
    "rule-without-apply": doc("<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"),
    "empty-apply": apply_doc(""),
    "missing-algorithm": apply_doc("<KMSMasterKeyID>k</KMSMasterKeyID>"),
    "unknown-algorithm": apply_doc("<SSEAlgorithm>AES512</SSEAlgorithm>"),
    "lowercase-algorithm": apply_doc("<SSEAlgorithm>aes256</SSEAlgorithm>"),
    "two-algorithms": TWO_ALGS,
    "unknown-element-in-apply": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm><Bogus>1</Bogus>"),
    "unknown-element-in-rule": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>", "<Bogus>1</Bogus>"),
    "unknown-element-in-root": doc("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                                   "</ApplyServerSideEncryptionByDefault></Rule><Bogus/>"),
    "encryption-type-sse-kms": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>",
                                         "<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType>"
                                         "</BlockedEncryptionTypes>"),
    "bad-bucket-key": apply_doc("<SSEAlgorithm>AES256</SSEAlgorithm>", "<BucketKeyEnabled>maybe</BucketKeyEnabled>"),
    # MalformedXML is decided before the AES256 + KMSMasterKeyID InvalidArgument.
    "kms-with-aes-and-unknown-element": apply_doc(
        "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID><Bogus/>"),
}


@pytest.fixture
def prev_bucket(esrv, ec, eb):
    """A bucket with a known non-default configuration (SSE-C unblocked)."""
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=PREV)
    assert raw_xml(esrv, eb) == PREV_XML
    return eb


def assert_raw_error(resp, status: int, code: str, message: str | None = None, **fields) -> dict:
    err = h.assert_s3_error(resp, status, code)
    if message is not None:
        assert err["Message"] == message, err
    for k, v in fields.items():
        assert err.get(k) == v, (k, err)
    return err


def test_raw_tampered_content_md5(esrv, prev_bucket):
    body = GOOD
    r = raw_put(esrv, prev_bucket, body, {"Content-MD5": md5_b64(body + b" ")}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    # A body changed after its MD5 was computed.
    r = raw_put(esrv, prev_bucket, body.replace(b"AES256", b"AES257"), {"Content-MD5": md5_b64(body)}, md5=False)
    assert_raw_error(r, 400, "BadDigest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


@pytest.mark.parametrize("value", ["__invalid__", "MTIz", "dGVzdC1zdHJpbmc="])
def test_raw_malformed_content_md5(esrv, prev_bucket, value):
    # Checked from the header alone: even a malformed body gets InvalidDigest.
    r = raw_put(esrv, prev_bucket, b"not xml", {"Content-MD5": value}, md5=False)
    assert_raw_error(r, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.", **{"Content-MD5": value})
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_missing_checksum(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, GOOD, md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    # Even a malformed or empty body: integrity comes first.
    r = raw_put(esrv, prev_bucket, b"<nope", md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    r = raw_put(esrv, prev_bucket, b"", md5=False)
    assert_raw_error(r, 400, "InvalidRequest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_sdk_checksum_algorithm_without_checksum(esrv, prev_bucket):
    for md5 in (False, True):
        r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-sdk-checksum-algorithm": "CRC32"}, md5=md5)
        assert_raw_error(r, 400, "InvalidRequest",
                         "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
                         "x-amz-trailer headers were found.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_checksum_mismatch(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-checksum-crc32": crc32_b64(GOOD + b"x"),
                                          "x-amz-sdk-checksum-algorithm": "CRC32"}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")
    sha = b64(hashlib.sha256(b"other").digest())
    r = raw_put(esrv, prev_bucket, GOOD, {"x-amz-checksum-sha256": sha}, md5=False)
    assert_raw_error(r, 400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_checksum_alone_is_enough(esrv, prev_bucket):
    body = apply_doc("<SSEAlgorithm>aws:kms:dsse</SSEAlgorithm>")
    r = raw_put(esrv, prev_bucket, body, {"x-amz-checksum-sha256": b64(hashlib.sha256(body).digest())}, md5=False)
    assert r.status == 200, r.data
    # No BlockedEncryptionTypes in the request: the bucket's NONE stays.
    assert raw_xml(esrv, prev_bucket) == expected_xml("aws:kms:dsse", blocked=["NONE"])


def test_raw_empty_body(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, b"")
    assert_raw_error(r, 400, "MissingRequestBodyError", "Request body is empty.")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_raw_malformed_xml(esrv, prev_bucket, case):
    r = raw_put(esrv, prev_bucket, MALFORMED[case])
    assert_raw_error(r, 400, "MalformedXML", MSG_MALFORMED)
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_two_sse_algorithms(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, TWO_ALGS)
    assert_raw_error(r, 400, "MalformedXML", MSG_MALFORMED)
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_kms_key_with_aes256(esrv, prev_bucket):
    r = raw_put(esrv, prev_bucket, KMS_WITH_AES)
    assert_raw_error(r, 400, "InvalidArgument", MSG_KMS_WITH_AES,
                     ArgumentName="ApplyServerSideEncryptionByDefault")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_wrong_expected_owner(esrv, prev_bucket):
    # Owner before integrity: a tampered Content-MD5 and bad body still get AccessDenied.
    for body, headers in ((GOOD, {}), (b"not xml", {"Content-MD5": "__invalid__"})):
        r = raw_put(esrv, prev_bucket, body, {"x-amz-expected-bucket-owner": ALICE[2], **headers},
                    md5="Content-MD5" not in headers)
        assert_raw_error(r, 403, "AccessDenied")
    r = raw_get(esrv, prev_bucket, {"x-amz-expected-bucket-owner": "123456789012"})
    assert_raw_error(r, 403, "AccessDenied")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_another_accounts_bucket(esrv, prev_bucket):
    for body in (GOOD, b"not xml"):
        r = raw_put(esrv, prev_bucket, body, access_key=ALICE[0], secret_key=ALICE[1])
        assert_raw_error(r, 403, "AccessDenied")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


def test_raw_missing_bucket_before_anything_else(esrv):
    name = unique_bucket_name("missing")
    for body, headers, md5 in (
        (GOOD, {}, True),
        (b"not xml", {}, True),
        (b"not xml", {"Content-MD5": "__invalid__"}, False),
        (GOOD, {}, False),
        (KMS_WITH_AES, {}, True),
    ):
        r = raw_put(esrv, name, body, headers, md5=md5)
        assert_raw_error(r, 404, "NoSuchBucket", "The specified bucket does not exist", BucketName=name)


def test_raw_validation_order_between_integrity_and_xml(esrv, prev_bucket):
    # Digest errors beat XML errors; MalformedXML beats InvalidArgument.
    r = raw_put(esrv, prev_bucket, KMS_WITH_AES, {"Content-MD5": md5_b64(b"x")}, md5=False)
    assert_raw_error(r, 400, "BadDigest")
    r = raw_put(esrv, prev_bucket, TWO_ALGS, {"Content-MD5": "MTIz"}, md5=False)
    assert_raw_error(r, 400, "InvalidDigest")
    assert raw_xml(esrv, prev_bucket) == PREV_XML


# == BlockedEncryptionTypes ==================================================================

def test_ssec_blocked_on_new_buckets_then_unblocked_then_reblocked(esrv, ec, eb):
    key = b"K" * 32
    src_plain = unique_body("plain")
    ec.put_object(Bucket=eb, Key="plain", Body=src_plain)
    # New bucket: SSE-C writes refused (PutObject and CopyObject destination); nothing stored.
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="c2", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    for k in ("c1", "c2"):
        with pytest.raises(ClientError) as ei:
            ec.head_object(Bucket=eb, Key=k)
        assert_client_error(ei, None, 404)
    # A rule without BlockedEncryptionTypes keeps SSE-C blocked.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"))
    assert get_view(ec, eb) == DEFAULT_VIEW
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    # NONE unblocks.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256", blocked=["NONE"]))
    assert get_view(ec, eb) == expected_view("AES256", blocked=["NONE"])
    p = ec.put_object(Bucket=eb, Key="c1", Body=b"secret", **ssec_args(key))
    assert p["SSECustomerAlgorithm"] == "AES256" and "ServerSideEncryption" not in p
    assert_sealed(esrv.data_dir, eb, "c1", "SseC")
    cp = ec.copy_object(Bucket=eb, Key="c2", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert cp["SSECustomerAlgorithm"] == "AES256"
    assert_sealed(esrv.data_dir, eb, "c2", "SseC")
    # A later rule without BlockedEncryptionTypes keeps it unblocked.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID))
    assert get_view(ec, eb) == expected_view("aws:kms", KMS_ID, blocked=["NONE"])
    ec.put_object(Bucket=eb, Key="c3", Body=b"third", **ssec_args(key))
    # Re-block: new SSE-C writes refused again; existing SSE-C objects stay readable and listed.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256", blocked=["SSE-C"]))
    assert get_view(ec, eb) == DEFAULT_VIEW
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="c4", Body=b"x", **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="c4", CopySource={"Bucket": eb, "Key": "plain"}, **ssec_args(key))
    assert_client_error(ei, "AccessDenied", 403)
    g = ec.get_object(Bucket=eb, Key="c1", **ssec_args(key))
    assert g["Body"].read() == b"secret" and g["SSECustomerAlgorithm"] == "AES256"
    assert ec.get_object(Bucket=eb, Key="c2", **ssec_args(key))["Body"].read() == src_plain
    hd = ec.head_object(Bucket=eb, Key="c3", **ssec_args(key))
    assert hd["ContentLength"] == 5 and hd["SSECustomerAlgorithm"] == "AES256"
    keys = [o["Key"] for o in ec.list_objects_v2(Bucket=eb)["Contents"]]
    assert keys == ["c1", "c2", "c3", "plain"]
    # Copying an SSE-C source (read with its key) to a plain destination is allowed: it gets the rule.
    cp = ec.copy_object(Bucket=eb, Key="from-ssec", CopySource={"Bucket": eb, "Key": "c1"},
                        **ssec_args(key, "CopySourceSSECustomer"))
    assert sse_of(cp) == {SSE: "AES256"}
    assert ec.get_object(Bucket=eb, Key="from-ssec")["Body"].read() == b"secret"
    # Plain writes were never affected.
    assert sse_of(ec.put_object(Bucket=eb, Key="plain2", Body=b"p")) == {SSE: "AES256"}


# == the rule applied to writes ==============================================================

RULES = {
    # name: (config, expected SSE response headers (None key: the aws/s3 key), sealed kind, bucket key)
    "aes256": (config("AES256"), "AES256", None, False, "SseS3"),
    "aes256-bucketkey-ignored": (config("AES256", bucket_key=True), "AES256", None, False, "SseS3"),
    "kms-id": (config("aws:kms", KMS_ID), "aws:kms", arn(KMS_ID), False, "SseKms"),
    "kms-arn-bucketkey": (config("aws:kms", arn(KMS_UUID), bucket_key=True), "aws:kms", arn(KMS_UUID), True,
                          "SseKms"),
    "kms-managed": (config("aws:kms"), "aws:kms", "managed", False, "SseKms"),
    "kms-managed-bucketkey": (config("aws:kms", bucket_key=True), "aws:kms", "managed", True, "SseKms"),
    "dsse-id": (config("aws:kms:dsse", KMS_UUID), "aws:kms:dsse", arn(KMS_UUID), False, "Dsse"),
    "dsse-managed": (config("aws:kms:dsse"), "aws:kms:dsse", "managed", False, "Dsse"),
}


@pytest.fixture(scope="module")
def managed_arn(ec):
    """The account's aws/s3 key ARN, learnt from an explicit SSE-KMS write without a key."""
    b = unique_bucket_name("managed")
    ec.create_bucket(Bucket=b)
    try:
        p = ec.put_object(Bucket=b, Key="m", Body=b"m", ServerSideEncryption="aws:kms")
        key_arn = p["SSEKMSKeyId"]
    finally:
        empty_and_delete(ec, b)
    assert re.fullmatch(MANAGED_ARN_RE, key_arn), key_arn
    return key_arn


@pytest.mark.parametrize("name", list(RULES))
def test_rule_applies_to_put_and_copy(esrv, ec, eb, managed_arn, name):
    cfg, alg, key_arn, bucket_key, kind = RULES[name]
    if key_arn == "managed":
        key_arn = managed_arn
    want = {SSE: alg}
    if key_arn:
        want[SSE_KEY_ID] = key_arn
    if bucket_key:
        want[SSE_BUCKET_KEY] = "true"
    # A source written before the rule (SSE-S3 by default), in another bucket.
    src_bucket = unique_bucket_name("src")
    ec.create_bucket(Bucket=src_bucket)
    try:
        src_body = unique_body("src-" + name)
        ec.put_object(Bucket=src_bucket, Key="src", Body=src_body)
        ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
        body = unique_body(name)
        p = ec.put_object(Bucket=eb, Key="put", Body=body)
        assert sse_of(p) == want
        assert p.get("BucketKeyEnabled") is (True if bucket_key else None)
        cp = ec.copy_object(Bucket=eb, Key="copy", CopySource={"Bucket": src_bucket, "Key": "src"})
        assert sse_of(cp) == want
        for k, data, etag in (("put", body, p["ETag"]), ("copy", src_body, cp["CopyObjectResult"]["ETag"])):
            hd = ec.head_object(Bucket=eb, Key=k)
            assert sse_of(hd) == want, k
            assert hd["ETag"] == etag
            assert ec.get_object(Bucket=eb, Key=k)["Body"].read() == data
            assert_sealed(esrv.data_dir, eb, k, kind, bucket_key if kind == "SseKms" else None)
    finally:
        empty_and_delete(ec, src_bucket)


def test_request_sse_headers_override_the_rule(esrv, ec, eb, managed_arn):
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("aws:kms", KMS_ID, True, ["NONE"]))
    ec.put_object(Bucket=eb, Key="src", Body=b"source")
    p = ec.put_object(Bucket=eb, Key="aes", Body=unique_body("aes"), ServerSideEncryption="AES256")
    assert sse_of(p) == {SSE: "AES256"}
    assert_sealed(esrv.data_dir, eb, "aes", "SseS3")
    cp = ec.copy_object(Bucket=eb, Key="aes-copy", CopySource={"Bucket": eb, "Key": "src"},
                        ServerSideEncryption="AES256")
    assert sse_of(cp) == {SSE: "AES256"}
    p = ec.put_object(Bucket=eb, Key="other-kms", Body=unique_body("k"), ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_UUID, BucketKeyEnabled=False)
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID)}
    assert_sealed(esrv.data_dir, eb, "other-kms", "SseKms", bucket_key=False)
    # The bucket's BucketKeyEnabled applies when the request leaves the header out (§2.2 item 4).
    p = ec.put_object(Bucket=eb, Key="other-kms-bk", Body=unique_body("k2"), ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=KMS_UUID)
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_UUID), SSE_BUCKET_KEY: "true"}
    p = ec.put_object(Bucket=eb, Key="dsse", Body=unique_body("d"), ServerSideEncryption="aws:kms:dsse",
                      SSEKMSKeyId=KMS_UUID)
    assert sse_of(p) == {SSE: "aws:kms:dsse", SSE_KEY_ID: arn(KMS_UUID)}
    assert_sealed(esrv.data_dir, eb, "dsse", "Dsse")
    key = b"S" * 32
    p = ec.put_object(Bucket=eb, Key="ssec", Body=unique_body("c"), **ssec_args(key))
    assert "ServerSideEncryption" not in p and p["SSECustomerKeyMD5"] == md5_b64(key)
    assert_sealed(esrv.data_dir, eb, "ssec", "SseC")
    hd = ec.head_object(Bucket=eb, Key="ssec", **ssec_args(key))
    assert "ServerSideEncryption" not in hd
    # A rule of AES256 and an explicit aws:kms without a key: the aws/s3 key.
    ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config("AES256"))
    p = ec.put_object(Bucket=eb, Key="managed", Body=b"m", ServerSideEncryption="aws:kms")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: managed_arn}


def test_changing_the_rule_affects_only_new_objects(esrv, ec, eb, managed_arn):
    bodies = {}
    steps = [
        ("a", None, {SSE: "AES256"}, "SseS3"),
        ("b", config("aws:kms", KMS_ID, True), {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"},
         "SseKms"),
        ("c", config("aws:kms:dsse"), {SSE: "aws:kms:dsse", SSE_KEY_ID: managed_arn}, "Dsse"),
        ("d", config("AES256"), {SSE: "AES256"}, "SseS3"),
    ]
    for k, cfg, _, _ in steps:
        if cfg is not None:
            ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=cfg)
        bodies[k] = unique_body(k)
        ec.put_object(Bucket=eb, Key=k, Body=bodies[k])
    ec.delete_bucket_encryption(Bucket=eb)
    bodies["e"] = unique_body("e")
    ec.put_object(Bucket=eb, Key="e", Body=bodies["e"])
    steps.append(("e", None, {SSE: "AES256"}, "SseS3"))
    for k, _, want, kind in steps:
        hd = ec.head_object(Bucket=eb, Key=k)
        assert sse_of(hd) == want, k
        assert_sealed(esrv.data_dir, eb, k, kind)
        g = ec.get_object(Bucket=eb, Key=k)
        assert g["Body"].read() == bodies[k] and sse_of(g) == want, k


@pytest.mark.parametrize("alg", ["aws:kms", "aws:kms:dsse"])
def test_rule_with_nonexistent_kms_key_fails_at_write_time(ec, eb, alg):
    ec.put_object(Bucket=eb, Key="src", Body=b"src")
    r = ec.put_bucket_encryption(Bucket=eb, ServerSideEncryptionConfiguration=config(alg, "fake-key-id"))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_view(ec, eb) == expected_view(alg, "fake-key-id", blocked=["SSE-C"])
    with pytest.raises(ClientError) as ei:
        ec.put_object(Bucket=eb, Key="k", Body=b"x")
    err = assert_client_error(ei, "KMS.NotFoundException", 400)
    assert err["Error"]["Message"] == "Invalid keyId 'fake-key-id'"
    with pytest.raises(ClientError) as ei:
        ec.copy_object(Bucket=eb, Key="k", CopySource={"Bucket": eb, "Key": "src"})
    assert_client_error(ei, "KMS.NotFoundException", 400)
    with pytest.raises(ClientError) as ei:
        ec.head_object(Bucket=eb, Key="k")
    assert_client_error(ei, None, 404)
    # The source (written before the rule) is untouched and readable.
    assert sse_of(ec.head_object(Bucket=eb, Key="src")) == {SSE: "AES256"}
    assert ec.get_object(Bucket=eb, Key="src")["Body"].read() == b"src"


# == server switches ======================================================================

def test_kms_auto_create_makes_the_rules_key(server_factory):
    srv = server_factory.start("--kms-auto-create", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("auto")
        c.create_bucket(Bucket=b)
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", "auto-rule-key", True))
        p = c.put_object(Bucket=b, Key="k", Body=b"auto")
        assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn("auto-rule-key"), SSE_BUCKET_KEY: "true"}
        assert c.get_object(Bucket=b, Key="k")["Body"].read() == b"auto"
        assert get_view(c, b) == expected_view("aws:kms", "auto-rule-key", True, ["SSE-C"])
    finally:
        srv.stop()


def test_allow_ssec_by_default(server_factory):
    srv = server_factory.start("--allow-ssec-by-default", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("allow")
        c.create_bucket(Bucket=b)
        assert get_view(c, b) == DEFAULT_VIEW_UNBLOCKED
        assert raw_xml(srv, b) == expected_xml("AES256")
        key = b"A" * 32
        c.put_object(Bucket=b, Key="c1", Body=b"one", **ssec_args(key))
        # Blocking works on such a bucket too; DELETE returns to its creation default (allowed).
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("AES256", blocked=["SSE-C"]))
        assert get_view(c, b) == DEFAULT_VIEW
        with pytest.raises(ClientError) as ei:
            c.put_object(Bucket=b, Key="c2", Body=b"two", **ssec_args(key))
        assert_client_error(ei, "AccessDenied", 403)
        assert c.get_object(Bucket=b, Key="c1", **ssec_args(key))["Body"].read() == b"one"
        assert c.delete_bucket_encryption(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert get_view(c, b) == DEFAULT_VIEW_UNBLOCKED
        c.put_object(Bucket=b, Key="c2", Body=b"two", **ssec_args(key))
    finally:
        srv.stop()


def test_legacy_encryption_not_found(server_factory):
    srv = server_factory.start("--legacy-encryption-not-found", memory=True)
    try:
        c = srv.client()
        b = unique_bucket_name("legacy")
        c.create_bucket(Bucket=b)
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=b)
        assert_client_error(ei, "ServerSideEncryptionConfigurationNotFoundError", 404)
        r = raw_get(srv, b)
        assert_raw_error(r, 404, "ServerSideEncryptionConfigurationNotFoundError", BucketName=b)
        # Objects are still SSE-S3 without a rule.
        assert sse_of(c.put_object(Bucket=b, Key="k", Body=b"k")) == {SSE: "AES256"}
        c.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration=config("aws:kms", "legacy-key"))
        assert get_view(c, b) == expected_view("aws:kms", "legacy-key", blocked=["SSE-C"])
        assert c.delete_bucket_encryption(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=b)
        assert_client_error(ei, "ServerSideEncryptionConfigurationNotFoundError", 404)
        # A missing bucket is still NoSuchBucket.
        with pytest.raises(ClientError) as ei:
            c.get_bucket_encryption(Bucket=unique_bucket_name("gone"))
        assert_client_error(ei, "NoSuchBucket", 404)
    finally:
        srv.stop()


# == aws CLI ==============================================================================

def test_aws_cli_put_get_delete(esrv, ec, eb, aws_cli, tmp_path):
    cfg = config("aws:kms", KMS_ID, True, ["NONE"])
    f = tmp_path / "enc.json"
    f.write_text(json.dumps(cfg))
    r = aws_cli("s3api", "put-bucket-encryption", "--bucket", eb,
                "--server-side-encryption-configuration", f"file://{f}", srv=esrv)
    assert r.rc == 0, r
    assert r.stdout.strip() == ""
    r = aws_cli("s3api", "get-bucket-encryption", "--bucket", eb, srv=esrv)
    assert r.rc == 0, r
    assert json.loads(r.stdout) == {"ServerSideEncryptionConfiguration": expected_view("aws:kms", KMS_ID, True,
                                                                                      ["NONE"])}
    p = ec.put_object(Bucket=eb, Key="via-rule", Body=b"cli rule")
    assert sse_of(p) == {SSE: "aws:kms", SSE_KEY_ID: arn(KMS_ID), SSE_BUCKET_KEY: "true"}
    r = aws_cli("s3api", "delete-bucket-encryption", "--bucket", eb, srv=esrv)
    assert r.rc == 0, r
    assert get_view(ec, eb) == DEFAULT_VIEW
    # A refused configuration: the CLI fails with S3's code and nothing changes.
    f.write_text(json.dumps(config("AES256", key=KMS_ID)))
    r = aws_cli("s3api", "put-bucket-encryption", "--bucket", eb,
                "--server-side-encryption-configuration", f"file://{f}", srv=esrv)
    assert r.rc != 0 and "(InvalidArgument)" in r.stderr, r
    assert get_view(ec, eb) == DEFAULT_VIEW
