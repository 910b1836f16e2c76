//! What every `import --from` converter shares: turning foreign titles, labels and tags into
//! names secretctl accepts (SPEC §3.3), and assembling one [`Secret`] from one foreign item
//! ([`Draft`], finished by [`Converter`]) so that whatever cannot be carried becomes a line of
//! [`Conversion::unsupported`] instead of disappearing.
//!
//! The rules are documented for users in the module docs of
//! [`crate::transfer::competitors`] and in `docs/import-export.md`; the short version:
//!
//! - Key names: each folder segment and the title become one path segment each. Letters with
//!   diacritics in Latin-1 and Latin Extended-A lose them (`é` → `e`, `ß` → `ss`); every other
//!   character outside `[A-Za-z0-9._]` separates words and becomes one `-`; a segment never starts or
//!   ends with `.` or `-`. A title with nothing left becomes `item-N` (N = the item's position in
//!   the file). Names longer than 256 bytes are cut. A name taken already gets `-2`, `-3`, ….
//! - When a title loses a letter or digit that could not be transliterated (`日本`), the original
//!   title is kept in a non-sensitive field `title`, so nothing of it is lost.
//! - Field names: lower-cased, transliterated, other characters become `_`, a leading digit gets
//!   `f_`, at most 64 bytes; a name taken already gets `_2`, `_3`, …. When the label changed, the
//!   label itself is kept as the field's hint.
//! - Tags: characters outside `[A-Za-z0-9_-]` become `-`, at most 64 bytes, at most 10 tags.
//! - Notes up to 10 KiB are the secret's notes; longer notes become a sensitive multi-line field
//!   `notes`. An item whose only content is its notes is a secure note: the text becomes the
//!   sensitive multi-line field `value`, so the secret is a plain secret.
//!
//! Values pass through here as `Vec<u8>` moved into [`SecretValue`] (wiped on drop); they never
//! appear in a line of `unsupported`, which names the item and the field label only.

use std::collections::HashSet;

use jiff::Timestamp;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use zeroize::Zeroizing;

use super::{Conversion, Record};
use crate::secret::{
    Bindings, Field, FolderPath, InputType, KeyName, MAX_FIELDS, MAX_NAME_LEN, MAX_NOTES_LEN,
    MAX_TAGS, Secret, SecretMeta, SecretValue, Template, VALUE_FIELD, shown, validate_url,
};

/// The field that keeps an item's original title when its key name lost letters.
pub(crate) const TITLE_FIELD: &str = "title";
/// The field that holds notes longer than [`MAX_NOTES_LEN`].
pub(crate) const NOTES_FIELD: &str = "notes";
/// Longest field name (SPEC §3.3).
const MAX_FIELD_NAME: usize = 64;
/// Longest tag.
const MAX_TAG_LEN: usize = 64;

/// U+0100..=U+017F (Latin Extended-A) without their diacritics, one ASCII letter each (the
/// ligatures `Ĳ ĳ Œ œ` are handled before this table is consulted).
const LATIN_EXTENDED_A: &str = concat!(
    "AaAaAaCcCcCcCcDd",
    "DdEeEeEeEeEeGgGg",
    "GgGgHhHhIiIiIiIi",
    "IiIiJjKkkLlLlLlL",
    "lLlNnNnNnnNnOoOo",
    "OoOoRrRrRrSsSsSs",
    "SsTtTtTtUuUuUuUu",
    "UuUuWwYyYZzZzZzs",
);

/// The ASCII spelling of a Latin letter with a diacritic, or `None` for any other character.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'Æ' => "AE",
        'æ' => "ae",
        'Þ' => "TH",
        'þ' => "th",
        'ß' => "ss",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Œ' => "OE",
        'œ' => "oe",
        'À'..='Å' => "A",
        'Ç' => "C",
        'È'..='Ë' => "E",
        'Ì'..='Ï' => "I",
        'Ð' => "D",
        'Ñ' => "N",
        'Ò'..='Ö' | 'Ø' => "O",
        'Ù'..='Ü' => "U",
        'Ý' => "Y",
        'à'..='å' => "a",
        'ç' => "c",
        'è'..='ë' => "e",
        'ì'..='ï' => "i",
        'ð' => "d",
        'ñ' => "n",
        'ò'..='ö' | 'ø' => "o",
        'ù'..='ü' => "u",
        'ý' | 'ÿ' => "y",
        '\u{100}'..='\u{17f}' => {
            let i = c as usize - 0x100;
            &LATIN_EXTENDED_A[i..=i]
        }
        _ => return None,
    })
}

