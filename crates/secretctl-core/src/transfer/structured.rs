//! JSON and YAML: a flat mapping of keys to values (see the module docs of
//! [`crate::transfer`] for the exact rules).
//!
//! Both parsers go through one serde visitor for values ([`RawValue`]), so the
//! two formats accept the same shapes. Errors raised by the visitors travel
//! through a side channel ([`Problem`]) rather than through the library's
//! error text, because library error texts are never shown: serde-saphyr
//! quotes source lines, and serde's "invalid type" messages quote strings.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_saphyr::Spanned;
use zeroize::Zeroizing;

use super::dotenv::into_bytes;
use super::{Item, ParseError, RenderError, RenderErrorKind, check_unique_keys, quote_key};

/// The key under which a value is given as base64 (`{"base64": "..."}`).
const BASE64_KEY: &str = "base64";

/// A value as read, before the map visitor knows which key it belongs to
/// (only the map visitor can name the key in an error).
enum RawValue {
    /// A string scalar, already unescaped.
    Text(Zeroizing<Vec<u8>>),
    /// A number or boolean, as JSON text. YAML replaces it with the source
    /// text, which it knows from the span. Wiped too: it may be a PIN.
    Scalar(Zeroizing<String>),
    /// `null`, `~`, or an empty YAML value.
    Null,
    /// `{"base64": "..."}` or YAML `!!binary`, decoded.
    Binary(Zeroizing<Vec<u8>>),
    /// A shape that is not allowed; the text says what it was.
    Invalid(&'static str),
}

impl<'de> de::Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor { early: None })
    }
}

/// Reads the value of `key`, failing as soon as its shape is wrong. JSON
/// uses this because serde_json only knows the position where an error is
/// raised: failing at the `[` or at the first inner key points at the right
/// line, where failing after the whole value would point at its end.
struct RawValueSeed<'a> {
    key: &'a str,
    problem: &'a RefCell<Option<Problem>>,
}

impl<'de> DeserializeSeed<'de> for RawValueSeed<'_> {
    type Value = RawValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        deserializer.deserialize_any(RawValueVisitor { early: Some(self) })
    }
}

struct RawValueVisitor<'a> {
    /// Set when shape errors should be raised at once (see [`RawValueSeed`]).
    early: Option<RawValueSeed<'a>>,
}

impl RawValueVisitor<'_> {
    /// With an early context, turns an invalid shape into an error now;
    /// otherwise hands it back for the map visitor to report.
    fn invalid<E: de::Error>(&self, value: RawValue) -> Result<RawValue, E> {
        match (&self.early, &value) {
            (Some(early), RawValue::Invalid(why)) => {
                let message = format!("the value of key {} {why}", quote_key(early.key));
                Err(fail(early.problem, None, message))
            }
            (Some(early), RawValue::Null) => {
                Err(fail(early.problem, None, null_message(early.key)))
            }
            _ => Ok(value),
        }
    }
}

