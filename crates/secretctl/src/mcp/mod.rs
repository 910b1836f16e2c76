//! `secretctl mcp-server` (SPEC §7): the MCP tools over stdio, with the official Rust SDK
//! (`rmcp` 3.11).
//!
//! - stdout carries protocol messages only (`print_stdout` is denied in this module); nothing is
//!   logged on stdout. rmcp logs through `tracing`, and no subscriber is installed, so it is
//!   silent; our own diagnostics go to stderr.
//! - An incoming line (one JSON-RPC message) is capped at [`MAX_LINE`] instead of rmcp's 16 MiB
//!   default; a longer line is dropped by the transport and the server keeps serving.
//! - The vault is reached through the session agent (SPEC §9); with no unlocked agent every
//!   tool answers with [`LOCKED`]. For compatibility, when a password file or
//!   `SECRETCTL_PASSWORD` is configured the server unlocks the vault itself at start and answers
//!   with the agent's own request handling in-process ([`InProcess`]): the same policy checks
//!   and audit records. `SECRETCTL_PASSWORD` gets a warning on stderr, because the password then
//!   sits in plain text in the client's configuration.
//! - Requests are blocking calls, run on tokio's blocking pool.
//!
//! Tools: `secret_list`, `secret_exists`, `secret_get_masked`, `secret_list_fields`,
//! `secret_get_field`, `security_score`, `folder_list` (read-only), `secret_run` and `secret_run_with_bindings`
//! (see [`exec`]).
//! No tool returns a sensitive value.
#![deny(clippy::print_stdout)]

mod exec;

use crate::agent::client::{AgentClient, ClientError};
use crate::agent::server::InProcess;
use crate::cli::Global;
use crate::failure::{Failure, Result};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use secretctl_core::agent::{self, ErrorKind, FolderOp, Request};
use secretctl_core::audit::Source;
use secretctl_core::secret::{Bindings, FieldView, KeyName, SecretSummary, shown};
use secretctl_core::vault::{Vault, VaultDir};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::sync::Arc;

/// The longest incoming JSON-RPC line; requests are small (a command line and key names).
pub const MAX_LINE: usize = 1024 * 1024;

/// What every tool answers while no unlocked session agent serves the vault.
pub const LOCKED: &str = "the vault is locked: ask the user to run `secretctl unlock`";

/// The interface name the agent records.
const VIA: &str = "mcp";

/// Where requests go.
#[derive(Clone)]
pub enum Backend {
    /// The vault's session agent, found anew for every request.
    Agent(VaultDir),
    /// A session this process unlocked with a configured password.
    Local(Arc<std::sync::Mutex<InProcess>>),
}

const PASSWORD_WARNING: &str = "secretctl mcp-server: warning: SECRETCTL_PASSWORD is set, so the \
     master password sits in plain text in the MCP client's configuration; run `secretctl unlock` \
     instead and remove it from there";

