//! `secretctl mcp-server` (SPEC §7) end to end: the official MCP Python SDK (`mcp_client.py`,
//! `ClientSession` over `stdio_client`) drives the real binary against a test vault unlocked
//! with `secretctl unlock`; the server gets no password source at all.
//!
//! The program `secret_run` executes is a copy of this test binary, approved in the policy:
//! run as `<copy> --exact helper_print_secrets --nocapture`, the `helper_*` tests below print
//! the injected variables raw, in base64 and split across two writes with a pause (in a normal
//! test run those variables are unset and the helpers do nothing).
//!
//! A raw JSON-RPC test checks that an oversized line leaves the server serving.

mod harness;

use base64::Engine;
use harness::{Output, PASSWORD, bin, run};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PATH_ENV: &str = "/usr/local/bin:/usr/bin:/bin";
const TOKEN: &str = "tok-5f3a9c1e7b2d4a6f8e0c";
const DB_PASSWORD: &str = "pg-pass-93ab71cd";
const LOCKED: &str = "the vault is locked: ask the user to run `secretctl unlock`";
const TOOLS: [&str; 7] = [
    "secret_exists",
    "secret_get_field",
    "secret_get_masked",
    "secret_list",
    "secret_list_fields",
    "secret_run",
    "secret_run_with_bindings",
];

