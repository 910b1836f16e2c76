//! `secretctl policy approve|show|check|edit` (SPEC §7.2): approving the MCP command policy
//! (`<vault>/mcp-policy.yaml`), showing its state, validating it and explaining a decision.
//!
//! Approval always asks for the master password (password file, `SECRETCTL_PASSWORD` or the
//! terminal) and never goes through the session agent: an agent that can talk to the session
//! agent must not be able to approve a policy it wrote.

use crate::cli::{Global, JsonArg, PolicyApproveArgs, PolicyCheckArgs, PolicyCommand};
use crate::failure::{EXIT_POLICY, Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::command_policy::{self, Approval, ApprovedCommand};
use secretctl_core::crypto::constant_time_eq;
use secretctl_core::policy::{OutputMode, Policy, PolicyError};
use secretctl_core::vault::{Session, Vault};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `policy edit` starts when the file does not exist yet.
const TEMPLATE: &str = "\
# secretctl MCP command policy (SPEC §7.2). Only the commands listed here may be run by an
# MCP agent, with only the secrets their `keys` allow. After every change, run
# `secretctl policy approve` (the MCP server refuses an unapproved or changed policy).
version: 2
default_action: deny
commands: []
#  - name: aws                     # an absolute path, or a bare name found on your PATH
#    keys: [\"aws/*\"]              # which secrets this command may receive (required)
#    args_deny: [\"configure export-credentials *\"]
#    timeout: 10m                  # default 5m, max 1h
#    output: redacted              # redacted (default) | tail:N | none
";

/// Dispatches a `policy` subcommand.
pub fn run(g: &Global, cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Approve(a) => approve(g, &a),
        PolicyCommand::Show(a) => show(g, &a),
        PolicyCommand::Check(a) => check(g, &a),
        PolicyCommand::Edit(a) => edit(g, &a),
    }
}

/// The policy file of the selected vault.
fn policy_path(g: &Global) -> PathBuf {
    g.vault_dir().policy()
}

/// A policy that cannot be loaded: exit 1, saying where to write a missing one.
fn load_failure(e: PolicyError) -> Failure {
    match e {
        PolicyError::Missing(path) => Failure::failed(format!(
            "no MCP policy: {} does not exist; write it (mode 0600) or run `secretctl policy edit`",
            path.display()
        )),
        other => Failure::failed(other.to_string()),
    }
}

/// Loads the policy (with the file checks of [`Policy::load`]) and returns it with the exact
/// bytes it was parsed from, which are what the approval's HMAC covers.
fn load(path: &Path) -> Result<(Policy, Vec<u8>)> {
    Policy::load_with_bytes(path).map_err(load_failure)
}

/// The stored approval, if any.
pub(super) fn stored_approval(session: &Session) -> Result<Option<Approval>> {
    let Some(json) = session.policy_approval()? else {
        return Ok(None);
    };
    let text = String::from_utf8(json)
        .map_err(|_| Failure::failed("the stored policy approval is not UTF-8"))?;
    Approval::from_json(&text)
        .map(Some)
        .map_err(|e| Failure::failed(e.to_string()))
}

/// The approving user's PATH (empty when unset: only absolute command names then resolve).
fn path_env() -> OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// `policy approve`: resolve and pin every command, show what changed, confirm, store.
fn approve(g: &Global, a: &PolicyApproveArgs) -> Result<()> {
    let path = policy_path(g);
    // The vault is checked before the policy, so a missing vault is reported as such.
    Vault::open(&g.vault_dir())?;
    let (policy, bytes) = load(&path)?;
    approve_loaded(g, a, &policy, &bytes)
}

/// The approval flow once the policy is loaded and valid (shared with `policy edit`).
fn approve_loaded(g: &Global, a: &PolicyApproveArgs, policy: &Policy, bytes: &[u8]) -> Result<()> {
    // Decide how to confirm before asking for the password, so a script without --yes fails
    // fast and without a prompt.
    if !a.yes && !io::have_tty() {
        return Err(Failure::usage(
            "approving the MCP policy needs confirmation on a terminal; pass --yes",
        ));
    }
    // Always the master password, never the session agent (SPEC §7.2).
    let mut session = password::unlock(g)?;
    let approval = command_policy::approve(policy, bytes, &session.policy_key(), &path_env())
        .map_err(|e| {
            Failure::new(
                EXIT_POLICY,
                format!("policy not approved: {} ({})", e, e.reason()),
            )
        })?;
    // A damaged stored approval is replaced, and the user is told.
    let mut text = String::new();
    let old = stored_approval(&session).unwrap_or_else(|e| {
        text.push_str(&format!(
            "the stored approval is unreadable and will be replaced: {}\n",
            e.message
        ));
        None
    });
    for line in command_policy::diff(old.as_ref(), &approval) {
        text.push_str(&line);
        text.push('\n');
    }
    if old.as_ref() == Some(&approval) {
        text.push_str("no changes since the last approval\n");
    }
    io::out(text.as_bytes())?;
    if !a.yes
        && !io::confirm(&format!(
            "Approve {} commands for MCP agents?",
            approval.commands.len()
        ))?
    {
        return Err(Failure::failed(
            "the policy was not approved; nothing was changed",
        ));
    }
    session.set_policy_approval(approval.to_json().as_bytes(), Source::Cli)?;
    io::outln(&format!("approved {} commands", approval.commands.len()))
}

