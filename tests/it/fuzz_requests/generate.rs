//! The random requests: method, path, query, headers, body, and the SigV4 signature of some.

use super::*;

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Printable ASCII (header values, query text).
fn ascii(rng: &mut StdRng, max: usize) -> String {
    let n = rng.random_range(0..=max);
    (0..n)
        .map(|_| rng.random_range(0x20u8..0x7f) as char)
        .collect()
}

/// Characters a request target may hold (RFC 3986 pchar, `/`, percent-encodings).
fn uri_text(rng: &mut StdRng, max: usize) -> String {
    const CHARS: &[u8] = b"abcxyzABC0123456789-._~!$&'()*+,;=:@/";
    let mut s = String::new();
    for _ in 0..rng.random_range(0..=max) {
        match rng.random_range(0..10) {
            0 => s.push_str(&format!("%{:02X}", rng.random::<u8>())),
            1 => s.push_str(pick::<&str>(
                rng,
                &["..", ".", "//", "%", "%zz", "%c3%a9", "%ff", "%00"],
            )),
            _ => s.push(*pick(rng, CHARS) as char),
        }
    }
    s
}

fn random_path(rng: &mut StdRng) -> String {
    match rng.random_range(0..8) {
        0 => "/".to_string(),
        1 => format!("/{BUCKET}"),
        2 | 3 => format!("/{BUCKET}/{}", uri_text(rng, 30)),
        4 => format!("/{BUCKET}/obj"),
        5 => format!("/{}", "k".repeat(rng.random_range(1000..1100))),
        6 => format!("/{BUCKET}/{}", "k".repeat(rng.random_range(1000..1100))),
        _ => format!("/{}", uri_text(rng, 40)),
    }
}

fn random_query(rng: &mut StdRng) -> String {
    const NAMES: &[&str] = &[
        "acl",
        "uploads",
        "uploadId",
        "partNumber",
        "versionId",
        "versions",
        "delete",
        "encryption",
        "session",
        "location",
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "max-parts",
        "max-uploads",
        "continuation-token",
        "start-after",
        "marker",
        "key-marker",
        "part-number-marker",
        "encoding-type",
        "fetch-owner",
        "max-directory-buckets",
        "cors",
        "tagging",
        "analytics",
        "x-id",
        "response-content-type",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    ];
    const VALUES: &[&str] = &[
        "",
        "1",
        "2",
        "0",
        "-1",
        "10001",
        "99999999999999999999",
        "null",
        "url",
        "/",
        "true",
        "AWS4-HMAC-SHA256",
        "test/20261125/us-east-1/s3/aws4_request",
        "20261125T120000Z",
        "604801",
        "test",
    ];
    let n = rng.random_range(0..4);
    let mut pairs = Vec::new();
    for _ in 0..n {
        let name = if rng.random_bool(0.8) {
            pick(rng, NAMES).to_string()
        } else {
            uri_text(rng, 8)
        };
        pairs.push(match rng.random_range(0..3) {
            0 => name,
            1 => format!("{name}={}", pick(rng, VALUES)),
            _ => format!("{name}={}", uri_text(rng, 12)),
        });
    }
    pairs.join("&")
}

