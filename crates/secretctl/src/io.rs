//! Terminal and file input/output for the CLI: stdout that tolerates a closed pipe, the one
//! error line, hidden prompts, bounded reads and private output files.

use crate::failure::{Failure, Result};
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Prints the one error line of a failed command.
pub fn error_line(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "secretctl: {message}");
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly.
pub fn out(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(format!("cannot write to stdout: {e}"))),
    }
}

/// Writes a line of text to stdout.
pub fn outln(text: &str) -> Result<()> {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    out(line.as_bytes())
}

/// Writes a JSON value (pretty, newline-terminated) to stdout.
pub fn out_json(value: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    out(text.as_bytes())
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether a controlling terminal exists for prompts (prompts never read stdin).
pub fn have_tty() -> bool {
    std::fs::File::open("/dev/tty").is_ok()
}

/// Prompts on the terminal without echo. Returns the bytes typed, without the newline.
pub fn prompt_hidden(prompt: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let text = rpassword::prompt_password(prompt)
        .map_err(|e| Failure::auth(format!("cannot read from the terminal: {e}")))?;
    Ok(zeroize::Zeroizing::new(text.into_bytes()))
}

/// Asks a yes/no question on the terminal (never stdin, which may carry data); anything but
/// y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    use std::io::BufRead;
    let fail = |e: std::io::Error| Failure::failed(format!("cannot read from the terminal: {e}"));
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(fail)?;
    write!(tty, "{question} [y/N] ")
        .and_then(|()| tty.flush())
        .map_err(fail)?;
    let mut answer = String::new();
    std::io::BufReader::new(tty)
        .read_line(&mut answer)
        .map_err(fail)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Reads at most `limit` bytes; more is an error naming `what`.
pub fn read_bounded(mut reader: impl Read, limit: usize, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::failed(format!("cannot read {what}: {e}")))?;
    if buf.len() > limit {
        buf.fill(0);
        return Err(Failure::usage(format!(
            "{what} is larger than {limit} bytes; nothing was stored"
        )));
    }
    Ok(buf)
}

/// Removes one trailing newline (`\n` or `\r\n`), as typed or piped values carry one.
pub fn strip_one_newline(buf: &mut Vec<u8>) {
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
}

/// Creates an output file 0600 with `O_EXCL` (or, with `force`, replaces a regular file
/// atomically); a symlink is never followed and a directory's permissions are never touched.
pub fn write_private_file(path: &Path, content: &[u8], force: bool) -> Result<()> {
    let fail = |e: std::io::Error| Failure::failed(format!("{}: {e}", path.display()));
    if let Ok(meta) = path.symlink_metadata() {
        if meta.file_type().is_symlink() {
            return Err(Failure::failed(format!(
                "{} is a symlink; refusing to write through it",
                path.display()
            )));
        }
        if !force {
            return Err(Failure::failed(format!(
                "{} exists; pass --force to replace it",
                path.display()
            )));
        }
        if !meta.is_file() {
            return Err(Failure::failed(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".secretctl-")
            .tempfile_in(dir)
            .map_err(fail)?;
        tmp.write_all(content).map_err(fail)?;
        tmp.as_file().sync_all().map_err(fail)?;
        tmp.persist(path).map_err(|e| fail(e.error))?;
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(fail)?;
    file.write_all(content).map_err(fail)?;
    file.sync_all().map_err(fail)
}
