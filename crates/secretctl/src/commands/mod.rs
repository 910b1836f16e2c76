//! One module per subcommand; `run` dispatches to them.

mod audit;
mod backup;
mod completion;
mod delete;
mod doctor;
mod export;
mod folder;
mod generate;
mod get;
mod import;
mod init;
mod inject;
mod list;
mod lock;
mod mcp;
mod password;
mod policy;
mod redact;
mod restore;
mod run;
mod security;
mod set;
mod status;
mod unlock;
mod version;

use crate::cli::{Cli, Command};
use crate::failure::Result;
use std::process::ExitCode;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Init => init::run(g),
        Command::Set(a) => set::run(g, a),
        Command::Get(a) => get::run(g, a),
        Command::List(a) => list::run(g, a),
        Command::Delete(a) => delete::run(g, a),
        Command::Run(a) => return run::run(g, a),
        Command::Redact(a) => redact::run(g, a),
        Command::Export(a) => export::run(g, a),
        Command::Import(a) => import::run(g, a),
        Command::Inject(a) => inject::run(g, a),
        Command::Backup(a) => backup::run(g, a),
        Command::Restore(a) => restore::run(g, a),
        Command::Unlock(a) => unlock::run(g, a),
        Command::Lock => lock::run(g),
        Command::Status(a) => status::run(g, a),
        Command::AgentServe(a) => return Ok(crate::agent::server::serve(g, a)),
        Command::Audit(a) => audit::run(g, a),
        Command::Password(a) => password::run(g, a),
        Command::Policy(a) => policy::run(g, a),
        Command::Generate(a) => generate::run(a),
        Command::Security(a) => security::run(g, a),
        Command::ClipboardHold(a) => return Ok(crate::clipboard::hold(a)),
        Command::McpServer => return crate::mcp::serve(g),
        Command::Mcp(a) => mcp::run(g, a),
        Command::Folder(a) => folder::run(g, a),
        Command::Doctor(a) => return doctor::run(g, a),
        Command::Version(a) => version::run(a),
        Command::Completion(a) => completion::run(a),
        Command::Man(a) => completion::man(a),
    }
    .map(|()| ExitCode::SUCCESS)
}

/// `1 secret`, `2 secrets`.
fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// RFC 3339 text of an optional time, or `-`.
fn time_or_dash(t: Option<jiff::Timestamp>) -> String {
    t.map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_else(|| "-".into())
}

fn time_json(t: Option<jiff::Timestamp>) -> serde_json::Value {
    t.map(|t| serde_json::Value::String(t.to_string()))
        .unwrap_or(serde_json::Value::Null)
}

/// The metadata of a secret as JSON (no value).
fn meta_json(
    name: &str,
    meta: &secretctl_core::secret::SecretMeta,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("key".into(), name.into());
    m.insert("tags".into(), meta.tags.clone().into());
    m.insert("notes".into(), meta.notes.clone().into());
    m.insert("url".into(), meta.url.clone().into());
    m.insert("expires_at".into(), time_json(meta.expires_at));
    m.insert("created_at".into(), time_json(meta.created_at));
    m.insert("updated_at".into(), time_json(meta.updated_at));
    m.insert(
        "folder".into(),
        meta.folder.as_ref().map(ToString::to_string).into(),
    );
    m
}

/// A listing entry as JSON, as `list --json` and the MCP tools show it: the metadata without
/// notes or URL text (only whether there are any) and the number of fields.
pub(crate) fn summary_json(
    s: &secretctl_core::secret::SecretSummary,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = meta_json(s.name.as_str(), &s.meta);
    m.remove("notes");
    m.remove("url");
    m.insert("has_notes".into(), s.meta.notes.is_some().into());
    m.insert("has_url".into(), s.meta.url.is_some().into());
    m.insert("field_count".into(), s.field_count.into());
    m
}

fn parse_key(input: &str) -> Result<secretctl_core::secret::KeyName> {
    Ok(secretctl_core::secret::KeyName::parse(input)?)
}

fn parse_patterns(args: &[String]) -> Result<Vec<secretctl_core::pattern::Pattern>> {
    args.iter()
        .map(|p| Ok(secretctl_core::pattern::Pattern::parse(p)?))
        .collect()
}

/// The patterns given, or every key (`**`) when none.
fn patterns_or_all(args: &[String]) -> Result<Vec<secretctl_core::pattern::Pattern>> {
    if args.is_empty() {
        return parse_patterns(&["**".to_owned()]);
    }
    parse_patterns(args)
}
