//! Hostile and awkward input (SPEC §3.3, §4, §12): binary and oversized values, newline
//! handling, hostile key names and arguments, wrong or missing passwords, partial updates.

mod harness;

use base64::Engine;
use harness::*;
use std::os::unix::ffi::OsStrExt;

const MIB: usize = 1024 * 1024;

/// 1 MiB of random bytes with NULs at the start, middle and end, and invalid UTF-8.
fn binary_mib() -> Vec<u8> {
    let mut value = random_bytes(MIB);
    for at in [0, 2, MIB / 2, MIB - 1] {
        value[at] = 0;
    }
    value[1] = 0xff;
    value
}

#[test]
fn binary_value_of_1_mib_round_trips_byte_exact_by_every_input_path() {
    let v = TestVault::new();
    let value = binary_mib();
    assert_ne!(value.last(), Some(&b'\n'));
    let file = v.scratch("value.bin");
    std::fs::write(&file, &value).unwrap();
    let file = file.to_str().expect("UTF-8 temp path");
    v.run(&["set", "bin/file", "--from-file", file])
        .ok("set --from-file");
    v.run_with_stdin(&["set", "bin/keep", "--keep-newline"], &value)
        .ok("set --keep-newline");
    v.run_with_stdin(&["set", "bin/piped"], &value)
        .ok("set from stdin");
    // The one newline stripped from a pipe does not count against the limit.
    let with_newline = [&value[..], b"\n"].concat();
    v.run_with_stdin(&["set", "bin/newline"], &with_newline)
        .ok("set 1 MiB plus a newline");

    for key in ["bin/file", "bin/keep", "bin/piped", "bin/newline"] {
        let got = v.get(key);
        assert!(
            got == value,
            "{key}: {} bytes back, first difference at {:?}",
            got.len(),
            got.iter().zip(&value).position(|(a, b)| a != b)
        );
    }
    let json = get_json(&v.dir, "bin/file");
    assert_eq!(
        json["value_encoding"], "base64",
        "non-UTF-8 values are base64"
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(json["value"].as_str().expect("value is a string"))
        .expect("valid base64");
    assert!(decoded == value, "get --json base64 differs from the value");
}

#[test]
fn values_over_1_mib_are_refused_and_nothing_is_stored() {
    let v = TestVault::new();
    let over = random_bytes(MIB + 1);
    let two = random_bytes(2 * MIB);
    let path = |name: &str, bytes: &[u8]| {
        let p = v.scratch(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().expect("UTF-8 temp path").to_owned()
    };
    let (over_file, two_file) = (path("over", &over), path("two", &two));
    let mut over_no_newline = over.clone();
    *over_no_newline.last_mut().unwrap() = b'x';
    let two_newlines = [&random_bytes(MIB)[..], b"\n\n"].concat();
    // (what, flags after `set KEY`, stdin or none)
    type Case<'a> = (&'a str, Vec<&'a str>, Option<&'a [u8]>);
    let cases: Vec<Case> = vec![
        ("file 1 MiB + 1", vec!["--from-file", &over_file], None),
        ("file 2 MiB", vec!["--from-file", &two_file], None),
        ("stdin 1 MiB + 1 kept", vec!["--keep-newline"], Some(&over)),
        ("stdin 1 MiB + 1", vec![], Some(&over_no_newline)),
        ("stdin 1 MiB + two newlines", vec![], Some(&two_newlines)),
        ("stdin 2 MiB", vec![], Some(&two)),
        (
            "field from stdin 2 MiB",
            vec!["--field", "token=-"],
            Some(&two),
        ),
    ];
    for (i, (what, extra, stdin)) in cases.into_iter().enumerate() {
        let key = format!("big{i}");
        let mut args = vec!["set", key.as_str()];
        args.extend(extra);
        let out = match stdin {
            Some(bytes) => v.run_with_stdin(&args, bytes),
            None => v.run(&args),
        };
        let line = out.failure(2, what);
        // Piped input says "larger than 1048578 bytes" (its read bound, 1 MiB plus the
        // strippable CRLF), not the 1 MiB limit: reported, not pinned here.
        assert!(
            line.contains("the limit is 1 MiB") || line.contains("nothing was stored"),
            "{what}: the refusal says why: {line}"
        );
    }
    assert_eq!(v.run(&["list"]).ok_text("list"), "", "nothing was stored");
    let sets: Vec<_> = audit_records(&v.dir, 1000)
        .into_iter()
        .filter(|r| r["action"] == "set" && r["success"] == true)
        .collect();
    assert!(sets.is_empty(), "successful sets recorded: {sets:?}");
}

#[test]
fn hostile_key_names_are_refused_on_one_clean_line() {
    let v = TestVault::new();
    let long = "a".repeat(10 * 1024);
    let names: &[&[u8]] = &[
        b"new\nline",
        b"carriage\rreturn",
        b"esc\x1b[31mred",
        b"../x",
        b"a/../b",
        b"-rf",
        long.as_bytes(),
        b"",
        b"bad\xffutf8",
        b"/etc/passwd",
        b"a//b",
        b"tab\there",
        "bidi\u{202e}txt".as_bytes(),
    ];
    for name in names {
        let arg = std::ffi::OsStr::from_bytes(name);
        let shown = String::from_utf8_lossy(&name[..name.len().min(20)]).into_owned();
        for cmd in [&["set"][..], &["get"], &["delete", "--yes"]] {
            let what = format!("{} {shown:?}", cmd.join(" "));
            let mut c = command(&v.dir);
            c.args(cmd).arg("--").arg(arg);
            let line = run(c, Some(b"value")).failure(2, &what);
            assert!(line.len() < 400, "{what}: the name is shortened: {line}");
            assert!(
                !line.contains('\u{202e}'),
                "{what}: bidi override echoed: {line}"
            );
        }
    }
    assert_eq!(v.run(&["list"]).ok_text("list"), "", "nothing was stored");
}

#[test]
fn hostile_durations_and_tags_are_refused_on_one_clean_line() {
    let v = TestVault::new();
    let hostile = "1d\n\x1b[2Jsecretctl: all good";
    for args in [
        &["set", "k", "--expires", hostile][..],
        &["set", "k", "--tags", hostile],
        &["set", "k", "--url", hostile],
        &["list", "--expiring", hostile],
        &["list", "--tag", hostile],
        &["audit", "list", "--since", hostile],
        &["audit", "prune", "--older-than", hostile],
    ] {
        // `failure` rejects a second line and raw control characters.
        v.run_with_stdin(args, b"value")
            .failure(2, &args[..args.len() - 1].join(" "));
    }
}

#[test]
fn wrong_password_is_exit_3_with_one_generic_line_and_is_audited() {
    let v = TestVault::new();
    v.set("a", b"1");
    let mut c = command(&v.dir);
    c.env("SECRETCTL_PASSWORD", "not the password")
        .args(["get", "a"]);
    let out = run(c, None);
    out.failure(3, "wrong password in the environment");
    assert_eq!(out.stderr, "secretctl: wrong master password\n");

    let file = v.scratch("wrong-password");
    std::fs::write(&file, "also not it\n").unwrap();
    let mut c = command(&v.dir);
    c.env_remove("SECRETCTL_PASSWORD")
        .arg("--password-file")
        .arg(&file)
        .args(["list"]);
    let out = run(c, None);
    out.failure(3, "wrong password in a file");
    assert_eq!(out.stderr, "secretctl: wrong master password\n");

    let unlocks: Vec<_> = audit_records(&v.dir, 1000)
        .into_iter()
        .filter(|r| r["action"] == "unlock")
        .collect();
    assert_eq!(unlocks.len(), 2, "both failures are folded into the log");
    assert!(unlocks.iter().all(|r| r["success"] == false), "{unlocks:?}");
}

/// `secretctl ARGS` in a new session (no controlling terminal), with no password source.
fn without_terminal_or_password(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut c = std::process::Command::new("setsid");
    c.arg("-w")
        .arg(bin())
        .arg("--vault-dir")
        .arg(dir)
        .args(args)
        .env_remove("SECRETCTL_PASSWORD")
        .env_remove("SECRETCTL_PASSWORD_FILE")
        .env_remove("SECRETCTL_HOME")
        .env("RUST_BACKTRACE", "0");
    run(c, Some(stdin))
}

#[test]
fn no_password_source_and_no_terminal_is_exit_3_naming_every_option() {
    let v = TestVault::new();
    let value_file = v.scratch("value");
    std::fs::write(&value_file, "v").unwrap();
    let value_file = value_file.to_str().expect("UTF-8 temp path");
    for (args, stdin) in [
        (&["list"][..], &b""[..]),
        (&["get", "a"], b""),
        (&["set", "a", "--from-file", value_file], b""),
        // A piped value is never taken for the password.
        (&["set", "a"], PASSWORD.as_bytes()),
    ] {
        let what = args.join(" ");
        let line = without_terminal_or_password(&v.dir, args, stdin).failure(3, &what);
        for option in [
            "SECRETCTL_PASSWORD_FILE",
            "SECRETCTL_PASSWORD",
            "secretctl unlock",
        ] {
            assert!(line.contains(option), "{what}: must name {option}: {line}");
        }
    }
    assert_eq!(v.run(&["list"]).ok_text("list"), "", "nothing was stored");
}

#[test]
fn one_trailing_newline_is_stripped_from_piped_values_and_files_are_byte_exact() {
    let v = TestVault::new();
    let file = v.scratch("file-value");
    std::fs::write(&file, b"from file\n").unwrap();
    let file = file.to_str().expect("UTF-8 temp path");
    // (key, flags, stdin, value stored)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [u8], &'a [u8]);
    let cases: [Case; 7] = [
        ("lf", &[], b"line\n", b"line"),
        ("crlf", &[], b"line\r\n", b"line"),
        ("two", &[], b"two\n\n", b"two\n"),
        ("none", &[], b"bare", b"bare"),
        ("kept", &["--keep-newline"], b"kept\n", b"kept\n"),
        ("file", &["--from-file", file], b"", b"from file\n"),
        (
            "file-kept",
            &["--from-file", file, "--keep-newline"],
            b"",
            b"from file\n",
        ),
    ];
    for (key, flags, input, _) in cases {
        let mut args = vec!["set", key];
        args.extend(flags);
        v.run_with_stdin(&args, input).ok(key);
    }
    for (key, _, _, want) in cases {
        assert_eq!(
            String::from_utf8_lossy(&v.get(key)),
            String::from_utf8_lossy(want),
            "{key}"
        );
    }
    let line = v
        .run_with_stdin(&["set", "only-newline"], b"\n")
        .failure(2, "only a newline");
    assert!(line.contains("empty"), "{line}");
}

#[test]
fn partial_updates_change_only_what_they_name() {
    let v = TestVault::new();
    v.run_with_stdin(
        &[
            "set",
            "k",
            "--notes",
            "first notes",
            "--url",
            "https://example.com/a",
            "--tags",
            "a,b",
            "--expires",
            "30d",
        ],
        b"v1",
    )
    .ok("set with metadata");
    let first = get_json(&v.dir, "k");
    assert!(first["expires_at"].is_string(), "{first}");
    let unchanged = |now: &serde_json::Value, fields: &[&str], what: &str| {
        for f in fields {
            assert_eq!(now[*f], first[*f], "{what} changed {f}");
        }
    };

    v.run(&["set", "k", "--keep-value", "--tags", "x"])
        .ok("--keep-value --tags");
    let now = get_json(&v.dir, "k");
    assert_eq!(now["tags"], serde_json::json!(["x"]));
    unchanged(
        &now,
        &["value", "notes", "url", "expires_at", "created_at"],
        "--tags",
    );

    v.run_with_stdin(&["set", "k"], b"v2").ok("new value only");
    let now = get_json(&v.dir, "k");
    assert_eq!(now["value"], "v2");
    assert_eq!(now["tags"], serde_json::json!(["x"]));
    unchanged(
        &now,
        &["notes", "url", "expires_at", "created_at"],
        "a new value",
    );

    v.run(&["set", "k", "--keep-value", "--notes", ""])
        .ok("clear notes");
    let now = get_json(&v.dir, "k");
    assert_eq!(now["notes"], serde_json::Value::Null);
    assert_eq!(now["value"], "v2");
    assert_eq!(now["tags"], serde_json::json!(["x"]));
    unchanged(&now, &["url", "expires_at"], "clearing notes");

    // Metadata alone cannot create a secret.
    v.run(&["set", "new", "--keep-value", "--tags", "x"])
        .failure(2, "--keep-value on a missing secret");
    assert_eq!(v.run(&["list"]).ok_text("list"), "k\n");
}
