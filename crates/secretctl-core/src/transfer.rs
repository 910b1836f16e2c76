//! Import/export formats and `inject` templates (SPEC §5.3, §5.4).
//!
//! Everything here is a pure function over text: no I/O, no vault, no process
//! environment. The CLI reads the file, calls a parser, validates the key names
//! (SPEC §3.3 — this module keeps keys exactly as written) and writes the vault;
//! for export it reads the vault, calls a renderer and writes the file.
//!
//! The one exception is [`go_vault`], which reads (never writes) the directory of
//! a vault of the original Go secretctl. It and the converters of
//! [`competitors`] return a [`Conversion`]: whole secrets with fields, metadata
//! and folders, key names already sanitised to SPEC §3.3, and a line for
//! everything the source held that secretctl cannot carry.
//!
//! Values are secret bytes. They are held in [`Zeroizing`] buffers, never
//! `Debug`-printed ([`Item`]'s `Debug` shows only the key and the length), and
//! never put in an error: errors name the line (and column where useful) and the
//! key, never the value. Errors from the JSON and YAML libraries are not passed
//! through verbatim for that reason: serde-saphyr's messages quote the offending
//! source lines, and serde's "invalid type" messages quote the offending string.
//!
//! # Formats
//!
//! | format | parse | render | carries |
//! |---|---|---|---|
//! | dotenv | [`parse_dotenv`] | [`render_dotenv`] | UTF-8 without NUL |
//! | shell | — | [`render_shell`] | UTF-8 without NUL |
//! | JSON | [`parse_json`] | [`render_json`] | any bytes |
//! | YAML | [`parse_yaml`] | [`render_yaml`] | any bytes |
//! | 1Password CSV | [`parse_1password_csv`] | — | [`Conversion`] |
//! | Bitwarden JSON | [`parse_bitwarden_json`] | — | [`Conversion`] |
//! | LastPass CSV | [`parse_lastpass_csv`] | — | [`Conversion`] |
//! | KeePassXC CSV | [`parse_keepassxc_csv`] | — | [`Conversion`] |
//! | secretctl-go vault | [`go_vault::read`] (a directory) | — | [`Conversion`] |
//!
//! Every renderer is lossless: for whatever it accepts, parsing its output
//! gives back exactly the same keys, values and order. What a format cannot
//! carry is a [`RenderError`] naming the key, never a silent change. Two items
//! with the same key are a [`RenderError`] too, because every parser here
//! rejects duplicate keys.
//!
//! ## dotenv dialect
//!
//! This parser is written here rather than taken from the `dotenvy` crate on
//! purpose: dotenvy expands `$VAR` and `${VAR}` from the *process environment*.
//! An import must store what the file says, and must never pull the importing
//! shell's environment (which may hold other secrets) into the vault. So there
//! is **no variable substitution** at all: `$VAR` and `${VAR}` stay literal.
//!
//! The accepted dialect, line by line (a line ends at `\n` or `\r\n`; a leading
//! byte-order mark is ignored):
//!
//! - Blank lines and lines whose first non-blank character is `#` are skipped.
//! - `[export] KEY = VALUE`: optional `export` followed by spaces or tabs;
//!   spaces and tabs around `=` are allowed. A key is one or more of
//!   `A-Z a-z 0-9 _ . - /` (which covers env names and vault paths such as
//!   `aws/prod/key`). A line without `=` is an error: there is no "key only"
//!   form.
//! - **Unquoted** value: the rest of the line. A `#` preceded by a space or a
//!   tab starts a comment (`KEY=a#b` is `a#b`, `KEY=a #b` is `a`, `KEY= #b` is
//!   empty). The value is trimmed of spaces and tabs. No escapes: backslashes
//!   and quotes in the middle are literal. `KEY=` is the empty value.
//! - **Single-quoted** `'...'`: literal up to the next `'`; no escapes, so it
//!   cannot contain `'`. May span lines.
//! - **Backtick-quoted** `` `...` ``: literal like single quotes, up to the
//!   next backtick.
//! - **Double-quoted** `"..."`: escapes `\n` `\r` `\t` `\"` `\\` `\$` and
//!   `` \` ``; a backslash before any other character is kept together with
//!   that character (as POSIX `sh` does inside double quotes, so Windows paths
//!   such as `"C:\Users"` survive). May span lines.
//! - In every quoted form a real line break is `\n`: a `\r\n` in the file
//!   becomes `\n`, so a file saved with CRLF line endings means the same.
//! - After a closing quote only spaces, tabs and a `#` comment may follow.
//! - A key defined twice is an error naming both lines: a secrets import must
//!   not silently pick one of two values.
//!
//! [`render_dotenv`] writes `KEY=value` when the value is non-empty and made of
//! `A-Z a-z 0-9 _ . / : @ + -` only, and `KEY="..."` otherwise, escaping
//! `\` `"` `$` `` ` `` newline, carriage return and tab. Because `$` and
//! backticks are escaped, the output is also safe to `source` from a POSIX
//! shell (nothing is executed or expanded), though a shell reads `\n` as two
//! characters: use [`render_shell`] for shells.
//!
//! ## JSON and YAML
//!
//! Both are a flat mapping `KEY: value` in file order.
//!
//! - String values are taken as they are.
//! - Other scalars become text: in JSON numbers and booleans become their JSON
//!   text (64-bit integers exactly; other numbers as serde_json prints an
//!   `f64`, so `1.50` becomes `1.5` — quote a value whose spelling matters). In YAML a plain scalar is
//!   taken **exactly as written** (`0755`, `1.50`, `yes`, `0x1F` stay so), since
//!   YAML's type guessing would otherwise silently turn a PIN `0755` into `755`;
//!   an empty YAML value (`KEY:`) is the empty string.
//! - `null` (JSON `null`, YAML `~`/`null`) is an error naming the key: it is
//!   more likely "no value" than the four-letter secret `null`.
//! - Nested mappings and sequences are an error naming the key, with one
//!   exception: `{"base64": "..."}` (standard alphabet, padded; ASCII whitespace
//!   ignored) is a value given as base64. [`render_json`] and [`render_yaml`]
//!   write a value that is not valid UTF-8 in that form, so binary secrets (an
//!   SSH key in DER, a keytab) survive an export/import round trip. (YAML's
//!   own `!!binary` tag is decoded by serde-saphyr only when the bytes are
//!   UTF-8 text, so it is not used for binary values.)
//! - A duplicate key is an error (serde_json would keep the last one).
//!
//! # Templates and references
//!
//! `secretctl://KEY` or `secretctl://KEY/FIELD` names a value ([`parse_reference`]).
//! Keys may contain `/`, so `secretctl://a/b/c` may be the key `a/b/c` or the
//! field `c` of the key `a/b`. This module does not guess:
//! [`Reference::candidates`] lists the whole path as a key first, then
//! key-plus-field when the last segment is a valid field name
//! (`^[a-z][a-z0-9_]*$`), and the caller's resolver takes the first that
//! exists. An exact key therefore always wins over a field.
//!
//! [`render_template`] replaces `{{ secretctl://... }}` in a template (for
//! `inject`), [`references`] lists them (for `--dry-run` and for fetching),
//! and [`parse_env_file_with_refs`] reads a `.env` file whose values may be
//! references (for `run --env-file`).

