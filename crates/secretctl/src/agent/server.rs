//! The agent process (`secretctl agent-serve`, started by `secretctl unlock`): reads the master
//! password from stdin, unlocks, reports `ready` on stdout, then serves one request per
//! connection on its socket until the idle timeout, the maximum lifetime, `lock`, a signal, or
//! a change of the vault on disk. It serves only peers running as its own uid (the kernel's
//! peer credentials), refuses and records the others, and answers malformed, oversized or
//! truncated frames with an error or a closed connection while it keeps serving.

use crate::cli::AgentServeArgs;
use crate::cli::Global;
use secretctl_core::agent::{
    Envelope, ErrorKind, MAX_REQUEST, McpRunGrant, PROTOCOL_VERSION, Reply, Request, Status,
    WireSummary, masked_to_wire, read_frame, secret_to_wire, write_frame,
};
use secretctl_core::audit::{Action, Source};
use secretctl_core::command_policy::{self, Approval};
use secretctl_core::pattern::Pattern;
use secretctl_core::policy::{self, OutputMode, Policy};
use secretctl_core::secret::{FolderPath, KeyName};
use secretctl_core::vault::{self, ErrorClass, ListFilter, Session, Vault};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const VAULT_CHANGED: &str = "the vault changed on disk";

/// How long one client may take to send its request or read its reply.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

struct Clock {
    idle: Duration,
    idle_until: Instant,
    max_until: Instant,
    reveal_until: Option<Instant>,
}

impl Clock {
    fn left(until: Instant) -> u64 {
        until.saturating_duration_since(Instant::now()).as_secs()
    }
}

/// Runs the agent. Everything it has to say before `ready` goes to stdout as one line
/// (`ready`, or `error KIND message`); after that, nothing is printed.
pub fn serve(g: &Global, a: AgentServeArgs) -> std::process::ExitCode {
    // Sockets and any file created from here on are private to us.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let mut stdout = std::io::stdout();
    match start(g, &a) {
        Ok((session, listener, path)) => {
            let _ = writeln!(stdout, "ready");
            let _ = stdout.flush();
            // Nothing is printed after `ready`: point stdout at /dev/null so that the pipe to
            // `unlock` closes.
            if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
                let _ = rustix::stdio::dup2_stdout(&null);
            }
            run(session, listener, &path, &a);
            std::process::ExitCode::SUCCESS
        }
        Err((kind, message)) => {
            let _ = writeln!(stdout, "error {kind} {message}");
            std::process::ExitCode::from(1)
        }
    }
}

