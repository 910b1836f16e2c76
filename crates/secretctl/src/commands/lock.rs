//! `secretctl lock`: stop the session agent; it wipes its keys and records why.

use crate::agent::client::{AgentClient, ClientError};
use crate::cli::Global;
use crate::failure::{Failure, Result};
use crate::io;
use secretctl_core::agent::Request;

pub fn run(g: &Global) -> Result<()> {
    let client = AgentClient::find(&g.vault_dir()).map_err(crate::access::client_failure)?;
    match client.map(|c| c.request::<serde::de::IgnoredAny>(Request::Lock {})) {
        Some(Ok(_)) => io::outln("locked"),
        Some(Err(ClientError::NotRunning)) | None => {
            io::outln("locked (no session agent was running)")
        }
        Some(Err(_)) => Err(Failure::failed("the session agent did not answer")),
    }
}
