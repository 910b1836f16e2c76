//! `secretctl set`: create or update a secret. Sensitive values never come from argv.

use crate::access::{self, Need};
use crate::cli::{Global, SetArgs};
use crate::failure::{Failure, Result};
use crate::io;
use secretctl_core::secret::{MAX_VALUE_LEN, SecretUpdate, SecretValue, Template};
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
    let folder = match (&a.folder, a.no_folder) {
        (Some(path), _) => Some(Some(secretctl_core::secret::FolderPath::parse(path)?)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let template = a.template.as_deref().and_then(Template::parse);
    let mut sensitivity: Vec<(String, bool)> =
        a.sensitive.iter().map(|n| (n.clone(), true)).collect();
    sensitivity.extend(a.plain.iter().map(|n| (n.clone(), false)));
    let bindings = a
        .bindings
        .iter()
        .map(|b| {
            b.split_once('=')
                .map(|(env, field)| (env.to_owned(), field.to_owned()))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "--binding takes ENV=FIELD, not {}",
                        secretctl_core::secret::shown(b)
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut update = SecretUpdate {
        notes: a.notes.map(empty_to_none),
        url: a.url.map(empty_to_none),
        tags,
        expires_at,
        folder,
        sensitivity,
        bindings,
        template,
        remove_fields: a.remove_fields,
        unbind: a.unbind,
        ..Default::default()
    };
    update.validate()?;
    update.fields = read_fields(&a.fields, &update, a.keep_newline)?;
    update.validate()?;
    let changes_structure = !update.remove_fields.is_empty()
        || !update.unbind.is_empty()
        || !update.bindings.is_empty()
        || !update.sensitivity.is_empty();
    let reads_default_value =
        !a.keep_value && a.fields.is_empty() && template.is_none() && !changes_structure;
    if reads_default_value || a.from_file.is_some() {
        update.value = Some(read_value(&a.key, a.from_file.as_deref(), a.keep_newline)?);
    }
    let outcome = access::open(g, Need::Agent)?.set(&name, update)?;
    if !io::stdout_is_terminal() {
        return Ok(());
    }
    let verb = match outcome {
        SetOutcome::Created => "created",
        SetOutcome::Updated => "updated",
    };
    io::outln(&format!("{verb} {name}"))
}

/// Reads `--field NAME=VALUE` arguments. A value on the command line is visible to every local
/// user through `ps` and stays in shell history, so it is accepted only for fields declared not
/// sensitive (by `--plain` or the template); others must use `NAME=-`.
fn read_fields(
    args: &[String],
    update: &SecretUpdate,
    keep_newline: bool,
) -> Result<Vec<(String, SecretValue)>> {
    let mut fields = Vec::new();
    let mut stdin_used = false;
    for arg in args {
        let (name, value) = arg.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "--field takes NAME=VALUE or NAME=-, not {}",
                secretctl_core::secret::shown(arg)
            ))
        })?;
        secretctl_core::secret::check_field_name(name)?;
        if fields
            .iter()
            .any(|(n, _): &(String, SecretValue)| n == name)
        {
            return Err(Failure::usage(format!("field '{name}' is given twice")));
        }
        let value = if value == "-" {
            if io::stdin_is_terminal() {
                let mut typed = io::prompt_hidden(&format!("Value for field {name}: "))?.to_vec();
                io::strip_one_newline(&mut typed);
                nonempty(typed)?
            } else {
                if stdin_used {
                    return Err(Failure::usage(
                        "only one field can read its value from stdin",
                    ));
                }
                stdin_used = true;
                let mut bytes =
                    io::read_bounded(std::io::stdin().lock(), MAX_VALUE_LEN + 2, "the value")?;
                if !keep_newline {
                    io::strip_one_newline(&mut bytes);
                }
                nonempty(bytes)?
            }
        } else {
            let declared_plain = update.sensitivity.iter().any(|(n, s)| n == name && !s)
                || update
                    .template
                    .and_then(|t| t.field(name))
                    .is_some_and(|def| !def.sensitive)
                    && !update.sensitivity.iter().any(|(n, s)| n == name && *s);
            if !declared_plain {
                return Err(Failure::usage(format!(
                    "field '{name}' is sensitive: a value on the command line leaks through `ps` and shell \
                     history; pass --field {name}=- to type or pipe it (or --plain {name} if it is not secret)"
                )));
            }
            nonempty(value.as_bytes().to_vec())?
        };
        fields.push((name.to_owned(), value));
    }
    Ok(fields)
}

fn read_value(
    key: &str,
    from_file: Option<&std::path::Path>,
    keep_newline: bool,
) -> Result<SecretValue> {
    if let Some(path) = from_file {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::failed(format!("cannot read {}: {e}", path.display())))?;
        // A file is stored byte for byte.
        return nonempty(io::read_bounded(file, MAX_VALUE_LEN, "the value")?);
    }
    let mut bytes = if io::stdin_is_terminal() {
        io::prompt_hidden(&format!("Value for {key}: "))?.to_vec()
    } else {
        io::read_bounded(std::io::stdin().lock(), MAX_VALUE_LEN + 2, "the value")?
    };
    if !keep_newline {
        io::strip_one_newline(&mut bytes);
    }
    nonempty(bytes)
}

/// A value for `set`: an empty one (a forgotten pipe, an empty file) is refused as a likely
/// accident; imports may still carry empty values.
fn nonempty(bytes: Vec<u8>) -> Result<SecretValue> {
    if bytes.is_empty() {
        return Err(secretctl_core::secret::InputError::EmptyValue.into());
    }
    Ok(SecretValue::new(bytes)?)
}