type StartError = (&'static str, String);

fn start(g: &Global, a: &AgentServeArgs) -> Result<(Session, UnixListener, PathBuf), StartError> {
    let class = |e: &vault::Error| match e.class() {
        ErrorClass::Failed => "failed",
        ErrorClass::Usage => "usage",
        ErrorClass::Auth => "auth",
        ErrorClass::Vault => "vault",
    };
    let mut password = Vec::new();
    std::io::stdin()
        .lock()
        .take(4097)
        .read_to_end(&mut password)
        .map_err(|e| ("failed", format!("cannot read the password: {e}")))?;
    if password.last() == Some(&b'\n') {
        password.pop();
    }
    let dir = g.vault_dir();
    let vault = Vault::open(&dir).map_err(|e| (class(&e), e.to_string()))?;
    let password = secretctl_core::crypto::Passphrase::new(password);
    let mut session = vault
        .unlock(&password, Source::Cli)
        .map_err(|e| (class(&e), e.to_string()))?;
    drop(password);
    let path = secretctl_core::agent::socket_path(&dir);
    let listener = bind(&path).map_err(|m| ("failed", m))?;
    let mut detail = serde_json::Map::new();
    detail.insert("ttl_secs".into(), a.ttl.into());
    detail.insert("max_secs".into(), a.max.into());
    detail.insert("reveal_secs".into(), a.allow_reveal.into());
    detail.insert("pid".into(), std::process::id().into());
    session.set_via(Some("cli"));
    let noted = session.note(Action::AgentStart, Source::Agent, None, detail);
    session.set_via(None);
    noted.map_err(|e| (class(&e), e.to_string()))?;
    Ok((session, listener, path))
}

/// Binds the socket, replacing a stale one (a socket nobody answers on) but never a symlink,
/// another kind of file, or a live agent.
fn bind(path: &Path) -> Result<UnixListener, String> {
    if let Some(parent) = path.parent() {
        if !parent.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // Outside the vault directory (the runtime-directory fallback), whoever can write the
        // directory can replace the socket: it must be ours and not writable by others.
        let meta = std::fs::metadata(parent)
            .map_err(|e| format!("cannot use {}: {e}", parent.display()))?;
        if meta.uid() != rustix::process::geteuid().as_raw() || meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} must belong to you and not be writable by others (run `chmod 700 {}`)",
                parent.display(),
                parent.display()
            ));
        }
    }
    match std::fs::symlink_metadata(path) {
        Err(_) => {}
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!("{} is a symlink; remove it first", path.display()));
        }
        Ok(m) if !m.file_type().is_socket() => {
            return Err(format!(
                "{} exists and is not a socket; remove it first",
                path.display()
            ));
        }
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => return Err("a session agent is already running for this vault".into()),
            Err(_) => std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove the stale socket {}: {e}", path.display()))?,
        },
    }
    // The socket is created 0600 (SPEC §9): only the umask decides a socket's mode.
    let previous = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let listener = UnixListener::bind(path);
    rustix::process::umask(previous);
    listener.map_err(|e| format!("cannot listen on {}: {e}", path.display()))
}

use std::os::unix::fs::DirBuilderExt;

fn run(mut session: Session, listener: UnixListener, path: &Path, a: &AgentServeArgs) {
    // The keys stay out of swap for the agent's life; without the privilege (RLIMIT_MEMLOCK)
    // the agent still runs, as gpg-agent does.
    let _locked = session.lock_keys_in_memory();
    // `lock` sets `stop`; SIGTERM and SIGINT set `signalled`, so the record says which.
    let stop = AtomicBool::new(false);
    let signalled = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&signalled));
    }
    // A closing terminal sends SIGHUP; the agent outlives the terminal that started it.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGHUP,
        Arc::new(AtomicBool::new(false)),
    );
    let bound = std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()));
    let now = Instant::now();
    let mut clock = Clock {
        idle: Duration::from_secs(a.ttl),
        idle_until: now + Duration::from_secs(a.ttl),
        max_until: now + Duration::from_secs(a.max),
        reveal_until: (a.allow_reveal > 0).then(|| now + Duration::from_secs(a.allow_reveal)),
    };
    let mut nonce = [0u8; 16];
    secretctl_core::crypto::fill_random(&mut nonce);
    let mut last_check = Instant::now();
    let (reason, pending) = loop {
        if signalled.load(Ordering::Relaxed) {
            break ("signal", None);
        }
        if stop.load(Ordering::Relaxed) {
            break ("lock", None);
        }
        let now = Instant::now();
        if now >= clock.idle_until {
            break ("idle timeout", None);
        }
        if now >= clock.max_until {
            break ("maximum lifetime", None);
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            if !session.still_current() {
                break (VAULT_CHANGED, None);
            }
        }
        let mut fds = [rustix::event::PollFd::new(
            &listener,
            rustix::event::PollFlags::IN,
        )];
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        };
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(_) => continue,
            Ok(_) => {}
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        if !session.still_current() {
            break (VAULT_CHANGED, refuse_locked(stream));
        }
        if let Some(pending) = handle(&mut session, stream, &mut clock, &nonce, &stop) {
            break ("lock", Some(pending));
        }
    };
    // Stop listening first: from here on a client finds no agent, rather than one that does
    // not answer. Remove the socket only if it is still the one we bound (not a new agent's).
    if std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
        == bound
    {
        let _ = std::fs::remove_file(path);
    }
    drop(listener);
    // After a password change the old connection is as good as the new one; after the
    // database was replaced it would write into a file (and WAL) that is no longer the vault,
    // so that ending goes unrecorded rather than risk the new vault.
    if reason != VAULT_CHANGED || session.still_same_file() {
        let mut detail = serde_json::Map::new();
        detail.insert("reason".into(), reason.into());
        session.set_via(None);
        let _ = session.note(Action::AgentLock, Source::Agent, None, detail);
    }
    // Wipe the keys and close the database (SQLite checkpoints the WAL on close, holding the
    // file locked for a moment) before the held-back reply: `lock` returning means the agent
    // has locked and let go of the vault.
    drop(session);
    if let Some((mut stream, body)) = pending {
        let _ = write_frame(&mut stream, &body);
    }
}

