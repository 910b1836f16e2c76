//! The session agent (SPEC §9) attacked from outside: commands without any password source while
//! it is unlocked and after it locked, what still needs the password, extending, peers of another
//! uid, things squatting on the socket path, malformed frames, a killed agent, its process
//! hardening, and a password change under it.
//!
//! Every test stops the agents it starts: [`Vault`]'s `Drop` runs `secretctl lock` and then
//! kills any agent of the vault that is still alive (only pids this file saw, and only while
//! their command line still names `agent-serve` and the vault).
//!
//! Commands meant to run without a password run with an empty environment (only `PATH` and the
//! test's own variables), stdin from /dev/null, and under `setsid -w`, so that there is no
//! controlling terminal to prompt on either.

mod harness;

use harness::{Output, PASSWORD, bin, run};
use serde_json::Value;
use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PEER: &str = "secretctl-test-peer";
const VALUE: &str = "s3cr3t-Value-0042";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// How a command gets (or does not get) the master password.
#[derive(Clone, Copy)]
enum Pw<'a> {
    /// `SECRETCTL_PASSWORD`, normal environment, no `setsid`.
    Env(&'a str),
    /// No source at all: empty environment, stdin /dev/null, no controlling terminal.
    None,
}

/// A vault in a private temporary directory, with the agents it started stopped on drop.
struct Vault {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    /// Extra environment for every command (`XDG_RUNTIME_DIR`).
    env: Vec<(String, OsString)>,
    /// Run every command as this (uid, gid).
    user: Option<(u32, u32)>,
    /// The password `Drop` uses if it has to read anything (changed by test 10).
    password: RefCell<String>,
    /// Agent pids seen, for the fallback kill.
    pids: RefCell<Vec<u32>>,
}

impl Vault {
    fn new() -> Vault {
        Vault::build(None, Vec::new(), None)
    }

    /// `dir_name` inside the temporary directory (may contain '/'); `env` for every command.
    fn build(
        dir_name: Option<&str>,
        env: Vec<(String, OsString)>,
        user: Option<(u32, u32)>,
    ) -> Vault {
        let tmp = tempfile::Builder::new()
            .prefix("secretctl-agent-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().join(dir_name.unwrap_or("vault"));
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).expect("vault parent");
        }
        if let Some((uid, gid)) = user {
            // The user must reach and own the vault's parent: the temp dir is 0711.
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711))
                .expect("chmod temp dir");
            let parent = dir.parent().expect("parent");
            std::os::unix::fs::chown(parent, Some(uid), Some(gid)).expect("chown vault parent");
        }
        let v = Vault {
            tmp,
            dir,
            env,
            user,
            password: RefCell::new(PASSWORD.to_owned()),
            pids: RefCell::new(Vec::new()),
        };
        v.with_pw(&["init"]).ok("init");
        v
    }

    fn scratch(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn command(&self, args: &[&str], pw: Pw<'_>) -> Command {
        let mut argv: Vec<OsString> = Vec::new();
        if matches!(pw, Pw::None) {
            argv.extend(["setsid".into(), "-w".into()]);
        }
        if let Some((uid, gid)) = self.user {
            argv.push("setpriv".into());
            argv.push(format!("--reuid={uid}").into());
            argv.push(format!("--regid={gid}").into());
            argv.push("--clear-groups".into());
        }
        argv.push(bin().into());
        argv.push("--vault-dir".into());
        argv.push(self.dir.clone().into());
        argv.extend(args.iter().map(OsString::from));
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c.env_clear()
            .env("PATH", PATH_ENV)
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .current_dir("/");
        for (k, val) in &self.env {
            c.env(k, val);
        }
        if let Pw::Env(p) = pw {
            c.env("SECRETCTL_PASSWORD", p);
        }
        c
    }

    /// With the current password in the environment.
    fn with_pw(&self, args: &[&str]) -> Output {
        let pw = self.password.borrow().clone();
        run(self.command(args, Pw::Env(&pw)), None)
    }

    /// With no password source at all.
    fn bare(&self, args: &[&str]) -> Output {
        run(self.command(args, Pw::None), None)
    }

    fn bare_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        run(self.command(args, Pw::None), Some(stdin))
    }

    /// `unlock ARGS` with the password; asserts success; returns the agent's pid.
    fn unlock(&self, args: &[&str]) -> u32 {
        let mut all = vec!["unlock"];
        all.extend_from_slice(args);
        let out = self.with_pw(&all);
        let text = out.ok_text("unlock");
        assert!(text.starts_with("unlocked"), "unlock said {text:?}");
        let st = self.status();
        assert_eq!(st["unlocked"], true, "after unlock: {st}");
        let pid = st["pid"].as_u64().expect("pid") as u32;
        // The drop guard's fallback recognises this agent.
        assert!(live_agent_of(pid, &self.dir), "agent {pid} not recognised");
        pid
    }

    /// `status --json` (no password needed). Records the pid for the drop guard.
    fn status(&self) -> Value {
        let out = self.bare(&["status", "--json"]);
        let v: Value = serde_json::from_slice(out.ok("status --json")).expect("status JSON");
        if let Some(pid) = v["pid"].as_u64() {
            let mut pids = self.pids.borrow_mut();
            if !pids.contains(&(pid as u32)) {
                pids.push(pid as u32);
            }
        }
        v
    }

    fn lock(&self) {
        let text = self.bare(&["lock"]).ok_text("lock");
        assert!(text.starts_with("locked"), "lock said {text:?}");
    }

    /// Where the agent listens when the path is short enough.
    fn sock(&self) -> PathBuf {
        self.dir.join("agent.sock")
    }

    /// All audit records, read with the password.
    fn audit(&self) -> Vec<Value> {
        let out = self.with_pw(&["audit", "list", "--json", "--limit", "100000"]);
        match serde_json::from_slice(out.ok("audit list --json")).expect("audit JSON") {
            Value::Array(r) => r,
            other => panic!("audit list is not an array: {other}"),
        }
    }
}

