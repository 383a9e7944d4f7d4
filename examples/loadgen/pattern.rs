//! Deterministic object bodies and their streaming verification.

use bytes::{Bytes, BytesMut};
use md5::Digest as _;
use sha2::Sha256;

use crate::{CHUNK, FIRST, HEADER, PERIOD};

/// splitmix64's finaliser: a cheap, good 64-bit mixer.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The shared pseudo-random pool bodies are windows of: `PERIOD` bytes followed by a copy of its
/// first `CHUNK` bytes, so any window of up to `CHUNK` bytes starting below `PERIOD` is contiguous.
#[derive(Clone)]
pub struct Pattern {
    pub(crate) pool: Bytes,
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

impl Pattern {
    pub fn new() -> Pattern {
        let mut v = vec![0u8; PERIOD + CHUNK];
        for (i, c) in v[..PERIOD].chunks_mut(8).enumerate() {
            let x = mix(0x5EA1_5704_E000_0000 ^ i as u64).to_le_bytes();
            c.copy_from_slice(&x[..c.len()]);
        }
        v.copy_within(0..CHUNK, PERIOD);
        Pattern {
            pool: Bytes::from(v),
        }
    }

    /// Where in the pool the body of (key, version) starts.
    pub(crate) fn start(key: u64, version: u64) -> usize {
        let h = mix(key.wrapping_mul(0xA076_1D64_78BD_642F) ^ mix(version));
        (h % PERIOD as u64) as usize
    }

    pub fn header(key: u64, version: u64) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(&key.to_le_bytes());
        h[8..].copy_from_slice(&version.to_le_bytes());
        h
    }

    /// The body of (key, version), `size` bytes long, as a stream of frames.
    pub fn body(&self, key: u64, version: u64, size: u64) -> PatternBody {
        PatternBody {
            pool: self.pool.clone(),
            start: Pattern::start(key, version),
            header: Pattern::header(key, version),
            pos: 0,
            size,
        }
    }

    /// The whole body in one buffer (for the tests).
    #[cfg(test)]
    pub fn to_vec(&self, key: u64, version: u64, size: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut b = self.body(key, version, size);
        while let Some(c) = b.next_chunk() {
            out.extend_from_slice(&c);
        }
        out
    }

    /// Hex SHA-256 of the body of (key, version).
    pub fn sha256_hex(&self, key: u64, version: u64, size: u64) -> String {
        let mut h = Sha256::new();
        let mut b = self.body(key, version, size);
        while let Some(c) = b.next_chunk() {
            h.update(&c);
        }
        hex::encode(h.finalize())
    }
}

/// A request body generated from the pool: the first frame is a fresh buffer (header + pattern),
/// the others are zero-copy slices of the pool.
pub struct PatternBody {
    pub(crate) pool: Bytes,
    pub(crate) start: usize,
    pub(crate) header: [u8; HEADER],
    pub(crate) pos: u64,
    pub(crate) size: u64,
}

impl PatternBody {
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        if self.pos >= self.size {
            return None;
        }
        let remaining = self.size - self.pos;
        let off = ((self.start as u64 + self.pos) % PERIOD as u64) as usize;
        if self.pos == 0 {
            let n = remaining.min(FIRST as u64) as usize;
            let mut b = BytesMut::with_capacity(n);
            b.extend_from_slice(&self.pool[off..off + n]);
            let h = n.min(HEADER);
            b[..h].copy_from_slice(&self.header[..h]);
            self.pos = n as u64;
            Some(b.freeze())
        } else {
            let n = remaining.min(CHUNK as u64) as usize;
            self.pos += n as u64;
            Some(self.pool.slice(off..off + n))
        }
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }
}

/// Checks a body, fed chunk by chunk, against the content of (key, v) for one of the accepted
/// versions `v` (the header picks which, and so the expected size).
pub struct Verifier {
    pub(crate) pool: Bytes,
    pub(crate) key: u64,
    /// (version, size) candidates.
    pub(crate) accepted: Vec<(u64, u64)>,
    /// The expected size: the chosen candidate's (before the choice: the smallest).
    pub(crate) size: u64,
    pub(crate) pos: u64,
    pub(crate) head: [u8; HEADER],
    pub(crate) start: Option<usize>,
    pub(crate) version: Option<u64>,
    pub(crate) failure: Option<String>,
}