/// The agent's request handling inside a process that unlocked the vault itself: the MCP
/// server started with `SECRETCTL_PASSWORD` (SPEC §7). The same checks, policy decisions and
/// audit records as the agent; no socket, no idle timeout (the keys live as long as the
/// process), no plaintext reads.
pub struct InProcess {
    session: Session,
    clock: Clock,
    nonce: [u8; 16],
    stop: AtomicBool,
}

impl InProcess {
    /// Holds `session` for this process's life.
    pub fn new(session: Session) -> InProcess {
        // Ten years stands for "never" without overflowing `Instant`.
        let forever = Duration::from_secs(10 * 365 * 24 * 3600);
        let now = Instant::now();
        let mut nonce = [0u8; 16];
        secretctl_core::crypto::fill_random(&mut nonce);
        InProcess {
            session,
            clock: Clock {
                idle: forever,
                idle_until: now + forever,
                max_until: now + forever,
                reveal_until: None,
            },
            nonce,
            stop: AtomicBool::new(false),
        }
    }

    /// Answers one request as the agent would.
    pub fn request(&mut self, request: Request) -> Reply {
        if !self.session.still_current() {
            return Reply::error(
                ErrorKind::Locked,
                "the vault changed on disk; restart the MCP server",
            );
        }
        dispatch(
            &mut self.session,
            request,
            &mut self.clock,
            &self.nonce,
            &self.stop,
        )
    }
}

/// A reply held back until the agent has shut down.
type Pending = (UnixStream, zeroize::Zeroizing<Vec<u8>>);

fn encode(mut reply: Reply) -> zeroize::Zeroizing<Vec<u8>> {
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&reply).expect("replies serialise"));
    reply.wipe();
    bytes
}

fn locked_reply() -> Reply {
    Reply::error(
        ErrorKind::Locked,
        "the session agent locked; run `secretctl unlock`, or give the master password",
    )
}

/// The answer to a request that arrived as the agent locked: `locked`, after reading the
/// request (to a peer of our uid only).
fn refuse_locked(mut stream: UnixStream) -> Option<Pending> {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let peer = rustix::net::sockopt::socket_peercred(&stream).ok()?;
    if peer.uid != rustix::process::geteuid() {
        return None;
    }
    read_frame(&mut stream, MAX_REQUEST).ok()?;
    Some((stream, encode(locked_reply())))
}

