//! Which command line an MCP agent may run (SPEC §7.2): resolving a requested program to a
//! canonical path, the always-denied programs (by file name and by content), the built-in
//! argument guards, the policy's own `args_deny`, approval (binary pinning plus an HMAC of the
//! policy file) and the final allow/deny decision.
//!
//! Pure decision logic over file facts: this module reads and hashes binaries and reads
//! directories, but it never spawns a process, never writes a file and never touches the vault.
//! Storing an [`Approval`] and running the decided command belong to the caller (SPEC §7.3).

use crate::crypto::{SubKey, constant_time_eq};
use crate::policy::{CommandRule, OutputMode, Policy};
use crate::secret::{KeyName, shown};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Domain prefix of the policy HMAC, so the MAC cannot be confused with another use of the key.
const POLICY_MAC_DOMAIN: &[u8] = b"secretctl mcp-policy approval v1\0";

/// Directories whose always-denied binaries are hashed for the content check (SPEC §7.2).
pub const STANDARD_DIRS: &[&str] = &["/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"];

/// Programs that are always denied, whatever the policy says (SPEC §7.2), plus a few aliases
/// of the same programs (`ash`, `mksh`, `rbash`, `nawk`, `nodejs`). `python*` is handled as a
/// prefix in [`is_always_denied_name`].
pub const ALWAYS_DENIED: &[&str] = &[
    // print the environment
    "env",
    "printenv",
    // shells
    "sh",
    "bash",
    "dash",
    "zsh",
    "fish",
    "ksh",
    "csh",
    "tcsh",
    "busybox",
    "script",
    "ash",
    "mksh",
    "rbash", // exec wrappers
    "xargs",
    "nice",
    "nohup",
    "timeout",
    "stdbuf",
    "setsid",
    "time",
    "strace",
    "sudo",
    "doas",
    "su",
    "chroot",
    "unshare",
    "flock",
    "watch",
    "parallel",
    "ssh", // interpreters
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "jq",
    "osascript",
    "pwsh",
    "tclsh",
];

/// Whether a program's file name is always denied (SPEC §7.2).
///
/// `python*` is a prefix rule (`python3.11`). For the other names a version suffix made of
/// digits, `.` and `-` is ignored, so `perl5.36.0`, `lua5.4` and `tclsh8.6` are denied too.
pub fn is_always_denied_name(file_name: &str) -> bool {
    if file_name.starts_with("python") {
        return true;
    }
    let stem = file_name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    ALWAYS_DENIED.contains(&file_name) || ALWAYS_DENIED.contains(&stem)
}

/// Whether `sha256` is the hash of an always-denied binary found in [`STANDARD_DIRS`] on this
/// system (SPEC §7.2), so that a renamed copy of `/bin/sh` is still refused.
///
/// The set is computed on first use and cached for the life of the process.
pub fn is_always_denied_hash(sha256: &[u8; 32]) -> bool {
    static DENIED: OnceLock<HashSet<[u8; 32]>> = OnceLock::new();
    DENIED.get_or_init(denied_hashes).contains(sha256)
}

fn denied_hashes() -> HashSet<[u8; 32]> {
    let mut seen = HashSet::new();
    let mut hashes = HashSet::new();
    for dir in STANDARD_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_str().is_some_and(is_always_denied_name) {
                continue;
            }
            let Ok(canonical) = std::fs::canonicalize(entry.path()) else {
                continue;
            };
            if seen.insert(canonical.clone())
                && let Ok(hash) = hash_file(&canonical)
            {
                hashes.insert(hash);
            }
        }
    }
    hashes
}

/// SHA-256 of a regular file's content, streamed (binaries can be large).
///
/// Anything but a regular file (after following symlinks) is an error, so a FIFO planted at a
/// pinned path cannot block the caller.
pub fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    crate::crypto::sha256_reader(std::fs::File::open(path)?)
}

/// Why a command line is refused. [`Denial::reason`] is the machine code recorded in the audit
/// log; the message is one line and names the command, a guard or a key — never an argument
/// value or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// No approval is stored for the policy.
    #[error("the MCP policy is not approved; run `secretctl policy approve`")]
    Unapproved,
    /// The policy file changed after approval.
    #[error("the MCP policy changed since it was approved; run `secretctl policy approve`")]
    PolicyChanged,
    /// The approved binary was replaced, removed, or its path now resolves elsewhere.
    #[error(
        "command {command} changed since the policy was approved; run `secretctl policy approve`"
    )]
    BinaryChanged {
        /// The command, as shown.
        command: String,
    },
    /// The command is not in the policy (or is a listed name in another directory).
    #[error("command {command} is not allowed by the MCP policy")]
    NotAllowed {
        /// The command, as shown.
        command: String,
    },
    /// The program is always denied (SPEC §7.2).
    #[error(
        "command {command} is always denied ({why}); it can run other programs or print the environment"
    )]
    AlwaysDenied {
        /// The command, as shown.
        command: String,
        /// `by name` or `by content`.
        why: &'static str,
    },
    /// A relative path such as `./env` or `bin/x`.
    #[error(
        "command {command} is a relative path; use an absolute path or a name the policy lists"
    )]
    RelativePath {
        /// The command, as shown.
        command: String,
    },
    /// A built-in argument guard fired.
    #[error(
        "argument guard {guard} refused the arguments; a policy lifts it only with danger_allow_args"
    )]
    ArgGuard {
        /// The guard's name, e.g. `git:-c`.
        guard: &'static str,
    },
    /// One of the rule's `args_deny` patterns matched.
    #[error("the arguments match the policy's args_deny pattern {pattern}")]
    ArgsDeny {
        /// The pattern, as shown.
        pattern: String,
    },
    /// A requested key is outside the rule's `keys`.
    #[error("key {key} is not allowed for command {command}")]
    KeyNotAllowed {
        /// The key name.
        key: KeyName,
        /// The rule's name, as shown.
        command: String,
    },
    /// A version 1 policy lists the command in `denied_commands`.
    #[error("command {command} is in the policy's denied_commands")]
    DeniedCommand {
        /// The command, as shown.
        command: String,
    },
}

impl Denial {
    /// The machine reason code (`unapproved`, `policy_changed`, `binary_changed`, `not_allowed`,
    /// `always_denied`, `relative_path`, `arg_guard(NAME)`, `args_deny`, `key_not_allowed`,
    /// `denied_command`).
    pub fn reason(&self) -> String {
        match self {
            Denial::Unapproved => "unapproved".into(),
            Denial::PolicyChanged => "policy_changed".into(),
            Denial::BinaryChanged { .. } => "binary_changed".into(),
            Denial::NotAllowed { .. } => "not_allowed".into(),
            Denial::AlwaysDenied { .. } => "always_denied".into(),
            Denial::RelativePath { .. } => "relative_path".into(),
            Denial::ArgGuard { guard } => format!("arg_guard({guard})"),
            Denial::ArgsDeny { .. } => "args_deny".into(),
            Denial::KeyNotAllowed { .. } => "key_not_allowed".into(),
            Denial::DeniedCommand { .. } => "denied_command".into(),
        }
    }
}

