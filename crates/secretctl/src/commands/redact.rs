//! `secretctl redact -k PATTERN`: filter stdin to stdout with the values of the selected
//! secrets redacted, with the same engine as `run` (SPEC §6).

use crate::cli::{Global, RedactArgs};
use crate::failure::{Failure, Result};
use crate::password;
use secretctl_core::audit::{Action, Source};
use secretctl_core::redact::{Redactor, copy_redacted};

pub fn run(g: &Global, a: RedactArgs) -> Result<()> {
    let patterns = super::parse_patterns(&a.keys)?;
    let mut session = password::unlock(g)?;
    let secrets = session.select(
        &patterns,
        Action::Redact,
        Source::Cli,
        serde_json::Map::new(),
    )?;
    drop(session);
    let vars: Vec<(String, &[u8])> = secrets
        .iter()
        .flat_map(|s| {
            secretctl_core::environment::secret_vars(s, None)
                .into_iter()
                .filter(|v| v.sensitive)
                .map(|v| (v.name, v.value.expose_bytes()))
        })
        .collect();
    let redactor = Redactor::new(vars.iter().map(|(n, v)| (n.as_str(), *v)));
    match copy_redacted(&redactor, std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(format!("cannot copy stdin to stdout: {e}"))),
    }
}
