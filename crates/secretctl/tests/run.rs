//! `secretctl run` through the real binary (SPEC §5.1, §5.2, §4.1, §6): exit codes, timeouts and
//! process-group cleanup, the child's environment (derived names, collisions, refused names,
//! bindings, prefixes, `--env-file` references, `--env` aliases), expiry, signal forwarding and
//! the pseudo-terminal mode.
//!
//! Values are checked without weakening redaction: the child prints them reversed (`rev`), and
//! prints them plainly too so the test sees the `[REDACTED:NAME]` marker in their place.

mod harness;

use harness::{Output, TestVault};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A fresh vault holding `secrets` (stored exactly).
fn vault_with(secrets: &[(&str, &str)]) -> TestVault {
    let v = TestVault::new();
    for (key, value) in secrets {
        v.set(key, value.as_bytes());
    }
    v
}

/// `s` reversed, as `rev` prints it (ASCII only here).
fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// Asserts success and returns (stdout, stderr) as text; stderr may carry the child's output.
fn ran(out: &Output, what: &str) -> (String, String) {
    assert_eq!(
        out.code,
        Some(0),
        "{what}: expected exit 0, got {:?}; stderr: {}",
        out.code,
        out.stderr
    );
    (
        String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8"),
        out.stderr.clone(),
    )
}

/// Whether process `pid` still exists as a live (non-zombie) process.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }
    }
}

