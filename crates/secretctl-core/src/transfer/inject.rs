//! References (`secretctl://KEY[/FIELD]`), `inject` templates and `.env`
//! files with references for `run --env-file` (SPEC §5.4).
//!
//! Nothing here touches the vault: the caller passes a resolver closure that
//! turns a [`Reference`] into a value, trying [`Reference::candidates`] in
//! order.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use super::dotenv::{into_bytes, parse_entries};
use super::{ParseError, quote_key};

/// The scheme every reference starts with.
pub const SCHEME: &str = "secretctl://";

/// What [`render_template`] and [`EnvValue::resolve`] call to turn a
/// reference into a value: typically a closure that tries
/// [`Reference::candidates`] against the vault, in order.
pub type Resolver<'a, E> = dyn FnMut(&Reference) -> Result<Zeroizing<Vec<u8>>, E> + 'a;

/// A parsed `secretctl://PATH` reference.
///
/// `PATH` is either a key (`aws/prod/key`) or a key followed by a field
/// (`db/main/password`). The two cannot be told apart by syntax, because keys
/// may contain `/`; [`Reference::candidates`] lists the readings for the
/// resolver to try in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Everything after `secretctl://`.
    pub path: String,
}

impl Reference {
    /// The readings of the path, in the order a resolver must try them:
    ///
    /// 1. `(path, None)`: the whole path is a key (its default field);
    /// 2. `(prefix, Some(last))`: the part before the last `/` is a key and
    ///    the last segment a field — only when that segment is a valid field
    ///    name (`^[a-z][a-z0-9_]*$`, SPEC §3.3).
    ///
    /// So when both a key `a/b/c` and a key `a/b` with a field `c` exist, the
    /// key `a/b/c` wins: an exact key name is never shadowed by a field.
    ///
    /// ```
    /// # use secretctl_core::transfer::parse_reference;
    /// let r = parse_reference("secretctl://db/main/password").unwrap();
    /// assert_eq!(r.candidates(), [
    ///     ("db/main/password".to_owned(), None),
    ///     ("db/main".to_owned(), Some("password".to_owned())),
    /// ]);
    /// let r = parse_reference("secretctl://aws/prod/KEY").unwrap();
    /// assert_eq!(r.candidates(), [("aws/prod/KEY".to_owned(), None)]);
    /// ```
    pub fn candidates(&self) -> Vec<(String, Option<String>)> {
        let mut out = vec![(self.path.clone(), None)];
        if let Some((key, field)) = self.path.rsplit_once('/')
            && is_field_name(field)
        {
            out.push((key.to_owned(), Some(field.to_owned())));
        }
        out
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.path)
    }
}

/// `^[a-z][a-z0-9_]*$`, the field-name rule of SPEC §3.3.
fn is_field_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Why a reference is malformed. The messages do not repeat the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    /// The text does not start with `secretctl://`.
    #[error("a reference must start with `secretctl://`")]
    MissingScheme,
    /// Nothing follows `secretctl://`.
    #[error("the reference names no key")]
    Empty,
    /// A character outside `A-Z a-z 0-9 _ . - /`.
    #[error(
        "character {position} of the reference path is not allowed (use letters, digits, `_`, `.`, `-`, `/`)"
    )]
    InvalidCharacter {
        /// 1-based position in the path, in characters.
        position: usize,
    },
    /// A leading, trailing or doubled `/`.
    #[error("the reference path has an empty segment (leading, trailing or doubled `/`)")]
    EmptySegment,
}

/// Parses `secretctl://KEY` or `secretctl://KEY/FIELD`.
///
/// Only the syntax is checked (characters of key names and fields, no empty
/// path segment); whether the key exists, and whether its name is otherwise
/// valid, is for the resolver.
pub fn parse_reference(s: &str) -> Result<Reference, RefError> {
    let path = s.strip_prefix(SCHEME).ok_or(RefError::MissingScheme)?;
    if path.is_empty() {
        return Err(RefError::Empty);
    }
    if let Some(index) = path
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(RefError::InvalidCharacter {
            position: index + 1,
        });
    }
    if path.split('/').any(str::is_empty) {
        return Err(RefError::EmptySegment);
    }
    Ok(Reference {
        path: path.to_owned(),
    })
}