impl<'de> Visitor<'de> for RawValueVisitor<'_> {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Zeroizing::new(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Zeroizing::new(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Zeroizing::new(v.to_string())))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Zeroizing::new(v.to_string())))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        Ok(RawValue::Scalar(Zeroizing::new(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        // serde_json's own spelling of the number, e.g. `1.5`, `1000.0`.
        Ok(RawValue::Scalar(Zeroizing::new(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Text(Zeroizing::new(v.as_bytes().to_vec())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        // Takes the String's buffer over without copying it.
        Ok(RawValue::Text(Zeroizing::new(v.into_bytes())))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
        Ok(RawValue::Binary(Zeroizing::new(v.to_vec())))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<RawValue, E> {
        Ok(RawValue::Binary(Zeroizing::new(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        self.invalid(RawValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        self.invalid(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawValue, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let invalid = self.invalid(RawValue::Invalid(
            "is a list; values must be strings (or {\"base64\": \"...\"})",
        ))?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(invalid)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        // The only mapping allowed as a value is exactly {"base64": "..."}.
        let mut decoded = None;
        let mut entries = 0;
        let mut base64_form = true;
        while let Some(key) = map.next_key::<String>()? {
            entries += 1;
            if key == BASE64_KEY && entries == 1 {
                match map.next_value::<RawValue>()? {
                    RawValue::Text(encoded) => decoded = Some(decode_base64(&encoded)),
                    _ => {
                        base64_form = false;
                        self.invalid(RawValue::Invalid(NESTED))?;
                    }
                }
            } else {
                base64_form = false;
                self.invalid(RawValue::Invalid(NESTED))?;
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.invalid(match decoded {
            Some(Some(bytes)) if base64_form => RawValue::Binary(bytes),
            Some(None) if base64_form => {
                RawValue::Invalid("has a \"base64\" value that is not valid base64")
            }
            _ => RawValue::Invalid(NESTED),
        })
    }
}

const NESTED: &str = "is a nested mapping; values must be strings (or {\"base64\": \"...\"})";

/// Standard alphabet, padded; ASCII whitespace is ignored so that wrapped
/// base64 (e.g. a YAML block scalar) is accepted.
fn decode_base64(encoded: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let compact: Zeroizing<Vec<u8>> = Zeroizing::new(
        encoded
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect(),
    );
    BASE64.decode(&*compact).ok().map(Zeroizing::new)
}

/// The map visitor's own error, kept aside so that the message shown is ours.
#[derive(Default)]
struct Problem {
    /// Line of the key, when the visitor knows it (YAML); otherwise the
    /// library's error position is used (JSON).
    line: Option<usize>,
    message: String,
}

/// Records `message` and returns an error that makes the library unwind.
fn fail<E: de::Error>(slot: &RefCell<Option<Problem>>, line: Option<usize>, message: String) -> E {
    *slot.borrow_mut() = Some(Problem { line, message });
    E::custom("rejected by secretctl")
}

fn null_message(key: &str) -> String {
    format!(
        "the value of key {} is null; write \"\" for an empty value or quote the text \"null\"",
        quote_key(key)
    )
}

// ---------------------------------------------------------------------------
// JSON

/// Parses a flat JSON object `{"KEY": "value", ...}` into items, in file order.
///
/// Numbers and booleans become their JSON text; `{"base64": "..."}` is a
/// value given as base64; `null`, lists, other nested objects and duplicate
/// keys are errors naming the key. Errors give the line; they never contain a
/// value.
///
/// ```
/// # use secretctl_core::transfer::parse_json;
/// let items = parse_json(r#"{"A": "x", "PORT": 5432, "BIN": {"base64": "/w=="}}"#).unwrap();
/// assert_eq!(items[1].value.as_slice(), b"5432");
/// assert_eq!(items[2].value.as_slice(), [0xff]);
/// ```
pub fn parse_json(text: &str) -> Result<Vec<Item>, ParseError> {
    let problem = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = JsonMap { problem: &problem }
        .deserialize(&mut deserializer)
        .and_then(|items| deserializer.end().map(|()| items));
    result.map_err(|err| json_error(&err, problem.into_inner()))
}

fn json_error(err: &serde_json::Error, problem: Option<Problem>) -> ParseError {
    let line = err.line().max(1);
    if let Some(problem) = problem {
        return ParseError::new(problem.line.unwrap_or(line), problem.message);
    }
    let message = match err.classify() {
        // Syntax errors come from serde_json's fixed list of messages, which
        // never quote the input; strip the position, which we report ourselves.
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            let full = err.to_string();
            let suffix = format!(" at line {} column {}", err.line(), err.column());
            let what = full.strip_suffix(&suffix).unwrap_or("syntax error");
            format!("invalid JSON: {what} (column {})", err.column().max(1))
        }
        // "Invalid type" errors quote the offending value, so they are
        // replaced: the only shape problem left here is the top level.
        serde_json::error::Category::Data => {
            "expected a JSON object mapping keys to values".to_owned()
        }
        serde_json::error::Category::Io => "could not read the JSON text".to_owned(),
    };
    ParseError::new(line, message)
}

struct JsonMap<'a> {
    problem: &'a RefCell<Option<Problem>>,
}

impl<'de> DeserializeSeed<'de> for JsonMap<'_> {
    type Value = Vec<Item>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Item>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for JsonMap<'_> {
    type Value = Vec<Item>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Item>, A::Error> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            // Checked before the value is read, so the error's position is
            // the duplicate key's line.
            if !seen.insert(key.clone()) {
                let message = format!("duplicate key {}", quote_key(&key));
                return Err(fail(self.problem, None, message));
            }
            let seed = RawValueSeed {
                key: &key,
                problem: self.problem,
            };
            let value = match map.next_value_seed(seed)? {
                RawValue::Text(bytes) | RawValue::Binary(bytes) => bytes,
                RawValue::Scalar(mut text) => into_bytes(&mut text),
                RawValue::Null => return Err(fail(self.problem, None, null_message(&key))),
                RawValue::Invalid(why) => {
                    let message = format!("the value of key {} {why}", quote_key(&key));
                    return Err(fail(self.problem, None, message));
                }
            };
            items.push(Item { key, value });
        }
        Ok(items)
    }
}

/// Renders items as a pretty-printed JSON object in item order, followed by a
/// newline.
///
/// A value that is not valid UTF-8 is written as `{"base64": "..."}`, which
/// [`parse_json`] reads back, so every value round-trips. Fails only on
/// duplicate keys.
///
/// ```
/// # use secretctl_core::transfer::{Item, render_json};
/// let out = render_json(&[Item::new("A", "x\ny"), Item::new("B", vec![0xff])]).unwrap();
/// assert_eq!(out.as_str(), "{\n  \"A\": \"x\\ny\",\n  \"B\": {\n    \"base64\": \"/w==\"\n  }\n}\n");
/// ```
pub fn render_json(items: &[Item]) -> Result<Zeroizing<String>, RenderError> {
    const FORMAT: &str = "json";
    check_unique_keys(items, FORMAT)?;
    // An escaped byte takes at most six bytes (`\u001f`); base64 is shorter.
    // A buffer of that size never reallocates, so no unwiped copy of a secret
    // is left in freed memory.
    let capacity = items
        .iter()
        .map(|item| 6 * (item.key.len() + item.value.len()) + 32)
        .sum::<usize>()
        + 8;
    let mut buffer = Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer_pretty(&mut *buffer, &FlatMap { items, yaml: false })
        .map_err(|_| RenderError::new("", FORMAT, RenderErrorKind::Serializer))?;
    buffer.push(b'\n');
    let text = String::from_utf8(std::mem::take(&mut *buffer))
        .map_err(|_| RenderError::new("", FORMAT, RenderErrorKind::Serializer))?;
    Ok(Zeroizing::new(text))
}

/// Serializes items as one flat mapping, in order.
struct FlatMap<'a> {
    items: &'a [Item],
    /// Use YAML block scalars for multi-line values where that is safe.
    yaml: bool,
}

impl Serialize for FlatMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.items.len()))?;
        for item in self.items {
            match std::str::from_utf8(&item.value) {
                Ok(text) if self.yaml && block_literal_is_safe(text) => {
                    map.serialize_entry(&item.key, &serde_saphyr::LitStr(text))?;
                }
                Ok(text) => map.serialize_entry(&item.key, text)?,
                Err(_) => map.serialize_entry(&item.key, &Base64Form(&item.value))?,
            }
        }
        map.end()
    }
}

