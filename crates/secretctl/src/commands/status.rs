//! `secretctl status`: whether the session agent is unlocked, and the time left.

use crate::agent::client::AgentClient;
use crate::cli::{Global, JsonArg};
use crate::failure::{Failure, Result};
use crate::io;

pub fn run(g: &Global, a: JsonArg) -> Result<()> {
    let client = AgentClient::find(&g.vault_dir()).map_err(crate::access::client_failure)?;
    let status = match client {
        Some(c) => c
            .status()
            .map_err(|_| Failure::failed("the session agent did not answer"))?,
        None => None,
    };
    if a.json {
        return io::out_json(&match &status {
            Some(s) => serde_json::json!({
                "unlocked": true,
                "pid": s.pid,
                "idle_secs_left": s.idle_secs_left,
                "max_secs_left": s.max_secs_left,
                "reveal_secs_left": s.reveal_secs_left,
            }),
            None => serde_json::json!({ "unlocked": false }),
        });
    }
    match status {
        Some(s) => io::outln(&format!(
            "unlocked: locks in {} s without use, {} s at the latest{}",
            s.idle_secs_left,
            s.max_secs_left,
            s.reveal_secs_left
                .map(|r| format!("; plaintext reads allowed for {r} s"))
                .unwrap_or_default()
        )),
        None => io::outln("locked"),
    }
}