/// Whether `pid` is an agent of `dir` that is still running (not a zombie).
fn live_agent_of(pid: u32, dir: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .trim_start()
        .chars()
        .next();
    let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    state != Some('Z') && cmd.contains("agent-serve") && cmd.contains(&*dir.to_string_lossy())
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        // Lock the normal way (the output does not matter here), then make sure.
        let _ = run(self.command(&["lock"], Pw::None), None);
        let pids = self.pids.borrow().clone();
        for pid in pids {
            if !wait_until(Duration::from_secs(2), || !live_agent_of(pid, &self.dir)) {
                eprintln!("agent {pid} survived `lock`; killing it");
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

/// The unprivileged peer user, created once: (uid, gid).
fn peer() -> (u32, u32) {
    static PEER_IDS: OnceLock<(u32, u32)> = OnceLock::new();
    *PEER_IDS.get_or_init(|| {
        let id = |flag: &str| {
            Command::new("id")
                .args([flag, PEER])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse::<u32>()
                        .expect("numeric id")
                })
        };
        if id("-u").is_none() {
            let out = Command::new("useradd")
                .args(["-M", "-s", "/usr/sbin/nologin", PEER])
                .output()
                .expect("run useradd");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() || err.contains("exists"),
                "useradd failed: {err}"
            );
        }
        let ids = (id("-u").expect("peer uid"), id("-g").expect("peer gid"));
        assert_ne!(ids.0, 0);
        ids
    })
}

/// A command run as the peer user with an empty environment.
fn as_peer(program: &str) -> Command {
    let (uid, gid) = peer();
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(program)
        .env_clear()
        .env("PATH", PATH_ENV)
        .current_dir("/");
    c
}

/// A Python client run as the peer: connects to argv[1], sends a valid status frame, and
/// prints `denied` (cannot connect: EACCES), `closed` (no reply) or `reply …`.
const PEER_CLIENT: &str = r#"
import socket, sys, struct, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("denied"); sys.exit(0)
body = json.dumps({"v": 1, "request": {"op": "status"}}).encode()
s.settimeout(15)
try:
    s.sendall(struct.pack(">I", len(body)) + body)
    data = s.recv(65536)
except (ConnectionResetError, BrokenPipeError):
    data = b""
print("closed" if not data else "reply " + repr(data))
"#;

fn peer_client(socket: &Path) -> String {
    let out = as_peer("/usr/bin/python3")
        .arg("-c")
        .arg(PEER_CLIENT)
        .arg(socket)
        .output()
        .expect("run python3 as the peer");
    assert!(
        out.status.success(),
        "peer client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

/// Sends `bytes` on a fresh connection, half-closes if `shut`, and reads one reply frame:
/// `None` when the agent closed the connection without a (whole) reply.
fn raw(path: &Path, bytes: &[u8], shut: bool) -> Option<Value> {
    let mut s = UnixStream::connect(path).expect("connect to the agent");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(15))).unwrap();
    // The agent may answer (and close) before taking all of a large write.
    let _ = s.write_all(bytes);
    if shut {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut reply = Vec::new();
    match s.read_to_end(&mut reply) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading the agent's reply: {e}"),
    }
    if reply.len() < 4 {
        assert!(reply.is_empty(), "a partial reply: {reply:?}");
        return None;
    }
    let len = u32::from_be_bytes(reply[..4].try_into().unwrap()) as usize;
    assert_eq!(
        reply.len(),
        4 + len,
        "one whole reply frame and nothing more"
    );
    Some(serde_json::from_slice(&reply[4..]).expect("the reply is JSON"))
}

fn request(path: &Path, json: &str) -> Option<Value> {
    raw(path, &frame(json.as_bytes()), false)
}

fn assert_bad_request(reply: Option<Value>, what: &str) {
    let r = reply.unwrap_or_else(|| panic!("{what}: no reply"));
    assert_eq!(r["ok"], false, "{what}: {r}");
    assert_eq!(r["error"], "bad_request", "{what}: {r}");
    assert_eq!(r["body"], Value::Null, "{what}: {r}");
}

/// The records after the last `agent_start`.
fn since_last_start(records: &[Value]) -> &[Value] {
    let i = records
        .iter()
        .rposition(|r| r["action"] == "agent_start")
        .expect("an agent_start record");
    &records[i + 1..]
}

