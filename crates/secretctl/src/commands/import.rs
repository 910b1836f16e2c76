//! `secretctl import`: secrets from an env, JSON or YAML file, from another password manager's
//! export, or from a vault of the original Go secretctl, in one transaction (SPEC §5.3).

use crate::cli::{Global, ImportArgs, ImportFormat, OnConflict};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::crypto::Passphrase;
use secretctl_core::secret::{KeyName, SecretValue};
use secretctl_core::transfer::{self, Competitor, go_vault::GoVaultError};
use secretctl_core::vault::{self, ImportPlan};

/// Import files are read whole; 64 MiB is far above any real secrets file.
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn run(g: &Global, a: ImportArgs) -> Result<()> {
    if let Some(source) = a.from.as_deref() {
        return from(g, &a, source);
    }
    if a.source_password_file.is_some() {
        return Err(Failure::usage(
            "--source-password-file goes with --from secretctl-go",
        ));
    }
    let shown = a.file.display().to_string();
    let file = std::fs::File::open(&a.file)
        .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")))?;
    let bytes = zeroize::Zeroizing::new(io::read_bounded(file, MAX_IMPORT_BYTES, &shown)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{shown} is not UTF-8 text")))?;
    let format = a.format.unwrap_or_else(|| guess_format(&a.file));
    let parsed = match format {
        ImportFormat::Env => transfer::parse_dotenv(text),
        ImportFormat::Json => transfer::parse_json(text),
        ImportFormat::Yaml => transfer::parse_yaml(text),
    }
    .map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let mut items = Vec::with_capacity(parsed.len());
    for item in parsed {
        let name =
            KeyName::parse(&item.key).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
        let value = SecretValue::new(item.value.to_vec())
            .map_err(|e| Failure::usage(format!("{shown}: key '{name}': {e}")))?;
        items.push((name, value));
    }
    let mut session = password::unlock(g)?;
    let plan = session.import(
        items,
        on_conflict(a.on_conflict),
        &a.tag,
        a.dry_run,
        Source::Cli,
    )?;
    report(&plan, &[], a.dry_run)
}

/// `--from SOURCE`: whole secrets with fields, folders and tags, from another manager's export
/// or from a secretctl-go vault (read-only). The source is read and converted before the vault
/// is unlocked, so a bad file costs no password.
fn from(g: &Global, a: &ImportArgs, source: &str) -> Result<()> {
    let shown = a.file.display().to_string();
    let conversion = if source == "secretctl-go" {
        let password = match &a.source_password_file {
            Some(path) => password::from_file(path)?,
            None if io::have_tty() => Passphrase::new(
                io::prompt_hidden("Master password of the secretctl-go vault: ")?.to_vec(),
            ),
            None => {
                return Err(Failure::auth(
                    "the secretctl-go vault's master password is needed: give \
                     --source-password-file FILE, or run in a terminal",
                ));
            }
        };
        transfer::go_vault::read(&a.file, &password).map_err(|e| match e {
            GoVaultError::WrongPassword => Failure::auth(e.to_string()),
            e => Failure::failed(e.to_string()),
        })?
    } else {
        if a.source_password_file.is_some() {
            return Err(Failure::usage(
                "--source-password-file goes with --from secretctl-go",
            ));
        }
        let competitor = Competitor::parse(source)
            .ok_or_else(|| Failure::usage(format!("unknown source {source}")))?;
        let file = std::fs::File::open(&a.file)
            .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")))?;
        let bytes = zeroize::Zeroizing::new(io::read_bounded(file, MAX_IMPORT_BYTES, &shown)?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Failure::usage(format!("{shown} is not UTF-8 text")))?;
        competitor
            .convert(text)
            .map_err(|e| Failure::usage(format!("{shown}: {e}")))?
    };
    let mut session = password::unlock(g)?;
    let plan = session.import_records(
        conversion.records,
        on_conflict(a.on_conflict),
        &a.tag,
        a.dry_run,
        Source::Cli,
    )?;
    report(&plan, &conversion.unsupported, a.dry_run)
}

fn on_conflict(o: OnConflict) -> vault::OnConflict {
    match o {
        OnConflict::Skip => vault::OnConflict::Skip,
        OnConflict::Overwrite => vault::OnConflict::Overwrite,
        OnConflict::Error => vault::OnConflict::Error,
    }
}

fn guess_format(path: &std::path::Path) -> ImportFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => ImportFormat::Json,
        Some("yaml" | "yml") => ImportFormat::Yaml,
        _ => ImportFormat::Env,
    }
}

/// One line per secret, then one per thing the source held that was not carried over, then the
/// counts.
fn report(plan: &ImportPlan, unsupported: &[String], dry_run: bool) -> Result<()> {
    let mut text = String::new();
    let (create, overwrite, skip) = if dry_run {
        ("would create", "would overwrite", "would skip")
    } else {
        ("created", "overwrote", "skipped")
    };
    for (verb, names) in [
        (create, &plan.created),
        (overwrite, &plan.overwritten),
        (skip, &plan.skipped),
    ] {
        for name in names {
            text.push_str(&format!("{verb} {name}\n"));
        }
    }
    for line in unsupported {
        text.push_str(&format!("not carried: {line}\n"));
    }
    text.push_str(&format!(
        "{}: {} created, {} overwritten, {} skipped\n",
        if dry_run { "dry run" } else { "imported" },
        plan.created.len(),
        plan.overwritten.len(),
        plan.skipped.len()
    ));
    io::out(text.as_bytes())
}
