//! Running a command with secrets in its environment: CLI `run` (SPEC §5.1) and MCP `secret_run`
//! (SPEC §7.3).
//!
//! This module owns:
//! - the child's environment: the caller's minus `SECRETCTL_*` ([`BaseEnv::Inherit`]) or a minimal
//!   one ([`BaseEnv::Minimal`]), plus the secrets (whose names [`crate::environment`] checks;
//!   they are checked again here);
//! - starting the program directly (never through a shell), on pipes or on a pseudo-terminal;
//! - streaming stdout and stderr through an [`OutputFilter`] (the redactor, §6) to a [`Sink`], with
//!   an optional cap applied after filtering;
//! - timeouts and cancellation (TERM to the whole process group, KILL after a grace period),
//!   forwarding of INT/TERM/HUP/QUIT, and making sure no descendant is left behind when a run is cut
//!   short;
//! - mapping the outcome to the exit codes of §4.1 ([`Status::exit_code`]).
//!
//! It does not choose which secrets a command may receive (policy), nor redact (the filter is
//! given), nor audit.
//!
//! # Design notes
//!
//! **Own session.** The child calls `setsid` before `exec`: it leads a new session and a new
//! process group whose id is its pid, so `killpg` reaches it and every descendant that does not
//! deliberately leave. A session rather than just `process_group(0)`: a process in a background
//! group of our terminal is stopped by SIGTTIN as soon as it reads that terminal, which would hang
//! `secretctl run -- psql … > out.txt`; a child without a controlling terminal reads an inherited
//! terminal descriptor freely. The price: it cannot open `/dev/tty` in pipe mode (programs then
//! fail instead of hanging); in pty mode `/dev/tty` is the pseudo-terminal. INT/TERM/HUP/QUIT sent
//! to us (Ctrl-C on our terminal included) are forwarded to the group when
//! [`RunOptions::forward_signals`] is set.
//!
//! **Reaping late.** The exit of the child is observed with `waitid(WNOWAIT)`, which leaves it a
//! zombie: while it is unreaped its pid, hence the group id, cannot be reused, so signalling the
//! group can never hit an unrelated process. It is reaped at the end, or — after a timeout — as
//! soon as it exits, after which the group is probed with `kill(-pgid, 0)` before any signal.
//!
//! **A grandchild holding the pipes.** Each output pipe has a reader thread that polls the pipe and
//! a "stop" pipe. When the child exits normally, the readers get [`DRAIN_GRACE`] (100 ms) to see
//! end-of-file; then they are told to stop, read exactly what is buffered in the pipe at that
//! moment (`FIONREAD`), flush the filter and finish. Everything the child itself wrote is in the
//! pipe by the time it exits, so nothing of its output is lost, and a daemon that keeps the pipe
//! open cannot make `run` hang. Background processes left in the group are then killed only with
//! [`RunOptions::kill_leftovers`] (MCP); for the CLI they live on, as after a shell command, and
//! get EPIPE/SIGPIPE if they write later. After a timeout or cancellation the whole group gets
//! TERM (and CONT, so stopped members can act on it); `run` returns as soon as the group is gone,
//! or sends KILL after [`RunOptions::kill_grace`]. If `run` returns early or unwinds, a guard
//! SIGKILLs the group and reaps the child.
//!
//! **Pseudo-terminal.** rustix's `pty` module (`posix_openpt`, `TIOCGPTPEER`) opens the pair and
//! the child is spawned with the same `std::process::Command` path as in pipe mode, plus
//! `TIOCSCTTY`. `portable-pty` 0.9 (named in STACK.md) was tried and not used: its spawn closes
//! every descriptor above 2 in `pre_exec`, including std's exec-error pipe (a failed `exec` then
//! aborts the child instead of reporting an error), runs the child in `$HOME` unless told
//! otherwise, always injects `SHELL`, reports signal deaths only as a name (no 128+N), and pulls in
//! nix, anyhow and thiserror 1. The pty merges stdout and stderr into the stdout sink; our stdin
//! is copied to it (our terminal in raw mode meanwhile, restored afterwards), end of our stdin
//! becomes VEOF, and SIGWINCH resizes it.
//!
//! **Program lookup.** The program is looked up here, on the child's `PATH` (execvp rules: empty
//! entries mean the current directory; no `PATH` means `/bin:/usr/bin`), so "not found" (127) and
//! "not executable" (126, also for directories) are decided the same way in both modes, and `argv[0]`
//! stays the name the user typed.

#[allow(unsafe_code)]
mod sys;

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::{Pid, Signal};
use zeroize::Zeroizing;

/// `PATH` of [`BaseEnv::Minimal`].
pub const MINIMAL_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Default time between TERM and KILL (SPEC §5.1).
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);
/// Default MCP timeout (SPEC §7.2).
pub const MCP_DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Default MCP output cap per stream (SPEC §7.3).
pub const MCP_DEFAULT_OUTPUT_CAP: usize = 1024 * 1024;
/// How long, after the child exits, the readers wait for end-of-file before they stop at what is
/// buffered (see the module docs).
pub const DRAIN_GRACE: Duration = Duration::from_millis(100);

/// Size of one read from a pipe or the pty.
const CHUNK: usize = 64 * 1024;
/// How often the group is probed while waiting for it to die after a timeout.
const GROUP_PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// execvp's search path when `PATH` is unset.
const DEFAULT_SEARCH_PATH: &str = "/bin:/usr/bin";
/// The default VEOF character (Ctrl-D), sent to the pty when our stdin ends.
const VEOF: u8 = 0x04;

// ---------------------------------------------------------------------------------------------
// Output filter
// ---------------------------------------------------------------------------------------------

/// A streaming filter over one output stream of the child (the redactor implements it).
///
/// A fresh filter is made per stream per run. Released bytes are delivered immediately, so a
/// filter should hold back only what could still turn out to be part of a secret.
pub trait OutputFilter: Send {
    /// Consumes `chunk` and appends to `out` the bytes that can be released now.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>);
    /// The stream has ended: appends to `out` whatever was held back.
    fn finish(&mut self, out: &mut Vec<u8>);
}

/// An [`OutputFilter`] that releases everything unchanged (`--no-sanitize`, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough;

impl OutputFilter for PassThrough {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(chunk);
    }

    fn finish(&mut self, _out: &mut Vec<u8>) {}
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// The command line to run, executed directly (no shell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// A path (containing `/`) or a name looked up on the child's `PATH`.
    pub program: OsString,
    /// Arguments, without `argv[0]`.
    pub args: Vec<OsString>,
}