use std::fmt;

use zeroize::Zeroizing;

pub mod competitors;
mod convert;
mod dotenv;
pub mod go_vault;
mod inject;
mod shell;
mod structured;

pub use competitors::{
    Competitor, parse_1password_csv, parse_bitwarden_json, parse_keepassxc_csv, parse_lastpass_csv,
};
pub use dotenv::{parse_dotenv, render_dotenv};
pub use inject::{
    EnvValue, InjectError, RefError, Reference, Resolver, SCHEME, TemplateError,
    parse_env_file_with_refs, parse_reference, references, render_template,
};
pub use shell::render_shell;
pub use structured::{parse_json, parse_yaml, render_json, render_yaml};

/// One key and its secret value, as read from or written to a file.
///
/// The key is exactly as written in the file; the caller validates it against
/// the vault's key-name rules. `Debug` shows the key and the value's length,
/// never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    /// The key as written in the file.
    pub key: String,
    /// The secret value, wiped from memory when dropped.
    pub value: Zeroizing<Vec<u8>>,
}

impl Item {
    /// Builds an item from a key and value bytes.
    pub fn new(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Item {
            key: key.into(),
            value: Zeroizing::new(value.into()),
        }
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("key", &self.key)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}

/// A whole secret read from another password manager or vault (`import --from`), with the
/// folder it sat in there.
pub struct Record {
    /// The secret: name (already sanitised to SPEC §3.3), fields, bindings and metadata.
    pub secret: crate::secret::Secret,
    /// The folder path, outermost first (`["Work", "AWS"]`); empty when the item had none.
    /// Segments are kept as written (they may contain `/`).
    pub folder: Vec<String>,
}

/// What a converter made of a foreign file: the records, and one line for each thing the
/// source held that secretctl cannot express (an attachment, a passkey, a second TOTP, ...), so
/// nothing is dropped silently. Lines name the item, never a value.
#[derive(Default)]
pub struct Conversion {
    /// The secrets, in file order.
    pub records: Vec<Record>,
    /// What could not be carried over, one line each.
    pub unsupported: Vec<String>,
}

/// A file that could not be parsed.
///
/// `line` is 1-based and points at the offending entry (for a value spanning
/// several lines, the line where it starts). The message names the key where
/// there is one and never contains a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, without any secret value.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        ParseError {
            line,
            message: message.into(),
        }
    }
}