/// Prints the injected variables: raw, base64, and split across two writes with a pause.
#[test]
fn helper_print_secrets() {
    let mut out = std::io::stdout();
    for name in ["API_TOKEN", "PGPASSWORD", "PGHOST"] {
        let Ok(value) = std::env::var(name) else {
            continue;
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(&value);
        writeln!(out, "{name}={value}").unwrap();
        writeln!(out, "{name}_B64={b64}").unwrap();
        let (a, b) = value.split_at(value.len() / 2);
        write!(out, "{name}_SPLIT={a}").unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        writeln!(out, "{b}").unwrap();
        out.flush().unwrap();
        eprintln!("stderr {name}={value}");
    }
}

/// Sleeps while a secret is injected (for the limit on concurrent runs).
#[test]
fn helper_sleep() {
    if std::env::var_os("API_TOKEN").is_some() {
        std::thread::sleep(Duration::from_millis(2500));
    }
}

/// A vault in a temporary directory; `Drop` locks its agent.
struct Setup {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::Builder::new()
            .prefix("secretctl-mcp-")
            .tempdir()
            .expect("temp dir");
        let dir = tmp.path().join("vault");
        let s = Setup { tmp, dir };
        s.cli(&["init"], None).ok("init");
        s
    }

    fn cli(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = Command::new(bin());
        c.arg("--vault-dir")
            .arg(&self.dir)
            .args(args)
            .env_clear()
            .env("PATH", PATH_ENV)
            .env("SECRETCTL_PASSWORD", PASSWORD)
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .current_dir("/");
        run(c, stdin)
    }

    fn set(&self, key: &str, value: &str) {
        self.cli(&["set", key], Some(value.as_bytes()))
            .ok(&format!("set {key}"));
    }

    /// A copy of this test binary in a private directory, mode 0755.
    fn helper(&self) -> PathBuf {
        let dir = self.tmp.path().join("bin");
        std::fs::create_dir_all(&dir).expect("bin dir");
        let path = dir.join("mcphelper");
        std::fs::copy(std::env::current_exe().expect("test exe"), &path).expect("copy helper");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn write_policy(&self, helper: &Path) {
        let text = format!(
            "version: 2\ndefault_action: deny\ncommands:\n  - name: {}\n    keys: [\"api/*\", \
             \"db/main\"]\n    timeout: 1m\n",
            helper.display()
        );
        let path = self.dir.join("mcp-policy.yaml");
        std::fs::write(&path, text).expect("write policy");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    /// Runs the Python client with `spec` (calls, parallel) against `mcp-server`.
    fn client(&self, mut spec: Value) -> Value {
        spec["command"] = json!(bin());
        spec["args"] = json!(["--vault-dir", self.dir, "mcp-server"]);
        spec["env"] = json!({ "PATH": PATH_ENV, "RUST_BACKTRACE": "0" });
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
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.cli(&["lock"], None);
    }
}

fn call(name: &str, arguments: Value) -> Value {
    json!({ "name": name, "arguments": arguments })
}

fn helper_args(test: &str) -> Value {
    json!(["--exact", test, "--nocapture", "--test-threads=1", "-q"])
}

/// Asserts a tool error whose text contains `needle`; returns the text.
fn tool_error(result: &Value, needle: &str) -> String {
    let text = result["text"].as_str().unwrap_or_default().to_owned();
    assert_eq!(result["is_error"], true, "expected a tool error: {result}");
    assert!(text.contains(needle), "expected {needle:?} in {text:?}");
    text
}

fn ok(result: &Value) -> &Value {
    assert_eq!(result["is_error"], false, "expected success: {result}");
    &result["structured"]
}

fn tool_names(out: &Value) -> Vec<String> {
    let mut names: Vec<String> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn mcp_server_end_to_end() {
    let s = Setup::new();
    s.set("api/token", TOKEN);
    s.set("api/short", "abc");
    s.set("other/key", "other-value-1234");
    s.cli(
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
            "--binding",
            "PGHOST=host",
        ],
        Some(DB_PASSWORD.as_bytes()),
    )
    .ok("set db/main");
    let helper = s.helper();
    let helper_text = helper.to_string_lossy().into_owned();
    s.write_policy(&helper);

    // Locked: the tools are listed, and every call says to unlock.
    let out = s.client(json!({ "calls": [
        call("secret_list", json!({})),
        call("secret_run", json!({ "keys": ["api/token"], "command": helper_text, "args": [] })),
    ]}));
    assert_eq!(out["server"], "secretctl");
    assert_eq!(tool_names(&out), TOOLS);
    for r in out["results"].as_array().unwrap() {
        assert_eq!(tool_error(r, LOCKED), LOCKED);
    }

    s.cli(&["unlock"], None).ok("unlock");

    // Unlocked, policy present but not approved: runs are denied, reads work.
    let out = s.client(json!({ "calls": [
        call("secret_run", json!({ "keys": ["api/token"], "command": helper_text,
            "args": helper_args("helper_print_secrets") })),
        call("secret_exists", json!({ "key": "api/token" })),
    ]}));
    tool_error(&out["results"][0], "not approved");
    assert_eq!(ok(&out["results"][1])["exists"], true);

    s.cli(&["policy", "approve", "--yes"], None)
        .ok("policy approve");

    let out = s.client(json!({ "calls": [
        /* 0 */ call("secret_list", json!({})),
        /* 1 */ call("secret_list", json!({ "folder": "x" })),
        /* 2 */ call("secret_exists", json!({ "key": "api/token" })),
        /* 3 */ call("secret_exists", json!({ "key": "no/such" })),
        /* 4 */ call("secret_get_masked", json!({ "key": "api/token" })),
        /* 5 */ call("secret_get_masked", json!({ "key": "db/main" })),
        /* 6 */ call("secret_list_fields", json!({ "key": "db/main" })),
        /* 7 */ call("secret_get_field", json!({ "key": "db/main", "field": "host" })),
        /* 8 */ call("secret_get_field", json!({ "key": "db/main", "field": "password" })),
        /* 9 */ call("secret_run", json!({ "keys": ["api/token"], "command": helper_text,
                    "args": helper_args("helper_print_secrets"), "timeout": "30s" })),
        /* 10 */ call("secret_run_with_bindings", json!({ "key": "db/main",
                    "command": helper_text, "args": helper_args("helper_print_secrets") })),
        /* 11 */ call("secret_run", json!({ "keys": ["api/token"], "command": "/usr/bin/env",
                    "args": [] })),
        /* 12 */ call("secret_run", json!({ "keys": ["api/token"], "command": "sh",
                    "args": ["-c", "echo $API_TOKEN"] })),
        /* 13 */ call("secret_run", json!({ "keys": ["other/key"], "command": helper_text,
                    "args": helper_args("helper_print_secrets") })),
        /* 14 */ call("secret_run", json!({ "keys": ["api/short"], "command": helper_text,
                    "args": helper_args("helper_print_secrets") })),
        /* 15 */ call("secret_run", json!({ "keys": ["api/*"], "command": helper_text,
                    "args": helper_args("helper_print_secrets") })),
    ], "parallel": (0..6).map(|_| call("secret_run", json!({ "keys": ["api/token"],
            "command": helper_text, "args": helper_args("helper_sleep") }))).collect::<Vec<_>>()
    }));
    let r = out["results"].as_array().expect("results");
    // The whole transcript never holds a sensitive value.
    let all = out.to_string();
    for secret in [TOKEN, DB_PASSWORD] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        assert!(!all.contains(&b64), "base64 of {secret} leaked: {all}");
    }
    // Read-only annotations.
    for t in out["tools"].as_array().unwrap() {
        let read_only = !t["name"].as_str().unwrap().starts_with("secret_run");
        assert_eq!(t["read_only"], read_only, "{t}");
    }

    let list = ok(&r[0])["secrets"].as_array().expect("secrets").clone();
    let keys: Vec<&str> = list.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["api/short", "api/token", "db/main", "other/key"]);
    let db = &list[2];
    assert_eq!(db["field_count"], 2);
    assert_eq!(db["has_notes"], false);
    assert_eq!(ok(&r[1])["secrets"], json!([]));
    assert_eq!(ok(&r[2])["exists"], true);
    assert_eq!(ok(&r[2])["field_count"], 1);
    assert_eq!(ok(&r[3])["exists"], false);

    let masked = ok(&r[4]);
    assert_eq!(masked["length"], "16-31");
    let m = masked["masked"].as_str().unwrap();
    assert!(
        m.ends_with("8e0c") && m.len() < TOKEN.len() && !m.contains("tok-"),
        "{m}"
    );
    assert!(masked["fields"][0].get("value").is_none(), "{masked}");
    let db_masked = ok(&r[5]);
    let fields = db_masked["fields"].as_array().unwrap();
    let host = fields.iter().find(|f| f["name"] == "host").unwrap();
    assert_eq!(host["value"], "db.internal");
    let pw = fields.iter().find(|f| f["name"] == "password").unwrap();
    assert!(pw.get("value").is_none(), "{pw}");
    assert_eq!(pw["sensitive"], true);

    let lf = ok(&r[6])["fields"].as_array().unwrap().clone();
    let pw = lf.iter().find(|f| f["name"] == "password").unwrap();
    assert_eq!(pw["bindings"], json!(["PGPASSWORD"]));
    assert_eq!(pw["sensitive"], true);
    assert_eq!(ok(&r[7])["value"], "db.internal");
    tool_error(&r[8], "sensitive");

    // The run: every form of the value is redacted, in stdout and stderr.
    let run = ok(&r[9]);
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(run["timed_out"], false);
    assert_eq!(run["truncated"], false);
    let stdout = run["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("API_TOKEN=[REDACTED:API_TOKEN]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("API_TOKEN_B64=[REDACTED:API_TOKEN]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("API_TOKEN_SPLIT=[REDACTED:API_TOKEN]"),
        "{stdout}"
    );
    assert!(
        run["stderr"]
            .as_str()
            .unwrap()
            .contains("stderr API_TOKEN=[REDACTED:API_TOKEN]"),
        "{run}"
    );
    let bound = ok(&r[10]);
    let stdout = bound["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("PGPASSWORD=[REDACTED:PGPASSWORD]"),
        "{stdout}"
    );
    // A non-sensitive field is not redacted.
    assert!(stdout.contains("PGHOST=db.internal"), "{stdout}");

    // Denials.
    tool_error(&r[11], "command '/usr/bin/env' is always denied");
    tool_error(&r[12], "command 'sh' is always denied");
    tool_error(&r[13], "key other/key is not allowed");
    tool_error(&r[14], "shorter than 4 bytes");
    tool_error(&r[15], "shorter than 4 bytes");

    // At most 5 runs at once.
    let parallel = out["parallel"].as_array().expect("parallel");
    let refused: Vec<&Value> = parallel.iter().filter(|p| p["is_error"] == true).collect();
    assert_eq!(refused.len(), 1, "{parallel:?}");
    tool_error(refused[0], "5 runs are already in progress");

    // Every call is audited with source mcp (SPEC §7.3); every denial with its reason.
    let records = s.audit();
    let allowed = records
        .iter()
        .filter(|a| a["action"] == "run" && a["success"] == true)
        .count();
    assert!(allowed > 0, "the allowed runs are recorded");
    for a in records.iter().filter(|a| a["detail"]["via"] == "mcp") {
        assert_eq!(a["source"], "mcp", "{a}");
    }
    let denied: Vec<(String, String)> = records
        .iter()
        .filter(|a| a["action"] == "run" && a["success"] == false)
        .map(|a| {
            assert_eq!(a["detail"]["via"], "mcp", "{a}");
            assert_eq!(a["source"], "mcp", "{a}");
            (
                a["detail"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                a["detail"]["command"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let reasons: Vec<&str> = denied.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(reasons.len(), 6, "{denied:?}");
    assert_eq!(reasons[0], "unapproved", "{denied:?}");
    assert_eq!(reasons[1], "always_denied", "{denied:?}");
    assert_eq!(reasons[2], "always_denied", "{denied:?}");
    assert_eq!(denied[3].1, format!("'{helper_text}'"), "{denied:?}");
    assert_eq!(reasons[3], "key_not_allowed", "{denied:?}");
    assert_eq!(reasons[4], "short_secret", "{denied:?}");
    assert_eq!(reasons[5], "short_secret", "{denied:?}");
}

/// A line over the 1 MiB limit is dropped by the transport; the server keeps serving. No
/// vault unlock is needed for `initialize`.
#[test]
fn oversized_line_leaves_the_server_serving() {
    let s = Setup::new();
    let mut child = Command::new(bin())
        .arg("--vault-dir")
        .arg(&s.dir)
        .arg("mcp-server")
        .env_clear()
        .env("PATH", PATH_ENV)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mcp-server");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut big = vec![b'x'; 2 * 1024 * 1024];
    big.push(b'\n');
    stdin.write_all(&big).unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    writeln!(stdin, "{init}").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let reply: Value = serde_json::from_str(&line).expect("a JSON-RPC reply");
    // The oversized line gets an error (or nothing); the initialize is answered.
    let reply = if reply["id"] == 1 {
        reply
    } else {
        line.clear();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).expect("a JSON-RPC reply")
    };
    assert_eq!(reply["id"], 1, "{reply}");
    assert_eq!(
        reply["result"]["serverInfo"]["name"], "secretctl",
        "{reply}"
    );
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}