/// `secretctl mcp-server`: serves until the client closes stdin.
pub fn serve(g: &Global) -> Result<ExitCode> {
    let dir = g.vault_dir();
    // A missing or damaged vault, or a wrong configured password, is reported before any
    // protocol traffic.
    let vault = Vault::open(&dir)?;
    let backend = match crate::password::configured_current(g)? {
        Some(password) => {
            if g.password_file().is_none() {
                crate::io::error_line(PASSWORD_WARNING);
            }
            let session = vault.unlock(&password, Source::Mcp)?;
            Backend::Local(Arc::new(std::sync::Mutex::new(InProcess::new(session))))
        }
        None => {
            drop(vault);
            Backend::Agent(dir)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the MCP server: {e}")))?;
    let outcome = runtime.block_on(async move {
        let transport = AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout())
            .with_max_line_length(MAX_LINE);
        let running = SecretServer::new(backend)
            .serve(transport)
            .await
            .map_err(|e| Failure::failed(format!("MCP initialization failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Failure::failed(format!("the MCP server failed: {e}")))?;
        Ok::<(), Failure>(())
    });
    // Dropping the tool calls still in flight cancels their runs; wait (bounded) for the run
    // threads to terminate each child's process group (TERM, KILL after the grace period).
    // Exiting at once would leave the group to PR_SET_PDEATHSIG, which reaches only the
    // direct child. A blocking stdin read cannot be cancelled: the bound keeps it from
    // holding the exit.
    runtime.shutdown_timeout(
        secretctl_core::runner::DEFAULT_KILL_GRACE + std::time::Duration::from_secs(2),
    );
    outcome.map(|()| ExitCode::SUCCESS)
}

/// The MCP server state: where requests go, and the run limiter.
#[derive(Clone)]
pub struct SecretServer {
    backend: Backend,
    runs: Arc<tokio::sync::Semaphore>,
    tool_router: ToolRouter<SecretServer>,
}

/// Sends one request to the vault's agent, or answers it in-process (blocking).
fn ask_blocking<T: serde::de::DeserializeOwned>(
    backend: &Backend,
    request: Request,
) -> std::result::Result<T, String> {
    let dir = match backend {
        Backend::Agent(dir) => dir,
        Backend::Local(held) => {
            let reply = held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .request(request);
            return if reply.ok {
                reply
                    .decode()
                    .ok_or_else(|| "session agent: malformed reply".to_string())
            } else {
                Err(reply.message.unwrap_or_else(|| "the request failed".into()))
            };
        }
    };
    let client = match AgentClient::find(dir) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(LOCKED.into()),
        Err(e) => return Err(client_message(e)),
    };
    client.request(request).map_err(client_message)
}

fn client_message(e: ClientError) -> String {
    match e {
        ClientError::NotRunning | ClientError::Refused(ErrorKind::Locked, _) => LOCKED.into(),
        ClientError::Unsafe(m) | ClientError::Refused(_, m) => m,
        ClientError::Protocol(m) => format!("session agent: {m}"),
    }
}

fn malformed() -> String {
    "the session agent sent a malformed reply".into()
}

fn time_json(t: Option<jiff::Timestamp>) -> Value {
    t.map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// A secret's metadata as the tools show it: no value, no notes or URL text (as `list --json`).
fn meta_json(summary: &SecretSummary) -> Map<String, Value> {
    crate::commands::summary_json(summary)
}

fn parse_key(key: &str) -> std::result::Result<KeyName, String> {
    KeyName::parse(key).map_err(|e| e.to_string())
}

/// `secret_list` input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListParams {
    /// Only secrets with this tag.
    pub tag: Option<String>,
    /// Only secrets expiring within this duration (e.g. "30d", "12h"); expired ones included.
    pub expiring_within: Option<String>,
    /// Only secrets in this folder (e.g. "Work/AWS") or a folder below it.
    pub folder: Option<String>,
}

/// Input naming one secret.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyParams {
    /// The secret's key name.
    pub key: String,
}

/// `secret_get_field` input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FieldParams {
    /// The secret's key name.
    pub key: String,
    /// The field name (or one of its aliases).
    pub field: String,
}

/// `secret_run` input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunParams {
    /// Secrets to inject: key names or globs (`aws/*`); each must be allowed for the command by
    /// the approved MCP policy.
    pub keys: Vec<String>,
    /// The program: a name the policy lists, or an absolute path it approved. No shell.
    pub command: String,
    /// Its arguments, passed as they are (never through a shell).
    #[serde(default)]
    pub args: Vec<String>,
    /// Longest run, e.g. "30s"; capped by the policy's timeout for the command.
    pub timeout: Option<String>,
    /// Prefix for the derived environment variable names (not for explicit bindings).
    pub env_prefix: Option<String>,
    /// An `env_aliases` set of the approved policy (e.g. "prod"): the keys are read through
    /// its rules (`db/*` from `db/prod/*`) and the variables keep the names asked for.
    pub env: Option<String>,
}

/// `secret_run_with_bindings` input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct BindingsRunParams {
    /// A multi-field secret with bindings (ENV → field); its bound fields are injected.
    pub key: String,
    /// The program: a name the policy lists, or an absolute path it approved. No shell.
    pub command: String,
    /// Its arguments, passed as they are (never through a shell).
    #[serde(default)]
    pub args: Vec<String>,
    /// Longest run, e.g. "30s"; capped by the policy's timeout for the command.
    pub timeout: Option<String>,
}

type ToolResult = std::result::Result<CallToolResult, String>;

#[tool_router(router = tool_router)]
impl SecretServer {
    /// A server answering through `backend`.
    pub fn new(backend: Backend) -> SecretServer {
        SecretServer {
            backend,
            runs: Arc::new(tokio::sync::Semaphore::new(exec::MAX_RUNS)),
            tool_router: Self::tool_router(),
        }
    }

