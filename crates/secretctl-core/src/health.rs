//! What `secretctl doctor` checks without the vault key: the vault's files (owner, mode,
//! symlinks), the database (schema version, `PRAGMA integrity_check`), and the redaction engine
//! against a fixed set of exfiltration techniques. Checks that need the key (the audit chain,
//! the policy approval) are the caller's: they go through an unlocked
//! [`Session`](crate::vault::Session).
//!
//! Nothing here writes to the vault, and nothing here ever sees a real secret: the redaction
//! self-test uses a random value made for it.

use crate::redact::Redactor;
use crate::vault::{Error, SCHEMA_VERSION, VaultDir};
use base64::Engine;
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;

/// One file that fails the file rules, with the error that says what and how to fix it.
pub struct FileProblem {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (the message names the file and the fix).
    pub error: Error,
}

/// Every file of the vault that breaks a rule: the directory (0700, ours), `vault.db`,
/// `vault.salt`, `vault.meta` (0600, ours, regular files) and, when present, SQLite's `-wal`
/// and `-shm` and `mcp-policy.yaml`. Unlike opening the vault, this goes on past the first.
pub fn file_problems(dir: &VaultDir) -> Vec<FileProblem> {
    let mut problems = Vec::new();
    if let Err(error) = dir.check_dir() {
        problems.push(FileProblem {
            path: dir.root().to_owned(),
            error,
        });
        return problems;
    }
    for path in [dir.db(), dir.salt(), dir.meta()] {
        if let Err(error) = dir.check_file(&path) {
            problems.push(FileProblem { path, error });
        }
    }
    let db = dir.db();
    let optional = [
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
        dir.policy(),
    ];
    for path in optional {
        if let Err(error) = dir.check_optional_file(&path) {
            problems.push(FileProblem { path, error });
        }
    }
    problems
}

/// What the database says about itself.
pub struct DatabaseState {
    /// `PRAGMA user_version`.
    pub schema_version: u32,
    /// The version this build writes.
    pub current_version: u32,
    /// `ok`, or SQLite's first complaints from `PRAGMA integrity_check`.
    pub integrity: Vec<String>,
}

/// Opens `vault.db` read-only and asks SQLite about it.
pub fn database(dir: &VaultDir) -> Result<DatabaseState, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        dir.db(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let schema_version = crate::vault::schema_version(&conn)?;
    let mut stmt = conn.prepare("PRAGMA integrity_check(20)")?;
    let integrity = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(DatabaseState {
        schema_version,
        current_version: SCHEMA_VERSION,
        integrity,
    })
}

/// One exfiltration technique tried against the redaction engine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Technique {
    /// What was done to the secret.
    pub name: &'static str,
    /// Whether the engine redacted it.
    pub caught: bool,
    /// Whether the engine is designed to catch it (a designed one not caught is a bug).
    pub designed: bool,
    /// Why it is or cannot be caught.
    pub note: &'static str,
}

/// Tries the live redaction engine against a fixed set of ways a program may print a secret
/// (SPEC §6): raw, base64 at each alignment, hex, URL and JSON escapes, split writes, case
/// change, reversal and separators. "Caught" means the redacted output holds the marker and
/// not the form tried. The honest result includes what cannot be caught.
pub fn redaction_self_test() -> Vec<Technique> {
    let mut raw = [0u8; 18];
    crate::crypto::fill_random(&mut raw);
    // Text with a quote, a slash and a space, so that the escaping techniques change it.
    let secret = format!(
        "st\"{}/ x",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let secret = secret.as_bytes();
    let redactor = Redactor::new([("SELFTEST", secret)]);
    let whole = |form: Vec<u8>| {
        let out = redactor.redact_all(&form);
        caught(&out, &form)
    };
    let b64 = |prefix: &[u8]| {
        let mut data = prefix.to_vec();
        data.extend_from_slice(secret);
        base64::engine::general_purpose::STANDARD
            .encode(data)
            .into_bytes()
    };
    let split = {
        let mut stream = redactor.stream();
        let mut out = Vec::new();
        let (a, b) = secret.split_at(secret.len() / 2);
        stream.push(b"before ", &mut out);
        stream.push(a, &mut out);
        stream.push(b, &mut out);
        stream.push(b" after", &mut out);
        stream.finish(&mut out);
        caught(&out, secret)
    };
    // RFC 3986: unreserved characters stay literal.
    let url: String = secret
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let every_byte: String = secret.iter().map(|b| format!("%{b:02X}")).collect();
    let json = serde_json::to_string(std::str::from_utf8(secret).expect("the test secret is text"))
        .expect("strings serialise");
    let reversed: Vec<u8> = secret.iter().rev().copied().collect();
    let separated: Vec<u8> = secret.iter().flat_map(|&b| [b, b'-']).collect();
    vec![
        Technique {
            name: "raw",
            caught: whole(secret.to_vec()),
            designed: true,
            note: "the value as stored",
        },
        Technique {
            name: "split across two writes",
            caught: split,
            designed: true,
            note: "a possible match is held back until it is decided",
        },
        Technique {
            name: "base64, offset 0",
            caught: whole(b64(b"")),
            designed: true,
            note: "standard and URL alphabets, padded or not",
        },
        Technique {
            name: "base64, offset 1",
            caught: whole(b64(b"a")),
            designed: true,
            note: "the stable core of each of the 3 alignments",
        },
        Technique {
            name: "base64, offset 2",
            caught: whole(b64(b"ab")),
            designed: true,
            note: "the stable core of each of the 3 alignments",
        },
        Technique {
            name: "hex, lower case",
            caught: whole(hex::encode(secret).into_bytes()),
            designed: true,
            note: "",
        },
        Technique {
            name: "hex, upper case",
            caught: whole(hex::encode_upper(secret).into_bytes()),
            designed: true,
            note: "",
        },
        Technique {
            name: "URL encoding",
            caught: whole(url.into_bytes()),
            designed: true,
            note: "RFC 3986, encodeURIComponent and form encoding",
        },
        Technique {
            name: "every byte percent-encoded",
            caught: whole(every_byte.into_bytes()),
            designed: false,
            note: "not caught: no common encoder writes letters as %XX, and a program that does \
                   is hiding the value on purpose",
        },
        Technique {
            name: "JSON string escapes",
            caught: whole(json.into_bytes()),
            designed: true,
            note: "quotes and slashes escaped",
        },
        Technique {
            name: "upper case",
            caught: whole(secret.to_ascii_uppercase()),
            designed: true,
            note: "values of 8 bytes or more match in any case",
        },
        Technique {
            name: "reversed",
            caught: whole(reversed),
            designed: false,
            note: "cannot be caught: any reversible transform defeats a filter; the command \
                   policy is the boundary",
        },
        Technique {
            name: "a separator between characters",
            caught: whole(separated),
            designed: false,
            note: "cannot be caught without redacting ordinary text",
        },
    ]
}

/// The output holds the marker and no longer holds the form that was printed.
fn caught(out: &[u8], form: &[u8]) -> bool {
    let marker: &[u8] = b"[REDACTED:SELFTEST]";
    out.windows(marker.len()).any(|w| w == marker) && !out.windows(form.len()).any(|w| w == form)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every technique the engine is designed for is caught; the two that cannot be are
    /// reported as not caught (were they "caught", the check itself would be wrong).
    #[test]
    fn self_test_matches_the_design() {
        for t in redaction_self_test() {
            assert_eq!(t.caught, t.designed, "{}", t.name);
        }
    }
}
