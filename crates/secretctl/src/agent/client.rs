//! Talking to a running agent: find its socket (refusing a symlink or a non-socket there),
//! check that the process behind it runs as us, send one request, read one reply.

use secretctl_core::agent::{
    Envelope, ErrorKind, MAX_REPLY, PROTOCOL_VERSION, Reply, Request, Status, read_frame,
    write_frame,
};
use secretctl_core::vault::VaultDir;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Why a request could not be made.
#[derive(Debug)]
pub enum ClientError {
    /// No agent listens (no socket, or a stale one).
    NotRunning,
    /// Something unsafe sits at the socket path, or the agent runs as another user.
    Unsafe(String),
    /// The agent answered with an error.
    Refused(ErrorKind, String),
    /// The exchange failed.
    Protocol(String),
}

/// A handle on the agent of one vault.
pub struct AgentClient {
    path: PathBuf,
}

impl AgentClient {
    /// The agent of `dir`, if its socket path holds a socket. A symlink or another kind of file
    /// there is refused: it could send our requests somewhere else.
    pub fn find(dir: &VaultDir) -> Result<Option<AgentClient>, ClientError> {
        let path = secretctl_core::agent::socket_path(dir);
        match std::fs::symlink_metadata(&path) {
            Err(_) => Ok(None),
            Ok(m) if m.file_type().is_symlink() => Err(ClientError::Unsafe(format!(
                "{} is a symlink; refusing to use it as the agent socket",
                path.display()
            ))),
            Ok(m) if !m.file_type().is_socket() => Err(ClientError::Unsafe(format!(
                "{} is not a socket; refusing to use it as the agent socket",
                path.display()
            ))),
            Ok(_) => Ok(Some(AgentClient { path })),
        }
    }

    /// Sends one request and returns the reply's body decoded as a `T`, or the agent's error.
    pub fn request<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<T, ClientError> {
        let mut stream = match UnixStream::connect(&self.path) {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
                ) =>
            {
                return Err(ClientError::NotRunning);
            }
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        };
        let peer = rustix::net::sockopt::socket_peercred(&stream)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        if peer.uid != rustix::process::geteuid() {
            return Err(ClientError::Unsafe(format!(
                "the process behind {} runs as uid {}, not as you; refusing it",
                self.path.display(),
                peer.uid.as_raw()
            )));
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        let envelope = Envelope {
            v: PROTOCOL_VERSION,
            request,
        };
        let body =
            zeroize::Zeroizing::new(serde_json::to_vec(&envelope).expect("requests serialise"));
        drop(envelope);
        write_frame(&mut stream, &body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let reply =
            read_frame(&mut stream, MAX_REPLY).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let reply: Reply = serde_json::from_slice(&reply)
            .map_err(|_| ClientError::Protocol("the agent sent a malformed reply".into()))?;
        if reply.ok {
            return reply
                .decode()
                .ok_or_else(|| ClientError::Protocol("the agent sent a malformed reply".into()));
        }
        Err(ClientError::Refused(
            reply.error.unwrap_or(ErrorKind::Failed),
            reply.message.unwrap_or_default(),
        ))
    }

    /// The agent's status, or `None` when no agent answers.
    pub fn status(&self) -> Result<Option<Status>, ClientError> {
        match self.request(Request::Status {}) {
            Ok(status) => Ok(Some(status)),
            // An agent that is locking answers `locked`: as good as none.
            Err(ClientError::NotRunning | ClientError::Refused(ErrorKind::Locked, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