    async fn ask<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        request: Request,
    ) -> std::result::Result<T, String> {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || ask_blocking(&backend, request))
            .await
            .map_err(|_| "internal error while asking the session agent".to_string())?
    }

    async fn masked(
        &self,
        key: &str,
    ) -> std::result::Result<(SecretSummary, Vec<FieldView>, Bindings), String> {
        let key = parse_key(key)?;
        let body = self
            .ask(Request::GetMasked {
                key: key.to_string(),
                via: VIA.into(),
            })
            .await?;
        agent::masked_from_wire(body).ok_or_else(malformed)
    }

    async fn summaries(
        &self,
        tag: Option<String>,
        expiring_before_ms: Option<i64>,
        folder: Option<String>,
    ) -> std::result::Result<Vec<SecretSummary>, String> {
        let items: Vec<agent::WireSummary> = self
            .ask(Request::List {
                tag,
                expiring_before_ms,
                folder,
                via: VIA.into(),
            })
            .await?;
        items
            .into_iter()
            .map(|w| w.into_summary().ok_or_else(malformed))
            .collect()
    }

    /// List secrets: key names with tags, expiry, field count, has_notes, has_url and
    /// timestamps. Never values.
    #[tool(annotations(title = "List secrets", read_only_hint = true))]
    async fn secret_list(&self, Parameters(p): Parameters<ListParams>) -> ToolResult {
        let expiring_before_ms = match &p.expiring_within {
            Some(d) => {
                let d = secretctl_core::duration::parse_duration(d)
                    .map_err(|e| format!("expiring_within: {e}"))?;
                let d = jiff::SignedDuration::try_from(d)
                    .map_err(|_| "expiring_within is too long".to_string())?;
                let at = jiff::Timestamp::now()
                    .checked_add(d)
                    .map_err(|_| "expiring_within is too long".to_string())?;
                Some(at.as_millisecond())
            }
            None => None,
        };
        let list = self.summaries(p.tag, expiring_before_ms, p.folder).await?;
        let secrets: Vec<Value> = list.iter().map(|s| Value::Object(meta_json(s))).collect();
        Ok(CallToolResult::structured(json!({ "secrets": secrets })))
    }

    /// Whether a secret exists, with its metadata when it does. Never values.
    #[tool(annotations(title = "Check a secret exists", read_only_hint = true))]
    async fn secret_exists(&self, Parameters(p): Parameters<KeyParams>) -> ToolResult {
        let key = parse_key(&p.key)?;
        let list = self.summaries(None, None, None).await?;
        let mut out = Map::new();
        match list.iter().find(|s| s.name == key) {
            Some(s) => {
                out.insert("exists".into(), true.into());
                out.extend(meta_json(s));
            }
            None => {
                out.insert("exists".into(), false.into());
                out.insert("key".into(), key.to_string().into());
            }
        }
        Ok(CallToolResult::structured(Value::Object(out)))
    }

    /// A secret's masked value and length bucket, and per field: non-sensitive values in
    /// full, sensitive ones masked (no characters under 16, at most the last 4 otherwise).
    #[tool(annotations(title = "Show a secret masked", read_only_hint = true))]
    async fn secret_get_masked(&self, Parameters(p): Parameters<KeyParams>) -> ToolResult {
        let (summary, views, _) = self.masked(&p.key).await?;
        let mut out = meta_json(&summary);
        let main = views
            .iter()
            .find(|v| v.name == secretctl_core::secret::VALUE_FIELD);
        out.insert(
            "masked".into(),
            main.map(|v| v.masked.masked.clone().into())
                .unwrap_or(Value::Null),
        );
        out.insert(
            "length".into(),
            main.map(|v| v.masked.length.clone().into())
                .unwrap_or(Value::Null),
        );
        let fields: Vec<Value> = views
            .iter()
            .map(|v| {
                let mut f = Map::new();
                f.insert("name".into(), v.name.clone().into());
                f.insert("sensitive".into(), v.sensitive.into());
                if !v.sensitive
                    && let Some(value) = &v.value
                {
                    f.insert("value".into(), value.clone().into());
                }
                f.insert("masked".into(), v.masked.masked.clone().into());
                f.insert("length".into(), v.masked.length.clone().into());
                Value::Object(f)
            })
            .collect();
        out.insert("fields".into(), fields.into());
        Ok(CallToolResult::structured(Value::Object(out)))
    }

    /// A secret's fields: names, sensitivity, kind, hint, aliases and the environment
    /// variables bound to each. No values.
    #[tool(annotations(title = "List a secret's fields", read_only_hint = true))]
    async fn secret_list_fields(&self, Parameters(p): Parameters<KeyParams>) -> ToolResult {
        let (summary, views, bindings) = self.masked(&p.key).await?;
        let fields: Vec<Value> = views
            .iter()
            .map(|v| {
                let bound: Vec<&String> = bindings
                    .iter()
                    .filter(|(_, field)| **field == v.name)
                    .map(|(env, _)| env)
                    .collect();
                json!({
                    "name": v.name,
                    "sensitive": v.sensitive,
                    "kind": v.kind,
                    "hint": v.hint,
                    "aliases": v.aliases,
                    "bindings": bound,
                })
            })
            .collect();
        Ok(CallToolResult::structured(json!({
            "key": summary.name.to_string(),
            "fields": fields,
        })))
    }

    /// The value of a non-sensitive field (a host, a user name, a port). Sensitive fields are
    /// refused.
    #[tool(annotations(title = "Read a non-sensitive field", read_only_hint = true))]
    async fn secret_get_field(&self, Parameters(p): Parameters<FieldParams>) -> ToolResult {
        let (summary, views, _) = self.masked(&p.key).await?;
        let view = views
            .iter()
            .find(|v| v.name == p.field || v.aliases.contains(&p.field))
            .ok_or_else(|| format!("secret {} has no field {}", summary.name, shown(&p.field)))?;
        if view.sensitive {
            return Err(format!(
                "field {} of {} is sensitive; MCP never returns sensitive values (use \
                 secret_get_masked, or secret_run to use it)",
                view.name, summary.name
            ));
        }
        let value = view
            .value
            .clone()
            .ok_or_else(|| format!("field {} of {} is not UTF-8 text", view.name, summary.name))?;
        Ok(CallToolResult::structured(json!({
            "key": summary.name.to_string(),
            "field": view.name,
            "value": value,
        })))
    }

    /// The vault's security report (SPEC §10): a score from 0 to 100 from strength, reuse and
    /// expiry, and the lists of weak, reused, expired and expiring secrets by key and field
    /// name. No value, nor any part of one.
    #[tool(annotations(title = "Security report", read_only_hint = true))]
    async fn security_score(&self) -> ToolResult {
        let body = self
            .ask(Request::SecurityReport {
                expiring_within_secs: secretctl_core::security::DEFAULT_EXPIRING_WITHIN.as_secs(),
                via: VIA.into(),
            })
            .await?;
        let report: secretctl_core::security::Report =
            serde_json::from_value(body).map_err(|_| malformed())?;
        Ok(CallToolResult::structured(
            serde_json::to_value(report).expect("reports serialise"),
        ))
    }

    /// The vault's folders (read-only): path, number of secrets and of folders directly in each.
    #[tool(annotations(title = "List folders", read_only_hint = true))]
    async fn folder_list(&self) -> ToolResult {
        let body = self
            .ask(Request::Folder {
                what: FolderOp::List {},
                via: VIA.into(),
            })
            .await?;
        let folders = agent::folders_from_wire(body).ok_or_else(malformed)?;
        let folders: Vec<Value> = folders
            .iter()
            .map(|f| {
                json!({
                    "path": f.path.to_string(),
                    "secrets": f.secrets,
                    "subfolders": f.subfolders,
                    "created_at": time_json(f.created_at),
                    "updated_at": time_json(f.updated_at),
                })
            })
            .collect();
        Ok(CallToolResult::structured(json!({ "folders": folders })))
    }

    /// Run a command approved by the MCP policy with secrets in its environment. Returns
    /// exit_code, stdout and stderr (redacted), duration_ms, timed_out and truncated.
    #[tool(annotations(
        title = "Run a command with secrets",
        read_only_hint = false,
        destructive_hint = true,
        open_world_hint = true
    ))]
    async fn secret_run(&self, Parameters(p): Parameters<RunParams>) -> ToolResult {
        let request = exec::RunRequest {
            keys: p.keys,
            command: p.command,
            args: p.args,
            timeout: p.timeout,
            env_prefix: p.env_prefix,
            env: p.env,
            bindings_only: false,
        };
        exec::run(self.backend.clone(), self.runs.clone(), request)
            .await
            .map(CallToolResult::structured)
    }

    /// Run a command approved by the MCP policy with one secret's bound fields in its
    /// environment (the secret's ENV → field bindings). Returns as secret_run does.
    #[tool(annotations(
        title = "Run a command with a secret's bindings",
        read_only_hint = false,
        destructive_hint = true,
        open_world_hint = true
    ))]
    async fn secret_run_with_bindings(
        &self,
        Parameters(p): Parameters<BindingsRunParams>,
    ) -> ToolResult {
        let (summary, _, bindings) = self.masked(&p.key).await?;
        if bindings.is_empty() {
            return Err(format!(
                "secret {} has no bindings; use secret_run, or bind fields with `secretctl set \
                 --bind`",
                summary.name
            ));
        }
        let request = exec::RunRequest {
            keys: vec![summary.name.to_string()],
            command: p.command,
            args: p.args,
            timeout: p.timeout,
            env_prefix: None,
            env: None,
            bindings_only: true,
        };
        exec::run(self.backend.clone(), self.runs.clone(), request)
            .await
            .map(CallToolResult::structured)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SecretServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("secretctl", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Secrets of the user's secretctl vault. List them and see masked values; run \
                 commands the user approved with secrets injected (output is redacted). Sensitive \
                 values are never returned. If a tool says the vault is locked, ask the user to \
                 run `secretctl unlock`.",
            )
    }
}
