//! The runner's only `unsafe` code: the hook that runs in the forked child before `exec`, and the
//! registration of the signal-forwarding handler. Everything else in the runner is safe Rust.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;
use std::os::unix::process::CommandExt;

use rustix::fs::{Mode, OFlags, RawDir};
use rustix::io::FdFlags;
use rustix::process::{Pid, Signal};

/// What the child does to itself between `fork` and `exec`.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChildSetup {
    /// Make stdout (a pty slave) the controlling terminal of the new session.
    pub controlling_tty: bool,
    /// Mark every descriptor above 2 close-on-exec.
    pub cloexec_extra_fds: bool,
    /// Our pid, when the child should get SIGKILL if the spawning thread dies.
    pub parent_death: Option<Pid>,
}

/// Installs [`ChildSetup`] as a `pre_exec` hook on `cmd`.
pub(super) fn install_child_setup(cmd: &mut std::process::Command, setup: ChildSetup) {
    // SAFETY: `pre_exec` runs the closure in the forked child, where another thread of the parent
    // may have held a lock (the allocator's, say) at the moment of the fork; only
    // async-signal-safe work is allowed. `child_setup` only issues raw system calls through
    // rustix's linux_raw backend (setsid, ioctl, prctl, getppid, getrlimit, openat, getdents64,
    // fcntl, close), uses a stack buffer, allocates nothing, takes no lock and touches no shared
    // state; its errors are `io::Error::from_raw_os_error`, which does not allocate.
    unsafe {
        cmd.pre_exec(move || child_setup(setup));
    }
}

fn child_setup(setup: ChildSetup) -> io::Result<()> {
    // A new session is also a new process group whose id is the child's pid: killpg reaches every
    // descendant that does not leave on purpose, and (unlike a mere process group) the child has
    // no controlling terminal, so reading an inherited terminal cannot stop it with SIGTTIN.
    rustix::process::setsid()?;
    if setup.controlling_tty {
        // stdout, not stdin: with `stdin_null` stdin is /dev/null even in pty mode.
        rustix::process::ioctl_tiocsctty(rustix::stdio::stdout())?;
    }
    if let Some(parent) = setup.parent_death {
        rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
        // The parent may have died between fork and prctl; then nobody would ever kill us.
        if rustix::process::getppid() != Some(parent) {
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::SRCH.raw_os_error(),
            ));
        }
    }
    if setup.cloexec_extra_fds {
        mark_extra_fds_cloexec();
    }
    Ok(())
}

/// Marks every descriptor above 2 close-on-exec (rather than closing it: std reports a failed
/// `exec` to the parent through a close-on-exec pipe that must stay open until `exec`).
///
/// rustix has no `close_range`; listing `/proc/self/fd` with `getdents64` into a stack buffer is
/// async-signal-safe and touches only descriptors that exist. Without /proc, every number below the
/// descriptor limit is tried.
fn mark_extra_fds_cloexec() {
    let dir = rustix::fs::open(
        c"/proc/self/fd",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    match dir {
        Ok(dir) => {
            let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
            let mut entries = RawDir::new(&dir, &mut buf);
            while let Some(Ok(entry)) = entries.next() {
                if let Some(fd) = parse_fd(entry.file_name().to_bytes()) {
                    set_cloexec(fd);
                }
            }
        }
        Err(_) => {
            let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
                .current
                .unwrap_or(1 << 20)
                .min(i32::MAX as u64) as i32;
            for fd in 3..limit {
                set_cloexec(fd);
            }
        }
    }
}

/// Parses a `/proc/self/fd` entry name; `None` for `.`, `..` and stdio.
fn parse_fd(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 {
        return None;
    }
    let mut fd: i32 = 0;
    for &b in name {
        if !b.is_ascii_digit() {
            return None;
        }
        fd = fd * 10 + i32::from(b - b'0');
    }
    (fd > 2).then_some(fd)
}

fn set_cloexec(fd: i32) {
    // SAFETY: after `fork` the child is single-threaded, so nothing can close `fd` while it is
    // borrowed for this one call; if the number is not open (the directory's own descriptor was
    // listed and is already close-on-exec, or the /proc-less fallback guesses), fcntl fails with
    // EBADF, which is ignored. No `OwnedFd` is created, so nothing is closed twice.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let _ = rustix::io::fcntl_setfd(fd, FdFlags::CLOEXEC);
}

/// Installs `action` as an additional handler of `signal` (signal-hook chains it with others).
///
/// `action` runs inside a signal handler: it must be async-signal-safe.
pub(super) fn register_signal_action(
    signal: i32,
    action: fn(i32),
) -> io::Result<signal_hook::SigId> {
    // SAFETY: the only actions passed here are `forwarding::on_signal`, which loads and stores
    // atomics, sends signals with the kill system call and calls signal-hook's
    // `emulate_default_handler` (documented as async-signal-safe): no allocation, no locks.
    unsafe { signal_hook::low_level::register(signal, move || action(signal)) }
}

#[cfg(test)]
mod tests {
    use super::parse_fd;

    #[test]
    fn parses_descriptor_names() {
        assert_eq!(parse_fd(b"17"), Some(17));
        assert_eq!(parse_fd(b"3"), Some(3));
        assert_eq!(parse_fd(b"2"), None);
        assert_eq!(parse_fd(b"."), None);
        assert_eq!(parse_fd(b".."), None);
        assert_eq!(parse_fd(b""), None);
        assert_eq!(parse_fd(b"1234567890"), None);
    }
}
