//! `secretctl mcp install` (issue 5): writes an MCP client's configuration pointing at
//! `secretctl mcp-server`, keeps everything else in the file, backs it up first, never writes a
//! password (and removes one an old entry held), and refuses what it cannot safely edit.

mod harness;

use harness::{Output, bin, run};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn install(home: &Path, vault: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(bin());
    if let Some(v) = vault {
        c.arg("--vault-dir").arg(v);
    }
    c.args(["mcp", "install"])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("RUST_BACKTRACE", "0");
    run(c, None)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read config")).expect("config is JSON")
}

fn backups(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}.bak-"))
        })
        .collect()
}

#[test]
fn claude_code_entry_replaces_a_password_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let config = home.join(".claude.json");
    let original = json!({
        "numStartups": 12,
        "projects": { "/src/app": { "allowedTools": [] } },
        "mcpServers": {
            "other": { "command": "/usr/bin/other", "args": [] },
            "secretctl": { "command": "secretctl", "args": ["mcp-server"],
                           "env": { "SECRETCTL_PASSWORD": "hunter2-in-plain-text" } }
        }
    });
    let original_text = serde_json::to_string_pretty(&original).unwrap();
    std::fs::write(&config, &original_text).unwrap();
    let vault = home.join("vaults/main");

    // --dry-run shows the entry and touches nothing.
    let out = install(
        home,
        Some(&vault),
        &["--client", "claude-code", "--dry-run"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("\"mcp-server\""), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original_text);
    assert!(backups(home, ".claude.json").is_empty());

    let out = install(home, Some(&vault), &["--client", "claude-code"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("removed SECRETCTL_PASSWORD"),
        "{}",
        out.stderr
    );
    let written = read_json(&config);
    let entry = &written["mcpServers"]["secretctl"];
    let exe = std::fs::canonicalize(bin()).unwrap();
    assert_eq!(entry["command"], exe.to_str().unwrap());
    assert_eq!(entry["args"], json!(["mcp-server"]));
    assert_eq!(entry["type"], "stdio");
    assert_eq!(
        entry["env"],
        json!({ "SECRETCTL_HOME": vault.to_str().unwrap() })
    );
    assert!(!written.to_string().contains("hunter2"));
    assert_eq!(
        written["mcpServers"]["other"],
        original["mcpServers"]["other"]
    );
    assert_eq!(written["numStartups"], 12);
    assert_eq!(written["projects"], original["projects"]);

    // The previous file is kept byte for byte, private.
    let saved = backups(home, ".claude.json");
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read_to_string(&saved[0]).unwrap(), original_text);
    let mode = std::fs::metadata(&saved[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Running it again changes nothing and makes no second backup.
    let out = install(home, Some(&vault), &["--client", "claude-code"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    assert_eq!(backups(home, ".claude.json").len(), 1);
}

#[test]
fn cursor_and_claude_desktop_files_are_created_where_the_clients_look() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let out = install(home, None, &["--client", "cursor"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let cursor = read_json(&home.join(".cursor/mcp.json"));
    assert_eq!(
        cursor["mcpServers"]["secretctl"]["args"],
        json!(["mcp-server"])
    );
    // The default vault needs no SECRETCTL_HOME, and Cursor's entry has no "type".
    assert_eq!(cursor["mcpServers"]["secretctl"]["env"], json!({}));
    assert!(cursor["mcpServers"]["secretctl"].get("type").is_none());

    let out = install(home, None, &["--client", "claude-desktop"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let desktop = read_json(&home.join(".config/Claude/claude_desktop_config.json"));
    assert_eq!(
        desktop["mcpServers"]["secretctl"]["command"],
        std::fs::canonicalize(bin()).unwrap().to_str().unwrap()
    );
}

#[test]
fn unsafe_or_broken_configs_are_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let broken = home.join("broken.json");
    std::fs::write(&broken, "{ \"mcpServers\": ").unwrap();
    let out = install(
        home,
        None,
        &["--client", "cursor", "--config", broken.to_str().unwrap()],
    );
    let line = out.failure(1, "malformed JSON");
    assert!(line.contains("is not valid JSON"), "{line}");
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "{ \"mcpServers\": "
    );

    let target = home.join("real.json");
    std::fs::write(&target, "{}").unwrap();
    let link = home.join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = install(
        home,
        None,
        &["--client", "cursor", "--config", link.to_str().unwrap()],
    );
    let line = out.failure(1, "symlink");
    assert!(line.contains("is a symlink"), "{line}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");

    let array = home.join("array.json");
    std::fs::write(&array, "[]").unwrap();
    let out = install(
        home,
        None,
        &["--client", "cursor", "--config", array.to_str().unwrap()],
    );
    let line = out.failure(1, "not an object");
    assert!(line.contains("does not hold a JSON object"), "{line}");
}
