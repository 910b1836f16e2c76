//! `secretctl completion SHELL` and `secretctl man`: generated from the clap grammar.

use crate::cli::{Cli, CompletionArgs, ManArgs};
use crate::failure::{Failure, Result};
use crate::io;
use clap::CommandFactory;

/// Without `--static`, the script registers `secretctl` itself as the completer, so key names
/// can come from the session agent; `--static` prints clap's self-contained script.
pub fn run(a: CompletionArgs) -> Result<()> {
    let mut buf = Vec::new();
    if a.static_script {
        clap_complete::generate(a.shell, &mut Cli::command(), "secretctl", &mut buf);
        return io::out(&buf);
    }
    let shells = clap_complete::env::Shells::builtins();
    let name = a.shell.to_string();
    let shell = shells
        .completer(&name)
        .ok_or_else(|| Failure::usage(format!("no dynamic completion for {name}; use --static")))?;
    shell
        .write_registration(
            crate::completion::VAR,
            "secretctl",
            "secretctl",
            "secretctl",
            &mut buf,
        )
        .map_err(|e| Failure::failed(format!("cannot write the completion script: {e}")))?;
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
