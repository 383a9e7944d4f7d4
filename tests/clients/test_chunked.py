"""aws-chunked request bodies (issue 4): signed chunks (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``),
signed chunks with a signed trailer (``...-PAYLOAD-TRAILER``) and unsigned chunks with a trailer
(``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, what botocore sends over HTTPS).

The request head is signed with botocore's SigV4 signer with the payload hash forced to the
``STREAMING-*`` literal; the chunk and trailer signatures are computed here (the signer is checked
against AWS's published streaming example first).  Every refused upload is checked to have left the
previous object under its key untouched.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import hmac
import os
import re
import socket
import zlib

import pytest

import s3helpers as h

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
OLD = b"the previous version of this object\n"
SIG_RE = re.compile(r"Signature=([0-9a-f]{64})")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class ChunkSigner:
    """The aws-chunked signature chain (reference §4.3), seeded by the request's signature."""

    def __init__(self, secret: str, amz_date: str, region: str, seed: str):
        day = amz_date[:8]
        key = _hmac(("AWS4" + secret).encode(), day)
        for part in (region, "s3", "aws4_request"):
            key = _hmac(key, part)
        self.key, self.amz_date, self.seed = key, amz_date, seed
        self.scope = f"{day}/{region}/s3/aws4_request"

    def chunk(self, previous: str, data: bytes) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous,
                         EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def trailer(self, previous: str, canonical: bytes) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, previous,
                         hashlib.sha256(canonical).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()


def flip(sig: str) -> str:
    """The same signature with its first hex digit changed."""
    return ("1" if sig[0] != "1" else "2") + sig[1:]


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def frame(chunks: list[bytes], signer: ChunkSigner | None = None, *, trailers=None,
          sign_trailer: bool = False, bad_chunk_sig: int | None = None, bad_trailer_sig: bool = False,
          final: bool = True) -> bytes:
    """aws-chunked body of ``chunks`` plus the final 0-byte chunk (unless ``final`` is False),
    then ``trailers`` [(name, value)] and, with ``sign_trailer``, ``x-amz-trailer-signature``.
    ``bad_chunk_sig``: index (0-based, the final chunk is ``len(chunks)``) of a chunk whose sent
    signature is wrong (the chain goes on from the right one)."""
    out = bytearray()
    prev = signer.seed if signer else ""
    seq = list(chunks) + ([b""] if final else [])
    for i, data in enumerate(seq):
        if signer:
            sig = signer.chunk(prev, data)
            sent = flip(sig) if i == bad_chunk_sig else sig
            out += f"{len(data):x};chunk-signature={sent}\r\n".encode()
            prev = sig
        else:
            out += f"{len(data):x}\r\n".encode()
        if i < len(chunks):
            out += data + b"\r\n"
    if not final:
        return bytes(out)
    canonical = b""
    for name, value in trailers or []:
        out += f"{name}:{value}\r\n".encode()
        canonical += f"{name}:{value}\n".encode()
    if sign_trailer:
        tsig = signer.trailer(prev, canonical)
        out += f"x-amz-trailer-signature:{flip(tsig) if bad_trailer_sig else tsig}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def sign_streaming(method: str, url: str, headers: dict, mode: str, *, access_key="test",
                   secret_key="test", region="us-east-1", when=None):
    """Signed headers of a streaming request and the ChunkSigner its signature seeds."""
    hdrs = h.sign_v4(method, url, headers, b"", payload_hash=mode, access_key=access_key,
                     secret_key=secret_key, region=region, when=when)
    assert hdrs["X-Amz-Content-SHA256"] == mode
    seed = SIG_RE.search(hdrs["Authorization"]).group(1)
    return hdrs, ChunkSigner(secret_key, hdrs["X-Amz-Date"], region, seed)


# -- the signer against AWS's published streaming example (reference §7) ----------------------

AWS_AK, AWS_SK = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_WHEN = datetime.datetime(2013, 5, 24, tzinfo=datetime.timezone.utc)
AWS_URL = "https://s3.amazonaws.com/examplebucket/chunkObject.txt"
AWS_CHUNKS = [b"a" * 65536, b"a" * 1024]