impl Command {
    /// A command without arguments.
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// Appends one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// The environment the secrets are added to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseEnv {
    /// The caller's environment minus every `SECRETCTL_*` variable (CLI).
    Inherit,
    /// Only `PATH` ([`MINIMAL_PATH`]), `HOME`, `LANG`, `TZ` (each from the caller, if set) and
    /// `TERM=dumb` (MCP).
    Minimal,
}

/// Cancels the runs it is given to: they end as after a timeout, with [`Status::Cancelled`].
///
/// For the MCP server: client disconnect and server shutdown.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Default)]
struct CancelInner {
    cancelled: AtomicBool,
    next_id: AtomicU64,
    waiters: Mutex<Vec<(u64, mpsc::Sender<Event>)>>,
}

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every run using this token, now and later.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        let waiters = self.0.waiters.lock().unwrap_or_else(|e| e.into_inner());
        for (_, tx) in waiters.iter() {
            let _ = tx.send(Event::Cancel);
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    fn register(&self, tx: mpsc::Sender<Event>) -> CancelRegistration<'_> {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed);
        self.0
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, tx.clone()));
        // A cancel between the caller's check and the registration must not be lost.
        if self.is_cancelled() {
            let _ = tx.send(Event::Cancel);
        }
        CancelRegistration { token: self, id }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

struct CancelRegistration<'a> {
    token: &'a CancelToken,
    id: u64,
}

impl Drop for CancelRegistration<'_> {
    fn drop(&mut self) {
        self.token
            .0
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.id);
    }
}

/// A callback given the child's pid (which is also its process-group id) right after it starts.
pub type SpawnHook = Arc<dyn Fn(u32) + Send + Sync>;

/// How to run the command. [`RunOptions::cli`] and [`RunOptions::mcp`] give the two profiles.
#[derive(Clone)]
pub struct RunOptions {
    /// Environment the secrets are added to.
    pub base_env: BaseEnv,
    /// Secret variables, names already checked by [`crate::environment::check_env_name`] (checked again here).
    /// They override variables of the base environment with the same name.
    pub extra_env: Vec<(String, Zeroizing<Vec<u8>>)>,
    /// Child's stdin is `/dev/null` (MCP); otherwise ours (CLI) — in pty mode, the pty, to which
    /// our stdin is copied.
    pub stdin_null: bool,
    /// No descriptor above 2 survives into the child (MCP).
    pub close_extra_fds: bool,
    /// After this long, TERM to the group, then KILL after `kill_grace`.
    pub timeout: Option<Duration>,
    /// Time between TERM and KILL on timeout or cancellation.
    pub kill_grace: Duration,
    /// Run the child on a pseudo-terminal (CLI, when our stdout is a terminal). Its stdout and
    /// stderr are merged and go, filtered, to the stdout sink.
    pub pty: bool,
    /// Forward INT, TERM, HUP and QUIT received by this process to the child's group while it
    /// runs (CLI). See [`run`] for what happens to these signals outside runs.
    pub forward_signals: bool,
    /// Per-stream cap on delivered bytes, after filtering (MCP); beyond it output is read and
    /// discarded and the stream is marked truncated.
    pub output_cap: Option<usize>,
    /// After a normal exit, SIGKILL whatever is left in the child's group (MCP: nothing outlives
    /// the call). The CLI leaves background processes alone, as a shell would.
    pub kill_leftovers: bool,
    /// The child gets SIGKILL if the thread that called [`run`] dies (Linux `PR_SET_PDEATHSIG`):
    /// the MCP server being killed does not leave the command running. Only the direct child is
    /// covered.
    pub die_with_parent: bool,
    /// Cancellation (MCP client disconnect, server shutdown).
    pub cancel: Option<CancelToken>,
    /// Called with the child's pid (= process-group id) once it has started.
    pub on_spawn: Option<SpawnHook>,
}

impl RunOptions {
    /// CLI profile (SPEC §5.1): caller's environment, inherited stdin, no timeout, signals
    /// forwarded. The caller sets `pty` when its stdout is a terminal.
    pub fn cli() -> Self {
        Self {
            base_env: BaseEnv::Inherit,
            extra_env: Vec::new(),
            stdin_null: false,
            close_extra_fds: false,
            timeout: None,
            kill_grace: DEFAULT_KILL_GRACE,
            pty: false,
            forward_signals: true,
            output_cap: None,
            kill_leftovers: false,
            die_with_parent: false,
            cancel: None,
            on_spawn: None,
        }
    }

    /// MCP profile (SPEC §7.3): minimal environment, stdin `/dev/null`, no descriptors above 2,
    /// 5 min timeout, 1 MiB cap per stream, leftovers killed.
    pub fn mcp() -> Self {
        Self {
            base_env: BaseEnv::Minimal,
            extra_env: Vec::new(),
            stdin_null: true,
            close_extra_fds: true,
            timeout: Some(MCP_DEFAULT_TIMEOUT),
            kill_grace: DEFAULT_KILL_GRACE,
            pty: false,
            forward_signals: false,
            output_cap: Some(MCP_DEFAULT_OUTPUT_CAP),
            kill_leftovers: true,
            die_with_parent: true,
            cancel: None,
            on_spawn: None,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::cli()
    }
}

impl fmt::Debug for RunOptions {
    // By hand: secret values must never be printed; names are not secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extra_env.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RunOptions")
            .field("base_env", &self.base_env)
            .field("extra_env_names", &names)
            .field("stdin_null", &self.stdin_null)
            .field("close_extra_fds", &self.close_extra_fds)
            .field("timeout", &self.timeout)
            .field("kill_grace", &self.kill_grace)
            .field("pty", &self.pty)
            .field("forward_signals", &self.forward_signals)
            .field("output_cap", &self.output_cap)
            .field("kill_leftovers", &self.kill_leftovers)
            .field("die_with_parent", &self.die_with_parent)
            .field("cancel", &self.cancel)
            .field("on_spawn", &self.on_spawn.as_ref().map(|_| "<callback>"))
            .finish()
    }
}

/// Where one output stream of the child goes.
pub enum Sink<'a> {
    /// Written as it comes, flushed after every chunk so prompts appear at once (CLI). If a write
    /// fails (say, EPIPE from `| head`), the stream is no longer read and its pipe is closed, so
    /// the child gets EPIPE/SIGPIPE as it would writing to the pipe directly.
    Stream(Box<dyn Write + Send + 'a>),
    /// Collected into [`Outcome::stdout`] / [`Outcome::stderr`] (MCP).
    Capture,
}

