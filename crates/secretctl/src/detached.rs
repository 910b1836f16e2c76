//! Starting this binary again as a detached background process — the session agent
//! (`agent-serve`) or the clipboard holder (`clipboard-hold`) — that outlives the command which
//! started it, and reading the one line it answers with.

use crate::failure::{Failure, Result};
use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};

/// This binary, set up to run detached: in its own process group (a closing terminal's
/// signals do not reach it), with `/` as its working directory, stdin and stdout piped, stderr
/// on /dev/null and no `SECRETCTL_PASSWORD*` in its environment. The caller adds the arguments.
pub fn command() -> Result<Command> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| Failure::failed(format!("cannot find the secretctl binary: {e}")))?;
    let mut command = Command::new(exe);
    command
        .env_remove("SECRETCTL_PASSWORD")
        .env_remove("SECRETCTL_PASSWORD_FILE")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    Ok(command)
}

/// Starts `command` (from [`command`]), writes `input` to its stdin (values go there, never in
/// argv or the environment) and closes it, then returns the child and the first line of its
/// stdout without the newline. `what` names the process in error messages.
pub fn start(mut command: Command, input: &[&[u8]], what: &str) -> Result<(Child, String)> {
    let mut child = command
        .spawn()
        .map_err(|e| Failure::failed(format!("cannot start the {what}: {e}")))?;
    {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        for part in input {
            stdin
                .write_all(part)
                .map_err(|e| Failure::failed(format!("cannot hand over to the {what}: {e}")))?;
        }
    }
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| Failure::failed(format!("the {what} did not start: {e}")))?;
    line.truncate(line.trim_end().len());
    Ok((child, line))
}