/// A malformed template: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    /// 1-based line of the `{{` that opens the bad reference.
    pub line: usize,
    /// 1-based column (in characters) of that `{{`.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// A template that could not be rendered.
///
/// `Display` is one line, including the resolver's message; `source()` is
/// not set, so that error reporters do not print that message twice.
#[derive(Debug)]
pub enum InjectError<E> {
    /// The template is malformed.
    Template(TemplateError),
    /// The resolver failed for a reference (not found, no such field,
    /// denied, ...).
    Resolve {
        /// The reference that could not be resolved.
        reference: Reference,
        /// 1-based line of its first occurrence.
        line: usize,
        /// 1-based column of its first occurrence.
        column: usize,
        /// The resolver's error.
        error: E,
    },
}

impl<E: fmt::Display> fmt::Display for InjectError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InjectError::Template(err) => err.fmt(f),
            InjectError::Resolve {
                reference,
                line,
                column,
                error,
            } => write!(f, "line {line}, column {column}: {reference}: {error}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for InjectError<E> {}

impl<E> From<TemplateError> for InjectError<E> {
    fn from(err: TemplateError) -> Self {
        InjectError::Template(err)
    }
}

/// A piece of a template: literal text, or a reference with its position.
enum Segment<'a> {
    Text(&'a str),
    Ref {
        reference: Reference,
        line: usize,
        column: usize,
    },
}

/// 1-based line and column (in characters) of a byte position.
fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Splits a template into text and references.
///
/// `{{`, optional spaces or tabs, `secretctl://PATH`, optional spaces or
/// tabs, `}}` is a reference. A `{{` followed by anything but `secretctl:`
/// is text (other templating languages use double braces too); `{{
/// secretctl:` that does not form a valid reference is an error, since it can
/// only be a mistyped reference that would otherwise leak into the output
/// unrendered.
fn tokenize(template: &str) -> Result<Vec<Segment<'_>>, TemplateError> {
    let bytes = template.as_bytes();
    let skip_blanks = |mut i: usize| {
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    let mut segments = Vec::new();
    let mut text_start = 0;
    let mut search = 0;
    while let Some(offset) = template[search..].find("{{") {
        let open = search + offset;
        let start = skip_blanks(open + 2);
        if !template[start..].starts_with("secretctl:") {
            // Not ours. Move on by one byte only, so that `{{{ secretctl://X }}`
            // still finds the reference that starts at the second brace.
            search = open + 1;
            continue;
        }
        let (line, column) = line_column(template, open);
        let error = |message: String| TemplateError {
            line,
            column,
            message,
        };
        let end = bytes[start..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'}')
            .map_or(bytes.len(), |i| start + i);
        let reference = parse_reference(&template[start..end])
            .map_err(|err| error(format!("malformed reference: {err}")))?;
        let close = skip_blanks(end);
        if !template[close..].starts_with("}}") {
            return Err(error(format!(
                "reference {reference} is not closed by `}}}}`"
            )));
        }
        if text_start < open {
            segments.push(Segment::Text(&template[text_start..open]));
        }
        segments.push(Segment::Ref {
            reference,
            line,
            column,
        });
        search = close + 2;
        text_start = search;
    }
    if text_start < template.len() {
        segments.push(Segment::Text(&template[text_start..]));
    }
    Ok(segments)
}

/// The distinct references of a template, in order of first appearance: what
/// `inject --dry-run` lists and what a caller needs to fetch.
pub fn references(template: &str) -> Result<Vec<Reference>, TemplateError> {
    let mut out: Vec<Reference> = Vec::new();
    for segment in tokenize(template)? {
        if let Segment::Ref { reference, .. } = segment
            && !out.contains(&reference)
        {
            out.push(reference);
        }
    }
    Ok(out)
}

/// Renders a template, replacing each `{{ secretctl://... }}` with the value
/// the resolver returns for it.
///
/// Text outside references is copied byte for byte. The resolver is called
/// once per distinct reference, in order of first appearance, and all of
/// them are resolved before any output is built, so a failure leaves no
/// partial output.
///
/// Syntax: `{{`, optional spaces or tabs, `secretctl://PATH`, optional spaces
/// or tabs, `}}`. A `{{` followed by anything but `secretctl:` is plain text
/// (other templating languages use double braces too). `{{ secretctl:` that
/// does not form a valid reference (e.g. `{{ secretctl:// }}`, a missing
/// `}}`) is a [`TemplateError`] with the line and column of its `{{`: it can
/// only be a mistyped reference, which would otherwise reach the output
/// unrendered.
///
/// ```
/// # use secretctl_core::transfer::{render_template, Reference};
/// # use zeroize::Zeroizing;
/// let mut resolve = |r: &Reference| -> Result<Zeroizing<Vec<u8>>, String> {
///     Ok(Zeroizing::new(format!("<{}>", r.path).into_bytes()))
/// };
/// let out = render_template("url={{secretctl://db/url}} {{ other }}", &mut resolve).unwrap();
/// assert_eq!(out.as_slice(), b"url=<db/url> {{ other }}");
/// ```
pub fn render_template<E>(
    template: &str,
    resolve: &mut Resolver<'_, E>,
) -> Result<Zeroizing<Vec<u8>>, InjectError<E>> {
    let segments = tokenize(template)?;
    let mut values: HashMap<&str, Zeroizing<Vec<u8>>> = HashMap::new();
    let mut total = 0;
    for segment in &segments {
        match segment {
            Segment::Text(text) => total += text.len(),
            Segment::Ref {
                reference,
                line,
                column,
            } => {
                if !values.contains_key(reference.path.as_str()) {
                    let value = resolve(reference).map_err(|error| InjectError::Resolve {
                        reference: reference.clone(),
                        line: *line,
                        column: *column,
                        error,
                    })?;
                    values.insert(&reference.path, value);
                }
                total += values[reference.path.as_str()].len();
            }
        }
    }
    // Exactly sized: the buffer never reallocates, so no unwiped partial copy
    // of the output is left in freed memory.
    let mut out = Zeroizing::new(Vec::with_capacity(total));
    for segment in &segments {
        match segment {
            Segment::Text(text) => out.extend_from_slice(text.as_bytes()),
            Segment::Ref { reference, .. } => {
                out.extend_from_slice(&values[reference.path.as_str()]);
            }
        }
    }
    Ok(out)
}

/// A value in a `.env` file for `run --env-file` (SPEC §5.4).
pub enum EnvValue {
    /// A plain value.
    Literal(Zeroizing<Vec<u8>>),
    /// The whole value is one reference, `secretctl://...`.
    Reference(Reference),
    /// The value contains `{{ secretctl://... }}` references mixed with
    /// text; render it with [`EnvValue::resolve`] or [`render_template`].
    Template(Zeroizing<String>),
}

impl fmt::Debug for EnvValue {
    /// Shows references, never literal values or template text (a template
    /// may hold secrets between its references).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvValue::Literal(value) => write!(f, "Literal(<{} bytes>)", value.len()),
            EnvValue::Reference(reference) => f.debug_tuple("Reference").field(reference).finish(),
            EnvValue::Template(text) => write!(f, "Template(<{} bytes>)", text.len()),
        }
    }
}

