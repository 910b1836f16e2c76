//! `secretctl password change`.

use crate::cli::{Global, PasswordCommand};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;

pub fn run(g: &Global, cmd: PasswordCommand) -> Result<()> {
    let PasswordCommand::Change(a) = cmd;
    if a.new_password_file.is_none() && !io::have_tty() {
        return Err(Failure::usage(
            "no new master password: pass --new-password-file FILE or run in a terminal",
        ));
    }
    let mut session = password::unlock(g)?;
    let new = password::new_password(&a.new_password_file, false, g)?;
    session.change_password(&new, Source::Cli)?;
    io::outln("master password changed")
}
