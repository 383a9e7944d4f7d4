//! The clock and the date forms S3 speaks: times are stored as milliseconds since the epoch,
//! rendered as HTTP dates (Last-Modified) or ISO 8601 (XML listings), and parsed from HTTP dates
//! (conditionals, SigV2's `Date`). A leaf module, so that every layer can tell the time without
//! importing `http/`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch, the unit object and bucket times are stored in.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn to_system_time(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64)
}

/// `Wed, 01 Jan 2025 00:00:00 GMT`, for Last-Modified.
pub fn http_date(millis: i64) -> String {
    httpdate::fmt_http_date(to_system_time(millis))
}

/// `2025-01-01T00:00:00.000Z`, for XML listings.
pub fn iso8601(millis: i64) -> String {
    let t = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(millis);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an HTTP date (RFC 1123 and the two legacy forms) into epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    t.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso8601(1_735_689_600_123), "2025-01-01T00:00:00.123Z");
        assert_eq!(
            http_date(1_735_689_600_999),
            "Wed, 01 Jan 2025 00:00:00 GMT"
        );
        assert_eq!(
            parse_http_date("Wed, 01 Jan 2025 00:00:00 GMT"),
            Some(1_735_689_600)
        );
    }
}
