//! `backup` and `restore` through the real binary on real SQLite files (SPEC §10, issue 6):
//! lossless round trips, a backup taken while another process writes, damaged files and wrong
//! keys refused before anything is written, `kill -9` during `restore --replace`, symlinks,
//! private output files, and the MCP policy surviving a restore.
//!
//! The original Go tool's default backup failed and left an empty file, its `--with-audit`
//! never included the log, and its restore could only replace the whole vault and deleted the
//! policy on the way; the tests named after those bugs pin them.

mod harness;

use harness::{Output, PASSWORD, Rng, TestVault, assert_integrity, command, run, secretctl};
use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const OTHER_PASSWORD: &str = "another vault's password";
const DAMAGED: &str = "backup file is damaged or was altered";

fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// `secretctl --vault-dir DIR ARGS…` with extra environment variables.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = command(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c, None)
}

/// The same, without a controlling terminal (`setsid -w`), so no prompt can be answered.
fn run_detached(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let inner = command(dir);
    let mut c = Command::new("setsid");
    c.arg("-w").arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c, None)
}

/// A second vault beside `v`'s, created with `password`.
fn new_vault_beside(v: &TestVault, name: &str, password: &str) -> PathBuf {
    let dir = v.scratch(name);
    run_env(&dir, &["init"], &[("SECRETCTL_PASSWORD", password)]).ok("init");
    dir
}

/// Fills a vault with every kind of secret the CLI can make.
fn fill(v: &TestVault) {
    v.set("plain", b"plain value");
    v.set("bin/blob", &[0, 1, 2, 0xff, b'\n', 0x80]);
    v.run_with_stdin(
        &[
            "set",
            "db/prod",
            "--template",
            "database",
            "--field",
            "host=db.internal",
            "--field",
            "password=-",
            "--binding",
            "DB_PASS=password",
            "--notes",
            "rotate monthly\nsecond line",
            "--url",
            "https://db.example.com/console",
            "--tags",
            "prod,db",
            "--expires",
            "2031-01-31",
        ],
        b"hunter2hunter2\n",
    )
    .ok("set db/prod");
    v.run(&[
        "set",
        "plain",
        "--keep-value",
        "--tags",
        "t1",
        "--notes",
        "n",
    ])
    .ok("set metadata");
}

/// Every secret of a vault as `get --json` shows it (values, fields, bindings, metadata and
/// times), keyed by name.
fn contents(dir: &Path, password: &str) -> BTreeMap<String, serde_json::Value> {
    let env = [("SECRETCTL_PASSWORD", password)];
    let list = run_env(dir, &["list"], &env).ok_text("list");
    list.lines()
        .map(|k| {
            let out = run_env(dir, &["get", k, "--json"], &env);
            let v = serde_json::from_slice(out.ok("get --json")).expect("JSON");
            (k.to_owned(), v)
        })
        .collect()
}

fn audit_verified(dir: &Path, password: &str) -> String {
    run_env(
        dir,
        &["audit", "verify"],
        &[("SECRETCTL_PASSWORD", password)],
    )
    .ok_text("audit verify")
}

fn audit_actions(dir: &Path, password: &str) -> Vec<String> {
    let out = run_env(
        dir,
        &["audit", "list", "--json", "--limit", "1000"],
        &[("SECRETCTL_PASSWORD", password)],
    );
    let v: serde_json::Value = serde_json::from_slice(out.ok("audit list")).expect("JSON");
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["action"].as_str().expect("action").to_owned())
        .collect()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// The vault's files and their bytes, to show that nothing changed.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

