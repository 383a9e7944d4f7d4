//! The checksum algorithms S3 accepts, and one streaming hasher that computes the MD5 (for the ETag),
//! the SHA-256 (when the payload hash must be checked) and one flexible checksum at once.

use crate::header_names::{
    X_AMZ_CHECKSUM_ALGORITHM, X_AMZ_CHECKSUM_CRC32, X_AMZ_CHECKSUM_CRC32C,
    X_AMZ_CHECKSUM_CRC64NVME, X_AMZ_CHECKSUM_MODE, X_AMZ_CHECKSUM_SHA1, X_AMZ_CHECKSUM_SHA256,
    X_AMZ_CHECKSUM_TYPE,
};
use base64::Engine;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// S3's upper-case name (`CRC32`), as in `x-amz-sdk-checksum-algorithm` and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header (and trailer) carrying the value: `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            Self::Crc32 => X_AMZ_CHECKSUM_CRC32,
            Self::Crc32c => X_AMZ_CHECKSUM_CRC32C,
            Self::Crc64Nvme => X_AMZ_CHECKSUM_CRC64NVME,
            Self::Sha1 => X_AMZ_CHECKSUM_SHA1,
            Self::Sha256 => X_AMZ_CHECKSUM_SHA256,
        }
    }

    /// The XML element in every document that carries one (`http::xml::elements::ChecksumXml`,
    /// the Complete request, CopyObjectResult): `ChecksumCRC32`.
    pub fn xml_element(self) -> &'static str {
        match self {
            Self::Crc32 => "ChecksumCRC32",
            Self::Crc32c => "ChecksumCRC32C",
            Self::Crc64Nvme => "ChecksumCRC64NVME",
            Self::Sha1 => "ChecksumSHA1",
            Self::Sha256 => "ChecksumSHA256",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }

    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    /// Decodes a base64 value, checking its length for this algorithm.
    pub fn decode(self, value: &str) -> Option<Vec<u8>> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        (raw.len() == self.digest_len()).then_some(raw)
    }
}

/// Names under `x-amz-checksum-` that are not checksum values.
pub const NON_VALUE_CHECKSUM_HEADERS: [&str; 3] = [
    X_AMZ_CHECKSUM_MODE,
    X_AMZ_CHECKSUM_ALGORITHM,
    X_AMZ_CHECKSUM_TYPE,
];

/// One crate (`crc-fast`) computes and combines all three CRCs: at 64 KiB and 1 MiB it matches
/// `crc32fast` and is 2x `crc32c` and 4x `crc64fast-nvme` (docs/benchmarks.md, "CRC crates").
enum Hasher {
    /// CRC32, CRC32C or CRC64NVME; `width` is the digest length in bytes (4 or 8).
    Crc {
        digest: crc_fast::Digest,
        width: usize,
    },
    Sha1(Sha1),
    Sha256(Sha256),
}

/// `crc-fast`'s name for each CRC S3 uses; `None` for the hashes.
fn crc_algorithm(alg: ChecksumAlgorithm) -> Option<crc_fast::CrcAlgorithm> {
    match alg {
        ChecksumAlgorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
        ChecksumAlgorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
        ChecksumAlgorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
    }
}

impl Hasher {
    fn new(alg: ChecksumAlgorithm) -> Hasher {
        match (alg, crc_algorithm(alg)) {
            (_, Some(crc)) => Hasher::Crc {
                digest: crc_fast::Digest::new(crc),
                width: alg.digest_len(),
            },
            (ChecksumAlgorithm::Sha1, None) => Hasher::Sha1(Sha1::new()),
            // `crc_algorithm` names every CRC: SHA-256 is all that is left.
            (_, None) => Hasher::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc { digest, .. } => digest.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            // The CRC is in the low `width` bytes of the u64, sent big-endian as S3 does.
            Hasher::Crc { digest, width } => {
                let bytes = digest.finalize().to_be_bytes();
                bytes[bytes.len() - width..].to_vec()
            }
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// A checksum value: algorithm plus raw digest bytes (base64 only at the edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    pub value: Vec<u8>,
}

impl Checksum {
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.value)
    }

