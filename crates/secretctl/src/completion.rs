//! Shell completion of key names (SPEC §4): the shell calls back into `secretctl` (clap's
//! dynamic completion, registered by `secretctl completion SHELL`), and key names come from an
//! unlocked session agent only. Completion never asks for a password and never unlocks; with
//! no agent it offers no names. The vault is the default one (`$SECRETCTL_HOME` or
//! `~/.secretctl`): `--vault-dir` on the line being completed is not seen.

use crate::agent::client::AgentClient;
use clap_complete::engine::CompletionCandidate;
use secretctl_core::agent::{Request, WireSummary};
use std::ffi::OsStr;

/// The environment variable through which the shell asks for completions.
pub const VAR: &str = "SECRETCTL_COMPLETE";

/// Key names starting with `current`, from the unlocked agent.
pub fn keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let global = crate::cli::Global::from_env();
    let Ok(Some(client)) = AgentClient::find(&global.vault_dir()) else {
        return Vec::new();
    };
    let Ok(items) = client.request::<Vec<WireSummary>>(Request::List {
        tag: None,
        expiring_before_ms: None,
        folder: None,
        via: "completion".into(),
    }) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(WireSummary::into_summary)
        .map(|s| s.name.to_string())
        .filter(|name| name.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
