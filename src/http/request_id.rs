//! `x-amz-request-id` and `x-amz-id-2`: one pair per request, echoed in error bodies.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use rand::RngCore;

#[derive(Clone, Debug)]
pub struct RequestId {
    pub id: String,
    pub host_id: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);
/// Random per process, so ids stay distinct across restarts.
static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

impl RequestId {
    /// 16 upper-case hex characters like S3's, and a base64 host id.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix = *PREFIX.get_or_init(|| rand::rng().next_u32() & 0xffff);
        let id = format!("{:04X}{:012X}", prefix, n & 0xffff_ffff_ffff);
        let mut raw = [0u8; 48];
        rng.fill_bytes(&mut raw);
        let host_id = base64::engine::general_purpose::STANDARD.encode(raw);
        RequestId { id, host_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_shaped() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 16);
        assert!(
            a.id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(a.host_id.len(), 64);
    }
}
