//! `secretctl doctor`: checks the vault's health and says how to fix what is wrong (issue 8):
//! file permissions and symlinks, schema version, `PRAGMA integrity_check`, the audit chain,
//! the session agent, the MCP policy approval and its pinned binaries, the KDF time on this
//! machine, and a redaction self-test that reports what is caught and what cannot be.
//!
//! Read-only: it never changes a file. Checks that need the key (audit chain, policy approval,
//! KDF time) unlock with the master password when one is available, and are reported as
//! skipped otherwise. Exit 1 when any problem is found.

use crate::agent::client::{AgentClient, ClientError};
use crate::cli::{Global, JsonArg};
use crate::failure::Result;
use crate::{io, password};
use secretctl_core::audit::Source;
use secretctl_core::command_policy;
use secretctl_core::crypto::constant_time_eq;
use secretctl_core::health;
use secretctl_core::policy::{Policy, PolicyError};
use secretctl_core::vault::Vault;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Info,
    Warning,
    Problem,
    Skipped,
}

#[derive(Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            check,
            status,
            detail: detail.into(),
            fix: None,
        });
    }

    fn problem(&mut self, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.checks.push(Check {
            check,
            status: Status::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }

    fn skip_keyed(&mut self, why: &str) {
        for check in ["kdf", "audit", "policy"] {
            self.add(check, Status::Skipped, why);
        }
    }
}

pub fn run(g: &Global, a: JsonArg) -> Result<ExitCode> {
    let dir = g.vault_dir();
    let mut report = Report::default();

    let file_problems = health::file_problems(&dir);
    let files_ok = file_problems.is_empty();
    if files_ok {
        report.add(
            "files",
            Status::Ok,
            "the vault's files are private, yours and not symlinks",
        );
    }
    for p in file_problems {
        let fix = match &p.error {
            secretctl_core::vault::Error::UnsafePermissions { fix, .. } => fix.clone(),
            secretctl_core::vault::Error::Symlink(path) => format!(
                "replace the symlink {} with the real file (or restore from a backup)",
                path.display()
            ),
            _ => "restore the file from a backup".to_owned(),
        };
        report.problem("files", p.error.to_string(), fix);
    }

    // SQLite creates `-wal` and `-shm` with the database file's mode: a database that is open
    // to others is not opened at all, so that looking does not spread the problem.
    let database = if files_ok {
        Some(health::database(&dir))
    } else {
        for check in ["schema", "integrity"] {
            report.add(
                check,
                Status::Skipped,
                "not opened: fix the file problems first",
            );
        }
        None
    };
    match database {
        None => {}
        Some(Err(e)) => report.problem(
            "database",
            format!("{} cannot be read: {e}", dir.db().display()),
            "restore the vault from a backup",
        ),
        Some(Ok(db)) => {
            if db.schema_version > db.current_version {
                report.problem(
                    "schema",
                    format!(
                        "schema version {} is newer than this build's {}",
                        db.schema_version, db.current_version
                    ),
                    "upgrade secretctl",
                );
            } else if db.schema_version < db.current_version {
                report.add(
                    "schema",
                    Status::Info,
                    format!(
                        "schema version {}; it is migrated to {} at the next unlock",
                        db.schema_version, db.current_version
                    ),
                );
            } else {
                report.add(
                    "schema",
                    Status::Ok,
                    format!("schema version {}", db.schema_version),
                );
            }
            if db.integrity == ["ok"] {
                report.add("integrity", Status::Ok, "PRAGMA integrity_check: ok");
            } else {
                report.problem(
                    "integrity",
                    format!("PRAGMA integrity_check: {}", db.integrity.join("; ")),
                    "restore the vault from a backup",
                );
            }
        }
    }

    agent_check(&mut report, &dir);

    if !files_ok {
        report.skip_keyed("not unlocked: fix the file problems first");
    } else {
        match password::configured_current(g)? {
            None if !io::have_tty() => report.skip_keyed(
                "needs the master password: give --password-file or SECRETCTL_PASSWORD_FILE, or \
                 run in a terminal",
            ),
            configured => {
                let pw = match configured {
                    Some(p) => p,
                    None => password::current(g)?,
                };
                let vault = Vault::open(&dir)?;
                let started = Instant::now();
                let mut session = vault.unlock(&pw, Source::Cli)?;
                let kdf_ms = started.elapsed().as_millis();
                report.add(
                    "kdf",
                    if kdf_ms > 3000 {
                        Status::Warning
                    } else {
                        Status::Info
                    },
                    format!(
                        "unlock (Argon2id with the vault's parameters) took {kdf_ms} ms on this \
                         machine"
                    ),
                );
                keyed_checks(&mut report, &mut session, &dir)?;
            }
        }
    }

    let techniques = health::redaction_self_test();
    for t in &techniques {
        let detail = format!(
            "{}: {}",
            t.name,
            if t.caught { "redacted" } else { "not redacted" }
        );
        let detail = if t.note.is_empty() {
            detail
        } else {
            format!("{detail} ({})", t.note)
        };
        match (t.designed, t.caught) {
            (true, true) => report.add("redaction", Status::Ok, detail),
            (true, false) => report.problem(
                "redaction",
                detail,
                "this build's redaction engine is broken; report it",
            ),
            (false, _) => report.add("redaction", Status::Info, detail),
        }
    }

    let problems = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    if a.json {
        io::out_json(&serde_json::json!({
            "vault": dir.root().display().to_string(),
            "ok": problems == 0,
            "problems": problems,
            "checks": report.checks,
        }))?;
    } else {
        let mut text = String::new();
        for c in &report.checks {
            let label = match c.status {
                Status::Ok => "ok",
                Status::Info => "info",
                Status::Warning => "warning",
                Status::Problem => "PROBLEM",
                Status::Skipped => "skipped",
            };
            text.push_str(&format!("{label:<8} {:<10} {}\n", c.check, c.detail));
            if let Some(fix) = &c.fix {
                text.push_str(&format!("{:<19} fix: {fix}\n", ""));
            }
        }
        text.push_str(&if problems == 0 {
            "no problems found\n".to_owned()
        } else {
            format!("{problems} problem(s) found\n")
        });
        io::out(text.as_bytes())?;
    }
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn agent_check(report: &mut Report, dir: &secretctl_core::vault::VaultDir) {
    match AgentClient::find(dir) {
        Ok(None) => report.add(
            "agent",
            Status::Info,
            "no session agent is running (locked)",
        ),
        Err(ClientError::Unsafe(m)) => report.problem(
            "agent",
            m,
            format!(
                "remove {} and run `secretctl unlock`",
                dir.socket().display()
            ),
        ),
        Err(e) => report.add("agent", Status::Warning, format!("{e:?}")),
        Ok(Some(client)) => match client.status() {
            Ok(Some(s)) => report.add(
                "agent",
                Status::Info,
                format!(
                    "unlocked by pid {}: {} s to the idle timeout, {} s to the maximum{}",
                    s.pid,
                    s.idle_secs_left,
                    s.max_secs_left,
                    if s.reveal_secs_left.is_some() {
                        ", plaintext reads allowed"
                    } else {
                        ""
                    }
                ),
            ),
            Ok(None) => report.add("agent", Status::Info, "the session agent is locked"),
            Err(ClientError::Unsafe(m)) => report.problem(
                "agent",
                m,
                "stop the process behind the socket and run `secretctl unlock`",
            ),
            Err(_) => report.add(
                "agent",
                Status::Warning,
                "a stale agent socket is left; `secretctl unlock` replaces it",
            ),
        },
    }
}

fn keyed_checks(
    report: &mut Report,
    session: &mut secretctl_core::vault::Session,
    dir: &secretctl_core::vault::VaultDir,
) -> Result<()> {
    let v = session.audit_verify(Source::Cli)?;
    if v.is_ok() {
        report.add(
            "audit",
            Status::Ok,
            format!(
                "audit chain verifies: {} records, head seq {}",
                v.records, v.head_seq
            ),
        );
    } else {
        report.problem(
            "audit",
            format!(
                "the audit log fails verification at record {}: {}",
                v.first_bad_seq.unwrap_or_default(),
                v.problem.as_deref().unwrap_or("tampered")
            ),
            "the log was changed outside secretctl: keep a copy of vault.db as evidence and \
             compare with head hashes you kept (`secretctl audit verify`)",
        );
    }

    let path = dir.policy();
    let (policy, bytes) = match Policy::load_with_bytes(&path) {
        Err(PolicyError::Missing(_)) => {
            report.add(
                "policy",
                Status::Info,
                "no MCP policy: every MCP secret_run is denied",
            );
            return Ok(());
        }
        Err(e) => {
            report.problem(
                "policy",
                e.to_string(),
                "fix mcp-policy.yaml, then run `secretctl policy approve`",
            );
            return Ok(());
        }
        Ok(p) => p,
    };
    let approval = match super::policy::stored_approval(session) {
        Ok(a) => a,
        Err(f) => {
            report.problem("policy", f.message, "run `secretctl policy approve`");
            return Ok(());
        }
    };
    let Some(approval) = approval else {
        report.add(
            "policy",
            Status::Warning,
            "the MCP policy is not approved: every MCP secret_run is denied",
        );
        return Ok(());
    };
    let mac = command_policy::policy_hmac(&session.policy_key(), &bytes);
    if !constant_time_eq(&mac, &approval.policy_hmac) {
        report.problem(
            "policy",
            format!("{} was changed after it was approved", path.display()),
            "review the change (`secretctl policy show`), then run `secretctl policy approve`",
        );
        return Ok(());
    }
    let mut changed = false;
    for c in &approval.commands {
        let state = super::policy::binary_state(c);
        if state != "ok" {
            changed = true;
            report.problem(
                "policy",
                format!(
                    "pinned binary of '{}' ({}) is {state}",
                    c.name,
                    c.canonical_path.display()
                ),
                "check the binary, then run `secretctl policy approve`",
            );
        }
    }
    if !changed {
        report.add(
            "policy",
            Status::Ok,
            format!(
                "MCP policy approved, {} command(s), pinned binaries unchanged",
                policy.commands.len()
            ),
        );
    }
    Ok(())
}
