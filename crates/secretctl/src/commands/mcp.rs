//! `secretctl mcp install`: adds secretctl's MCP server to an AI client's configuration.
//!
//! The entry runs this binary (its canonical path) as `secretctl mcp-server`, with the vault
//! directory in `SECRETCTL_HOME` when it is not the default. It never holds a password: the
//! server reaches the vault through the session agent (`secretctl unlock`). A
//! `SECRETCTL_PASSWORD` found in an existing secretctl entry is removed, with a note. The file is
//! backed up first (`FILE.bak-TIMESTAMP`, 0600) and replaced atomically; other entries and
//! settings are kept (JSON key order is not: the file is rewritten with sorted keys).

use crate::cli::{Global, McpClient, McpCommand, McpInstallArgs};
use crate::failure::{Failure, Result};
use crate::io;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The name of our entry in `mcpServers`.
const SERVER_NAME: &str = "secretctl";

/// Configuration files are small; a larger one is not what we think it is.
const MAX_CONFIG: usize = 64 * 1024 * 1024;

pub fn run(g: &Global, command: McpCommand) -> Result<()> {
    match command {
        McpCommand::Install(a) => install(g, a),
    }
}

/// Where each client keeps its MCP servers.
fn default_config(client: McpClient) -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| Failure::usage("HOME is not set; give the file with --config"))?;
    Ok(match client {
        McpClient::ClaudeCode => home.join(".claude.json"),
        McpClient::Cursor => home.join(".cursor").join("mcp.json"),
        McpClient::ClaudeDesktop if cfg!(target_os = "macos") => {
            home.join("Library/Application Support/Claude/claude_desktop_config.json")
        }
        McpClient::ClaudeDesktop => std::env::var_os("XDG_CONFIG_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"))
            .join("Claude")
            .join("claude_desktop_config.json"),
    })
}

fn install(g: &Global, a: McpInstallArgs) -> Result<()> {
    let path = match a.config {
        Some(p) => p,
        None => default_config(a.client)?,
    };
    let shown = path.display().to_string();
    let original = read_config(&path)?;
    let mut config = match &original {
        None => Value::Object(Map::new()),
        Some(bytes) => serde_json::from_slice::<Value>(bytes).map_err(|e| {
            Failure::failed(format!(
                "{shown} is not valid JSON ({e}); fix it or move it away, nothing was changed"
            ))
        })?,
    };
    let root = config
        .as_object_mut()
        .ok_or_else(|| Failure::failed(format!("{shown} does not hold a JSON object")))?;
    let servers = root
        .entry("mcpServers")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| Failure::failed(format!("{shown}: mcpServers is not a JSON object")))?;
    let had_password = servers
        .get(SERVER_NAME)
        .and_then(|e| e.get("env"))
        .and_then(Value::as_object)
        .is_some_and(|env| env.contains_key(crate::password::ENV_PASSWORD));
    let entry = server_entry(g, a.client)?;
    let changed = servers.get(SERVER_NAME) != Some(&entry);
    servers.insert(SERVER_NAME.into(), entry.clone());

    let mut text = serde_json::to_string_pretty(&config).expect("JSON values serialise");
    text.push('\n');
    if had_password {
        io::error_line(&format!(
            "note: removed SECRETCTL_PASSWORD from the existing secretctl entry in {shown}; run \
             `secretctl unlock` before starting the client"
        ));
    }
    if a.dry_run {
        let entry_text = serde_json::to_string_pretty(&json!({ SERVER_NAME: entry }))
            .expect("JSON values serialise");
        return io::outln(&format!(
            "would {} mcpServers.{SERVER_NAME} in {shown}:\n{entry_text}",
            if changed { "write" } else { "keep (unchanged)" }
        ));
    }
    if !changed {
        return io::outln(&format!("{shown} already runs secretctl; nothing changed"));
    }
    let backup = match &original {
        Some(bytes) => {
            let stamp = jiff::Timestamp::now()
                .strftime("%Y%m%dT%H%M%SZ")
                .to_string();
            let backup = PathBuf::from(format!("{shown}.bak-{stamp}"));
            io::write_private_file(&backup, bytes, false)?;
            Some(backup)
        }
        None => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Failure::failed(format!("{}: {e}", dir.display())))?;
            }
            None
        }
    };
    io::write_private_file(&path, text.as_bytes(), original.is_some())?;
    let mut report = format!("added secretctl's MCP server to {shown}");
    if let Some(b) = backup {
        report.push_str(&format!(" (previous file kept as {})", b.display()));
    }
    report.push_str(
        "\nnext: write mcp-policy.yaml, run `secretctl policy approve`, then `secretctl unlock` \
         before starting the client",
    );
    io::outln(&report)
}

/// The file's bytes, `None` when it does not exist. A symlink is refused: the write that
/// follows would replace the link, not the file it points to.
fn read_config(path: &Path) -> Result<Option<Vec<u8>>> {
    let shown = path.display();
    match path.symlink_metadata() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::failed(format!("{shown}: {e}"))),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Failure::failed(format!(
                "{shown} is a symlink; give the real file with --config"
            )));
        }
        Ok(m) if !m.is_file() => {
            return Err(Failure::failed(format!("{shown} is not a regular file")));
        }
        Ok(_) => {}
    }
    let file = std::fs::File::open(path).map_err(|e| Failure::failed(format!("{shown}: {e}")))?;
    io::read_bounded(file, MAX_CONFIG, &shown.to_string()).map(Some)
}

/// Our `mcpServers` entry: this binary, `mcp-server`, and the vault directory when it is not
/// the default one. Never a password.
fn server_entry(g: &Global, client: McpClient) -> Result<Value> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Failure::failed(format!("cannot find this program's path: {e}")))?;
    let exe = exe
        .to_str()
        .ok_or_else(|| Failure::failed("this program's path is not UTF-8"))?;
    let mut entry = Map::new();
    if client == McpClient::ClaudeCode {
        entry.insert("type".into(), "stdio".into());
    }
    entry.insert("command".into(), exe.into());
    entry.insert("args".into(), json!(["mcp-server"]));
    let dir = g.vault_dir();
    let default_dir = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".secretctl"));
    let mut env = Map::new();
    if Some(dir.root()) != default_dir.as_deref() {
        let dir = std::path::absolute(dir.root())
            .map_err(|e| Failure::failed(format!("{}: {e}", dir.root().display())))?;
        env.insert(
            "SECRETCTL_HOME".into(),
            dir.to_string_lossy().into_owned().into(),
        );
    }
    entry.insert("env".into(), Value::Object(env));
    Ok(Value::Object(entry))
}