fn last_lock_reason(records: &[Value]) -> String {
    let r = records
        .iter()
        .rev()
        .find(|r| r["action"] == "agent_lock")
        .expect("an agent_lock record");
    assert_eq!(r["source"], "agent", "{r}");
    r["detail"]["reason"].as_str().expect("reason").to_owned()
}

/// The commands of test 1 and 2, each with the exit code it gives.
fn agent_commands(v: &Vault) -> Vec<(&'static str, Output)> {
    vec![
        ("list", v.bare(&["list"])),
        (
            "set",
            v.bare_stdin(&["set", "FRESH_KEY"], b"fresh-value-77"),
        ),
        (
            "run",
            v.bare(&[
                "run",
                "-k",
                "API_TOKEN",
                "--",
                "sh",
                "-c",
                "echo $API_TOKEN",
            ]),
        ),
        ("get --masked", v.bare(&["get", "--masked", "API_TOKEN"])),
    ]
}

fn set_with_pw(v: &Vault, key: &str, value: &str) {
    let pw = v.password.borrow().clone();
    run(
        v.command(&["set", key], Pw::Env(&pw)),
        Some(value.as_bytes()),
    )
    .ok(&format!("set {key}"));
}

// ---------------------------------------------------------------------------------------------
// 1. Unlocked: the agent serves commands that have no password source at all.
// ---------------------------------------------------------------------------------------------

#[test]
fn unlocked_agent_serves_commands_without_any_password_source() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    // The bare environment really has no password: a plaintext read is refused.
    v.bare(&["get", "API_TOKEN"])
        .failure(3, "bare get before unlock");

    v.unlock(&[]);
    let list = v.bare(&["list"]).ok_text("list through the agent");
    assert!(list.lines().any(|l| l.starts_with("API_TOKEN")), "{list}");

    v.bare_stdin(&["set", "FRESH_KEY"], b"fresh-value-77")
        .ok("set through the agent");
    let out = v
        .bare(&[
            "run",
            "-k",
            "API_TOKEN",
            "--",
            "sh",
            "-c",
            "echo $API_TOKEN",
        ])
        .ok_text("run through the agent");
    assert_eq!(out, "[REDACTED:API_TOKEN]\n");
    // The value set through the agent is the one stored, and run hands the real value over.
    let out = v
        .bare(&[
            "run",
            "-k",
            "FRESH_KEY",
            "--",
            "sh",
            "-c",
            "test \"$FRESH_KEY\" = fresh-value-77 && echo same",
        ])
        .ok_text("run FRESH_KEY");
    assert_eq!(out, "same\n");
    let masked = v
        .bare(&["get", "--masked", "API_TOKEN"])
        .ok_text("get --masked through the agent");
    assert!(
        !masked.contains(VALUE),
        "get --masked showed the value: {masked}"
    );
    assert!(!masked.is_empty());

    // inject into a file (not stdout) also goes through the agent.
    let template = v.scratch("tmpl");
    let rendered = v.scratch("rendered");
    std::fs::write(&template, "token={{ secretctl://API_TOKEN }}\n").unwrap();
    v.bare(&[
        "inject",
        "-i",
        template.to_str().unwrap(),
        "-o",
        rendered.to_str().unwrap(),
    ])
    .ok("inject -o through the agent");
    assert_eq!(
        std::fs::read_to_string(&rendered).unwrap(),
        format!("token={VALUE}\n")
    );
    assert_eq!(
        std::fs::metadata(&rendered).unwrap().permissions().mode() & 0o777,
        0o600
    );

    v.lock();
    let records = v.audit();
    let after = since_last_start(&records);
    for action in ["list", "set", "run", "get_masked", "inject"] {
        let mine: Vec<&Value> = after.iter().filter(|r| r["action"] == action).collect();
        assert!(!mine.is_empty(), "no {action} record after agent_start");
        for r in mine {
            assert_eq!(r["source"], "agent", "{action} record: {r}");
            assert_eq!(r["detail"]["via"], "cli", "{action} record: {r}");
            assert_eq!(r["success"], true, "{action} record: {r}");
        }
    }
    let set = after
        .iter()
        .find(|r| r["action"] == "set")
        .expect("set record");
    assert_eq!(set["key"], "FRESH_KEY");
    assert_eq!(last_lock_reason(&records), "lock");
}

// ---------------------------------------------------------------------------------------------
// 2. Locked (by `lock`, by the idle timeout, by the maximum lifetime): exit 3.
// ---------------------------------------------------------------------------------------------

fn assert_locked(v: &Vault, what: &str) {
    assert_eq!(
        v.status(),
        serde_json::json!({ "unlocked": false }),
        "{what}"
    );
    assert_eq!(v.bare(&["status"]).ok_text("status"), "locked\n", "{what}");
    assert!(
        std::fs::symlink_metadata(v.sock()).is_err(),
        "{what}: the socket is still there"
    );
    for (name, out) in agent_commands(v) {
        let line = out.failure(3, &format!("{what}: {name}"));
        assert!(
            line.contains("secretctl unlock"),
            "{what}: {name}: {line:?} does not mention `secretctl unlock`"
        );
    }
}

