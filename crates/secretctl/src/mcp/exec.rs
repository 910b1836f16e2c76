//! `secret_run` and `secret_run_with_bindings` (SPEC §7.3).
//!
//! The agent decides (policy, approval, pinned binary, guards, keys, 4-byte minimum) and hands
//! back the canonical path, the rule's timeout and output mode, and the secrets
//! ([`Request::McpRun`]). Here the secrets become environment variables, the pinned path is
//! executed directly (never a PATH lookup) with [`RunOptions::mcp`] (minimal environment,
//! stdin `/dev/null`, no descriptors above 2, own process group, 1 MiB cap per stream, the
//! group killed on timeout), the output goes through the redactor before the cap, and the
//! rule's `output` mode is applied. At most [`MAX_RUNS`] runs at once.

use super::{Backend, VIA, ask_blocking, malformed};
use secretctl_core::agent::{self, McpRunGrant, Request};
use secretctl_core::environment;
use secretctl_core::redact::Redactor;
use secretctl_core::runner::{self, CancelToken, OutputFilter, RunOptions, Sink};
use secretctl_core::secret::Secret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Runs at once (SPEC §7.3).
pub const MAX_RUNS: usize = 5;

/// What a run tool asked for.
pub struct RunRequest {
    /// Key patterns.
    pub keys: Vec<String>,
    /// The command as asked.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// A duration string.
    pub timeout: Option<String>,
    /// Prefix of derived variable names.
    pub env_prefix: Option<String>,
    /// An `env_aliases` set of the approved policy.
    pub env: Option<String>,
    /// `secret_run_with_bindings`: the secret must have bindings (checked by the caller).
    pub bindings_only: bool,
}

/// Cancels the run when the tool call is dropped (client cancellation, server shutdown).
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs one request, waiting on the blocking pool; the 6th concurrent run is refused.
pub async fn run(
    backend: Backend,
    runs: Arc<tokio::sync::Semaphore>,
    request: RunRequest,
) -> Result<Value, String> {
    let permit = runs.try_acquire_owned().map_err(|_| {
        format!("{MAX_RUNS} runs are already in progress; wait for one to finish and try again")
    })?;
    let cancel = CancelOnDrop(CancelToken::new());
    let token = cancel.0.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        execute(&backend, request, token)
    })
    .await
    .map_err(|_| "internal error while running the command".to_string())?;
    drop(cancel);
    result
}

fn execute(backend: &Backend, request: RunRequest, cancel: CancelToken) -> Result<Value, String> {
    let requested_timeout = match &request.timeout {
        Some(t) => {
            Some(secretctl_core::duration::parse_duration(t).map_err(|e| format!("timeout: {e}"))?)
        }
        None => None,
    };
    if let Some(prefix) = &request.env_prefix {
        environment::check_prefix(prefix).map_err(|e| format!("env_prefix: {e}"))?;
    }
    let grant: McpRunGrant = ask_blocking(
        backend,
        Request::McpRun {
            command: request.command.clone(),
            args: request.args.clone(),
            keys: request.keys.clone(),
            env: request.env.clone(),
            via: VIA.into(),
        },
    )?;
    let secrets: Vec<Secret> = grant
        .found
        .into_iter()
        .map(|v| agent::secret_from_wire(v).ok_or_else(malformed))
        .collect::<Result<_, _>>()?;
    if request.bindings_only && secrets.iter().any(|s| s.bindings.is_empty()) {
        return Err("the secret has no bindings; use secret_run".into());
    }
    let output = parse_output(&grant.output).ok_or_else(malformed)?;
    let vars =
        environment::build(&secrets, request.env_prefix.as_deref()).map_err(|e| e.to_string())?;
    let mut extra_env: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::with_capacity(vars.len());
    // As for the CLI, only sensitive values are redacted: a host name is not a secret.
    let mut redact_values: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    for v in &vars {
        let value = Zeroizing::new(v.value.expose_bytes().to_vec());
        if v.value.expose_bytes().len() < 4 {
            // The agent refuses these already (SPEC §7.3); never inject one.
            return Err("a secret shorter than 4 bytes cannot be injected through MCP".into());
        }
        if v.sensitive {
            redact_values.push((v.name.clone(), value.clone()));
        }
        extra_env.push((v.name.clone(), value));
    }
    drop(vars);
    drop(secrets);
    let redactor = Arc::new(Redactor::new(
        redact_values
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice())),
    ));
    drop(redact_values);
    let make_filter = move || -> Box<dyn OutputFilter> { Box::new(redactor.stream_owned()) };

    let policy_timeout = Duration::from_millis(grant.timeout_ms);
    let timeout = requested_timeout.map_or(policy_timeout, |t| t.min(policy_timeout));
    let mut command = runner::Command::new(grant.canonical_path.into_os_string());
    command.args.extend(request.args.iter().map(Into::into));
    let opts = RunOptions {
        extra_env,
        timeout: Some(timeout),
        cancel: Some(cancel),
        ..RunOptions::mcp()
    };
    let outcome = runner::run(&command, &opts, Sink::Capture, Sink::Capture, &make_filter)
        .map_err(|e| e.to_string())?;
    let shape = |bytes: &[u8]| -> String {
        match output {
            Output::All => String::from_utf8_lossy(bytes).into_owned(),
            Output::Tail(n) => String::from_utf8_lossy(tail(bytes, n)).into_owned(),
            Output::Nothing => String::new(),
        }
    };
    Ok(json!({
        "exit_code": outcome.status.exit_code(),
        "stdout": shape(&outcome.stdout),
        "stderr": shape(&outcome.stderr),
        "duration_ms": u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        "timed_out": outcome.status == runner::Status::TimedOut,
        "truncated": outcome.stdout_truncated || outcome.stderr_truncated,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    All,
    Tail(usize),
    Nothing,
}

fn parse_output(text: &str) -> Option<Output> {
    match text {
        "redacted" => Some(Output::All),
        "none" => Some(Output::Nothing),
        _ => text
            .strip_prefix("tail:")
            .and_then(|n| n.parse().ok())
            .map(Output::Tail),
    }
}

/// The last `n` lines of `bytes` (a final line without a newline counts as a line).
fn tail(bytes: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &bytes[i + 1..];
            }
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(tail(b"a\nb\nc", 2), b"b\nc");
        assert_eq!(tail(b"a\nb\n", 5), b"a\nb\n");
        assert_eq!(tail(b"a\nb\n", 0), b"");
        assert_eq!(tail(b"", 1), b"");
    }

    #[test]
    fn output_modes_parse() {
        assert_eq!(parse_output("redacted"), Some(Output::All));
        assert_eq!(parse_output("none"), Some(Output::Nothing));
        assert_eq!(parse_output("tail:3"), Some(Output::Tail(3)));
        assert_eq!(parse_output("tail:x"), None);
        assert_eq!(parse_output("all"), None);
    }
}
