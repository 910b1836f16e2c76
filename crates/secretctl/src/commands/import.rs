//! `secretctl import`: secrets from an env, JSON or YAML file, in one transaction (SPEC §5.3).

use crate::cli::{Global, ImportArgs, ImportFormat, OnConflict};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::secret::{KeyName, SecretValue};
use secretctl_core::transfer;
use secretctl_core::vault::{self, ImportPlan};

/// Import files are read whole; 64 MiB is far above any real secrets file.
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn run(g: &Global, a: ImportArgs) -> Result<()> {
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
    let on_conflict = match a.on_conflict {
        OnConflict::Skip => vault::OnConflict::Skip,
        OnConflict::Overwrite => vault::OnConflict::Overwrite,
        OnConflict::Error => vault::OnConflict::Error,
    };
    let mut session = password::unlock(g)?;
    let plan = session.import(items, on_conflict, &a.tag, a.dry_run, Source::Cli)?;
    report(&plan, a.dry_run)
}

fn guess_format(path: &std::path::Path) -> ImportFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => ImportFormat::Json,
        Some("yaml" | "yml") => ImportFormat::Yaml,
        _ => ImportFormat::Env,
    }
}

fn report(plan: &ImportPlan, dry_run: bool) -> Result<()> {
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
    text.push_str(&format!(
        "{}: {} created, {} overwritten, {} skipped\n",
        if dry_run { "dry run" } else { "imported" },
        plan.created.len(),
        plan.overwritten.len(),
        plan.skipped.len()
    ));
    io::out(text.as_bytes())
}