/// Whether an approved binary is still the one pinned: `ok`, `changed` or `missing`.
pub(super) fn binary_state(c: &ApprovedCommand) -> &'static str {
    match command_policy::hash_file(&c.canonical_path) {
        Ok(hash) if constant_time_eq(&hash, &c.sha256) => "ok",
        Ok(_) => "changed",
        Err(_) => "missing",
    }
}

/// `output` as written in the policy.
fn output_text(o: OutputMode) -> String {
    match o {
        OutputMode::Redacted => "redacted".into(),
        OutputMode::Tail(n) => format!("tail:{n}"),
        OutputMode::None => "none".into(),
    }
}

/// A timeout as the policy would write it (`10m`, `90s`, `1h`).
fn timeout_text(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// `policy show`: the parsed policy and its approval state.
fn show(g: &Global, a: &JsonArg) -> Result<()> {
    let path = policy_path(g);
    Vault::open(&g.vault_dir())?;
    let (policy, bytes) = load(&path)?;
    let session = password::unlock(g)?;
    let approval = stored_approval(&session)?;
    let state = match &approval {
        None => "not approved",
        Some(ap) => {
            let mac = command_policy::policy_hmac(&session.policy_key(), &bytes);
            if constant_time_eq(&mac, &ap.policy_hmac) {
                "approved"
            } else {
                "changed since approval"
            }
        }
    };
    let pinned = |name: &str| {
        approval
            .as_ref()
            .and_then(|ap| ap.commands.iter().find(|c| c.name == name))
    };
    if a.json {
        let commands: Vec<serde_json::Value> = policy
            .commands
            .iter()
            .map(|r| {
                let pin = pinned(&r.name);
                serde_json::json!({
                    "name": r.name,
                    "keys": r.keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "timeout": timeout_text(r.timeout),
                    "timeout_secs": r.timeout.as_secs(),
                    "output": output_text(r.output),
                    "args_deny": r.args_deny,
                    "danger_allow_args": r.danger_allow_args,
                    "canonical_path": pin.map(|c| c.canonical_path.to_string_lossy().into_owned()),
                    "sha256": pin.map(|c| hex::encode(c.sha256)),
                    "binary": pin.map(binary_state).unwrap_or("not approved"),
                })
            })
            .collect();
        return io::out_json(&serde_json::json!({
            "path": path.to_string_lossy(),
            "version": policy.version,
            "approval": state,
            "commands": commands,
            "denied_commands": policy.denied_commands,
            "env_aliases": policy.env_aliases.keys().collect::<Vec<_>>(),
        }));
    }
    let mut text = format!(
        "policy: {} (version {})\napproval: {state}\n",
        path.display(),
        policy.version
    );
    if policy.commands.is_empty() {
        text.push_str("commands: none\n");
    }
    for r in &policy.commands {
        text.push_str(&format!("command {}\n", r.name));
        let keys: Vec<&str> = r.keys.iter().map(|k| k.as_str()).collect();
        text.push_str(&format!("  keys: {}\n", keys.join(", ")));
        text.push_str(&format!(
            "  timeout: {}  output: {}\n",
            timeout_text(r.timeout),
            output_text(r.output)
        ));
        if !r.args_deny.is_empty() {
            text.push_str(&format!("  args_deny: {}\n", r.args_deny.join(" | ")));
        }
        if !r.danger_allow_args.is_empty() {
            text.push_str(&format!(
                "  danger_allow_args: {}\n",
                r.danger_allow_args.join(", ")
            ));
        }
        match pinned(&r.name) {
            Some(c) => text.push_str(&format!(
                "  binary: {} {}\n",
                c.canonical_path.display(),
                binary_state(c)
            )),
            None => text.push_str("  binary: not approved\n"),
        }
    }
    if !policy.denied_commands.is_empty() {
        text.push_str(&format!(
            "denied_commands: {}\n",
            policy.denied_commands.join(", ")
        ));
    }
    if !policy.env_aliases.is_empty() {
        let names: Vec<&str> = policy.env_aliases.keys().map(String::as_str).collect();
        text.push_str(&format!("env_aliases: {}\n", names.join(", ")));
    }
    io::out(text.as_bytes())
}

/// `policy check`: validate and lint the file, or explain the decision for a command line.
fn check(g: &Global, a: &PolicyCheckArgs) -> Result<()> {
    let path = policy_path(g);
    match a.command.split_first() {
        None => lint(&path),
        Some((command, args)) => explain(g, &path, command, args),
    }
}

/// Validates the policy and prints warnings; an always-denied command fails (exit 1).
fn lint(path: &Path) -> Result<()> {
    let (policy, _) = load(path)?;
    let mut text = String::new();
    let mut denied = Vec::new();
    for r in &policy.commands {
        let base = Path::new(&r.name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&r.name);
        if command_policy::is_always_denied_name(base) {
            denied.push(format!(
                "command {} is always denied: {}",
                r.name,
                why_denied(base)
            ));
        } else if r.name.contains('/') && !r.name.starts_with('/') {
            text.push_str(&format!(
                "warning: command {} is a relative path; `policy approve` refuses it\n",
                r.name
            ));
        }
        if !r.danger_allow_args.is_empty() {
            text.push_str(&format!(
                "warning: command {} lifts built-in argument guards with danger_allow_args: {}\n",
                r.name,
                r.danger_allow_args.join(", ")
            ));
        }
        for k in &r.keys {
            if matches!(k.as_str(), "*" | "**") {
                text.push_str(&format!(
                    "warning: command {} may receive every secret (keys: {})\n",
                    r.name,
                    k.as_str()
                ));
            }
        }
    }
    if policy.version == 1 {
        text.push_str(
            "warning: version 1 policy: its commands may receive any key; move to version 2 and list keys\n",
        );
    }
    if !denied.is_empty() {
        // A failure is one line on stderr and nothing on stdout (SPEC §4.1).
        return Err(Failure::failed(format!(
            "{}: {}; remove it from the policy",
            path.display(),
            denied.join("; ")
        )));
    }
    text.push_str(&format!(
        "{}: valid, {} command{}\n",
        path.display(),
        policy.commands.len(),
        if policy.commands.len() == 1 { "" } else { "s" }
    ));
    io::out(text.as_bytes())
}

/// Why a program is always denied, in words a user can act on.
fn why_denied(name: &str) -> &'static str {
    match name {
        "env" | "printenv" => {
            "it prints the environment, so an agent would read every secret given to it"
        }
        "sh" | "bash" | "dash" | "zsh" | "fish" | "ksh" | "csh" | "tcsh" | "busybox" | "script"
        | "ash" | "mksh" | "rbash" => {
            "a shell runs any command and can print any environment variable (echo $SECRET)"
        }
        "xargs" | "nice" | "nohup" | "timeout" | "stdbuf" | "setsid" | "time" | "strace"
        | "sudo" | "doas" | "su" | "chroot" | "unshare" | "flock" | "watch" | "parallel"
        | "ssh" => "it runs another program, which the policy would then not control",
        _ => "an interpreter can run any code and print any environment variable",
    }
}