/// Regression (Go tool): the default backup failed and left an empty file. Here the default
/// (master password) backup works, and merges losslessly into a fresh vault with another
/// password.
#[test]
fn regression_default_backup_restores_losslessly_into_a_fresh_vault() {
    let a = TestVault::new();
    fill(&a);
    let want = contents(&a.dir, PASSWORD);
    assert_eq!(want.len(), 3);
    let file = a.scratch("a.bak");
    let text = a.run(&["backup", "-o", s(&file)]).ok_text("backup");
    assert!(
        text.starts_with(&format!(
            "wrote backup {} (3 secrets, 0 folders, no audit log",
            s(&file)
        )),
        "{text}"
    );
    assert!(std::fs::metadata(&file).unwrap().len() > 127);
    assert_eq!(mode(&file), 0o600);

    let b = new_vault_beside(&a, "b", OTHER_PASSWORD);
    // The backup is under a's master password; b's is tried first, then the backup source.
    let text = run_env(
        &b,
        &["restore", s(&file)],
        &[
            ("SECRETCTL_PASSWORD", OTHER_PASSWORD),
            ("SECRETCTL_BACKUP_PASSWORD", PASSWORD),
        ],
    )
    .ok_text("restore");
    assert_eq!(
        text,
        "created bin/blob\ncreated db/prod\ncreated plain\n\
         restored: 3 created, 0 overwritten, 0 skipped, 0 folders created\n"
    );
    assert_eq!(contents(&b, OTHER_PASSWORD), want);
    assert!(audit_verified(&b, OTHER_PASSWORD).starts_with("audit log verified"));
    // The values themselves, byte for byte, as a user reads them.
    let get = |k: &str, extra: &[&str]| {
        let mut args = vec!["get", k];
        args.extend_from_slice(extra);
        run_env(&b, &args, &[("SECRETCTL_PASSWORD", OTHER_PASSWORD)])
            .ok("get")
            .to_vec()
    };
    assert_eq!(get("bin/blob", &[]), [0, 1, 2, 0xff, b'\n', 0x80]);
    assert_eq!(get("db/prod", &["--field", "password"]), b"hunter2hunter2");
}

/// Regression (Go tool): `--with-audit` never included the log. Here the log comes along and
/// becomes the vault's with `restore --replace --with-audit`, and still verifies.
#[test]
fn regression_with_audit_carries_the_log_and_replace_restores_it() {
    let a = TestVault::new();
    fill(&a);
    let want = contents(&a.dir, PASSWORD);
    let a_actions = audit_actions(&a.dir, PASSWORD);
    let file = a.scratch("a.bak");
    let text = a
        .run(&["backup", "-o", s(&file), "--with-audit", "--json"])
        .ok_text("backup");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Everything up to and including the `audit list` above.
    assert_eq!(report["audit_records"], a_actions.len() + 1);

    let b = new_vault_beside(&a, "b", OTHER_PASSWORD);
    let env = [
        ("SECRETCTL_PASSWORD", OTHER_PASSWORD),
        ("SECRETCTL_BACKUP_PASSWORD", PASSWORD),
    ];
    let verified = run_env(&b, &["restore", s(&file), "--verify-only"], &env).ok_text("verify");
    assert!(
        verified.starts_with(&format!(
            "backup verified: 3 secrets, 0 folders, audit log of {} records, verified",
            a_actions.len() + 1
        )),
        "{verified}"
    );
    let text = run_env(
        &b,
        &["restore", s(&file), "--replace", "--with-audit"],
        &env,
    )
    .ok_text("restore --replace");
    assert!(text.contains("audit log restored"), "{text}");
    assert_eq!(contents(&b, OTHER_PASSWORD), want);
    assert!(audit_verified(&b, OTHER_PASSWORD).starts_with("audit log verified"));
    let actions = audit_actions(&b, OTHER_PASSWORD);
    // a's log (its `audit list` included), then the restore, then b's reads since.
    assert_eq!(actions[..a_actions.len()], a_actions[..]);
    assert_eq!(actions[a_actions.len()], "audit_list");
    assert_eq!(actions[a_actions.len() + 1], "restore");
    // The vault still opens with b's password, not a's.
    run_env(&b, &["list"], &[("SECRETCTL_PASSWORD", PASSWORD)]).failure(3, "a's password");
    assert_integrity(&b.join("vault.db"));
}

