//! `secretctl folder`: organise secrets in folders (SPEC §3.3). Folders are for people; they
//! are not security boundaries, and deleting one never deletes a secret.

use super::time_json;
use crate::access::{self, Access, Need};
use crate::cli::{FolderCommand, Global};
use crate::failure::Result;
use crate::io;
use secretctl_core::agent::FolderOp;
use secretctl_core::secret::FolderPath;
use secretctl_core::vault::FolderInfo;

pub fn run(g: &Global, command: FolderCommand) -> Result<()> {
    // Paths are checked before the vault is opened, so a typo costs no password prompt.
    let path = |p: &str| -> Result<String> { Ok(FolderPath::parse(p)?.to_string()) };
    match command {
        FolderCommand::Create(a) => {
            let p = path(&a.path)?;
            access::open(g, Need::Agent)?.folder(FolderOp::Create { path: p.clone() })?;
            done(&format!("created folder {p}"))
        }
        FolderCommand::List(a) => {
            let body = access::open(g, Need::Agent)?.folder(FolderOp::List {})?;
            let folders = Access::folders(body)?;
            if a.json {
                return io::out_json(&folders.iter().map(folder_json).collect());
            }
            let mut text = String::new();
            for f in &folders {
                let depth = f.path.names().len() - 1;
                text.push_str(&format!(
                    "{}{}/  ({} secret{}, {} folder{})\n",
                    "  ".repeat(depth),
                    f.path.name(),
                    f.secrets,
                    plural(f.secrets),
                    f.subfolders,
                    plural(f.subfolders)
                ));
            }
            io::out(text.as_bytes())
        }
        FolderCommand::Info(a) => {
            let p = path(&a.path)?;
            let body = access::open(g, Need::Agent)?.folder(FolderOp::Info { path: p })?;
            let folders = Access::folders(body)?;
            let Some(f) = folders.first() else {
                return Err(crate::failure::Failure::failed(
                    "session agent: malformed reply",
                ));
            };
            if a.json {
                return io::out_json(&folder_json(f));
            }
            io::outln(&format!(
                "path: {}\nsecrets: {}\nfolders: {}\ncreated: {}\nupdated: {}",
                f.path,
                f.secrets,
                f.subfolders,
                super::time_or_dash(f.created_at),
                super::time_or_dash(f.updated_at)
            ))
        }
        FolderCommand::Rename(a) => {
            let p = path(&a.path)?;
            secretctl_core::secret::check_folder_name(&a.name)?;
            access::open(g, Need::Agent)?.folder(FolderOp::Rename {
                path: p.clone(),
                name: a.name.clone(),
            })?;
            done(&format!("renamed folder {p} to {}", a.name))
        }
        FolderCommand::Move(a) => {
            let p = path(&a.path)?;
            let to = if a.to == "/" {
                None
            } else {
                Some(path(&a.to)?)
            };
            access::open(g, Need::Agent)?.folder(FolderOp::Move {
                path: p.clone(),
                to: to.clone(),
            })?;
            done(&format!(
                "moved folder {p} to {}",
                to.as_deref().unwrap_or("the top level")
            ))
        }
        FolderCommand::Delete(a) => {
            let p = path(&a.path)?;
            let body = access::open(g, Need::Agent)?.folder(FolderOp::Delete {
                path: p.clone(),
                force: a.force,
            })?;
            let released = body.as_u64().unwrap_or(0);
            done(&format!(
                "deleted folder {p}; {released} secret{} taken out of folders",
                plural(released as usize)
            ))
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A confirmation line, for people only: scripts get silence on success.
fn done(line: &str) -> Result<()> {
    if io::stdout_is_terminal() {
        io::outln(line)?;
    }
    Ok(())
}

fn folder_json(f: &FolderInfo) -> serde_json::Value {
    serde_json::json!({
        "path": f.path.to_string(),
        "name": f.path.name(),
        "secrets": f.secrets,
        "subfolders": f.subfolders,
        "created_at": time_json(f.created_at),
        "updated_at": time_json(f.updated_at),
    })
}