const HEADERS: &[(&str, &[&str])] = &[
    ("content-md5", &["1B2M2Y8AsgTpgAmY7PhCfg==", "AAAA", "x"]),
    ("content-type", &["text/plain", "application/xml"]),
    (
        "range",
        &[
            "bytes=0-0",
            "bytes=5-",
            "bytes=-3",
            "bytes=9-1",
            "bytes=0-99999999999999999999",
        ],
    ),
    ("if-match", &["*", "\"abc\"", ""]),
    ("if-none-match", &["*", "\"abc\""]),
    (
        "if-modified-since",
        &["Wed, 01 Jan 2025 00:00:00 GMT", "yesterday"],
    ),
    (
        "if-unmodified-since",
        &[
            "Wed, 01 Jan 2025 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ],
    ),
    (
        "x-amz-copy-source",
        &[
            "fuzzbucket/obj",
            "/fuzzbucket/obj?versionId=null",
            "fuzzbucket/obj?versionId=x",
            "nobucket/k",
            "%ff/x",
            "b",
        ],
    ),
    (
        "x-amz-copy-source-range",
        &["bytes=0-0", "bytes=0-99999", "bytes=1-0", "x"],
    ),
    ("x-amz-copy-source-if-match", &["\"abc\"", "*"]),
    (
        "x-amz-copy-source-if-modified-since",
        &["Wed, 01 Jan 2025 00:00:00 GMT"],
    ),
    (
        "x-amz-server-side-encryption",
        &["AES256", "aws:kms", "aws:kms:dsse", "bogus"],
    ),
    (
        "x-amz-server-side-encryption-aws-kms-key-id",
        &[
            "alias/fuzz",
            "arn:aws:kms:eu-west-1:1:key/x",
            "arn:aws:kms:",
        ],
    ),
    (
        "x-amz-server-side-encryption-context",
        &["eyJhIjoiYiJ9", "W10=", "!!"],
    ),
    (
        "x-amz-server-side-encryption-bucket-key-enabled",
        &["true", "false", "maybe"],
    ),
    (
        "x-amz-server-side-encryption-customer-algorithm",
        &["AES256", "AES128"],
    ),
    (
        "x-amz-server-side-encryption-customer-key",
        &["MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "AAAA"],
    ),
    (
        "x-amz-server-side-encryption-customer-key-md5",
        &["hRasmdxgYDKV3nvbahU1MA==", "AAAA"],
    ),
    (
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
        &["AES256"],
    ),
    ("x-amz-checksum-crc32", &["AAAAAA==", "x"]),
    (
        "x-amz-checksum-sha256",
        &["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
    ),
    (
        "x-amz-checksum-algorithm",
        &["CRC32", "SHA1", "CRC64NVME", "MD5"],
    ),
    ("x-amz-checksum-type", &["COMPOSITE", "FULL_OBJECT", "x"]),
    ("x-amz-sdk-checksum-algorithm", &["CRC32", "SHA256", "x"]),
    (
        "x-amz-trailer",
        &["x-amz-checksum-crc32", "x-amz-checksum-bogus"],
    ),
    (
        "x-amz-decoded-content-length",
        &["0", "5", "-1", "99999999999999999999"],
    ),
    ("content-encoding", &["aws-chunked", "gzip"]),
    ("x-amz-acl", &["private", "public-read", "bogus"]),
    ("x-amz-meta-fuzz", &["value"]),
    ("x-amz-checksum-mode", &["ENABLED"]),
    ("x-amz-expected-bucket-owner", &["000000000000", "1"]),
    ("x-amz-mp-object-size", &["0", "x"]),
    ("x-amz-s3session-token", &["abc.def", "."]),
    ("x-amz-date", &["20261125T120000Z", "garbage"]),
    ("date", &["Wed, 25 Nov 2026 12:00:00 GMT"]),
    (
        "authorization",
        &[
            "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
            "AWS test:abc",
            "Bearer x",
            "AWS4-HMAC-SHA256",
        ],
    ),
    (
        "x-amz-content-sha256",
        &[
            "UNSIGNED-PAYLOAD",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "STREAMING-X",
            "abc",
        ],
    ),
    ("expect", &["100-continue"]),
];

fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..6) {
        0 => Vec::new(),
        1 => (0..rng.random_range(0..300))
            .map(|_| rng.random())
            .collect(),
        2 => b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".to_vec(),
        3 => {
            let docs: &[&str] = &[
                "<Delete><Object><Key>a</Key></Object></Delete>",
                "<Delete><Object><Key>a</Key>",
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
                "<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber></Part></CompleteMultipartUpload>",
                "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
                "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
                "<AccessControlPolicy/>",
            ];
            let doc = pick(rng, docs).as_bytes();
            let cut = rng.random_range(0..=doc.len());
            doc[..if rng.random_bool(0.5) { doc.len() } else { cut }].to_vec()
        }
        4 => "<a>".repeat(rng.random_range(0..2000)).into_bytes(),
        _ => ascii(rng, 200).into_bytes(),
    }
}

pub(super) fn amz_now() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        now.hour(),
        now.minute(),
        now.second()
    );
    (date, stamp)
}