#[test]
fn key_file_and_backup_password_backups_open_with_their_own_secret() {
    let a = TestVault::new();
    fill(&a);
    let want = contents(&a.dir, PASSWORD);
    let key = a.scratch("backup.key");
    let text = a
        .run(&["backup", "--generate-key-file", s(&key)])
        .ok_text("generate");
    assert!(text.starts_with("wrote key file"), "{text}");
    assert_eq!(std::fs::read(&key).unwrap().len(), 32);
    assert_eq!(mode(&key), 0o600);
    a.run(&["backup", "--generate-key-file", s(&key)])
        .failure(1, "second generate");

    let kbak = a.scratch("k.bak");
    a.run(&["backup", "-o", s(&kbak), "--key-file", s(&key)])
        .ok("key-file backup");
    let pw_file = a.scratch("backup-pw");
    std::fs::write(&pw_file, "a backup password\n").unwrap();
    let pbak = a.scratch("p.bak");
    a.run(&[
        "backup",
        "-o",
        s(&pbak),
        "--backup-password-file",
        s(&pw_file),
    ])
    .ok("password backup");

    let b = new_vault_beside(&a, "b", OTHER_PASSWORD);
    let env = [("SECRETCTL_PASSWORD", OTHER_PASSWORD)];
    run_env(&b, &["restore", s(&kbak)], &env).failure(2, "no key file");
    let other_key = a.scratch("other.key");
    a.run(&["backup", "--generate-key-file", s(&other_key)])
        .ok("g");
    let line = run_env(
        &b,
        &["restore", s(&kbak), "--key-file", s(&other_key)],
        &env,
    )
    .failure(3, "wrong key file");
    assert!(line.ends_with("wrong key file for this backup"), "{line}");
    run_env(&b, &["restore", s(&pbak), "--key-file", s(&key)], &env).failure(2, "not a key file");
    let line = run_detached(&b, &["restore", s(&pbak)], &env).failure(3, "no backup password");
    assert!(line.contains("no backup password available"), "{line}");
    let line = run_env(
        &b,
        &["restore", s(&pbak)],
        &[
            ("SECRETCTL_PASSWORD", OTHER_PASSWORD),
            ("SECRETCTL_BACKUP_PASSWORD", "not the backup password"),
        ],
    )
    .failure(3, "wrong backup password");
    assert!(line.ends_with("wrong password for this backup"), "{line}");
    assert!(contents(&b, OTHER_PASSWORD).is_empty());

    run_env(&b, &["restore", s(&kbak), "--key-file", s(&key)], &env).ok("key-file restore");
    assert_eq!(contents(&b, OTHER_PASSWORD), want);
    let text = run_env(
        &b,
        &[
            "restore",
            s(&pbak),
            "--backup-password-file",
            s(&pw_file),
            "--on-conflict",
            "overwrite",
        ],
        &env,
    )
    .ok_text("password restore");
    assert!(text.ends_with("restored: 0 created, 3 overwritten, 0 skipped, 0 folders created\n"));
    assert_eq!(contents(&b, OTHER_PASSWORD), want);
}

/// A default backup under another vault's master password, with no backup password given and
/// no terminal: exit 3, and the message says which password it needs.
#[test]
fn a_master_password_backup_of_another_password_says_which_password_it_needs() {
    let a = TestVault::new();
    a.set("k", b"v");
    let file = a.scratch("a.bak");
    a.run(&["backup", "-o", s(&file)]).ok("backup");
    let b = new_vault_beside(&a, "b", OTHER_PASSWORD);
    let line = run_detached(
        &b,
        &["restore", s(&file)],
        &[("SECRETCTL_PASSWORD", OTHER_PASSWORD)],
    )
    .failure(3, "other password");
    assert!(
        line.contains("wrong password for this backup")
            && line.contains("master password the vault had when the backup was made"),
        "{line}"
    );
    // --verify-only needs no vault at all: the backup's own password is enough.
    let nowhere = a.scratch("no-vault-here");
    let text = run_detached(&nowhere, &["restore", s(&file), "--verify-only"], &[])
        .ok_text("verify-only without a vault");
    assert!(
        text.starts_with("backup verified: 1 secret, 0 folders"),
        "{text}"
    );
    assert!(!nowhere.exists());
}

