//! `secretctl restore` (SPEC §10): a backup is opened, decrypted and checked in full before
//! anything is written; then merged into the vault key by key, or swapped in whole with
//! `--replace`. `--verify-only` stops after the checks and never opens the vault.
//!
//! Passwords, in order: the vault's master password (its usual sources; a restore always asks,
//! never the session agent); then the backup's key — `--key-file`, or a backup password from
//! `--backup-password-file`, `SECRETCTL_BACKUP_PASSWORD_FILE` or `SECRETCTL_BACKUP_PASSWORD`;
//! for a backup made under the master password, that master password is tried first, and the
//! terminal asks for the one the vault had when the backup was made only when it does not fit.

use super::plural;
use crate::cli::{Global, OnConflict, RestoreArgs};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::backup::{self, KeyKind, Reader};
use secretctl_core::crypto::{BackupKey, Passphrase};
use secretctl_core::secret::shown;
use secretctl_core::vault::{self, ReplaceReport, RestorePlan, Snapshot, SnapshotSummary, Vault};
use std::io::Read;

pub fn run(g: &Global, a: RestoreArgs) -> Result<()> {
    let reader = backup::open(&a.file)?;
    let key_file = match (reader.header().kind, &a.key_file) {
        (KeyKind::KeyFile, Some(path)) => Some(backup::read_key_file(path)?),
        (KeyKind::KeyFile, None) => return Err(backup::Error::NeedsKeyFile(a.file.clone()).into()),
        (_, Some(_)) => return Err(backup::Error::NotKeyFile(a.file.clone()).into()),
        (_, None) => None,
    };
    if a.verify_only {
        let key = match &key_file {
            Some(k) => reader.key_from_key_file(k)?,
            None => {
                let master = match reader.header().kind {
                    KeyKind::MasterPassword => password::configured_current(g)?,
                    _ => None,
                };
                key_from_password(&reader, &a, master.as_ref())?
            }
        };
        let snap = Snapshot::load(reader, &key, &std::env::temp_dir())?;
        return report_verified(&snap.summary(), a.json);
    }
    let vault = Vault::open(&g.vault_dir())?;
    let master = password::current(g)?;
    let key = match &key_file {
        Some(k) => reader.key_from_key_file(k)?,
        None => key_from_password(&reader, &a, Some(&master))?,
    };
    // Decrypted into the vault directory (0700): the snapshot is a vault database, no more
    // readable than vault.db itself, and on the same file system.
    let snap = Snapshot::load(reader, &key, vault.dir().root())?;
    let mut session = vault.unlock(&master, Source::Cli)?;
    if a.replace {
        let report =
            session.restore_replace(snap, &master, a.with_audit, a.dry_run, Source::Cli)?;
        return report_replace(&report, a.dry_run, a.json);
    }
    let on_conflict = match a.on_conflict {
        OnConflict::Skip => vault::OnConflict::Skip,
        OnConflict::Overwrite => vault::OnConflict::Overwrite,
        OnConflict::Error => vault::OnConflict::Error,
    };
    let plan = session.restore_merge(&snap, on_conflict, a.dry_run, Source::Cli)?;
    report_merge(&plan, a.dry_run, a.json)
}

