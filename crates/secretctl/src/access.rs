//! How a command reaches the vault: through the session agent when one is unlocked and the
//! operation may use it (SPEC §9), else with the master password from the sources of SPEC §4.
//! Plaintext reads go through the agent only inside an `unlock --allow-reveal` window;
//! deleting, exporting, password changes and audit maintenance never do (they use
//! `password::unlock` directly).

use crate::agent::client::{AgentClient, ClientError};
use crate::failure::{EXIT_AUTH, EXIT_FAILED, EXIT_USAGE, EXIT_VAULT, Failure, Result};
use crate::{cli::Global, password};
use secretctl_core::agent::{self, ErrorKind, FolderOp, Request, WireUpdate};
use secretctl_core::audit::{Action, Source};
use secretctl_core::pattern::Pattern;
use secretctl_core::secret::{Bindings, FieldView, KeyName, Secret, SecretSummary, SecretUpdate};
use secretctl_core::security;
use secretctl_core::vault::{FolderInfo, ListFilter, Session, SetOutcome, Vault};

/// What an operation may do through the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Names, masked values, set, run, inject into a file.
    Agent,
    /// A plaintext read: through the agent only inside a reveal window.
    Reveal,
}

/// An unlocked vault, local or behind the agent.
pub enum Access {
    /// Unlocked here, with the password.
    Local(Box<Session>),
    /// Held by the agent.
    Agent(AgentClient),
}

/// The one line and exit code for an error of the agent client.
pub fn client_failure(e: ClientError) -> Failure {
    match e {
        ClientError::NotRunning => Failure::auth(
            "the session agent locked; run `secretctl unlock`, or give the master password",
        ),
        ClientError::Unsafe(m) => Failure::new(EXIT_VAULT, m),
        ClientError::Protocol(m) => Failure::failed(format!("session agent: {m}")),
        ClientError::Refused(kind, message) => {
            let code = match kind {
                ErrorKind::Locked
                | ErrorKind::PasswordRequired
                | ErrorKind::Auth
                | ErrorKind::Denied => EXIT_AUTH,
                ErrorKind::Usage | ErrorKind::BadRequest => EXIT_USAGE,
                ErrorKind::Vault => EXIT_VAULT,
                _ => EXIT_FAILED,
            };
            Failure::new(code, message)
        }
    }
}

/// Opens the vault for an operation of kind `need`: the vault's files are checked first; then
/// an unlocked agent is used when `need` allows; else the master password unlocks it here.
pub fn open(g: &Global, need: Need) -> Result<Access> {
    let dir = g.vault_dir();
    let vault = Vault::open(&dir)?;
    let mut agent_unlocked = false;
    if let Some(client) = AgentClient::find(&dir).map_err(client_failure)? {
        match client.status() {
            Ok(Some(status)) => {
                agent_unlocked = true;
                let usable = match need {
                    Need::Agent => true,
                    Need::Reveal => status.reveal_secs_left.is_some(),
                };
                if usable {
                    return Ok(Access::Agent(client));
                }
            }
            Ok(None) => {}
            Err(e @ ClientError::Unsafe(_)) => return Err(client_failure(e)),
            // An agent that cannot answer is as good as none: fall back to the password.
            Err(_) => {}
        }
    }
    let pw = password::current(g).map_err(|f| {
        if agent_unlocked && f.message.starts_with("no master password available") {
            Failure::auth(
                "plaintext reads need the master password even while the session agent is \
                 unlocked; give it, or run `secretctl unlock --allow-reveal 5m`",
            )
        } else {
            f
        }
    })?;
    Ok(Access::Local(Box::new(vault.unlock(&pw, Source::Cli)?)))
}

const VIA: &str = "cli";

impl Access {
    fn ask<T: serde::de::DeserializeOwned>(client: &AgentClient, request: Request) -> Result<T> {
        client.request(request).map_err(client_failure)
    }

    fn malformed() -> Failure {
        Failure::failed("session agent: malformed reply")
    }

    /// Names and metadata.
    pub fn list(&mut self, filter: &ListFilter) -> Result<Vec<SecretSummary>> {
        match self {
            Access::Local(s) => Ok(s.list(filter, Source::Cli)?),
            Access::Agent(c) => {
                let items: Vec<agent::WireSummary> = Self::ask(
                    c,
                    Request::List {
                        tag: filter.tag.clone(),
                        expiring_before_ms: filter.expiring_before.map(|t| t.as_millisecond()),
                        folder: filter.folder.as_ref().map(ToString::to_string),
                        via: VIA.into(),
                    },
                )?;
                items
                    .into_iter()
                    .map(|w| w.into_summary().ok_or_else(Self::malformed))
                    .collect()
            }
        }
    }

