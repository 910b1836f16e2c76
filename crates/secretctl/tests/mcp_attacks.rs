//! Attacks on `secretctl mcp-server` (SPEC §7) through the real binary.
//!
//! - Denials through the official Python SDK client (`mcp_client.py`): each is a tool error and
//!   a failed `run` audit record (source `mcp`) with its reason code, and nothing runs: every
//!   denied call carries arguments that would create a marker file if anything executed them.
//! - Raw JSON-RPC robustness: malformed JSON, an unknown method, an unknown tool; every line
//!   the server writes is JSON-RPC 2.0.
//! - Closing stdin during a run kills the child's whole process group and the server exits.
//! - No tool changes the secrets table (hex snapshot before and after a hostile battery).
//!
//! The approved programs are small `/bin/sh` scripts in a private directory: `mark` creates the
//! file named by its first argument, `echoargs` prints each argument between `<` and `>`,
//! `sleeper` writes its pid and its child's pid to a file and waits on `sleep 30`.

mod harness;

use harness::{CLEAN_PATH, Output, bin, run, secretctl_clean, sqlite3};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const TOKEN: &str = "tok-5f3a9c1e7b2d4a6f8e0c";
const DB_PASSWORD: &str = "pg-pass-93ab71cd";
const TOP: &str = "top-value-7a1b2c3d";
/// How long any single server reply may take (generous: a loaded 2-core CI box).
const REPLY: Duration = Duration::from_secs(30);

const MARK: &str = "#!/bin/sh\n: > \"$1\"\necho marked\n";
const ECHOARGS: &str = "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\n";
const SLEEPER: &str =
    "#!/bin/sh\nsleep 30 &\necho \"$$ $!\" > \"$1.tmp\"\nmv \"$1.tmp\" \"$1\"\nwait\n";

