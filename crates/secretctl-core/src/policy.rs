//! The MCP command policy file, `mcp-policy.yaml` (SPEC §7.2): its schema, strict parsing of
//! `version: 2` and of the original tool's `version: 1`, and `env_aliases`.
//!
//! Parsing only: which command may run, approval and binary pinning are decided elsewhere.
//! Unknown keys are errors, so a typo never silently widens or narrows what is allowed.

use crate::duration::parse_duration;
use crate::pattern::Pattern;
use crate::secret::{KeyName, shown};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Default per-command timeout (SPEC §7.2).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Longest timeout a policy may set.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Largest policy file read.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// A policy that cannot be used. The message names the file and the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is missing.
    #[error("{} does not exist", .0.display())]
    Missing(std::path::PathBuf),
    /// The file is a symlink, not ours or open to others, or unreadable.
    #[error("{}: {problem}", path.display())]
    Unsafe {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The content is not a valid policy.
    #[error("{}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// How much of a command's output an agent gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// All of it, redacted (default).
    Redacted,
    /// The last N lines, redacted.
    Tail(usize),
    /// None: only the exit code.
    None,
}

/// One allowed command.
#[derive(Debug, Clone)]
pub struct CommandRule {
    /// An absolute path, or a bare name resolved at approval time.
    pub name: String,
    /// Which secrets it may receive.
    pub keys: Vec<Pattern>,
    /// Argument patterns that are refused.
    pub args_deny: Vec<String>,
    /// Built-in argument guards lifted for this command (flagged by `policy check`).
    pub danger_allow_args: Vec<String>,
    /// Longest run.
    pub timeout: Duration,
    /// What the agent sees of the output.
    pub output: OutputMode,
}

/// One alias rule: keys matching `pattern` are read from `target` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRule {
    /// A key, or a prefix ending in `/*`.
    pub pattern: String,
    /// The same shape as `pattern`.
    pub target: String,
}

impl AliasRule {
    /// Where `key` is read from under this rule, if the rule applies.
    pub fn map(&self, key: &str) -> Option<String> {
        match (
            self.pattern.strip_suffix('*'),
            self.target.strip_suffix('*'),
        ) {
            (Some(p), Some(t)) => key.strip_prefix(p).map(|rest| format!("{t}{rest}")),
            _ => (key == self.pattern).then(|| self.target.clone()),
        }
    }

    /// The key whose name a key read from `target` is shown under (the inverse of [`map`]).
    ///
    /// [`map`]: AliasRule::map
    pub fn unmap(&self, resolved: &str) -> Option<String> {
        match (
            self.pattern.strip_suffix('*'),
            self.target.strip_suffix('*'),
        ) {
            (Some(p), Some(t)) => resolved.strip_prefix(t).map(|rest| format!("{p}{rest}")),
            _ => (resolved == self.target).then(|| self.pattern.clone()),
        }
    }
}

/// Rewrites a key pattern through an alias set: `db/*` under `db/* → db/prod/*` reads
/// `db/prod/*`. A pattern no rule applies to stays as it is.
pub fn alias_pattern(rules: &[AliasRule], pattern: &str) -> String {
    rules
        .iter()
        .find_map(|r| r.map(pattern))
        .unwrap_or_else(|| pattern.to_owned())
}

