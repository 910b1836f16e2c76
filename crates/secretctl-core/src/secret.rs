//! What a secret is: its validated name, its value, its metadata, and how it is shown masked
//! (SPEC §3.3, §7.1). No storage here: the vault module persists these types.

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretSlice};

/// Largest value accepted (SPEC §3.3).
pub const MAX_VALUE_LEN: usize = 1024 * 1024;
/// Largest notes accepted, in bytes.
pub const MAX_NOTES_LEN: usize = 10 * 1024;
/// Most tags on one secret.
pub const MAX_TAGS: usize = 10;
/// Longest key name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Input that breaks a rule of SPEC §3.3. The text never contains a value; for names it
/// shows an escaped, shortened form so that a hostile name cannot forge terminal output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The key name breaks a naming rule.
    #[error("invalid key name {shown}: {rule}")]
    KeyName {
        /// The name, escaped and shortened for display.
        shown: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The value is larger than [`MAX_VALUE_LEN`].
    #[error("value is {len} bytes; the limit is 1 MiB (1048576 bytes)")]
    ValueTooLarge {
        /// The value's length.
        len: usize,
    },
    /// The value is empty.
    #[error("value is empty; nothing was stored")]
    EmptyValue,
    /// A tag breaks a rule.
    #[error("invalid tag {shown}: {rule}")]
    Tag {
        /// The tag, escaped and shortened.
        shown: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Notes are too long or not text.
    #[error("notes are {len} bytes; the limit is 10 KiB")]
    NotesTooLong {
        /// Their length.
        len: usize,
    },
    /// A new master password breaks a rule.
    #[error("master password refused: {rule}")]
    Password {
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The URL is not http(s) or too long.
    #[error("invalid url: {rule}")]
    Url {
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// Escapes and shortens untrusted text for one-line display (no control characters survive).
pub fn shown(input: &str) -> String {
    let mut out = String::from("'");
    for c in input.chars().take(48) {
        out.extend(c.escape_debug());
    }
    if input.chars().count() > 48 {
        out.push('…');
    }
    out.push('\'');
    out
}

/// A validated key name: 1–256 bytes of `[A-Za-z0-9._/-]`, not starting with `.`, `-` or `/`,
/// no `..`, no trailing `/`, no empty segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// Validates a name.
    pub fn parse(input: &str) -> Result<KeyName, InputError> {
        let fail = |rule| InputError::KeyName {
            shown: shown(input),
            rule,
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.len() > MAX_NAME_LEN {
            return Err(fail("it is longer than 256 bytes"));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        {
            return Err(fail("use only letters, digits, '.', '_', '/' and '-'"));
        }
        if input.starts_with(['.', '-', '/']) {
            return Err(fail("it must not start with '.', '-' or '/'"));
        }
        if input.contains("..") {
            return Err(fail("it must not contain '..'"));
        }
        if input.ends_with('/') || input.contains("//") {
            return Err(fail("path segments must not be empty"));
        }
        Ok(KeyName(input.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret value: bytes, binary-safe, zeroized on drop, never printed by accident.
pub struct SecretValue(SecretSlice<u8>);

impl SecretValue {
    /// Wraps bytes after checking the size limit (empty values are refused).
    pub fn new(bytes: Vec<u8>) -> Result<SecretValue, InputError> {
        let value = SecretValue(SecretSlice::from(bytes));
        match value.len() {
            0 => Err(InputError::EmptyValue),
            n if n > MAX_VALUE_LEN => Err(InputError::ValueTooLarge { len: n }),
            _ => Ok(value),
        }
    }

    /// Wraps bytes read back from the vault (already validated when stored).
    pub(crate) fn from_stored(bytes: Vec<u8>) -> SecretValue {
        SecretValue(SecretSlice::from(bytes))
    }

    /// The plaintext bytes. Callers: crypto, runner, redact, and the code printing a value the
    /// human asked for (STYLE rule 4).
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The masked form of SPEC §7.1.
    pub fn masked(&self) -> Masked {
        Masked::of(self.expose_bytes())
    }
}

/// A value shown without revealing it (SPEC §7.1): under 16 characters nothing is shown; longer
/// values show at most their last 4 characters, never more than a quarter of them; the length is
/// a bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Masked {
    /// The masked text, e.g. `****************abcd` or `********`.
    pub masked: String,
    /// `<16`, `16-31`, `32-63` or `64+`.
    pub length: &'static str,
}

impl Masked {
    /// Masks a value.
    pub fn of(value: &[u8]) -> Masked {
        let text = String::from_utf8_lossy(value);
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let length = match n {
            0..=15 => "<16",
            16..=31 => "16-31",
            32..=63 => "32-63",
            _ => "64+",
        };
        let masked = if n < 16 {
            "********".to_owned()
        } else {
            let shown = 4.min(n / 4);
            let tail: String = chars[n - shown..]
                .iter()
                .map(|c| if c.is_control() { '?' } else { *c })
                .collect();
            format!("{}{}", "*".repeat(12), tail)
        };
        Masked { masked, length }
    }
}

/// Metadata of a secret (everything but the value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretMeta {
    /// Free-form notes (encrypted at rest).
    pub notes: Option<String>,
    /// A related URL (encrypted at rest).
    pub url: Option<String>,
    /// Tags, in the order given (plaintext at rest so they can be filtered without the key).
    pub tags: Vec<String>,
    /// When the secret stops being usable.
    pub expires_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// When it was last changed.
    pub updated_at: Option<Timestamp>,
}

/// One secret as listed: its name and metadata, no value.
#[derive(Debug, Clone)]
pub struct SecretSummary {
    /// The name.
    pub name: KeyName,
    /// Its metadata.
    pub meta: SecretMeta,
}

/// One secret with its value.
pub struct Secret {
    /// The name.
    pub name: KeyName,
    /// The value.
    pub value: SecretValue,
    /// Its metadata.
    pub meta: SecretMeta,
}

/// A change to a secret. `None` leaves a part as it is; `Some(None)` clears it. An update never
/// touches what it does not name (SPEC §3.3).
#[derive(Default)]
pub struct SecretUpdate {
    /// New value; required when the secret does not exist yet.
    pub value: Option<SecretValue>,
    /// New notes, or `Some(None)` to clear them.
    pub notes: Option<Option<String>>,
    /// New URL, or `Some(None)` to clear it.
    pub url: Option<Option<String>>,
    /// New tags (replacing the old ones), or `Some(vec![])` to clear them.
    pub tags: Option<Vec<String>>,
    /// New expiry, or `Some(None)` to clear it.
    pub expires_at: Option<Option<Timestamp>>,
}

impl SecretUpdate {
    /// Checks notes, URL and tags against SPEC §3.3.
    pub fn validate(&self) -> Result<(), InputError> {
        if let Some(Some(notes)) = &self.notes {
            if notes.len() > MAX_NOTES_LEN {
                return Err(InputError::NotesTooLong { len: notes.len() });
            }
        }
        if let Some(Some(url)) = &self.url {
            validate_url(url)?;
        }
        if let Some(tags) = &self.tags {
            validate_tags(tags)?;
        }
        Ok(())
    }
}

fn validate_url(url: &str) -> Result<(), InputError> {
    if url.len() > MAX_URL_LEN {
        return Err(InputError::Url {
            rule: "it is longer than 2048 bytes",
        });
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(InputError::Url {
            rule: "it must start with http:// or https://",
        })?;
    if rest.is_empty() || rest.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InputError::Url {
            rule: "it must have a host and no spaces or control characters",
        });
    }
    Ok(())
}

/// Checks tags: at most 10, each `[A-Za-z0-9_-]{1,64}`, no duplicates.
pub fn validate_tags(tags: &[String]) -> Result<(), InputError> {
    if tags.len() > MAX_TAGS {
        return Err(InputError::Tag {
            shown: format!("({} tags)", tags.len()),
            rule: "at most 10 tags per secret",
        });
    }
    for (i, tag) in tags.iter().enumerate() {
        let fail = |rule| InputError::Tag {
            shown: shown(tag),
            rule,
        };
        if tag.is_empty() || tag.len() > 64 {
            return Err(fail("tags are 1 to 64 characters"));
        }
        if !tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(fail("use only letters, digits, '_' and '-'"));
        }
        if tags[..i].contains(tag) {
            return Err(fail("it is given twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        for ok in [
            "A",
            "aws/prod/key",
            "db.password",
            "x-1_2",
            &"a".repeat(256),
        ] {
            assert!(KeyName::parse(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "",
            "-rf",
            ".hidden",
            "/abs",
            "a/../b",
            "a/",
            "a//b",
            "new\nline",
            "esc\x1b[31m",
            "sp ace",
            "ü",
            &"a".repeat(257),
        ] {
            let err = KeyName::parse(bad).unwrap_err().to_string();
            assert!(!err.contains('\n') && !err.contains('\x1b'), "{err}");
        }
    }

    #[test]
    fn masking_follows_spec() {
        assert_eq!(Masked::of(b"short").masked, "********");
        assert_eq!(Masked::of(b"short").length, "<16");
        let m = Masked::of(b"0123456789abcdefWXYZ");
        assert_eq!(m.masked, "************WXYZ");
        assert_eq!(m.length, "16-31");
        assert_eq!(Masked::of(&[b'x'; 64]).length, "64+");
    }

    #[test]
    fn values_are_bounded() {
        assert!(SecretValue::new(vec![0; MAX_VALUE_LEN]).is_ok());
        assert!(matches!(
            SecretValue::new(vec![0; MAX_VALUE_LEN + 1]),
            Err(InputError::ValueTooLarge { .. })
        ));
        assert!(matches!(
            SecretValue::new(vec![]),
            Err(InputError::EmptyValue)
        ));
    }
}
