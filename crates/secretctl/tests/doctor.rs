//! `secretctl doctor` (issue 8): all green on a healthy vault; on a loosened permission, a
//! tampered audit row, an edited policy and a replaced pinned binary it names each problem with
//! its fix and exits 1. The redaction self-test reports what is caught and what cannot be.

mod harness;

use harness::TestVault;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

fn doctor_json(v: &TestVault) -> (Option<i32>, Value) {
    let out = v.run(&["doctor", "--json"]);
    assert_eq!(out.stderr, "", "doctor writes its findings on stdout");
    (
        out.code,
        serde_json::from_slice(&out.stdout).expect("doctor --json prints JSON"),
    )
}

fn problems(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "problem")
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_owned(),
                c["detail"].as_str().unwrap().to_owned(),
                c["fix"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn status_of<'a>(report: &'a Value, check: &str) -> Vec<&'a str> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["status"].as_str().unwrap())
        .collect()
}

/// A vault with a secret and an approved policy pinning a copy of `true`.
fn vault_with_policy() -> (TestVault, std::path::PathBuf) {
    let v = TestVault::new();
    v.set("api/token", b"token-value-123456");
    let tool = v.scratch("mytool");
    std::fs::copy("/bin/true", &tool).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let policy = v.dir.join("mcp-policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"api/*\"]\n",
            tool.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    v.run(&["policy", "approve", "--yes"]).ok("policy approve");
    (v, tool)
}

#[test]
fn healthy_vault_is_all_green() {
    let (v, _) = vault_with_policy();
    let (code, report) = doctor_json(&v);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    assert!(problems(&report).is_empty(), "{report:#}");
    for check in ["files", "schema", "integrity", "audit", "policy"] {
        assert_eq!(status_of(&report, check), ["ok"], "{check}: {report:#}");
    }
    assert_eq!(status_of(&report, "kdf"), ["info"]);
    // The self-test: designed techniques redacted, the two that cannot be reported as such.
    let redaction: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "redaction")
        .collect();
    assert!(redaction.len() >= 10, "{redaction:?}");
    let mut cannot = Vec::new();
    for c in &redaction {
        let detail = c["detail"].as_str().unwrap();
        if c["status"] == "info" {
            assert!(detail.contains("not redacted"), "{detail}");
            cannot.push(detail.split(':').next().unwrap());
        } else {
            assert_eq!(c["status"], "ok", "{c}");
            assert!(detail.contains(": redacted"), "{detail}");
        }
    }
    assert_eq!(
        cannot,
        [
            "every byte percent-encoded",
            "reversed",
            "a separator between characters"
        ]
    );
    let text = v.run(&["doctor"]).ok_text("doctor");
    assert!(text.ends_with("no problems found\n"), "{text}");
}

#[test]
fn tampered_audit_row_edited_policy_and_replaced_binary_are_each_named() {
    let (v, tool) = vault_with_policy();
    v.sql("UPDATE audit_log SET detail = '{\"forged\":true}' WHERE seq = 2");
    let policy = v.dir.join("mcp-policy.yaml");
    let mut text = std::fs::read_to_string(&policy).unwrap();
    text.push_str("# edited by someone\n");
    std::fs::write(&policy, text).unwrap();
    let (code, report) = doctor_json(&v);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["ok"], false);
    let found = problems(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "audit");
    assert!(found[0].1.contains("at record 2"), "{found:?}");
    assert_eq!(found[1].0, "policy");
    assert!(
        found[1].1.contains("changed after it was approved"),
        "{found:?}"
    );
    assert!(found[1].2.contains("secretctl policy approve"), "{found:?}");

    // Approve the edit; then replace the pinned binary (same path, other content).
    v.run(&["policy", "approve", "--yes"]).ok("approve again");
    std::fs::copy("/bin/false", &tool).unwrap();
    let (code, report) = doctor_json(&v);
    assert_eq!(code, Some(1));
    let found = problems(&report);
    let policy_problem = found
        .iter()
        .find(|p| p.0 == "policy")
        .expect("policy problem");
    assert!(
        policy_problem.1.contains("pinned binary") && policy_problem.1.contains("changed"),
        "{found:?}"
    );
    // The human form names the problem and its fix, one per line.
    let out = v.run(&["doctor"]);
    assert_eq!(out.code, Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PROBLEM  policy"), "{text}");
    assert!(text.contains("fix: check the binary"), "{text}");
    assert!(text.ends_with("problem(s) found\n"), "{text}");
}

#[test]
fn loosened_permission_is_named_with_the_chmod_that_fixes_it() {
    let v = TestVault::new();
    let db = v.db();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, report) = doctor_json(&v);
    assert_eq!(code, Some(1), "{report:#}");
    let found = problems(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "files");
    assert!(
        found[0].1.contains("accessible by group or others"),
        "{found:?}"
    );
    assert_eq!(found[0].2, format!("chmod 600 {}", db.display()));
    // The key is not used on a vault whose files are unsafe: those checks are skipped.
    assert_eq!(status_of(&report, "audit"), ["skipped"]);
    // The fix works.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, report) = doctor_json(&v);
    assert_eq!(code, Some(0), "{:?}", problems(&report));
}