impl<'a> Sink<'a> {
    /// A [`Sink::Stream`] writing to `w`.
    pub fn stream(w: impl Write + Send + 'a) -> Self {
        Sink::Stream(Box::new(w))
    }
}

impl fmt::Debug for Sink<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sink::Stream(_) => f.write_str("Sink::Stream"),
            Sink::Capture => f.write_str("Sink::Capture"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The child exited with this code.
    Exited(i32),
    /// The child was killed by this signal (not by our timeout or cancellation).
    Signaled(i32),
    /// The timeout expired; the group was terminated.
    TimedOut,
    /// The run was cancelled through its [`CancelToken`]; the group was terminated.
    Cancelled,
    /// The program does not exist (on `PATH`).
    NotFound,
    /// The program exists but cannot be executed (no permission, a directory, not a program).
    NotExecutable,
}

impl Status {
    /// Exit code per SPEC §4.1: the child's code; 128+N for signal N; 124 timeout; 126 not
    /// executable; 127 not found. Cancellation (not in §4.1; only MCP cancels) is 130, as for an
    /// interrupt.
    pub fn exit_code(&self) -> u8 {
        match *self {
            // Exit codes are 0..=255 on Unix; the mask is what the shell would report.
            Status::Exited(code) => (code & 0xff) as u8,
            Status::Signaled(sig) => u8::try_from(128 + sig.clamp(0, 127)).unwrap_or(u8::MAX),
            Status::TimedOut => 124,
            Status::Cancelled => 130,
            Status::NotFound => 127,
            Status::NotExecutable => 126,
        }
    }

    /// Whether the program was started at all.
    pub fn started(&self) -> bool {
        !matches!(self, Status::NotFound | Status::NotExecutable)
    }
}

/// The result of [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// From start until the child's exit was seen (zero if it never started).
    pub duration: Duration,
    /// Filtered (and capped) stdout, for [`Sink::Capture`]; empty otherwise. In pty mode: the
    /// merged output.
    pub stdout: Vec<u8>,
    /// Filtered (and capped) stderr, for [`Sink::Capture`]; empty otherwise and in pty mode.
    pub stderr: Vec<u8>,
    /// The stdout cap was reached.
    pub stdout_truncated: bool,
    /// The stderr cap was reached.
    pub stderr_truncated: bool,
}

impl Outcome {
    fn not_started(status: Status) -> Self {
        Self {
            status,
            duration: Duration::ZERO,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a run could not be carried out. "Not found" and "not executable" are [`Status`]es, not
/// errors. Messages name the program and never contain environment values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A secret variable has a refused or malformed name.
    #[error("cannot run {program}: bad environment variable name")]
    EnvName {
        /// The program, as given (control characters escaped).
        program: String,
        /// What is wrong with the name.
        #[source]
        source: crate::environment::EnvNameError,
    },
    /// The same secret variable is given twice.
    #[error("cannot run {program}: environment variable {name} is given twice")]
    DuplicateEnv {
        /// The program.
        program: String,
        /// The variable.
        name: String,
    },
    /// A secret value contains a NUL byte, which an environment variable cannot carry.
    #[error(
        "cannot run {program}: the value of {name} contains a NUL byte, which an environment variable cannot carry"
    )]
    NulInValue {
        /// The program.
        program: String,
        /// The variable (its value is never shown).
        name: String,
    },
    /// Starting the program failed for a reason other than not found / not executable.
    #[error("cannot start {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The pseudo-terminal could not be set up.
    #[error("cannot set up a pseudo-terminal for {program}")]
    Pty {
        /// The program.
        program: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// Signal forwarding could not be set up.
    #[error("cannot forward signals to {program}")]
    Signals {
        /// The program.
        program: String,
        /// The system error, or "too many runs at once".
        #[source]
        source: io::Error,
    },
    /// Any other system error while supervising the child.
    #[error("{what} while running {program}")]
    Io {
        /// The program.
        program: String,
        /// What was being done, lowercase ("cannot wait for the child", …).
        what: &'static str,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// The output filter panicked; that stream's output is withheld.
    #[error("the output filter failed while running {program}")]
    Filter {
        /// The program.
        program: String,
    },
}

// ---------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------

/// Runs `cmd` with `opts`, streaming its stdout and stderr through filters from `make_filter`
/// (one per stream) into `stdout` and `stderr`.
///
/// Returns when the child has exited (or been killed) and its output is delivered; see the module
/// docs for how long output is awaited after the exit. The program not existing or not being
/// executable is an `Ok` outcome ([`Status::NotFound`], [`Status::NotExecutable`]).
///
/// With `forward_signals`, the first such run installs a process-wide handler for INT, TERM, HUP
/// and QUIT that stays installed: during runs it forwards them to the children's groups (at most 8
/// forwarding runs at once); outside runs it performs the default action (terminate), so the
/// process behaves as before. A signal arriving while the child is being started is delivered to
/// it once it exists.
pub fn run(
    cmd: &Command,
    opts: &RunOptions,
    stdout: Sink<'_>,
    stderr: Sink<'_>,
    make_filter: &dyn Fn() -> Box<dyn OutputFilter>,
) -> Result<Outcome, RunError> {
    let program = display_program(&cmd.program);
    let env = ChildEnv::build(opts, &program)?;

    let resolved = match resolve_program(&cmd.program, env.path()) {
        Ok(path) => path,
        Err(status) => return Ok(Outcome::not_started(status)),
    };
    if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
        return Ok(Outcome::not_started(Status::Cancelled));
    }

    let io_err = |what: &'static str| {
        let program = program.clone();
        move |source: io::Error| RunError::Io {
            program,
            what,
            source,
        }
    };

    // Armed before the spawn so that a Ctrl-C during it is not lost (see `forwarding`).
    let forward_slot = if opts.forward_signals {
        Some(forwarding::arm().map_err(|source| RunError::Signals {
            program: program.clone(),
            source,
        })?)
    } else {
        None
    };

    let mut std_cmd = std::process::Command::new(&resolved);
    std_cmd.arg0(&cmd.program).args(&cmd.args);
    env.apply(&mut std_cmd);
    let setup = sys::ChildSetup {
        controlling_tty: opts.pty,
        cloexec_extra_fds: opts.close_extra_fds,
        parent_death: opts.die_with_parent.then(rustix::process::getpid),
    };
    sys::install_child_setup(&mut std_cmd, setup);

