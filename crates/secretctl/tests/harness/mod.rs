//! What the attack tests (`tamper`, `faults`, `input`) share: a throwaway vault, the real
//! `secretctl` binary run with a password, the SPEC §4.1 failure contract checked in one place,
//! and the `sqlite3` CLI used the way an attacker with write access to the vault directory would.
//!
//! Nothing here reaches the vault except through the binary, the `sqlite3` CLI and plain file
//! operations: the tests see what a user and an attacker see.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The master password of every test vault.
pub const PASSWORD: &str = "correct horse battery staple";

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_secretctl")
}

/// A `secretctl --vault-dir DIR` command with only the environment the test chooses: the
/// password in `SECRETCTL_PASSWORD`, no inherited `SECRETCTL_*` (backup passwords included), no
/// backtraces.
pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--vault-dir").arg(dir);
    c.env_remove("SECRETCTL_HOME")
        .env_remove("SECRETCTL_PASSWORD_FILE")
        .env_remove("SECRETCTL_BACKUP_PASSWORD")
        .env_remove("SECRETCTL_BACKUP_PASSWORD_FILE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("SECRETCTL_PASSWORD", PASSWORD)
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1");
    c
}

/// `PATH` for the tests that run the binary with a cleared environment (the MCP ones).
pub const CLEAN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `secretctl --vault-dir DIR ARGS` with a cleared environment: only [`CLEAN_PATH`], the
/// password and no backtraces, run from `/`.
pub fn secretctl_clean(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(bin());
    c.arg("--vault-dir")
        .arg(dir)
        .args(args)
        .env_clear()
        .env("PATH", CLEAN_PATH)
        .env("SECRETCTL_PASSWORD", PASSWORD)
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .current_dir("/");
    run(c, stdin)
}

/// Writes the vault's `mcp-policy.yaml` (mode 0600).
pub fn write_policy(dir: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("mcp-policy.yaml");
    std::fs::write(&path, text).expect("write policy");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod policy");
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    /// Asserts success and returns stdout.
    pub fn ok(&self, what: &str) -> &[u8] {
        assert_eq!(
            self.code,
            Some(0),
            "{what}: expected success, got {:?}; stderr: {}",
            self.code,
            self.stderr
        );
        assert_eq!(self.stderr, "", "{what}: success must be silent on stderr");
        &self.stdout
    }

    /// Asserts success and returns stdout as text.
    pub fn ok_text(&self, what: &str) -> String {
        String::from_utf8(self.ok(what).to_vec()).expect("stdout is UTF-8")
    }

    /// Asserts the failure contract of SPEC §4.1 and §12 — exit `code`, nothing on stdout,
    /// exactly one `secretctl: ` line on stderr with no panic text and no raw control
    /// characters — and returns that line without its newline.
    pub fn failure(&self, code: i32, what: &str) -> String {
        assert_eq!(
            self.code,
            Some(code),
            "{what}: expected exit {code}, got {:?}; stderr: {:?}",
            self.code,
            self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "{what}: a failure printed {} bytes to stdout: {:?}",
            self.stdout.len(),
            String::from_utf8_lossy(&self.stdout)
        );
        let line = self.stderr.strip_suffix('\n').unwrap_or_else(|| {
            panic!(
                "{what}: stderr is not one terminated line: {:?}",
                self.stderr
            )
        });
        assert!(
            !line.contains('\n'),
            "{what}: stderr has more than one line: {:?}",
            self.stderr
        );
        assert!(
            line.starts_with("secretctl: "),
            "{what}: stderr line lacks the `secretctl: ` prefix: {line:?}"
        );
        for bad in ["panicked", "RUST_BACKTRACE", "backtrace", "internal error"] {
            assert!(
                !line.contains(bad),
                "{what}: panic text in stderr: {line:?}"
            );
        }
        assert!(
            !line.chars().any(|c| c.is_control()),
            "{what}: raw control character in stderr: {line:?}"
        );
        line.to_owned()
    }
}

/// Runs `cmd` to completion, feeding it `stdin` (`None`: /dev/null). A child that stops reading
/// early (an oversized value) is not an error here; its exit status tells.
pub fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn secretctl");
    let feeder = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let out = child.wait_with_output().expect("wait for secretctl");
    if let Some(f) = feeder {
        f.join().expect("stdin feeder");
    }
    Output {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `secretctl --vault-dir DIR ARGS…` with stdin from /dev/null.
pub fn secretctl(dir: &Path, args: &[&str]) -> Output {
    let mut c = command(dir);
    c.args(args);
    run(c, None)
}

/// Runs `secretctl --vault-dir DIR ARGS…` with `stdin` piped in.
pub fn secretctl_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut c = command(dir);
    c.args(args);
    run(c, Some(stdin))
}