def test_signer_reproduces_the_published_streaming_example():
    headers = {"x-amz-storage-class": "REDUCED_REDUNDANCY", "Content-Encoding": "aws-chunked",
               "Content-Length": "66824", "x-amz-decoded-content-length": "66560"}
    hdrs, signer = sign_streaming("PUT", AWS_URL, headers, SIGNED, access_key=AWS_AK, secret_key=AWS_SK,
                                  when=AWS_WHEN)
    assert signer.seed == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    s1 = signer.chunk(signer.seed, AWS_CHUNKS[0])
    s2 = signer.chunk(s1, AWS_CHUNKS[1])
    s3 = signer.chunk(s2, b"")
    assert (s1, s2, s3) == ("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
    assert len(frame(AWS_CHUNKS, signer)) == 66824


def test_signer_reproduces_the_published_trailer_example():
    headers = {"x-amz-storage-class": "REDUCED_REDUNDANCY", "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": "66560", "x-amz-trailer": "x-amz-checksum-crc32c"}
    _, signer = sign_streaming("PUT", AWS_URL, headers, SIGNED_TRAILER, access_key=AWS_AK,
                               secret_key=AWS_SK, when=AWS_WHEN)
    assert signer.seed == "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    s1 = signer.chunk(signer.seed, AWS_CHUNKS[0])
    s2 = signer.chunk(s1, AWS_CHUNKS[1])
    s3 = signer.chunk(s2, b"")
    assert s3 == "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
    assert signer.trailer(s3, b"x-amz-checksum-crc32c:sOO8/Q==\n") == \
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    body = frame(AWS_CHUNKS, signer, trailers=[("x-amz-checksum-crc32c", "sOO8/Q==")], sign_trailer=True)
    assert body.endswith(b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
                         b"\r\n\r\n")


# -- requests against the server ----------------------------------------------------------------

class Upload:
    """One aws-chunked PutObject: builds the signed head and the framed body."""

    def __init__(self, server, bucket, key, mode, *, decoded_length: int, trailer: str | None = None,
                 content_encoding="aws-chunked", transfer="length", framed_length: int | None = None,
                 extra: dict | None = None, drop: tuple = ()):
        self.url = h.url_for(server.url, bucket, key)
        self.transfer = transfer
        headers = {"Content-Encoding": content_encoding, "x-amz-decoded-content-length": str(decoded_length)}
        if trailer:
            headers["x-amz-trailer"] = trailer
        if transfer == "length":
            assert framed_length is not None
            headers["Content-Length"] = str(framed_length)
        headers.update(extra or {})
        for name in drop:
            headers.pop(name, None)
        self.headers, self.signer = sign_streaming("PUT", self.url, headers, mode)
        if mode == UNSIGNED_TRAILER:
            self.signer = None

    def send(self, body: bytes, pieces: int | None = None):
        if self.transfer == "chunked":
            step = pieces or 65536
            gen = (body[i:i + step] for i in range(0, len(body), step))
            return h.send("PUT", self.url, self.headers, gen, chunked=True)
        return h.send("PUT", self.url, self.headers, body)


def put_chunked(server, bucket, key, chunks, mode, *, trailer_alg=None, trailer_value=None,
                transfer="length", content_encoding="aws-chunked", decoded_length=None, extra=None,
                drop=(), **frame_kw):
    """Frames ``chunks`` for ``mode`` and sends them; returns the urllib3 response."""
    data = b"".join(chunks)
    trailer = f"x-amz-checksum-{trailer_alg}" if trailer_alg else None
    trailers = frame_kw.pop("trailers", None)
    if trailers is None and trailer:
        trailers = [(trailer, trailer_value if trailer_value is not None else crc32_b64(data))]

    def build(signer):
        return frame(chunks, signer, trailers=trailers, sign_trailer=(mode == SIGNED_TRAILER), **frame_kw)

    # The framed length does not depend on the signature values, only on their presence.
    dummy = ChunkSigner("x", "20000101T000000Z", "us-east-1", "0" * 64) if mode != UNSIGNED_TRAILER else None
    length = len(build(dummy))
    up = Upload(server, bucket, key, mode, decoded_length=len(data) if decoded_length is None else decoded_length,
                trailer=trailer, content_encoding=content_encoding, transfer=transfer,
                framed_length=length if transfer == "length" else None, extra=extra, drop=drop)
    body = build(up.signer)
    assert len(body) == length
    return up.send(body)


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
        assert "ContentEncoding" not in g


@pytest.fixture
def old(server, s3, bucket):
    return OldObject(server, s3, bucket)


def sizes(*ns):
    return [os.urandom(n) for n in ns]


def assert_stored(s3, bucket, key, data, content_encoding=None):
    g = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    got = g["Body"].read()
    assert len(got) == len(data) and got == data
    assert g.get("ContentEncoding") == content_encoding
    assert g["ETag"] == '"' + h.md5_hex(data) + '"'
    return g


# -- valid uploads -----------------------------------------------------------------------------

@pytest.mark.parametrize("transfer", ["length", "chunked"])
def test_signed_chunks(server, s3, bucket, transfer):
    chunks = sizes(65536, 8192, 100_000, 123)
    r = put_chunked(server, bucket, "signed", chunks, SIGNED, transfer=transfer)
    assert r.status == 200, r.data
    data = b"".join(chunks)
    assert r.headers["ETag"] == '"' + h.md5_hex(data) + '"'
    assert_stored(s3, bucket, "signed", data)


@pytest.mark.parametrize("transfer", ["length", "chunked"])
def test_signed_chunks_with_signed_trailer(server, s3, bucket, transfer):
    chunks = sizes(8192, 70_000, 5)
    data = b"".join(chunks)
    r = put_chunked(server, bucket, "trailer", chunks, SIGNED_TRAILER, trailer_alg="crc32", transfer=transfer,
                    extra={"x-amz-sdk-checksum-algorithm": "CRC32"})
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-crc32"] == crc32_b64(data)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    g = assert_stored(s3, bucket, "trailer", data)
    assert g["ChecksumCRC32"] == crc32_b64(data)


def test_signed_trailer_crc32c_value_is_stored(server, s3, bucket):
    # the published example's body and trailer value, under our own credentials and time
    r = put_chunked(server, bucket, "c", AWS_CHUNKS, SIGNED_TRAILER, trailer_alg="crc32c",
                    trailer_value="sOO8/Q==")
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-crc32c"] == "sOO8/Q=="
    g = assert_stored(s3, bucket, "c", b"a" * 66560)
    assert g["ChecksumCRC32C"] == "sOO8/Q=="


@pytest.mark.parametrize("transfer", ["length", "chunked"])
def test_unsigned_chunks_with_trailer_like_botocore(server, s3, bucket, transfer):
    chunks = sizes(1 << 20, 1 << 20, 1000)   # botocore frames 1 MiB chunks
    data = b"".join(chunks)
    r = put_chunked(server, bucket, "unsigned", chunks, UNSIGNED_TRAILER, trailer_alg="crc32", transfer=transfer,
                    extra={"x-amz-sdk-checksum-algorithm": "CRC32"})
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-crc32"] == crc32_b64(data)
    g = assert_stored(s3, bucket, "unsigned", data)
    assert g["ChecksumCRC32"] == crc32_b64(data)


def test_unsigned_trailer_captured_body(server, s3, bucket):
    """The exact 53-byte body botocore sent over HTTPS in the captures (https/…put-object-plain)."""
    body = b"c\r\nhello world\n\r\n0\r\nx-amz-checksum-crc32:rwg7LQ==\r\n\r\n"
    up = Upload(server, bucket, "captured", UNSIGNED_TRAILER, decoded_length=12, trailer="x-amz-checksum-crc32",
                transfer="chunked", extra={"x-amz-sdk-checksum-algorithm": "CRC32"})
    r = up.send(body)
    assert r.status == 200, r.data
    g = assert_stored(s3, bucket, "captured", b"hello world\n")
    assert g["ChecksumCRC32"] == "rwg7LQ=="


def test_empty_object_signed_and_unsigned(server, s3, bucket):
    r = put_chunked(server, bucket, "e1", [], SIGNED)
    assert r.status == 200, r.data
    assert_stored(s3, bucket, "e1", b"")
    r = put_chunked(server, bucket, "e2", [], UNSIGNED_TRAILER, trailer_alg="crc32")
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-crc32"] == "AAAAAA=="
    assert_stored(s3, bucket, "e2", b"")


def test_content_encoding_drops_aws_chunked_and_keeps_the_rest(server, s3, bucket):
    payload = gzip.compress(os.urandom(20_000))
    r = put_chunked(server, bucket, "gz", [payload[:10_000], payload[10_000:]], SIGNED,
                    content_encoding="aws-chunked,gzip")
    assert r.status == 200, r.data
    hd = s3.head_object(Bucket=bucket, Key="gz")
    assert hd["ContentEncoding"] == "gzip"
    assert hd["ContentLength"] == len(payload)
    g = s3.get_object(Bucket=bucket, Key="gz")
    assert g["ContentEncoding"] == "gzip"
    assert g["Body"].read() == payload   # stored as sent: botocore does not decode gzip
    r = put_chunked(server, bucket, "plain", [b"x" * 10], SIGNED)
    assert r.status == 200, r.data
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key="plain")