#[test]
fn locked_agent_refuses_after_lock_idle_timeout_and_maximum_lifetime() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);

    // `lock`: locked as soon as the command returns.
    v.unlock(&[]);
    v.bare(&["list"]).ok("list while unlocked");
    let out = v.bare(&["lock"]).ok_text("lock");
    assert_eq!(out, "locked\n");
    assert_locked(&v, "after lock");
    assert_eq!(last_lock_reason(&v.audit()), "lock");
    // Locking again is harmless.
    assert_eq!(
        v.bare(&["lock"]).ok_text("lock again"),
        "locked (no session agent was running)\n"
    );

    // Idle timeout: status does not count as use, list does.
    v.unlock(&["--ttl", "2s"]);
    v.bare(&["list"]).ok("list while unlocked");
    let used = Instant::now();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(v.status()["unlocked"], true, "locked before the TTL");
    std::thread::sleep(Duration::from_millis(3000).saturating_sub(used.elapsed()));
    assert_locked(&v, "after the idle timeout");
    assert_eq!(last_lock_reason(&v.audit()), "idle timeout");

    // Maximum lifetime: use does not extend it.
    v.unlock(&["--ttl", "10m", "--max", "2s"]);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        v.bare(&["list"]).ok("list while unlocked");
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(3000).saturating_sub(start.elapsed()));
    assert_locked(&v, "after the maximum lifetime");
    assert_eq!(last_lock_reason(&v.audit()), "maximum lifetime");
}

/// A request that a client began before the idle timeout but sent after it must not be served,
/// and must not restart the idle timer.
#[test]
fn a_request_sent_after_the_idle_timeout_is_refused_and_does_not_revive_the_agent() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    v.unlock(&["--ttl", "2s"]);
    let unlocked = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    // Connect before the timeout (the agent accepts and waits for the frame) ...
    let mut s = UnixStream::connect(v.sock()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::thread::sleep(Duration::from_millis(2600).saturating_sub(unlocked.elapsed()));
    // ... and send the request after it.
    s.write_all(&frame(
        br#"{"v":1,"request":{"op":"list","tag":null,"expiring_before_ms":null,"via":"cli"}}"#,
    ))
    .unwrap();
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    if reply.len() > 4 {
        let r: Value = serde_json::from_slice(&reply[4..]).expect("reply JSON");
        assert_eq!(r["ok"], false, "served after the idle timeout: {r}");
        assert_eq!(r["error"], "locked", "{r}");
    }
    assert!(
        wait_until(Duration::from_millis(1000), || v.status()["unlocked"]
            == false),
        "the agent lives on after the idle timeout: {}",
        v.status()
    );
    let records = v.audit();
    assert!(
        !since_last_start(&records)
            .iter()
            .any(|r| r["action"] == "list"),
        "a list was served after the timeout"
    );
    assert_eq!(last_lock_reason(&records), "idle timeout");
}

// ---------------------------------------------------------------------------------------------
// 3. What still needs the password while unlocked; the --allow-reveal window.
// ---------------------------------------------------------------------------------------------

fn assert_no_reveal(sock: &Path, what: &str) {
    let reply = request(
        sock,
        r#"{"v":1,"request":{"op":"get","key":"API_TOKEN","via":"cli"}}"#,
    )
    .expect("a reply to get");
    assert_eq!(reply["ok"], false, "{what}: {reply}");
    assert_eq!(reply["error"], "password_required", "{what}: {reply}");
    // Neither the value nor its base64 (`czNjcjN0LVZhbHVl…`).
    let text = reply.to_string();
    assert!(
        !text.contains(VALUE) && !text.contains("czNjcjN0LVZhbHVl"),
        "{what}: the value: {reply}"
    );
}

