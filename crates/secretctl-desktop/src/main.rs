//! `secretctl-desktop`: parses the few options, hardens the process, and runs the window.
#![forbid(unsafe_code)]
// A GUI binary with no console on Windows; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod ipc;

use secretctl_desktop::desktop::LockReason;
use secretctl_desktop::{Desktop, Options, clipboard};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tauri::{Emitter, Manager};

const USAGE: &str = "usage: secretctl-desktop [--vault-dir DIR] [--config-dir DIR] \
[--auto-lock-secs N] [--clipboard-clear-secs N]";

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn secs(text: &str, flag: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=86_400).contains(n))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{flag} takes a number of seconds from 1 to 86400, not {text:?}"))
}

/// The options from argv, then the environment (`SECRETCTL_HOME` as in the CLI), then the
/// defaults.
fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut vault_dir = None;
    let mut config_dir = None;
    let mut auto_lock = None;
    let mut clipboard_clear = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--vault-dir" => vault_dir = Some(PathBuf::from(value()?)),
            "--config-dir" => config_dir = Some(PathBuf::from(value()?)),
            "--auto-lock-secs" => auto_lock = Some(secs(&value()?, &flag)?),
            "--clipboard-clear-secs" => clipboard_clear = Some(secs(&value()?, &flag)?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    let home = env_path("HOME").unwrap_or_else(|| PathBuf::from("."));
    Ok(Options {
        vault_dir: vault_dir
            .or_else(|| env_path("SECRETCTL_HOME"))
            .unwrap_or_else(|| home.join(".secretctl")),
        config_dir: config_dir
            .or_else(|| env_path("SECRETCTL_DESKTOP_CONFIG_DIR"))
            .or_else(|| env_path("XDG_CONFIG_HOME").map(|d| d.join("secretctl-desktop")))
            .unwrap_or_else(|| home.join(".config").join("secretctl-desktop")),
        auto_lock,
        clipboard_clear: clipboard_clear.unwrap_or(clipboard::DEFAULT_CLEAR_AFTER),
    })
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("secretctl-desktop: {message}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = secretctl_core::hardening::harden_process() {
        eprintln!("secretctl-desktop: cannot harden the process: {e}");
        return ExitCode::from(1);
    }
    let result = tauri::Builder::default()
        .manage(Desktop::new(options))
        .invoke_handler(tauri::generate_handler![
            ipc::app_state,
            ipc::vault_create,
            ipc::vault_unlock,
            ipc::vault_lock,
            ipc::touch,
            ipc::secret_list,
            ipc::secret_view,
            ipc::secret_reveal,
            ipc::secret_copy,
            ipc::secret_create,
            ipc::secret_update,
            ipc::secret_delete,
            ipc::folder_list,
            ipc::folder_create,
            ipc::audit_query,
            ipc::audit_verify,
            ipc::audit_export,
            ipc::password_change,
            ipc::settings_save,
            ipc::password_generate,
            ipc::password_copy,
            ipc::security_report,
        ])
        .setup(|app| {
            // The idle clock: the lock is enforced here, not trusted to the web view.
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(500));
                    if handle.state::<Desktop>().lock_if_idle() {
                        let _ = handle.emit("vault-locked", LockReason::Idle);
                    }
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(e) => {
            eprintln!("secretctl-desktop: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let desktop = handle.state::<Desktop>();
            desktop.lock(LockReason::User);
            desktop.clear_clipboard();
        }
    });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn options_parse() {
        let o = parse(args(&[
            "--vault-dir",
            "/v",
            "--config-dir=/c",
            "--auto-lock-secs",
            "3",
        ]))
        .unwrap();
        assert_eq!(o.vault_dir, PathBuf::from("/v"));
        assert_eq!(o.config_dir, PathBuf::from("/c"));
        assert_eq!(o.auto_lock, Some(Duration::from_secs(3)));
        assert_eq!(o.clipboard_clear, clipboard::DEFAULT_CLEAR_AFTER);
        assert!(parse(args(&["--auto-lock-secs", "0"])).is_err());
        assert!(parse(args(&["--bogus"])).is_err());
        assert!(parse(args(&["--vault-dir"])).is_err());
    }
}
