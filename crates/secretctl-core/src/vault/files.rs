//! The vault directory on disk (SPEC §3): which files exist, who may read them, and how they are
//! written. Every file is created 0600 and never widened; symlinks and files readable by others
//! are refused with a message naming the file and the fix.

use super::Error;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The vault directory and the paths of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultDir {
    root: PathBuf,
}

impl VaultDir {
    /// A vault directory at `root` (nothing is checked until the vault is opened).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        VaultDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `vault.db`.
    pub fn db(&self) -> PathBuf {
        self.root.join("vault.db")
    }

    /// `vault.salt`.
    pub fn salt(&self) -> PathBuf {
        self.root.join("vault.salt")
    }

    /// `vault.meta`.
    pub fn meta(&self) -> PathBuf {
        self.root.join("vault.meta")
    }

    /// `mcp-policy.yaml`.
    pub fn policy(&self) -> PathBuf {
        self.root.join("mcp-policy.yaml")
    }

    /// `agent.sock`.
    pub fn socket(&self) -> PathBuf {
        self.root.join("agent.sock")
    }

    /// Whether any vault file is present (then `init` must refuse).
    pub fn has_vault_files(&self) -> bool {
        [self.db(), self.salt(), self.meta()]
            .iter()
            .any(|p| p.symlink_metadata().is_ok())
    }

    /// Creates the directory 0700 if it is missing; an existing one must already be private.
    pub(crate) fn create(&self) -> Result<(), Error> {
        match fs::symlink_metadata(&self.root) {
            Ok(_) => self.check_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.root)
                .map_err(|e| Error::io(&self.root, e)),
            Err(e) => Err(Error::io(&self.root, e)),
        }
    }

    /// The directory must exist, be a directory, belong to us and be closed to group and others.
    pub(crate) fn check_dir(&self) -> Result<(), Error> {
        let meta = match fs::metadata(&self.root) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoVault(self.root.clone()));
            }
            Err(e) => return Err(Error::io(&self.root, e)),
        };
        if !meta.is_dir() {
            return Err(Error::Damaged {
                path: self.root.clone(),
                reason: "it is not a directory".into(),
            });
        }
        check_owner_and_mode(&self.root, &meta, 0o700)
    }

    /// A vault file must be a regular file (not a symlink), ours, and 0600 or stricter.
    pub(crate) fn check_file(&self, path: &Path) -> Result<(), Error> {
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Damaged {
                    path: path.to_owned(),
                    reason: "it is missing".into(),
                });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        if meta.file_type().is_symlink() {
            return Err(Error::Symlink(path.to_owned()));
        }
        if !meta.is_file() {
            return Err(Error::Damaged {
                path: path.to_owned(),
                reason: "it is not a regular file".into(),
            });
        }
        check_owner_and_mode(path, &meta, 0o600)
    }

    /// Checks a file that may be absent (SQLite's `-wal` and `-shm`).
    pub(crate) fn check_optional_file(&self, path: &Path) -> Result<(), Error> {
        if fs::symlink_metadata(path).is_ok() {
            self.check_file(path)
        } else {
            Ok(())
        }
    }
}

fn check_owner_and_mode(path: &Path, meta: &fs::Metadata, wanted: u32) -> Result<(), Error> {
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Error::UnsafePermissions {
            path: path.to_owned(),
            problem: format!("it belongs to uid {}, not to you", meta.uid()),
            fix: format!("chown $(id -u) {}", path.display()),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::UnsafePermissions {
            path: path.to_owned(),
            problem: format!("it is accessible by group or others (mode {mode:04o})"),
            fix: format!("chmod {wanted:o} {}", path.display()),
        });
    }
    Ok(())
}

/// Removes temporary files that a writer killed mid-write left behind (`write_atomic`'s
/// `.tmp-*`). Only files older than ten minutes: a younger one may belong to a writer that is
/// still running. Best effort: a file that cannot be removed is left.
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(".tmp-")
            && entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|t| t < cutoff));
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates a new file 0600 with `O_EXCL` (never an existing file, never through a symlink).
pub(crate) fn create_new_private(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Replaces `path` atomically: writes a private temporary file beside it, syncs it, renames it
/// over `path` and syncs the directory, so a crash leaves the old or the new content, never a mix.
pub(crate) fn write_atomic(path: &Path, content: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(content).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    sync_dir(dir)
}

/// Flushes a directory's entries (after a create or rename).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}
