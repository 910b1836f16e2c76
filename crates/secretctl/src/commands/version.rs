//! `secretctl version`.

use crate::cli::VersionArgs;
use crate::failure::Result;
use crate::io;

pub fn run(a: VersionArgs) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    if a.json {
        return io::out_json(&serde_json::json!({
            "version": version,
            "schema_version": secretctl_core::vault::SCHEMA_VERSION,
            "vault_format": secretctl_core::vault::META_FORMAT,
        }));
    }
    io::outln(&format!("secretctl {version}"))
}