    let mut pty_master = None;
    if opts.pty {
        let pty_err = |source| RunError::Pty {
            program: program.clone(),
            source,
        };
        let (master, slave) = open_pty().map_err(pty_err)?;
        if let Some(size) = terminal_size() {
            let _ = rustix::termios::tcsetwinsize(&master, size);
        }
        let stdin = if opts.stdin_null {
            Stdio::null()
        } else {
            slave.try_clone().map_err(pty_err)?.into()
        };
        std_cmd
            .stdin(stdin)
            .stdout(slave.try_clone().map_err(pty_err)?)
            .stderr(slave);
        pty_master = Some(master);
    } else {
        std_cmd
            .stdin(if opts.stdin_null {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    }

    let spawned = std_cmd.spawn();
    // Drops our copies of the pty slave (the master must see end-of-file when the child's side
    // closes) and std's copy of the environment, secrets included, as early as possible.
    drop(std_cmd);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return match classify_spawn_error(e) {
                Ok(status) => Ok(Outcome::not_started(status)),
                Err(source) => Err(RunError::Spawn { program, source }),
            };
        }
    };
    let pgid = Pid::from_child(&child);
    let mut guard = ChildGuard {
        child: None,
        pgid,
        reaped: false,
        started: Instant::now(),
    };
    let child_stdout = child.stdout.take();
    let child_stderr = child.stderr.take();
    guard.child = Some(child);
    if let Some(slot) = &forward_slot {
        slot.set_target(pgid);
    }

    let (tx, rx) = mpsc::channel::<Event>();
    spawn_waiter(pgid, tx.clone()).map_err(io_err("cannot start the waiting thread"))?;
    let _cancel_registration = opts.cancel.as_ref().map(|t| t.register(tx.clone()));
    if let Some(hook) = &opts.on_spawn {
        hook(pgid.as_raw_pid().unsigned_abs());
    }

    // Where each stream comes from.
    let mut sources: Vec<(OwnedFd, Sink<'_>, Stream)> = Vec::with_capacity(2);
    let mut input_master = None;
    match pty_master {
        Some(master) => {
            // The reader and the input copier use non-blocking I/O on the master so that neither
            // can be stuck in a read or write when told to stop.
            set_nonblocking(&master).map_err(io_err("cannot configure the pseudo-terminal"))?;
            let reader = master
                .try_clone()
                .map_err(io_err("cannot configure the pseudo-terminal"))?;
            sources.push((reader, stdout, Stream::Out));
            input_master = Some(master);
        }
        None => {
            let out = child_stdout.map(OwnedFd::from);
            let err = child_stderr.map(OwnedFd::from);
            let (Some(out), Some(err)) = (out, err) else {
                unreachable!("invariant: both streams were configured as pipes");
            };
            sources.push((out, stdout, Stream::Out));
            sources.push((err, stderr, Stream::Err));
        }
    }

    let (reader_stop_rx, reader_stop_tx) = stop_pipe().map_err(io_err("cannot create a pipe"))?;
    let (input_stop_rx, input_stop_tx) = stop_pipe().map_err(io_err("cannot create a pipe"))?;
    let raw_mode = if input_master.is_some() && !opts.stdin_null {
        RawMode::enter(rustix::stdio::stdin())
    } else {
        None
    };
    let winch = if input_master.is_some() {
        WinchWatch::start()
    } else {
        None
    };

    let readers = sources.len();
    let filters: Vec<Box<dyn OutputFilter>> = (0..readers).map(|_| make_filter()).collect();
    let cap = opts.output_cap;
    let stdin_null = opts.stdin_null;

    let (supervised, [out, err], filter_failed) = std::thread::scope(|scope| {
        // Owned by this closure so that any exit from it, panics included, stops the threads
        // before the scope joins them.
        let mut reader_stop_tx = Some(reader_stop_tx);
        let _input_stop_tx = input_stop_tx;

        let mut handles = Vec::with_capacity(readers);
        for ((fd, sink, which), filter) in sources.into_iter().zip(filters) {
            let done = DoneOnDrop(tx.clone());
            let stop = reader_stop_rx.as_fd();
            handles.push((
                which,
                scope.spawn(move || {
                    let _done = done;
                    pump(fd, stop, filter, Delivery::new(sink, cap))
                }),
            ));
        }
        if let Some(master) = input_master {
            let stop = input_stop_rx.as_fd();
            let winch = winch.as_ref().map(WinchWatch::fd);
            scope.spawn(move || forward_input(master, !stdin_null, winch, stop));
        }

        let supervised = supervise(&rx, &mut guard, opts, readers, &mut reader_stop_tx);
        drop(reader_stop_tx);

        let mut pumped: [Option<Pumped>; 2] = [None, None];
        let mut filter_failed = false;
        for (which, handle) in handles {
            match handle.join() {
                Ok(p) => pumped[which as usize] = Some(p),
                Err(_) => filter_failed = true,
            }
        }
        (supervised, pumped, filter_failed)
    });
    drop(raw_mode);
    drop(winch);

    let (status, duration) = supervised.map_err(|e| e.into_run_error(&program))?;
    if status_is_normal(status) && opts.kill_leftovers {
        guard.signal_group(Signal::KILL);
    }
    guard.reap();
    drop(forward_slot);
    if filter_failed {
        return Err(RunError::Filter { program });
    }
    let out = out.unwrap_or_default();
    let err = err.unwrap_or_default();
    Ok(Outcome {
        status,
        duration,
        stdout: out.captured,
        stderr: err.captured,
        stdout_truncated: out.truncated,
        stderr_truncated: err.truncated,
    })
}

fn status_is_normal(status: Status) -> bool {
    matches!(status, Status::Exited(_) | Status::Signaled(_))
}

/// Program name for messages: lossy UTF-8, control characters escaped, so a hostile name cannot
/// forge lines on a terminal.
fn display_program(program: &OsStr) -> String {
    program
        .to_string_lossy()
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

struct ChildEnv<'o> {
    base: Vec<(OsString, OsString)>,
    secrets: &'o [(String, Zeroizing<Vec<u8>>)],
}

impl<'o> ChildEnv<'o> {
    fn build(opts: &'o RunOptions, program: &str) -> Result<Self, RunError> {
        let mut names = HashSet::with_capacity(opts.extra_env.len());
        for (name, value) in &opts.extra_env {
            crate::environment::check_env_name(name).map_err(|source| RunError::EnvName {
                program: program.to_owned(),
                source,
            })?;
            if !names.insert(name.as_str()) {
                return Err(RunError::DuplicateEnv {
                    program: program.to_owned(),
                    name: name.clone(),
                });
            }
            if value.contains(&0) {
                return Err(RunError::NulInValue {
                    program: program.to_owned(),
                    name: name.clone(),
                });
            }
        }
        let base = match opts.base_env {
            BaseEnv::Inherit => std::env::vars_os()
                .filter(|(k, _)| !k.as_bytes().starts_with(b"SECRETCTL_"))
                .collect(),
            BaseEnv::Minimal => {
                let mut base = vec![(OsString::from("PATH"), OsString::from(MINIMAL_PATH))];
                for key in ["HOME", "LANG", "TZ"] {
                    if let Some(value) = std::env::var_os(key) {
                        base.push((key.into(), value));
                    }
                }
                base.push(("TERM".into(), "dumb".into()));
                base
            }
        };
        Ok(Self {
            base,
            secrets: &opts.extra_env,
        })
    }