/// The key of a password backup. `master` is the master password to try first for a backup
/// made under it.
fn key_from_password<R: Read>(
    reader: &Reader<R>,
    a: &RestoreArgs,
    master: Option<&Passphrase>,
) -> Result<BackupKey> {
    if let Some(p) = password::backup_configured(&a.backup_password_file)? {
        return Ok(reader.key_from_password(&p)?);
    }
    let made_with_master = reader.header().kind == KeyKind::MasterPassword;
    if let (true, Some(m)) = (made_with_master, master) {
        match reader.key_from_password(m) {
            Ok(key) => return Ok(key),
            Err(backup::Error::WrongPassword(_)) if io::have_tty() => {}
            Err(e @ backup::Error::WrongPassword(_)) => {
                return Err(Failure::auth(format!(
                    "{e}: it is encrypted with the master password the vault had when the \
                     backup was made; give that one in SECRETCTL_BACKUP_PASSWORD_FILE or \
                     --backup-password-file"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !io::have_tty() {
        return Err(Failure::auth(
            "no backup password available: pass --backup-password-file FILE, set \
             SECRETCTL_BACKUP_PASSWORD_FILE or SECRETCTL_BACKUP_PASSWORD, or run in a terminal",
        ));
    }
    let prompt = if made_with_master {
        "Master password when the backup was made: "
    } else {
        "Backup password: "
    };
    let typed = Passphrase::new(io::prompt_hidden(prompt)?.to_vec());
    Ok(reader.key_from_password(&typed)?)
}

fn key_label(key: &str) -> &'static str {
    match key {
        "master_password" => "the master password",
        "backup_password" => "a backup password",
        _ => "a key file",
    }
}

fn report_verified(s: &SnapshotSummary, json: bool) -> Result<()> {
    if json {
        let mut v = serde_json::to_value(s).expect("summaries serialise");
        v["ok"] = true.into();
        return io::out_json(&v);
    }
    let audit = match s.audit_records {
        Some(n) => format!("audit log of {}, verified", plural(n, "record")),
        None => "no audit log".into(),
    };
    io::outln(&format!(
        "backup verified: {}, {}, {audit}; vault {}, encrypted with {}",
        plural(s.secrets, "secret"),
        plural(s.folders, "folder"),
        s.vault_id,
        key_label(s.key)
    ))
}

fn report_merge(plan: &RestorePlan, dry_run: bool, json: bool) -> Result<()> {
    if json {
        let names = |v: &[secretctl_core::secret::KeyName]| -> serde_json::Value {
            v.iter().map(|k| k.to_string()).collect::<Vec<_>>().into()
        };
        return io::out_json(&serde_json::json!({
            "mode": "merge",
            "dry_run": dry_run,
            "created": names(&plan.created),
            "overwritten": names(&plan.overwritten),
            "skipped": names(&plan.skipped),
            "folders_created": plan.folders_created,
        }));
    }
    let (create, overwrite, skip, folder) = if dry_run {
        (
            "would create",
            "would overwrite",
            "would skip",
            "would create folder",
        )
    } else {
        ("created", "overwrote", "skipped", "created folder")
    };
    let mut text = String::new();
    for name in &plan.folders_created {
        text.push_str(&format!("{folder} {}\n", shown(name)));
    }
    for (verb, names) in [
        (create, &plan.created),
        (overwrite, &plan.overwritten),
        (skip, &plan.skipped),
    ] {
        for name in names {
            text.push_str(&format!("{verb} {name}\n"));
        }
    }
    text.push_str(&format!(
        "{}: {} created, {} overwritten, {} skipped, {} created\n",
        if dry_run { "dry run" } else { "restored" },
        plan.created.len(),
        plan.overwritten.len(),
        plan.skipped.len(),
        plural(plan.folders_created.len() as u64, "folder")
    ));
    io::out(text.as_bytes())
}

fn report_replace(r: &ReplaceReport, dry_run: bool, json: bool) -> Result<()> {
    let kept = r
        .kept_as
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if json {
        return io::out_json(&serde_json::json!({
            "mode": "replace",
            "dry_run": dry_run,
            "secrets": r.secrets,
            "folders": r.folders,
            "replaced_secrets": r.replaced_secrets,
            "audit": r.audit.as_str(),
            "kept_as": kept,
        }));
    }
    let audit = r.audit.as_str();
    if dry_run {
        return io::outln(&format!(
            "dry run: would replace the vault ({}) with the backup ({}, {}); audit log would \
             be {audit}; the current vault would be kept as vault.db.pre-restore-TIME",
            plural(r.replaced_secrets, "secret"),
            plural(r.secrets, "secret"),
            plural(r.folders, "folder")
        ));
    }
    io::outln(&format!(
        "replaced the vault ({}) with the backup ({}, {}); audit log {audit}; the previous \
         vault is kept as {} (with vault.meta and vault.salt of the same suffix)",
        plural(r.replaced_secrets, "secret"),
        plural(r.secrets, "secret"),
        plural(r.folders, "folder"),
        kept.as_deref().unwrap_or("?")
    ))
}
