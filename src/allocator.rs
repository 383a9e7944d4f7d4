//! Bounds glibc malloc's arenas for the server process.
//!
//! glibc gives each thread that allocates its own arena, up to 8 per CPU. The server's threads
//! (tokio's workers, one blocking-pool thread per streamed body, the commit and log threads) spread
//! their allocations over all of them, and the memory freed in each arena stays fragmented there: in
//! the soak (docs/soak.md; 64 connections, mixed PUT/GET/LIST/DELETE) the resident size grew by
//! about 1 MiB a minute with no leak behind it. With 2 arenas per CPU it stays flat at a lower level
//! and throughput does not change (measured figures in docs/soak.md).
//!
//! The arena limit can only be set before the process's first allocation (the `GLIBC_TUNABLES`
//! variable), or with `mallopt`, which is foreign code this crate does not call (no `unsafe`).
//! So `serve` re-executes itself once, early, with `glibc.malloc.arena_max` added to
//! `GLIBC_TUNABLES`. `exec` keeps the process id, its open descriptors and its arguments, so a
//! supervisor or a test sees one process. An operator's own choice wins: when `GLIBC_TUNABLES`
//! already names `glibc.malloc.arena_max` or `MALLOC_ARENA_MAX` is set, nothing happens, and the
//! presence of the setting is also what stops a second re-execution.

/// The tunable glibc reads at start-up.
pub const TUNABLES_VAR: &str = "GLIBC_TUNABLES";
/// The name of the arena limit inside [`TUNABLES_VAR`].
pub const ARENA_MAX_TUNABLE: &str = "glibc.malloc.arena_max";

/// The arena limit for a machine with `cpus` CPUs: 2 per CPU, at least 4 (glibc's default is 8
/// per CPU).
pub fn arena_limit(cpus: usize) -> usize {
    cpus.saturating_mul(2).max(4)
}

/// The `GLIBC_TUNABLES` value to re-execute with, or `None` when the environment already bounds
/// the arenas (the operator's setting, or this process is the re-executed one).
pub fn tunables_with_arena_limit(
    tunables: Option<&str>,
    malloc_arena_max_set: bool,
    cpus: usize,
) -> Option<String> {
    if malloc_arena_max_set {
        return None;
    }
    let limit = format!("{ARENA_MAX_TUNABLE}={}", arena_limit(cpus));
    match tunables {
        Some(t)
            if t.split(':')
                .any(|kv| kv.split('=').next() == Some(ARENA_MAX_TUNABLE)) =>
        {
            None
        }
        Some(t) if !t.is_empty() => Some(format!("{t}:{limit}")),
        _ => Some(limit),
    }
}

/// Re-executes the running binary with a bounded arena count (see the module comment). Returns
/// only when it does not: the environment already bounds the arenas, the platform is not Linux
/// with glibc, or `exec` failed (then the error, and the server runs with glibc's default).
pub fn bound_malloc_arenas() -> Option<std::io::Error> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;

        let tunables = std::env::var(TUNABLES_VAR).ok();
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let value = tunables_with_arena_limit(
            tunables.as_deref(),
            std::env::var_os("MALLOC_ARENA_MAX").is_some(),
            cpus,
        )?;
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => return Some(e),
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        // `exec` returns only on failure (e.g. the binary was replaced or deleted on disk).
        Some(command.args(args).env(TUNABLES_VAR, value).exec())
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_two_per_cpu_and_at_least_four() {
        assert_eq!(arena_limit(1), 4);
        assert_eq!(arena_limit(2), 4);
        assert_eq!(arena_limit(8), 16);
    }

    #[test]
    fn the_limit_is_added_to_other_tunables() {
        assert_eq!(
            tunables_with_arena_limit(None, false, 2).as_deref(),
            Some("glibc.malloc.arena_max=4")
        );
        assert_eq!(
            tunables_with_arena_limit(Some(""), false, 4).as_deref(),
            Some("glibc.malloc.arena_max=8")
        );
        assert_eq!(
            tunables_with_arena_limit(Some("glibc.malloc.tcache_count=0"), false, 2).as_deref(),
            Some("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=4")
        );
    }

    #[test]
    fn an_existing_setting_wins_and_stops_a_second_exec() {
        assert_eq!(tunables_with_arena_limit(None, true, 2), None);
        assert_eq!(
            tunables_with_arena_limit(Some("glibc.malloc.arena_max=1"), false, 2),
            None
        );
        assert_eq!(
            tunables_with_arena_limit(
                Some("glibc.malloc.check=0:glibc.malloc.arena_max=4"),
                false,
                2
            ),
            None
        );
        // A different tunable that merely starts with the same text is not the arena limit.
        assert_eq!(
            tunables_with_arena_limit(Some("glibc.malloc.arena_max_x=1"), false, 2).as_deref(),
            Some("glibc.malloc.arena_max_x=1:glibc.malloc.arena_max=4")
        );
    }
}