/// Why an item cannot be written in the requested format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenderErrorKind {
    /// The value is not valid UTF-8 and the format only carries text.
    NotUtf8,
    /// The value contains a NUL byte, which no environment variable can hold.
    ContainsNul,
    /// The key cannot be written as a name in this format.
    InvalidKey,
    /// Two items have the same key; the file could not be read back.
    DuplicateKey,
    /// The YAML serializer failed (not expected for flat string maps).
    Serializer,
}

impl fmt::Display for RenderErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RenderErrorKind::NotUtf8 => "the value is not valid UTF-8",
            RenderErrorKind::ContainsNul => "the value contains a NUL byte",
            RenderErrorKind::InvalidKey => "the key is not a valid name in this format",
            RenderErrorKind::DuplicateKey => "the key appears more than once",
            RenderErrorKind::Serializer => "the serializer failed",
        })
    }
}

/// An item that cannot be written in the requested format. Names the key,
/// never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write {} as {format}: {kind}", quote_key(key))]
pub struct RenderError {
    /// The key of the offending item.
    pub key: String,
    /// The format being written (`env`, `shell`, `json`, `yaml`).
    pub format: &'static str,
    /// What is wrong.
    pub kind: RenderErrorKind,
}

impl RenderError {
    pub(crate) fn new(key: &str, format: &'static str, kind: RenderErrorKind) -> Self {
        RenderError {
            key: key.to_owned(),
            format,
            kind,
        }
    }
}

/// Quotes a key for an error message. Keys come from untrusted files, so
/// control characters are escaped: a hostile key must not forge extra lines or
/// terminal escapes in the one-line error the CLI prints (SPEC §12).
pub(crate) fn quote_key(key: &str) -> String {
    format!("\"{}\"", key.escape_debug())
}

/// Rejects a second item with the same key (a renderer's output must parse
/// back, and every parser here refuses duplicates).
pub(crate) fn check_unique_keys(items: &[Item], format: &'static str) -> Result<(), RenderError> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        if !seen.insert(item.key.as_str()) {
            return Err(RenderError::new(
                &item.key,
                format,
                RenderErrorKind::DuplicateKey,
            ));
        }
    }
    Ok(())
}

/// The value as text, for formats that only carry text without NUL.
pub(crate) fn text_value<'a>(item: &'a Item, format: &'static str) -> Result<&'a str, RenderError> {
    let text = std::str::from_utf8(&item.value)
        .map_err(|_| RenderError::new(&item.key, format, RenderErrorKind::NotUtf8))?;
    if text.contains('\0') {
        return Err(RenderError::new(
            &item.key,
            format,
            RenderErrorKind::ContainsNul,
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_debug_hides_the_value() {
        let item = Item::new("API_KEY", "hunter2-secret");
        let shown = format!("{item:?}");
        assert!(shown.contains("API_KEY"));
        assert!(shown.contains("14 bytes"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn keys_in_messages_cannot_forge_lines() {
        let err = RenderError::new("A\nB\x1b[31m", "env", RenderErrorKind::InvalidKey);
        let shown = err.to_string();
        assert!(!shown.contains('\n'));
        assert!(!shown.contains('\x1b'));
        assert!(shown.contains("A\\nB"));
    }
}