/// `{"base64": "..."}` for a value that is not UTF-8.
struct Base64Form<'a>(&'a [u8]);

impl Serialize for Base64Form<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Base64 of a secret is the secret: keep it in a wiped buffer too.
        let encoded = Zeroizing::new(BASE64.encode(self.0));
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(BASE64_KEY, encoded.as_str())?;
        map.end()
    }
}

// ---------------------------------------------------------------------------
// YAML

/// Parses a flat YAML mapping `KEY: value` into items, in file order.
///
/// Quoted and plain strings are taken as strings; every other plain scalar
/// is taken **exactly as written** (`0755`, `1.50`, `yes` keep their
/// spelling), and an empty value is the empty string. `~`/`null`, lists,
/// nested mappings other than `{base64: ...}`, and duplicate keys are errors
/// naming the key and its line (for duplicates, both lines). An empty
/// document is an empty list. Anchors, aliases and merge keys work, within
/// serde-saphyr's default budget (alias bombs are refused).
///
/// ```
/// # use secretctl_core::transfer::parse_yaml;
/// let items = parse_yaml("PIN: 0755\nNOTE: |\n  two\n  lines\n").unwrap();
/// assert_eq!(items[0].value.as_slice(), b"0755");
/// assert_eq!(items[1].value.as_slice(), b"two\nlines\n");
/// ```
pub fn parse_yaml(text: &str) -> Result<Vec<Item>, ParseError> {
    let mut options = serde_saphyr::Options::default();
    // Duplicates reach our visitor, which reports both lines.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    // Keys are read as strings: a key spelled `null` or `~` is that text.
    options.null_as_string = true;
    // `.inf`, `-.nan`, `1e999` reach the visitor as floats, which then takes
    // their text as written, like every other plain scalar.
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    // We never show the library's messages, but do not even build snippets
    // of the source (which holds secrets) into them.
    options.with_snippet = false;

    let problem = RefCell::new(None);
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        YamlMap {
            source: text,
            problem: &problem,
        }
        .deserialize(de)
    });
    result.map_err(|err| yaml_error(&err, problem.into_inner()))
}

