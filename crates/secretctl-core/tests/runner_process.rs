//! Process-level tests of the runner: exit codes, streaming, timeouts and process groups, caps,
//! environment, descriptors, pseudo-terminal, cancellation, signal forwarding.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use secretctl_core::runner::{
    CancelToken, Command, OutputFilter, PassThrough, RunError, RunOptions, Sink, Status, run,
};
use zeroize::Zeroizing;

fn pass() -> Box<dyn OutputFilter> {
    Box::new(PassThrough)
}

fn sh(script: &str) -> Command {
    Command::new("sh").arg("-c").arg(script)
}

/// CLI profile without signal forwarding (the test harness must keep its own signal handling)
/// and with stdin closed, so tests never read the developer's terminal.
fn quiet() -> RunOptions {
    let mut opts = RunOptions::cli();
    opts.forward_signals = false;
    opts.stdin_null = true;
    opts
}

fn capture(cmd: &Command, opts: &RunOptions) -> secretctl_core::runner::Outcome {
    run(cmd, opts, Sink::Capture, Sink::Capture, &pass).expect("run")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Dead = gone, or a zombie waiting for a reaper that is not ours.
fn is_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn wait_dead(pid: i32, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if is_dead(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    is_dead(pid)
}

fn kill(pid: i32, sig: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "runner-test-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

// ----- exit codes ------------------------------------------------------------------------------

#[test]
fn exit_code_is_the_childs() {
    let out = capture(&sh("exit 7"), &quiet());
    assert_eq!(out.status, Status::Exited(7));
    assert_eq!(out.status.exit_code(), 7);
    assert_eq!(
        capture(&Command::new("true"), &quiet()).status.exit_code(),
        0
    );
}

#[test]
fn death_by_signal_is_128_plus_n() {
    let out = capture(&sh("kill -TERM $$"), &quiet());
    assert_eq!(out.status, Status::Signaled(15));
    assert_eq!(out.status.exit_code(), 143);
}

#[test]
fn missing_program_is_127() {
    for program in [
        "no-such-program-a8f3",
        "/nonexistent/dir/prog",
        "./no-such-file-a8f3",
    ] {
        let out = capture(&Command::new(program), &quiet());
        assert_eq!(out.status, Status::NotFound, "{program}");
        assert_eq!(out.status.exit_code(), 127);
    }
}

#[test]
fn unexecutable_file_and_directory_are_126() {
    let file = temp_path("noexec");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = capture(&Command::new(&file), &quiet());
    assert_eq!(out.status, Status::NotExecutable);
    assert_eq!(out.status.exit_code(), 126);

    let dir = std::env::temp_dir();
    let out = capture(&Command::new(&dir), &quiet());
    assert_eq!(out.status, Status::NotExecutable);
    assert_eq!(out.status.exit_code(), 126);

    std::fs::remove_file(&file).unwrap();
}

#[test]
fn argv0_is_the_name_given() {
    let out = capture(&Command::new("cat").arg("/proc/self/cmdline"), &quiet());
    assert_eq!(out.stdout, b"cat\0/proc/self/cmdline\0");
}

// ----- streams and filters ---------------------------------------------------------------------

/// Replaces "secret" within a chunk; good enough to show the filter is on the path.
struct Replace(Arc<AtomicUsize>);

impl OutputFilter for Replace {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let s = String::from_utf8_lossy(chunk).replace("secret", "[REDACTED]");
        out.extend_from_slice(s.as_bytes());
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        out.extend_from_slice(b"<end>");
    }
}

#[test]
fn each_stream_goes_through_its_own_filter() {
    let finished = Arc::new(AtomicUsize::new(0));
    let made = AtomicUsize::new(0);
    let make = || {
        made.fetch_add(1, Ordering::SeqCst);
        Box::new(Replace(finished.clone())) as Box<dyn OutputFilter>
    };
    let out = run(
        &sh("echo out secret; echo err secret >&2"),
        &quiet(),
        Sink::Capture,
        Sink::Capture,
        &make,
    )
    .unwrap();
    assert_eq!(text(&out.stdout), "out [REDACTED]\n<end>");
    assert_eq!(text(&out.stderr), "err [REDACTED]\n<end>");
    assert_eq!(made.load(Ordering::SeqCst), 2);
    assert_eq!(finished.load(Ordering::SeqCst), 2);
}

/// Sends every write, with its time, to a channel.
struct Timed(mpsc::Sender<(Instant, Vec<u8>)>);

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.send((Instant::now(), buf.to_vec()));
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn prompt_arrives_before_exit(pty: bool) {
    let (tx, rx) = mpsc::channel();
    let mut opts = quiet();
    opts.pty = pty;
    let start = Instant::now();
    let out = run(
        &sh("printf 'Password: '; sleep 1; echo done"),
        &opts,
        Sink::stream(Timed(tx)),
        Sink::Capture,
        &pass,
    )
    .unwrap();
    let end = Instant::now();
    assert_eq!(out.status, Status::Exited(0));
    let writes: Vec<_> = rx.try_iter().collect();
    let (first_at, first) = writes.first().expect("some output");
    assert_eq!(text(first), "Password: ");
    assert!(
        first_at.duration_since(start) < Duration::from_millis(700),
        "prompt came after {:?}",
        first_at.duration_since(start)
    );
    assert!(end.duration_since(*first_at) >= Duration::from_millis(700));
}

#[test]
fn prompt_without_newline_is_streamed_at_once() {
    prompt_arrives_before_exit(false);
}

#[test]
fn prompt_without_newline_is_streamed_at_once_on_pty() {
    prompt_arrives_before_exit(true);
}

#[test]
fn filter_tail_is_released_at_end() {
    /// Holds everything back until the end.
    struct HoldAll(Vec<u8>);
    impl OutputFilter for HoldAll {
        fn push(&mut self, chunk: &[u8], _out: &mut Vec<u8>) {
            self.0.extend_from_slice(chunk);
        }
        fn finish(&mut self, out: &mut Vec<u8>) {
            out.append(&mut self.0);
        }
    }
    let make = || Box::new(HoldAll(Vec::new())) as Box<dyn OutputFilter>;
    let out = run(
        &sh("echo a; echo b"),
        &quiet(),
        Sink::Capture,
        Sink::Capture,
        &make,
    )
    .unwrap();
    assert_eq!(out.stdout, b"a\nb\n");
}

#[test]
fn broken_sink_closes_the_pipe_instead_of_hanging() {
    struct Fails;
    impl Write for Fails {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let start = Instant::now();
    let out = run(
        &Command::new("yes"),
        &quiet(),
        Sink::stream(Fails),
        Sink::Capture,
        &pass,
    )
    .unwrap();
    assert_eq!(out.status, Status::Signaled(13), "yes dies of SIGPIPE");
    assert!(start.elapsed() < Duration::from_secs(5));
}

// ----- output cap -------------------------------------------------------------------------------

#[test]
fn cap_truncates_after_filtering_and_keeps_the_child_running() {
    let mut opts = quiet();
    opts.output_cap = Some(1000);
    // 3 MB is far more than a pipe holds: the child would block if we stopped reading.
    let out = capture(&sh("head -c 3000000 /dev/zero; echo tail >&2"), &opts);
    assert_eq!(out.status, Status::Exited(0));
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.stdout_truncated);
    assert_eq!(out.stderr, b"tail\n");
    assert!(!out.stderr_truncated);

    let finished = Arc::new(AtomicUsize::new(0));
    let make = || Box::new(Replace(finished.clone())) as Box<dyn OutputFilter>;
    opts.output_cap = Some(14);
    let out = run(
        &sh("echo secret"),
        &opts,
        Sink::Capture,
        Sink::Capture,
        &make,
    )
    .unwrap();
    assert_eq!(
        text(&out.stdout),
        "[REDACTED]\n<en",
        "cap counts filtered bytes"
    );
    assert!(out.stdout_truncated);
}

#[test]
fn exact_fit_is_not_truncated() {
    let mut opts = quiet();
    opts.output_cap = Some(6);
    let out = capture(&sh("echo hello"), &opts);
    assert_eq!(out.stdout, b"hello\n");
    assert!(!out.stdout_truncated);
}

// ----- timeouts and process groups --------------------------------------------------------------

#[test]
fn timeout_kills_the_whole_group() {
    let mut opts = quiet();
    opts.timeout = Some(Duration::from_secs(1));
    let child_pid = Arc::new(AtomicU32::new(0));
    let seen = child_pid.clone();
    opts.on_spawn = Some(Arc::new(move |pid| seen.store(pid, Ordering::SeqCst)));
    let start = Instant::now();
    // The background sleep keeps stdout open after its parent is gone.
    let out = capture(&sh("sleep 100 & echo $!; sleep 100"), &opts);
    let elapsed = start.elapsed();
    assert_eq!(out.status, Status::TimedOut);
    assert_eq!(out.status.exit_code(), 124);
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    let grandchild: i32 = text(&out.stdout).trim().parse().expect("pid printed");
    assert!(
        wait_dead(grandchild, Duration::from_secs(2)),
        "grandchild {grandchild} survived"
    );
    let child = child_pid.load(Ordering::SeqCst) as i32;
    assert!(child > 1 && is_dead(child));
}

#[test]
fn timeout_escalates_to_kill_after_the_grace() {
    let mut opts = quiet();
    opts.timeout = Some(Duration::from_secs(1));
    opts.kill_grace = Duration::from_secs(1);
    let start = Instant::now();
    // Both the shell and its background child ignore TERM.
    let out = capture(&sh("trap '' TERM; sleep 100 & echo $!; sleep 100"), &opts);
    let elapsed = start.elapsed();
    assert_eq!(out.status, Status::TimedOut);
    assert!(
        elapsed >= Duration::from_millis(1900),
        "KILL came early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let grandchild: i32 = text(&out.stdout).trim().parse().expect("pid printed");
    assert!(wait_dead(grandchild, Duration::from_secs(2)));
}

#[test]
fn timeout_with_default_grace_returns_within_six_seconds() {
    let mut opts = quiet();
    opts.timeout = Some(Duration::from_secs(1));
    let start = Instant::now();
    let out = capture(&sh("trap '' TERM; sleep 100 & echo $!; sleep 100"), &opts);
    let elapsed = start.elapsed();
    assert_eq!(out.status, Status::TimedOut);
    assert!(elapsed < Duration::from_millis(6500), "took {elapsed:?}");
    let grandchild: i32 = text(&out.stdout).trim().parse().expect("pid printed");
    assert!(wait_dead(grandchild, Duration::from_secs(2)));
}

#[test]
fn grandchild_holding_the_pipe_does_not_block_a_normal_exit() {
    let start = Instant::now();
    let out = capture(&sh("sleep 30 & echo $!; echo hi"), &quiet());
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status, Status::Exited(0));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let grandchild: i32 = lines.next().unwrap().parse().unwrap();
    assert_eq!(lines.next(), Some("hi"));
    // CLI profile: background processes are left alone, as a shell would.
    assert!(!is_dead(grandchild));
    kill(grandchild, rustix::process::Signal::KILL);

    let mut opts = quiet();
    opts.kill_leftovers = true;
    let out = capture(&sh("sleep 30 & echo $!"), &opts);
    let grandchild: i32 = text(&out.stdout).trim().parse().unwrap();
    assert!(
        wait_dead(grandchild, Duration::from_secs(2)),
        "leftover survived"
    );
}

#[test]
fn child_leads_its_own_session_and_group() {
    let pid = Arc::new(AtomicU32::new(0));
    let seen = pid.clone();
    let mut opts = quiet();
    opts.on_spawn = Some(Arc::new(move |p| seen.store(p, Ordering::SeqCst)));
    let out = capture(&sh("cat /proc/$$/stat"), &opts);
    let stat = text(&out.stdout);
    let (_, rest) = stat.rsplit_once(')').unwrap();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let pid = pid.load(Ordering::SeqCst).to_string();
    assert_eq!(fields[2], pid, "pgrp");
    assert_eq!(fields[3], pid, "session");
}

#[test]
fn cancel_ends_the_run() {
    let token = CancelToken::new();
    let mut opts = quiet();
    opts.cancel = Some(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        token.cancel();
    });
    let start = Instant::now();
    let out = capture(&sh("sleep 30"), &opts);
    canceller.join().unwrap();
    assert_eq!(out.status, Status::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(3));

    // Cancelled before it starts: nothing runs.
    let token = CancelToken::new();
    token.cancel();
    opts.cancel = Some(token);
    assert_eq!(capture(&sh("exit 0"), &opts).status, Status::Cancelled);
}

// ----- environment ------------------------------------------------------------------------------

#[test]
fn minimal_environment_has_only_the_listed_variables() {
    let mut opts = RunOptions::mcp();
    opts.extra_env = vec![("API_TOKEN".into(), Zeroizing::new(b"s3cr3t value".to_vec()))];
    let out = capture(&Command::new("env"), &opts);
    assert_eq!(out.status, Status::Exited(0));
    let env = text(&out.stdout);
    let mut names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    names.sort_unstable();
    let allowed = ["API_TOKEN", "HOME", "LANG", "PATH", "TERM", "TZ"];
    assert!(names.iter().all(|n| allowed.contains(n)), "{names:?}");
    assert!(
        env.lines()
            .any(|l| l == "PATH=/usr/local/bin:/usr/bin:/bin")
    );
    assert!(env.lines().any(|l| l == "TERM=dumb"));
    assert!(env.lines().any(|l| l == "API_TOKEN=s3cr3t value"));
}

#[test]
fn bad_secret_variables_are_errors_without_values() {
    let mut opts = quiet();
    opts.extra_env = vec![("LD_PRELOAD".into(), Zeroizing::new(b"/tmp/x.so".to_vec()))];
    let err = run(
        &Command::new("true"),
        &opts,
        Sink::Capture,
        Sink::Capture,
        &pass,
    )
    .unwrap_err();
    assert!(matches!(err, RunError::EnvName { .. }), "{err:?}");

    opts.extra_env = vec![("TOKEN".into(), Zeroizing::new(b"abc\0def-secret".to_vec()))];
    let err = run(
        &Command::new("true"),
        &opts,
        Sink::Capture,
        Sink::Capture,
        &pass,
    )
    .unwrap_err();
    assert!(matches!(err, RunError::NulInValue { .. }));
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("TOKEN") && !msg.contains("secret"), "{msg}");

    opts.extra_env = vec![
        ("TOKEN".into(), Zeroizing::new(b"a".to_vec())),
        ("TOKEN".into(), Zeroizing::new(b"b".to_vec())),
    ];
    let err = run(
        &Command::new("true"),
        &opts,
        Sink::Capture,
        Sink::Capture,
        &pass,
    )
    .unwrap_err();
    assert!(matches!(err, RunError::DuplicateEnv { .. }));
}

