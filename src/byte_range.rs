//! A byte range resolved against an object's size: what GetObject serves and what the segment
//! maths of `crypto` decrypts. A leaf module; parsing the `Range` header into one (with S3's
//! errors) is `http::headers`.

/// A byte range request, resolved against an object size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}