fn yaml_error(err: &serde_saphyr::Error, problem: Option<Problem>) -> ParseError {
    let location = err.location();
    let line = location.map_or(1, |l| usize::try_from(l.line()).unwrap_or(usize::MAX));
    if let Some(problem) = problem {
        return ParseError::new(problem.line.unwrap_or(line), problem.message);
    }
    // serde-saphyr's messages may quote the source, so only fixed texts are
    // used here, with the position.
    let what = match err {
        serde_saphyr::Error::Eof { .. } => "unexpected end of YAML".to_owned(),
        serde_saphyr::Error::Unexpected { expected, .. } => {
            format!("invalid YAML: expected {expected}")
        }
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "expected one YAML document, found several".to_owned()
        }
        _ => "invalid YAML, or not a flat mapping of keys to values".to_owned(),
    };
    match location {
        Some(l) => ParseError::new(line, format!("{what} (column {})", l.column())),
        None => ParseError::new(line, what),
    }
}

struct YamlMap<'a> {
    /// The document, to take non-string scalars exactly as written.
    source: &'a str,
    problem: &'a RefCell<Option<Problem>>,
}

impl<'de> DeserializeSeed<'de> for YamlMap<'_> {
    type Value = Vec<Item>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Item>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl YamlMap<'_> {
    /// The source text of a plain scalar, from its span. `None` when the span
    /// is not available or does not look like a plain scalar (quoted, tagged
    /// or an alias): the caller then falls back to the parsed value.
    fn source_text(&self, span: serde_saphyr::Span) -> Option<&str> {
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        let text = self.source.get(start..start.checked_add(len)?)?;
        let plain = !text.starts_with(['"', '\'', '!', '&', '*', '|', '>']);
        plain.then_some(text)
    }

    fn not_a_mapping<E: de::Error>(&self) -> E {
        fail(
            self.problem,
            None,
            "expected a YAML mapping of keys to values".to_owned(),
        )
    }
}

