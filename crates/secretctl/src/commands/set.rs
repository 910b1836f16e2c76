//! `secretctl set`: create or update a secret. Values never come from argv.

use crate::cli::{Global, SetArgs};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::secret::{MAX_VALUE_LEN, SecretUpdate, SecretValue};
use secretctl_core::vault::SetOutcome;

pub fn run(g: &Global, a: SetArgs) -> Result<()> {
    let name = super::parse_key(&a.key)?;
    let empty_to_none = |s: String| if s.is_empty() { None } else { Some(s) };
    let tags = a.tags.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let expires_at = match a.expires.as_deref() {
        None => None,
        Some("never") => Some(None),
        Some(when) => Some(Some(secretctl_core::duration::parse_expiry(
            when,
            jiff::Timestamp::now(),
        )?)),
    };
    let mut update = SecretUpdate {
        value: None,
        notes: a.notes.map(empty_to_none),
        url: a.url.map(empty_to_none),
        tags,
        expires_at,
    };
    update.validate()?;
    if !a.keep_value {
        update.value = Some(read_value(&a.key, a.from_file.as_deref(), a.keep_newline)?);
    }
    let mut session = password::unlock(g)?;
    let outcome = session.set(&name, update, Source::Cli)?;
    let verb = match outcome {
        SetOutcome::Created => "created",
        SetOutcome::Updated => "updated",
    };
    if !io::stdout_is_terminal() {
        return Ok(());
    }
    io::outln(&format!("{verb} {name}"))
}

fn read_value(
    key: &str,
    from_file: Option<&std::path::Path>,
    keep_newline: bool,
) -> Result<SecretValue> {
    let mut bytes = if let Some(path) = from_file {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::failed(format!("cannot read {}: {e}", path.display())))?;
        // A file is stored byte for byte.
        return Ok(SecretValue::new(io::read_bounded(
            file,
            MAX_VALUE_LEN,
            "the value",
        )?)?);
    } else if io::stdin_is_terminal() {
        io::prompt_hidden(&format!("Value for {key}: "))?.to_vec()
    } else {
        io::read_bounded(std::io::stdin().lock(), MAX_VALUE_LEN + 2, "the value")?
    };
    if !keep_newline {
        io::strip_one_newline(&mut bytes);
    }
    Ok(SecretValue::new(bytes)?)
}