/// Why `policy approve` refuses a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyDenied {
    /// A listed command resolves to an always-denied program (SPEC §7.2).
    #[error("command {command} resolves to {} which is always denied ({why}); remove it from the policy", canonical.display())]
    AlwaysDenied {
        /// The rule's name, as shown.
        command: String,
        /// Where it resolved.
        canonical: PathBuf,
        /// `by name` or `by content`.
        why: &'static str,
    },
    /// A listed command is a relative path.
    #[error("command {command} is a relative path; use an absolute path or a bare name")]
    RelativePath {
        /// The rule's name, as shown.
        command: String,
    },
    /// A listed command cannot be found (bare name not on PATH, or missing file).
    #[error("command {command} was not found")]
    NotFound {
        /// The rule's name, as shown.
        command: String,
    },
    /// The resolved file is not a regular executable file, is not UTF-8, or cannot be read.
    #[error("command {command} ({}): {problem}", path.display())]
    Unusable {
        /// The rule's name, as shown.
        command: String,
        /// The resolved path.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl PolicyDenied {
    /// The machine reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            PolicyDenied::AlwaysDenied { .. } => "always_denied",
            PolicyDenied::RelativePath { .. } => "relative_path",
            PolicyDenied::NotFound { .. } => "not_found",
            PolicyDenied::Unusable { .. } => "unusable",
        }
    }
}

/// A requested program after resolution by [`canonical_program`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// An absolute path, canonicalized (`..`, `//` and symlinks resolved).
    Canonical(PathBuf),
    /// A bare name the policy lists; its path is the one pinned at approval.
    Listed(String),
}

/// Resolves the `command` an agent asked for (SPEC §7.2).
///
/// - An absolute path is canonicalized with [`std::fs::canonicalize`].
/// - A bare name (no `/`) is accepted only if `rule_names` lists it; it is NOT looked up on any
///   PATH here: the caller uses the canonical path pinned in the [`Approval`].
/// - A relative path (`./env`, `bin/x`) is refused.
///
/// Always-denied programs are refused by name here (the requested and the canonical file name),
/// so the reason names them even when the policy does not list them.
pub fn canonical_program(requested: &str, rule_names: &[&str]) -> Result<Program, Denial> {
    let command = shown(requested);
    if requested.is_empty() || requested.chars().any(char::is_control) {
        return Err(Denial::NotAllowed { command });
    }
    let denied = |command: String| Denial::AlwaysDenied {
        command,
        why: "by name",
    };
    if requested.starts_with('/') {
        if file_name_of(Path::new(requested)).is_some_and(is_always_denied_name) {
            return Err(denied(command));
        }
        let canonical = std::fs::canonicalize(requested).map_err(|_| Denial::NotAllowed {
            command: command.clone(),
        })?;
        if file_name_of(&canonical).is_some_and(is_always_denied_name) {
            return Err(denied(command));
        }
        return Ok(Program::Canonical(canonical));
    }
    if requested.contains('/') {
        return Err(Denial::RelativePath { command });
    }
    if is_always_denied_name(requested) {
        return Err(denied(command));
    }
    if rule_names.contains(&requested) {
        Ok(Program::Listed(requested.to_owned()))
    } else {
        Err(Denial::NotAllowed { command })
    }
}

fn file_name_of(path: &Path) -> Option<&str> {
    path.file_name().and_then(OsStr::to_str)
}

/// One approved command: the rule's name, where it resolved, and the pinned hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedCommand {
    /// The rule's `name`, as written in the policy.
    pub name: String,
    /// The canonical path it resolved to at approval.
    pub canonical_path: PathBuf,
    /// SHA-256 of the binary at approval.
    pub sha256: [u8; 32],
}

/// What `secretctl policy approve` stores in the vault (SPEC §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// HMAC-SHA256 of the policy file's bytes under `policy_key` (with a domain prefix).
    pub policy_hmac: [u8; 32],
    /// Every command of the policy, in policy order.
    pub commands: Vec<ApprovedCommand>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalJson {
    format: u32,
    policy_hmac: String,
    commands: Vec<ApprovedCommandJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovedCommandJson {
    name: String,
    canonical_path: String,
    sha256: String,
}

/// A stored approval that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalFormatError {
    /// Not the JSON this module writes.
    #[error("the stored policy approval is malformed: {0}")]
    Malformed(String),
}

fn hash_from_hex(text: &str) -> Result<[u8; 32], ApprovalFormatError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| ApprovalFormatError::Malformed("a hash is not 64 hex digits".into()))?;
    Ok(out)
}

impl Approval {
    /// The stable serialization: JSON with fields in a fixed order, hashes in lowercase hex,
    /// `"format": 1`.
    pub fn to_json(&self) -> String {
        let json = ApprovalJson {
            format: 1,
            policy_hmac: hex::encode(self.policy_hmac),
            commands: self
                .commands
                .iter()
                .map(|c| ApprovedCommandJson {
                    name: c.name.clone(),
                    // approve() only admits UTF-8 paths.
                    canonical_path: c.canonical_path.to_string_lossy().into_owned(),
                    sha256: hex::encode(c.sha256),
                })
                .collect(),
        };
        serde_json::to_string(&json).expect("a struct of strings always serializes to JSON")
    }

    /// Parses what [`Approval::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Approval, ApprovalFormatError> {
        let json: ApprovalJson = serde_json::from_str(text).map_err(|e| {
            ApprovalFormatError::Malformed(format!("invalid JSON at column {}", e.column()))
        })?;
        if json.format != 1 {
            return Err(ApprovalFormatError::Malformed(format!(
                "unknown format {}",
                json.format
            )));
        }
        let commands = json
            .commands
            .into_iter()
            .map(|c| {
                Ok(ApprovedCommand {
                    name: c.name,
                    canonical_path: PathBuf::from(c.canonical_path),
                    sha256: hash_from_hex(&c.sha256)?,
                })
            })
            .collect::<Result<_, ApprovalFormatError>>()?;
        Ok(Approval {
            policy_hmac: hash_from_hex(&json.policy_hmac)?,
            commands,
        })
    }
}

/// The HMAC of the policy file's bytes that an [`Approval`] pins.
pub fn policy_hmac(policy_key: &SubKey, policy_bytes: &[u8]) -> [u8; 32] {
    policy_key.mac_parts(&[POLICY_MAC_DOMAIN, policy_bytes])
}