fn handle(
    session: &mut Session,
    mut stream: UnixStream,
    clock: &mut Clock,
    nonce: &[u8; 16],
    stop: &AtomicBool,
) -> Option<Pending> {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let Ok(peer) = rustix::net::sockopt::socket_peercred(&stream) else {
        return None;
    };
    if peer.uid != rustix::process::geteuid() {
        let mut detail = serde_json::Map::new();
        detail.insert("peer_uid".into(), peer.uid.as_raw().into());
        detail.insert("peer_pid".into(), peer.pid.as_raw_nonzero().get().into());
        session.set_via(None);
        let _ = session.note(
            Action::AgentRefused,
            Source::Agent,
            Some("foreign_uid"),
            detail,
        );
        return None;
    }
    let reply = match read_frame(&mut stream, MAX_REQUEST) {
        Ok(body) => match serde_json::from_slice::<Envelope>(&body) {
            Ok(env) if env.v == PROTOCOL_VERSION => {
                dispatch(session, env.request, clock, nonce, stop)
            }
            Ok(env) => Reply::error(
                ErrorKind::BadRequest,
                format!(
                    "protocol version {} is not supported (this agent speaks {PROTOCOL_VERSION})",
                    env.v
                ),
            ),
            Err(_) => Reply::error(ErrorKind::BadRequest, "malformed request"),
        },
        Err(secretctl_core::agent::FrameError::TooLarge(n)) => Reply::error(
            ErrorKind::BadRequest,
            format!("a request of {n} bytes is over the limit"),
        ),
        // Truncated or timed out: nobody to answer.
        Err(_) => return None,
    };
    let body = encode(reply);
    if stop.load(Ordering::Relaxed) {
        // `lock` (or a signal): answer once the agent has shut down.
        return Some((stream, body));
    }
    let _ = write_frame(&mut stream, &body);
    None
}

/// The source recorded for a request: MCP calls are audited as `mcp` (SPEC §7.3); every other
/// client's as `agent`, with the client in `detail.via` (SPEC §9).
fn source_for(via: &str) -> Source {
    if via == "mcp" {
        Source::Mcp
    } else {
        Source::Agent
    }
}

fn via(name: &str) -> &'static str {
    match name {
        "cli" => "cli",
        "mcp" => "mcp",
        "desktop" => "desktop",
        "completion" => "completion",
        _ => "other",
    }
}

fn failure(e: vault::Error) -> Reply {
    let kind = match e.class() {
        ErrorClass::Failed => ErrorKind::Failed,
        ErrorClass::Usage => ErrorKind::Usage,
        ErrorClass::Auth => ErrorKind::Auth,
        ErrorClass::Vault => ErrorKind::Vault,
    };
    Reply::error(kind, e.to_string())
}

fn key(name: &str) -> Result<KeyName, Reply> {
    KeyName::parse(name).map_err(|e| Reply::error(ErrorKind::Usage, e.to_string()))
}

fn folder_path(path: &str) -> Result<FolderPath, Reply> {
    FolderPath::parse(path).map_err(|e| Reply::error(ErrorKind::Usage, e.to_string()))
}

fn dispatch(
    session: &mut Session,
    request: Request,
    clock: &mut Clock,
    nonce: &[u8; 16],
    stop: &AtomicBool,
) -> Reply {
    let now = Instant::now();
    if (now >= clock.idle_until || now >= clock.max_until) && !matches!(request, Request::Lock {}) {
        // Timed out while this request was on its way: it must neither be served nor restart
        // the idle timer. The loop locks next.
        return locked_reply();
    }
    // Status, lock and a shell's key-name completion do not count as use of the session.
    let used = match &request {
        Request::Status {} | Request::Lock {} => false,
        Request::List { via, .. } => via != "completion",
        _ => true,
    };
    let reply = match answer(session, request, clock, nonce, stop) {
        Ok(r) | Err(r) => r,
    };
    if used && reply.ok {
        clock.idle_until = Instant::now() + clock.idle;
    }
    reply
}