    /// The checksum of a whole object from its parts' checksums and sizes, as S3's FULL_OBJECT
    /// multipart checksums are: CRCs combine arithmetically (no byte is read again). `None` for
    /// hashes, which do not combine, and for an empty list.
    pub fn combine(parts: &[(&Checksum, u64)]) -> Option<Checksum> {
        let (first, rest) = parts.split_first()?;
        let alg = first.0.algorithm;
        let crc_alg = crc_algorithm(alg)?;
        let width = alg.digest_len();
        let as_u64 = |c: &Checksum| -> Option<u64> {
            if c.algorithm != alg || c.value.len() != width {
                return None;
            }
            Some(
                c.value
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
            )
        };
        let mut acc = as_u64(first.0)?;
        for (c, len) in rest {
            acc = crc_fast::checksum_combine(crc_alg, acc, as_u64(c)?, *len);
        }
        let bytes = acc.to_be_bytes();
        Some(Checksum {
            algorithm: alg,
            value: bytes[8 - width..].to_vec(),
        })
    }

    /// S3's COMPOSITE multipart checksum: the algorithm applied to the concatenated raw part
    /// checksums (shown with a `-<parts>` suffix).
    pub fn composite(alg: ChecksumAlgorithm, parts: &[&Checksum]) -> Checksum {
        let mut h = Hasher::new(alg);
        for p in parts {
            h.update(&p.value);
        }
        Checksum {
            algorithm: alg,
            value: h.finish(),
        }
    }
}

/// What one pass over a body yields.
#[derive(Debug, Clone)]
pub struct Digests {
    /// `None` when the request needed no MD5 (see `RequestBody::md5_only_if_promised`).
    pub md5: Option<[u8; 16]>,
    pub sha256: Option<[u8; 32]>,
    pub checksum: Checksum,
    /// A second checksum, when one was asked for in another algorithm (a part's upload algorithm
    /// when the client checksummed the part with a different one).
    pub extra: Option<Checksum>,
    pub size: u64,
}

/// Computes MD5, optionally SHA-256, and one (or two) flexible checksums in a single pass.
pub struct Digester {
    md5: Option<Md5>,
    sha256: Option<Sha256>,
    algorithm: ChecksumAlgorithm,
    checksum: Hasher,
    extra: Option<(ChecksumAlgorithm, Hasher)>,
    size: u64,
}

impl Digester {
    pub fn new(algorithm: ChecksumAlgorithm, with_sha256: bool) -> Digester {
        Digester {
            md5: Some(Md5::new()),
            sha256: with_sha256.then(Sha256::new),
            algorithm,
            checksum: Hasher::new(algorithm),
            extra: None,
            size: 0,
        }
    }

    /// Also computes `extra` (nothing more when it is the main algorithm).
    /// Stops computing MD5 (nothing needs it).
    pub fn skip_md5(&mut self) {
        self.md5 = None;
    }