fn read_pid(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("pid file {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("pid file {} holds {text:?}", path.display()))
}

/// Asserts that the child never ran: it would have created `marker`.
fn assert_not_run(marker: &Path) {
    assert!(
        !marker.exists(),
        "the command ran although secretctl refused the run"
    );
}

// ---------------------------------------------------------------------------------------------
// Exit codes (SPEC §4.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn exit_code_is_the_childs() {
    let v = vault_with(&[("api/token", "tok-exit-code-1234")]);
    let out = v.run(&["run", "-k", "api/token", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.code, Some(7), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr, "");
}

#[test]
fn child_killed_by_signal_gives_128_plus_n() {
    let v = vault_with(&[("api/token", "tok-signal-1234")]);
    let out = v.run(&["run", "-k", "api/token", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.code, Some(128 + 15), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn timeout_stops_child_and_grandchild() {
    let v = vault_with(&[("api/token", "tok-timeout-1234")]);
    let child_pid = v.scratch("child.pid");
    let grandchild_pid = v.scratch("grandchild.pid");
    let script = format!(
        "echo $$ > '{}'; sleep 100 & echo $! > '{}'; sleep 100",
        child_pid.display(),
        grandchild_pid.display()
    );
    let start = Instant::now();
    let out = v.run(&[
        "run",
        "-k",
        "api/token",
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let elapsed = start.elapsed();
    // The line is checked by `failure`: exit 124, nothing on stdout, one stderr line.
    let line = out.failure(124, "run --timeout 1s");
    assert!(line.contains("timed out"), "{line}");
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(6),
        "run --timeout 1s returned after {elapsed:?}"
    );
    for (what, path) in [("child", &child_pid), ("grandchild", &grandchild_pid)] {
        let pid = read_pid(path);
        assert!(
            !alive(pid),
            "the {what} (pid {pid}) is still alive after the timeout"
        );
    }
}

#[test]
fn timeout_kills_a_group_that_ignores_term_after_the_grace_period() {
    let v = vault_with(&[("api/token", "tok-timeout-kill-1234")]);
    let child_pid = v.scratch("child.pid");
    let grandchild_pid = v.scratch("grandchild.pid");
    // An ignored signal stays ignored across fork and exec: neither process reacts to TERM.
    let script = format!(
        "trap '' TERM; echo $$ > '{}'; sleep 100 & echo $! > '{}'; sleep 100",
        child_pid.display(),
        grandchild_pid.display()
    );
    let start = Instant::now();
    let out = v.run(&[
        "run",
        "-k",
        "api/token",
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let elapsed = start.elapsed();
    out.failure(124, "run --timeout 1s, TERM ignored");
    // TERM at 1 s, KILL 5 s later.
    assert!(
        elapsed >= Duration::from_secs(6) && elapsed < Duration::from_secs(10),
        "returned after {elapsed:?}"
    );
    for (what, path) in [("child", &child_pid), ("grandchild", &grandchild_pid)] {
        let pid = read_pid(path);
        assert!(!alive(pid), "the {what} (pid {pid}) survived the KILL");
    }
}

#[test]
fn missing_command_is_127_with_one_line() {
    let v = vault_with(&[("api/token", "tok-missing-1234")]);
    let out = v.run(&[
        "run",
        "-k",
        "api/token",
        "--",
        "secretctl-test-no-such-command",
    ]);
    let line = out.failure(127, "run of a missing command");
    assert!(
        line.contains("secretctl-test-no-such-command") && line.contains("not found"),
        "{line}"
    );
}

#[test]
fn non_executable_file_is_126() {
    let v = vault_with(&[("api/token", "tok-noexec-1234")]);
    let file = v.scratch("not-executable.sh");
    std::fs::write(&file, "#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = v.run(&["run", "-k", "api/token", "--", file.to_str().unwrap()]);
    let line = out.failure(126, "run of a non-executable file");
    assert!(line.contains("not executable"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// Environment (SPEC §5.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn two_keys_mapping_to_one_name_is_a_usage_error_naming_both() {
    let v = vault_with(&[
        ("db/password", "first-value-1"),
        ("db-password", "second-value-2"),
    ]);
    let marker = v.scratch("ran");
    let touch = format!("touch '{}'", marker.display());
    let out = v.run(&[
        "run",
        "-k",
        "db/password",
        "-k",
        "db-password",
        "--",
        "sh",
        "-c",
        &touch,
    ]);
    let line = out.failure(2, "run with colliding names");
    assert!(
        line.contains("'db/password'") || line.contains("\"db/password\""),
        "{line}"
    );
    assert!(
        line.contains("'db-password'") || line.contains("\"db-password\""),
        "{line}"
    );
    assert!(line.contains("DB_PASSWORD"), "{line}");
    assert_not_run(&marker);
}

#[test]
fn names_that_change_how_the_child_runs_are_refused() {
    let v = vault_with(&[("ld/preload", "/tmp/evil.so"), ("path", "/tmp/evil-bin")]);
    let marker = v.scratch("ran");
    let touch = format!("touch '{}'", marker.display());
    for (key, env) in [("ld/preload", "LD_PRELOAD"), ("path", "PATH")] {
        let out = v.run(&["run", "-k", key, "--", "/bin/sh", "-c", &touch]);
        let line = out.failure(2, &format!("run -k {key}"));
        assert!(line.contains(&format!("'{key}'")), "{line}");
        assert!(line.contains(env), "{line}");
        assert_not_run(&marker);
    }
}

#[test]
fn secretctl_variables_never_reach_the_child() {
    let v = vault_with(&[("api/token", "tok-env-hygiene-1234")]);
    let mut cmd = harness::command(&v.dir);
    cmd.env("SECRETCTL_EXTRA_SETTING", "extra-should-vanish")
        .env("CANARY_VARIABLE", "canary-kept")
        .args(["run", "-k", "api/token", "--", "env"]);
    let out = harness::run(cmd, None);
    let (stdout, stderr) = ran(&out, "run -- env");
    assert_eq!(stderr, "");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        !lines.iter().any(|l| l.starts_with("SECRETCTL_")),
        "SECRETCTL_ variables reached the child:\n{stdout}"
    );
    assert!(
        !stdout.contains(harness::PASSWORD),
        "the master password reached the child"
    );
    assert!(lines.contains(&"CANARY_VARIABLE=canary-kept"), "{stdout}");
    assert!(
        lines.contains(&"API_TOKEN=[REDACTED:API_TOKEN]"),
        "{stdout}"
    );
}

#[test]
fn database_template_fields_arrive_under_their_bindings() {
    let v = TestVault::new();
    let password = "pg-Secret-Pass-42";
    v.run_with_stdin(
        &[
            "set",
            "db/main",
            "--template",
            "database",
            "--field",
            "host=db.example.com",
            "--field",
            "port=5432",
            "--field",
            "username=app_user",
            "--field",
            "password=-",
        ],
        format!("{password}\n").as_bytes(),
    )
    .ok("set db/main --template database");
    let script = r#"echo "host=$PGHOST port=$PGPORT user=$PGUSER db=${PGDATABASE-unset}"
echo "pw=$PGPASSWORD"
printf '%s\n' "$PGPASSWORD" | rev
env | grep -c '^DB_MAIN' || true"#;
    let out = v.run(&["run", "-k", "db/main", "--", "sh", "-c", script]);
    let (stdout, stderr) = ran(&out, "run -k db/main");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "host=db.example.com port=5432 user=app_user db=unset\npw=[REDACTED:PGPASSWORD]\n{}\n0\n",
            reversed(password)
        )
    );
    // Without redaction the child sees the exact value.
    let out = v.run(&[
        "run",
        "-k",
        "db/main",
        "--no-sanitize",
        "--",
        "sh",
        "-c",
        r#"printf '%s|%s' "$PGUSER" "$PGPASSWORD""#,
    ]);
    let (stdout, _) = ran(&out, "run -k db/main --no-sanitize");
    assert_eq!(stdout, format!("app_user|{password}"));
}

const AWS_SECRETS: &[(&str, &str)] = &[
    ("aws/key", "AKIA-test-key-0001"),
    ("aws/secret-key", "aws-secret-value-0002"),
    ("other/thing", "not-selected-0003"),
];

#[test]
fn glob_selects_plain_secrets_under_derived_names() {
    let v = vault_with(AWS_SECRETS);
    let script = r#"printf '%s\n' "$AWS_KEY" "$AWS_SECRET_KEY" | rev
echo "$AWS_KEY $AWS_SECRET_KEY ${OTHER_THING-unset}""#;
    let out = v.run(&["run", "-k", "aws/*", "--", "sh", "-c", script]);
    let (stdout, stderr) = ran(&out, "run -k 'aws/*'");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "{}\n{}\n[REDACTED:AWS_KEY] [REDACTED:AWS_SECRET_KEY] unset\n",
            reversed(AWS_SECRETS[0].1),
            reversed(AWS_SECRETS[1].1)
        )
    );
}

#[test]
fn env_prefix_prefixes_derived_names() {
    let v = vault_with(AWS_SECRETS);
    let script = r#"printf '%s\n' "$APP_AWS_KEY" "$APP_AWS_SECRET_KEY" | rev
echo "$APP_AWS_KEY ${AWS_KEY-unset} ${AWS_SECRET_KEY-unset}""#;
    let out = v.run(&[
        "run",
        "-k",
        "aws/*",
        "--env-prefix",
        "APP_",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let (stdout, stderr) = ran(&out, "run --env-prefix APP_");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "{}\n{}\n[REDACTED:APP_AWS_KEY] unset unset\n",
            reversed(AWS_SECRETS[0].1),
            reversed(AWS_SECRETS[1].1)
        )
    );
}

#[test]
fn env_file_references_are_resolved_and_redacted() {
    let token = "api-token-value-777";
    let db_password = "pg-prod-pass-888";
    let v = vault_with(&[("api/token", token), ("db/prod/password", db_password)]);
    let env_file = v.scratch("app.env.tpl");
    std::fs::write(
        &env_file,
        "# committed template\nTOKEN=secretctl://api/token\n\
         DSN=\"postgres://u:{{ secretctl://db/prod/password }}@h\"\nPLAIN=literal-text\n",
    )
    .unwrap();
    let script = r#"echo "token=$TOKEN"
echo "dsn=$DSN"
echo "$DSN" | sed 's/^postgres:\/\/u:\(.*\)@h$/pw=\1/'
echo "plain=$PLAIN"
printf '%s\n' "$TOKEN" "$DSN" | rev"#;
    let out = v.run(&[
        "run",
        "--env-file",
        env_file.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
    ]);
    let (stdout, stderr) = ran(&out, "run --env-file");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "token=[REDACTED:TOKEN]\ndsn=[REDACTED:DSN]\npw=[REDACTED:DSN]\nplain=literal-text\n{}\n{}\n",
            reversed(token),
            reversed(&format!("postgres://u:{db_password}@h"))
        )
    );
}

#[test]
fn env_alias_maps_keys_to_their_target() {
    let v = vault_with(&[
        ("db/password", "dev-password-value"),
        ("db/prod/password", "prod-password-value"),
    ]);
    let policy = v.dir.join("mcp-policy.yaml");
    std::fs::write(
        &policy,
        "version: 2\ndefault_action: deny\nenv_aliases:\n  prod:\n    - { pattern: \"db/*\", target: \"db/prod/*\" }\n",
    )
    .unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let script = r#"printf '%s\n' "$DB_PASSWORD" | rev
echo "$DB_PASSWORD ${DB_PROD_PASSWORD-unset}""#;
    let out = v.run(&[
        "run",
        "--env",
        "prod",
        "-k",
        "db/password",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let (stdout, stderr) = ran(&out, "run --env prod");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "{}\n[REDACTED:DB_PASSWORD] unset\n",
            reversed("prod-password-value")
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_secret_is_refused() {
    let v = vault_with(&[("api/token", "tok-valid-1234")]);
    v.run_with_stdin(
        &["set", "old/key", "--expires", "2000-01-01"],
        b"expired-value-1234",
    )
    .ok("set --expires 2000-01-01");
    let marker = v.scratch("ran");
    let touch = format!("touch '{}'", marker.display());
    let out = v.run(&[
        "run",
        "-k",
        "api/token",
        "-k",
        "old/key",
        "--",
        "sh",
        "-c",
        &touch,
    ]);
    let line = out.failure(1, "run with an expired secret");
    assert!(
        line.contains("'old/key'") && line.contains("expired"),
        "{line}"
    );
    assert_not_run(&marker);
}

#[test]
fn secret_expiring_soon_runs_with_a_warning() {
    let v = TestVault::new();
    v.run_with_stdin(
        &["set", "soon/key", "--expires", "3d"],
        b"expiring-value-1234",
    )
    .ok("set --expires 3d");
    let out = v.run(&["run", "-k", "soon/key", "--", "echo", "ran"]);
    let (stdout, stderr) = ran(&out, "run with a secret expiring in 3 days");
    assert_eq!(stdout, "ran\n");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("secretctl: warning:") && lines[0].contains("'soon/key'"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------

/// Sends `signal` to a running `secretctl run` once its child has printed `ready`; the child's
/// trap turns it into exit 42.
fn signal_is_forwarded(signal: rustix::process::Signal, name: &str) {
    let v = vault_with(&[("api/token", "tok-signals-1234")]);
    let sleeper = v.scratch("sleeper.pid");
    let script = format!(
        "trap 'exit 42' TERM INT; echo ready; sleep 30 & echo $! > '{}'; wait",
        sleeper.display()
    );
    let mut cmd = harness::command(&v.dir);
    cmd.args(["run", "-k", "api/token", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn secretctl");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        lines.map_while(Result::ok).collect::<Vec<_>>()
    });
    let first = rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(first.as_deref(), Ok("ready"), "{name}: child did not start");
    // `ready` is printed before the sleeper is started; give the shell time to reach `wait`.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&sleeper).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "{name}: no sleeper pid");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let sent = Instant::now();
    rustix::process::kill_process(pid, signal).expect("signal secretctl");
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    let rest = reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // Background jobs of a non-interactive shell ignore SIGINT: clean up the sleeper.
    let sleeper_pid = read_pid(&sleeper);
    if alive(sleeper_pid) {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(sleeper_pid).unwrap(),
            rustix::process::Signal::KILL,
        );
    }
    assert_eq!(
        status.code(),
        Some(42),
        "{name} was not forwarded to the child (status {status:?}, stderr {stderr:?})"
    );
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{name}: took {:?}",
        sent.elapsed()
    );
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(stderr, "");
}

fn wait_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("secretctl did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_is_forwarded_to_the_child() {
    signal_is_forwarded(rustix::process::Signal::TERM, "SIGTERM");
}

#[test]
fn sigint_is_forwarded_to_the_child() {
    signal_is_forwarded(rustix::process::Signal::INT, "SIGINT");
}

// ---------------------------------------------------------------------------------------------
// Pseudo-terminal
// ---------------------------------------------------------------------------------------------

/// The system Python (faster to start than a version-manager shim).
fn python3() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

#[test]
fn on_a_terminal_the_child_gets_a_pty_and_output_is_still_redacted() {
    let secret = "pty-secret-value-4321";
    let v = vault_with(&[("api/token", secret)]);
    // secretctl's stdout is a terminal: Python's pty.spawn runs it on a pseudo-terminal and
    // copies what it writes to our pipe.
    let mut cmd = std::process::Command::new(python3());
    cmd.args([
        "-c",
        "import pty, sys; pty.spawn(sys.argv[1:])",
        harness::bin(),
        "--vault-dir",
    ])
    .arg(&v.dir)
    .args([
        "run",
        "-k",
        "api/token",
        "--",
        "sh",
        "-c",
        r#"test -t 1 && echo tty-yes; echo "token=$API_TOKEN"; printf '%s\n' "$API_TOKEN" | rev"#,
    ])
    .env_remove("SECRETCTL_HOME")
    .env_remove("SECRETCTL_PASSWORD_FILE")
    .env("SECRETCTL_PASSWORD", harness::PASSWORD)
    .env("RUST_BACKTRACE", "0")
    .env("NO_COLOR", "1");
    let out = harness::run(cmd, None);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert_eq!(
        text,
        format!(
            "tty-yes\ntoken=[REDACTED:API_TOKEN]\n{}\n",
            reversed(secret)
        )
    );
}

/// Regression: on a terminal the pty's line discipline turns `\n` into `\r\n`, so a multi-line
/// secret (a private key) arrived in a form the redactor did not know and was printed whole.
#[test]
fn a_multi_line_secret_is_redacted_on_a_terminal_too() {
    let secret = "-----BEGIN KEY-----\nline-two-abcdef\nline-three-123456\n-----END KEY-----";
    let v = vault_with(&[("ssh/key", secret)]);
    let mut cmd = std::process::Command::new(python3());
    cmd.args([
        "-c",
        "import pty, sys; pty.spawn(sys.argv[1:])",
        harness::bin(),
        "--vault-dir",
    ])
    .arg(&v.dir)
    .args([
        "run",
        "-k",
        "ssh/key",
        "--",
        "sh",
        "-c",
        r#"printf '%s\n' "$SSH_KEY""#,
    ])
    .env_remove("SECRETCTL_HOME")
    .env_remove("SECRETCTL_PASSWORD_FILE")
    .env("SECRETCTL_PASSWORD", harness::PASSWORD)
    .env("RUST_BACKTRACE", "0");
    let out = harness::run(cmd, None);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert_eq!(text, "[REDACTED:SSH_KEY]\n");
}

/// Non-sensitive fields referenced from an env file are not redacted (as with -k); a template
/// holding a sensitive one is, and so is that part on its own.
#[test]
fn env_file_redacts_only_sensitive_fields() {
    let v = TestVault::new();
    let out = v.run_with_stdin(
        &[
            "set",
            "db/main",
            "--template",
            "database",
            "--field",
            "host=db.internal",
            "--field",
            "password=-",
        ],
        b"pg-secret-999",
    );
    out.ok("set db/main");
    let env_file = v.scratch("app.env.tpl");
    std::fs::write(
        &env_file,
        "HOST=secretctl://db/main/host\n\
         URL=\"postgres://u:{{ secretctl://db/main/password }}@{{ secretctl://db/main/host }}\"\n",
    )
    .unwrap();
    let out = v.run(&[
        "run", "--env-file", env_file.to_str().unwrap(), "--", "sh", "-c",
        r#"echo "host=$HOST"; echo "url=$URL"; echo "$URL" | sed 's/^postgres:\/\/u:\(.*\)@.*$/pw=\1/'"#,
    ]);
    let (stdout, stderr) = ran(&out, "run --env-file");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        "host=db.internal\nurl=[REDACTED:URL]\npw=[REDACTED:URL]\n"
    );
}

/// Regression: under `--env ALIAS` every fetched secret under a rule's target took the
/// asked-for name, also one selected by its own name.
#[test]
fn env_alias_renames_only_what_it_rewrote() {
    let v = vault_with(&[
        ("db/password", "dev-value-1"),
        ("prod/db/password", "prod-value-2"),
    ]);
    let policy = v.dir.join("mcp-policy.yaml");
    std::fs::write(
        &policy,
        "version: 2\ndefault_action: deny\nenv_aliases:\n  prod:\n    - { pattern: \"db/*\", target: \"prod/db/*\" }\n",
    )
    .unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = v.run(&[
        "run",
        "--env",
        "prod",
        "-k",
        "prod/**",
        "--",
        "sh",
        "-c",
        r#"echo "${PROD_DB_PASSWORD:+set} ${DB_PASSWORD-unset}""#,
    ]);
    let (stdout, _) = ran(&out, "run --env prod -k prod/**");
    assert_eq!(stdout, "set unset\n");
}

/// The `secretctl` process that holds the keys cannot write a core file (SPEC §3.1): its core
/// limit is 0, as `prlimit` reads it from outside, from the child it runs. (That it is also
/// non-dumpable is checked in-process in `hardening.rs`.)
#[test]
fn the_secretctl_process_has_no_core_limit() {
    let v = vault_with(&[("api/token", "token-value-1234")]);
    let out = v.run(&[
        "run",
        "-k",
        "api/token",
        "--",
        "sh",
        "-c",
        "prlimit --pid $PPID --core --output SOFT,HARD --noheadings",
    ]);
    let (stdout, _) = ran(&out, "run prlimit");
    assert_eq!(
        stdout.split_whitespace().collect::<Vec<_>>(),
        ["0", "0"],
        "{stdout}"
    );
}