fn answer(
    session: &mut Session,
    request: Request,
    clock: &mut Clock,
    nonce: &[u8; 16],
    stop: &AtomicBool,
) -> Result<Reply, Reply> {
    Ok(match request {
        Request::Status {} => Reply::ok(
            serde_json::to_value(Status {
                unlocked: true,
                pid: std::process::id(),
                vault_id: session.vault_id().to_string(),
                idle_secs_left: Clock::left(clock.idle_until),
                max_secs_left: Clock::left(clock.max_until),
                reveal_secs_left: clock
                    .reveal_until
                    .filter(|u| *u > Instant::now())
                    .map(Clock::left),
                nonce: hex::encode(nonce),
            })
            .expect("status serialises"),
        ),
        Request::Lock {} => {
            stop.store(true, Ordering::Relaxed);
            Reply::ok(serde_json::Value::Null)
        }
        Request::Extend {
            proof,
            ttl_secs,
            max_secs,
            reveal_secs,
        } => {
            let expected = session.agent_proof(nonce);
            let given = hex::decode(&proof).unwrap_or_default();
            if !secretctl_core::crypto::constant_time_eq(&expected, &given) {
                session.set_via(None);
                let _ = session.note(
                    Action::AgentRefused,
                    Source::Agent,
                    Some("bad_proof"),
                    serde_json::Map::new(),
                );
                return Err(Reply::error(ErrorKind::Denied, "the extend proof is wrong"));
            }
            let now = Instant::now();
            clock.idle = Duration::from_secs(ttl_secs);
            clock.idle_until = now + clock.idle;
            clock.max_until = now + Duration::from_secs(max_secs);
            if let Some(r) = reveal_secs.filter(|r| *r > 0) {
                clock.reveal_until = Some(now + Duration::from_secs(r));
            }
            Reply::ok(serde_json::Value::Null)
        }
        Request::List {
            tag,
            expiring_before_ms,
            folder,
            via: v,
        } => {
            session.set_via(Some(via(&v)));
            let filter = ListFilter {
                tag,
                expiring_before: expiring_before_ms
                    .and_then(|m| jiff::Timestamp::from_millisecond(m).ok()),
                folder: folder.as_deref().map(folder_path).transpose()?,
            };
            let list = session.list(&filter, source_for(&v)).map_err(failure)?;
            Reply::ok(list.iter().map(WireSummary::of).collect::<Vec<_>>())
        }
        Request::GetMasked { key: k, via: v } => {
            session.set_via(Some(via(&v)));
            let (summary, views, bindings) = session
                .get_masked(&key(&k)?, source_for(&v))
                .map_err(failure)?;
            Reply::ok(masked_to_wire(&summary, &views, &bindings))
        }
        Request::Set {
            key: k,
            update,
            via: v,
        } => {
            session.set_via(Some(via(&v)));
            let update = update
                .into_update()
                .ok_or_else(|| Reply::error(ErrorKind::BadRequest, "malformed update"))?;
            let outcome = session
                .set(&key(&k)?, update, Source::Agent)
                .map_err(failure)?;
            Reply::ok(serde_json::Value::Bool(matches!(
                outcome,
                vault::SetOutcome::Created
            )))
        }
        Request::Fetch {
            patterns,
            optional,
            action,
            command,
            via: v,
        } => {
            session.set_via(Some(via(&v)));
            let action = match action.as_str() {
                "run" => Action::Run,
                "inject" => Action::Inject,
                _ => return Err(Reply::error(ErrorKind::BadRequest, "unknown fetch action")),
            };
            let patterns = patterns
                .iter()
                .map(|p| Pattern::parse(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Reply::error(ErrorKind::Usage, e.to_string()))?;
            let optional = optional
                .iter()
                .map(|k| key(k))
                .collect::<Result<Vec<_>, _>>()?;
            let mut detail = serde_json::Map::new();
            if let Some(c) = command {
                detail.insert("command".into(), c.into());
            }
            let (found, maybe) = session
                .fetch(&patterns, &optional, action, source_for(&v), detail)
                .map_err(failure)?;
            Reply::ok(serde_json::json!({
                "found": found.iter().map(secret_to_wire).collect::<Vec<_>>(),
                "optional": maybe.iter().map(|s| s.as_ref().map(secret_to_wire)).collect::<Vec<_>>(),
            }))
        }
        Request::McpRun {
            command,
            args,
            keys,
            env,
            via: v,
        } => {
            session.set_via(Some(via(&v)));
            mcp_run(session, &command, &args, &keys, env.as_deref())?
        }
        Request::Folder { what, via: v } => {
            session.set_via(Some(via(&v)));
            Reply::ok(what.apply(session, source_for(&v)).map_err(failure)?)
        }
        Request::SecurityReport {
            expiring_within_secs,
            via: v,
        } => {
            session.set_via(Some(via(&v)));
            let options = secretctl_core::security::Options::expiring_within(Duration::from_secs(
                expiring_within_secs,
            ));
            let report = secretctl_core::security::report(session, source_for(&v), options)
                .map_err(failure)?;
            Reply::ok(serde_json::to_value(report).expect("reports serialise"))
        }
        Request::Get { key: k, via: v } => {
            if clock.reveal_until.is_none_or(|u| Instant::now() >= u) {
                return Err(Reply::error(
                    ErrorKind::PasswordRequired,
                    "plaintext reads need the master password (or unlock --allow-reveal)",
                ));
            }
            session.set_via(Some(via(&v)));
            let secret = session.get(&key(&k)?, Source::Agent).map_err(failure)?;
            Reply::ok(secret_to_wire(&secret))
        }
        _ => return Err(Reply::error(ErrorKind::BadRequest, "unknown request")),
    })
}

/// Records a refused MCP run (fail closed: if the record cannot be written, the reply is that
/// failure) and answers with the denial.
fn mcp_deny(session: &mut Session, command: &str, reason: String, message: String) -> Reply {
    let mut detail = serde_json::Map::new();
    detail.insert(
        "command".into(),
        secretctl_core::secret::shown(command).into(),
    );
    detail.insert("reason".into(), reason.into());
    match session.note(Action::Run, Source::Mcp, Some("denied"), detail) {
        Ok(()) => Reply::error(ErrorKind::Denied, message),
        Err(e) => failure(e),
    }
}

/// The policy file and the exact bytes its approval's HMAC covers.
fn mcp_policy(path: &Path) -> Result<(Policy, Vec<u8>), String> {
    Policy::load_with_bytes(path).map_err(|e| e.to_string())
}

/// MCP `secret_run` inside the agent (SPEC §7.2, §7.3): policy, approval, decision, keys,
/// minimum length, then the fetch. The secrets leave the agent only for an allowed run.
fn mcp_run(
    session: &mut Session,
    command: &str,
    args: &[String],
    keys: &[String],
    env: Option<&str>,
) -> Result<Reply, Reply> {
    if keys.is_empty() {
        return Err(Reply::error(ErrorKind::Usage, "no keys given"));
    }
    let path = session.dir().policy();
    let (policy, bytes) = match mcp_policy(&path) {
        Ok(p) => p,
        Err(problem) => {
            return Err(mcp_deny(
                session,
                command,
                "policy_unusable".into(),
                format!("the MCP policy cannot be used, so every run is denied: {problem}"),
            ));
        }
    };
    let approval = match session.policy_approval().map_err(failure)? {
        None => None,
        Some(json) => match String::from_utf8(json)
            .ok()
            .and_then(|t| Approval::from_json(&t).ok())
        {
            Some(a) => Some(a),
            None => {
                return Err(mcp_deny(
                    session,
                    command,
                    "approval_unreadable".into(),
                    "the stored policy approval cannot be read; run `secretctl policy approve`"
                        .into(),
                ));
            }
        },
    };
    // Aliases come from the approved policy, so they are checked with it; the decision below is
    // on the keys really read.
    let aliases: &[policy::AliasRule] = match env {
        None => &[],
        Some(name) => match policy.alias(name) {
            Some(rules) => rules,
            None => {
                return Err(mcp_deny(
                    session,
                    command,
                    "unknown_alias".into(),
                    format!(
                        "the MCP policy has no env_aliases entry {}",
                        secretctl_core::secret::shown(name)
                    ),
                ));
            }
        },
    };
    let patterns = keys
        .iter()
        .map(|k| Pattern::parse(&policy::alias_pattern(aliases, k)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Reply::error(ErrorKind::Usage, e.to_string()))?;
    let policy_key = session.policy_key();
    let decide = |names: &[KeyName]| {
        command_policy::decide(
            &policy,
            &bytes,
            approval.as_ref(),
            &policy_key,
            command,
            args,
            names,
        )
    };
    // The command line first, so a refused command reads no key names at all.
    if let Err(d) = decide(&[]) {
        return Err(mcp_deny(session, command, d.reason(), d.to_string()));
    }
    let names: Vec<KeyName> = if patterns.iter().all(|p| matches!(p, Pattern::Literal(_))) {
        patterns
            .iter()
            .filter_map(|p| match p {
                Pattern::Literal(k) => Some(k.clone()),
                Pattern::Glob { .. } => None,
            })
            .collect()
    } else {
        let all = session
            .list(&ListFilter::default(), Source::Mcp)
            .map_err(failure)?;
        let mut names = Vec::new();
        for p in &patterns {
            let mut any = false;
            for s in all.iter().filter(|s| p.matches(&s.name)) {
                any = true;
                if !names.contains(&s.name) {
                    names.push(s.name.clone());
                }
            }
            if !any {
                return Err(Reply::error(
                    ErrorKind::Failed,
                    format!(
                        "no secret matches {}",
                        secretctl_core::secret::shown(p.as_str())
                    ),
                ));
            }
        }
        names
    };
    let decision = match decide(&names) {
        Ok(d) => d,
        Err(d) => return Err(mcp_deny(session, command, d.reason(), d.to_string())),
    };
    let literal: Vec<Pattern> = names.iter().cloned().map(Pattern::Literal).collect();
    let mut detail = serde_json::Map::new();
    detail.insert(
        "command".into(),
        decision
            .canonical_path
            .to_string_lossy()
            .into_owned()
            .into(),
    );
    detail.insert("rule".into(), decision.rule_name.clone().into());
    if let Some(name) = env {
        detail.insert("env_alias".into(), name.into());
    }
    let (mut found, _) = session
        .fetch(&literal, &[], Action::Run, Source::Mcp, detail)
        .map_err(failure)?;
    policy::show_aliased_names(aliases, keys, &patterns, &mut found)
        .map_err(|e| Reply::error(ErrorKind::Usage, e.to_string()))?;
    for s in &found {
        let vars = secretctl_core::environment::secret_vars(s, None);
        if let Some(v) = vars.iter().find(|v| v.value.expose_bytes().len() < 4) {
            let field = if v.field == secretctl_core::secret::VALUE_FIELD {
                String::new()
            } else {
                format!(" (field {})", v.field)
            };
            return Err(mcp_deny(
                session,
                command,
                "short_secret".into(),
                format!(
                    "secret {}{field} is shorter than 4 bytes; MCP never injects such values, \
                     because redacting them would reveal where they occur",
                    s.name
                ),
            ));
        }
    }
    let output = match decision.output {
        OutputMode::Redacted => "redacted".to_owned(),
        OutputMode::Tail(n) => format!("tail:{n}"),
        OutputMode::None => "none".to_owned(),
    };
    let grant = McpRunGrant {
        canonical_path: decision.canonical_path,
        timeout_ms: u64::try_from(decision.timeout.as_millis()).unwrap_or(u64::MAX),
        output,
        found: found.iter().map(secret_to_wire).collect(),
    };
    Ok(Reply::ok(
        serde_json::to_value(grant).expect("grants serialise"),
    ))
}
