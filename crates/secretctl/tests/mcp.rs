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
use harness::{CLEAN_PATH, Output, PASSWORD, bin, run, secretctl_clean, write_policy};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "tok-5f3a9c1e7b2d4a6f8e0c";
const DB_PASSWORD: &str = "pg-pass-93ab71cd";
const LOCKED: &str = "the vault is locked: ask the user to run `secretctl unlock`";
const TOOLS: [&str; 9] = [
    "folder_list",
    "secret_exists",
    "secret_get_field",
    "secret_get_masked",
    "secret_list",
    "secret_list_fields",
    "secret_run",
    "secret_run_with_bindings",
    "security_score",
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
        secretctl_clean(&self.dir, args, stdin)
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
        write_policy(&self.dir, &text);
    }

    /// Runs the Python client with `spec` (calls, parallel) against `mcp-server`.
    fn client(&self, spec: Value) -> Value {
        self.client_with_env(spec, json!({})).0
    }

    /// Like [`client`](Setup::client), with more variables in the server's environment; also
    /// gives what the server (and the client) wrote on stderr.
    fn client_with_env(&self, mut spec: Value, extra_env: Value) -> (Value, String) {
        spec["command"] = json!(bin());
        spec["args"] = json!(["--vault-dir", self.dir, "mcp-server"]);
        let mut env = json!({ "PATH": CLEAN_PATH, "RUST_BACKTRACE": "0" });
        for (k, v) in extra_env.as_object().expect("env object") {
            env[k] = v.clone();
        }
        spec["env"] = env;
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
        (
            serde_json::from_slice(&out.stdout).expect("client output is JSON"),
            out.stderr,
        )
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
    s.cli(&["folder", "create", "Work/Databases"], None)
        .ok("folder create");
    s.cli(
        &[
            "set",
            "db/main",
            "--keep-value",
            "--folder",
            "Work/Databases",
        ],
        None,
    )
    .ok("set --folder");
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
        /* 1 */ call("secret_list", json!({ "folder": "Work" })),
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
        /* 16 */ call("folder_list", json!({})),
        /* 17 */ call("secret_list", json!({ "folder": "Nope" })),
        /* 18 */ call("security_score", json!({})),
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
        assert!(t["name"] != "folder_list" || read_only);
        assert_eq!(t["read_only"], read_only, "{t}");
    }

    let list = ok(&r[0])["secrets"].as_array().expect("secrets").clone();
    let keys: Vec<&str> = list.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["api/short", "api/token", "db/main", "other/key"]);
    let db = &list[2];
    assert_eq!(db["field_count"], 2);
    assert_eq!(db["has_notes"], false);
    assert_eq!(db["folder"], "Work/Databases");
    let in_work: Vec<&str> = ok(&r[1])["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        in_work,
        ["db/main"],
        "a folder filter includes the folders below it"
    );
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

    // Folders, read-only.
    let folders = ok(&r[16])["folders"].as_array().unwrap().clone();
    let paths: Vec<(&str, u64, u64)> = folders
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["secrets"].as_u64().unwrap(),
                f["subfolders"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(paths, [("Work", 0, 1), ("Work/Databases", 1, 0)]);
    tool_error(&r[17], "folder 'Nope' not found");

    // The security report: every secret counted, the short one weak, no value anywhere (the
    // whole transcript is checked for values above).
    let report = ok(&r[18]);
    assert_eq!(report["counts"]["secrets"], 4, "{report}");
    let weak: Vec<&str> = report["weak"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert!(weak.contains(&"api/short"), "{report}");
    let score = report["score"].as_u64().unwrap();
    assert!(score <= 100, "{report}");

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

/// `SECRETCTL_PASSWORD` (the original tool's way) still works, with no agent running: the server
/// unlocks the vault itself and warns on stderr that the password sits in the client's
/// configuration. `env` reads keys through the approved policy's `env_aliases`, and the
/// variables keep the names asked for; an unknown alias is denied.
#[test]
fn password_from_the_environment_and_env_aliases() {
    let s = Setup::new();
    s.set("prod/api/token", TOKEN);
    let helper = s.helper();
    let helper_text = helper.to_string_lossy().into_owned();
    let text = format!(
        "version: 2\ndefault_action: deny\ncommands:\n  - name: {helper_text}\n    keys:          [\"prod/api/*\"]\nenv_aliases:\n  prod:\n    - {{ pattern: \"api/*\", target: \"prod/api/*\" }}\n"
    );
    write_policy(&s.dir, &text);
    s.cli(&["policy", "approve", "--yes"], None)
        .ok("policy approve");

    let (out, stderr) = s.client_with_env(
        json!({ "calls": [
            call("secret_run", json!({ "keys": ["api/token"], "env": "prod",
                "command": helper_text, "args": helper_args("helper_print_secrets") })),
            call("secret_run", json!({ "keys": ["api/token"], "env": "staging",
                "command": helper_text, "args": helper_args("helper_print_secrets") })),
            call("secret_run", json!({ "keys": ["api/token"],
                "command": helper_text, "args": helper_args("helper_print_secrets") })),
        ]}),
        json!({ "SECRETCTL_PASSWORD": PASSWORD }),
    );
    assert!(
        stderr.contains("warning: SECRETCTL_PASSWORD is set")
            && stderr.contains("plain text in the MCP client's configuration"),
        "{stderr}"
    );
    assert!(!out.to_string().contains(TOKEN), "{out}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    let r = out["results"].as_array().expect("results");
    let stdout = ok(&r[0])["stdout"].as_str().unwrap().to_owned();
    assert!(
        stdout.contains("API_TOKEN=[REDACTED:API_TOKEN]"),
        "the variable keeps the asked-for name: {stdout}"
    );
    tool_error(&r[1], "no env_aliases entry 'staging'");
    // Without the alias, api/token does not exist.
    tool_error(&r[2], "api/token");

    let records = s.audit();
    let allowed = records
        .iter()
        .find(|a| a["action"] == "run" && a["success"] == true)
        .expect("the allowed run is recorded");
    assert_eq!(allowed["source"], "mcp", "{allowed}");
    assert_eq!(allowed["detail"]["env_alias"], "prod", "{allowed}");
    let denied = records
        .iter()
        .find(|a| a["action"] == "run" && a["detail"]["reason"] == "unknown_alias")
        .expect("the unknown alias is recorded");
    assert_eq!(denied["success"], false);

    // A wrong password: the server says so before any protocol traffic, exit 3.
    let out = run(
        {
            let mut c = Command::new(bin());
            c.arg("--vault-dir")
                .arg(&s.dir)
                .arg("mcp-server")
                .env_clear()
                .env("PATH", CLEAN_PATH)
                .env("RUST_BACKTRACE", "0")
                .env("SECRETCTL_PASSWORD", "not the password");
            c
        },
        Some(b""),
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("wrong master password"),
        "{}",
        out.stderr
    );
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
        .env("PATH", CLEAN_PATH)
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