/// Explains the decision for one command line against the stored approval (no keys).
fn explain(g: &Global, path: &Path, command: &str, args: &[String]) -> Result<()> {
    Vault::open(&g.vault_dir())?;
    let (policy, bytes) = load(path)?;
    let session = password::unlock(g)?;
    let approval = stored_approval(&session)?;
    match command_policy::decide(
        &policy,
        &bytes,
        approval.as_ref(),
        &session.policy_key(),
        command,
        args,
        &[],
    ) {
        Ok(d) => io::outln(&format!(
            "allowed: {} (rule {}, timeout {}, output {})",
            d.canonical_path.display(),
            d.rule_name,
            timeout_text(d.timeout),
            output_text(d.output)
        )),
        Err(denial) => Err(Failure::new(
            EXIT_POLICY,
            format!("denied: {}: {denial}", denial.reason()),
        )),
    }
}

/// `policy edit`: `$EDITOR` (else `vi`) on the policy, created from a template if missing;
/// then validation and the approval flow.
fn edit(g: &Global, a: &PolicyApproveArgs) -> Result<()> {
    Vault::open(&g.vault_dir())?;
    let path = policy_path(g);
    if std::fs::symlink_metadata(&path).is_err() {
        io::write_private_file(&path, TEMPLATE.as_bytes(), false)?;
    }
    let editor = std::env::var_os("EDITOR")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "vi".into());
    // The editor may be "code -w": split on whitespace, never through a shell.
    let editor = editor.to_string_lossy().into_owned();
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&path)
        .status()
        .map_err(|e| Failure::failed(format!("cannot start the editor {program}: {e}")))?;
    if !status.success() {
        return Err(Failure::failed(format!(
            "the editor {program} failed; the policy was not approved"
        )));
    }
    let (policy, bytes) = load(&path)?;
    approve_loaded(g, a, &policy, &bytes)
}