// ----- descriptors ------------------------------------------------------------------------------

fn listed_fds(opts: &RunOptions) -> Vec<i32> {
    let out = capture(&Command::new("ls").arg("-1").arg("/proc/self/fd"), opts);
    assert_eq!(out.status, Status::Exited(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[test]
fn extra_descriptors_are_closed_on_request() {
    // A descriptor without close-on-exec, as a careless parent might leave one.
    let file = std::fs::File::open("/dev/null").unwrap();
    let leaked = rustix::io::dup(&file).unwrap();
    rustix::io::fcntl_setfd(&leaked, rustix::io::FdFlags::empty()).unwrap();
    let leaked_no = leaked.as_raw_fd();

    let mut opts = quiet();
    assert!(
        listed_fds(&opts).contains(&leaked_no),
        "control: the leak is visible"
    );

    opts.close_extra_fds = true;
    let fds = listed_fds(&opts);
    assert!(!fds.contains(&leaked_no), "{fds:?}");
    // 0, 1, 2 and the directory ls itself is reading.
    assert!(fds.iter().filter(|&&fd| fd > 2).count() <= 1, "{fds:?}");

    opts.pty = true;
    let fds = listed_fds(&opts);
    assert!(!fds.contains(&leaked_no), "pty: {fds:?}");
    assert!(
        fds.iter().filter(|&&fd| fd > 2).count() <= 1,
        "pty: {fds:?}"
    );
}

// ----- pseudo-terminal --------------------------------------------------------------------------

#[test]
fn pty_mode_gives_the_child_a_terminal() {
    let mut opts = quiet();
    opts.pty = true;
    let out = capture(
        &sh("test -t 1 && test -t 2 && echo tty; echo err >&2"),
        &opts,
    );
    assert_eq!(out.status, Status::Exited(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("tty\r\n"), "{stdout:?}");
    assert!(stdout.contains("err"), "stderr is merged: {stdout:?}");
    assert!(out.stderr.is_empty());

    // /dev/tty is the pty.
    let out = capture(&sh("echo via-tty > /dev/tty"), &opts);
    assert!(text(&out.stdout).contains("via-tty"));

    let out = capture(&sh("test -t 1 || echo notty"), &quiet());
    assert_eq!(text(&out.stdout), "notty\n");
}

#[test]
fn pty_mode_keeps_exit_codes() {
    let mut opts = quiet();
    opts.pty = true;
    assert_eq!(capture(&sh("exit 3"), &opts).status.exit_code(), 3);
    assert_eq!(capture(&sh("kill -TERM $$"), &opts).status.exit_code(), 143);
    assert_eq!(
        capture(&Command::new("no-such-program-a8f3"), &opts)
            .status
            .exit_code(),
        127
    );
    opts.timeout = Some(Duration::from_millis(500));
    let start = Instant::now();
    let out = capture(&sh("sleep 100 & sleep 100"), &opts);
    assert_eq!(out.status, Status::TimedOut);
    assert!(start.elapsed() < Duration::from_secs(6));
}

// ----- tests through the example CLI (separate process) -----------------------------------------

fn example(name: &str) -> PathBuf {
    // target/debug/deps/process-HASH → target/debug/examples/NAME
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

#[test]
fn pty_mode_copies_stdin_and_signals_end_of_input() {
    let mut child = std::process::Command::new(example("run_cli"))
        .args([
            "--pty",
            "--",
            "sh",
            "-c",
            "read line; echo \"got:$line\"; cat",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A line, then a partial line without newline, then end of input.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello\nabc")
        .unwrap();
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("got:hello"), "{stdout:?}");
    assert!(stdout.contains("abc"), "{stdout:?}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn spawn_example_and_wait_for(args: &[&str], marker: &str, on_stderr: bool) -> std::process::Child {
    let mut child = std::process::Command::new(example("run_cli"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pipe: Box<dyn Read + Send> = if on_stderr {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let mut lines = BufReader::new(pipe).lines();
    loop {
        let line = lines.next().expect("marker line").unwrap();
        if line.contains(marker) {
            break;
        }
    }
    // Keep draining so the example never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

#[test]
fn signals_are_forwarded_to_the_child() {
    for (sig, signal, code) in [
        ("TERM", rustix::process::Signal::TERM, 42),
        ("INT", rustix::process::Signal::INT, 43),
        ("HUP", rustix::process::Signal::HUP, 44),
    ] {
        let script = format!("trap 'exit {code}' {sig}; echo ready; sleep 30 & wait");
        let mut child = spawn_example_and_wait_for(&["--", "sh", "-c", &script], "ready", false);
        kill(child.id() as i32, signal);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{sig}: {status:?}");
    }
}

#[test]
fn outside_a_run_signals_act_as_by_default() {
    let mut child =
        spawn_example_and_wait_for(&["--after-sleep", "10", "--", "true"], "runner-done", true);
    kill(child.id() as i32, rustix::process::Signal::TERM);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

/// Reads everything from `fd` into a channel, chunk by chunk, until EOF or error.
fn read_into_channel(fd: std::os::fd::OwnedFd) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = rustix::io::read(&fd, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_output(rx: &mpsc::Receiver<Vec<u8>>, seen: &mut String, needle: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&text(&chunk)),
            Err(_) => panic!("no {needle:?} in {seen:?}"),
        }
    }
}

#[test]
fn interactive_terminal_is_raw_during_the_run_and_restored_after() {
    use rustix::pty::{OpenptFlags, grantpt, ioctl_tiocgptpeer, openpt, unlockpt};
    use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};

    // An outer terminal standing in for the user's: the example's stdin, stdout and stderr.
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = openpt(flags).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let slave = ioctl_tiocgptpeer(&master, flags).unwrap();
    let size = |rows, cols| Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    tcsetwinsize(&master, size(30, 100)).unwrap();
    assert!(
        tcgetattr(&slave)
            .unwrap()
            .local_modes
            .contains(LocalModes::ICANON)
    );

    let mut child = std::process::Command::new(example("run_cli"))
        .args([
            "--pty",
            "--",
            "sh",
            "-c",
            "echo ready; read a; echo \"got:$a\"; stty size; read b; stty size",
        ])
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap())
        .spawn()
        .unwrap();
    let output = read_into_channel(master.try_clone().unwrap());
    let mut seen = String::new();

    wait_for_output(&output, &mut seen, "ready");
    let during = tcgetattr(&slave).unwrap();
    assert!(
        !during.local_modes.contains(LocalModes::ICANON),
        "raw while running"
    );
    assert!(!during.local_modes.contains(LocalModes::ECHO));

    // Enter in raw mode is CR; the inner terminal turns it into a newline for `read`.
    rustix::io::write(&master, b"hello\r").unwrap();
    wait_for_output(&output, &mut seen, "got:hello");
    wait_for_output(&output, &mut seen, "30 100");

    // The user resizes the window: the inner terminal follows.
    tcsetwinsize(&master, size(40, 120)).unwrap();
    kill(child.id() as i32, rustix::process::Signal::WINCH);
    std::thread::sleep(Duration::from_millis(300));
    rustix::io::write(&master, b"x\r").unwrap();
    wait_for_output(&output, &mut seen, "40 120");

    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{seen:?}");
    let after = tcgetattr(&slave).unwrap();
    assert!(after.local_modes.contains(LocalModes::ICANON), "restored");
    assert!(after.local_modes.contains(LocalModes::ECHO), "restored");
}