impl EnvValue {
    /// The distinct references this value needs, in order.
    pub fn references(&self) -> Vec<Reference> {
        match self {
            EnvValue::Literal(_) => Vec::new(),
            EnvValue::Reference(reference) => vec![reference.clone()],
            // Validated when the file was parsed, so this cannot fail.
            EnvValue::Template(text) => references(text).unwrap_or_default(),
        }
    }

    /// The final value: the literal, the resolved reference, or the rendered
    /// template. Positions in a [`InjectError`] are relative to the value
    /// (line 1, column 1 for a whole-value reference); the caller adds the
    /// key's name, which it knows.
    pub fn resolve<E>(
        &self,
        resolve: &mut Resolver<'_, E>,
    ) -> Result<Zeroizing<Vec<u8>>, InjectError<E>> {
        match self {
            EnvValue::Literal(value) => Ok(value.clone()),
            EnvValue::Reference(reference) => {
                resolve(reference).map_err(|error| InjectError::Resolve {
                    reference: reference.clone(),
                    line: 1,
                    column: 1,
                    error,
                })
            }
            EnvValue::Template(text) => render_template(text, resolve),
        }
    }
}

/// Parses a `.env` file whose values may be references, for
/// `run --env-file` (so a project can commit its `.env.tpl`).
///
/// The file is read with the dotenv dialect of [`super::parse_dotenv`]; after
/// unquoting, a value is:
///
/// - a [`EnvValue::Reference`] when it starts with `secretctl:` (it must
///   then be one valid `secretctl://` reference and nothing else);
/// - an [`EnvValue::Template`] when it contains `{{ secretctl://... }}`;
/// - an [`EnvValue::Literal`] otherwise.
///
/// The quoting style does not matter (`KEY='secretctl://x'` is a reference
/// too): one rule is easier to predict than a quoting subtlety. Malformed
/// references are a [`ParseError`] with the line (for a reference on a later
/// line of a multi-line value, that line) and the key.
///
/// ```
/// # use secretctl_core::transfer::{parse_env_file_with_refs, EnvValue};
/// let entries = parse_env_file_with_refs(
///     "PGPASSWORD=secretctl://db/main/password\nURL=\"postgres://u:{{ secretctl://db/main/password }}@h/db\"\nMODE=dev\n",
/// ).unwrap();
/// assert!(matches!(entries[0].1, EnvValue::Reference(_)));
/// assert!(matches!(entries[1].1, EnvValue::Template(_)));
/// assert!(matches!(entries[2].1, EnvValue::Literal(_)));
/// ```
pub fn parse_env_file_with_refs(text: &str) -> Result<Vec<(String, EnvValue)>, ParseError> {
    let entries = parse_entries(text)?;
    let mut out = Vec::with_capacity(entries.len());
    for mut entry in entries {
        let key = quote_key(&entry.key);
        // `secretctl:` rather than the full scheme, so that a mistyped
        // `secretctl:/x` is an error instead of a literal passed to the child.
        let value = if entry.value.starts_with("secretctl:") {
            let reference = parse_reference(&entry.value).map_err(|err| {
                ParseError::new(entry.line, format!("key {key}: malformed reference: {err}"))
            })?;
            EnvValue::Reference(reference)
        } else {
            let has_reference = tokenize(&entry.value)
                .map_err(|err| {
                    ParseError::new(
                        entry.line + err.line - 1,
                        format!(
                            "key {key}: {} (column {} of the value)",
                            err.message, err.column
                        ),
                    )
                })?
                .iter()
                .any(|segment| matches!(segment, Segment::Ref { .. }));
            if has_reference {
                EnvValue::Template(std::mem::take(&mut entry.value))
            } else {
                EnvValue::Literal(into_bytes(&mut entry.value))
            }
        };
        out.push((entry.key, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(path: &str) -> Reference {
        Reference {
            path: path.to_owned(),
        }
    }

    /// A resolver over a fixed map that records what it was asked.
    fn table<'a>(
        map: &'a [(&'a str, &'a str)],
        asked: &'a mut Vec<String>,
    ) -> impl FnMut(&Reference) -> Result<Zeroizing<Vec<u8>>, String> + 'a {
        move |r: &Reference| {
            asked.push(r.path.clone());
            for (key, field) in r.candidates() {
                let name = match field {
                    Some(field) => format!("{key}#{field}"),
                    None => key,
                };
                if let Some((_, v)) = map.iter().find(|(k, _)| *k == name) {
                    return Ok(Zeroizing::new(v.as_bytes().to_vec()));
                }
            }
            Err("not found".to_owned())
        }
    }

    #[test]
    fn parse_reference_accepts_keys_and_fields() {
        assert_eq!(
            parse_reference("secretctl://API_KEY"),
            Ok(reference("API_KEY"))
        );
        assert_eq!(
            parse_reference("secretctl://aws/prod/key.v-2"),
            Ok(reference("aws/prod/key.v-2"))
        );
    }

    #[test]
    fn parse_reference_rejects_malformed() {
        assert_eq!(parse_reference("secretctl://"), Err(RefError::Empty));
        assert_eq!(parse_reference("op://x"), Err(RefError::MissingScheme));
        assert_eq!(
            parse_reference("SECRETCTL://x"),
            Err(RefError::MissingScheme)
        );
        assert_eq!(
            parse_reference("secretctl://a b"),
            Err(RefError::InvalidCharacter { position: 2 })
        );
        assert_eq!(
            parse_reference("secretctl://é"),
            Err(RefError::InvalidCharacter { position: 1 })
        );
        for bad in ["secretctl:///a", "secretctl://a/", "secretctl://a//b"] {
            assert_eq!(parse_reference(bad), Err(RefError::EmptySegment), "{bad}");
        }
    }

    #[test]
    fn candidates_whole_key_first_then_field() {
        assert_eq!(reference("KEY").candidates(), [("KEY".to_owned(), None)]);
        assert_eq!(
            reference("db/password").candidates(),
            [
                ("db/password".to_owned(), None),
                ("db".to_owned(), Some("password".to_owned()))
            ]
        );
        // Not a field name: upper case, leading digit or `-`.
        for path in ["db/Password", "db/1x", "db/pass-word", "db/pass.word"] {
            assert_eq!(reference(path).candidates().len(), 1, "{path}");
        }
        assert_eq!(
            reference("a/b/api_key2").candidates()[1],
            ("a/b".to_owned(), Some("api_key2".to_owned()))
        );
    }

    #[test]
    fn renders_and_keeps_other_text_byte_for_byte() {
        let map = [("A", "alpha"), ("db#password", "pw"), ("a/b/c", "whole")];
        let mut asked = Vec::new();
        let template = "x={{secretctl://A}}\ty={{ secretctl://db/password }}\n\
                        {{ .Values.x }} {{{ secretctl://A }}} {{\tsecretctl://a/b/c\t}} {{secretctl://A}}é {\n";
        let out = render_template(template, &mut table(&map, &mut asked)).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "x=alpha\ty=pw\n{{ .Values.x }} {alpha} whole alphaé {\n"
        );
        // Each distinct reference is resolved once, in order.
        assert_eq!(asked, ["A", "db/password", "a/b/c"]);
        assert_eq!(
            references(template).unwrap(),
            [reference("A"), reference("db/password"), reference("a/b/c")]
        );
        let mut asked = Vec::new();
        let out = render_template("", &mut table(&map, &mut asked)).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn whole_key_wins_over_key_plus_field() {
        let map = [("a/b#c", "field"), ("a/b/c", "key")];
        let mut asked = Vec::new();
        let out = render_template("{{ secretctl://a/b/c }}", &mut table(&map, &mut asked)).unwrap();
        assert_eq!(out.as_slice(), b"key");
    }

    #[test]
    fn malformed_references_report_line_and_column() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("{{ secretctl:// }}", 1, 1, "names no key"),
            ("ab\ncd {{ secretctl://a b }}", 2, 4, "not closed"),
            ("é{{secretctl://a}", 1, 2, "not closed"),
            ("x\n\n  {{ secretctl://a$b }}", 3, 3, "character 2"),
            ("{{ secretctl:/a }}", 1, 1, "must start with `secretctl://`"),
            ("{{ secretctl://a/ }}", 1, 1, "empty segment"),
            ("{{ secretctl://a", 1, 1, "not closed"),
        ];
        for &(template, line, column, needle) in cases {
            let err = references(template).expect_err(template);
            assert_eq!(
                (err.line, err.column),
                (line, column),
                "{template:?}: {err}"
            );
            assert!(err.message.contains(needle), "{template:?}: {err}");
            let mut never = |_: &Reference| -> Result<Zeroizing<Vec<u8>>, String> {
                panic!("resolver called for a malformed template")
            };
            assert!(matches!(
                render_template(template, &mut never),
                Err(InjectError::Template(_))
            ));
        }
    }

    #[test]
    fn resolve_failure_names_reference_and_position() {
        let mut asked = Vec::new();
        let err = render_template("a\n {{ secretctl://missing }}", &mut table(&[], &mut asked))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2, column 2: secretctl://missing: not found"
        );
    }

    #[test]
    fn env_file_values() {
        let text = "export PG=secretctl://db/password\n\
                    Q='secretctl://a/b/c'\n\
                    URL=\"u:{{ secretctl://db/password }}@h\nx\"\n\
                    PLAIN=hello {{ world }}\n\
                    LINK=see secretctl://docs\n";
        let entries = parse_env_file_with_refs(text).unwrap();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["PG", "Q", "URL", "PLAIN", "LINK"]);
        assert!(matches!(&entries[0].1, EnvValue::Reference(r) if r.path == "db/password"));
        assert!(matches!(&entries[1].1, EnvValue::Reference(r) if r.path == "a/b/c"));
        assert!(matches!(&entries[2].1, EnvValue::Template(_)));
        assert!(
            matches!(&entries[3].1, EnvValue::Literal(v) if v.as_slice() == b"hello {{ world }}")
        );
        assert!(matches!(&entries[4].1, EnvValue::Literal(_)));

        let map = [("db#password", "pw"), ("a/b/c", "abc")];
        let mut asked = Vec::new();
        let mut resolve = table(&map, &mut asked);
        let values: Vec<Vec<u8>> = entries
            .iter()
            .map(|(_, v)| v.resolve(&mut resolve).unwrap().to_vec())
            .collect();
        assert_eq!(
            values,
            [
                &b"pw"[..],
                b"abc",
                b"u:pw@h\nx",
                b"hello {{ world }}",
                b"see secretctl://docs"
            ]
        );
        assert_eq!(entries[2].1.references(), [reference("db/password")]);
        // Debug never shows literal values or template text.
        let shown = format!("{entries:?}");
        assert!(!shown.contains("hello") && !shown.contains("u:"), "{shown}");
    }

    #[test]
    fn env_file_errors_have_lines() {
        let err = parse_env_file_with_refs("A=1\nB=secretctl://a b\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("\"B\""), "{err}");
        let err = parse_env_file_with_refs("A=1\nB=secretctl://\n").unwrap_err();
        assert!(err.message.contains("names no key"), "{err}");
        let err = parse_env_file_with_refs("A=secretctl:/db\n").unwrap_err();
        assert!(
            err.message.contains("must start with `secretctl://`"),
            "{err}"
        );
        let err = parse_env_file_with_refs("A=1\nB=\"line1\nline2 {{ secretctl://x y }}\"\n")
            .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(
            err.message.contains("\"B\"") && err.message.contains("not closed"),
            "{err}"
        );
        // Errors of the dotenv layer come through unchanged.
        let err = parse_env_file_with_refs("A=1\nA=2\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
