//! Fault injection, for tests: storage I/O errors and handler panics on demand.
//!
//! Only debug builds (the binary `cargo test` drives) have it; in a release build every function
//! here is an empty inline function and `SEALSTORE_FAULTS_FILE` means nothing.
//!
//! A test starts the server with `SEALSTORE_FAULTS_FILE=<path>` and writes the faults it wants
//! into that file, one per line, while the server runs; an empty or missing file means no faults.
//! The file is read again at most every 20 ms, so a change takes effect almost at once.
//!
//! ```text
//! blob-write=enospc      every write of a blob file fails with ENOSPC ("No space left on device")
//! blob-sync=eio          every fsync of a blob file (or its directory) fails with EIO
//! blob-create=eio        creating a blob file fails
//! meta-commit=eio        every metadata transaction fails instead of committing
//! panic=GetObject        the handler of that operation (any `Endpoint::name`) panics
//! ```

/// Where storage I/O can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    BlobCreate,
    BlobWrite,
    BlobSync,
    MetaCommit,
}

#[cfg(debug_assertions)]
mod imp {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::Point;

    struct Cache {
        read_at: Option<Instant>,
        lines: Vec<String>,
    }

    static CACHE: Mutex<Cache> = Mutex::new(Cache {
        read_at: None,
        lines: Vec::new(),
    });

    fn active() -> Vec<String> {
        let Some(path) = std::env::var_os("SEALSTORE_FAULTS_FILE") else {
            return Vec::new();
        };
        let Ok(mut cache) = CACHE.lock() else {
            return Vec::new();
        };
        let stale = cache
            .read_at
            .is_none_or(|t| t.elapsed() > Duration::from_millis(20));
        if stale {
            cache.lines = std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            cache.read_at = Some(Instant::now());
        }
        cache.lines.clone()
    }

    fn value(name: &str) -> Option<String> {
        active().into_iter().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    }

    pub fn io(point: Point) -> std::io::Result<()> {
        let name = match point {
            Point::BlobCreate => "blob-create",
            Point::BlobWrite => "blob-write",
            Point::BlobSync => "blob-sync",
            Point::MetaCommit => "meta-commit",
        };
        match value(name).as_deref() {
            None => Ok(()),
            Some("enospc") => Err(std::io::Error::from_raw_os_error(28)),
            Some(_) => Err(std::io::Error::from_raw_os_error(5)),
        }
    }

    pub fn panic_point(operation: &str) {
        if value("panic").is_some_and(|op| op == operation) {
            panic!("injected panic in {operation}");
        }
    }
}

#[cfg(not(debug_assertions))]
mod imp {
    use super::Point;

    #[inline(always)]
    pub fn io(_: Point) -> std::io::Result<()> {
        Ok(())
    }

    #[inline(always)]
    pub fn panic_point(_: &str) {}
}

/// Fails with the configured error if `point` has a fault (debug builds only).
pub use imp::io;
/// Panics if the operation's handler is configured to (debug builds only).
pub use imp::panic_point;
