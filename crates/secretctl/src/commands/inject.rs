//! `secretctl inject`: render `{{ secretctl://KEY[/FIELD] }}` references (SPEC §5.4).

use crate::access::{self, Need};
use crate::cli::{Global, InjectArgs};
use crate::failure::{Failure, Result};
use crate::io;
use secretctl_core::audit::Action;
use secretctl_core::secret::{Field, KeyName, Secret};
use secretctl_core::transfer::{self, InjectError, Reference};
use zeroize::Zeroizing;

pub fn run(g: &Global, a: InjectArgs) -> Result<()> {
    let shown = a.input.display().to_string();
    let file = std::fs::File::open(&a.input)
        .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")))?;
    let bytes = io::read_bounded(file, 16 * 1024 * 1024, &shown)?;
    let template = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{shown} is not UTF-8 text")))?;
    let references =
        transfer::references(&template).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let names = candidate_names(&references);
    // Into a file, the agent may render it; to stdout it is a plaintext read.
    let need = if a.output.is_some() {
        Need::Agent
    } else {
        Need::Reveal
    };
    let (_, found) = access::open(g, need)?.fetch(&[], &names, Action::Inject, None)?;
    let secrets: Vec<Secret> = found.into_iter().flatten().collect();
    let mut resolve =
        |r: &Reference| -> Result<Zeroizing<Vec<u8>>, String> { resolve(&secrets, r) };
    let rendered = transfer::render_template(&template, &mut resolve).map_err(|e| match e {
        InjectError::Resolve {
            reference,
            line,
            column,
            error,
        } => Failure::failed(format!(
            "{shown}:{line}:{column}: secretctl://{}: {error}",
            reference.path
        )),
        other => Failure::usage(format!("{shown}: {other}")),
    })?;
    match &a.output {
        Some(path) => io::write_private_file(path, &rendered, a.force),
        None => io::out(&rendered),
    }
}

/// Every key a reference might name: the whole path, and the path without its last segment.
pub fn candidate_names(references: &[Reference]) -> Vec<KeyName> {
    let mut names: Vec<KeyName> = Vec::new();
    for r in references {
        for (key, _) in r.candidates() {
            if let Ok(name) = KeyName::parse(&key)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
    }
    names
}

/// The field a reference stands for: the whole path as a plain secret's key, else the last
/// segment as a field of the secret named by the rest.
pub fn resolve_field<'a>(secrets: &'a [Secret], r: &Reference) -> Result<&'a Field, String> {
    for (key, field) in r.candidates() {
        let Some(secret) = secrets.iter().find(|s| s.name.as_str() == key) else {
            continue;
        };
        return match field.as_deref() {
            Some(f) => secret
                .field(f)
                .ok_or_else(|| format!("secret '{key}' has no field '{f}'")),
            None if secret.is_plain() => Ok(&secret.fields[0]),
            None => Err(format!(
                "secret '{key}' has several fields; name one as secretctl://{key}/FIELD"
            )),
        };
    }
    Err("no such secret".into())
}

/// The value a reference stands for (see [`resolve_field`]).
pub fn resolve(secrets: &[Secret], r: &Reference) -> Result<Zeroizing<Vec<u8>>, String> {
    resolve_field(secrets, r).map(|f| Zeroizing::new(f.value.expose_bytes().to_vec()))
}