/// One path segment of a key name made from foreign text, and whether a letter or digit had to
/// be dropped. The segment is ASCII from `[A-Za-z0-9._-]`, does not start or end with `.` or
/// `-`, has no `..`, and may be empty.
pub(crate) fn key_segment(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut lost = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if c == '.' {
            if !out.ends_with(['.', '-']) {
                out.push('.');
            }
        } else if let Some(folded) = fold(c) {
            out.push_str(folded);
        } else {
            lost |= !c.is_ascii() && c.is_alphanumeric();
            if out.ends_with('.') {
                out.pop();
            }
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
    }
    let trimmed = out.trim_matches(['.', '-']);
    (trimmed.to_owned(), lost)
}

/// Cuts `base` so that `base + suffix` fits in a key name, and appends `suffix`. `base` is a
/// sanitised ASCII name, so any byte offset is a character boundary; the cut never leaves a
/// trailing `/`, `-` or `.`.
fn fit(base: &str, suffix: &str) -> String {
    let max = MAX_NAME_LEN - suffix.len();
    let cut = base[..base.len().min(max)].trim_end_matches(['/', '-', '.']);
    format!("{cut}{suffix}")
}

/// The key name for an item with a title in a folder: the sanitised folder segments, then the
/// sanitised title or `item-{index}`. Also says whether the title lost a letter or digit.
pub(crate) fn item_name(folder: &[String], title: &str, index: usize) -> (String, bool) {
    let mut parts: Vec<String> = folder
        .iter()
        .map(|segment| key_segment(segment).0)
        .filter(|segment| !segment.is_empty())
        .collect();
    let (title_segment, lost) = key_segment(title);
    parts.push(if title_segment.is_empty() {
        format!("item-{index}")
    } else {
        title_segment
    });
    (fit(&parts.join("/"), ""), lost)
}

/// The key name for a name that was already a path (a secretctl-go key): kept as it is when it
/// is valid, else each `/`-separated segment is sanitised; `fallback` when nothing is left.
pub(crate) fn path_name(name: &str, fallback: &str) -> String {
    if KeyName::parse(name).is_ok() {
        return name.to_owned();
    }
    let parts: Vec<String> = name
        .split('/')
        .map(|segment| key_segment(segment).0)
        .filter(|segment| !segment.is_empty())
        .collect();
    if parts.is_empty() {
        fallback.to_owned()
    } else {
        fit(&parts.join("/"), "")
    }
}

