//! A tiny CLI around `runner::run` with the CLI profile, used by the integration tests for what
//! needs a separate process: signal forwarding and copying stdin to a pseudo-terminal.
//!
//! Usage: `run_cli [--pty] [--after-sleep SECS] -- PROGRAM [ARGS…]`
//!
//! Streams the child's output to our stdout/stderr, prints `runner-done` on stderr when `run`
//! returns, optionally sleeps (so a test can signal us outside a run), and exits with the
//! outcome's exit code.

use std::time::Duration;

use secretctl_core::runner::{Command, OutputFilter, PassThrough, RunOptions, Sink, run};

fn main() {
    let mut args = std::env::args_os().skip(1);
    let mut opts = RunOptions::cli();
    let mut after_sleep = 0u64;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--pty") => opts.pty = true,
            Some("--after-sleep") => {
                after_sleep = args
                    .next()
                    .and_then(|s| s.to_str()?.parse().ok())
                    .unwrap_or(0);
            }
            Some("--") => {
                rest.extend(args.by_ref());
                break;
            }
            _ => {
                eprintln!("run_cli: unexpected argument {arg:?}");
                std::process::exit(2);
            }
        }
    }
    let mut rest = rest.into_iter();
    let Some(program) = rest.next() else {
        eprintln!("run_cli: missing program");
        std::process::exit(2);
    };
    let cmd = Command::new(program).args(rest);
    let make_filter = || Box::new(PassThrough) as Box<dyn OutputFilter>;
    let outcome = run(
        &cmd,
        &opts,
        Sink::stream(std::io::stdout()),
        Sink::stream(std::io::stderr()),
        &make_filter,
    );
    eprintln!("runner-done");
    std::thread::sleep(Duration::from_secs(after_sleep));
    match outcome {
        Ok(outcome) => std::process::exit(i32::from(outcome.status.exit_code())),
        Err(err) => {
            eprintln!("run_cli: {err}");
            std::process::exit(1);
        }
    }
}
