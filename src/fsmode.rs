//! File modes of what sealstore writes to disk: the data dir and every directory under it are
//! created 0700, every file (meta.redb, blobs, the generated master key) 0600, whatever the umask.
//! At start-up [`loose_modes`] reports a data dir or key file that others can read.

use std::fs::{DirBuilder, OpenOptions};
use std::path::Path;

/// Mode of the directories sealstore creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files sealstore creates.
pub const FILE_MODE: u32 = 0o600;

/// `create_dir_all`, with every directory it creates made owner-only (existing ones untouched).
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// Options creating a new file readable and writable by its owner only.
pub fn private_file_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, FILE_MODE);
    opts
}

/// One warning line per path that group or others can access: the data dir (if any) and the
/// master key file (if any). Paths that do not exist are skipped.
pub fn loose_modes(data_dir: Option<&Path>, key_file: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode_of = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .map(|m| m.permissions().mode() & 0o777)
        };
        if let Some(dir) = data_dir {
            if let Some(mode) = mode_of(dir).filter(|m| m & 0o077 != 0) {
                out.push(format!(
                    "warning: data dir {} has mode {mode:04o}, so other users may read it; run `chmod 700 {}`",
                    dir.display(),
                    dir.display()
                ));
            }
        }
        if let Some(key) = key_file {
            if let Some(mode) = mode_of(key).filter(|m| m & 0o077 != 0) {
                out.push(format!(
                    "warning: master key file {} has mode {mode:04o}, so other users may read it; run `chmod 600 {}`",
                    key.display(),
                    key.display()
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (data_dir, key_file);
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        // u32::MAX (never a mode) when the path is missing: the comparisons below then fail.
        std::fs::metadata(p).map_or(u32::MAX, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn created_private_and_loose_modes_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let nested = tmp.path().join("a/b");
        create_private_dir_all(&nested).unwrap();
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        let key = nested.join("k");
        private_file_options()
            .write(true)
            .create_new(true)
            .open(&key)
            .unwrap();
        assert_eq!(mode(&key), 0o600);
        assert!(loose_modes(Some(&nested), Some(&key)).is_empty());

        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let warnings = loose_modes(Some(&nested), Some(&key));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("0755") && warnings[0].contains("data dir"));
        assert!(warnings[1].contains("0640") && warnings[1].contains("master key"));
        // A missing path is not a warning.
        assert!(loose_modes(Some(&tmp.path().join("none")), None).is_empty());
    }
}
