//! Faults a vault must survive (SPEC §3, §12): processes racing to write, `kill -9` at random
//! moments, damaged or missing files, unsafe permissions, symlinks, and `init` over a vault.

mod harness;

use harness::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Starts `secretctl set KEY` with `value` piped in (small: fits the pipe buffer).
fn spawn_set(dir: &Path, key: &str, value: &[u8]) -> Child {
    use std::io::Write;
    let mut c = command(dir);
    c.args(["set", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn secretctl set");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(value).expect("value fits the pipe buffer");
    child
}

fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("wait for secretctl");
    Output {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file in the vault directory (SQLite's -wal and -shm and any leftover temporary file
/// included) is private, and so is the directory.
fn assert_private(dir: &Path) {
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is open to others",
            path.display()
        );
    }
}

/// `sets` of `(key, value, outcome)`: a failed set must be the clean "vault busy" error.
/// Returns how many were busy.
fn count_busy(sets: &[(String, String, Output)]) -> usize {
    sets.iter()
        .filter(|(key, _, out)| {
            if out.code == Some(0) {
                return false;
            }
            let line = out.failure(1, &format!("set {key}"));
            assert!(line.contains("vault busy"), "set {key}: {line}");
            true
        })
        .count()
}

/// Reads every key back in one process (`export --format json`: one KDF instead of one per
/// key) and compares it with `want`; spot-checks the first and last few with `get`.
fn assert_read_back(dir: &Path, want: &[(String, String)]) {
    let out = secretctl(dir, &["export", "--format", "json"]);
    let exported: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(out.ok("export --format json")).expect("export is a JSON object");
    for (key, value) in want {
        assert_eq!(
            exported.get(key).and_then(|v| v.as_str()),
            Some(value.as_str()),
            "acknowledged write of {key} lost"
        );
    }
    let sample = want.iter().take(3).chain(want.iter().rev().take(3));
    for (key, value) in sample {
        let out = secretctl(dir, &["get", key]);
        assert_eq!(out.ok(&format!("get {key}")), value.as_bytes(), "get {key}");
    }
}

#[test]
fn racing_writers_lose_no_acknowledged_write_and_keep_one_audit_chain() {
    let started = Instant::now();
    let v = TestVault::new();
    let dir = v.dir.clone();
    let (sequential, racers) = std::thread::scope(|s| {
        // Two processes at a time, each writing 100 keys of its own, one after another…
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let dir = &dir;
                s.spawn(move || {
                    (0..100)
                        .map(|i| {
                            let key = format!("writer{w}/key{i:03}");
                            let value = format!("writer {w} value {i}");
                            let out = secretctl_with_stdin(dir, &["set", &key], value.as_bytes());
                            (key, value, out)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // …while 50 processes start at once to write one key.
        std::thread::sleep(Duration::from_millis(300));
        let children: Vec<_> = (0..50)
            .map(|j| {
                let value = format!("racer {j}");
                let child = spawn_set(&dir, "shared", value.as_bytes());
                (value, child)
            })
            .collect();
        let racers: Vec<_> = children
            .into_iter()
            .map(|(value, child)| ("shared".to_owned(), value, finish(child)))
            .collect();
        let sequential: Vec<_> = writers
            .into_iter()
            .flat_map(|w| w.join().expect("writer thread"))
            .collect();
        (sequential, racers)
    });
    let busy = count_busy(&sequential) + count_busy(&racers);
    eprintln!(
        "250 concurrent sets in {:.1?}; {busy} got \"vault busy\"",
        started.elapsed()
    );
    assert_eq!(
        busy, 0,
        "a write waited out the 15 s busy timeout on an idle machine"
    );

    assert_integrity(&v.db());
    assert_private(&v.dir);
    v.run(&["audit", "verify"])
        .ok("audit verify after the race");

    // Exactly one successful `set` record per acknowledged set: none lost, none forked.
    let acked = |sets: &[(String, String, Output)]| {
        sets.iter()
            .filter(|(_, _, o)| o.code == Some(0))
            .map(|(k, val, _)| (k.clone(), val.clone()))
            .collect::<Vec<_>>()
    };
    let (acked_keys, acked_racers) = (acked(&sequential), acked(&racers));
    let set_records = audit_records(&v.dir, 10_000)
        .iter()
        .filter(|r| r["action"] == "set" && r["success"] == true)
        .count();
    assert_eq!(set_records, acked_keys.len() + acked_racers.len());

    let listed = v.run(&["list"]).ok_text("list");
    let mut want: Vec<String> = acked_keys.iter().map(|(k, _)| format!("{k}\n")).collect();
    want.push("shared\n".into());
    want.sort();
    assert_eq!(
        listed,
        want.concat(),
        "list shows exactly the acknowledged keys"
    );

    let shared = String::from_utf8(v.get("shared")).expect("text");
    assert!(
        acked_racers.iter().any(|(_, val)| *val == shared),
        "the shared key holds {shared:?}, which no acknowledged set wrote"
    );
    assert_read_back(&v.dir, &acked_keys);
    eprintln!("race test done in {:.1?}", started.elapsed());
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    let started = Instant::now();
    let v = TestVault::new();
    let t0 = Instant::now();
    v.set("shared", b"initial");
    // Kill anywhere from before the KDF to after the commit: the span of the random delay
    // starts at twice one `set` and adapts to the machine's load, so that about half the
    // writers are killed however slow the machine is.
    let mut span_ms = (t0.elapsed().as_millis() as u64 * 2).max(50);
    let mut rng = Rng::new("sigkill");
    let (mut acked_keys, mut last_acked_shared, mut killed) = (Vec::new(), None, 0);
    for round in 0..30 {
        let key = format!("round/{round:02}");
        let value = format!("round {round} value");
        let shared = format!("shared {round}");
        let mut writers = [
            (
                key.clone(),
                value.clone(),
                spawn_set(&v.dir, &key, value.as_bytes()),
            ),
            (
                "shared".to_owned(),
                shared.clone(),
                spawn_set(&v.dir, "shared", shared.as_bytes()),
            ),
        ];
        std::thread::sleep(Duration::from_millis(rng.below(span_ms)));
        let mut killed_now = 0;
        for (_, _, child) in &mut writers {
            if child.try_wait().expect("try_wait").is_none() {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                killed_now += 1;
            }
        }
        killed += killed_now;
        span_ms = match killed_now {
            0 => (span_ms * 4 / 5).max(20),
            2 => span_ms * 5 / 4,
            _ => span_ms,
        };
        for (key, value, child) in writers {
            let out = finish(child);
            match out.code {
                None => {}
                Some(0) if key == "shared" => last_acked_shared = Some(round),
                Some(0) => acked_keys.push((key, value)),
                Some(_) => panic!("set {key} failed without being killed: {out:?}"),
            }
        }
    }
    eprintln!(
        "{killed} of 60 writers killed, {} keys and the shared key up to round {last_acked_shared:?} acknowledged",
        acked_keys.len()
    );
    assert!(
        killed > 0 && killed < 60,
        "the delays must both kill and spare writers"
    );

    assert_integrity(&v.db());
    assert_private(&v.dir);
    let leftovers: Vec<_> = std::fs::read_dir(&v.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("vault."))
        .collect();
    eprintln!("files left in the vault dir by killed writers: {leftovers:?}");
    let listed = v.run(&["list"]).ok_text("the vault opens after kill -9");
    for (key, _) in &acked_keys {
        assert!(listed.lines().any(|l| l == key), "{key} missing from list");
    }
    assert_read_back(&v.dir, &acked_keys);
    // Rounds run one after another, so the value left is from the last acknowledged round or a
    // later one that committed just before its kill.
    let shared = String::from_utf8(v.get("shared")).expect("text");
    let round_of_shared = shared
        .strip_prefix("shared ")
        .map(|n| n.parse::<usize>().expect("round number"));
    match (last_acked_shared, round_of_shared) {
        (Some(acked), Some(now)) => assert!(now >= acked, "shared rolled back to round {now}"),
        (Some(acked), None) => panic!("shared lost its round {acked} value: {shared:?}"),
        (None, _) => {}
    }
    v.run(&["audit", "verify"]).ok("audit verify after kill -9");
    eprintln!("kill test done in {:.1?}", started.elapsed());
}

#[test]
fn writer_blocked_past_the_timeout_gets_vault_busy_and_changes_nothing() {
    use std::io::{BufRead, BufReader, Write};
    let v = TestVault::new();
    v.set("a", b"1");
    // Another process holds the write lock (sqlite3 in a transaction, waiting on its stdin).
    let mut holder = std::process::Command::new("sqlite3")
        .arg(v.db())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sqlite3 CLI");
    let mut sql = holder.stdin.take().unwrap();
    writeln!(sql, "BEGIN IMMEDIATE; SELECT 'locked';").unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let started = Instant::now();
    let out = secretctl_with_stdin(&v.dir, &["set", "a"], b"2");
    let waited = started.elapsed();
    drop(sql); // end of input: sqlite3 rolls back and exits
    holder.wait().unwrap();

    let line = out.failure(1, "set while another process holds the lock");
    assert!(line.contains("vault busy"), "{line}");
    assert!(
        waited >= Duration::from_secs(14) && waited < Duration::from_secs(60),
        "the wait is bounded by the 15 s busy timeout, not {waited:?}"
    );
    assert_eq!(v.get("a"), b"1");
    v.run(&["audit", "verify"])
        .ok("audit verify after a busy failure");
}

/// A vault with two secrets, for the file-level damage cases.
fn small_vault() -> TestVault {
    let v = TestVault::new();
    v.set("a", b"1");
    v.set("b", b"2");
    v
}

/// `list`, `get` and `set` all refuse with exit 4 naming `file`, and leave every vault file
/// byte-for-byte as it was (never re-initialised, never "repaired").
fn assert_refused(dir: &Path, file: &str, what: &str) -> String {
    let snapshot = || {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| {
                let e = e.expect("entry");
                (e.file_name(), std::fs::read(e.path()).ok())
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot();
    let line = secretctl(dir, &["list"]).failure(4, &format!("{what}: list"));
    assert!(
        line.contains(file),
        "{what}: message must name {file}: {line}"
    );
    let get = secretctl(dir, &["get", "a"]).failure(4, &format!("{what}: get"));
    assert_eq!(get, line, "{what}: get and list disagree");
    let set = secretctl_with_stdin(dir, &["set", "c"], b"3").failure(4, &format!("{what}: set"));
    assert_eq!(set, line, "{what}: set and list disagree");
    assert!(before == snapshot(), "{what}: the vault files changed");
    line
}

#[test]
fn damaged_vault_db_is_refused_naming_it_and_never_listed_as_empty() {
    let v = small_vault();
    let good = std::fs::read(v.db()).expect("read vault.db");
    assert!(
        !v.dir.join("vault.db-wal").exists(),
        "the WAL is checkpointed on close"
    );
    let size = good.len();
    for (name, content) in [
        ("truncated-half", good[..size / 2].to_vec()),
        ("truncated-100", good[..100].to_vec()),
        ("empty", Vec::new()),
        ("zeroed", vec![0; size]),
        ("garbage", random_bytes(size)),
        (
            "garbage-with-header",
            [&good[..100], &random_bytes(size - 100)[..]].concat(),
        ),
    ] {
        let dir = v.copy(name);
        std::fs::write(dir.join("vault.db"), content).expect("damage vault.db");
        assert_refused(&dir, "vault.db", &format!("vault.db {name}"));
    }
}

#[test]
fn missing_or_inconsistent_salt_and_meta_are_refused_naming_the_file() {
    let v = small_vault();
    let meta = std::fs::read_to_string(v.dir.join("vault.meta")).expect("read vault.meta");
    let other_id = {
        let at = meta.find("\"vault_id\": \"").expect("meta has vault_id") + 13;
        let old = &meta[at..at + 36];
        meta.replace(old, "00000000-0000-4000-8000-000000000000")
    };
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, &str, Damage)> = vec![
        (
            "salt missing",
            "vault.salt",
            Box::new(|d| std::fs::remove_file(d.join("vault.salt")).unwrap()),
        ),
        (
            "salt 15 bytes",
            "vault.salt",
            Box::new(|d| std::fs::write(d.join("vault.salt"), random_bytes(15)).unwrap()),
        ),
        (
            "salt 17 bytes",
            "vault.salt",
            Box::new(|d| std::fs::write(d.join("vault.salt"), random_bytes(17)).unwrap()),
        ),
        (
            "salt differs",
            "vault.salt",
            Box::new(|d| std::fs::write(d.join("vault.salt"), random_bytes(16)).unwrap()),
        ),
        (
            "meta garbage",
            "vault.meta",
            Box::new(|d| std::fs::write(d.join("vault.meta"), random_bytes(300)).unwrap()),
        ),
        (
            "meta empty",
            "vault.meta",
            Box::new(|d| std::fs::write(d.join("vault.meta"), b"").unwrap()),
        ),
        (
            "meta missing",
            "vault.meta",
            Box::new(|d| std::fs::remove_file(d.join("vault.meta")).unwrap()),
        ),
        (
            "meta other vault",
            "vault.meta",
            Box::new(move |d| std::fs::write(d.join("vault.meta"), &other_id).unwrap()),
        ),
    ];
    for (name, file, damage) in cases {
        let dir = v.copy(&name.replace(' ', "-"));
        damage(&dir);
        assert_refused(&dir, file, name);
    }
}

#[test]
fn files_open_to_group_or_others_are_refused_with_the_chmod_to_run() {
    let v = small_vault();
    for file in ["vault.db", "vault.salt", "vault.meta"] {
        for mode in [0o640, 0o604, 0o620, 0o602] {
            let what = format!("{file} {mode:o}");
            let dir = v.copy(&format!("{file}-{mode:o}"));
            let path = dir.join(file);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let line = assert_refused(&dir, file, &what);
            let fix = format!("chmod 600 {}", path.display());
            assert!(
                line.contains(&fix),
                "{what}: message must say `{fix}`: {line}"
            );
        }
    }
    // A stale WAL file open to others would leak pages just the same.
    let dir = v.copy("wal-644");
    let wal = dir.join("vault.db-wal");
    std::fs::write(&wal, b"").unwrap();
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = assert_refused(&dir, "vault.db-wal", "vault.db-wal 644");
    assert!(line.contains("chmod 600"), "{line}");

    let dir = v.copy("dir-755");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let line = assert_refused(&dir, &dir.display().to_string(), "vault dir 755");
    assert!(
        line.contains(&format!("chmod 700 {}", dir.display())),
        "the directory's fix is chmod 700: {line}"
    );
}

#[test]
fn files_owned_by_someone_else_are_refused_when_we_can_arrange_it() {
    let v = small_vault();
    let dir = v.copy("foreign");
    let path = dir.join("vault.db");
    if std::os::unix::fs::chown(&path, Some(4242), None).is_err() {
        eprintln!("not root: cannot give vault.db to another user; skipped");
        return;
    }
    let line = assert_refused(&dir, "vault.db", "vault.db owned by uid 4242");
    assert!(line.contains("4242") && line.contains("chown"), "{line}");
}

#[test]
fn vault_files_replaced_by_symlinks_are_refused() {
    let v = small_vault();
    for file in ["vault.db", "vault.salt", "vault.meta"] {
        let dir = v.copy(&format!("{file}-symlink"));
        let target = v.scratch(&format!("{file}-real"));
        std::fs::rename(dir.join(file), &target).unwrap();
        std::os::unix::fs::symlink(&target, dir.join(file)).unwrap();
        let line = assert_refused(&dir, file, &format!("{file} symlink"));
        assert!(line.contains("symlink"), "{file}: {line}");
    }
}

#[test]
fn init_over_an_existing_vault_changes_nothing() {
    let v = small_vault();
    let read_all = |dir: &Path| {
        ["vault.db", "vault.salt", "vault.meta"].map(|f| std::fs::read(dir.join(f)).ok())
    };
    let before = read_all(&v.dir);
    let line = v.run(&["init"]).failure(1, "init over a vault");
    assert!(line.contains("already exists"), "{line}");
    assert!(read_all(&v.dir) == before, "init touched the vault files");
    v.get("a");

    // A leftover salt alone (an interrupted init, or a lost database) is never overwritten.
    let dir = v.scratch("salt-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::copy(v.dir.join("vault.salt"), dir.join("vault.salt")).unwrap();
    secretctl(&dir, &["init"]).failure(1, "init over a lone vault.salt");
    assert_eq!(
        std::fs::read(dir.join("vault.salt")).unwrap(),
        std::fs::read(v.dir.join("vault.salt")).unwrap()
    );
    assert!(!dir.join("vault.db").exists());
}