    fn path(&self) -> Option<&OsStr> {
        self.base
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_os_str())
    }

    fn apply(&self, cmd: &mut std::process::Command) {
        cmd.env_clear();
        for (k, v) in &self.base {
            // Secrets win over inherited variables of the same name.
            if !self.secrets.iter().any(|(n, _)| OsStr::new(n) == k) {
                cmd.env(k, v);
            }
        }
        for (name, value) in self.secrets {
            cmd.env(name, OsStr::from_bytes(value));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Program lookup and spawn errors
// ---------------------------------------------------------------------------------------------

enum Candidate {
    Runnable,
    NotRunnable,
    Missing,
}

fn check_candidate(path: &Path) -> Candidate {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            if rustix::fs::access(path, rustix::fs::Access::EXEC_OK).is_ok() {
                Candidate::Runnable
            } else {
                Candidate::NotRunnable
            }
        }
        // Directories, devices, FIFOs: execve says EACCES.
        Ok(_) => Candidate::NotRunnable,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Candidate::NotRunnable,
        Err(_) => Candidate::Missing,
    }
}

/// execvp's lookup, deciding not-found vs not-executable ourselves (see the module docs).
fn resolve_program(program: &OsStr, path: Option<&OsStr>) -> Result<PathBuf, Status> {
    if program.is_empty() {
        return Err(Status::NotFound);
    }
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return match check_candidate(&path) {
            Candidate::Runnable => Ok(path),
            Candidate::NotRunnable => Err(Status::NotExecutable),
            Candidate::Missing => Err(Status::NotFound),
        };
    }
    let search = path.unwrap_or(OsStr::new(DEFAULT_SEARCH_PATH));
    let mut saw_unrunnable = false;
    for dir in std::env::split_paths(search) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        match check_candidate(&candidate) {
            Candidate::Runnable => return Ok(candidate),
            Candidate::NotRunnable => saw_unrunnable = true,
            Candidate::Missing => {}
        }
    }
    Err(if saw_unrunnable {
        Status::NotExecutable
    } else {
        Status::NotFound
    })
}