/// Resolves, checks and pins every command of `policy` (SPEC §7.2, `secretctl policy approve`).
///
/// An absolute name is canonicalized; a bare name is the first executable regular file of that
/// name in an absolute directory of `path_env` (the approving user's PATH; empty and relative
/// entries are skipped), then canonicalized. Always-denied programs are refused by the canonical
/// (and written) file name and by content. `policy_bytes` must be the exact bytes `policy` was
/// parsed from.
pub fn approve(
    policy: &Policy,
    policy_bytes: &[u8],
    policy_key: &SubKey,
    path_env: &OsStr,
) -> Result<Approval, PolicyDenied> {
    let mut commands = Vec::with_capacity(policy.commands.len());
    for rule in &policy.commands {
        let command = shown(&rule.name);
        let found = if rule.name.starts_with('/') {
            Some(PathBuf::from(&rule.name))
        } else if rule.name.contains('/') {
            return Err(PolicyDenied::RelativePath { command });
        } else {
            std::env::split_paths(path_env)
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join(&rule.name))
                .find(|candidate| is_executable_file(candidate))
        };
        let found = found.ok_or_else(|| PolicyDenied::NotFound {
            command: command.clone(),
        })?;
        let canonical = std::fs::canonicalize(&found).map_err(|_| PolicyDenied::NotFound {
            command: command.clone(),
        })?;
        let unusable = |problem: &str| PolicyDenied::Unusable {
            command: command.clone(),
            path: canonical.clone(),
            problem: problem.to_owned(),
        };
        let denied = |why| PolicyDenied::AlwaysDenied {
            command: command.clone(),
            canonical: canonical.clone(),
            why,
        };
        if file_name_of(&canonical).is_none_or(is_always_denied_name)
            || file_name_of(Path::new(&rule.name)).is_none_or(is_always_denied_name)
        {
            return Err(denied("by name"));
        }
        if canonical.to_str().is_none() {
            return Err(unusable("the path is not UTF-8"));
        }
        if !is_executable_file(&canonical) {
            return Err(unusable("it is not an executable regular file"));
        }
        let sha256 = hash_file(&canonical).map_err(|e| unusable(&e.to_string()))?;
        if is_always_denied_hash(&sha256) {
            return Err(denied("by content"));
        }
        commands.push(ApprovedCommand {
            name: rule.name.clone(),
            canonical_path: canonical,
            sha256,
        });
    }
    Ok(Approval {
        policy_hmac: policy_hmac(policy_key, policy_bytes),
        commands,
    })
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What changed between two approvals, one line each, for `policy approve` to show.
pub fn diff(old: Option<&Approval>, new: &Approval) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(old) = old else {
        lines.push("no previous approval".to_owned());
        for c in &new.commands {
            lines.push(format!(
                "+ {} -> {} sha256:{}",
                c.name,
                c.canonical_path.display(),
                hex::encode(c.sha256)
            ));
        }
        return lines;
    };
    if old.policy_hmac != new.policy_hmac {
        lines.push("the policy file changed".to_owned());
    }
    for o in &old.commands {
        if !new.commands.iter().any(|n| n.name == o.name) {
            lines.push(format!("- {} -> {}", o.name, o.canonical_path.display()));
        }
    }
    for n in &new.commands {
        match old.commands.iter().find(|o| o.name == n.name) {
            None => lines.push(format!(
                "+ {} -> {} sha256:{}",
                n.name,
                n.canonical_path.display(),
                hex::encode(n.sha256)
            )),
            Some(o) if o.canonical_path != n.canonical_path => lines.push(format!(
                "~ {}: path {} -> {}",
                n.name,
                o.canonical_path.display(),
                n.canonical_path.display()
            )),
            Some(o) if o.sha256 != n.sha256 => lines.push(format!(
                "~ {}: binary {} changed, sha256 {} -> {}",
                n.name,
                n.canonical_path.display(),
                hex::encode(o.sha256),
                hex::encode(n.sha256)
            )),
            Some(_) => {}
        }
    }
    lines
}

/// An allowed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The pinned canonical path to execute (never re-resolved on the runtime PATH).
    pub canonical_path: PathBuf,
    /// The rule's timeout.
    pub timeout: Duration,
    /// What the agent sees of the output.
    pub output: OutputMode,
    /// The rule's `name`.
    pub rule_name: String,
}

/// Decides whether an agent may run `command args…` with `keys` injected (SPEC §7.2, §7.3).
///
/// Checks, in order: an approval exists; the policy bytes' HMAC matches it (constant time); the
/// command resolves (relative paths refused, always-denied names refused) to a rule — an absolute
/// path must canonicalize to an approved canonical path, a bare name must be a listed name and
/// maps to its approved canonical path, so the same name in another directory is refused; the
/// binary at that path still hashes to the pinned SHA-256 (re-hashed now); always-denied by name
/// and content; version 1 `denied_commands`; built-in argument guards not lifted by
/// `danger_allow_args`; the rule's `args_deny` (see [`args_deny_matches`]); every key matches the
/// rule's `keys`. Arguments are plain strings: no shell ever sees them, so `; rm -rf /` or `$(id)`
/// matter only to guards and `args_deny`.
pub fn decide(
    policy: &Policy,
    policy_bytes: &[u8],
    approval: Option<&Approval>,
    policy_key: &SubKey,
    command: &str,
    args: &[String],
    keys: &[KeyName],
) -> Result<Decision, Denial> {
    let approval = approval.ok_or(Denial::Unapproved)?;
    if !constant_time_eq(
        &policy_hmac(policy_key, policy_bytes),
        &approval.policy_hmac,
    ) {
        return Err(Denial::PolicyChanged);
    }
    let rule_names: Vec<&str> = policy.commands.iter().map(|r| r.name.as_str()).collect();
    let listed_absolute = command.starts_with('/') && rule_names.contains(&command);
    let changed = || Denial::BinaryChanged {
        command: shown(command),
    };
    let program = match canonical_program(command, &rule_names) {
        Err(Denial::NotAllowed { .. }) if listed_absolute => return Err(changed()),
        other => other?,
    };
    let approved = match &program {
        Program::Listed(name) => approval
            .commands
            .iter()
            .find(|c| &c.name == name)
            .ok_or(Denial::PolicyChanged)?,
        Program::Canonical(path) => {
            match approval.commands.iter().find(|c| &c.canonical_path == path) {
                Some(c) => c,
                // A listed path (say a symlink) that now resolves elsewhere.
                None if listed_absolute => return Err(changed()),
                None => {
                    return Err(Denial::NotAllowed {
                        command: shown(command),
                    });
                }
            }
        }
    };
    let rule: &CommandRule = policy
        .commands
        .iter()
        .find(|r| r.name == approved.name)
        .ok_or(Denial::PolicyChanged)?;
    let current = hash_file(&approved.canonical_path).map_err(|_| changed())?;
    if !constant_time_eq(&current, &approved.sha256) {
        return Err(changed());
    }
    let canonical_name = file_name_of(&approved.canonical_path).unwrap_or("");
    let rule_base = file_name_of(Path::new(&rule.name)).unwrap_or("");
    let requested_base = file_name_of(Path::new(command)).unwrap_or("");
    if [canonical_name, rule_base, requested_base]
        .into_iter()
        .any(is_always_denied_name)
    {
        return Err(Denial::AlwaysDenied {
            command: shown(command),
            why: "by name",
        });
    }
    if is_always_denied_hash(&current) {
        return Err(Denial::AlwaysDenied {
            command: shown(command),
            why: "by content",
        });
    }
    let canonical_text = approved.canonical_path.to_string_lossy();
    if policy.denied_commands.iter().any(|d| {
        let d = d.as_str();
        [
            command,
            requested_base,
            &rule.name,
            rule_base,
            &canonical_text,
            canonical_name,
        ]
        .contains(&d)
    }) {
        return Err(Denial::DeniedCommand {
            command: shown(command),
        });
    }
    let programs = [canonical_name, rule_base, requested_base];
    if let Some(guard) = fired_guard(&programs, args, &rule.danger_allow_args) {
        return Err(Denial::ArgGuard { guard });
    }
    if let Some(pattern) = rule.args_deny.iter().find(|p| args_deny_matches(p, args)) {
        return Err(Denial::ArgsDeny {
            pattern: shown(pattern),
        });
    }
    if let Some(key) = keys
        .iter()
        .find(|k| !rule.keys.iter().any(|p| p.matches(k)))
    {
        return Err(Denial::KeyNotAllowed {
            key: key.clone(),
            command: shown(&rule.name),
        });
    }
    Ok(Decision {
        canonical_path: approved.canonical_path.clone(),
        timeout: rule.timeout,
        output: rule.output,
        rule_name: rule.name.clone(),
    })
}

