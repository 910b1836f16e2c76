//! `generate --copy`: puts a value on the clipboard, where one exists, and takes it off again
//! after [`CLEAR_AFTER`].
//!
//! On X11 (and XWayland) the clipboard's content lives in the process that owns it and dies
//! with it, so a short-lived command cannot leave a value there by itself. `copy` therefore
//! starts this binary's hidden `clipboard-hold` in its own process group, hands it the value
//! on a pipe (never in argv or the environment), and waits for its one line, `ready` or
//! `error MESSAGE`. The helper owns the clipboard for the time given, then clears it only if
//! it still holds our value (a later copy by the user is left alone), and exits. The value is
//! marked for clipboard managers as not to be kept in their history.
//!
//! arboard keeps its own copy of the text while it serves it, which it does not wipe; the
//! helper's copies are in `Zeroizing` buffers.

use crate::cli::ClipboardHoldArgs;
use crate::failure::{Failure, Result};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a copied value stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// Most bytes the helper accepts (a 4096-character password or a 64-word passphrase fits).
const MAX_VALUE: usize = 16 * 1024;

fn set_and_nonempty(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Copies `value` to the clipboard through a detached helper that clears it after
/// `clear_after`. Fails with one line when there is no clipboard to copy to.
pub fn copy(value: &str, clear_after: Duration) -> Result<()> {
    if cfg!(not(target_os = "macos")) && !set_and_nonempty("DISPLAY") {
        let why = if set_and_nonempty("WAYLAND_DISPLAY") {
            "this Wayland session has no X11 clipboard (DISPLAY is not set)"
        } else {
            "no display: DISPLAY is not set"
        };
        return Err(Failure::failed(format!(
            "cannot copy to the clipboard: {why}; run without --copy to print the password"
        )));
    }
    let mut command = crate::detached::command()?;
    command.args([
        "clipboard-hold",
        "--seconds",
        &clear_after.as_secs().to_string(),
    ]);
    let (mut child, line) =
        crate::detached::start(command, &[value.as_bytes()], "clipboard helper")?;
    if line == "ready" {
        // The helper runs on; it is in its own process group and outlives this process.
        return Ok(());
    }
    let _ = child.wait();
    let message = line
        .strip_prefix("error ")
        .filter(|m| !m.is_empty())
        .unwrap_or("the clipboard helper stopped without saying why");
    Err(Failure::failed(format!(
        "cannot copy to the clipboard: {message}"
    )))
}

/// The helper (`secretctl clipboard-hold --seconds N`): reads the value from stdin, puts it on
/// the clipboard, says `ready` (or `error MESSAGE`) on stdout, waits, then clears the clipboard
/// if it still holds the value.
pub fn hold(a: ClipboardHoldArgs) -> ExitCode {
    let mut stdout = std::io::stdout();
    let mut say = |line: &str| {
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    };
    let mut bytes = Zeroizing::new(Vec::new());
    if std::io::stdin()
        .lock()
        .take(MAX_VALUE as u64 + 1)
        .read_to_end(&mut bytes)
        .is_err()
        || bytes.len() > MAX_VALUE
    {
        say("error the value could not be read");
        return ExitCode::from(crate::failure::EXIT_FAILED);
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        say("error the value is not text");
        return ExitCode::from(crate::failure::EXIT_FAILED);
    };
    // A closing terminal must not cut the wait short (the clear would then never happen).
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGHUP,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let mut clipboard = match arboard::Clipboard::new() {
        Ok(c) => c,
        Err(e) => {
            say(&format!("error {}", one_line(&e.to_string())));
            return ExitCode::from(crate::failure::EXIT_FAILED);
        }
    };
    if let Err(e) = set_text(&mut clipboard, text) {
        say(&format!("error {}", one_line(&e.to_string())));
        return ExitCode::from(crate::failure::EXIT_FAILED);
    }
    say("ready");
    // Nothing more to say: let the pipe to `generate` close.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
    std::thread::sleep(Duration::from_secs(a.seconds));
    let still_ours = clipboard
        .get_text()
        .map(Zeroizing::new)
        .is_ok_and(|now| secretctl_core::crypto::constant_time_eq(now.as_bytes(), text.as_bytes()));
    if still_ours {
        let _ = clipboard.clear();
    }
    ExitCode::SUCCESS
}

/// Sets the text, marked for clipboard managers as not to be kept in their history.
fn set_text(
    clipboard: &mut arboard::Clipboard,
    text: &str,
) -> std::result::Result<(), arboard::Error> {
    #[cfg(target_os = "macos")]
    use arboard::SetExtApple as _;
    #[cfg(all(unix, not(target_os = "macos")))]
    use arboard::SetExtLinux as _;
    clipboard.set().exclude_from_history().text(text.to_owned())
}

/// arboard's messages may span lines; the protocol line must not.
fn one_line(message: &str) -> String {
    message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect()
}