/// Gives the secrets read through rewritten patterns the names that were asked for, so that
/// their variables keep the asked-for names (`db/password` read from `db/prod/password` becomes
/// `DB_PASSWORD`). `asked[i]` was rewritten to `patterns[i]`; a secret selected by its own name
/// keeps it.
pub fn show_aliased_names(
    rules: &[AliasRule],
    asked: &[String],
    patterns: &[Pattern],
    secrets: &mut [crate::secret::Secret],
) -> Result<(), crate::secret::InputError> {
    for s in secrets {
        let renamed = asked.iter().zip(patterns).find_map(|(asked, p)| {
            let rule = rules.iter().find(|r| r.map(asked).is_some())?;
            if !p.matches(&s.name) {
                return None;
            }
            rule.unmap(s.name.as_str())
        });
        if let Some(shown) = renamed {
            s.name = KeyName::parse(&shown)?;
        }
    }
    Ok(())
}

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// 1 (the original tool's format) or 2.
    pub version: u32,
    /// Allowed commands.
    pub commands: Vec<CommandRule>,
    /// Commands refused by name (version 1).
    pub denied_commands: Vec<String>,
    /// Named alias sets for `run --env`.
    pub env_aliases: BTreeMap<String, Vec<AliasRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    pattern: String,
    target: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: String,
    keys: Vec<String>,
    #[serde(default)]
    args_deny: Vec<String>,
    #[serde(default)]
    danger_allow_args: Vec<String>,
    timeout: Option<String>,
    output: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV2 {
    #[allow(dead_code)]
    version: u32,
    default_action: String,
    #[serde(default)]
    commands: Vec<RawCommand>,
    #[serde(default)]
    env_aliases: BTreeMap<String, Vec<RawAlias>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawV1 {
    #[allow(dead_code)]
    version: u32,
    default_action: String,
    #[serde(default)]
    allowed_commands: Vec<String>,
    #[serde(default)]
    denied_commands: Vec<String>,
    #[serde(default)]
    env_aliases: BTreeMap<String, Vec<RawAlias>>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: Option<u32>,
}

impl Policy {
    /// Parses policy text. `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let invalid = |problem: String| PolicyError::Invalid {
            path: path.to_owned(),
            problem,
        };
        // serde's messages can quote the input; say where, not what.
        let yaml_error = |e: serde_saphyr::Error| {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or("invalid YAML").to_owned();
            invalid(first)
        };
        let version = serde_saphyr::from_str::<VersionOnly>(text)
            .map_err(yaml_error)?
            .version
            .ok_or_else(|| invalid("`version` is missing (use version: 2)".into()))?;
        match version {
            2 => {
                let raw: RawV2 = serde_saphyr::from_str(text).map_err(yaml_error)?;
                check_default_action(&raw.default_action).map_err(invalid)?;
                let commands = raw
                    .commands
                    .into_iter()
                    .map(|c| command_rule(c).map_err(invalid))
                    .collect::<Result<_, _>>()?;
                Ok(Policy {
                    version,
                    commands,
                    denied_commands: Vec::new(),
                    env_aliases: aliases(raw.env_aliases).map_err(invalid)?,
                })
            }
            1 => {
                let raw: RawV1 = serde_saphyr::from_str(text).map_err(yaml_error)?;
                check_default_action(&raw.default_action).map_err(invalid)?;
                let any = vec![Pattern::parse("**").expect("`**` is a valid pattern")];
                let commands = raw
                    .allowed_commands
                    .into_iter()
                    .map(|name| CommandRule {
                        name,
                        keys: any.clone(),
                        args_deny: Vec::new(),
                        danger_allow_args: Vec::new(),
                        timeout: DEFAULT_TIMEOUT,
                        output: OutputMode::Redacted,
                    })
                    .collect();
                Ok(Policy {
                    version,
                    commands,
                    denied_commands: raw.denied_commands,
                    env_aliases: aliases(raw.env_aliases).map_err(invalid)?,
                })
            }
            other => Err(invalid(format!(
                "unknown version {other}; this secretctl reads versions 1 and 2"
            ))),
        }
    }

    /// Reads and parses the policy file, refusing a symlink, a file that is not ours or that
    /// group or others can read or write.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        Self::load_with_bytes(path).map(|(policy, _)| policy)
    }

    /// Like [`load`](Policy::load), and also returns the exact bytes that were checked and
    /// parsed: those are what an approval's HMAC covers, so they must not be read a second
    /// time (the file could change in between).
    pub fn load_with_bytes(path: &Path) -> Result<(Policy, Vec<u8>), PolicyError> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let unsafe_ = |problem: String| PolicyError::Unsafe {
            path: path.to_owned(),
            problem,
        };
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PolicyError::Missing(path.to_owned()));
            }
            Err(e) => return Err(unsafe_(e.to_string())),
        };
        if meta.file_type().is_symlink() {
            return Err(unsafe_(
                "it is a symlink; the policy must be a regular file".into(),
            ));
        }
        if !meta.is_file() {
            return Err(unsafe_("it is not a regular file".into()));
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(unsafe_("it belongs to another user".into()));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(unsafe_(format!(
                "it is accessible by group or others (mode {mode:04o}); run `chmod 600 {}`",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| unsafe_(e.to_string()))?;
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(unsafe_("it is larger than 1 MiB".into()));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| PolicyError::Invalid {
            path: path.to_owned(),
            problem: "it is not UTF-8 text".into(),
        })?;
        let policy = Policy::parse(text, path)?;
        Ok((policy, bytes))
    }

    /// The rules of alias set `name`.
    pub fn alias(&self, name: &str) -> Option<&[AliasRule]> {
        self.env_aliases.get(name).map(Vec::as_slice)
    }
}

fn check_default_action(action: &str) -> Result<(), String> {
    match action {
        "deny" => Ok(()),
        "allow" => Err(
            "default_action: allow is not supported; list the allowed commands and use deny".into(),
        ),
        other => Err(format!("default_action must be deny, not {}", shown(other))),
    }
}

