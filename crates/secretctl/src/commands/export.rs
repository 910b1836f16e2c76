//! `secretctl export`: secrets in plaintext as env, JSON, YAML or shell (SPEC §5.3).
//!
//! env and shell use the variable names `run` would inject (bindings included); JSON and YAML
//! keep the key names, so `import` of their output restores plain secrets under the same keys.
//! A secret with fields is written as one `KEY/FIELD` entry per field; importing that gives one
//! plain secret per field (sensitivity and bindings are not carried by these formats).

use super::patterns_or_all;
use crate::cli::{ExportArgs, ExportFormat, Global};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::{Action, Source};
use secretctl_core::transfer::{self, Item};

pub fn run(g: &Global, a: ExportArgs) -> Result<()> {
    let patterns = patterns_or_all(&a.keys)?;
    let mut session = password::unlock(g)?;
    let mut detail = serde_json::Map::new();
    detail.insert(
        "format".into(),
        format!("{:?}", a.format).to_lowercase().into(),
    );
    let secrets = match session.select(&patterns, Action::Export, Source::Cli, detail) {
        Err(secretctl_core::vault::Error::NoMatch(_)) if a.keys.is_empty() => Vec::new(),
        other => other?,
    };
    let items: Vec<Item> = match a.format {
        ExportFormat::Env | ExportFormat::Shell => {
            secretctl_core::environment::build(&secrets, None)
                .map_err(|e| Failure::failed(e.to_string()))?
                .into_iter()
                .map(|v| Item::new(v.name, v.value.expose_bytes().to_vec()))
                .collect()
        }
        ExportFormat::Json | ExportFormat::Yaml => {
            let mut items = Vec::new();
            for s in &secrets {
                if s.is_plain() {
                    items.push(Item::new(
                        s.name.to_string(),
                        s.fields[0].value.expose_bytes().to_vec(),
                    ));
                } else {
                    for f in &s.fields {
                        items.push(Item::new(
                            format!("{}/{}", s.name, f.name),
                            f.value.expose_bytes().to_vec(),
                        ));
                    }
                }
            }
            items
        }
    };
    let rendered = match a.format {
        ExportFormat::Env => transfer::render_dotenv(&items),
        ExportFormat::Shell => transfer::render_shell(&items),
        ExportFormat::Json => transfer::render_json(&items),
        ExportFormat::Yaml => transfer::render_yaml(&items),
    }
    .map_err(|e| Failure::failed(e.to_string()))?;
    match &a.output {
        Some(path) => io::write_private_file(path, rendered.as_bytes(), a.force),
        None => io::out(rendered.as_bytes()),
    }
}
