//! `secretctl completion SHELL` and `secretctl man`: generated from the clap grammar.

use crate::cli::{Cli, CompletionArgs};
use crate::failure::{Failure, Result};
use crate::io;
use clap::CommandFactory;

pub fn run(a: CompletionArgs) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "secretctl", &mut buf);
    io::out(&buf)
}

pub fn man() -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Failure::failed(format!("cannot render the manual page: {e}")))?;
    io::out(&buf)
}