/// Whether one `args_deny` pattern matches `args` (the arguments, without the program).
///
/// The exact rule: the pattern is split on ASCII whitespace into tokens. It matches when, at
/// SOME position `i` of `args` (not only at 0, so global options placed before a subcommand —
/// `aws --profile p configure export-credentials` — cannot slip past), each token equals the
/// argument at `i + n` exactly, where a `*` token matches any one argument, and a final `*`
/// matches any remaining arguments including none. A pattern is thus matched as a prefix of
/// the argument list starting at any position: `configure export-credentials *` and
/// `configure export-credentials` are equivalent. A pattern with no tokens matches every
/// argument list (fail closed). Tokens are compared literally (no quoting, no `--opt=value`
/// splitting).
pub fn args_deny_matches(pattern: &str, args: &[String]) -> bool {
    let mut tokens: Vec<&str> = pattern.split_ascii_whitespace().collect();
    if tokens.last() == Some(&"*") {
        tokens.pop();
    }
    if tokens.is_empty() {
        return true;
    }
    (0..args.len()).any(|start| {
        args.len() - start >= tokens.len()
            && tokens
                .iter()
                .zip(&args[start..])
                .all(|(t, a)| *t == "*" || *t == a.as_str())
    })
}

/// How a guard recognizes an argument.
#[derive(Clone, Copy)]
enum Arg {
    /// The argument is exactly this word (`-c` for git, `-exec` for find, `exec` for docker).
    Word(&'static str),
    /// The argument starts with this text (`-fprint`, `--config-env`).
    Prefix(&'static str),
    /// A GNU long option `--NAME`, `--NAME=…`, or an abbreviation of NAME of 3+ characters.
    Long(&'static str),
    /// A short option letter inside a single-dash cluster (`-sSo` holds `o`).
    Short(char),
    /// The argument contains this text, ignoring ASCII case.
    Contains(&'static str),
}

impl Arg {
    fn matches(self, arg: &str) -> bool {
        match self {
            Arg::Word(w) => arg == w,
            Arg::Prefix(p) => arg.starts_with(p),
            Arg::Long(name) => arg.strip_prefix("--").is_some_and(|rest| {
                let given = rest.split('=').next().unwrap_or("");
                given == name || (given.len() >= 3 && name.starts_with(given))
            }),
            Arg::Short(c) => {
                arg.len() >= 2
                    && arg.starts_with('-')
                    && !arg.starts_with("--")
                    && arg[1..].contains(c)
            }
            Arg::Contains(t) => arg.to_ascii_lowercase().contains(t),
        }
    }
}

/// A built-in argument guard (SPEC §7.2).
struct Guard {
    /// The name a denial shows and `danger_allow_args` lifts, `program:option`.
    name: &'static str,
    /// Canonical file names it applies to; empty means every program.
    programs: &'static [&'static str],
    args: &'static [Arg],
}

/// The built-in guards of SPEC §7.2 for tools that can run other programs or expand variables.
const GUARDS: &[Guard] = &[
    // git's global options are parsed as exact words (git.c), so `-c`/`-C` are matched exactly.
    Guard {
        name: "git:-c",
        programs: &["git"],
        args: &[Arg::Word("-c")],
    },
    Guard {
        name: "git:--config-env",
        programs: &["git"],
        args: &[Arg::Prefix("--config-env")],
    },
    Guard {
        name: "git:--exec-path",
        programs: &["git"],
        args: &[Arg::Prefix("--exec-path")],
    },
    Guard {
        name: "git:-C",
        programs: &["git"],
        args: &[Arg::Word("-C")],
    },
    Guard {
        name: "git:--upload-pack",
        programs: &["git"],
        args: &[Arg::Long("upload-pack")],
    },
    Guard {
        name: "git:--receive-pack",
        programs: &["git"],
        args: &[Arg::Long("receive-pack")],
    },
    Guard {
        name: "git:ext::",
        programs: &["git"],
        args: &[Arg::Contains("ext::")],
    },
    Guard {
        name: "curl:--variable",
        programs: &["curl"],
        args: &[Arg::Long("variable")],
    },
    Guard {
        name: "curl:--expand-*",
        programs: &["curl"],
        args: &[Arg::Prefix("--expand-")],
    },
    Guard {
        name: "curl:--config",
        programs: &["curl"],
        args: &[Arg::Short('K'), Arg::Long("config")],
    },
    Guard {
        name: "curl:--output",
        programs: &["curl"],
        args: &[Arg::Short('o'), Arg::Long("output")],
    },
    Guard {
        name: "curl:--upload-file",
        programs: &["curl"],
        args: &[Arg::Short('T'), Arg::Long("upload-file")],
    },
    Guard {
        name: "find:-exec",
        programs: &["find"],
        args: &[Arg::Word("-exec")],
    },
    Guard {
        name: "find:-execdir",
        programs: &["find"],
        args: &[Arg::Word("-execdir")],
    },
    Guard {
        name: "find:-ok",
        programs: &["find"],
        args: &[Arg::Word("-ok")],
    },
    Guard {
        name: "find:-okdir",
        programs: &["find"],
        args: &[Arg::Word("-okdir")],
    },
    // `-fls` writes a file like `-fprint`.
    Guard {
        name: "find:-fprint*",
        programs: &["find"],
        args: &[Arg::Prefix("-fprint"), Arg::Word("-fls")],
    },
    Guard {
        name: "find:-delete",
        programs: &["find"],
        args: &[Arg::Word("-delete")],
    },
    Guard {
        name: "tar:--to-command",
        programs: &["tar"],
        args: &[Arg::Long("to-command")],
    },
    Guard {
        name: "tar:--checkpoint-action",
        programs: &["tar"],
        args: &[Arg::Long("checkpoint-action")],
    },
    Guard {
        name: "tar:--use-compress-program",
        programs: &["tar"],
        args: &[Arg::Short('I'), Arg::Long("use-compress-program")],
    },
    // docker and podman (pflag) do not abbreviate long options: match them as exact words.
    Guard {
        name: "docker:--env",
        programs: &["docker", "podman"],
        args: &[Arg::Short('e'), Arg::Word("--env"), Arg::Prefix("--env=")],
    },
    Guard {
        name: "docker:--env-file",
        programs: &["docker", "podman"],
        args: &[Arg::Prefix("--env-file")],
    },
    Guard {
        name: "docker:exec",
        programs: &["docker", "podman"],
        args: &[Arg::Word("exec")],
    },
    Guard {
        name: "docker:--privileged",
        programs: &["docker", "podman"],
        args: &[Arg::Prefix("--privileged")],
    },
    Guard {
        name: "kubectl:exec",
        programs: &["kubectl"],
        args: &[Arg::Word("exec")],
    },
    Guard {
        name: "kubectl:--kubeconfig",
        programs: &["kubectl"],
        args: &[Arg::Prefix("--kubeconfig")],
    },
    Guard {
        name: "make:--eval",
        programs: &["make", "gmake"],
        args: &[Arg::Long("eval")],
    },
    Guard {
        name: "make:-f",
        programs: &["make", "gmake"],
        args: &[Arg::Short('f'), Arg::Long("file"), Arg::Long("makefile")],
    },
    Guard {
        name: "rsync:-e",
        programs: &["rsync"],
        args: &[Arg::Short('e'), Arg::Long("rsh")],
    },
    // ssh-style `-o ProxyCommand=…` reaches ssh through scp, sftp, rsync, git and others.
    Guard {
        name: "ssh:-o ProxyCommand",
        programs: &[],
        args: &[Arg::Contains("proxycommand"), Arg::Contains("localcommand")],
    },
];

/// The names of all built-in guards, for `policy check` to validate `danger_allow_args`.
pub fn guard_names() -> impl Iterator<Item = &'static str> {
    GUARDS.iter().map(|g| g.name)
}

/// The first built-in guard that fires on `args` for any of `programs` (file names), skipping
/// guards named in `lifted`.
fn fired_guard(programs: &[&str], args: &[String], lifted: &[String]) -> Option<&'static str> {
    GUARDS
        .iter()
        .filter(|g| g.programs.is_empty() || g.programs.iter().any(|p| programs.contains(p)))
        .filter(|g| !lifted.iter().any(|l| l == g.name))
        .find(|g| args.iter().any(|a| g.args.iter().any(|m| m.matches(a))))
        .map(|g| g.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Dek;
    use std::os::unix::fs::PermissionsExt;

    struct Fixture {
        dir: tempfile::TempDir,
        key: SubKey,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                dir: tempfile::tempdir().unwrap(),
                key: Dek::generate().derive("policy-test"),
            }
        }

        /// Copies `from` to `<tmp>/<rel>` as an executable and returns its canonical path.
        fn exe(&self, rel: &str, from: &str) -> PathBuf {
            let path = self.dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::copy(from, &path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::canonicalize(path).unwrap()
        }

        fn policy(&self, body: &str) -> (Policy, Vec<u8>) {
            let text = format!("version: 2\ndefault_action: deny\ncommands:\n{body}");
            let policy = Policy::parse(&text, Path::new("mcp-policy.yaml")).unwrap();
            (policy, text.into_bytes())
        }

        fn path_env(&self) -> std::ffi::OsString {
            self.dir.path().join("bin").into_os_string()
        }
    }

    fn rule(name: &str, keys: &str, extra: &str) -> String {
        format!("  - name: {name}\n    keys: {keys}\n{extra}")
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    fn key(name: &str) -> KeyName {
        KeyName::parse(name).unwrap()
    }

    /// A fixture with `<tmp>/bin/tool` (a copy of /bin/true) listed both by absolute path and,
    /// as `tool`, by bare name, approved.
    fn approved(extra: &str) -> (Fixture, Policy, Vec<u8>, Approval, PathBuf) {
        let f = Fixture::new();
        let tool = f.exe("bin/tool", "/bin/true");
        let body = rule("tool", "[\"aws/*\", \"*\"]", extra);
        let (policy, bytes) = f.policy(&body);
        let approval = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap();
        (f, policy, bytes, approval, tool)
    }

    fn run(
        f: &Fixture,
        policy: &Policy,
        bytes: &[u8],
        approval: &Approval,
        command: &str,
        args: &[&str],
        keys: &[&str],
    ) -> Result<Decision, Denial> {
        let keys: Vec<KeyName> = keys.iter().map(|k| key(k)).collect();
        decide(
            policy,
            bytes,
            Some(approval),
            &f.key,
            command,
            &strings(args),
            &keys,
        )
    }

    fn reason(r: Result<Decision, Denial>) -> String {
        r.unwrap_err().reason()
    }

    #[test]
    fn happy_path_by_bare_name_and_absolute_path() {
        let (f, policy, bytes, approval, tool) = approved("    timeout: 10m\n    output: none\n");
        let d = run(
            &f,
            &policy,
            &bytes,
            &approval,
            "tool",
            &["s3", "ls"],
            &["aws/key"],
        )
        .unwrap();
        assert_eq!(d.canonical_path, tool);
        assert_eq!(d.rule_name, "tool");
        assert_eq!(d.timeout, Duration::from_secs(600));
        assert_eq!(d.output, OutputMode::None);
        let abs = tool.to_str().unwrap();
        let d = run(&f, &policy, &bytes, &approval, abs, &[], &[]).unwrap();
        assert_eq!(d.canonical_path, tool);
        // `//` and `..` resolve to the same approved file.
        let dotted = format!("{}//bin/../bin/tool", f.dir.path().display());
        assert!(run(&f, &policy, &bytes, &approval, &dotted, &[], &[]).is_ok());
    }

    #[test]
    fn bare_name_is_pinned_to_the_first_path_match_at_approval() {
        let f = Fixture::new();
        let a = f.exe("a/tool", "/bin/true");
        let b = f.exe("b/tool", "/bin/true");
        let path = std::env::join_paths([f.dir.path().join("b"), f.dir.path().join("a")]).unwrap();
        let (policy, bytes) = f.policy(&rule("tool", "[\"*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, &path).unwrap();
        assert_eq!(approval.commands[0].canonical_path, b);
        // decide never consults a PATH: the pinned file is the one to run, and the other copy of
        // the same name, requested by path, is refused.
        let d = run(&f, &policy, &bytes, &approval, "tool", &[], &[]).unwrap();
        assert_eq!(d.canonical_path, b);
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            a.to_str().unwrap(),
            &[],
            &[],
        );
        assert_eq!(reason(r), "not_allowed");
    }

    #[test]
    fn unapproved_and_edited_policy_are_refused() {
        let (f, policy, bytes, approval, _) = approved("");
        let r = decide(&policy, &bytes, None, &f.key, "tool", &[], &[]);
        assert_eq!(reason(r), "unapproved");
        let mut edited = bytes.clone();
        edited.extend_from_slice(b"# edited\n");
        let r = run(&f, &policy, &edited, &approval, "tool", &[], &[]);
        assert_eq!(reason(r), "policy_changed");
        // A different vault's key does not verify the same bytes.
        let other = Dek::generate().derive("policy-test");
        let r = decide(&policy, &bytes, Some(&approval), &other, "tool", &[], &[]);
        assert_eq!(reason(r), "policy_changed");
    }

    #[test]
    fn replaced_binary_is_refused() {
        let (f, policy, bytes, approval, tool) = approved("");
        std::fs::write(&tool, b"#!/bin/true\n").unwrap();
        let r = run(&f, &policy, &bytes, &approval, "tool", &[], &[]);
        assert_eq!(reason(r), "binary_changed");
        std::fs::remove_file(&tool).unwrap();
        let r = run(&f, &policy, &bytes, &approval, "tool", &[], &[]);
        assert_eq!(reason(r), "binary_changed");
        std::fs::create_dir(&tool).unwrap();
        let r = run(&f, &policy, &bytes, &approval, "tool", &[], &[]);
        assert_eq!(reason(r), "binary_changed");
    }

    #[test]
    fn same_name_in_another_directory_is_refused() {
        let (f, policy, bytes, approval, _) = approved("");
        let other = f.exe("elsewhere/tool", "/bin/true");
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            other.to_str().unwrap(),
            &[],
            &[],
        );
        assert_eq!(reason(r), "not_allowed");
        let r = run(&f, &policy, &bytes, &approval, "other", &[], &[]);
        assert_eq!(reason(r), "not_allowed");
    }

    #[test]
    fn retargeted_listed_symlink_is_binary_changed() {
        let f = Fixture::new();
        let real = f.exe("opt/tool", "/bin/true");
        let link = f.dir.path().join("bin/tool");
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let name = link.to_str().unwrap().to_owned();
        let (policy, bytes) = f.policy(&rule(&name, "[\"*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, OsStr::new("")).unwrap();
        assert_eq!(approval.commands[0].canonical_path, real);
        assert!(run(&f, &policy, &bytes, &approval, &name, &[], &[]).is_ok());
        let other = f.exe("opt/other", "/bin/true");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&other, &link).unwrap();
        let r = run(&f, &policy, &bytes, &approval, &name, &[], &[]);
        assert_eq!(reason(r), "binary_changed");
    }

    #[test]
    fn symlink_to_a_shell_cannot_be_approved() {
        let f = Fixture::new();
        let link = f.dir.path().join("bin/aws");
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("/bin/sh", &link).unwrap();
        for name in ["aws".to_owned(), link.to_str().unwrap().to_owned()] {
            let (policy, bytes) = f.policy(&rule(&name, "[\"*\"]", ""));
            let err = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap_err();
            assert_eq!(err.reason(), "always_denied", "{name}: {err}");
        }
    }

    #[test]
    fn renamed_copy_of_sh_is_denied_by_content() {
        let f = Fixture::new();
        let deploy = f.exe("bin/deploy", "/bin/sh");
        assert!(is_always_denied_hash(&hash_file(&deploy).unwrap()));
        assert!(!is_always_denied_hash(
            &hash_file(Path::new("/bin/true")).unwrap()
        ));
        let (policy, bytes) = f.policy(&rule("deploy", "[\"*\"]", ""));
        let err = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap_err();
        assert!(
            matches!(
                err,
                PolicyDenied::AlwaysDenied {
                    why: "by content",
                    ..
                }
            ),
            "{err}"
        );
        // An approval made before the content check (forged here) is still refused at run time.
        let forged = Approval {
            policy_hmac: policy_hmac(&f.key, &bytes),
            commands: vec![ApprovedCommand {
                name: "deploy".into(),
                canonical_path: deploy.clone(),
                sha256: hash_file(&deploy).unwrap(),
            }],
        };
        let r = run(&f, &policy, &bytes, &forged, "deploy", &[], &[]);
        assert_eq!(
            r.unwrap_err(),
            Denial::AlwaysDenied {
                command: "'deploy'".into(),
                why: "by content"
            }
        );
    }

    #[test]
    fn always_denied_programs() {
        let (f, policy, bytes, approval, _) = approved("");
        let mut cases = vec![
            "env",
            "printenv",
            "sh",
            "bash",
            "python3",
            "perl",
            "awk",
            "xargs",
            "nice",
            "timeout",
            "/usr/bin/env",
            "/usr/bin//env",
            "/usr/bin/../bin/env",
            "/bin/sh",
            "/usr/bin/perl",
            "/usr/bin/xargs",
            "/usr/bin/awk",
        ];
        if Path::new("/usr/bin/node").exists() {
            cases.push("node");
            cases.push("/usr/bin/node");
        }
        if Path::new("/usr/bin/python3").exists() {
            cases.push("/usr/bin/python3");
        }
        for c in cases {
            let r = run(&f, &policy, &bytes, &approval, c, &[], &[]);
            assert_eq!(reason(r), "always_denied", "{c}");
        }
        for c in ["./env", "bin/tool", "../tool"] {
            let r = run(&f, &policy, &bytes, &approval, c, &[], &[]);
            assert_eq!(reason(r), "relative_path", "{c}");
        }
    }

    #[test]
    fn always_denied_names() {
        for n in [
            "python",
            "python3.11",
            "perl5.36.0",
            "lua5.4",
            "tclsh8.6",
            "mawk",
            "nodejs",
            "busybox",
        ] {
            assert!(is_always_denied_name(n), "{n}");
        }
        for n in [
            "git",
            "aws",
            "true",
            "envoy",
            "shred",
            "kubectl",
            "sha256sum",
        ] {
            assert!(!is_always_denied_name(n), "{n}");
        }
    }

    #[test]
    fn keys_outside_the_rule_are_refused() {
        let f = Fixture::new();
        f.exe("bin/tool", "/bin/true");
        let (policy, bytes) = f.policy(&rule("tool", "[\"aws/*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap();
        assert!(run(&f, &policy, &bytes, &approval, "tool", &[], &["aws/key"]).is_ok());
        for k in ["db/password", "aws/prod/key", "aws"] {
            let r = run(&f, &policy, &bytes, &approval, "tool", &[], &["aws/key", k]);
            assert_eq!(
                r.unwrap_err(),
                Denial::KeyNotAllowed {
                    key: key(k),
                    command: "'tool'".into()
                }
            );
        }
    }

    #[test]
    fn top_level_star_allows_only_top_level_keys() {
        let f = Fixture::new();
        f.exe("bin/tool", "/bin/true");
        let (policy, bytes) = f.policy(&rule("tool", "[\"*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap();
        assert!(
            run(
                &f,
                &policy,
                &bytes,
                &approval,
                "tool",
                &[],
                &["API_KEY", "token"]
            )
            .is_ok()
        );
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            "tool",
            &[],
            &["db/password"],
        );
        assert_eq!(reason(r), "key_not_allowed");
    }

    #[test]
    fn git_guards_fire_by_name_and_lift_by_danger_allow_args() {
        let f = Fixture::new();
        f.exe("bin/git", "/bin/true");
        let (policy, bytes) = f.policy(&rule("git", "[\"*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap();
        let cases: &[(&[&str], &str)] = &[
            (&["-c", "core.pager=sh", "log"], "arg_guard(git:-c)"),
            (&["-C", "/tmp", "status"], "arg_guard(git:-C)"),
            (
                &["--config-env=core.pager=X", "log"],
                "arg_guard(git:--config-env)",
            ),
            (&["--exec-path=/tmp", "log"], "arg_guard(git:--exec-path)"),
            (
                &["fetch", "--upload-pack=touch x", "origin"],
                "arg_guard(git:--upload-pack)",
            ),
            (
                &["fetch", "--upload-p", "x", "origin"],
                "arg_guard(git:--upload-pack)",
            ),
            (
                &["push", "--receive-pack", "x"],
                "arg_guard(git:--receive-pack)",
            ),
            (&["clone", "ext::sh -c id", "d"], "arg_guard(git:ext::)"),
            (
                &["clone", "-o", "ProxyCommand=id", "x"],
                "arg_guard(ssh:-o ProxyCommand)",
            ),
        ];
        for (args, want) in cases {
            let r = run(&f, &policy, &bytes, &approval, "git", args, &[]);
            assert_eq!(reason(r), *want, "{args:?}");
        }
        assert!(
            run(
                &f,
                &policy,
                &bytes,
                &approval,
                "git",
                &["log", "--oneline"],
                &[]
            )
            .is_ok()
        );

        let (lifted, lifted_bytes) = f.policy(&rule(
            "git",
            "[\"*\"]",
            "    danger_allow_args: [\"git:-c\"]\n",
        ));
        let approval = approve(&lifted, &lifted_bytes, &f.key, &f.path_env()).unwrap();
        let args = ["-c", "user.name=x", "log"];
        assert!(run(&f, &lifted, &lifted_bytes, &approval, "git", &args, &[]).is_ok());
        // Lifting one guard leaves the others in place.
        let r = run(
            &f,
            &lifted,
            &lifted_bytes,
            &approval,
            "git",
            &["-C", "/", "log"],
            &[],
        );
        assert_eq!(reason(r), "arg_guard(git:-C)");
    }

    #[test]
    fn guards_of_other_tools() {
        let has = |prog: &str, args: &[&str]| fired_guard(&[prog], &strings(args), &[]);
        assert_eq!(
            has("curl", &["-fsSLo", "out", "https://x"]),
            Some("curl:--output")
        );
        assert_eq!(has("curl", &["-K", "cfg"]), Some("curl:--config"));
        assert_eq!(has("curl", &["--expand-url", "x"]), Some("curl:--expand-*"));
        assert_eq!(
            has("curl", &["--variable", "%HOME"]),
            Some("curl:--variable")
        );
        assert_eq!(has("curl", &["-fsSL", "https://x"]), None);
        assert_eq!(has("find", &[".", "-exec", "id", ";"]), Some("find:-exec"));
        assert_eq!(
            has("find", &[".", "-fprintf", "f", "%p"]),
            Some("find:-fprint*")
        );
        assert_eq!(has("find", &[".", "-name", "x"]), None);
        assert_eq!(
            has("tar", &["-I", "sh", "-xf", "a"]),
            Some("tar:--use-compress-program")
        );
        assert_eq!(
            has("tar", &["--to-com=sh", "-xf", "a"]),
            Some("tar:--to-command")
        );
        assert_eq!(
            has("docker", &["run", "-e", "X=1", "img"]),
            Some("docker:--env")
        );
        assert_eq!(has("podman", &["exec", "c", "id"]), Some("docker:exec"));
        assert_eq!(
            has("docker", &["run", "--privileged", "img"]),
            Some("docker:--privileged")
        );
        assert_eq!(
            has("docker", &["run", "--env-file", "f", "img"]),
            Some("docker:--env-file")
        );
        assert_eq!(has("docker", &["ps", "-a"]), None);
        assert_eq!(
            has("kubectl", &["exec", "pod", "--", "id"]),
            Some("kubectl:exec")
        );
        assert_eq!(
            has("kubectl", &["--kubeconfig=/x", "get", "po"]),
            Some("kubectl:--kubeconfig")
        );
        assert_eq!(has("make", &["--eval=x:;id"]), Some("make:--eval"));
        assert_eq!(has("make", &["-kf", "evil.mk"]), Some("make:-f"));
        assert_eq!(
            has("rsync", &["-avze", "sh -c id", "a", "b"]),
            Some("rsync:-e")
        );
        assert_eq!(
            has("scp", &["-oProxyCommand=id", "a", "b"]),
            Some("ssh:-o ProxyCommand")
        );
        // Guards are keyed by program: `-exec` means nothing to `tool`.
        assert_eq!(has("tool", &["-exec", "-c", "--upload-pack"]), None);
    }

    #[test]
    fn guards_apply_by_the_canonical_name_too() {
        // Listed as `vcs`, but the binary's file name is `git`.
        let f = Fixture::new();
        let git = f.exe("opt/git", "/bin/true");
        let (policy, bytes) = f.policy(&rule(git.to_str().unwrap(), "[\"*\"]", ""));
        let approval = approve(&policy, &bytes, &f.key, OsStr::new("")).unwrap();
        let link = f.dir.path().join("vcs");
        std::os::unix::fs::symlink(&git, &link).unwrap();
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            link.to_str().unwrap(),
            &["-c", "a=b"],
            &[],
        );
        assert_eq!(reason(r), "arg_guard(git:-c)");
    }

    #[test]
    fn args_deny_rule() {
        let a = |args: &[&str]| strings(args);
        let p = "configure export-credentials *";
        assert!(args_deny_matches(
            p,
            &a(&["configure", "export-credentials"])
        ));
        assert!(args_deny_matches(
            p,
            &a(&["configure", "export-credentials", "--format", "env"])
        ));
        assert!(args_deny_matches(
            p,
            &a(&["--profile", "p", "configure", "export-credentials"])
        ));
        assert!(!args_deny_matches(p, &a(&["configure", "list"])));
        assert!(!args_deny_matches(p, &a(&["configure"])));
        assert!(!args_deny_matches(
            p,
            &a(&["configure", "export-credentialsX"])
        ));
        assert!(args_deny_matches(
            "s3 * --acl",
            &a(&["s3", "cp", "--acl", "public"])
        ));
        assert!(!args_deny_matches("s3 * --acl", &a(&["s3", "--acl"])));
        assert!(args_deny_matches("", &a(&[])));
        assert!(args_deny_matches("*", &a(&["x"])));
    }

    #[test]
    fn args_deny_in_decide() {
        let extra = "    args_deny: [\"configure export-credentials *\"]\n";
        let (f, policy, bytes, approval, _) = approved(extra);
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            "tool",
            &["configure", "export-credentials"],
            &[],
        );
        assert_eq!(
            r.unwrap_err(),
            Denial::ArgsDeny {
                pattern: "'configure export-credentials *'".into()
            }
        );
        assert!(
            run(
                &f,
                &policy,
                &bytes,
                &approval,
                "tool",
                &["configure", "list"],
                &[]
            )
            .is_ok()
        );
    }

    #[test]
    fn shell_metacharacters_are_plain_arguments() {
        let (f, policy, bytes, approval, tool) = approved("");
        for args in [
            &["; rm -rf /"][..],
            &["$(id)"],
            &["`id`", "&&", "env", "|", "sh"],
        ] {
            let d = run(&f, &policy, &bytes, &approval, "tool", args, &[]).unwrap();
            assert_eq!(d.canonical_path, tool);
        }
        // As a command they are not a path nor a listed name.
        let r = run(&f, &policy, &bytes, &approval, "tool; sh", &[], &[]);
        assert_eq!(reason(r), "not_allowed");
        let r = run(&f, &policy, &bytes, &approval, "$(id)", &[], &[]);
        assert_eq!(reason(r), "not_allowed");
    }

    #[test]
    fn version_1_denied_commands() {
        let f = Fixture::new();
        f.exe("bin/tool", "/bin/true");
        let text =
            "version: 1\ndefault_action: deny\nallowed_commands: [tool]\ndenied_commands: [tool]\n";
        let policy = Policy::parse(text, Path::new("p")).unwrap();
        let approval = approve(&policy, text.as_bytes(), &f.key, &f.path_env()).unwrap();
        let r = run(
            &f,
            &policy,
            text.as_bytes(),
            &approval,
            "tool",
            &[],
            &["any/key"],
        );
        assert_eq!(reason(r), "denied_command");
    }

    #[test]
    fn approve_refuses_relative_and_missing() {
        let f = Fixture::new();
        let (policy, bytes) = f.policy(&rule("bin/tool", "[\"*\"]", ""));
        let err = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap_err();
        assert_eq!(err.reason(), "relative_path");
        let (policy, bytes) = f.policy(&rule("nothere", "[\"*\"]", ""));
        let err = approve(&policy, &bytes, &f.key, &f.path_env()).unwrap_err();
        assert_eq!(err.reason(), "not_found");
        // An empty PATH entry (the current directory) is never searched.
        let err = approve(&policy, &bytes, &f.key, OsStr::new(":.:")).unwrap_err();
        assert_eq!(err.reason(), "not_found");
    }

    #[test]
    fn approval_round_trips_and_diff_shows_changes() {
        let (f, policy, bytes, approval, tool) = approved("");
        let json = approval.to_json();
        assert_eq!(Approval::from_json(&json).unwrap(), approval);
        assert!(
            json.starts_with("{\"format\":1,\"policy_hmac\":\""),
            "{json}"
        );
        assert!(
            Approval::from_json("{\"format\":2,\"policy_hmac\":\"\",\"commands\":[]}").is_err()
        );
        assert!(Approval::from_json("[]").is_err());

        assert_eq!(diff(Some(&approval), &approval), Vec::<String>::new());
        let first = diff(None, &approval);
        assert_eq!(first.len(), 2);
        assert!(first[1].starts_with("+ tool -> "), "{first:?}");

        std::fs::write(&tool, b"new content").unwrap();
        let mut text = String::from_utf8(bytes).unwrap();
        text.push_str(&rule(tool.to_str().unwrap(), "[\"*\"]", ""));
        let policy2 = Policy::parse(&text, Path::new("p")).unwrap();
        assert_eq!(policy2.commands.len(), policy.commands.len() + 1);
        let new = approve(&policy2, text.as_bytes(), &f.key, &f.path_env()).unwrap();
        let lines = diff(Some(&approval), &new);
        assert_eq!(lines[0], "the policy file changed");
        assert!(
            lines.iter().any(|l| l.starts_with("~ tool: binary")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("+ {}", tool.display()))),
            "{lines:?}"
        );
    }

    #[test]
    fn denial_messages_never_echo_arguments() {
        let (f, policy, bytes, approval, _) = approved("");
        let r = run(
            &f,
            &policy,
            &bytes,
            &approval,
            "tool",
            &["-o", "ProxyCommand=hunter2-secret"],
            &[],
        );
        let msg = r.unwrap_err().to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!msg.contains('\n'));
    }
}
