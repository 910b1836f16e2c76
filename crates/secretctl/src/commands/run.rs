//! `secretctl run`: a command with secrets in its environment and its output redacted
//! (SPEC §5.1, §5.2, §6). The command runs directly, never through a shell.

use super::inject::{candidate_names, resolve, resolve_field};
use crate::access::{self, Need};
use crate::cli::{Global, RunArgs};
use crate::failure::{EXIT_USAGE, Failure, Result};
use crate::io;
use secretctl_core::audit::Action;
use secretctl_core::environment;
use secretctl_core::pattern::Pattern;
use secretctl_core::policy::{self, AliasRule, Policy};
use secretctl_core::redact::Redactor;
use secretctl_core::runner::{self, OutputFilter, PassThrough, RunOptions, Sink};
use secretctl_core::secret::{Field, Secret};
use secretctl_core::transfer::{self, EnvValue, Reference};
use std::process::ExitCode;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Secrets expiring within this window get a warning.
const EXPIRY_WARNING: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

pub fn run(g: &Global, a: RunArgs) -> Result<ExitCode> {
    if a.keys.is_empty() && a.env_file.is_none() {
        return Err(Failure::usage(
            "nothing to inject: give -k PATTERN or --env-file FILE",
        ));
    }
    if let Some(prefix) = &a.env_prefix {
        environment::check_prefix(prefix)?;
    }
    let timeout = a
        .timeout
        .as_deref()
        .map(secretctl_core::duration::parse_duration)
        .transpose()?;
    let aliases = match &a.env_alias {
        Some(name) => Some(load_aliases(g, name)?),
        None => None,
    };
    let patterns = a
        .keys
        .iter()
        .map(|k| match &aliases {
            Some(rules) => Pattern::parse(&policy::alias_pattern(rules, k)),
            None => Pattern::parse(k),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let env_file = match &a.env_file {
        Some(path) => read_env_file(path)?,
        None => Vec::new(),
    };
    let references: Vec<Reference> = env_file
        .iter()
        .filter_map(|(_, v)| match v {
            EnvValue::Reference(r) => Some(vec![r.clone()]),
            EnvValue::Template(t) => transfer::references(t).ok(),
            EnvValue::Literal(_) => None,
        })
        .flatten()
        .collect();

    let mut vault = access::open(g, Need::Agent)?;
    let (mut secrets, referenced) = vault.fetch(
        &patterns,
        &candidate_names(&references),
        Action::Run,
        Some(a.command[0].to_string_lossy().into_owned()),
    )?;
    // Keys and values are in memory now; the vault and its keys are not needed while the
    // command runs (which may be for hours).
    drop(vault);
    if let Some(rules) = &aliases {
        policy::show_aliased_names(rules, &a.keys, &patterns, &mut secrets)?;
    }
    let referenced: Vec<Secret> = referenced.into_iter().flatten().collect();
    check_expiry(secrets.iter().chain(&referenced))?;

    let vars = environment::build(&secrets, a.env_prefix.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut extra_env: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::with_capacity(vars.len());
    // Only sensitive values are redacted: a host name or a port is not a secret, and
    // redacting it would mangle ordinary output.
    let mut redact_values: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    for v in &vars {
        let value = Zeroizing::new(v.value.expose_bytes().to_vec());
        if v.sensitive {
            redact_values.push((v.name.clone(), value.clone()));
        }
        extra_env.push((v.name.clone(), value));
    }
    for (name, value) in &env_file {
        environment::check_env_name(name)
            .map_err(|e| Failure::usage(format!("--env-file: {e}")))?;
        if extra_env.iter().any(|(n, _)| n == name) {
            return Err(Failure::usage(format!(
                "{name} is set both by -k and by --env-file"
            )));
        }
        let mut resolver = |r: &Reference| resolve(&referenced, r);
        let bytes = value
            .resolve(&mut resolver)
            .map_err(|e| Failure::failed(format!("--env-file: {name}: {e}")))?;
        // As with -k, only sensitive fields are redacted. A template embeds them in other text
        // (`postgres://u:{{ … }}@h`): the child may print a referenced secret on its own, so
        // each sensitive part is redacted too, and the whole value when it holds one.
        let sensitive: Vec<&Field> = value
            .references()
            .iter()
            .filter_map(|r| resolve_field(&referenced, r).ok())
            .filter(|f| f.sensitive)
            .collect();
        if !sensitive.is_empty() {
            redact_values.push((name.clone(), bytes.clone()));
        }
        if let EnvValue::Template(_) = value {
            for f in sensitive {
                redact_values.push((
                    name.clone(),
                    Zeroizing::new(f.value.expose_bytes().to_vec()),
                ));
            }
        }
        extra_env.push((name.clone(), bytes));
    }

    let pty = io::stdout_is_terminal();
    if pty {
        // The pseudo-terminal's line discipline turns `\n` into `\r\n` before we read the
        // output, so a multi-line value (a private key) arrives in that form.
        let crlf: Vec<(String, Zeroizing<Vec<u8>>)> = redact_values
            .iter()
            .filter(|(_, v)| v.contains(&b'\n'))
            .map(|(n, v)| (n.clone(), Zeroizing::new(to_crlf(v))))
            .collect();
        redact_values.extend(crlf);
    }
    let redactor = Arc::new(Redactor::new(
        redact_values
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice())),
    ));
    drop(redact_values);
    let sanitize = !a.no_sanitize;
    let make_filter = move || -> Box<dyn OutputFilter> {
        if sanitize {
            Box::new(redactor.stream_owned())
        } else {
            Box::new(PassThrough)
        }
    };
    let mut command = runner::Command::new(a.command[0].clone());
    command.args.extend(a.command[1..].iter().cloned());
    let opts = RunOptions {
        extra_env,
        timeout,
        pty,
        forward_signals: true,
        ..RunOptions::cli()
    };
    let outcome = runner::run(
        &command,
        &opts,
        Sink::stream(std::io::stdout()),
        Sink::stream(std::io::stderr()),
        &make_filter,
    )
    .map_err(|e| match e {
        runner::RunError::EnvName { .. } | runner::RunError::DuplicateEnv { .. } => {
            Failure::new(EXIT_USAGE, e.to_string())
        }
        e => Failure::failed(e.to_string()),
    })?;
    match outcome.status {
        runner::Status::NotFound => io::error_line(&format!(
            "{}: command not found",
            secretctl_core::secret::shown(&a.command[0].to_string_lossy())
        )),
        runner::Status::NotExecutable => io::error_line(&format!(
            "{}: not executable",
            secretctl_core::secret::shown(&a.command[0].to_string_lossy())
        )),
        runner::Status::TimedOut => io::error_line("the command timed out and was stopped"),
        _ => {}
    }
    Ok(ExitCode::from(outcome.status.exit_code()))
}

fn load_aliases(g: &Global, name: &str) -> Result<Vec<AliasRule>> {
    let path = g.vault_dir().policy();
    let policy = Policy::load(&path).map_err(|e| Failure::failed(format!("--env {name}: {e}")))?;
    policy
        .alias(name)
        .map(<[AliasRule]>::to_vec)
        .ok_or_else(|| {
            Failure::usage(format!(
                "--env {name}: {} has no env_aliases entry '{name}'",
                path.display()
            ))
        })
}

fn read_env_file(path: &std::path::Path) -> Result<Vec<(String, EnvValue)>> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::failed(format!("cannot read {shown}: {e}")))?;
    let bytes = Zeroizing::new(io::read_bounded(file, 1024 * 1024, &shown)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("{shown} is not UTF-8 text")))?;
    transfer::parse_env_file_with_refs(text).map_err(|e| Failure::usage(format!("{shown}: {e}")))
}

/// Expired secrets are refused; those expiring within 7 days get a warning (SPEC §5.1).
fn check_expiry<'a>(secrets: impl Iterator<Item = &'a Secret>) -> Result<()> {
    let now = jiff::Timestamp::now();
    for s in secrets {
        let Some(expires) = s.meta.expires_at else {
            continue;
        };
        if expires <= now {
            return Err(Failure::failed(format!(
                "secret '{}' expired at {expires}; renew it with `secretctl set` or change --expires",
                s.name
            )));
        }
        if expires.duration_since(now) < EXPIRY_WARNING {
            io::error_line(&format!(
                "warning: secret '{}' expires at {expires}",
                s.name
            ));
        }
    }
    Ok(())
}

/// `value` with every `\n` not already preceded by `\r` turned into `\r\n`.
fn to_crlf(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + value.len() / 16);
    for (i, &b) in value.iter().enumerate() {
        if b == b'\n' && (i == 0 || value[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}
