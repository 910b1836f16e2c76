//! `secretctl unlock`: start the session agent, or extend the running one (SPEC §9).

use crate::agent::client::AgentClient;
use crate::cli::{Global, UnlockArgs};
use crate::failure::{EXIT_AUTH, EXIT_USAGE, EXIT_VAULT, Failure, Result};
use crate::{io, password};
use secretctl_core::agent::Request;
use secretctl_core::audit::Source;
use secretctl_core::duration::parse_duration;
use secretctl_core::vault::Vault;

pub fn run(g: &Global, a: UnlockArgs) -> Result<()> {
    let ttl = parse_duration(&a.ttl)?.as_secs().max(1);
    let max = parse_duration(&a.max)?.as_secs().max(1);
    let reveal = a
        .allow_reveal
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .map(|d| d.as_secs());
    let dir = g.vault_dir();
    let vault = Vault::open(&dir)?;
    let client = AgentClient::find(&dir).map_err(crate::access::client_failure)?;
    let pw = password::current(g)?;
    if let Some(client) = client
        && let Ok(Some(status)) = client.status()
    {
        // An agent runs: prove the password (paying the KDF here) and extend it.
        let session = vault.unlock(&pw, Source::Cli)?;
        let nonce = hex::decode(&status.nonce).unwrap_or_default();
        let proof = hex::encode(session.agent_proof(&nonce));
        drop(session);
        client
            .request::<serde::de::IgnoredAny>(Request::Extend {
                proof,
                ttl_secs: ttl,
                max_secs: max,
                reveal_secs: reveal,
            })
            .map_err(|_| Failure::auth("the session agent refused to extend the session"))?;
        return io::outln(&format!(
            "unlocked (extended): locks after {} without use, at the latest in {}",
            a.ttl, a.max
        ));
    }
    drop(vault);
    start_agent(g, &pw, ttl, max, reveal.unwrap_or(0))?;
    io::outln(&format!(
        "unlocked: locks after {} without use, at the latest in {}{}",
        a.ttl,
        a.max,
        a.allow_reveal
            .as_deref()
            .map(|r| format!("; plaintext reads allowed for {r}"))
            .unwrap_or_default()
    ))
}

/// Starts `secretctl agent-serve` in its own process group (a closing terminal does not stop
/// it), hands it the password on a pipe, and waits for its one line: `ready` or an error.
fn start_agent(
    g: &Global,
    pw: &secretctl_core::crypto::Passphrase,
    ttl: u64,
    max: u64,
    reveal: u64,
) -> Result<()> {
    let mut command = crate::detached::command()?;
    command
        .arg("--vault-dir")
        .arg(g.vault_dir().root())
        .args([
            "agent-serve",
            "--ttl",
            &ttl.to_string(),
            "--max",
            &max.to_string(),
        ])
        .args(["--allow-reveal", &reveal.to_string()]);
    let (mut child, line) =
        crate::detached::start(command, &[pw.expose_for_handoff(), b"\n"], "session agent")?;
    let line = line.as_str();
    if line == "ready" {
        return Ok(());
    }
    let _ = child.wait();
    let rest = line
        .strip_prefix("error ")
        .unwrap_or("failed the session agent did not start");
    let (kind, message) = rest.split_once(' ').unwrap_or((rest, ""));
    let code = match kind {
        "auth" => EXIT_AUTH,
        "vault" => EXIT_VAULT,
        "usage" => EXIT_USAGE,
        _ => crate::failure::EXIT_FAILED,
    };
    Err(Failure::new(code, message.to_owned()))
}