impl<'de> Visitor<'de> for YamlMap<'_> {
    type Value = Vec<Item>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML mapping")
    }

    /// An empty document holds no items.
    fn visit_unit<E: de::Error>(self) -> Result<Vec<Item>, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<Item>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Vec<Item>, A::Error> {
        Err(self.not_a_mapping())
    }

    fn visit_str<E: de::Error>(self, _v: &str) -> Result<Vec<Item>, E> {
        Err(self.not_a_mapping())
    }

    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Vec<Item>, E> {
        Err(self.not_a_mapping())
    }

    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<Vec<Item>, E> {
        Err(self.not_a_mapping())
    }

    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<Vec<Item>, E> {
        Err(self.not_a_mapping())
    }

    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Vec<Item>, E> {
        Err(self.not_a_mapping())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Item>, A::Error> {
        let mut items = Vec::new();
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let line = usize::try_from(key.referenced.line()).unwrap_or(usize::MAX);
            let key = key.value;
            if let Some(first) = first_seen.get(&key) {
                let message = format!(
                    "duplicate key {} (first defined on line {first})",
                    quote_key(&key)
                );
                return Err(fail(self.problem, Some(line), message));
            }
            first_seen.insert(key.clone(), line);

            let value = map.next_value::<Spanned<RawValue>>()?;
            // `defined` is where the scalar is written, also when it is
            // reached through an alias.
            let span = value.defined.span();
            let value = match value.value {
                RawValue::Text(bytes) | RawValue::Binary(bytes) => bytes,
                RawValue::Scalar(mut parsed) => match self.source_text(span) {
                    Some(text) => Zeroizing::new(text.as_bytes().to_vec()),
                    None => into_bytes(&mut parsed),
                },
                // `KEY:` with nothing after it is the empty value, like
                // `KEY=` in a .env file; a written `~` or `null` is refused.
                RawValue::Null if span.byte_len() == Some(0) => Zeroizing::new(Vec::new()),
                RawValue::Null => return Err(fail(self.problem, Some(line), null_message(&key))),
                RawValue::Invalid(why) => {
                    let message = format!("the value of key {} {why}", quote_key(&key));
                    return Err(fail(self.problem, Some(line), message));
                }
            };
            items.push(Item { key, value });
        }
        Ok(items)
    }
}

/// Renders items as a flat YAML mapping in item order.
///
/// Multi-line values are written as literal block scalars (`|`) when that
/// is unambiguous, other strings in whatever quoting serde-saphyr needs
/// (strings YAML 1.1 readers would take for numbers, booleans or null are
/// quoted). A value that is not valid UTF-8 is written as
/// `{base64: "..."}`, which [`parse_yaml`] reads back. Fails only on
/// duplicate keys.
///
/// ```
/// # use secretctl_core::transfer::{Item, parse_yaml, render_yaml};
/// let items = [Item::new("PIN", "0755"), Item::new("CERT", "line 1\nline 2\n")];
/// let out = render_yaml(&items).unwrap();
/// assert_eq!(out.as_str(), "PIN: \"0755\"\nCERT: |\n  line 1\n  line 2\n");
/// assert_eq!(parse_yaml(&out).unwrap(), items);
/// ```
pub fn render_yaml(items: &[Item]) -> Result<Zeroizing<String>, RenderError> {
    const FORMAT: &str = "yaml";
    check_unique_keys(items, FORMAT)?;
    if items.is_empty() {
        // serde-saphyr writes `{}`; an empty document says the same and
        // parses back to no items.
        return Ok(Zeroizing::new(String::new()));
    }
    let mut options = serde_saphyr::SerializerOptions::default();
    // Long single-line strings would otherwise be folded (`>`), which is
    // easy to get subtly wrong; block style is chosen explicitly instead.
    options.prefer_block_scalars = false;
    // Escapes take at most a few bytes per input byte; sized so the buffer
    // does not reallocate and leave copies of secrets in freed memory.
    let capacity = items
        .iter()
        .map(|item| 10 * (item.key.len() + item.value.len()) + 32)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    serde_saphyr::to_fmt_writer_with_options(&mut *out, &FlatMap { items, yaml: true }, options)
        .map_err(|_| RenderError::new("", FORMAT, RenderErrorKind::Serializer))?;
    Ok(out)
}

