//! `secretctl get`: print a value (the human asked for it), a field, or the masked views.

use super::{meta_json, time_or_dash};
use crate::access::{self, Need};
use crate::cli::{GetArgs, Global};
use crate::failure::{Failure, Result};
use crate::io;
use base64::Engine;
use secretctl_core::secret::{FieldView, Secret};

pub fn run(g: &Global, a: GetArgs) -> Result<()> {
    let name = super::parse_key(&a.key)?;
    if let Some(field) = &a.field {
        secretctl_core::secret::check_field_name(field)?;
    }
    if a.masked || a.fields {
        let (summary, views, bindings) = access::open(g, Need::Agent)?.get_masked(&name)?;
        if a.json {
            let mut m = meta_json(name.as_str(), &summary.meta);
            if let [only] = views.as_slice()
                && only.name == secretctl_core::secret::VALUE_FIELD
                && a.masked
            {
                m.insert("masked".into(), only.masked.masked.clone().into());
                m.insert("length".into(), only.masked.length.clone().into());
            }
            m.insert(
                "fields".into(),
                serde_json::to_value(&views).expect("views serialise"),
            );
            m.insert(
                "bindings".into(),
                serde_json::to_value(&bindings).expect("bindings serialise"),
            );
            return io::out_json(&m.into());
        }
        if a.masked && views.len() == 1 && views[0].name == secretctl_core::secret::VALUE_FIELD {
            let m = &views[0].masked;
            return io::outln(&format!("{} ({})", m.masked, m.length));
        }
        let mut text = String::new();
        for v in &views {
            text.push_str(&field_line(v));
        }
        for (env, field) in &bindings {
            text.push_str(&format!("binding {env}={field}\n"));
        }
        return io::out(text.as_bytes());
    }
    let secret = access::open(g, Need::Reveal)?.get(&name)?;
    if a.json {
        return print_json(&secret);
    }
    let value = match &a.field {
        Some(field) => {
            &secret
                .field(field)
                .ok_or_else(|| Failure::failed(format!("secret '{name}' has no field '{field}'")))?
                .value
        }
        None if secret.is_plain() => &secret.fields[0].value,
        None => {
            let names: Vec<&str> = secret.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(Failure::usage(format!(
                "secret '{name}' has fields {}; choose one with --field NAME, or list them with --fields",
                names.join(", ")
            )));
        }
    };
    io::out(value.expose_bytes())?;
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
            format!(
                "folder: {}",
                m.folder
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string)
            ),
            format!("expires: {}", time_or_dash(m.expires_at)),
            format!("created: {}", time_or_dash(m.created_at)),
            format!("updated: {}", time_or_dash(m.updated_at)),
        ];
        io::outln(&lines.join("\n"))?;
    }
    Ok(())
}

fn field_line(v: &FieldView) -> String {
    let shown = match &v.value {
        Some(text) => escape_lines(text),
        None => format!("{} ({})", v.masked.masked, v.masked.length),
    };
    let kind = v.kind.as_deref().unwrap_or("-");
    let sensitivity = if v.sensitive { "sensitive" } else { "plain" };
    format!("{}\t{sensitivity}\t{kind}\t{shown}\n", v.name)
}

/// JSON with every value: UTF-8 text as is, other bytes as base64 (marked as such).
fn print_json(secret: &Secret) -> Result<()> {
    let encode = |bytes: &[u8]| -> (serde_json::Value, &'static str) {
        match std::str::from_utf8(bytes) {
            Ok(text) => (text.into(), "utf-8"),
            Err(_) => (
                base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
                "base64",
            ),
        }
    };
    let mut m = meta_json(secret.name.as_str(), &secret.meta);
    if secret.is_plain() {
        let (value, encoding) = encode(secret.fields[0].value.expose_bytes());
        m.insert("value".into(), value);
        m.insert("value_encoding".into(), encoding.into());
    }
    let fields: Vec<serde_json::Value> = secret
        .fields
        .iter()
        .map(|f| {
            let (value, encoding) = encode(f.value.expose_bytes());
            serde_json::json!({
                "name": f.name,
                "value": value,
                "value_encoding": encoding,
                "sensitive": f.sensitive,
                "kind": f.kind,
                "hint": f.hint,
                "aliases": f.aliases,
            })
        })
        .collect();
    m.insert("fields".into(), fields.into());
    m.insert(
        "bindings".into(),
        serde_json::to_value(&secret.bindings).expect("bindings serialise"),
    );
    let mut text =
        serde_json::to_vec_pretty(&serde_json::Value::Object(m)).expect("JSON serialises");
    text.push(b'\n');
    let result = io::out(&text);
    zeroize::Zeroize::zeroize(&mut text);
    result
}

/// Notes may hold newlines and control characters; one metadata line must stay one line.
fn escape_lines(text: &str) -> String {
    text.chars().flat_map(char::escape_debug).collect()
}