fn command_rule(raw: RawCommand) -> Result<CommandRule, String> {
    if raw.name.is_empty() || raw.name.chars().any(char::is_control) {
        return Err("a command name is empty or has control characters".into());
    }
    if raw.keys.is_empty() {
        return Err(format!("command {}: `keys` is empty", shown(&raw.name)));
    }
    let keys = raw
        .keys
        .iter()
        .map(|k| Pattern::parse(k).map_err(|e| format!("command {}: {e}", shown(&raw.name))))
        .collect::<Result<_, _>>()?;
    let timeout = match &raw.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) => {
            let d = parse_duration(t).map_err(|e| format!("command {}: {e}", shown(&raw.name)))?;
            if d.is_zero() || d > MAX_TIMEOUT {
                return Err(format!(
                    "command {}: timeout must be between 1s and 1h",
                    shown(&raw.name)
                ));
            }
            d
        }
    };
    let output = match raw.output.as_deref() {
        None | Some("redacted") => OutputMode::Redacted,
        Some("none") => OutputMode::None,
        Some(other) => match other.strip_prefix("tail:").map(str::parse::<usize>) {
            Some(Ok(n)) if n > 0 => OutputMode::Tail(n),
            _ => {
                return Err(format!(
                    "command {}: output must be redacted, none or tail:N",
                    shown(&raw.name)
                ));
            }
        },
    };
    Ok(CommandRule {
        name: raw.name,
        keys,
        args_deny: raw.args_deny,
        danger_allow_args: raw.danger_allow_args,
        timeout,
        output,
    })
}

fn aliases(
    raw: BTreeMap<String, Vec<RawAlias>>,
) -> Result<BTreeMap<String, Vec<AliasRule>>, String> {
    let mut out = BTreeMap::new();
    for (name, rules) in raw {
        let mut parsed = Vec::new();
        for r in rules {
            let shape_ok = |s: &str| match s.strip_suffix("/*") {
                Some(prefix) => KeyName::parse(prefix).is_ok(),
                None => KeyName::parse(s).is_ok(),
            };
            if !shape_ok(&r.pattern)
                || !shape_ok(&r.target)
                || r.pattern.ends_with('*') != r.target.ends_with('*')
            {
                return Err(format!(
                    "env_aliases.{name}: pattern {} and target {} must both be keys or both end in /*",
                    shown(&r.pattern),
                    shown(&r.target)
                ));
            }
            parsed.push(AliasRule {
                pattern: r.pattern,
                target: r.target,
            });
        }
        out.insert(name, parsed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, Path::new("mcp-policy.yaml"))
    }

    #[test]
    fn version_2_parses_with_defaults() {
        let p = parse(
            "version: 2\ndefault_action: deny\ncommands:\n  - name: aws\n    keys: [\"aws/*\"]\n    timeout: 10m\n    output: tail:20\n  - name: /usr/bin/gh\n    keys: [gh/token]\nenv_aliases:\n  prod:\n    - { pattern: \"db/*\", target: \"db/prod/*\" }\n",
        )
        .unwrap();
        assert_eq!(p.commands.len(), 2);
        assert_eq!(p.commands[0].timeout, Duration::from_secs(600));
        assert_eq!(p.commands[0].output, OutputMode::Tail(20));
        assert_eq!(p.commands[1].timeout, DEFAULT_TIMEOUT);
        let rule = &p.alias("prod").unwrap()[0];
        assert_eq!(rule.map("db/password").as_deref(), Some("db/prod/password"));
        assert_eq!(
            rule.unmap("db/prod/password").as_deref(),
            Some("db/password")
        );
        assert_eq!(rule.map("api/key"), None);
    }

    #[test]
    fn version_1_files_of_the_original_tool_load() {
        let p = parse("version: 1\ndefault_action: deny\nallowed_commands: [aws, gh]\ndenied_commands: [rm]\nenv_aliases:\n  dev:\n    - pattern: \"db/*\"\n      target: \"dev/db/*\"\n").unwrap();
        assert_eq!(p.version, 1);
        assert_eq!(p.commands.len(), 2);
        assert_eq!(p.denied_commands, ["rm"]);
    }

    #[test]
    fn strictness() {
        for bad in [
            "version: 2\ndefault_action: deny\ncomands: []\n",
            "version: 2\ndefault_action: allow\n",
            "version: 3\ndefault_action: deny\n",
            "default_action: deny\n",
            "version: 2\ndefault_action: deny\ncommands:\n  - name: aws\n",
            "version: 2\ndefault_action: deny\ncommands:\n  - name: aws\n    keys: [\"a/*\"]\n    timeout: 2h\n",
            "version: 2\ndefault_action: deny\ncommands:\n  - name: aws\n    keys: [\"a/*\"]\n    output: all\n",
            "version: 2\ndefault_action: deny\nenv_aliases:\n  x:\n    - { pattern: \"db/*\", target: \"db\" }\n",
            "version: [",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }
}