def test_chunk_headers_split_across_tiny_writes(server, s3, bucket):
    """Every byte boundary: the body goes out as HTTP chunks of 1..7 bytes (each one a separate
    read for the server's aws-chunked decoder), and once more over a raw socket in 3-byte writes."""
    chunks = sizes(8192, 8192, 17)
    data = b"".join(chunks)
    trailers = [("x-amz-checksum-crc32", crc32_b64(data))]
    up = Upload(server, bucket, "tiny", SIGNED_TRAILER, decoded_length=len(data), trailer="x-amz-checksum-crc32",
                transfer="chunked")
    body = frame(chunks, up.signer, trailers=trailers, sign_trailer=True)

    def pieces():
        i, n = 0, 1
        while i < len(body):
            yield body[i:i + n]
            i += n
            n = n % 7 + 1

    r = h.send("PUT", up.url, up.headers, pieces(), chunked=True)
    assert r.status == 200, r.data
    assert_stored(s3, bucket, "tiny", data)

    chunks = sizes(9000, 3000)
    data = b"".join(chunks)
    length = len(frame(chunks, ChunkSigner("x", "20000101T000000Z", "us-east-1", "0" * 64)))
    up = Upload(server, bucket, "tiny-socket", SIGNED, decoded_length=len(data), framed_length=length)
    body = frame(chunks, up.signer)
    status, resp = raw_socket_put(server, up.url, up.headers, body, step=3)
    assert status == 200, resp
    assert_stored(s3, bucket, "tiny-socket", data)


