//! Generated artefacts: shell completions and the manual page.

use std::process::{Command, Stdio};

fn secretctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_secretctl"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("secretctl runs")
}

#[test]
fn completions_cover_every_command_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = secretctl(&["completion", shell, "--static"]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for cmd in ["init", "set", "get", "list", "delete", "audit", "password"] {
            assert!(text.contains(cmd), "{shell} completion lacks {cmd}");
        }
        assert!(text.contains("vault-dir"), "{shell} completion lacks flags");
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = secretctl(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn man_page_is_roff_and_names_the_commands() {
    let out = secretctl(&["man"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(".ie") || text.contains(".TH secretctl"),
        "{text:.200}"
    );
    assert!(text.contains("password"));
}

/// Regression: clap_complete panics when its reader closes the pipe early (`| head -1`).
#[test]
fn completion_into_a_closed_pipe_does_not_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretctl"))
        .args(["completion", "zsh", "--static"])
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_output_dir_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = secretctl(&["man", "--output-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for page in ["secretctl.1", "secretctl-set.1", "secretctl-audit-verify.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".TH"), "{page} is not a manual page");
    }
    let set = std::fs::read_to_string(dir.path().join("secretctl-set.1")).unwrap();
    assert!(
        set.contains("keep\\-value"),
        "subcommand flags are documented"
    );
}

#[test]
fn usage_errors_name_the_missing_argument_on_one_line() {
    let out = secretctl(&["get"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("<KEY>"), "{err}");
}

#[test]
fn dynamic_registration_calls_back_into_secretctl_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = secretctl(&["completion", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("SECRETCTL_COMPLETE"), "{shell}: {text}");
    }
}

/// Key names complete from an unlocked session agent, and from nothing else: with the vault
/// locked the completer offers no name (it never asks for a password).
#[test]
fn key_names_complete_only_while_the_agent_is_unlocked() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("vault");
    let run = |args: &[&str], extra: &[(&str, &str)], stdin: &[u8]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secretctl"));
        cmd.args(args)
            .env("SECRETCTL_HOME", &home)
            .env("SECRETCTL_PASSWORD", "correct horse battery")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(run(&["init"], &[], b"").status.success());
    for key in ["api/token", "api/other", "db/main"] {
        assert!(run(&["set", key], &[], b"value-1234").status.success());
    }
    let complete = |line: &[&str]| {
        let mut args = vec!["--", "secretctl"];
        args.extend_from_slice(line);
        let out = run(&args, &[("SECRETCTL_COMPLETE", "fish")], b"");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete(&["get", "api/"]), "", "no names while locked");
    assert!(run(&["unlock", "--ttl", "30s"], &[], b"").status.success());
    struct Lock<'a>(&'a dyn Fn());
    impl Drop for Lock<'_> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let lock = || {
        run(&["lock"], &[], b"");
    };
    let _guard = Lock(&lock);
    assert_eq!(complete(&["get", "api/"]), "api/other\napi/token\n");
    assert_eq!(complete(&["run", "-k", "db"]), "db/main\n");
}