/// A field name made from a foreign label: `^[a-z][a-z0-9_]*$`, at most 64 bytes.
pub(crate) fn field_name(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if let Some(folded) = fold(c) {
            out.push_str(&folded.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut name = out.trim_end_matches('_').to_owned();
    if name.is_empty() {
        name = "field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "f_");
    }
    name.truncate(MAX_FIELD_NAME);
    name.trim_end_matches('_').to_owned()
}

/// A tag made from a foreign tag: `[A-Za-z0-9_-]{1,64}`, or `None` when nothing is left.
pub(crate) fn tag(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if let Some(folded) = fold(c) {
            out.push_str(folded);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(MAX_TAG_LEN);
    let tag = out.trim_end_matches('-');
    (!tag.is_empty()).then(|| tag.to_owned())
}

/// Text for a hint or a message: control characters removed, at most 200 characters.
fn display_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Parses a timestamp written as RFC 3339 (`2024-01-02T03:04:05Z`, with or without fraction
/// and offset). Without an offset, UTC is assumed.
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// A text value from a JSON document, wiped when dropped. Numbers and booleans are taken as
/// their JSON text (Bitwarden writes boolean custom fields as either).
pub(crate) struct SecretText(Zeroizing<String>);

impl SecretText {
    /// Moves the text out as bytes, without copying it.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.0).into_bytes()
    }

    /// The text as a wiped string.
    pub(crate) fn into_text(self) -> Zeroizing<String> {
        self.0
    }

    /// The text, for the few places that must look at it (a URL, a folder path).
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = SecretText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SecretText, E> {
                Ok(SecretText(Zeroizing::new(v.to_string())))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// How a field is defined (everything but its name and value).
#[derive(Clone, Default)]
pub(crate) struct FieldDef {
    pub(crate) sensitive: bool,
    pub(crate) kind: Option<String>,
    pub(crate) input_type: InputType,
    pub(crate) hint: Option<String>,
    pub(crate) aliases: Vec<String>,
}

impl FieldDef {
    /// The definition a built-in template gives the field `name`.
    ///
    /// # Panics
    /// When the template has no such field: the callers name template fields literally.
    pub(crate) fn template(template: Template, name: &str) -> FieldDef {
        let def = template
            .field(name)
            .expect("converters only name fields their template defines");
        FieldDef {
            sensitive: def.sensitive,
            kind: Some(def.kind.to_owned()),
            input_type: def.input_type,
            hint: Some(def.hint.to_owned()),
            aliases: Vec::new(),
        }
    }

    /// A field with a sensitivity and a kind, no hint.
    pub(crate) fn plain(sensitive: bool, kind: Option<&str>) -> FieldDef {
        FieldDef {
            sensitive,
            kind: kind.map(str::to_owned),
            ..FieldDef::default()
        }
    }

    /// The definition of a secure note's text (the field `value`).
    fn note_body() -> FieldDef {
        FieldDef {
            sensitive: true,
            kind: Some("note".to_owned()),
            input_type: InputType::MultiLine,
            ..FieldDef::default()
        }
    }
}

/// Where an item's key name comes from.
enum Origin {
    /// A title in the source (a competitor's item): sanitised, prefixed with the folder path.
    Title(String),
    /// A key name in the source (a secretctl-go secret): kept when valid.
    Key(String),
}

/// One foreign item on its way to becoming a [`Record`].
pub(crate) struct Draft {
    index: usize,
    origin: Origin,
    /// The folder path, outermost first.
    pub(crate) folder: Vec<String>,
    fields: Vec<Field>,
    /// Environment bindings (ENV name → field name), for sources that have them.
    pub(crate) bindings: Bindings,
    notes: Option<Zeroizing<String>>,
    meta_url: Option<String>,
    urls: usize,
    tags: Vec<String>,
    /// Expiry.
    pub(crate) expires_at: Option<Timestamp>,
    /// Creation time in the source.
    pub(crate) created_at: Option<Timestamp>,
    /// Last change in the source.
    pub(crate) updated_at: Option<Timestamp>,
    problems: Vec<String>,
}

impl Draft {
    fn new(index: usize, origin: Origin) -> Draft {
        Draft {
            index,
            origin,
            folder: Vec::new(),
            fields: Vec::new(),
            bindings: Bindings::new(),
            notes: None,
            meta_url: None,
            urls: 0,
            tags: Vec::new(),
            expires_at: None,
            created_at: None,
            updated_at: None,
            problems: Vec::new(),
        }
    }

    /// An item named by a title; `index` is its 1-based position in the file.
    pub(crate) fn titled(index: usize, title: &str) -> Draft {
        Draft::new(index, Origin::Title(title.to_owned()))
    }

    /// An item named by a key name; `index` numbers it for the fallback name `secret-{index}`.
    pub(crate) fn keyed(index: usize, key: &str) -> Draft {
        Draft::new(index, Origin::Key(key.to_owned()))
    }

    /// Notes something the item had that the secret will not carry. Never include a value.
    pub(crate) fn problem(&mut self, what: impl Into<String>) {
        self.problems.push(what.into());
    }

    /// Whether a field of this name exists already.
    pub(crate) fn has_field(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|f| f.name == name || f.aliases.iter().any(|a| a == name))
    }

    /// `base`, or `base_2`, `base_3`, … — the first that no field has yet.
    fn free_field_name(&self, base: &str) -> String {
        if !self.has_field(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| {
                let suffix = format!("_{n}");
                let stem = &base[..base.len().min(MAX_FIELD_NAME - suffix.len())];
                format!("{}{suffix}", stem.trim_end_matches('_'))
            })
            .find(|name| !self.has_field(name))
            .expect("some numbered name is free")
    }

    /// Adds a field named `base` (or `base_2`, … when taken). An empty value is skipped. A value
    /// with a line break is multi-line whatever `def` says. Returns the name used, or `None`
    /// when the field was not added (empty, too large, or one field too many — the last two are
    /// reported).
    pub(crate) fn push(&mut self, base: &str, value: Vec<u8>, def: FieldDef) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        let shown_name = shown(base);
        if self.fields.len() >= MAX_FIELDS {
            drop(Zeroizing::new(value));
            self.problem(format!(
                "field {shown_name} not carried: a secret holds at most {MAX_FIELDS} fields"
            ));
            return None;
        }
        let multi_line = value.contains(&b'\n');
        let Ok(value) = SecretValue::new(value) else {
            self.problem(format!(
                "field {shown_name} not carried: it is larger than 1 MiB"
            ));
            return None;
        };
        let name = self.free_field_name(base);
        self.fields.push(Field {
            name: name.clone(),
            value,
            sensitive: def.sensitive,
            aliases: def.aliases,
            kind: def.kind,
            input_type: if multi_line {
                InputType::MultiLine
            } else {
                def.input_type
            },
            hint: def.hint,
        });
        Some(name)
    }

    /// Gives the field `field` the alias `alias` (the caller has checked that it is free).
    pub(crate) fn add_alias(&mut self, field: &str, alias: String) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == field) {
            f.aliases.push(alias);
        }
    }

    /// Adds a field a template defines, with that definition (skipped when empty).
    pub(crate) fn template_field(&mut self, template: Template, name: &str, value: &str) {
        self.push(
            name,
            value.as_bytes().to_vec(),
            FieldDef::template(template, name),
        );
    }

    /// Adds a custom field from its label in the source. With `report_empty`, an empty value is
    /// reported (a custom field someone created and left empty); otherwise skipped silently (an
    /// unknown CSV column, which every row has).
    pub(crate) fn custom(
        &mut self,
        label: &str,
        value: Vec<u8>,
        sensitive: bool,
        report_empty: bool,
    ) {
        if value.is_empty() {
            if report_empty {
                self.problem(format!(
                    "custom field {} not carried: it is empty",
                    shown(label)
                ));
            }
            return;
        }
        let base = field_name(label);
        let hint = (base != label).then(|| display_text(label));
        self.push(
            &base,
            value,
            FieldDef {
                sensitive,
                hint,
                ..FieldDef::default()
            },
        );
    }

    /// Adds a URL: the first is the field `url` (login template) and, when it is an http(s) URL
    /// secretctl accepts, the secret's URL too; later ones are `url_2`, `url_3`, ….
    pub(crate) fn url(&mut self, url: &str) {
        if url.trim().is_empty() {
            return;
        }
        let def = if self.urls == 0 {
            if validate_url(url).is_ok() {
                self.meta_url = Some(url.to_owned());
            }
            FieldDef::template(Template::Login, "url")
        } else {
            FieldDef::plain(false, Some("url"))
        };
        self.urls += 1;
        self.push("url", url.as_bytes().to_vec(), def);
    }

    /// Sets the secret's URL (metadata only, no field); the caller has validated it.
    pub(crate) fn set_meta_url(&mut self, url: String) {
        self.meta_url = Some(url);
    }

    /// Sets the item's notes (placed by [`Converter::finish`]). Empty notes are no notes.
    pub(crate) fn notes(&mut self, notes: Zeroizing<String>) {
        if !notes.is_empty() {
            self.notes = Some(notes);
        }
    }

    /// Makes `text` the secret's main value: the sensitive multi-line field `value`, first.
    pub(crate) fn note_body(&mut self, text: Vec<u8>) {
        if self
            .push(VALUE_FIELD, text, FieldDef::note_body())
            .is_some()
        {
            let last = self.fields.len() - 1;
            self.fields[..=last].rotate_right(1);
        }
    }

    /// Adds a tag as written in the source (sanitised by [`Converter::finish`]).
    pub(crate) fn tag(&mut self, raw: &str) {
        let raw = raw.trim();
        if !raw.is_empty() {
            self.tags.push(raw.to_owned());
        }
    }

    /// Parses a time of the item (`what` names it in the report): `None` when `text` is empty,
    /// and reported when it is not a timestamp.
    pub(crate) fn time(&mut self, text: &str, what: &str) -> Option<Timestamp> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = timestamp(text);
        if parsed.is_none() {
            self.problem(format!("{what} not carried: it is not a timestamp"));
        }
        parsed
    }

    /// Whether the item has no field yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Collects finished records and the lines of what was not carried.
#[derive(Default)]
pub(crate) struct Converter {
    taken: HashSet<String>,
    conversion: Conversion,
}

impl Converter {
    /// `candidate`, or `candidate-2`, `candidate-3`, … — the first name no record has yet.
    fn claim(&mut self, candidate: &str) -> KeyName {
        let mut name = candidate.to_owned();
        let mut n = 1;
        while self.taken.contains(&name) {
            n += 1;
            name = fit(candidate, &format!("-{n}"));
        }
        self.taken.insert(name.clone());
        KeyName::parse(&name).expect("sanitised names follow the key-name rules")
    }

    /// Turns a draft into a record (or, when it holds no value, into one line saying so).
    pub(crate) fn finish(&mut self, mut draft: Draft) {
        let (candidate, lost) = match &draft.origin {
            Origin::Title(title) => item_name(&draft.folder, title, draft.index),
            Origin::Key(key) => (path_name(key, &format!("secret-{}", draft.index)), false),
        };
        let mut notes = None;
        if let Some(mut text) = draft.notes.take() {
            if draft.is_empty() {
                // Notes are all the item has: it is a secure note, and the text is its value.
                draft.note_body(std::mem::take(&mut *text).into_bytes());
            } else if text.len() <= MAX_NOTES_LEN {
                notes = Some(std::mem::take(&mut *text));
            } else {
                let def = FieldDef {
                    sensitive: true,
                    kind: Some("notes".to_owned()),
                    input_type: InputType::MultiLine,
                    ..FieldDef::default()
                };
                draft.push(NOTES_FIELD, std::mem::take(&mut *text).into_bytes(), def);
            }
        }
        if draft.is_empty() {
            self.conversion.unsupported.push(format!(
                "{candidate}: not imported: the item holds no value"
            ));
            return;
        }
        if let (true, Origin::Title(title)) = (lost, &draft.origin) {
            let title = title.clone();
            draft.push(
                TITLE_FIELD,
                title.into_bytes(),
                FieldDef::plain(false, Some("title")),
            );
        }
        let name = self.claim(&candidate);
        let mut lines = Vec::new();
        if let Origin::Key(key) = &draft.origin
            && name.as_str() != key
        {
            let why = if KeyName::parse(key).is_ok() {
                "another secret has that name"
            } else {
                "it is not a valid secretctl key name"
            };
            lines.push(format!("renamed from {}: {why}", shown(key)));
        }
        lines.append(&mut draft.problems);
        // A folder secretctl cannot hold (a name over 64 bytes, with '/' or control characters,
        // nested deeper than 16) is left out rather than failing the whole import; the key
        // name still carries the path, sanitised.
        if !draft.folder.is_empty()
            && let Err(e) = FolderPath::from_names(draft.folder.clone())
        {
            lines.push(format!("folder not carried: {e}"));
            draft.folder.clear();
        }
        let mut tags: Vec<String> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        for raw in &draft.tags {
            match tag(raw) {
                None => lines.push(format!(
                    "tag {} not carried: it has no character a tag may hold",
                    shown(raw)
                )),
                Some(t) if tags.contains(&t) || dropped.contains(&t) => {}
                Some(t) if tags.len() == MAX_TAGS => dropped.push(t),
                Some(t) => tags.push(t),
            }
        }
        if !dropped.is_empty() {
            lines.push(format!(
                "tags {} not carried: a secret holds at most {MAX_TAGS} tags",
                dropped.join(", ")
            ));
        }
        for line in lines {
            self.conversion.unsupported.push(format!("{name}: {line}"));
        }
        let secret = Secret {
            name,
            fields: draft.fields,
            bindings: draft.bindings,
            meta: SecretMeta {
                notes,
                url: draft.meta_url,
                tags,
                expires_at: draft.expires_at,
                created_at: draft.created_at,
                updated_at: draft.updated_at,
                folder: None,
            },
        };
        self.conversion.records.push(Record {
            secret,
            folder: draft.folder,
        });
    }

    /// The records and lines collected.
    pub(crate) fn into_conversion(self) -> Conversion {
        self.conversion
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn latin_extended_a_table_covers_the_block() {
        assert_eq!(LATIN_EXTENDED_A.len(), 0x80);
        assert_eq!(fold('Ł'), Some("L"));
        assert_eq!(fold('ž'), Some("z"));
        assert_eq!(fold('ſ'), Some("s"));
        assert_eq!(fold('Ő'), Some("O"));
        assert_eq!(fold('日'), None);
    }

    #[test]
    fn titles_become_segments() {
        let seg = |t: &str| key_segment(t).0;
        assert_eq!(seg("GitHub (work)"), "GitHub-work");
        assert_eq!(seg("  spaced   out  "), "spaced-out");
        assert_eq!(seg("Crème brûlée"), "Creme-brulee");
        assert_eq!(seg("Straße"), "Strasse");
        assert_eq!(seg("..hidden"), "hidden");
        assert_eq!(seg("-rf"), "rf");
        assert_eq!(seg("/etc/passwd"), "etc-passwd");
        assert_eq!(seg("a/../b"), "a-b");
        assert_eq!(seg("v1.2...3"), "v1.2.3");
        assert_eq!(seg("Inc."), "Inc");
        assert_eq!(seg("new\nline\x1b[31m"), "new-line-31m");
        assert_eq!(seg("snake_case"), "snake_case");
        assert_eq!(seg(""), "");
        assert_eq!(seg("..."), "");
        assert_eq!(seg("🔑"), "");
    }

    #[test]
    fn lost_letters_are_noticed_but_not_punctuation() {
        assert!(key_segment("日本の銀行").1);
        assert!(key_segment("Bank 日本").1);
        assert!(!key_segment("GitHub (work) 🔑").1);
        assert!(!key_segment("Crème").1);
    }

    #[test]
    fn item_names_fall_back_and_take_the_folder() {
        assert_eq!(item_name(&[], "", 7), ("item-7".to_owned(), false));
        assert_eq!(item_name(&[], "日本", 3), ("item-3".to_owned(), true));
        let folder = vec!["Work".to_owned(), "Cloud / AWS".to_owned()];
        assert_eq!(item_name(&folder, "Root", 1).0, "Work/Cloud-AWS/Root");
        let odd = vec!["日本".to_owned(), "..".to_owned()];
        assert_eq!(item_name(&odd, "x", 1).0, "x");
    }

    #[test]
    fn long_names_are_cut_to_256_bytes() {
        let title = "a".repeat(300);
        let (name, _) = item_name(&[], &title, 1);
        assert_eq!(name.len(), 256);
        let mut conv = Converter::default();
        assert_eq!(conv.claim(&name).as_str().len(), 256);
        let second = conv.claim(&name);
        assert_eq!(second.as_str().len(), 256);
        assert!(second.as_str().ends_with("a-2"));
        // A cut that lands on a separator does not leave it dangling.
        let title = format!("{}-{}", "b".repeat(255), "c".repeat(10));
        assert_eq!(item_name(&[], &title, 1).0, "b".repeat(255));
    }

    #[test]
    fn duplicates_get_numbered() {
        let mut conv = Converter::default();
        assert_eq!(conv.claim("GitHub").as_str(), "GitHub");
        assert_eq!(conv.claim("GitHub").as_str(), "GitHub-2");
        assert_eq!(conv.claim("GitHub-2").as_str(), "GitHub-2-2");
        assert_eq!(conv.claim("GitHub").as_str(), "GitHub-3");
    }

    #[test]
    fn go_names_are_kept_when_valid() {
        assert_eq!(path_name("aws/prod/key", "secret-1"), "aws/prod/key");
        assert_eq!(path_name("my key/ü", "secret-1"), "my-key/u");
        assert_eq!(path_name("../x//y/", "secret-1"), "x/y");
        assert_eq!(path_name("///", "secret-9"), "secret-9");
    }

    #[test]
    fn field_names_follow_the_rule() {
        assert_eq!(field_name("Security Question"), "security_question");
        assert_eq!(field_name("API-Key #2"), "api_key_2");
        assert_eq!(field_name("2FA backup"), "f_2fa_backup");
        assert_eq!(field_name("Ünïcödé"), "unicode");
        assert_eq!(field_name("暗証番号"), "field");
        assert_eq!(field_name(""), "field");
        assert_eq!(field_name(&"x".repeat(100)).len(), 64);
        for label in ["Security Question", "2FA", "", "__a__", &"é_".repeat(80)] {
            crate::secret::check_field_name(&field_name(label)).unwrap();
        }
    }

    #[test]
    fn tags_follow_the_rule() {
        assert_eq!(tag("Work/AWS"), Some("Work-AWS".to_owned()));
        assert_eq!(tag("  café  "), Some("cafe".to_owned()));
        assert_eq!(tag("仕事"), None);
        assert_eq!(tag(&"t".repeat(80)).map(|t| t.len()), Some(64));
    }

    #[test]
    fn field_numbering_stays_within_64_bytes() {
        let mut draft = Draft::titled(1, "x");
        let long = "f".repeat(64);
        for _ in 0..3 {
            draft.push(&long, b"v".to_vec(), FieldDef::default());
        }
        let names: Vec<&str> = draft.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names[1], format!("{}_2", "f".repeat(62)));
        assert!(names.iter().all(|n| n.len() <= 64));
    }

    #[test]
    fn timestamps_with_and_without_offset() {
        assert_eq!(
            timestamp("2024-01-02T03:04:05Z").unwrap().to_string(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            timestamp("2024-01-02T03:04:05").unwrap().to_string(),
            "2024-01-02T03:04:05Z"
        );
        assert!(timestamp("yesterday").is_none());
    }

    proptest! {
        #[test]
        fn every_title_gives_a_valid_name(folder in proptest::collection::vec(".{0,40}", 0..4),
                                          title in ".{0,300}",
                                          index in 1usize..100_000) {
            let (name, _) = item_name(&folder, &title, index);
            prop_assert!(KeyName::parse(&name).is_ok(), "{name:?}");
            let mut conv = Converter::default();
            conv.claim(&name);
            let second = conv.claim(&name);
            prop_assert!(KeyName::parse(second.as_str()).is_ok());
        }

        #[test]
        fn every_go_name_gives_a_valid_name(name in ".{0,300}") {
            prop_assert!(KeyName::parse(&path_name(&name, "secret-1")).is_ok());
        }

        #[test]
        fn every_label_gives_a_valid_field_name(label in ".{0,100}") {
            prop_assert!(crate::secret::check_field_name(&field_name(&label)).is_ok());
        }

        #[test]
        fn every_tag_is_valid(raw in ".{0,100}") {
            if let Some(t) = tag(&raw) {
                prop_assert!(crate::secret::validate_tags(&[t]).is_ok());
            }
        }
    }
}
