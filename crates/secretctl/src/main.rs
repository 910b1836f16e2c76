//! `secretctl`: parses the command line, dispatches, and maps the outcome to an exit code
//! (SPEC §4.1). Nothing else happens here.
#![forbid(unsafe_code)]

mod access;
mod agent;
mod cli;
mod clipboard;
mod commands;
mod completion;
mod detached;
mod failure;
mod io;
mod mcp;
mod password;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic must never show a backtrace or a value: one line, exit 1.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        io::error_line(&format!("internal error{place}; please report it"));
        // Exit at once with a code of SPEC §4.1 rather than unwinding to Rust's 101.
        std::process::exit(i32::from(failure::EXIT_FAILED));
    }));
    if let Err(e) = secretctl_core::hardening::harden_process() {
        io::error_line(&format!("cannot harden the process: {e}"));
        return ExitCode::from(failure::EXIT_FAILED);
    }
    // A shell asking for completions (registered by `secretctl completion SHELL`).
    clap_complete::CompleteEnv::with_factory(<cli::Cli as clap::CommandFactory>::command)
        .var(completion::VAR)
        .complete();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return failure::clap_exit(e),
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(f) => {
            io::error_line(&f.message);
            ExitCode::from(f.code)
        }
    }
}
