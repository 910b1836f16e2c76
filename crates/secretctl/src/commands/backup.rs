//! `secretctl backup` (SPEC §10): an encrypted, consistent snapshot of the vault, to a file or
//! stdout, under the master password, a backup password or a key file; and
//! `--generate-key-file`. Always asks for the master password, never the session agent.

use crate::cli::{BackupArgs, Global};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::backup::{self, KeySource};
use secretctl_core::vault::{BackupReport, BackupTarget, Vault};

pub fn run(g: &Global, a: BackupArgs) -> Result<()> {
    if let Some(path) = &a.generate_key_file {
        backup::generate_key_file(path)?;
        return io::outln(&format!(
            "wrote key file {} (32 random bytes); keep it apart from the backups",
            path.display()
        ));
    }
    if a.stdout && io::stdout_is_terminal() {
        return Err(Failure::usage(
            "refusing to write a binary backup to a terminal; redirect stdout or use -o FILE",
        ));
    }
    // Everything that can be refused without the vault is refused before any prompt.
    if let Some(path) = &a.output {
        backup::check_output(path, a.force)?;
    }
    let key_file = a
        .key_file
        .as_deref()
        .map(backup::read_key_file)
        .transpose()?;
    let vault = Vault::open(&g.vault_dir())?;
    let master = password::current(g)?;
    let mut session = vault.unlock(&master, Source::Cli)?;
    let backup_password = if a.backup_password || a.backup_password_file.is_some() {
        Some(password::new_backup_password(&a.backup_password_file)?)
    } else {
        None
    };
    let key = match (&key_file, &backup_password) {
        (Some(k), _) => KeySource::KeyFile(k),
        (None, Some(p)) => KeySource::BackupPassword(p),
        (None, None) => KeySource::MasterPassword(&master),
    };
    let report = match &a.output {
        Some(path) => session.backup(
            BackupTarget::File {
                path,
                force: a.force,
            },
            key,
            a.with_audit,
            Source::Cli,
        )?,
        None => {
            let mut out = std::io::stdout().lock();
            return session
                .backup(
                    BackupTarget::Stream(&mut out),
                    key,
                    a.with_audit,
                    Source::Cli,
                )
                .map(drop)
                .map_err(Failure::from);
        }
    };
    let path = a.output.as_deref().expect("a file backup has a path");
    if a.json {
        let mut v = serde_json::to_value(&report).expect("reports serialise");
        v["file"] = path.display().to_string().into();
        return io::out_json(&v);
    }
    io::outln(&format!(
        "wrote backup {} ({})",
        path.display(),
        describe(&report)
    ))
}

fn describe(r: &BackupReport) -> String {
    let audit = match r.audit_records {
        Some(n) => format!("audit log of {}", super::plural(n, "record")),
        None => "no audit log".into(),
    };
    let key = match r.key {
        "master_password" => "master password",
        "backup_password" => "backup password",
        _ => "key file",
    };
    format!(
        "{}, {}, {audit}, {} bytes, encrypted with the {key}",
        super::plural(r.secrets, "secret"),
        super::plural(r.folders, "folder"),
        r.bytes
    )
}