def raw_socket_put(server, url, headers, body: bytes, step: int):
    path = url[len(server.url):]
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head.encode())
        for i in range(0, len(body), step):
            sock.sendall(body[i:i + step])
        resp = b""
        while True:
            got = sock.recv(65536)
            if not got:
                break
            resp += got
    status = int(resp.split(b" ", 2)[1])
    return status, resp


# -- refused uploads: nothing is stored -------------------------------------------------------------

def test_bad_chunk_signature(server, bucket, old):
    for bad in (0, 1, 2):   # first chunk, second chunk, the final 0-byte chunk
        r = put_chunked(server, bucket, "victim", sizes(8192, 100), SIGNED, bad_chunk_sig=bad)
        h.assert_s3_error(r, 403, "SignatureDoesNotMatch")
        old()


def test_bad_chunk_signature_with_trailer(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(10_000, 10), SIGNED_TRAILER, trailer_alg="crc32",
                    bad_chunk_sig=1)
    h.assert_s3_error(r, 403, "SignatureDoesNotMatch")
    old()


def test_bad_trailer_signature(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(10_000, 10), SIGNED_TRAILER, trailer_alg="crc32",
                    bad_trailer_sig=True)
    h.assert_s3_error(r, 403, "SignatureDoesNotMatch")
    old()


