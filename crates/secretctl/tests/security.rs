//! `secretctl security` (SPEC §10) through the real binary: a vault with a weak value, strong
//! random ones, a value reused under two keys and in a field of a multi-field secret, an
//! expired and an expiring secret, and more than 150 secrets in all (no cap: every one
//! counts). The JSON lists and counts are checked exactly, no value appears anywhere in what
//! the command prints, and the same report comes through the session agent.

mod harness;

use harness::*;
use serde_json::Value;
use std::process::Command;

const WEAK: &str = "password123";
const REUSED: &str = "Shared-Secret-Value-42!";
const BULK: usize = 160;

/// Random strong text: 32 hex characters.
fn random_value() -> String {
    hex::encode(random_bytes(16))
}

struct Fixture {
    vault: TestVault,
    /// Every sensitive value stored.
    values: Vec<String>,
}

fn fixture() -> Fixture {
    let vault = TestVault::new();
    let mut values = Vec::new();
    // The bulk in one import (one KDF instead of 160).
    let mut env = String::new();
    for i in 0..BULK {
        let v = random_value();
        env.push_str(&format!("BULK_{i:03}={v}\n"));
        values.push(v);
    }
    let file = vault.scratch("bulk.env");
    std::fs::write(&file, env).unwrap();
    vault
        .run(&["import", file.to_str().unwrap()])
        .ok("import the bulk");
    let set = |args: &[&str], value: &str| {
        vault
            .run_with_stdin(args, value.as_bytes())
            .ok(&format!("set {args:?}"));
    };
    set(&["set", "weak"], WEAK);
    values.push(WEAK.into());
    let strong = random_value();
    set(&["set", "strong"], &strong);
    values.push(strong);
    set(&["set", "reuse/a"], REUSED);
    set(&["set", "reuse/b"], REUSED);
    set(
        &[
            "set",
            "svc",
            "--template",
            "login",
            "--field",
            "username=svc-admin",
            "--field",
            "password=-",
        ],
        REUSED,
    );
    values.push(REUSED.into());
    let old = random_value();
    set(&["set", "old/token", "--expires", "2020-01-01"], &old);
    values.push(old);
    let soon = random_value();
    set(&["set", "soon/token", "--expires", "10d"], &soon);
    values.push(soon);
    let later = random_value();
    set(&["set", "later/token", "--expires", "90d"], &later);
    values.push(later);
    Fixture { vault, values }
}

/// The secrets beyond the bulk: weak, strong, reuse/a, reuse/b, svc, old, soon, later.
const SPECIAL: usize = 8;