/// Runs the `sqlite3` CLI on `db` (stop at the first error) and returns its trimmed stdout.
/// Only while no secretctl process has the vault open.
pub fn sqlite3(db: &Path, sql: &str) -> String {
    // A busy timeout, as secretctl itself uses: an agent may be appending an audit record at
    // the moment the test looks.
    let out = Command::new("sqlite3")
        .arg("-bail")
        .arg("-cmd")
        .arg(".timeout 15000")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 CLI is installed (apt-get install sqlite3)");
    assert!(
        out.status.success(),
        "sqlite3 {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("sqlite3 prints text")
        .trim()
        .to_owned()
}

/// Reads one blob cell as bytes.
pub fn read_blob(db: &Path, table: &str, column: &str, filter: &str) -> Vec<u8> {
    let hex_text = sqlite3(
        db,
        &format!("SELECT hex({column}) FROM {table} WHERE {filter}"),
    );
    assert!(
        !hex_text.is_empty(),
        "{table}.{column} WHERE {filter}: no such blob"
    );
    hex::decode(hex_text).expect("sqlite3 hex() output")
}

/// Writes one blob cell.
pub fn write_blob(db: &Path, table: &str, column: &str, filter: &str, bytes: &[u8]) {
    sqlite3(
        db,
        &format!(
            "UPDATE {table} SET {column} = X'{}' WHERE {filter}",
            hex::encode(bytes)
        ),
    );
}

/// Copies the regular files of a vault directory (vault.db with any -wal/-shm, salt, meta)
/// into a new 0700 directory, keeping their modes. Only while no secretctl process runs.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dst)
        .expect("create copy dir");
    for entry in std::fs::read_dir(src).expect("read vault dir") {
        let entry = entry.expect("dir entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy vault file");
        }
    }
}

/// Random bytes from the kernel.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

/// A small PRNG for delays and choices (xorshift64*), seeded from the kernel; the seed is
/// printed so a failing run can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(what: &str) -> Rng {
        let seed = u64::from_le_bytes(random_bytes(8).try_into().expect("8 bytes")) | 1;
        eprintln!("{what}: rng seed {seed:#x}");
        Rng(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// A vault in a private temporary directory (`<tmp>/vault`); copies go beside it.
pub struct TestVault {
    tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl TestVault {
    /// Runs `secretctl init` in a fresh directory.
    pub fn new() -> TestVault {
        let tmp = tempfile::Builder::new()
            .prefix("secretctl-test-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().join("vault");
        secretctl(&dir, &["init"]).ok("init");
        TestVault { tmp, dir }
    }

    /// A path beside the vault, inside the same temporary directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join("vault.db")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        secretctl(&self.dir, args)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        secretctl_with_stdin(&self.dir, args, stdin)
    }

    /// Stores `value` exactly (piped with `--keep-newline`).
    pub fn set(&self, key: &str, value: &[u8]) {
        self.run_with_stdin(&["set", key, "--keep-newline"], value)
            .ok(&format!("set {key}"));
    }

    /// Reads a value with `get`.
    pub fn get(&self, key: &str) -> Vec<u8> {
        self.run(&["get", key]).ok(&format!("get {key}")).to_vec()
    }

    /// Runs `sqlite3` on this vault's database.
    pub fn sql(&self, sql: &str) -> String {
        sqlite3(&self.db(), sql)
    }

    /// A copy of the vault directory beside it, named `name`.
    pub fn copy(&self, name: &str) -> PathBuf {
        let dst = self.scratch(name);
        copy_dir(&self.dir, &dst);
        dst
    }
}

/// The `get --json` object of a secret.
pub fn get_json(dir: &Path, key: &str) -> serde_json::Value {
    let out = secretctl(dir, &["get", key, "--json"]);
    serde_json::from_slice(out.ok(&format!("get {key} --json"))).expect("get --json is JSON")
}

/// The audit records as `audit list --json` shows them (up to `limit`).
pub fn audit_records(dir: &Path, limit: u64) -> Vec<serde_json::Value> {
    let limit = limit.to_string();
    let out = secretctl(dir, &["audit", "list", "--json", "--limit", &limit]);
    match serde_json::from_slice(out.ok("audit list --json")).expect("audit list is JSON") {
        serde_json::Value::Array(records) => records,
        other => panic!("audit list --json is not an array: {other}"),
    }
}

/// `PRAGMA integrity_check` through the `sqlite3` CLI.
pub fn assert_integrity(db: &Path) {
    assert_eq!(
        sqlite3(db, "PRAGMA integrity_check"),
        "ok",
        "{} fails SQLite's integrity check",
        db.display()
    );
}