def test_signature_of_other_credentials_is_refused(server, bucket, old):
    chunks = sizes(9000)
    data = b"".join(chunks)
    up = Upload(server, bucket, "victim", SIGNED, decoded_length=len(data),
                framed_length=len(frame(chunks, ChunkSigner("x", "20000101T000000Z", "us-east-1", "0" * 64))))
    wrong = ChunkSigner("not-the-secret", up.signer.amz_date, "us-east-1", up.signer.seed)
    h.assert_s3_error(up.send(frame(chunks, wrong)), 403, "SignatureDoesNotMatch")
    old()


@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_bad_trailer_checksum(server, bucket, old, mode):
    r = put_chunked(server, bucket, "victim", sizes(9000, 10), mode, trailer_alg="crc32",
                    trailer_value=crc32_b64(b"something else"))
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The CRC32 you specified did not match the calculated checksum."
    old()


@pytest.mark.parametrize("mode", [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER])
@pytest.mark.parametrize("delta", [+100, -100], ids=["declared-longer", "declared-shorter"])
def test_decoded_length_mismatch_is_incomplete_body(server, bucket, old, mode, delta):
    chunks = sizes(9000, 500)
    alg = None if mode == SIGNED else "crc32"
    r = put_chunked(server, bucket, "victim", chunks, mode, trailer_alg=alg, decoded_length=9500 + delta)
    h.assert_s3_error(r, 400, "IncompleteBody")
    old()


@pytest.mark.parametrize("mode", [SIGNED, UNSIGNED_TRAILER])
def test_missing_final_chunk_is_incomplete_body(server, bucket, old, mode):
    alg = None if mode == SIGNED else "crc32"
    r = put_chunked(server, bucket, "victim", sizes(9000, 500), mode, trailer_alg=alg, final=False)
    h.assert_s3_error(r, 400, "IncompleteBody")
    old()


def test_body_cut_inside_a_chunk_is_incomplete_body(server, bucket, old):
    chunks = sizes(9000, 500)
    up = Upload(server, bucket, "victim", SIGNED, decoded_length=9500, transfer="chunked")
    body = frame(chunks, up.signer)
    h.assert_s3_error(up.send(body[:5000]), 400, "IncompleteBody")
    old()


@pytest.mark.parametrize("mode", [SIGNED, UNSIGNED_TRAILER])
def test_malformed_chunk_header_is_invalid_request(server, bucket, old, mode):
    up = Upload(server, bucket, "victim", mode, decoded_length=10, transfer="chunked",
                trailer=None if mode == SIGNED else "x-amz-checksum-crc32")
    h.assert_s3_error(up.send(b"zz\r\n0123456789\r\n0\r\n\r\n"), 400, "InvalidRequest")
    old()


def test_chunk_data_longer_than_its_size_is_invalid_request(server, bucket, old):
    up = Upload(server, bucket, "victim", UNSIGNED_TRAILER, decoded_length=10, transfer="chunked",
                trailer="x-amz-checksum-crc32")
    body = b"a\r\n0123456789XX\r\n0\r\nx-amz-checksum-crc32:" + crc32_b64(b"0123456789").encode() + b"\r\n\r\n"
    h.assert_s3_error(up.send(body), 400, "InvalidRequest")
    old()


def test_small_signed_chunk_before_the_last_is_invalid_chunk_size(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(8192, 4000, 8192, 10), SIGNED)
    err = h.assert_s3_error(r, 400, "InvalidChunkSizeError")
    assert err["Message"] == "Only the last chunk is allowed to have a size less than 8192 bytes"
    assert (err["Chunk"], err["BadChunkSize"]) == ("2", "4000")
    old()


@pytest.mark.parametrize("terminated", [True, False])
def test_chunk_header_over_4kib_is_invalid_request(server, bucket, old, terminated):
    # a chunk extension of 5000 bytes: with its CRLF, or (unbounded) without one
    header = b"10;chunk-signature=" + b"a" * 5000 + (b"\r\n" if terminated else b"")
    up = Upload(server, bucket, "victim", SIGNED, decoded_length=16, transfer="length",
                framed_length=len(header) + 24)
    h.assert_s3_error(up.send(header + b"0" * 24), 400, "InvalidRequest")
    old()


