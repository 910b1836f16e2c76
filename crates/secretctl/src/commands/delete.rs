//! `secretctl delete`: remove a secret; asks first unless `--yes`.

use crate::cli::{DeleteArgs, Global};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::Source;

pub fn run(g: &Global, a: DeleteArgs) -> Result<()> {
    let name = super::parse_key(&a.key)?;
    if !a.yes {
        if !io::have_tty() {
            return Err(Failure::usage(format!(
                "refusing to delete '{name}' without confirmation; pass --yes"
            )));
        }
        if !io::confirm(&format!("Delete '{name}'?"))? {
            return Err(Failure::failed("not deleted"));
        }
    }
    let mut session = password::unlock(g)?;
    session.delete(&name, Source::Cli)?;
    if io::stdout_is_terminal() {
        io::outln(&format!("deleted {name}"))?;
    }
    Ok(())
}