/// Spawn errors that are statuses (the file vanished or changed between lookup and exec, or a
/// missing script interpreter) vs real errors.
fn classify_spawn_error(e: io::Error) -> Result<Status, io::Error> {
    match e.kind() {
        io::ErrorKind::NotFound => Ok(Status::NotFound),
        io::ErrorKind::PermissionDenied | io::ErrorKind::IsADirectory => Ok(Status::NotExecutable),
        _ if e.raw_os_error() == Some(Errno::NOEXEC.raw_os_error()) => Ok(Status::NotExecutable),
        _ => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Child, group and supervision
// ---------------------------------------------------------------------------------------------

/// Owns the child until it is reaped; kills its whole group if `run` leaves early.
struct ChildGuard {
    child: Option<std::process::Child>,
    pgid: Pid,
    reaped: bool,
    started: Instant,
}

impl ChildGuard {
    /// Sends `sig` to the child's process group.
    ///
    /// Until the child is reaped its zombie keeps the pid — the group id — allocated, so the
    /// signal cannot reach another group. After reaping, the id stays allocated only while the
    /// group has members, so it is probed first.
    fn signal_group(&self, sig: Signal) {
        if self.reaped && !self.group_alive() {
            return;
        }
        let _ = rustix::process::kill_process_group(self.pgid, sig);
    }

    /// Whether any process is left in the group. Only meaningful once the child is reaped (its
    /// zombie counts as a member).
    fn group_alive(&self) -> bool {
        !matches!(
            rustix::process::test_kill_process_group(self.pgid),
            Err(Errno::SRCH)
        )
    }

    fn reap(&mut self) {
        if !self.reaped {
            if let Some(child) = &mut self.child {
                let _ = child.wait();
            }
            self.reaped = true;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !self.reaped {
            self.signal_group(Signal::KILL);
            self.reap();
        }
    }
}

/// How the child itself ended.
#[derive(Debug, Clone, Copy)]
enum Exit {
    Code(i32),
    Signal(i32),
}

enum Event {
    Exited(Exit),
    WaitFailed(io::Error),
    ReaderDone,
    Cancel,
}

/// Sends `ReaderDone` when a reader thread ends, however it ends.
struct DoneOnDrop(mpsc::Sender<Event>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Event::ReaderDone);
    }
}

/// Waits for the child's exit without reaping it (see `ChildGuard::signal_group`).
fn spawn_waiter(pid: Pid, tx: mpsc::Sender<Event>) -> io::Result<()> {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    std::thread::Builder::new()
        .name("runner-wait".into())
        .spawn(move || {
            let event = loop {
                match waitid(
                    WaitId::Pid(pid),
                    WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
                ) {
                    Ok(Some(status)) => {
                        if let Some(code) = status.exit_status() {
                            break Event::Exited(Exit::Code(code));
                        }
                        if let Some(sig) = status.terminating_signal() {
                            break Event::Exited(Exit::Signal(sig));
                        }
                        // Only exits were asked for; anything else is waited through.
                    }
                    Ok(None) | Err(Errno::INTR) => {}
                    Err(e) => break Event::WaitFailed(e.into()),
                }
            };
            // The receiver is gone only if `run` already returned; nothing to report then.
            let _ = tx.send(event);
        })
        .map(drop)
}

/// A supervision failure, turned into a `RunError` by the caller (which knows the program).
struct SuperviseError(io::Error);

impl SuperviseError {
    fn into_run_error(self, program: &str) -> RunError {
        RunError::Io {
            program: program.to_owned(),
            what: "cannot wait for the child",
            source: self.0,
        }
    }
}

/// Waits for the child and its output, enforcing timeout, cancellation and the drain grace.
/// Returns the status and the time until the child's exit was seen.
fn supervise(
    rx: &mpsc::Receiver<Event>,
    guard: &mut ChildGuard,
    opts: &RunOptions,
    mut readers_left: usize,
    reader_stop: &mut Option<OwnedFd>,
) -> Result<(Status, Duration), SuperviseError> {
    let deadline = opts.timeout.map(|t| guard.started + t);
    // Set when we end the run ourselves (timeout, cancellation).
    let mut ending: Option<Status> = None;
    let mut kill_at: Option<Instant> = None;
    // After `ending`: KILL was sent, or the group turned out to be gone without it.
    let mut group_done = false;
    let mut exited: Option<(Exit, Instant)> = None;
    let mut drain_until: Option<Instant> = None;

    let terminate = |guard: &ChildGuard, now: Instant| {
        guard.signal_group(Signal::TERM);
        // Stopped members would only act on TERM once continued.
        guard.signal_group(Signal::CONT);
        now + opts.kill_grace
    };

    loop {
        let now = Instant::now();
        if ending.is_none() && exited.is_none() && deadline.is_some_and(|d| now >= d) {
            ending = Some(Status::TimedOut);
            kill_at = Some(terminate(guard, now));
        }
        if !group_done && kill_at.is_some_and(|k| now >= k) {
            guard.signal_group(Signal::KILL);
            group_done = true;
        }
        if exited.is_some() {
            if ending.is_some() && !group_done {
                // The child is gone; wait (until `kill_at`) for the rest of the group to follow.
                guard.reap();
                if !guard.group_alive() {
                    group_done = true;
                }
            }
            if ending.is_none() || group_done {
                if readers_left == 0 {
                    break;
                }
                let until = *drain_until.get_or_insert(now + DRAIN_GRACE);
                if now >= until {
                    // Readers take what is buffered and finish; they send `ReaderDone`.
                    reader_stop.take();
                }
            }
        }

        let mut wake: Option<Instant> = None;
        let mut wake_at = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        if ending.is_none() && exited.is_none() {
            deadline.map(&mut wake_at);
        }
        if !group_done {
            kill_at.map(&mut wake_at);
        }
        if ending.is_some() && exited.is_some() && !group_done {
            wake_at(now + GROUP_PROBE_INTERVAL);
        }
        if reader_stop.is_some() {
            drain_until.map(&mut wake_at);
        }
        let event = match wake {
            Some(t) => rx.recv_timeout(t.saturating_duration_since(Instant::now())),
            // `run` holds a sender, so the channel cannot disconnect.
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Exited(exit)) => exited = Some((exit, Instant::now())),
            Ok(Event::ReaderDone) => readers_left = readers_left.saturating_sub(1),
            Ok(Event::Cancel) => {
                if ending.is_none() && exited.is_none() {
                    ending = Some(Status::Cancelled);
                    kill_at = Some(terminate(guard, Instant::now()));
                }
            }
            Ok(Event::WaitFailed(e)) => return Err(SuperviseError(e)),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(SuperviseError(io::Error::other(
                    "supervision channel closed unexpectedly",
                )));
            }
        }
    }

    let Some((exit, exited_at)) = exited else {
        unreachable!("invariant: the loop only ends after the child's exit");
    };
    let status = ending.unwrap_or(match exit {
        Exit::Code(code) => Status::Exited(code),
        Exit::Signal(sig) => Status::Signaled(sig),
    });
    Ok((status, exited_at.saturating_duration_since(guard.started)))
}

// ---------------------------------------------------------------------------------------------
// Output streams
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Stream {
    Out = 0,
    Err = 1,
}

#[derive(Debug, Default)]
struct Pumped {
    captured: Vec<u8>,
    truncated: bool,
}

/// Applies the cap and writes filtered bytes to the sink.
struct Delivery<'a> {
    sink: Sink<'a>,
    cap: Option<usize>,
    captured: Vec<u8>,
    delivered: usize,
    truncated: bool,
    broken: bool,
}

impl<'a> Delivery<'a> {
    fn new(sink: Sink<'a>, cap: Option<usize>) -> Self {
        Self {
            sink,
            cap,
            captured: Vec::new(),
            delivered: 0,
            truncated: false,
            broken: false,
        }
    }

    fn deliver(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let room = self
            .cap
            .map_or(usize::MAX, |cap| cap.saturating_sub(self.delivered));
        let take = bytes.len().min(room);
        if take < bytes.len() {
            // The filter has already replaced secrets, so cutting here cannot leave a prefix of
            // one (SPEC §7.3).
            self.truncated = true;
        }
        let part = &bytes[..take];
        self.delivered += take;
        if part.is_empty() {
            return;
        }
        match &mut self.sink {
            Sink::Capture => self.captured.extend_from_slice(part),
            Sink::Stream(w) => {
                if w.write_all(part).and_then(|()| w.flush()).is_err() {
                    self.broken = true;
                }
            }
        }
    }

    fn into_pumped(self) -> Pumped {
        Pumped {
            captured: self.captured,
            truncated: self.truncated,
        }
    }
}

/// Waits until `a` has `a_events` or `stop` is readable (or hung up). Returns both revents.
fn poll_with_stop(
    a: BorrowedFd<'_>,
    a_events: PollFlags,
    stop: BorrowedFd<'_>,
) -> io::Result<(PollFlags, PollFlags)> {
    loop {
        let mut fds = [
            PollFd::from_borrowed_fd(a, a_events),
            PollFd::from_borrowed_fd(stop, PollFlags::IN),
        ];
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => return Ok((fds[0].revents(), fds[1].revents())),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads one stream until end-of-file, a broken sink, or a stop request (then only what is
/// buffered at that moment). Dropping `src` on return closes our end of the pipe.
fn pump(
    src: OwnedFd,
    stop: BorrowedFd<'_>,
    mut filter: Box<dyn OutputFilter>,
    mut out: Delivery<'_>,
) -> Pumped {
    let mut buf = vec![0u8; CHUNK];
    let mut released = Vec::with_capacity(CHUNK);
    let mut emit = |chunk: &[u8], filter: &mut Box<dyn OutputFilter>, out: &mut Delivery<'_>| {
        filter.push(chunk, &mut released);
        out.deliver(&released);
        released.clear();
        !out.broken
    };
    while let Ok((_, stop_events)) = poll_with_stop(src.as_fd(), PollFlags::IN, stop) {
        if !stop_events.is_empty() {
            // Bounded drain: exactly what is in the pipe now, so a writer that never stops cannot
            // keep us here.
            let mut left = rustix::io::ioctl_fionread(&src).unwrap_or(0);
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                match rustix::io::read(&src, &mut buf[..want]) {
                    Ok(0) => break,
                    Ok(n) => {
                        left = left.saturating_sub(n as u64);
                        if !emit(&buf[..n], &mut filter, &mut out) {
                            return out.into_pumped();
                        }
                    }
                    Err(Errno::INTR) => {}
                    Err(_) => break,
                }
            }
            break;
        }
        match rustix::io::read(&src, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if !emit(&buf[..n], &mut filter, &mut out) {
                    return out.into_pumped();
                }
            }
            Err(Errno::INTR | Errno::AGAIN) => {}
            // EIO is how a pty master reports that every slave descriptor is closed.
            Err(_) => break,
        }
    }
    let mut tail = Vec::new();
    filter.finish(&mut tail);
    out.deliver(&tail);
    out.into_pumped()
}

