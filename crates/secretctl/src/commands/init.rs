//! `secretctl init`: create a vault.

use crate::cli::Global;
use crate::failure::Result;
use crate::{io, password};
use secretctl_core::vault::Vault;

pub fn run(g: &Global) -> Result<()> {
    let dir = g.vault_dir();
    if dir.has_vault_files() {
        return Err(secretctl_core::vault::Error::AlreadyExists(dir.root().to_owned()).into());
    }
    let pw = password::new_password(&None, true, g)?;
    Vault::init(&dir, &pw)?;
    io::outln(&format!("created a vault at {}", dir.root().display()))
}