def test_missing_decoded_content_length(server, bucket, old):
    chunks = sizes(9000)
    up = Upload(server, bucket, "victim", SIGNED, decoded_length=9000, transfer="chunked",
                drop=("x-amz-decoded-content-length",))
    assert "x-amz-decoded-content-length" not in {k.lower() for k in up.headers}
    err = h.assert_s3_error(up.send(frame(chunks, up.signer)), 411, "MissingContentLength")
    assert err["Message"] == "You must provide the Content-Length HTTP header."
    old()


def test_declared_trailer_missing_unsigned(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(9000), UNSIGNED_TRAILER, trailer_alg="crc32", trailers=[])
    h.assert_s3_error(r, 400, "MalformedTrailerError")
    old()


def test_declared_trailer_missing_signed(server, bucket, old):
    # only a (valid) trailer signature over no trailers at all
    r = put_chunked(server, bucket, "victim", sizes(9000), SIGNED_TRAILER, trailer_alg="crc32", trailers=[])
    h.assert_s3_error(r, 400, "MalformedTrailerError")
    old()


def test_trailer_of_another_algorithm_than_declared(server, bucket, old):
    data = os.urandom(9000)
    r = put_chunked(server, bucket, "victim", [data], UNSIGNED_TRAILER, trailer_alg="crc32",
                    trailers=[("x-amz-checksum-sha1", base64.b64encode(hashlib.sha1(data).digest()).decode())])
    h.assert_s3_error(r, 400, "MalformedTrailerError")
    old()


def test_malformed_trailer_value_is_invalid_request(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(9000), UNSIGNED_TRAILER, trailer_alg="crc32",
                    trailer_value="@@@")
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "Value for x-amz-checksum-crc32 trailing header is invalid."
    old()


def test_trailer_header_and_checksum_header_together(server, bucket, old):
    data = os.urandom(9000)
    r = put_chunked(server, bucket, "victim", [data], UNSIGNED_TRAILER, trailer_alg="crc32",
                    extra={"x-amz-checksum-crc32": crc32_b64(data)})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "Expecting a single x-amz-checksum- header"
    old()


def test_unsupported_trailer_name(server, bucket, old):
    r = put_chunked(server, bucket, "victim", sizes(100), UNSIGNED_TRAILER, trailer_alg="crc32",
                    extra={"x-amz-trailer": "x-amz-foo"})
    err = h.assert_s3_error(r, 400, "InvalidRequest")
    assert err["Message"] == "The value specified in the x-amz-trailer header is not supported"
    old()


def test_content_md5_is_checked_on_the_decoded_payload(server, s3, bucket, old):
    chunks = sizes(9000, 10)
    data = b"".join(chunks)
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    r = put_chunked(server, bucket, "md5", chunks, SIGNED, extra={"Content-MD5": good})
    assert r.status == 200, r.data
    assert_stored(s3, bucket, "md5", data)
    old.rebase()
    bad = base64.b64encode(hashlib.md5(data + b"!").digest()).decode()
    r = put_chunked(server, bucket, "victim", chunks, SIGNED, extra={"Content-MD5": bad})
    h.assert_s3_error(r, 400, "BadDigest")
    old()


def test_checksum_header_is_checked_on_the_decoded_payload(server, s3, bucket, old):
    chunks = sizes(9000, 10)
    data = b"".join(chunks)
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    r = put_chunked(server, bucket, "sha", chunks, SIGNED, extra={"x-amz-checksum-sha256": sha})
    assert r.status == 200, r.data
    assert r.headers["x-amz-checksum-sha256"] == sha
    old.rebase()
    wrong = base64.b64encode(hashlib.sha256(data[1:]).digest()).decode()
    r = put_chunked(server, bucket, "victim", chunks, SIGNED, extra={"x-amz-checksum-sha256": wrong})
    err = h.assert_s3_error(r, 400, "BadDigest")
    assert err["Message"] == "The SHA256 you specified did not match the calculated checksum."
    old()