#[test]
fn merge_conflicts_dry_runs_and_stdout_backups() {
    let a = TestVault::new();
    fill(&a);
    let out = harness::run(
        {
            let mut c = command(&a.dir);
            c.args(["backup", "--stdout"]);
            c
        },
        None,
    );
    let bytes = out.ok("backup --stdout").to_vec();
    assert_eq!(&bytes[..8], b"SCTL-BAK");
    let file = a.scratch("stdout.bak");
    std::fs::write(&file, &bytes).unwrap();

    a.set("plain", b"changed since the backup");
    let before = files_of(&a.dir);
    let line = a.run(&["restore", s(&file)]).failure(1, "conflicts");
    assert_eq!(
        line,
        "secretctl: these keys exist already: bin/blob, db/prod, plain; choose --on-conflict \
         skip or overwrite"
    );
    let text = a
        .run(&["restore", s(&file), "--dry-run", "--on-conflict", "skip"])
        .ok_text("dry run");
    assert_eq!(
        text,
        "would skip bin/blob\nwould skip db/prod\nwould skip plain\n\
         dry run: 0 created, 0 overwritten, 3 skipped, 0 folders created\n"
    );
    let text = a
        .run(&["restore", s(&file), "--replace", "--dry-run"])
        .ok_text("replace dry run");
    assert!(
        text.starts_with("dry run: would replace the vault (3 secrets) with the backup (3 secrets, 0 folders); audit log would be kept"),
        "{text}"
    );
    // Dry runs and refusals are recorded, and nothing else changed.
    let after = files_of(&a.dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert_eq!(a.get("plain"), b"changed since the backup");
    a.run(&["restore", s(&file), "--on-conflict", "overwrite"])
        .ok("overwrite");
    assert_eq!(a.get("plain"), b"plain value");
    let restores: Vec<String> = audit_actions(&a.dir, PASSWORD)
        .into_iter()
        .filter(|a| a == "backup" || a == "restore")
        .collect();
    assert_eq!(
        restores,
        ["backup", "restore", "restore", "restore", "restore"]
    );
    let out = harness::run(
        {
            let mut c = command(&a.dir);
            c.args(["audit", "list", "--action", "restore", "--json"]);
            c
        },
        None,
    );
    let records: serde_json::Value = serde_json::from_slice(out.ok("audit list")).unwrap();
    let ok: Vec<bool> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["success"].as_bool().unwrap())
        .collect();
    assert_eq!(ok, [false, true, true, true]);
}

// ---------------------------------------------------------------------------------------------
// Consistency under concurrent writes
// ---------------------------------------------------------------------------------------------

/// Backups taken while another process runs a `set` loop are consistent snapshots: each
/// restores to a vault that passes SQLite's integrity check and `audit verify`, holding a
/// prefix of the loop's keys.
#[test]
fn a_backup_taken_during_a_set_loop_restores_to_a_sound_vault() {
    let a = TestVault::new();
    a.set("before", b"x");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let dir = a.dir.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let out = harness::secretctl_with_stdin(
                    &dir,
                    &["set", &format!("loop/{n:04}")],
                    format!("value {n}").as_bytes(),
                );
                assert_eq!(out.code, Some(0), "set loop/{n}: {}", out.stderr);
                n += 1;
            }
            n
        })
    };
    // Let the loop get going, then back up three times while it runs.
    std::thread::sleep(Duration::from_millis(600));
    let mut files = Vec::new();
    for i in 0..3 {
        let file = a.scratch(&format!("during-{i}.bak"));
        a.run(&["backup", "-o", s(&file), "--with-audit"])
            .ok("backup during writes");
        files.push(file);
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().expect("writer");
    assert!(written >= 2, "the set loop barely ran ({written})");
    assert!(audit_verified(&a.dir, PASSWORD).starts_with("audit log verified"));

    for (i, file) in files.iter().enumerate() {
        let b = new_vault_beside(&a, &format!("r{i}"), PASSWORD);
        run_env(&b, &["restore", s(file), "--replace", "--with-audit"], &[])
            .ok("restore --replace");
        assert_integrity(&b.join("vault.db"));
        assert!(audit_verified(&b, PASSWORD).starts_with("audit log verified"));
        let keys = secretctl(&b, &["list"]).ok_text("list");
        let loops: Vec<&str> = keys.lines().filter(|k| k.starts_with("loop/")).collect();
        let prefix: Vec<String> = (0..loops.len()).map(|n| format!("loop/{n:04}")).collect();
        assert_eq!(loops, prefix, "backup {i} is not a prefix of the loop");
        assert!(keys.lines().any(|k| k == "before"));
    }
}

// ---------------------------------------------------------------------------------------------
// Damage and wrong keys
// ---------------------------------------------------------------------------------------------

