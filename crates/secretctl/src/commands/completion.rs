//! `secretctl completion SHELL` and `secretctl man`: generated from the clap grammar.

use crate::cli::{Cli, CompletionArgs, ManArgs};
use crate::failure::{Failure, Result};
use crate::io;
use clap::CommandFactory;

pub fn run(a: CompletionArgs) -> Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "secretctl", &mut buf);
    io::out(&buf)
}

pub fn man(a: ManArgs) -> Result<()> {
    let cmd = Cli::command();
    let Some(dir) = a.output_dir else {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| Failure::failed(format!("cannot render the manual page: {e}")))?;
        return io::out(&buf);
    };
    // One page per command and subcommand: secretctl.1, secretctl-audit-list.1, ...
    clap_mangen::generate_to(cmd, &dir).map_err(|e| {
        Failure::failed(format!(
            "cannot write manual pages to {}: {e}",
            dir.display()
        ))
    })
}
