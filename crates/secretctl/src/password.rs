//! Where the master password comes from, in the order of SPEC §4: a password file
//! (`--password-file` / `SECRETCTL_PASSWORD_FILE`), `SECRETCTL_PASSWORD`, then a hidden prompt on
//! the terminal. Never stdin: stdin may carry a value.

use crate::cli::Global;
use crate::failure::{Failure, Result};
use crate::io;
use secretctl_core::audit::Source;
use secretctl_core::crypto::Passphrase;
use secretctl_core::vault::{Session, Vault};
use std::path::PathBuf;

pub const ENV_PASSWORD: &str = "SECRETCTL_PASSWORD";
pub const ENV_BACKUP_PASSWORD: &str = "SECRETCTL_BACKUP_PASSWORD";
pub const ENV_BACKUP_PASSWORD_FILE: &str = "SECRETCTL_BACKUP_PASSWORD_FILE";

fn no_source() -> Failure {
    Failure::auth(
        "no master password available: set SECRETCTL_PASSWORD_FILE (or --password-file), set \
         SECRETCTL_PASSWORD, run `secretctl unlock`, or run in a terminal",
    )
}

pub fn from_file(path: &std::path::Path) -> Result<Passphrase> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::auth(format!("cannot read password file {}: {e}", path.display())))?;
    let mut bytes = io::read_bounded(file, 4096, "the password file").map_err(|_| {
        Failure::auth(format!(
            "password file {} is unreadable or larger than 4096 bytes",
            path.display()
        ))
    })?;
    io::strip_one_newline(&mut bytes);
    Ok(Passphrase::new(bytes))
}

/// The configured non-interactive source, if any.
fn configured(file: &Option<PathBuf>) -> Result<Option<Passphrase>> {
    if let Some(path) = file {
        return from_file(path).map(Some);
    }
    // An empty variable is treated as unset: no master password is empty.
    match std::env::var_os(ENV_PASSWORD).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(Passphrase::new(
            std::os::unix::ffi::OsStringExt::into_vec(v),
        ))),
        None => Ok(None),
    }
}

/// The master password from a password file or `SECRETCTL_PASSWORD`, never from a prompt (for
/// servers whose stdin is a protocol).
pub fn configured_current(global: &Global) -> Result<Option<Passphrase>> {
    configured(&global.password_file())
}

/// A backup password from `file`, else `SECRETCTL_BACKUP_PASSWORD_FILE`, else
/// `SECRETCTL_BACKUP_PASSWORD`; `None` when none is set (the same order as the master password's
/// sources, SPEC §4).
pub fn backup_configured(file: &Option<PathBuf>) -> Result<Option<Passphrase>> {
    let file = file.clone().or_else(|| {
        std::env::var_os(ENV_BACKUP_PASSWORD_FILE)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = file {
        return from_file(&path).map(Some);
    }
    match std::env::var_os(ENV_BACKUP_PASSWORD).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Some(Passphrase::new(
            std::os::unix::ffi::OsStringExt::into_vec(v),
        ))),
        None => Ok(None),
    }
}

/// A new backup password: from the configured sources, else typed twice; the rules of a
/// master password apply.
pub fn new_backup_password(file: &Option<PathBuf>) -> Result<Passphrase> {
    let password = match backup_configured(file)? {
        Some(p) => p,
        None => {
            if !io::have_tty() {
                return Err(Failure::auth(
                    "no backup password available: set SECRETCTL_BACKUP_PASSWORD_FILE (or \
                     --backup-password-file), set SECRETCTL_BACKUP_PASSWORD, or run in a terminal",
                ));
            }
            let first = Passphrase::new(io::prompt_hidden("New backup password: ")?.to_vec());
            check_backup_password(&first)?;
            let second = Passphrase::new(io::prompt_hidden("Repeat it: ")?.to_vec());
            if !first.matches(&second) {
                return Err(Failure::usage(
                    "the passwords do not match; no backup was written",
                ));
            }
            first
        }
    };
    check_backup_password(&password)?;
    Ok(password)
}

fn check_backup_password(password: &Passphrase) -> Result<()> {
    use secretctl_core::secret::InputError;
    secretctl_core::vault::check_new_password(password).map_err(|e| match e {
        InputError::Password { rule } => Failure::usage(format!("backup password refused: {rule}")),
        other => other.into(),
    })
}

/// The master password of an existing vault.
pub fn current(global: &Global) -> Result<Passphrase> {
    if let Some(p) = configured(&global.password_file())? {
        return Ok(p);
    }
    if !io::have_tty() {
        return Err(no_source());
    }
    io::prompt_hidden("Master password: ").map(|b| Passphrase::new(b.to_vec()))
}

/// A new master password: from `file` (or the configured sources, for `init`), else typed twice.
pub fn new_password(
    file: &Option<PathBuf>,
    allow_configured: bool,
    global: &Global,
) -> Result<Passphrase> {
    let configured = if allow_configured {
        configured(&global.password_file())?
    } else {
        match file {
            Some(path) => Some(from_file(path)?),
            None => None,
        }
    };
    if let Some(p) = configured {
        return Ok(p);
    }
    if !io::have_tty() {
        return Err(no_source());
    }
    let first = Passphrase::new(io::prompt_hidden("New master password: ")?.to_vec());
    secretctl_core::vault::check_new_password(&first)?;
    let second = Passphrase::new(io::prompt_hidden("Repeat it: ")?.to_vec());
    if !first.matches(&second) {
        return Err(Failure::usage(
            "the passwords do not match; nothing was changed",
        ));
    }
    Ok(first)
}

/// Opens the vault (file checks first, so a missing or unsafe vault is reported before any
/// prompt), then unlocks it with the master password.
pub fn unlock(global: &Global) -> Result<Session> {
    let vault = Vault::open(&global.vault_dir())?;
    let password = current(global)?;
    Ok(vault.unlock(&password, Source::Cli)?)
}