/// Whether a multi-line value is written as a `|` block scalar, which is
/// what a person reading the export wants to see (a certificate, a key).
/// Conservative, since quoted style is always exact: block scalars cannot hold
/// carriage returns or other control characters; Unicode line separators are
/// line breaks to some readers; trailing spaces are invisible and editors
/// strip them; a line starting with a space needs an indentation indicator
/// that hand edits easily break. Everything else is written double-quoted.
fn block_literal_is_safe(text: &str) -> bool {
    text.contains('\n')
        && text.chars().all(|c| {
            c == '\n' || !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
        })
        && text
            .split('\n')
            .all(|line| !line.starts_with(' ') && !line.ends_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(items: &[Item]) -> Vec<(&str, &[u8])> {
        items
            .iter()
            .map(|item| (item.key.as_str(), item.value.as_slice()))
            .collect()
    }

    #[test]
    fn json_flat_object() {
        let items = parse_json(
            r#"{"A": "x", "N": 12, "F": 1.5, "NEG": -3, "T": true, "E": "", "U": "\u00e9\n", "B": {"base64": "AAEC/w=="}}"#,
        )
        .unwrap();
        assert_eq!(
            values(&items),
            [
                ("A", &b"x"[..]),
                ("N", b"12"),
                ("F", b"1.5"),
                ("NEG", b"-3"),
                ("T", b"true"),
                ("E", b""),
                ("U", "é\n".as_bytes()),
                ("B", &[0, 1, 2, 0xff]),
            ]
        );
        assert!(parse_json("{}").unwrap().is_empty());
        assert!(parse_json("  {}\n").unwrap().is_empty());
    }

    #[test]
    fn json_errors_name_line_and_key_never_value() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "{\n\"A\": \"1\",\n\"B\": {\"x\": \"secret\"}\n}",
                3,
                "\"B\" is a nested mapping",
            ),
            ("{\n\"A\": [\"secret\"]\n}", 2, "\"A\" is a list"),
            ("{\"A\": null}", 1, "\"A\" is null"),
            (
                "{\n\"A\": \"secret\",\n\"A\": \"x\"}",
                3,
                "duplicate key \"A\"",
            ),
            ("{\"A\": {\"base64\": \"secret!!\"}}", 1, "not valid base64"),
            (
                "{\"A\": {\"base64\": \"AA==\", \"x\": 1}}",
                1,
                "nested mapping",
            ),
            ("[\"secret\"]", 1, "expected a JSON object"),
            ("\"secret\"", 1, "expected a JSON object"),
            ("{\"A\": \"secret\",\n}", 2, "invalid JSON: trailing comma"),
            (
                "{\"A\": \"secret\"",
                1,
                "invalid JSON: EOF while parsing an object",
            ),
            (
                "{\"A\": \"secret\"} x",
                1,
                "invalid JSON: trailing characters",
            ),
            (
                "{\"A\": \"sec\nret\"}",
                2,
                "invalid JSON: control character",
            ),
            ("", 1, "invalid JSON"),
        ];
        for &(text, line, needle) in cases {
            let err = parse_json(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(!err.to_string().contains("secret"), "{text:?}: {err}");
            assert!(!err.to_string().contains("sec\n"), "{text:?}: {err}");
        }
    }

    #[test]
    fn yaml_scalars_are_taken_as_written() {
        let text = "A: 123\nB: 0x1F\nC: yes\nD: 1.50\nE:\nF: \"quoted\"\nG: 'single'\n\
                    H: |\n  multi\n  line\nI: 0755\nJ: &x 1e3\nK: *x\nL: 99999999999999999999999\n\
                    M: {base64: AAEC/w==}\nN: !!binary aGk=\nO: plain text # comment\n";
        let items = parse_yaml(text).unwrap();
        assert_eq!(
            values(&items),
            [
                ("A", &b"123"[..]),
                ("B", b"0x1F"),
                ("C", b"yes"),
                ("D", b"1.50"),
                ("E", b""),
                ("F", b"quoted"),
                ("G", b"single"),
                ("H", b"multi\nline\n"),
                ("I", b"0755"),
                ("J", b"1e3"),
                ("K", b"1e3"),
                ("L", b"99999999999999999999999"),
                ("M", &[0, 1, 2, 0xff]),
                ("N", b"hi"),
                ("O", b"plain text"),
            ]
        );
        let items = parse_yaml("A: -.Inf\nB: .nan\nC: 1e999\nD: !!str 0755\nE: x\n  y\n").unwrap();
        assert_eq!(
            values(&items),
            [
                ("A", &b"-.Inf"[..]),
                ("B", b".nan"),
                ("C", b"1e999"),
                ("D", b"0755"),
                ("E", b"x y"),
            ]
        );
        // Merge keys and aliases are YAML's own; the later key wins over a
        // merged one.
        let items = parse_yaml("<<: {A: '1', B: x}\nB: 2\n").unwrap();
        assert_eq!(values(&items), [("B", &b"2"[..]), ("A", b"1")]);
        assert!(parse_yaml("").unwrap().is_empty());
        assert!(parse_yaml("# only a comment\n").unwrap().is_empty());
        assert!(parse_yaml("{}").unwrap().is_empty());
    }

    #[test]
    fn yaml_errors_name_line_and_key_never_value() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "A: secret\nB:\n  x: secret\n",
                2,
                "\"B\" is a nested mapping",
            ),
            ("A: secret\nB: [secret]\n", 2, "\"B\" is a list"),
            ("A: secret\nB: ~\n", 2, "\"B\" is null"),
            ("A: secret\nB: null\n", 2, "\"B\" is null"),
            (
                "A: secret\nB: x\nA: y\n",
                3,
                "duplicate key \"A\" (first defined on line 1)",
            ),
            ("A: {base64: 'secret!'}\n", 1, "not valid base64"),
            ("- secret\n", 1, "expected a YAML mapping"),
            ("secret\n", 1, "expected a YAML mapping"),
            ("A: secret\nB: \"secret\n", 2, ""),
            ("A: secret\n  B: secret\n", 2, "invalid YAML"),
            ("A: secret\n---\nB: secret\n", 3, "several"),
        ];
        for &(text, line, needle) in cases {
            let err = parse_yaml(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(!err.to_string().contains("secret"), "{text:?}: {err}");
        }
    }

    #[test]
    fn renderers_write_binary_as_base64_and_refuse_duplicates() {
        let items = [
            Item::new("BIN", vec![0u8, 0xff, 0x80]),
            Item::new("NUL", "a\0b"),
        ];
        let json = render_json(&items).unwrap();
        assert!(json.contains("\"base64\": \"AP+A\""), "{}", json.as_str());
        assert!(json.contains("a\\u0000b"), "{}", json.as_str());
        assert_eq!(parse_json(&json).unwrap(), items);
        let yaml = render_yaml(&items).unwrap();
        assert!(yaml.contains("base64: AP+A"), "{}", yaml.as_str());
        assert_eq!(parse_yaml(&yaml).unwrap(), items);

        let dup = [Item::new("A", "1"), Item::new("A", "2")];
        assert_eq!(
            render_json(&dup).unwrap_err().kind,
            RenderErrorKind::DuplicateKey
        );
        assert_eq!(
            render_yaml(&dup).unwrap_err().kind,
            RenderErrorKind::DuplicateKey
        );
        assert_eq!(render_json(&[]).unwrap().as_str(), "{}\n");
        assert_eq!(render_yaml(&[]).unwrap().as_str(), "");
    }

    #[test]
    fn yaml_quotes_what_other_readers_would_retype() {
        let items = [
            Item::new("A", "yes"),
            Item::new("B", "null"),
            Item::new("C", "~"),
            Item::new("D", ""),
            Item::new("E", "0755"),
            Item::new("F", "1.50"),
            Item::new("null", "key named null"),
            Item::new("123", "numeric key"),
        ];
        let yaml = render_yaml(&items).unwrap();
        assert_eq!(parse_yaml(&yaml).unwrap(), items, "{}", yaml.as_str());
    }
}