    /// Metadata and masked views.
    pub fn get_masked(
        &mut self,
        key: &KeyName,
    ) -> Result<(SecretSummary, Vec<FieldView>, Bindings)> {
        match self {
            Access::Local(s) => Ok(s.get_masked(key, Source::Cli)?),
            Access::Agent(c) => {
                let body = Self::ask(
                    c,
                    Request::GetMasked {
                        key: key.to_string(),
                        via: VIA.into(),
                    },
                )?;
                agent::masked_from_wire(body).ok_or_else(Self::malformed)
            }
        }
    }

    /// Create or update.
    pub fn set(&mut self, key: &KeyName, update: SecretUpdate) -> Result<SetOutcome> {
        match self {
            Access::Local(s) => Ok(s.set(key, update, Source::Cli)?),
            Access::Agent(c) => {
                let body: serde_json::Value = Self::ask(
                    c,
                    Request::Set {
                        key: key.to_string(),
                        update: Box::new(WireUpdate::from_update(&update)),
                        via: VIA.into(),
                    },
                )?;
                Ok(if body.as_bool() == Some(true) {
                    SetOutcome::Created
                } else {
                    SetOutcome::Updated
                })
            }
        }
    }

    /// Secrets for `run` or `inject` (see `Session::fetch`).
    pub fn fetch(
        &mut self,
        patterns: &[Pattern],
        optional: &[KeyName],
        action: Action,
        command: Option<String>,
    ) -> Result<(Vec<Secret>, Vec<Option<Secret>>)> {
        match self {
            Access::Local(s) => {
                let mut detail = serde_json::Map::new();
                if let Some(c) = command {
                    detail.insert("command".into(), c.into());
                }
                Ok(s.fetch(patterns, optional, action, Source::Cli, detail)?)
            }
            Access::Agent(c) => {
                let body = Self::ask(
                    c,
                    Request::Fetch {
                        patterns: patterns.iter().map(|p| p.as_str().to_owned()).collect(),
                        optional: optional.iter().map(|k| k.to_string()).collect(),
                        action: action.as_str().into(),
                        command,
                        via: VIA.into(),
                    },
                )?;
                let mut obj = match body {
                    serde_json::Value::Object(o) => o,
                    _ => return Err(Self::malformed()),
                };
                let list = |v: Option<serde_json::Value>| -> Result<Vec<serde_json::Value>> {
                    v.and_then(|v| v.as_array().cloned())
                        .ok_or_else(Self::malformed)
                };
                let found = list(obj.remove("found"))?
                    .into_iter()
                    .map(|v| agent::secret_from_wire(v).ok_or_else(Self::malformed))
                    .collect::<Result<Vec<_>>>()?;
                let optional = list(obj.remove("optional"))?
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::Null => Ok(None),
                        v => agent::secret_from_wire(v)
                            .map(Some)
                            .ok_or_else(Self::malformed),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((found, optional))
            }
        }
    }

    /// A folder operation; the body as the agent gives it (see `FolderOp::apply`).
    pub fn folder(&mut self, what: FolderOp) -> Result<serde_json::Value> {
        match self {
            Access::Local(s) => Ok(what.apply(s, Source::Cli)?),
            Access::Agent(c) => Self::ask(
                c,
                Request::Folder {
                    what,
                    via: VIA.into(),
                },
            ),
        }
    }

    /// Folders from the body of a `list` or `info` folder operation.
    pub fn folders(body: serde_json::Value) -> Result<Vec<FolderInfo>> {
        agent::folders_from_wire(body).ok_or_else(Self::malformed)
    }

    /// The security report (SPEC §10): built where the keys are, so that through the agent no
    /// value crosses the socket.
    pub fn security_report(
        &mut self,
        expiring_within: std::time::Duration,
    ) -> Result<security::Report> {
        match self {
            Access::Local(s) => Ok(security::report(
                s,
                Source::Cli,
                security::Options::expiring_within(expiring_within),
            )?),
            Access::Agent(c) => {
                let body = Self::ask(
                    c,
                    Request::SecurityReport {
                        expiring_within_secs: expiring_within.as_secs(),
                        via: VIA.into(),
                    },
                )?;
                serde_json::from_value(body).map_err(|_| Self::malformed())
            }
        }
    }

    /// A plaintext read.
    pub fn get(&mut self, key: &KeyName) -> Result<Secret> {
        match self {
            Access::Local(s) => Ok(s.get(key, Source::Cli)?),
            Access::Agent(c) => {
                let body = Self::ask(
                    c,
                    Request::Get {
                        key: key.to_string(),
                        via: VIA.into(),
                    },
                )?;
                agent::secret_from_wire(body).ok_or_else(Self::malformed)
            }
        }
    }
}