/// A flipped byte anywhere (a handful of positions here; every position in-process in the core
/// crate's tests) fails `restore`, `restore --replace` and `--verify-only` with exit 1 and one
/// line, and nothing in the vault directory changes.
#[test]
fn flipped_bytes_fail_with_exit_1_before_anything_is_written() {
    let a = TestVault::new();
    fill(&a);
    let good = a.scratch("good.bak");
    a.run(&["backup", "-o", s(&good), "--with-audit"])
        .ok("backup");
    let bytes = std::fs::read(&good).unwrap();
    let n = bytes.len();
    let before = files_of(&a.dir);
    let mut rng = Rng::new("flip positions");
    let mut positions = vec![
        0,
        8,
        13,
        14,
        15,
        20,
        30,
        50,
        60,
        80,
        100,
        126,
        127,
        128,
        n - 17,
        n - 1,
    ];
    positions.extend((0..4).map(|_| rng.below(n as u64) as usize));
    let bad = a.scratch("bad.bak");
    for i in positions {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x10;
        std::fs::write(&bad, &flipped).unwrap();
        for args in [
            &["restore", s(&bad), "--verify-only"][..],
            &["restore", s(&bad), "--on-conflict", "overwrite"][..],
            &["restore", s(&bad), "--replace", "--with-audit"][..],
        ] {
            let line = a.run(args).failure(1, &format!("flip at {i}: {args:?}"));
            assert_eq!(
                line,
                format!("secretctl: {}: {DAMAGED}", s(&bad)),
                "flip at {i}"
            );
        }
        assert_eq!(
            files_of(&a.dir),
            before,
            "flip at {i} changed the vault directory"
        );
    }
    for cut in [0, 10, 127, n / 2, n - 1] {
        std::fs::write(&bad, &bytes[..cut]).unwrap();
        a.run(&["restore", s(&bad), "--verify-only"])
            .failure(1, &format!("cut at {cut}"));
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"trailing");
    std::fs::write(&bad, &longer).unwrap();
    a.run(&["restore", s(&bad)]).failure(1, "trailing bytes");
    std::fs::write(&bad, b"KEY=value\n").unwrap();
    a.run(&["restore", s(&bad)]).failure(1, "not a backup");
    assert_eq!(files_of(&a.dir), before);

    // A wrong password is exit 3, the file otherwise intact; the vault is untouched too.
    let line = run_env(
        &a.dir,
        &["restore", s(&good), "--verify-only"],
        &[("SECRETCTL_BACKUP_PASSWORD", "not the password at all")],
    )
    .failure(3, "wrong backup password");
    assert!(line.ends_with("wrong password for this backup"), "{line}");
    assert_eq!(files_of(&a.dir), before);
    a.run(&["restore", s(&good), "--verify-only"])
        .ok("the good file still verifies");
}

// ---------------------------------------------------------------------------------------------
// kill -9 during restore --replace
// ---------------------------------------------------------------------------------------------