impl Verifier {
    /// A verifier for bodies of one size (for the tests; the workers know a size per version).
    #[cfg(test)]
    pub fn new(pattern: &Pattern, key: u64, accepted: &[u64], size: u64) -> Verifier {
        let sized: Vec<(u64, u64)> = accepted.iter().map(|&v| (v, size)).collect();
        Verifier::with_sizes(pattern, key, &sized)
    }

    /// Candidates of possibly different sizes: `(version, size)`.
    pub fn with_sizes(pattern: &Pattern, key: u64, accepted: &[(u64, u64)]) -> Verifier {
        let mut v = Verifier {
            pool: pattern.pool.clone(),
            key,
            accepted: accepted.to_vec(),
            size: accepted.iter().map(|&(_, s)| s).min().unwrap_or(0),
            pos: 0,
            head: [0; HEADER],
            start: None,
            version: None,
            failure: None,
        };
        if v.head_len() == 0 {
            v.choose();
        }
        v
    }

    pub(crate) fn head_len(&self) -> usize {
        self.size.min(HEADER as u64) as usize
    }

    /// Picks the accepted version whose header matches the received one.
    pub(crate) fn choose(&mut self) {
        let hl = self.head_len();
        for &(v, size) in &self.accepted {
            if Pattern::header(self.key, v)[..hl] == self.head[..hl] {
                self.start = Some(Pattern::start(self.key, v));
                self.version = Some(v);
                self.size = size;
                return;
            }
        }
        let got = if hl == HEADER {
            let mut k = [0u8; 8];
            let mut ver = [0u8; 8];
            k.copy_from_slice(&self.head[..8]);
            ver.copy_from_slice(&self.head[8..]);
            format!(
                "key id {} version {}",
                u64::from_le_bytes(k),
                u64::from_le_bytes(ver)
            )
        } else {
            format!("header bytes {}", hex::encode(&self.head[..hl]))
        };
        let versions: Vec<u64> = self.accepted.iter().map(|&(v, _)| v).collect();
        self.failure = Some(format!(
            "body starts with {got}, expected key id {} version in {versions:?}",
            self.key
        ));
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        if self.failure.is_some() {
            self.pos += data.len() as u64;
            return;
        }
        let hl = self.head_len() as u64;
        if self.pos < hl {
            let n = (hl - self.pos).min(data.len() as u64) as usize;
            let at = self.pos as usize;
            self.head[at..at + n].copy_from_slice(&data[..n]);
            self.pos += n as u64;
            data = &data[n..];
            if self.pos == hl {
                self.choose();
            }
        }
        if data.is_empty() {
            return;
        }
        let start = match (self.failure.is_some(), self.start) {
            (false, Some(s)) => s,
            _ => {
                self.pos += data.len() as u64;
                return;
            }
        };
        if self.pos + data.len() as u64 > self.size {
            self.failure = Some(format!("body longer than the expected {} bytes", self.size));
            self.pos += data.len() as u64;
            return;
        }
        while !data.is_empty() {
            let off = ((start as u64 + self.pos) % PERIOD as u64) as usize;
            let n = data.len().min(self.pool.len() - off);
            let expected = &self.pool[off..off + n];
            if data[..n] != *expected {
                let i = data[..n]
                    .iter()
                    .zip(expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                self.failure = Some(format!(
                    "byte {} differs from version {} (got {:#04x}, expected {:#04x})",
                    self.pos + i as u64,
                    self.version.unwrap_or(0),
                    data[i],
                    expected[i]
                ));
                self.pos += data.len() as u64;
                return;
            }
            self.pos += n as u64;
            data = &data[n..];
        }
    }

    /// The version received, or why the body is not an accepted one.
    pub fn finish(&self) -> Result<u64, String> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        if self.pos != self.size {
            return Err(format!(
                "body is {} bytes, expected {}",
                self.pos, self.size
            ));
        }
        self.version.ok_or_else(|| "no version matched".to_string())
    }
}