fn places(items: &Value) -> Vec<(String, String)> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|m| {
            (
                m["key"].as_str().expect("key").to_owned(),
                m["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect()
}

fn keys(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["key"].as_str().expect("key"))
        .collect()
}

fn assert_no_value(f: &Fixture, out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    for v in &f.values {
        assert!(!stdout.contains(v.as_str()), "{what}: a value on stdout");
        assert!(
            !out.stderr.contains(v.as_str()),
            "{what}: a value on stderr"
        );
    }
}

fn check_report(report: &Value) {
    let total = BULK + SPECIAL;
    let counts = &report["counts"];
    assert_eq!(counts["secrets"], total, "every secret counts, no cap");
    // svc's username is not a password: one sensitive value per secret.
    assert_eq!(counts["values"], total);
    assert_eq!(counts["scored"], total);
    assert_eq!(counts["unscored"], 0);
    assert_eq!(counts["weak"], 1);
    assert_eq!(counts["reuse_groups"], 1);
    assert_eq!(counts["reused_values"], 3);
    assert_eq!(counts["expired"], 1);
    assert_eq!(counts["expiring"], 1);
    assert_eq!(
        places(&report["weak"]),
        [("weak".to_owned(), "value".to_owned())]
    );
    let weak = &report["weak"][0];
    assert!(weak["strength"].as_u64().expect("strength") < 3);
    assert!(!weak["reason"].as_str().expect("reason").is_empty());
    assert!(!weak["crack_time"].as_str().expect("crack_time").is_empty());
    let groups = report["reused"].as_array().expect("reused");
    assert_eq!(groups.len(), 1);
    assert_eq!(
        places(&groups[0]["members"]),
        [
            ("reuse/a".to_owned(), "value".to_owned()),
            ("reuse/b".to_owned(), "value".to_owned()),
            ("svc".to_owned(), "password".to_owned()),
        ]
    );
    assert_eq!(keys(&report["expired"]), ["old/token"]);
    assert_eq!(report["expired"][0]["expires_at"], "2020-01-01T00:00:00Z");
    assert!(report["expired"][0]["days_left"].as_i64().expect("days") < -2000);
    assert_eq!(keys(&report["expiring"]), ["soon/token"]);
    let days = report["expiring"][0]["days_left"].as_i64().expect("days");
    assert!((9..=10).contains(&days), "{days}");
    assert_eq!(report["expiring_within_secs"], 30 * 86_400);
    // The documented formula (docs/security-report.md), from the components it reports.
    let c = &report["components"];
    let (s, r, e) = (
        c["strength"].as_f64().unwrap(),
        c["reuse"].as_f64().unwrap(),
        c["expiry"].as_f64().unwrap(),
    );
    assert!((r - (1.0 - 3.0 / total as f64)).abs() < 1e-3, "reuse {r}");
    assert!((e - (1.0 - 1.5 / total as f64)).abs() < 1e-3, "expiry {e}");
    assert!(s > 0.9 && s < 1.0, "strength {s}");
    let score = report["score"].as_u64().expect("score") as f64;
    assert!((score - 100.0 * (0.5 * s + 0.3 * r + 0.2 * e)).abs() <= 0.6);
}

#[test]
fn report_lists_weak_reused_and_expiring_secrets_and_counts_all_of_them() {
    let f = fixture();
    let out = f.vault.run(&["security", "--json"]);
    let report: Value = serde_json::from_slice(out.ok("security --json")).expect("JSON");
    check_report(&report);
    assert_no_value(&f, &out, "security --json");

    for args in [
        &["security"][..],
        &["security", "weak"],
        &["security", "duplicates"],
        &["security", "expiring"],
        &["security", "weak", "--json"],
        &["security", "duplicates", "--json"],
        &["security", "expiring", "--json"],
        &["security", "--expiring-within", "100d", "--json"],
    ] {
        let out = f.vault.run(args);
        out.ok(&format!("{args:?}"));
        assert_no_value(&f, &out, &format!("{args:?}"));
    }

    let text = f.vault.run(&["security"]).ok_text("security");
    let total = BULK + SPECIAL;
    assert!(
        text.starts_with(&format!(
            "Security score: {}/100 (strength ",
            report["score"]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{total} secrets, {total} sensitive values: 1 weak, 3 reused in 1 group, 1 expired, 1 expiring within 30 days")),
        "{text}"
    );
    assert!(
        text.contains("reuse/a (value), reuse/b (value), svc (password)"),
        "{text}"
    );

    let weak: Value = serde_json::from_slice(
        f.vault
            .run(&["security", "weak", "--json"])
            .ok("security weak --json"),
    )
    .expect("JSON");
    assert_eq!(weak.as_object().map(|o| o.len()), Some(1));
    assert_eq!(weak["weak"], report["weak"]);

    let wider: Value = serde_json::from_slice(
        f.vault
            .run(&[
                "security",
                "expiring",
                "--expiring-within",
                "100d",
                "--json",
            ])
            .ok("security expiring --expiring-within 100d"),
    )
    .expect("JSON");
    assert_eq!(keys(&wider["expiring"]), ["soon/token", "later/token"]);
}

#[test]
fn every_report_is_one_audit_record_naming_no_key() {
    let f = fixture();
    f.vault.run(&["security"]).ok("security");
    let records = audit_records(&f.vault.dir, 5);
    let report: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "security_report")
        .collect();
    assert_eq!(report.len(), 1, "{records:?}");
    let r = report[0];
    assert_eq!(r["source"], "cli");
    assert_eq!(r["success"], true);
    assert!(r["key_hash"].is_null());
    let detail: Value = match &r["detail"] {
        Value::String(s) => serde_json::from_str(s).expect("detail is JSON"),
        other => other.clone(),
    };
    assert_eq!(detail["keys"], BULK + SPECIAL);
}

#[test]
fn an_empty_vault_scores_100() {
    let v = TestVault::new();
    let report: Value =
        serde_json::from_slice(v.run(&["security", "--json"]).ok("security --json")).expect("JSON");
    assert_eq!(report["score"], 100);
    assert_eq!(report["counts"]["secrets"], 0);
    let text = v.run(&["security"]).ok_text("security");
    assert!(text.starts_with("Security score: 100/100"), "{text}");
}

#[test]
fn without_a_password_or_an_agent_it_fails_with_exit_3() {
    let v = TestVault::new();
    let mut c = Command::new("setsid");
    c.args(["-w", bin(), "--vault-dir"])
        .arg(&v.dir)
        .arg("security")
        .env_remove("SECRETCTL_PASSWORD")
        .env_remove("SECRETCTL_PASSWORD_FILE")
        .env("RUST_BACKTRACE", "0");
    let line = run(c, None).failure(3, "security without a password");
    assert!(line.contains("master password"), "{line}");
}

/// Stops the agent of a vault on drop.
struct Unlocked<'a>(&'a TestVault);

impl Drop for Unlocked<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["lock"]);
    }
}

#[test]
fn the_agent_builds_the_same_report_without_the_password() {
    let f = fixture();
    f.vault.run(&["unlock"]).ok_text("unlock");
    let _agent = Unlocked(&f.vault);
    let mut c = Command::new("setsid");
    c.args(["-w", bin(), "--vault-dir"])
        .arg(&f.vault.dir)
        .args(["security", "--json"])
        .env_remove("SECRETCTL_PASSWORD")
        .env_remove("SECRETCTL_PASSWORD_FILE")
        .env("RUST_BACKTRACE", "0");
    let out = run(c, None);
    let report: Value =
        serde_json::from_slice(out.ok("security --json through the agent")).expect("JSON");
    check_report(&report);
    assert_no_value(&f, &out, "security through the agent");
    let records = audit_records(&f.vault.dir, 5);
    let r = records
        .iter()
        .find(|r| r["action"] == "security_report")
        .expect("a security_report record");
    assert_eq!(r["source"], "agent");
    assert!(r["detail"].to_string().contains("cli"), "via cli: {r}");
}