/// Adds a valid SigV4 signature for test/test (host, x-amz-date, x-amz-content-sha256 and,
/// sometimes, the other headers signed).
fn sign(rng: &mut StdRng, req: &mut Raw) {
    req.headers.retain(|(n, _)| {
        !["authorization", "x-amz-date", "x-amz-content-sha256"].contains(&n.as_str())
    });
    let (date, stamp) = amz_now();
    let payload = match rng.random_range(0..3) {
        0 => "UNSIGNED-PAYLOAD".to_string(),
        1 => hex::encode(Sha256::digest(&req.body)),
        _ => pick(
            rng,
            &[
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            ],
        )
        .to_string(),
    };
    req.headers.push(("x-amz-date".into(), stamp.clone()));
    req.headers
        .push(("x-amz-content-sha256".into(), payload.clone()));
    let mut map = http::HeaderMap::new();
    for (n, v) in &req.headers {
        map.append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    let mut names: Vec<String> = if rng.random_bool(0.5) {
        req.headers.iter().map(|(n, _)| n.clone()).collect()
    } else {
        vec![
            "host".into(),
            "x-amz-date".into(),
            "x-amz-content-sha256".into(),
        ]
    };
    names.sort();
    names.dedup();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let cr =
        sealstore::auth::canonical_request(&req.method, path, query, &map, &signed, &payload, None);
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let sts = sealstore::auth::string_to_sign(&stamp, &scope, &cr);
    let key = sealstore::auth::signing_key("test", &date, "us-east-1", "s3").unwrap();
    let sig = sealstore::auth::v4_signature(key, &sts);
    req.headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential=test/{scope}, SignedHeaders={}, Signature={sig}",
            signed.join(";")
        ),
    ));
}

pub(super) fn random_request(rng: &mut StdRng, addr: &str) -> Raw {
    let method = if rng.random_bool(0.9) {
        pick(rng, &["GET", "PUT", "POST", "DELETE", "HEAD"]).to_string()
    } else {
        pick(rng, &["OPTIONS", "PATCH", "TRACE", "FOO", "get"]).to_string()
    };
    let query = random_query(rng);
    let path = random_path(rng);
    let mut target = if query.is_empty() && rng.random_bool(0.7) {
        path
    } else {
        format!("{path}?{query}")
    };
    if http::Uri::try_from(target.as_str()).is_err() {
        // Not a request target hyper accepts: it would answer 400 before sealstore sees it.
        target = format!("/{BUCKET}/not-a-uri");
    }
    let host = match rng.random_range(0..10) {
        0 => format!("{BUCKET}.localhost:1"),
        1 => ascii(rng, 20).trim().to_string(),
        _ => addr.to_string(),
    };
    let mut headers = vec![("host".to_string(), host)];
    for _ in 0..rng.random_range(0..6) {
        let (name, values) = pick(rng, HEADERS);
        let value = if rng.random_bool(0.8) {
            pick(rng, values).to_string()
        } else {
            ascii(rng, 40).trim().to_string()
        };
        headers.push((name.to_string(), value));
    }
    if rng.random_bool(0.1) {
        headers.push((
            format!("x-fuzz-{}", rng.random_range(0..100)),
            ascii(rng, 30).trim().to_string(),
        ));
    }
    let mut req = Raw {
        method,
        target,
        headers,
        body: random_body(rng),
    };
    if rng.random_bool(0.5) {
        sign(rng, &mut req);
    }
    req
}