// ---------------------------------------------------------------------------------------------
// Pseudo-terminal
// ---------------------------------------------------------------------------------------------

fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pty::{OpenptFlags, grantpt, ioctl_tiocgptpeer, openpt, ptsname, unlockpt};
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = openpt(flags)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    // TIOCGPTPEER opens the slave without a path lookup (Linux 4.13+); the path is the fallback.
    let slave = match ioctl_tiocgptpeer(&master, flags) {
        Ok(slave) => slave,
        Err(_) => {
            let name = ptsname(&master, Vec::new())?;
            rustix::fs::open(
                name.as_c_str(),
                rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )?
        }
    };
    Ok((master, slave))
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

/// Our terminal's size: from stdout, else stdin, else none (the pty keeps 0x0, which programs
/// read as "unknown").
fn terminal_size() -> Option<rustix::termios::Winsize> {
    [rustix::stdio::stdout(), rustix::stdio::stdin()]
        .into_iter()
        .filter(|fd| rustix::termios::isatty(fd))
        .find_map(|fd| rustix::termios::tcgetwinsize(fd).ok())
}

/// Our terminal in raw mode while the child owns the pty; restored on drop.
struct RawMode {
    fd: BorrowedFd<'static>,
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enter(fd: BorrowedFd<'static>) -> Option<Self> {
        use rustix::termios::{OptionalActions, isatty, tcgetattr, tcsetattr};
        if !isatty(fd) {
            return None;
        }
        let saved = tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(fd, OptionalActions::Now, &raw).ok()?;
        Some(Self { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ =
            rustix::termios::tcsetattr(self.fd, rustix::termios::OptionalActions::Now, &self.saved);
    }
}

/// SIGWINCH delivered as a byte on a pipe while the pty is in use.
struct WinchWatch {
    read: OwnedFd,
    id: signal_hook::SigId,
}

impl WinchWatch {
    fn start() -> Option<Self> {
        terminal_size()?;
        let flags = rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK;
        let (read, write) = rustix::pipe::pipe_with(flags).ok()?;
        let id =
            signal_hook::low_level::pipe::register(signal_hook::consts::SIGWINCH, write).ok()?;
        Some(Self { read, id })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl Drop for WinchWatch {
    fn drop(&mut self) {
        // SIGWINCH is ignored by default, which is what signal-hook leaves behind.
        signal_hook::low_level::unregister(self.id);
    }
}

/// Copies our stdin to the pty (when `copy_stdin`) and our window size changes, until `stop`.
/// End of our stdin becomes VEOF, so the child sees end of input.
fn forward_input(
    master: OwnedFd,
    copy_stdin: bool,
    winch: Option<BorrowedFd<'_>>,
    stop: BorrowedFd<'_>,
) {
    let stdin = rustix::stdio::stdin();
    let mut reading = copy_stdin;
    let mut buf = [0u8; 4096];
    let mut at_line_start = true;
    loop {
        let mut fds = Vec::with_capacity(3);
        fds.push(PollFd::from_borrowed_fd(stop, PollFlags::IN));
        if let Some(w) = winch {
            fds.push(PollFd::from_borrowed_fd(w, PollFlags::IN));
        }
        if reading {
            fds.push(PollFd::from_borrowed_fd(stdin, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => return,
        }
        let stop_ready = !fds[0].revents().is_empty();
        let winch_ready = winch.is_some() && !fds[1].revents().is_empty();
        let stdin_ready = reading && fds.last().is_some_and(|f| !f.revents().is_empty());
        drop(fds);
        if stop_ready {
            return;
        }
        if winch_ready && let Some(w) = winch {
            while matches!(rustix::io::read(w, &mut buf), Ok(n) if n > 0) {}
            if let Some(size) = terminal_size() {
                let _ = rustix::termios::tcsetwinsize(&master, size);
            }
        }
        if stdin_ready {
            match rustix::io::read(stdin, &mut buf) {
                Ok(n) if n > 0 => {
                    at_line_start = buf[n - 1] == b'\n';
                    if !write_all_nonblocking(&master, &buf[..n], stop) {
                        return;
                    }
                }
                Err(Errno::INTR | Errno::AGAIN) => {}
                _ => {
                    // In canonical mode the first VEOF only ends a partial line; the second is
                    // end-of-file.
                    reading = false;
                    let eof: &[u8] = if at_line_start {
                        &[VEOF]
                    } else {
                        &[VEOF, VEOF]
                    };
                    if !write_all_nonblocking(&master, eof, stop) {
                        return;
                    }
                }
            }
        }
    }
}

/// Writes all of `data` to the non-blocking `fd`, waiting for room; false on error or stop.
fn write_all_nonblocking(fd: &OwnedFd, mut data: &[u8], stop: BorrowedFd<'_>) -> bool {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => match poll_with_stop(fd.as_fd(), PollFlags::OUT, stop) {
                Ok((_, stop_events)) if stop_events.is_empty() => {}
                _ => return false,
            },
            Err(_) => return false,
        }
    }
    true
}

/// A pipe whose write end, when dropped, wakes every poller of the read end (POLLHUP).
fn stop_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

// ---------------------------------------------------------------------------------------------
// Signal forwarding
// ---------------------------------------------------------------------------------------------

/// Process-wide forwarding of INT/TERM/HUP/QUIT to the groups of running children.
///
/// One handler per signal is installed once and never removed (signal-hook cannot restore the
/// previous disposition). Each run with `forward_signals` holds a slot: `ARMED` before its child
/// exists (signals are remembered in `PENDING`), then the child's pgid. With no slot in use the
/// handler performs the signal's default action, so outside runs the process behaves as if no
/// handler were installed.
mod forwarding {
    use std::io;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicI32, Ordering};

    use rustix::process::{Pid, Signal};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

    use super::sys;

    const SLOTS: usize = 8;
    const FREE: i32 = 0;
    const ARMED: i32 = -1;

    static TARGETS: [AtomicI32; SLOTS] = [const { AtomicI32::new(FREE) }; SLOTS];
    static PENDING: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
    /// Result of installing the handlers (raw OS error on failure).
    static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

    /// The signal handler. Async-signal-safe: atomics, kill(2), signal-hook's default emulation.
    fn on_signal(sig: i32) {
        let mut in_use = false;
        for (target, pending) in TARGETS.iter().zip(&PENDING) {
            match target.load(Ordering::SeqCst) {
                FREE => {}
                ARMED => {
                    pending.store(sig, Ordering::SeqCst);
                    in_use = true;
                }
                pgid => {
                    in_use = true;
                    // pgid > 1 is guaranteed by `Slot::set_target`; kill(-1) would signal
                    // everything we may signal.
                    if let (Some(pid), Some(signal)) =
                        (Pid::from_raw(pgid), Signal::from_named_raw(sig))
                        && pgid > 1
                    {
                        let _ = rustix::process::kill_process_group(pid, signal);
                    }
                }
            }
        }
        if !in_use {
            let _ = signal_hook::low_level::emulate_default_handler(sig);
        }
    }

    fn install() -> io::Result<()> {
        let result = INSTALLED.get_or_init(|| {
            for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
                if let Err(e) = sys::register_signal_action(sig, on_signal) {
                    return Err(e.raw_os_error().unwrap_or(0));
                }
            }
            Ok(())
        });
        result.map_err(io::Error::from_raw_os_error)
    }

    /// A run's forwarding slot; freed on drop.
    pub(super) struct Slot(usize);

    pub(super) fn arm() -> io::Result<Slot> {
        install()?;
        for (i, target) in TARGETS.iter().enumerate() {
            if target
                .compare_exchange(FREE, ARMED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                PENDING[i].store(0, Ordering::SeqCst);
                return Ok(Slot(i));
            }
        }
        Err(io::Error::other(format!(
            "too many runs forwarding signals at once (at most {SLOTS})"
        )))
    }

    impl Slot {
        /// The child exists: forward to its group from now on, and deliver what came meanwhile.
        pub(super) fn set_target(&self, pgid: Pid) {
            let raw = pgid.as_raw_pid();
            if raw <= 1 {
                return;
            }
            TARGETS[self.0].store(raw, Ordering::SeqCst);
            let pending = PENDING[self.0].swap(0, Ordering::SeqCst);
            if let Some(signal) = Signal::from_named_raw(pending) {
                let _ = rustix::process::kill_process_group(pgid, signal);
            }
        }
    }

    impl Drop for Slot {
        fn drop(&mut self) {
            TARGETS[self.0].store(FREE, Ordering::SeqCst);
            // A signal that came before any child existed (the spawn failed) was meant for us:
            // act on it now, as the default action would have.
            let pending = PENDING[self.0].swap(0, Ordering::SeqCst);
            if pending != 0 && TARGETS.iter().all(|t| t.load(Ordering::SeqCst) == FREE) {
                let _ = signal_hook::low_level::emulate_default_handler(pending);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Unit tests (process-level behaviour is tested in tests/)
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_spec() {
        assert_eq!(Status::Exited(0).exit_code(), 0);
        assert_eq!(Status::Exited(7).exit_code(), 7);
        assert_eq!(Status::Exited(255).exit_code(), 255);
        assert_eq!(Status::Signaled(15).exit_code(), 143);
        assert_eq!(Status::Signaled(9).exit_code(), 137);
        assert_eq!(Status::TimedOut.exit_code(), 124);
        assert_eq!(Status::NotExecutable.exit_code(), 126);
        assert_eq!(Status::NotFound.exit_code(), 127);
        assert_eq!(Status::Cancelled.exit_code(), 130);
    }

    #[test]
    fn debug_of_options_hides_values() {
        let mut opts = RunOptions::mcp();
        opts.extra_env.push((
            "API_TOKEN".into(),
            Zeroizing::new(b"hunter2-very-secret".to_vec()),
        ));
        let dbg = format!("{opts:?}");
        assert!(dbg.contains("API_TOKEN"));
        assert!(!dbg.contains("hunter2"));
        assert!(!dbg.contains("104, 117")); // the bytes of "hu…" as a list
    }

    #[test]
    fn program_names_are_escaped_in_messages() {
        assert_eq!(
            display_program(OsStr::new("a\nb\x1b[31m")),
            "a\\nb\\u{1b}[31m"
        );
    }

    #[test]
    fn lookup_follows_execvp() {
        let path = Some(OsStr::new("/nonexistent-dir:/bin:/usr/bin"));
        assert!(resolve_program(OsStr::new("sh"), path).is_ok());
        assert_eq!(
            resolve_program(OsStr::new("no-such-program-xyz"), path),
            Err(Status::NotFound)
        );
        assert_eq!(resolve_program(OsStr::new(""), path), Err(Status::NotFound));
        assert_eq!(
            resolve_program(OsStr::new("/"), path),
            Err(Status::NotExecutable)
        );
        assert_eq!(
            resolve_program(OsStr::new("sh"), Some(OsStr::new("/"))),
            Err(Status::NotFound)
        );
    }

    #[test]
    fn lookup_skips_unexecutable_candidates_like_execvp() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("runner-lookup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sh");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir_all(dir.join("subdir")).unwrap();

        let only_dir = dir.as_os_str().to_owned();
        assert_eq!(
            resolve_program(OsStr::new("sh"), Some(&only_dir)),
            Err(Status::NotExecutable)
        );
        assert_eq!(
            resolve_program(OsStr::new("subdir"), Some(&only_dir)),
            Err(Status::NotExecutable)
        );
        let mut then_bin = only_dir.clone();
        then_bin.push(":/bin");
        assert_eq!(
            resolve_program(OsStr::new("sh"), Some(&then_bin)),
            Ok(PathBuf::from("/bin/sh"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