#[test]
fn plaintext_export_and_delete_need_the_password_except_plaintext_in_a_reveal_window() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    set_with_pw(&v, "DOOMED", "doomed-value-1");
    v.unlock(&[]);
    let template = v.scratch("tmpl");
    std::fs::write(&template, "t={{ secretctl://API_TOKEN }}\n").unwrap();

    v.bare(&["get", "API_TOKEN"]).failure(3, "bare get");
    v.bare(&["get", "API_TOKEN", "--json"])
        .failure(3, "bare get --json");
    v.bare(&["export"]).failure(3, "bare export");
    v.bare(&["delete", "--yes", "DOOMED"])
        .failure(3, "bare delete");
    v.bare(&["inject", "-i", template.to_str().unwrap()])
        .failure(3, "bare inject to stdout");
    v.bare(&["audit", "list"]).failure(3, "bare audit list");
    // The agent itself refuses a plaintext read outside a reveal window.
    assert_no_reveal(&v.sock(), "no reveal window");
    let list = v.bare(&["list"]).ok_text("list");
    assert!(
        list.contains("DOOMED"),
        "delete without the password deleted: {list}"
    );

    // With the password they work (and do not go through the agent).
    assert_eq!(
        v.with_pw(&["get", "API_TOKEN"])
            .ok_text("get with password"),
        VALUE
    );
    let export = v.with_pw(&["export"]).ok_text("export with password");
    assert!(export.contains(VALUE), "{export}");
    v.with_pw(&["delete", "--yes", "DOOMED"])
        .ok("delete with password");
    let list = v.bare(&["list"]).ok_text("list");
    assert!(!list.contains("DOOMED"), "{list}");
    let records = v.audit();
    for action in ["get", "export", "delete"] {
        let r = since_last_start(&records)
            .iter()
            .find(|r| r["action"] == action && r["success"] == true)
            .unwrap_or_else(|| panic!("no {action} record"));
        assert_eq!(r["source"], "cli", "{action} with the password: {r}");
    }
    v.lock();

    // A reveal window: plaintext reads through the agent, for a while.
    v.unlock(&["--allow-reveal", "2s"]);
    let opened = Instant::now();
    let st = v.status();
    assert!(
        matches!(st["reveal_secs_left"].as_u64(), Some(1..=2)),
        "reveal window: {st}"
    );
    let out = v.bare(&["get", "API_TOKEN"]);
    assert_eq!(out.ok_text("get inside the reveal window"), VALUE);
    // Still not the password-only commands.
    v.bare(&["export"])
        .failure(3, "export inside the reveal window");
    std::thread::sleep(Duration::from_millis(3000).saturating_sub(opened.elapsed()));
    v.bare(&["get", "API_TOKEN"])
        .failure(3, "get after the reveal window");
    assert_eq!(v.status()["reveal_secs_left"], Value::Null);
    assert_no_reveal(&v.sock(), "after the reveal window");
    v.bare(&["list"]).ok("the agent is still unlocked");
    let records = v.audit();
    let get = since_last_start(&records)
        .iter()
        .find(|r| r["action"] == "get")
        .expect("the revealed get is recorded");
    assert_eq!(get["source"], "agent", "{get}");
    assert_eq!(get["detail"]["via"], "cli", "{get}");
    v.lock();
}

// ---------------------------------------------------------------------------------------------
// 4. A second unlock extends; a wrong password neither extends nor starts.
// ---------------------------------------------------------------------------------------------

#[test]
fn second_unlock_extends_and_a_wrong_password_does_not() {
    let v = Vault::new();
    // Wrong password with no agent: exit 3, nothing listens.
    run(v.command(&["unlock"], Pw::Env("wrong password")), None)
        .failure(3, "unlock with a wrong password");
    assert!(std::fs::symlink_metadata(v.sock()).is_err());
    assert_eq!(v.status()["unlocked"], false);

    let pid = v.unlock(&["--ttl", "30s"]);
    let out = run(
        v.command(
            &["unlock", "--ttl", "10m", "--max", "9h"],
            Pw::Env("wrong password"),
        ),
        None,
    );
    out.failure(3, "second unlock with a wrong password");
    let st = v.status();
    assert_eq!(st["pid"], pid, "{st}");
    assert!(
        st["idle_secs_left"].as_u64().unwrap() <= 30,
        "extended: {st}"
    );
    assert!(
        st["max_secs_left"].as_u64().unwrap() <= 8 * 3600,
        "extended: {st}"
    );

    // A forged extend over the socket (wrong proof) is denied and recorded.
    let reply = request(
        &v.sock(),
        &format!(
            r#"{{"v":1,"request":{{"op":"extend","proof":"{}","ttl_secs":36000,"max_secs":36000,"reveal_secs":3600}}}}"#,
            "00".repeat(32)
        ),
    )
    .expect("a reply to extend");
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["error"], "denied", "{reply}");
    let st = v.status();
    assert!(
        st["idle_secs_left"].as_u64().unwrap() <= 30,
        "extended: {st}"
    );
    assert_eq!(st["reveal_secs_left"], Value::Null, "{st}");

    let out = v
        .with_pw(&["unlock", "--ttl", "10m", "--max", "9h"])
        .ok_text("second unlock");
    assert!(out.starts_with("unlocked (extended)"), "{out}");
    let st = v.status();
    assert_eq!(st["pid"], pid, "a second agent: {st}");
    let idle = st["idle_secs_left"].as_u64().unwrap();
    assert!((595..=600).contains(&idle), "idle_secs_left {idle}: {st}");
    let max = st["max_secs_left"].as_u64().unwrap();
    assert!(
        (9 * 3600 - 5..=9 * 3600).contains(&max),
        "max_secs_left {max}: {st}"
    );
    v.lock();
    let records = v.audit();
    assert_eq!(
        records
            .iter()
            .filter(|r| r["action"] == "agent_start")
            .count(),
        1
    );
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "agent_refused" && r["error_msg"] == "bad_proof"),
        "the forged extend is not recorded"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Other uids: the 0700 vault directory, then the kernel peer-credential check.
// ---------------------------------------------------------------------------------------------

