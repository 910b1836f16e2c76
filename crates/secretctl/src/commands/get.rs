//! `secretctl get`: print a value (the human asked for it), or its masked form.

use super::{meta_json, time_or_dash};
use crate::cli::{GetArgs, Global};
use crate::failure::Result;
use crate::{io, password};
use base64::Engine;
use secretctl_core::audit::Source;

pub fn run(g: &Global, a: GetArgs) -> Result<()> {
    let name = super::parse_key(&a.key)?;
    let mut session = password::unlock(g)?;
    if a.masked {
        let (summary, masked) = session.get_masked(&name, Source::Cli)?;
        if a.json {
            let mut m = meta_json(name.as_str(), &summary.meta);
            m.insert("masked".into(), masked.masked.into());
            m.insert("length".into(), masked.length.into());
            return io::out_json(&m.into());
        }
        return io::outln(&format!("{} ({})", masked.masked, masked.length));
    }
    let secret = session.get(&name, Source::Cli)?;
    if a.json {
        let mut m = meta_json(name.as_str(), &secret.meta);
        match std::str::from_utf8(secret.value.expose_bytes()) {
            Ok(text) => {
                m.insert("value".into(), text.into());
                m.insert("value_encoding".into(), "utf-8".into());
            }
            Err(_) => {
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(secret.value.expose_bytes());
                m.insert("value".into(), b64.into());
                m.insert("value_encoding".into(), "base64".into());
            }
        }
        let mut text =
            serde_json::to_vec_pretty(&serde_json::Value::Object(m)).expect("JSON serialises");
        text.push(b'\n');
        let result = io::out(&text);
        zeroize::Zeroize::zeroize(&mut text);
        return result;
    }
    io::out(secret.value.expose_bytes())?;
    if io::stdout_is_terminal() || a.show_metadata {
        io::out(b"\n")?;
    }
    if a.show_metadata {
        let m = &secret.meta;
        let lines = [
            format!(
                "notes: {}",
                m.notes
                    .as_deref()
                    .map(escape_lines)
                    .unwrap_or_else(|| "-".into())
            ),
            format!("url: {}", m.url.as_deref().unwrap_or("-")),
            format!(
                "tags: {}",
                if m.tags.is_empty() {
                    "-".into()
                } else {
                    m.tags.join(",")
                }
            ),
            format!("expires: {}", time_or_dash(m.expires_at)),
            format!("created: {}", time_or_dash(m.created_at)),
            format!("updated: {}", time_or_dash(m.updated_at)),
        ];
        io::outln(&lines.join("\n"))?;
    }
    Ok(())
}

/// Notes may hold newlines and control characters; one metadata line must stay one line.
fn escape_lines(text: &str) -> String {
    text.chars().flat_map(char::escape_debug).collect()
}