    pub fn add_extra(&mut self, extra: ChecksumAlgorithm) {
        if extra != self.algorithm {
            self.extra = Some((extra, Hasher::new(extra)));
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(m) = self.md5.as_mut() {
            m.update(data);
        }
        if let Some(s) = self.sha256.as_mut() {
            s.update(data);
        }
        self.checksum.update(data);
        if let Some((_, h)) = self.extra.as_mut() {
            h.update(data);
        }
        self.size += data.len() as u64;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.map(|m| m.finalize().into()),
            sha256: self.sha256.map(|s| s.finalize().into()),
            checksum: Checksum {
                algorithm: self.algorithm,
                value: self.checksum.finish(),
            },
            extra: self.extra.map(|(algorithm, h)| Checksum {
                algorithm,
                value: h.finish(),
            }),
            size: self.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(alg: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut d = Digester::new(alg, false);
        for piece in data.chunks(3) {
            d.update(piece);
        }
        d.finish().checksum.base64()
    }

    /// The published check values for "123456789" and the reference's other vectors.
    #[test]
    fn check_values() {
        use ChecksumAlgorithm::*;
        assert_eq!(b64(Crc32, b"123456789"), "y/Q5Jg==");
        assert_eq!(b64(Crc32c, b"123456789"), "4waSgw==");
        assert_eq!(b64(Crc64Nvme, b"123456789"), "rosUhgp5mIg=");
        assert_eq!(b64(Crc32, b""), "AAAAAA==");
        assert_eq!(b64(Crc64Nvme, b""), "AAAAAAAAAAA=");
        assert_eq!(b64(Crc32, b"hello world\n"), "rwg7LQ==");
        assert_eq!(b64(Crc32c, b"hello world\n"), "8P9ykg==");
        assert_eq!(b64(Crc64Nvme, b"hello world\n"), "D3gOhIHSoh8=");
        assert_eq!(b64(Sha1, b""), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
        assert_eq!(b64(Sha1, b"hello world\n"), "IlljY7PeQLBvmB+4XYIxLowO1RE=");
        assert_eq!(
            b64(Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            b64(Sha256, b"hello world\n"),
            "qUiQTy8PR5uPgZdpSzAYSw0u0cHNKh7A+4XSmaGSpEc="
        );
        let d = {
            let mut d = Digester::new(Crc32, true);
            d.update(b"hello world\n");
            d.finish()
        };
        assert_eq!(
            d.md5.map(hex::encode).as_deref(),
            Some("6f5902ac237024bdd0c176cb93063dc4")
        );
        assert_eq!(
            hex::encode(d.sha256.unwrap()),
            "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        );
        assert_eq!(d.size, 12);
    }

    /// Combining part CRCs gives the CRC of the concatenation; composites hash the raw values.
    #[test]
    fn multipart_checksums() {
        use ChecksumAlgorithm::*;
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let cuts = [0usize, 100_000, 100_001, 250_000, 300_000];
        for alg in [Crc32, Crc32c, Crc64Nvme] {
            let whole = {
                let mut d = Digester::new(alg, false);
                d.update(&data);
                d.finish().checksum
            };
            let parts: Vec<(Checksum, u64)> = cuts
                .windows(2)
                .map(|w| {
                    let mut d = Digester::new(alg, false);
                    d.update(&data[w[0]..w[1]]);
                    (d.finish().checksum, (w[1] - w[0]) as u64)
                })
                .collect();
            let refs: Vec<(&Checksum, u64)> = parts.iter().map(|(c, n)| (c, *n)).collect();
            assert_eq!(Checksum::combine(&refs), Some(whole), "{alg:?}");
        }
        let a = Checksum {
            algorithm: Sha256,
            value: vec![1; 32],
        };
        assert_eq!(Checksum::combine(&[(&a, 1)]), None);
        // CRC32 of the two raw 4-byte CRC32s of "hello world\n" twice, by the definition.
        let part = Checksum {
            algorithm: Crc32,
            value: vec![0xaf, 0x08, 0x3b, 0x2d],
        };
        let composite = Checksum::composite(Crc32, &[&part, &part]);
        let mut d = Digester::new(Crc32, false);
        d.update(&[0xaf, 0x08, 0x3b, 0x2d, 0xaf, 0x08, 0x3b, 0x2d]);
        assert_eq!(composite, d.finish().checksum);
    }

    #[test]
    fn names_and_decoding() {
        assert_eq!(
            ChecksumAlgorithm::from_name("crc64nvme"),
            Some(ChecksumAlgorithm::Crc64Nvme)
        );
        assert_eq!(
            ChecksumAlgorithm::from_header("X-Amz-Checksum-SHA256"),
            Some(ChecksumAlgorithm::Sha256)
        );
        assert_eq!(
            ChecksumAlgorithm::from_header("x-amz-checksum-sha512"),
            None
        );
        assert!(ChecksumAlgorithm::Crc32.decode("rwg7LQ==").is_some());
        assert!(ChecksumAlgorithm::Crc32.decode("rosUhgp5mIg=").is_none());
        assert!(ChecksumAlgorithm::Crc32.decode("***").is_none());
    }
}