/// A vault in a temporary directory with three approved scripts; `Drop` locks its agent.
struct Setup {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    bin: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::Builder::new()
            .prefix("secretctl-mcpatk-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().join("vault");
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        let s = Setup { tmp, dir, bin };
        s.cli(&["init"], None).ok("init");
        s.script(&s.bin.join("mark"), MARK);
        s.script(&s.bin.join("echoargs"), ECHOARGS);
        s.script(&s.bin.join("sleeper"), SLEEPER);
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn script(&self, path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).expect("script dir");
        std::fs::write(path, text).expect("write script");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).to_string_lossy().into_owned()
    }

    fn cli(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        secretctl_clean(&self.dir, args, stdin)
    }

    fn set(&self, key: &str, value: &str) {
        self.cli(&["set", key], Some(value.as_bytes()))
            .ok(&format!("set {key}"));
    }

    fn secrets(&self) {
        self.set("api/token", TOKEN);
        self.set("api/short", "abc");
        self.set("other/key", "other-value-1234");
        self.set("toplevel", TOP);
        self.cli(
            &[
                "set",
                "db/main",
                "--field",
                "host=db.internal",
                "--plain",
                "host",
                "--field",
                "password=-",
                "--binding",
                "PGPASSWORD=password",
            ],
            Some(DB_PASSWORD.as_bytes()),
        )
        .ok("set db/main");
    }

    fn write_policy(&self, text: &str) {
        harness::write_policy(&self.dir, text);
    }

    /// `mark` and `sleeper` may use `api/*`; `echoargs` has `keys: ["*"]`.
    fn good_policy(&self) -> String {
        format!(
            "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"api/*\"]\n    \
             timeout: 1m\n  - name: {}\n    keys: [\"*\"]\n    timeout: 1m\n  - name: {}\n    \
             keys: [\"api/*\"]\n    timeout: 2m\n",
            self.tool("mark"),
            self.tool("echoargs"),
            self.tool("sleeper")
        )
    }

    /// Secrets, unlock, the good policy approved.
    fn ready(&self) {
        self.secrets();
        self.cli(&["unlock"], None).ok("unlock");
        self.write_policy(&self.good_policy());
        self.cli(&["policy", "approve", "--yes"], None)
            .ok("policy approve");
    }

    /// Runs `mcp_client.py` (the official SDK) with `spec` against `mcp-server`.
    fn client(&self, mut spec: Value) -> Value {
        spec["command"] = json!(bin());
        spec["args"] = json!(["--vault-dir", self.dir, "mcp-server"]);
        spec["env"] = json!({ "PATH": CLEAN_PATH, "RUST_BACKTRACE": "0" });
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
        let mut c = Command::new("python3");
        c.arg(script);
        let out = run(c, Some(spec.to_string().as_bytes()));
        assert_eq!(
            out.code,
            Some(0),
            "mcp_client.py failed: {}\n{}",
            out.stderr,
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("client output is JSON")
    }

    fn audit(&self) -> Vec<Value> {
        let out = self.cli(&["audit", "list", "--json", "--limit", "100000"], None);
        match serde_json::from_slice(out.ok("audit list")).expect("audit JSON") {
            Value::Array(r) => r,
            other => panic!("audit list is not an array: {other}"),
        }
    }

    /// The failed `run` records: each must be source `mcp`; returns their reasons in order.
    fn denied_reasons(&self) -> Vec<String> {
        self.audit()
            .iter()
            .filter(|a| a["action"] == "run" && a["success"] == false)
            .map(|a| {
                assert_eq!(a["source"], "mcp", "{a}");
                assert_eq!(a["detail"]["via"], "mcp", "{a}");
                a["detail"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// Every column of every row of `table`, in hex, ordered by id.
    fn table_hex(&self, table: &str) -> String {
        let db = self.dir.join("vault.db");
        let cols = sqlite3(
            &db,
            &format!("SELECT name FROM pragma_table_info('{table}')"),
        );
        let cols: Vec<String> = cols
            .lines()
            .map(|c| format!("quote(hex(\"{c}\"))"))
            .collect();
        assert!(cols.len() > 1, "{table} has columns");
        sqlite3(
            &db,
            &format!(
                "SELECT {} FROM {table} ORDER BY id",
                cols.join(" || '|' || ")
            ),
        )
    }

    fn count(&self, table: &str) -> usize {
        sqlite3(
            &self.dir.join("vault.db"),
            &format!("SELECT count(*) FROM {table}"),
        )
        .parse()
        .expect("count")
    }

    fn server(&self) -> Raw {
        Raw::spawn(&self.dir)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.cli(&["lock"], None);
    }
}

fn call(name: &str, arguments: Value) -> Value {
    json!({ "name": name, "arguments": arguments })
}

/// Asserts a tool error whose text contains `needle`.
fn tool_error(result: &Value, needle: &str) {
    let text = result["text"].as_str().unwrap_or_default();
    assert_eq!(result["is_error"], true, "expected a tool error: {result}");
    assert!(text.contains(needle), "expected {needle:?} in {text:?}");
}

fn ok(result: &Value) -> &Value {
    assert_eq!(result["is_error"], false, "expected success: {result}");
    &result["structured"]
}

/// `mcp-server` driven by raw JSON-RPC lines. Every line it writes is checked to be a JSON-RPC
/// 2.0 message.
struct Raw {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<Value>,
}

impl Raw {
    fn spawn(dir: &Path) -> Raw {
        let mut child = Command::new(bin())
            .arg("--vault-dir")
            .arg(dir)
            .arg("mcp-server")
            .env_clear()
            .env("PATH", CLEAN_PATH)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mcp-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Raw {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, v: &Value) {
        self.send_line(&v.to_string());
    }

    /// The next message, checked to be JSON-RPC 2.0; `None` when stdout closed.
    fn recv(&mut self, timeout: Duration) -> Option<Value> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
                assert_eq!(v["jsonrpc"], "2.0", "not JSON-RPC 2.0: {line}");
                // rmcp 3.11 answers an invalid request (no method, non-object params) with an
                // error that has no `id` at all (JSON-RPC 2.0 §5 wants the id, or null); that
                // deviation is accepted for error responses only.
                let is_response = (v.get("id").is_some()
                    && (v.get("result").is_some() ^ v.get("error").is_some()))
                    || (v.get("result").is_none() && v["error"]["code"].is_i64());
                let is_message = v["method"].is_string();
                assert!(is_response || is_message, "not a JSON-RPC message: {line}");
                self.seen.push(v.clone());
                Some(v)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("no reply within {timeout:?}"),
        }
    }

    /// Messages up to and including the response with `id`.
    fn until(&mut self, id: &Value) -> (Value, Vec<Value>) {
        let mut others = Vec::new();
        loop {
            let v = self
                .recv(REPLY)
                .unwrap_or_else(|| panic!("server closed stdout before answering {id}"));
            if &v["id"] == id && v.get("method").is_none() {
                return (v, others);
            }
            others.push(v);
        }
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let (reply, others) = self.until(&json!(id));
        for o in others {
            // Only notifications may come in between.
            assert!(o.get("id").is_none(), "unexpected message: {o}");
        }
        reply
    }

    fn initialize(&mut self) {
        let r = self.request(
            0,
            "initialize",
            json!({ "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": { "name": "attacker", "version": "0" } }),
        );
        assert_eq!(r["result"]["serverInfo"]["name"], "secretctl", "{r}");
        self.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    }

    fn call(&mut self, id: u64, name: &str, arguments: Value) -> Value {
        self.request(
            id,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
    }

    /// Closes stdin and waits (bounded) for the server to exit.
    fn close_and_wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("mcp-server did not exit within {limit:?} of stdin closing");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A tool result from a raw `tools/call` reply: `Some((is_error, text))`, or `None` for a
/// JSON-RPC error.
fn raw_tool(reply: &Value) -> Option<(bool, String)> {
    let result = reply.get("result")?;
    let text = result["content"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default();
    Some((result["isError"] == true, text))
}

fn pid_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ..." — the state follows the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

fn dead(pid: u32) -> bool {
    matches!(pid_state(pid), None | Some('Z') | Some('X'))
}

#[test]
fn denials_are_tool_errors_audited_and_execute_nothing() {
    let s = Setup::new();
    s.secrets();
    s.cli(&["unlock"], None).ok("unlock");

    // A symlink named like a command, pointing to /bin/sh: `policy approve` refuses it.
    let link_dir = s.path("link");
    std::fs::create_dir_all(&link_dir).unwrap();
    let link = link_dir.join("mark");
    std::os::unix::fs::symlink("/bin/sh", &link).unwrap();
    s.write_policy(&format!(
        "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"api/*\"]\n",
        link.display()
    ));
    let refused = s.cli(&["policy", "approve", "--yes"], None);
    assert_ne!(refused.code, Some(0), "a symlink to /bin/sh was approved");
    assert!(
        refused.stderr.contains("is always denied"),
        "{}",
        refused.stderr
    );

    s.write_policy(&s.good_policy());
    s.cli(&["policy", "approve", "--yes"], None)
        .ok("policy approve");

    // The same script, byte for byte, under the approved name in another directory.
    let other = s.path("other").join("mark");
    s.script(&other, MARK);
    let other = other.to_string_lossy().into_owned();
    let link = link.to_string_lossy().into_owned();

    let marker = |i: usize| s.path(&format!("marker-{i}"));
    let m = |i: usize| marker(i).to_string_lossy().into_owned();
    let touch = "/usr/bin/touch";
    let key = json!(["api/token"]);
    let mark = s.tool("mark");
    let echoargs = s.tool("echoargs");
    // (command, args, keys, expected reason, expected error text)
    let cases: Vec<(String, Vec<String>, Value, &str, &str)> = vec![
        (
            other.clone(),
            vec![m(0)],
            key.clone(),
            "not_allowed",
            "is not allowed by the MCP policy",
        ),
        (
            "mark".into(),
            vec![m(1)],
            key.clone(),
            "not_allowed",
            "is not allowed by the MCP policy",
        ),
        (
            link.clone(),
            vec!["-c".into(), format!(": > {}", m(2))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "env".into(),
            vec![touch.into(), m(3)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "printenv".into(),
            vec![],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "sh".into(),
            vec!["-c".into(), format!(": > {}", m(5))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "bash".into(),
            vec!["-c".into(), format!(": > {}", m(6))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "python3".into(),
            vec!["-c".into(), format!("open('{}','w')", m(7))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "perl".into(),
            vec!["-e".into(), format!("open(F,'>{}')", m(8))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "awk".into(),
            vec![format!("BEGIN{{printf \"\" > \"{}\"}}", m(9))],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "xargs".into(),
            vec!["env".into(), touch.into(), m(10)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "nice".into(),
            vec!["env".into(), touch.into(), m(11)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "timeout".into(),
            vec!["5".into(), "env".into(), touch.into(), m(12)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "/usr/bin//env".into(),
            vec![touch.into(), m(13)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "/usr/bin/../bin/env".into(),
            vec![touch.into(), m(14)],
            key.clone(),
            "always_denied",
            "is always denied",
        ),
        (
            "./env".into(),
            vec![touch.into(), m(15)],
            key.clone(),
            "relative_path",
            "is a relative path",
        ),
        // A key outside the rule's keys.
        (
            mark.clone(),
            vec![m(16)],
            json!(["other/key"]),
            "key_not_allowed",
            "key other/key is not allowed",
        ),
        // `keys: ["*"]` covers top-level keys only.
        (
            echoargs.clone(),
            vec![m(17)],
            json!(["api/token"]),
            "key_not_allowed",
            "key api/token is not allowed",
        ),
        (
            echoargs.clone(),
            vec![m(18)],
            json!(["db/main"]),
            "key_not_allowed",
            "key db/main is not allowed",
        ),
        // A 3-byte secret is never injected.
        (
            mark.clone(),
            vec![m(19)],
            json!(["api/short"]),
            "short_secret",
            "shorter than 4 bytes",
        ),
    ];
    let metachars: Vec<&str> = vec![
        ";",
        "$(id)",
        "`id`",
        "|",
        "a; id",
        "&& id",
        "$API_TOKEN",
        "${TOPLEVEL}",
        "> /tmp/x",
        "*",
        "'\"",
    ];
    let mut calls: Vec<Value> = cases
        .iter()
        .map(|(cmd, args, keys, _, _)| {
            call(
                "secret_run",
                json!({ "keys": keys, "command": cmd, "args": args }),
            )
        })
        .collect();
    let n = calls.len();
    // Positive controls: the approved programs do run.
    calls.push(call(
        "secret_run",
        json!({ "keys": ["api/token"], "command": mark, "args": [m(99)] }),
    ));
    calls.push(call(
        "secret_run",
        json!({ "keys": ["toplevel"], "command": echoargs, "args": metachars }),
    ));
    let out = s.client(json!({ "calls": calls }));
    let r = out["results"].as_array().expect("results");
    assert_eq!(r.len(), n + 2);

    for (i, (cmd, _, _, _, text)) in cases.iter().enumerate() {
        tool_error(&r[i], text);
        assert!(!marker(i).exists(), "case {i} ({cmd}) executed something");
    }
    for i in 0..n {
        // No stray marker from any case.
        assert!(!marker(i).exists(), "marker-{i} exists");
    }

    let run = ok(&r[n]);
    assert_eq!(run["exit_code"], 0, "{run}");
    assert!(marker(99).exists(), "the approved mark script did not run");

    let run = ok(&r[n + 1]);
    assert_eq!(run["exit_code"], 0, "{run}");
    let expected: String = metachars.iter().map(|a| format!("<{a}>\n")).collect();
    assert_eq!(run["stdout"], expected.as_str(), "{run}");

    let all = out.to_string();
    for secret in [TOKEN, DB_PASSWORD, TOP] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }

    let reasons = s.denied_reasons();
    let expected: Vec<&str> = cases.iter().map(|c| c.3).collect();
    assert_eq!(reasons, expected);
}

#[test]
fn raw_json_rpc_errors_keep_the_server_serving() {
    let s = Setup::new();
    let mut srv = s.server();
    srv.initialize();

    // Malformed JSON, then a valid request: the server answers it.
    srv.send_line("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    srv.send_line("this is not json at all");
    srv.send_line("[1, 2");
    srv.send(&json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }));
    let (reply, before) = srv.until(&json!(2));
    assert_eq!(
        reply["result"]["tools"].as_array().map(Vec::len),
        Some(9),
        "{reply}"
    );
    // rmcp 3.11 drops an unparsable line without a reply; a -32700 parse error would do too.
    for m in &before {
        assert_eq!(
            m["error"]["code"], -32700,
            "unexpected reply to garbage: {m}"
        );
    }

    // An unknown method.
    let r = srv.request(3, "secrets/dump", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // An unknown tool.
    let r = srv.call(4, "secret_set", json!({ "key": "api/token", "value": "x" }));
    match raw_tool(&r) {
        None => assert!(r["error"]["code"].is_i64(), "{r}"),
        Some((is_error, text)) => assert!(is_error, "unknown tool succeeded: {text}"),
    }
    // A request with no method, and a request whose params are not an object.
    srv.send(&json!({ "jsonrpc": "2.0", "id": 5 }));
    srv.send(&json!({ "jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": 7 }));
    // Each gets an Invalid Request error; the server still serves.
    srv.send(&json!({ "jsonrpc": "2.0", "id": 7, "method": "ping" }));
    let (r, invalid) = srv.until(&json!(7));
    assert_eq!(r["result"], json!({}), "{r}");
    assert_eq!(invalid.len(), 2, "{invalid:?}");
    for m in &invalid {
        assert_eq!(m["error"]["code"], -32600, "{m}");
        assert!(m.get("result").is_none(), "{m}");
    }
    let r = srv.call(8, "secret_list", json!({}));
    assert_eq!(
        raw_tool(&r),
        Some((
            true,
            "the vault is locked: ask the user to run `secretctl unlock`".into()
        )),
        "{r}"
    );

    let status = srv.close_and_wait(Duration::from_secs(20));
    assert!(status.success(), "{status}");
    // Drain: every remaining line must also be JSON-RPC 2.0.
    while srv.recv(Duration::from_secs(5)).is_some() {}
    assert!(srv.seen.len() >= 6, "{:?}", srv.seen);
    for m in &srv.seen {
        if m.get("error").is_some() {
            assert!(m["error"]["code"].is_i64(), "{m}");
            assert!(m["error"]["message"].is_string(), "{m}");
        }
    }
}

#[test]
fn closing_stdin_kills_the_running_process_group() {
    let s = Setup::new();
    s.ready();
    let pidfile = s.path("pids");
    let mut srv = s.server();
    srv.initialize();
    srv.send(
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "secret_run", "arguments": { "keys": ["api/token"], "command": s.tool("sleeper"),
        "args": [pidfile] } } }),
    );
    let start = Instant::now();
    while !pidfile.exists() {
        assert!(
            start.elapsed() < REPLY,
            "the sleeper never started: {:?}",
            srv.seen
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&pidfile).unwrap();
    let pids: Vec<u32> = text
        .split_whitespace()
        .map(|p| p.parse().expect("pid"))
        .collect();
    assert_eq!(pids.len(), 2, "{text:?}");
    for &p in &pids {
        assert!(!dead(p), "pid {p} is not running yet");
    }

    // Close stdin. rmcp 3.11 lets in-flight calls drain for 5 s after EOF; then the call is
    // dropped, its run cancelled and the group gets TERM. 8 s allows for a loaded machine;
    // without the cancellation the group lives on for the 30 s sleep.
    drop(srv.stdin.take());
    let closed = Instant::now();
    while pids.iter().any(|&p| !dead(p)) {
        if closed.elapsed() > Duration::from_secs(8) {
            let states: Vec<_> = pids.iter().map(|&p| (p, pid_state(p))).collect();
            for &p in &pids {
                // Clean up what the server left behind.
                let _ = Command::new("kill").arg("-9").arg(p.to_string()).status();
            }
            panic!("the run's process group survived stdin closing: {states:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = srv.close_and_wait(Duration::from_secs(20));
    assert!(status.success(), "{status}");
}

#[test]
fn no_tool_changes_the_secrets_table() {
    let s = Setup::new();
    s.secrets();
    let secrets_before = s.table_hex("secrets");
    let folders_before = s.table_hex("folders");
    let audit_before = s.count("audit_log");
    assert!(secrets_before.contains('|'), "{secrets_before}");
    s.cli(&["unlock"], None).ok("unlock");
    s.write_policy(&s.good_policy());
    s.cli(&["policy", "approve", "--yes"], None)
        .ok("policy approve");

    let huge = "A".repeat(200_000);
    let key = json!(["api/token"]);
    let mark = s.tool("mark");
    let hostile: Vec<(&str, Value)> = vec![
        (
            "secret_get_field",
            json!({ "key": "db/main", "field": "password" }),
        ),
        (
            "secret_get_field",
            json!({ "key": "db/main", "field": "password", "force": true }),
        ),
        (
            "secret_get_field",
            json!({ "key": "api/token", "field": "value" }),
        ),
        (
            "secret_get_field",
            json!({ "key": "../../etc/passwd", "field": "value" }),
        ),
        (
            "secret_get_field",
            json!({ "key": "db/main", "field": "../password" }),
        ),
        ("secret_exists", json!({ "key": "api/../db/main" })),
        ("secret_exists", json!({ "key": "/etc/passwd" })),
        ("secret_exists", json!({ "key": "api/token\u{0}x" })),
        ("secret_exists", json!({ "key": huge })),
        (
            "secret_exists",
            json!({ "key": "api/token", "value": "overwritten", "delete": true }),
        ),
        ("secret_exists", json!({})),
        ("secret_exists", json!({ "key": 42 })),
        ("secret_list", json!({ "folder": "../.." })),
        (
            "secret_list",
            json!({ "folder": huge, "tag": "\u{0}", "expiring_within": "-1d" }),
        ),
        ("secret_list", json!({ "set": { "api/token": "x" } })),
        ("secret_list_fields", json!({ "key": "**" })),
        ("secret_list_fields", json!({ "key": "db/main\u{0}" })),
        ("secret_get_masked", json!({ "key": "api/*" })),
        (
            "secret_get_masked",
            json!({ "key": "db/main", "reveal": true }),
        ),
        (
            "secret_run",
            json!({ "keys": ["../x"], "command": mark, "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": ["**"], "command": mark, "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": [huge], "command": mark, "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": "/usr/bin/env", "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": "sh", "args": ["-c", "secretctl set api/token"] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": bin(), "args": ["set", "api/token"] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": "/usr/bin/sqlite3",
            "args": [s.dir.join("vault.db"), "DELETE FROM secrets"] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": format!("{mark}\u{0}"), "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": mark, "args": ["\u{0}"], "env_prefix": "../" }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": mark, "args": [], "timeout": "-5s" }),
        ),
        (
            "secret_run",
            json!({ "keys": [], "command": mark, "args": [] }),
        ),
        (
            "secret_run",
            json!({ "keys": key, "command": "", "args": [], "value": "x" }),
        ),
        (
            "secret_run_with_bindings",
            json!({ "key": "db/main", "command": "/usr/bin/env" }),
        ),
        (
            "secret_run_with_bindings",
            json!({ "key": "../db/main", "command": mark }),
        ),
        (
            "secret_set",
            json!({ "key": "api/token", "value": "pwned-value" }),
        ),
        ("secret_delete", json!({ "key": "api/token" })),
    ];
    let mut srv = s.server();
    srv.initialize();
    for (i, (tool, args)) in hostile.iter().enumerate() {
        let r = srv.call(100 + i as u64, tool, args.clone());
        if let Some((is_error, text)) = raw_tool(&r) {
            for secret in [TOKEN, DB_PASSWORD] {
                assert!(!text.contains(secret), "{tool} {args}: leaked {secret}");
            }
            // The only calls that may succeed are read-only lookups.
            if !is_error {
                assert!(
                    !tool.starts_with("secret_run") && !tool.starts_with("secret_get_field"),
                    "hostile call {i} {tool} succeeded: {text}"
                );
            }
        }
    }
    // secret_get_field on a sensitive field is always a tool error.
    let r = srv.call(
        1,
        "secret_get_field",
        json!({ "key": "db/main", "field": "password" }),
    );
    let (is_error, text) = raw_tool(&r).expect("a tool result");
    assert!(is_error && text.contains("sensitive"), "{text}");
    let status = srv.close_and_wait(Duration::from_secs(20));
    assert!(status.success(), "{status}");

    s.cli(&["lock"], None);
    assert_eq!(
        s.table_hex("secrets"),
        secrets_before,
        "the secrets table changed"
    );
    assert_eq!(
        s.table_hex("folders"),
        folders_before,
        "the folders table changed"
    );
    assert!(
        s.count("audit_log") > audit_before,
        "the calls were audited"
    );
    // The vault still reads back.
    assert_eq!(s.cli(&["get", "api/token"], None).ok_text("get"), TOKEN);
}