/// `kill -9` at random moments of `restore --replace` leaves the old vault or the new one, never
/// a mix: the vault opens, holds exactly one of the two key sets, passes SQLite's integrity
/// check and `audit verify`, and no pending `vault.meta.next` survives the next open.
#[test]
fn kill_9_during_restore_replace_leaves_the_old_vault_or_the_new_one() {
    let template = TestVault::new();
    for k in ["old/1", "old/2", "old/3"] {
        template.set(k, b"old");
    }
    let source = TestVault::new();
    for k in ["new/1", "new/2", "new/3", "new/4"] {
        source.set(k, b"new");
    }
    let key = source.scratch("k.key");
    source
        .run(&["backup", "--generate-key-file", s(&key)])
        .ok("key");
    let file = source.scratch("new.bak");
    source
        .run(&[
            "backup",
            "-o",
            s(&file),
            "--key-file",
            s(&key),
            "--with-audit",
        ])
        .ok("backup");
    let old_keys = "old/1\nold/2\nold/3\n";
    let new_keys = "new/1\nnew/2\nnew/3\nnew/4\n";

    // How long an uninterrupted restore takes here, to spread the kills over it.
    let timing = template.copy("timing");
    let started = Instant::now();
    run_env(
        &timing,
        &[
            "restore",
            s(&file),
            "--key-file",
            s(&key),
            "--replace",
            "--with-audit",
        ],
        &[],
    )
    .ok("timed restore");
    let full = started.elapsed();
    assert_eq!(secretctl(&timing, &["list"]).ok_text("list"), new_keys);

    let mut rng = Rng::new("kill delays");
    let (mut olds, mut news) = (0, 0);
    for round in 0..20 {
        let dir = template.copy(&format!("round-{round}"));
        let mut c = command(&dir);
        c.args([
            "restore",
            s(&file),
            "--key-file",
            s(&key),
            "--replace",
            "--with-audit",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut child = c.spawn().expect("spawn restore");
        // Half the rounds anywhere; half late, where the transaction and the files are
        // written (the KDFs come first).
        let full_us = full.as_micros() as u64;
        let delay = if round % 2 == 0 {
            rng.below(full_us * 11 / 10 + 1)
        } else {
            full_us * 6 / 10 + rng.below(full_us * 45 / 100 + 1)
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let _ = child.wait();

        let keys = secretctl(&dir, &["list"]).ok_text(&format!("round {round}: list"));
        assert!(
            keys == old_keys || keys == new_keys,
            "round {round} (killed after {delay} µs): a mix: {keys:?}"
        );
        if keys == old_keys {
            olds += 1;
        } else {
            news += 1;
        }
        assert!(
            !dir.join("vault.meta.next").exists(),
            "round {round}: pending meta left after an open"
        );
        assert!(
            audit_verified(&dir, PASSWORD).starts_with("audit log verified"),
            "round {round}"
        );
        assert_integrity(&dir.join("vault.db"));
        // A kept copy of the old vault, where one was made, is whole.
        for name in names_in(&dir) {
            if name.starts_with("vault.db.pre-restore-") {
                assert_integrity(&dir.join(&name));
            }
        }
    }
    eprintln!("kill -9 rounds: {olds} old, {news} new (full restore {full:?})");
}

// ---------------------------------------------------------------------------------------------
// Files: symlinks, modes, no partial files
// ---------------------------------------------------------------------------------------------

#[test]
fn symlinks_are_refused_as_backup_targets_and_sources() {
    let a = TestVault::new();
    a.set("k", b"v");
    let target = a.scratch("elsewhere");
    std::fs::write(&target, b"do not touch").unwrap();
    let link = a.scratch("link.bak");
    symlink(&target, &link).unwrap();
    for args in [
        &["backup", "-o", s(&link)][..],
        &["backup", "-o", s(&link), "--force"][..],
    ] {
        let line = a.run(args).failure(1, "backup onto a symlink");
        assert_eq!(
            line,
            format!("secretctl: {} is a symlink; refusing to use it", s(&link))
        );
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"do not touch");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let dangling = a.scratch("dangling.bak");
    symlink(a.scratch("nothing-here"), &dangling).unwrap();
    a.run(&["backup", "-o", s(&dangling)])
        .failure(1, "dangling symlink");
    assert!(!a.scratch("nothing-here").exists());

    let real = a.scratch("real.bak");
    a.run(&["backup", "-o", s(&real)]).ok("backup");
    let link_to_backup = a.scratch("via-link.bak");
    symlink(&real, &link_to_backup).unwrap();
    for args in [
        &["restore", s(&link_to_backup), "--verify-only"][..],
        &["restore", s(&link_to_backup), "--replace"][..],
    ] {
        let line = a.run(args).failure(1, "restore through a symlink");
        assert!(line.ends_with("is a symlink; refusing to use it"), "{line}");
    }
    let key_link = a.scratch("key-link");
    let key = a.scratch("k.key");
    a.run(&["backup", "--generate-key-file", s(&key)]).ok("key");
    symlink(&key, &key_link).unwrap();
    a.run(&[
        "backup",
        "-o",
        s(&a.scratch("x.bak")),
        "--key-file",
        s(&key_link),
    ])
    .failure(1, "key file through a symlink");
    assert!(!a.scratch("x.bak").exists());
}

/// Regression (Go tool): a failed backup left an empty file. Backups are 0600 whatever the
/// umask, and a failure — wrong password, missing directory, a write cut short — leaves no file
/// and no temporary file behind.
#[test]
fn regression_backups_are_private_and_a_failed_backup_leaves_no_file() {
    let a = TestVault::new();
    a.set("k", b"v");
    let out_dir = a.scratch("out");
    std::fs::create_dir(&out_dir).unwrap();
    let file = out_dir.join("a.bak");

    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(harness::bin())
        .arg("--vault-dir")
        .arg(&a.dir)
        .args(["backup", "-o", s(&file)])
        .env("SECRETCTL_PASSWORD", PASSWORD)
        .env("RUST_BACKTRACE", "0");
    run(c, None).ok("backup under umask 000");
    assert_eq!(mode(&file), 0o600);
    let first = std::fs::read(&file).unwrap();
    let line = a
        .run(&["backup", "-o", s(&file)])
        .failure(1, "existing file");
    assert!(
        line.ends_with("exists; pass --force to replace it"),
        "{line}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), first);
    a.run(&["backup", "-o", s(&file), "--force"]).ok("--force");
    assert_ne!(std::fs::read(&file).unwrap(), first);
    assert_eq!(mode(&file), 0o600);
    std::fs::remove_file(&file).unwrap();

    run_env(
        &a.dir,
        &["backup", "-o", s(&file)],
        &[("SECRETCTL_PASSWORD", "wrong password")],
    )
    .failure(3, "wrong master password");
    assert_eq!(names_in(&out_dir), Vec::<String>::new());
    a.run(&["backup", "-o", s(&out_dir.join("missing/a.bak"))])
        .failure(1, "missing directory");
    assert_eq!(names_in(&out_dir), Vec::<String>::new());

    // A write cut short (a 16 KiB file size limit, SIGXFSZ ignored so the write fails).
    let vault_before = names_in(&a.dir);
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 32; exec \"$@\"")
        .arg("sh")
        .arg(harness::bin())
        .arg("--vault-dir")
        .arg(&a.dir)
        .args(["backup", "-o", s(&file)])
        .env("SECRETCTL_PASSWORD", PASSWORD)
        .env("RUST_BACKTRACE", "0");
    run(c, None).failure(1, "file size limit");
    assert_eq!(names_in(&out_dir), Vec::<String>::new());
    // The limit hit the vault's own checkpoint too, so its -wal may stay; nothing else may.
    let vault_after: Vec<String> = names_in(&a.dir)
        .into_iter()
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(
        vault_after, vault_before,
        "a temporary file stayed in the vault"
    );
    let outcomes: Vec<String> = {
        let out = a.run(&["audit", "list", "--action", "backup", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(out.ok("audit list")).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}", r["success"]))
            .collect()
    };
    // The size limit can stop the failure's own record too (fail closed: no backup exists).
    assert_eq!(outcomes[..3], ["true", "true", "false"]);
    assert!(outcomes[3..].iter().all(|r| r == "false"), "{outcomes:?}");
}

// ---------------------------------------------------------------------------------------------
// The MCP policy
// ---------------------------------------------------------------------------------------------

/// Regression (Go tool): restore deleted the policy. Here neither a merge nor a replacement
/// touches `mcp-policy.yaml`, and the approval stays valid (re-MAC'd under the restored vault's
/// key when the vault changes).
#[test]
fn regression_restore_keeps_the_policy_file_and_its_approval() {
    let a = TestVault::new();
    let tool = a.scratch("mytool");
    std::fs::copy("/bin/true", &tool).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let policy = a.dir.join("mcp-policy.yaml");
    let text = format!(
        "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"aws/*\"]\n",
        s(&tool)
    );
    std::fs::write(&policy, &text).unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    a.run(&["policy", "approve", "--yes"]).ok("approve");
    let approved = |dir: &Path| {
        let out = secretctl(dir, &["policy", "show", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(out.ok("policy show")).unwrap();
        v["approval"].clone()
    };
    assert_eq!(approved(&a.dir), "approved");

    let other = TestVault::new();
    other.set("aws/key", b"from another vault");
    let file = other.scratch("other.bak");
    other.run(&["backup", "-o", s(&file)]).ok("backup");
    a.run(&["restore", s(&file)]).ok("merge");
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), text);
    assert_eq!(approved(&a.dir), "approved");
    a.run(&["restore", s(&file), "--replace"]).ok("replace");
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), text);
    assert_eq!(mode(&policy), 0o600);
    assert_eq!(approved(&a.dir), "approved");
    assert_eq!(a.run(&["list"]).ok_text("list"), "aws/key\n");
}
