//! `secretctl policy approve|show|check` (SPEC §7.2), end to end with the real binary and real
//! executables in temporary directories.
//!
//! Every command runs under `setsid -w` (no controlling terminal, so no prompt and no
//! confirmation can be answered), with stdin from /dev/null and an environment the test
//! chooses: `PATH` is set explicitly so that bare names resolve where the test put them.

mod harness;

use harness::{Output, PASSWORD, TestVault, bin, run};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// How a command gets its master password.
#[derive(Clone, Copy)]
enum Pw {
    /// `SECRETCTL_PASSWORD`.
    Env,
    /// No source at all: empty environment apart from `PATH`.
    None,
}

/// A vault plus a private `bin` directory put first on `PATH`.
struct Setup {
    v: TestVault,
    bin_dir: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let v = TestVault::new();
        let bin_dir = v.scratch("bin");
        std::fs::create_dir(&bin_dir).expect("bin dir");
        Setup { v, bin_dir }
    }

    fn path_env(&self) -> String {
        format!("{}:{SYSTEM_PATH}", self.bin_dir.display())
    }

    /// A copy of `/bin/true` named `name` in the private bin dir (mode 0755).
    fn tool(&self, name: &str) -> PathBuf {
        let path = self.bin_dir.join(name);
        std::fs::copy("/bin/true", &path).expect("copy /bin/true");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn policy_path(&self) -> PathBuf {
        self.v.dir.join("mcp-policy.yaml")
    }

    /// Writes the policy file (mode 0600).
    fn write_policy(&self, text: &str) {
        harness::write_policy(&self.v.dir, text);
    }

    fn command(&self, args: &[&str], pw: Pw) -> Command {
        let mut c = Command::new("setsid");
        c.arg("-w")
            .arg(bin())
            .arg("--vault-dir")
            .arg(&self.v.dir)
            .args(args);
        c.env_clear()
            .env("PATH", self.path_env())
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .current_dir("/");
        if let Pw::Env = pw {
            c.env("SECRETCTL_PASSWORD", PASSWORD);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        run(self.command(args, Pw::Env), None)
    }

    fn run_pw(&self, args: &[&str], pw: Pw) -> Output {
        run(self.command(args, pw), None)
    }

    fn show_json(&self) -> Value {
        let out = self.run(&["policy", "show", "--json"]);
        serde_json::from_slice(out.ok("policy show --json")).expect("show --json is JSON")
    }
}

/// A vault with an approved policy listing `<bin>/mytool` (absolute) and `pathtool` (bare
/// name found via PATH).
fn approved() -> (Setup, PathBuf, PathBuf) {
    let s = Setup::new();
    let abs = s.tool("mytool");
    let bare = s.tool("pathtool");
    s.write_policy(&policy_text(&abs));
    let text = s.run(&["policy", "approve", "--yes"]).ok_text("approve");
    assert!(text.contains("no previous approval"), "{text}");
    assert!(
        text.contains(&format!("+ {} -> {}", abs.display(), abs.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("+ pathtool -> {}", bare.display())),
        "{text}"
    );
    assert!(text.ends_with("approved 2 commands\n"), "{text}");
    (s, abs, bare)
}

fn policy_text(abs: &Path) -> String {
    format!(
        "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"aws/*\"]\n    \
         timeout: 10m\n    args_deny: [\"configure export-credentials *\"]\n  - name: pathtool\n    \
         keys: [\"db/*\"]\n    output: tail:5\n",
        abs.display()
    )
}

#[test]
fn approve_pins_commands_and_show_reports_approved() {
    let (s, abs, bare) = approved();
    let text = s.run(&["policy", "show"]).ok_text("show");
    assert!(text.contains("approval: approved\n"), "{text}");
    assert!(
        text.contains(&format!("  binary: {} ok\n", abs.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("  binary: {} ok\n", bare.display())),
        "{text}"
    );
    assert!(text.contains("  keys: aws/*\n"), "{text}");
    assert!(
        text.contains("  timeout: 10m  output: redacted\n"),
        "{text}"
    );
    assert!(text.contains("  timeout: 5m  output: tail:5\n"), "{text}");
    assert!(
        text.contains("  args_deny: configure export-credentials *\n"),
        "{text}"
    );

    // The decision for both forms of the command.
    let out = s.run(&["policy", "check", "--", "pathtool", "--flag"]);
    assert_eq!(
        out.ok_text("check pathtool"),
        format!(
            "allowed: {} (rule pathtool, timeout 5m, output tail:5)\n",
            bare.display()
        )
    );
    let abs_s = abs.to_str().unwrap();
    let out = s.run(&["policy", "check", "--", abs_s]);
    assert_eq!(
        out.ok_text("check abs"),
        format!(
            "allowed: {} (rule {}, timeout 10m, output redacted)\n",
            abs.display(),
            abs.display()
        )
    );
    // The policy's own args_deny.
    let out = s.run(&[
        "policy",
        "check",
        "--",
        abs_s,
        "configure",
        "export-credentials",
        "x",
    ]);
    let line = out.failure(5, "args_deny");
    assert!(line.contains("denied: args_deny:"), "{line}");

    // Approving the same policy again says nothing changed.
    let text = s.run(&["policy", "approve", "--yes"]).ok_text("re-approve");
    assert!(
        text.contains("no changes since the last approval"),
        "{text}"
    );
}

#[test]
fn approval_is_audited() {
    let (s, _, _) = approved();
    let records = harness::audit_records(&s.v.dir, 100);
    let approvals: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "policy_approve")
        .collect();
    assert_eq!(approvals.len(), 1, "{records:?}");
    let r = approvals[0];
    assert_eq!(r["source"], "cli");
    assert_eq!(r["success"], true);
    assert_eq!(r["detail"]["commands"], 2, "{r}");
    s.run(&["audit", "verify"]).ok("audit verify");
}

#[test]
fn edited_policy_is_changed_since_approval() {
    let (s, abs, _) = approved();
    let text = policy_text(&abs).replace("aws/*", "**");
    s.write_policy(&text);
    let shown = s.run(&["policy", "show"]).ok_text("show");
    assert!(
        shown.contains("approval: changed since approval\n"),
        "{shown}"
    );
    assert_eq!(s.show_json()["approval"], "changed since approval");
    let line = s
        .run(&["policy", "check", "--", "pathtool"])
        .failure(5, "check after edit");
    assert!(
        line.starts_with("secretctl: denied: policy_changed: "),
        "{line}"
    );
    assert!(line.contains("secretctl policy approve"), "{line}");

    // Re-approving reports the change and clears it.
    let text = s.run(&["policy", "approve", "--yes"]).ok_text("re-approve");
    assert!(text.contains("the policy file changed"), "{text}");
    s.run(&["policy", "check", "--", "pathtool"])
        .ok("check after re-approval");
}

#[test]
fn replaced_or_removed_binary_is_reported() {
    let (s, abs, bare) = approved();
    std::fs::write(&abs, b"#!/bin/sh\nexit 0\n").expect("replace binary");
    let text = s.run(&["policy", "show"]).ok_text("show");
    assert!(text.contains("approval: approved\n"), "{text}");
    assert!(
        text.contains(&format!("  binary: {} changed\n", abs.display())),
        "{text}"
    );
    let line = s
        .run(&["policy", "check", "--", abs.to_str().unwrap()])
        .failure(5, "check replaced");
    assert!(
        line.starts_with("secretctl: denied: binary_changed: "),
        "{line}"
    );

    std::fs::remove_file(&bare).expect("remove pathtool");
    let json = s.show_json();
    assert_eq!(json["commands"][1]["binary"], "missing", "{json}");
    let line = s
        .run(&["policy", "check", "--", "pathtool"])
        .failure(5, "check removed");
    assert!(line.contains("denied: binary_changed: "), "{line}");

    // A re-approval shows the new hash.
    s.tool("pathtool");
    let text = s.run(&["policy", "approve", "--yes"]).ok_text("re-approve");
    assert!(
        text.contains(&format!(
            "~ {}: binary {} changed",
            abs.display(),
            abs.display()
        )),
        "{text}"
    );
}

#[test]
fn always_denied_programs_are_refused_by_approve_and_check() {
    for (name, why) in [
        ("env", "prints the environment"),
        ("bash", "can print any environment variable"),
        ("/usr/bin/env", "prints the environment"),
    ] {
        let s = Setup::new();
        s.write_policy(&format!(
            "version: 2\ndefault_action: deny\ncommands:\n  - name: {name}\n    keys: [\"a/*\"]\n"
        ));
        let line = s
            .run(&["policy", "approve", "--yes"])
            .failure(5, &format!("approve {name}"));
        assert!(
            line.contains(&format!("command '{name}'")) || line.contains(name),
            "{line}"
        );
        assert!(line.contains("always denied"), "{line}");
        assert!(line.contains("(always_denied)"), "{line}");

        let line = s
            .run(&["policy", "check"])
            .failure(1, &format!("check {name}"));
        assert!(
            line.contains(&format!("command {name} is always denied")),
            "{line}"
        );
        assert!(line.contains(why), "{name}: {line}");
        // Nothing was stored.
        assert_eq!(s.show_json()["approval"], "not approved");
    }
}

#[test]
fn check_flags_risky_entries() {
    let s = Setup::new();
    s.tool("git");
    s.write_policy(
        "version: 2\ndefault_action: deny\ncommands:\n  - name: git\n    keys: [\"**\"]\n    \
         danger_allow_args: [\"git:-c\"]\n",
    );
    let text = s.run(&["policy", "check"]).ok_text("check");
    assert!(
        text.contains(
            "warning: command git lifts built-in argument guards with danger_allow_args: git:-c"
        ),
        "{text}"
    );
    assert!(
        text.contains("warning: command git may receive every secret (keys: **)"),
        "{text}"
    );
    assert!(
        text.ends_with("mcp-policy.yaml: valid, 1 command\n"),
        "{text}"
    );

    s.write_policy("version: 2\ndefault_action: deny\ncommands:\n  - name: git\n");
    let line = s.run(&["policy", "check"]).failure(1, "invalid policy");
    assert!(line.contains("mcp-policy.yaml"), "{line}");
}

#[test]
fn check_explains_denials_of_unlisted_programs() {
    let (s, _, _) = approved();
    let line = s
        .run(&["policy", "check", "--", "/usr/bin/env"])
        .failure(5, "check env");
    assert!(
        line.starts_with("secretctl: denied: always_denied: "),
        "{line}"
    );
    let line = s
        .run(&["policy", "check", "--", "./tool"])
        .failure(5, "check ./tool");
    assert!(
        line.starts_with("secretctl: denied: relative_path: "),
        "{line}"
    );
    let line = s
        .run(&["policy", "check", "--", "/bin/true"])
        .failure(5, "check unlisted");
    assert!(
        line.starts_with("secretctl: denied: not_allowed: "),
        "{line}"
    );
}

#[test]
fn check_before_approval_is_unapproved() {
    let s = Setup::new();
    let abs = s.tool("mytool");
    s.tool("pathtool");
    s.write_policy(&policy_text(&abs));
    let line = s
        .run(&["policy", "check", "--", "pathtool"])
        .failure(5, "unapproved");
    assert!(
        line.starts_with("secretctl: denied: unapproved: "),
        "{line}"
    );
}

#[test]
fn missing_policy_says_where_to_write_it() {
    let s = Setup::new();
    let line = s.run(&["policy", "approve", "--yes"]).failure(1, "missing");
    assert!(
        line.contains(&s.policy_path().display().to_string()),
        "{line}"
    );
    assert!(line.contains("does not exist"), "{line}");
}

#[test]
fn approve_without_terminal_needs_yes() {
    let s = Setup::new();
    let abs = s.tool("mytool");
    s.tool("pathtool");
    s.write_policy(&policy_text(&abs));
    let line = s.run(&["policy", "approve"]).failure(2, "no --yes");
    assert!(line.contains("pass --yes"), "{line}");
    assert_eq!(s.show_json()["approval"], "not approved");
}

/// Locks the session agent when the test ends, whatever happens.
struct LockOnDrop<'a>(&'a Setup);

impl Drop for LockOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["lock"]);
    }
}

#[test]
fn approve_never_uses_the_session_agent() {
    let s = Setup::new();
    let abs = s.tool("mytool");
    s.tool("pathtool");
    s.write_policy(&policy_text(&abs));
    s.run(&["unlock", "--ttl", "10m"]).ok("unlock");
    let _lock = LockOnDrop(&s);
    // The agent serves other commands without a password...
    s.run_pw(&["list"], Pw::None).ok("list through the agent");
    // ...but never an approval, nor the HMAC check of show/check.
    let line = s
        .run_pw(&["policy", "approve", "--yes"], Pw::None)
        .failure(3, "approve via agent");
    assert!(line.contains("master password"), "{line}");
    s.run_pw(&["policy", "show"], Pw::None)
        .failure(3, "show via agent");
    assert_eq!(s.show_json()["approval"], "not approved");
}

#[test]
fn show_json_shape() {
    let (s, abs, bare) = approved();
    let json = s.show_json();
    assert_eq!(json["approval"], "approved");
    assert_eq!(json["version"], 2);
    assert_eq!(json["path"], s.policy_path().to_str().unwrap(), "{json}");
    let commands = json["commands"].as_array().expect("commands array");
    assert_eq!(commands.len(), 2);
    let c = &commands[0];
    assert_eq!(c["name"], abs.to_str().unwrap());
    assert_eq!(c["keys"], serde_json::json!(["aws/*"]));
    assert_eq!(c["timeout"], "10m");
    assert_eq!(c["timeout_secs"], 600);
    assert_eq!(c["output"], "redacted");
    assert_eq!(
        c["args_deny"],
        serde_json::json!(["configure export-credentials *"])
    );
    assert_eq!(c["danger_allow_args"], serde_json::json!([]));
    assert_eq!(c["canonical_path"], abs.to_str().unwrap());
    assert_eq!(c["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(c["binary"], "ok");
    let c = &commands[1];
    assert_eq!(c["name"], "pathtool");
    assert_eq!(c["canonical_path"], bare.to_str().unwrap());
    assert_eq!(c["output"], "tail:5");
    assert_eq!(c["binary"], "ok");
}

#[test]
fn edit_creates_template_then_approves() {
    let s = Setup::new();
    let abs = s.tool("mytool");
    s.tool("pathtool");
    // An "editor" that checks the template it was given, then writes the real policy.
    let source = s.v.scratch("new-policy.yaml");
    std::fs::write(&source, policy_text(&abs)).expect("policy source");
    let editor = s.bin_dir.join("fake-editor");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ngrep -q '^version: 2$' \"$1\" || exit 9\ncat '{}' > \"$1\"\n",
            source.display()
        ),
    )
    .expect("editor script");
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut c = s.command(&["policy", "edit", "--yes"], Pw::Env);
    c.env("EDITOR", &editor);
    let text = run(c, None).ok_text("edit");
    assert!(text.ends_with("approved 2 commands\n"), "{text}");
    let mode = std::fs::metadata(s.policy_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(s.show_json()["approval"], "approved");

    // An editor that fails approves nothing.
    let mut c = s.command(&["policy", "edit", "--yes"], Pw::Env);
    c.env("EDITOR", "false");
    run(c, None).failure(1, "failing editor");
}

#[test]
fn tampered_stored_approval_is_refused() {
    let (s, _, _) = approved();
    // Rewrite a pinned hash in the stored row, keeping its MAC.
    s.v.sql(
        "UPDATE metadata SET value = CAST(replace(CAST(value AS TEXT), 'sha256\":\"', \
         'sha256\":\"0') AS BLOB) WHERE key = 'policy_approval'",
    );
    let line = s.run(&["policy", "show"]).failure(4, "tampered approval");
    assert!(line.contains("policy approval fails its MAC"), "{line}");
}