#[test]
fn another_uid_cannot_reach_the_socket_and_is_refused_by_peer_credentials() {
    let (peer_uid, _) = peer();

    // (a) In the vault directory: the 0700 directory keeps the peer out.
    let v = Vault::new();
    std::fs::set_permissions(v.tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    v.unlock(&[]);
    assert_eq!(
        std::fs::metadata(&v.dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let m = std::fs::symlink_metadata(v.sock()).unwrap();
    assert!(m.file_type().is_socket());
    assert_eq!(
        m.permissions().mode() & 0o777,
        0o600,
        "SPEC §9: agent.sock is 0600"
    );
    assert_eq!(peer_client(&v.sock()), "denied");
    v.lock();

    // (b) A long vault path: the socket lives in $XDG_RUNTIME_DIR. Opened to everyone by
    // chmod, the kernel's peer credentials must still keep the peer out.
    let runtime = tempfile::Builder::new()
        .prefix("secretctl-xdg-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let long = format!("{}/vault", "d".repeat(100));
    let v = Vault::build(
        Some(&long),
        vec![("XDG_RUNTIME_DIR".into(), runtime.path().into())],
        None,
    );
    set_with_pw(&v, "API_TOKEN", VALUE);
    let pid = v.unlock(&[]);
    assert!(
        std::fs::symlink_metadata(v.sock()).is_err(),
        "a socket in the long vault dir"
    );
    let socks: Vec<PathBuf> = std::fs::read_dir(runtime.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(socks.len(), 1, "{socks:?}");
    let sock = &socks[0];
    let name = sock.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("secretctl-") && name.ends_with(".sock"),
        "{name}"
    );
    assert_eq!(
        std::fs::metadata(sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(peer_client(sock), "closed");
    // The owner is still served.
    let st = v.status();
    assert_eq!(st["unlocked"], true);
    assert_eq!(st["pid"], pid);
    let list = v.bare(&["list"]).ok_text("list after the refused peer");
    assert!(list.contains("API_TOKEN"), "{list}");
    let records = v.audit();
    let refused: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "agent_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["error_msg"], "foreign_uid", "{}", refused[0]);
    assert_eq!(refused[0]["success"], false, "{}", refused[0]);
    assert_eq!(refused[0]["source"], "agent", "{}", refused[0]);
    assert_eq!(refused[0]["detail"]["peer_uid"], peer_uid, "{}", refused[0]);
    v.lock();
    assert!(!sock.exists(), "the runtime-dir socket outlived lock");

    // (c) The other way round: a socket served by another uid at our socket path is refused
    // by the client (exit 4), never sent a request.
    std::os::unix::fs::chown(runtime.path(), Some(peer_uid), None).unwrap();
    let mut fake = as_peer("/usr/bin/python3")
        .arg("-c")
        .arg(
            r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
print("ready", flush=True)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(5)
try:
    data = c.recv(65536)
except Exception:
    data = b""
print("got %d" % len(data), flush=True)
"#,
        )
        .arg(sock)
        .stdout(Stdio::piped())
        .spawn()
        .expect("fake agent");
    let mut line = [0u8; 6];
    fake.stdout.as_mut().unwrap().read_exact(&mut line).unwrap();
    assert_eq!(&line, b"ready\n");
    let out = v.with_pw(&["list"]);
    let line = out.failure(4, "list against a foreign agent");
    assert!(line.contains(&*sock.to_string_lossy()), "{line}");
    assert!(line.contains(&format!("uid {peer_uid}")), "{line}");
    let mut rest = String::new();
    fake.stdout
        .as_mut()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    let _ = fake.kill();
    let _ = fake.wait();
    assert_eq!(
        rest.trim(),
        "got 0",
        "the client sent a request to a foreign agent"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Something that is not our socket at agent.sock.
// ---------------------------------------------------------------------------------------------

fn assert_refuses_path(v: &Vault, what: &str) {
    let path = v.sock().to_string_lossy().into_owned();
    let out = v.with_pw(&["unlock"]);
    assert_ne!(out.code, Some(0), "{what}: unlock succeeded");
    let line = out.failure(out.code.unwrap_or(-1), &format!("{what}: unlock"));
    assert!(line.contains(&path), "{what}: unlock: {line}");
    for (name, out) in [
        ("list (bare)", v.bare(&["list"])),
        ("list (password)", v.with_pw(&["list"])),
        ("get --masked", v.bare(&["get", "--masked", "API_TOKEN"])),
        ("run", v.bare(&["run", "-k", "API_TOKEN", "--", "true"])),
        ("status", v.bare(&["status"])),
        ("lock", v.bare(&["lock"])),
    ] {
        let line = out.failure(4, &format!("{what}: {name}"));
        assert!(line.contains(&path), "{what}: {name}: {line}");
    }
}

#[test]
fn a_file_or_symlink_at_the_socket_path_is_refused() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);

    std::fs::write(v.sock(), "not a socket").unwrap();
    assert_refuses_path(&v, "regular file");
    assert_eq!(std::fs::read_to_string(v.sock()).unwrap(), "not a socket");
    std::fs::remove_file(v.sock()).unwrap();

    // A symlink to another vault's live agent: nothing may be sent there.
    let other = Vault::new();
    set_with_pw(&other, "OTHER_KEY", "other-value");
    other.unlock(&[]);
    std::os::unix::fs::symlink(other.sock(), v.sock()).unwrap();
    assert_refuses_path(&v, "symlink to a live socket");
    assert!(
        std::fs::symlink_metadata(v.sock())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    std::fs::remove_file(v.sock()).unwrap();
    let records = other.audit();
    assert!(
        !since_last_start(&records)
            .iter()
            .any(|r| r["action"] != "agent_start"),
        "the other agent served a request: {:?}",
        since_last_start(&records)
    );
    other.lock();

    std::os::unix::fs::symlink(v.scratch("nowhere"), v.sock()).unwrap();
    assert_refuses_path(&v, "dangling symlink");
    std::fs::remove_file(v.sock()).unwrap();

    // With the path clean again, unlock works.
    v.unlock(&[]);
    v.bare(&["list"]).ok("list");
    v.lock();
}

// ---------------------------------------------------------------------------------------------
// 7. Malformed, oversized, truncated and unknown frames.
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_oversized_and_truncated_frames_do_not_break_the_agent() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    let pid = v.unlock(&[]);
    let sock = v.sock();

    assert_bad_request(request(&sock, "{not json"), "malformed JSON");
    assert_bad_request(request(&sock, ""), "empty frame");
    assert_bad_request(request(&sock, "[1,2,3]"), "a JSON array");
    assert_bad_request(
        request(&sock, r#"{"request":{"op":"status"}}"#),
        "no version",
    );
    assert_bad_request(
        request(&sock, r#"{"v":2,"request":{"op":"status"}}"#),
        "version 2",
    );
    assert_bad_request(
        request(&sock, r#"{"v":1,"request":{"op":"drop_tables"}}"#),
        "unknown op",
    );
    assert_bad_request(
        request(&sock, r#"{"v":1,"request":{"op":"status"},"x":1}"#),
        "unknown envelope field",
    );
    assert_bad_request(
        request(
            &sock,
            r#"{"v":1,"request":{"op":"list","via":"cli","evil":true}}"#,
        ),
        "unknown request field",
    );
    assert_bad_request(
        request(&sock, "{\"v\":1,\"request\":{\"op\":\"status\"}}\u{0}"),
        "trailing NUL",
    );

    // 64 MiB announced: an error or a closed connection, at once.
    let started = Instant::now();
    // (Either is fine; a reply must be the error.)
    if let Some(r) = raw(&sock, &(64u32 << 20).to_be_bytes(), false) {
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["error"], "bad_request", "{r}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the agent waited for 64 MiB"
    );
    // Just over the 4 MiB limit, with the bytes actually sent.
    let big = vec![b'x'; 4 * 1024 * 1024 + 1];
    if let Some(r) = raw(&sock, &frame(&big), false) {
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["error"], "bad_request", "{r}");
    }

    // Truncated: 100 announced, 10 sent, then EOF: closed without a reply.
    let mut bytes = 100u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(b"{\"v\":1,\"re");
    assert!(
        raw(&sock, &bytes, true).is_none(),
        "a reply to a truncated frame"
    );
    // Half a length prefix.
    assert!(
        raw(&sock, &[0, 0], true).is_none(),
        "a reply to half a prefix"
    );
    // And a client that closes completely mid-frame.
    {
        let mut s = UnixStream::connect(&sock).unwrap();
        s.write_all(&bytes).unwrap();
    }

    // Still serving.
    let r = request(&sock, r#"{"v":1,"request":{"op":"status"}}"#).expect("status reply");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["body"]["unlocked"], true, "{r}");
    assert_eq!(r["body"]["pid"], pid, "{r}");
    let list = v.bare(&["list"]).ok_text("list after the bad frames");
    assert!(list.contains("API_TOKEN"), "{list}");
    v.lock();
}

// ---------------------------------------------------------------------------------------------
// 8. kill -9: the vault is intact, the stale socket is replaced by the next unlock.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_killed_agent_leaves_an_intact_vault_and_a_replaceable_stale_socket() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    let pid = v.unlock(&[]);
    v.bare_stdin(&["set", "VIA_AGENT"], b"agent-value")
        .ok("set through the agent");
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Dead means the kernel closed its socket too: `/proc` stops showing the command line as
    // the exit starts, a moment before the listening socket refuses connections.
    assert!(
        wait_until(Duration::from_secs(5), || {
            !live_agent_of(pid, &v.dir)
                && std::os::unix::net::UnixStream::connect(v.sock()).is_err()
        }),
        "the agent survived kill -9"
    );
    let m = std::fs::symlink_metadata(v.sock()).expect("the stale socket remains");
    assert!(m.file_type().is_socket());

    assert_eq!(v.bare(&["status"]).ok_text("status"), "locked\n");
    v.bare(&["list"]).failure(3, "bare list after kill -9");
    let list = v.with_pw(&["list"]).ok_text("list with the password");
    assert!(
        list.contains("API_TOKEN") && list.contains("VIA_AGENT"),
        "{list}"
    );
    assert_eq!(
        v.with_pw(&["get", "VIA_AGENT"]).ok_text("get"),
        "agent-value"
    );
    let verify = v.with_pw(&["audit", "verify"]).ok_text("audit verify");
    assert!(verify.starts_with("audit log verified"), "{verify}");

    let new_pid = v.unlock(&[]);
    assert_ne!(new_pid, pid);
    // (The inode number may be reused, so the live agent behind the path is the proof.)
    let m2 = std::fs::symlink_metadata(v.sock()).expect("new socket");
    assert!(m2.file_type().is_socket());
    v.bare(&["list"]).ok("list through the new agent");
    v.lock();
    let verify = v.with_pw(&["audit", "verify"]).ok_text("audit verify");
    assert!(verify.starts_with("audit log verified"), "{verify}");
}

// ---------------------------------------------------------------------------------------------
// 9. The agent process: no core files, not dumpable, no password in its environment.
// ---------------------------------------------------------------------------------------------

fn proc_uid(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("Uid line")
        .parse()
        .unwrap()
}

#[test]
fn the_agent_process_is_hardened() {
    let v = Vault::new();
    let pid = v.unlock(&[]);
    let out = Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            "--core",
            "--output",
            "SOFT,HARD",
            "--noheadings",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let limits: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(limits, ["0", "0"], "core limit of the agent");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(!environ.contains("SECRETCTL_PASSWORD"), "{environ}");
    assert!(
        !environ.contains(PASSWORD),
        "the password is in the agent's environment"
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(PASSWORD));
    // The keys are in locked memory (root has CAP_IPC_LOCK).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let vmlck: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|l| l.split_whitespace().next())
        .expect("VmLck line")
        .parse()
        .unwrap();
    assert!(vmlck > 0, "no locked memory in the agent: {status}");
    v.lock();

    // Dumpability shows as ownership: /proc/PID/environ of a non-dumpable process belongs to
    // root whatever the process's uid. Root's own agent cannot show that, so an agent of the
    // peer user, next to a plain process of the peer as the control.
    let (uid, gid) = peer();
    let pv = Vault::build(Some("home/vault"), Vec::new(), Some((uid, gid)));
    let peer_pid = pv.unlock(&[]);
    assert_eq!(proc_uid(peer_pid), uid);
    let mut control = as_peer("/bin/sleep").arg("30").spawn().unwrap();
    let control_pid = control.id();
    // Once it runs `sleep` (setpriv has changed uid and exec'd; a uid change alone makes a
    // process non-dumpable until its next exec).
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{control_pid}/comm"))
            .is_ok_and(|c| c.trim() == "sleep")
    }));
    let owner = |pid: u32| {
        std::fs::metadata(format!("/proc/{pid}/environ"))
            .unwrap()
            .uid()
    };
    let (control_owner, agent_owner) = (owner(control_pid), owner(peer_pid));
    let _ = control.kill();
    let _ = control.wait();
    assert_eq!(
        control_owner, uid,
        "control: a dumpable process of the peer"
    );
    assert_eq!(agent_owner, 0, "the agent is dumpable");
    pv.lock();
}

// ---------------------------------------------------------------------------------------------
// 10. A password change by another process locks the agent.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_password_change_elsewhere_locks_the_agent() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", VALUE);
    v.unlock(&[]);
    v.bare(&["list"]).ok("list");
    let new_pw = "a brand new master password";
    let file = v.scratch("new-password");
    std::fs::write(&file, format!("{new_pw}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    v.with_pw(&[
        "password",
        "change",
        "--new-password-file",
        file.to_str().unwrap(),
    ])
    .ok("password change");
    let changed = Instant::now();
    *v.password.borrow_mut() = new_pw.to_owned();
    assert!(
        wait_until(Duration::from_millis(2500), || v.status()["unlocked"]
            == false),
        "still unlocked {:?} after the password change: {}",
        changed.elapsed(),
        v.status()
    );
    assert!(std::fs::symlink_metadata(v.sock()).is_err(), "socket left");
    v.bare(&["list"]).failure(3, "bare list after the change");
    run(v.command(&["list"], Pw::Env(PASSWORD)), None).failure(3, "old password");
    let records = v.audit();
    assert_eq!(last_lock_reason(&records), "the vault changed on disk");
    let verify = v.with_pw(&["audit", "verify"]).ok_text("audit verify");
    assert!(verify.starts_with("audit log verified"), "{verify}");
}

/// A plaintext read while the agent is unlocked says what to do instead of "run
/// `secretctl unlock`" (it already is), and the agent's records say who and why.
#[test]
fn the_records_and_messages_of_an_unlocked_session_say_what_happened() {
    let v = Vault::new();
    set_with_pw(&v, "API_TOKEN", "tok-value-12345");
    v.unlock(&[]);
    let line = v.bare(&["get", "API_TOKEN"]).failure(3, "bare get");
    assert!(line.contains("--allow-reveal"), "{line}");
    v.bare(&["lock"]).ok("lock");
    let records = v.audit();
    let start = records
        .iter()
        .find(|r| r["action"] == "agent_start")
        .expect("agent_start");
    assert_eq!(
        (start["source"].as_str(), start["detail"]["via"].as_str()),
        (Some("agent"), Some("cli"))
    );
    let end = records
        .iter()
        .rev()
        .find(|r| r["action"] == "agent_lock")
        .expect("agent_lock");
    assert_eq!(end["detail"]["reason"], "lock");
    assert!(end["detail"].get("via").is_none(), "{end}");
}
