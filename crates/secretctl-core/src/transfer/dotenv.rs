//! The dotenv dialect described in the module docs of [`crate::transfer`]:
//! a hand-written parser (no variable substitution, no process environment)
//! and a renderer whose output always parses back to the same items.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::{Item, ParseError, RenderError, RenderErrorKind, check_unique_keys, quote_key};

/// One parsed `KEY=value` line, with the line it starts on (the env-file
/// reference parser needs the line to report errors in values).
pub(crate) struct Entry {
    pub(crate) line: usize,
    pub(crate) key: String,
    pub(crate) value: Zeroizing<String>,
}

/// Parses a `.env` file into items, in file order.
///
/// See the module docs for the exact dialect. There is no variable
/// substitution and the process environment is never read. Errors name the
/// line and the key, never the value.
///
/// ```
/// # use secretctl_core::transfer::parse_dotenv;
/// let items = parse_dotenv("export A=1\nB=\"two\\nlines\" # note\nC='$HOME'\n").unwrap();
/// assert_eq!(items[1].value.as_slice(), b"two\nlines");
/// assert_eq!(items[2].value.as_slice(), b"$HOME");
/// ```
pub fn parse_dotenv(text: &str) -> Result<Vec<Item>, ParseError> {
    Ok(parse_entries(text)?
        .into_iter()
        .map(|mut entry| Item {
            key: entry.key,
            value: into_bytes(&mut entry.value),
        })
        .collect())
}

/// Moves a secret string's buffer into a byte vector without copying it, so
/// no unwiped copy is left behind.
pub(crate) fn into_bytes(value: &mut Zeroizing<String>) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(std::mem::take(&mut **value).into_bytes())
}

pub(crate) fn parse_entries(text: &str) -> Result<Vec<Entry>, ParseError> {
    // Editors on Windows like to start files with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        text,
        pos: 0,
        line: 1,
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    while let Some(entry) = parser.next_entry()? {
        if let Some(first) = first_seen.get(&entry.key) {
            return Err(ParseError::new(
                entry.line,
                format!(
                    "duplicate key {} (first defined on line {first})",
                    quote_key(&entry.key)
                ),
            ));
        }
        first_seen.insert(entry.key.clone(), entry.line);
        entries.push(entry);
    }
    Ok(entries)
}

/// Characters allowed in a key: env names plus the vault's path characters.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/')
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A cursor over the text. All delimiters are ASCII, so byte positions are
/// always on UTF-8 character boundaries where the parser slices.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl Parser<'_> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
    }

    /// True at `\n`, `\r\n`, a final `\r`, or the end of the text.
    fn at_line_end(&self) -> bool {
        match self.peek() {
            None | Some(b'\n') => true,
            Some(b'\r') => matches!(self.bytes().get(self.pos + 1), None | Some(b'\n')),
            _ => false,
        }
    }

    /// Consumes the line ending the cursor is at (see [`Self::at_line_end`]).
    fn finish_line(&mut self) {
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        if self.peek() == Some(b'\n') {
            self.pos += 1;
            self.line += 1;
        }
    }

    /// End of the current line's content: the position of its `\n` (or of the
    /// `\r` of a `\r\n`), or the end of the text.
    fn content_end(&self) -> usize {
        let bytes = self.bytes();
        let newline = bytes[self.pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| self.pos + i);
        if newline > self.pos && bytes[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        }
    }

    fn skip_rest_of_line(&mut self) {
        self.pos = self.content_end();
        self.finish_line();
    }

    /// Parses up to and including the next entry, skipping blank and comment
    /// lines. `None` at the end of the text.
    fn next_entry(&mut self) -> Result<Option<Entry>, ParseError> {
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Ok(None),
                Some(b'#') => self.skip_rest_of_line(),
                Some(_) if self.at_line_end() => self.finish_line(),
                Some(_) => return self.entry().map(Some),
            }
        }
    }

    fn entry(&mut self) -> Result<Entry, ParseError> {
        let line = self.line;
        self.skip_export();

        let key_start = self.pos;
        while self.peek().is_some_and(is_key_byte) {
            self.pos += 1;
        }
        if self.pos == key_start {
            // Deliberately no excerpt of the line: a malformed line may well be
            // a value that lost its key.
            return Err(ParseError::new(
                line,
                "expected a key (letters, digits, `_`, `.`, `-`, `/`) followed by `=`",
            ));
        }
        let key = self.text[key_start..self.pos].to_owned();

        self.skip_blanks();
        if self.peek() != Some(b'=') {
            let message = if self.at_line_end() {
                format!("key {} has no `=`", quote_key(&key))
            } else {
                format!(
                    "unexpected character after key {}; expected `=`",
                    quote_key(&key)
                )
            };
            return Err(ParseError::new(line, message));
        }
        self.pos += 1;

        let after_equals = self.pos;
        self.skip_blanks();
        let value = match self.peek() {
            Some(b'"') => self.double_quoted(&key, line)?,
            Some(quote @ (b'\'' | b'`')) => self.literal_quoted(quote, &key, line)?,
            _ => {
                // Rewind so the comment rule can see the blanks after `=`
                // (`KEY= #c` is an empty value followed by a comment).
                self.pos = after_equals;
                self.unquoted()
            }
        };
        Ok(Entry { line, key, value })
    }

    /// Skips `export` and the blanks after it, but only when a key follows:
    /// `export=1` and `export =1` define a key named `export`.
    fn skip_export(&mut self) {
        let rest = &self.bytes()[self.pos..];
        if rest.starts_with(b"export") && rest.get(6).copied().is_some_and(is_blank) {
            let saved = self.pos;
            self.pos += 6;
            self.skip_blanks();
            if !self.peek().is_some_and(is_key_byte) {
                self.pos = saved;
            }
        }
    }

    fn unquoted(&mut self) -> Zeroizing<String> {
        let start = self.pos;
        let end = self.content_end();
        let bytes = &self.bytes()[start..end];
        // A `#` starts a comment only after a blank, so `a#b` (URL fragments,
        // colour codes, passwords) stays whole.
        let cut = (1..bytes.len())
            .find(|&i| bytes[i] == b'#' && is_blank(bytes[i - 1]))
            .map_or(end, |i| start + i);
        let value = self.text[start..cut].trim_matches([' ', '\t']);
        self.pos = end;
        self.finish_line();
        Zeroizing::new(value.to_owned())
    }

    /// `'...'` or `` `...` ``: everything up to the next quote, verbatim
    /// except that `\r\n` becomes `\n`.
    fn literal_quoted(
        &mut self,
        quote: u8,
        key: &str,
        line: usize,
    ) -> Result<Zeroizing<String>, ParseError> {
        let start = self.pos + 1;
        let Some(len) = self.bytes()[start..].iter().position(|&b| b == quote) else {
            return Err(unterminated(key, line));
        };
        let raw = &self.text[start..start + len];
        let mut value = Zeroizing::new(String::with_capacity(raw.len()));
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' && chars.peek() == Some(&'\n') {
                continue; // the `\n` is pushed next
            }
            value.push(c);
        }
        self.line += raw.matches('\n').count();
        self.pos = start + len + 1;
        self.after_closing_quote(key)?;
        Ok(value)
    }

    fn double_quoted(&mut self, key: &str, line: usize) -> Result<Zeroizing<String>, ParseError> {
        let start = self.pos + 1;
        // Find the closing quote first, so the decoded value can be written
        // into a buffer of its final capacity (a growing buffer would leave
        // unwiped copies of the secret behind in freed memory).
        let bytes = self.bytes();
        let mut i = start;
        let close = loop {
            match bytes.get(i) {
                None => return Err(unterminated(key, line)),
                Some(b'"') => break i,
                // Whatever follows a backslash cannot close the string. It may
                // be the first byte of a multi-byte character; the rest of that
                // character are continuation bytes, never `"` or `\`.
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
            }
        };
        let raw = &self.text[start..close];
        let mut value = Zeroizing::new(String::with_capacity(raw.len()));
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let escaped = match chars.peek() {
                        Some('n') => Some('\n'),
                        Some('r') => Some('\r'),
                        Some('t') => Some('\t'),
                        Some(&c @ ('"' | '\\' | '$' | '`')) => Some(c),
                        _ => None,
                    };
                    match escaped {
                        Some(c) => {
                            chars.next();
                            value.push(c);
                        }
                        // Unknown escape: keep the backslash; the next
                        // character is handled on its own (`sh` semantics).
                        None => value.push('\\'),
                    }
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                c => value.push(c),
            }
        }
        self.line += raw.matches('\n').count();
        self.pos = close + 1;
        self.after_closing_quote(key)?;
        Ok(value)
    }

    /// After a closing quote: blanks, then an optional comment, then the end of
    /// the line.
    fn after_closing_quote(&mut self, key: &str) -> Result<(), ParseError> {
        self.skip_blanks();
        if self.peek() == Some(b'#') {
            self.skip_rest_of_line();
        } else if self.at_line_end() {
            self.finish_line();
        } else {
            return Err(ParseError::new(
                self.line,
                format!(
                    "unexpected text after the closing quote of key {}",
                    quote_key(key)
                ),
            ));
        }
        Ok(())
    }
}

fn unterminated(key: &str, line: usize) -> ParseError {
    ParseError::new(
        line,
        format!("the quoted value of key {} is never closed", quote_key(key)),
    )
}

/// Renders items as a `.env` file that [`parse_dotenv`] reads back exactly.
///
/// Simple values (`A-Z a-z 0-9 _ . / : @ + -`, non-empty) are written bare;
/// everything else in double quotes with `\\ \" \$ \` \n \r \t` escapes, one
/// line per item. Values that are not UTF-8 or contain NUL cannot be carried
/// by the env format and are a [`RenderError`] naming the key, as is a key
/// with characters outside `A-Z a-z 0-9 _ . - /` or a repeated key.
///
/// ```
/// # use secretctl_core::transfer::{Item, render_dotenv};
/// let out = render_dotenv(&[Item::new("A", "plain"), Item::new("B", "it's $5\n")]).unwrap();
/// assert_eq!(out.as_str(), "A=plain\nB=\"it's \\$5\\n\"\n");
/// ```
pub fn render_dotenv(items: &[Item]) -> Result<Zeroizing<String>, RenderError> {
    const FORMAT: &str = "env";
    check_unique_keys(items, FORMAT)?;
    // Worst case every value byte is escaped to two; sizing the buffer up
    // front means it never reallocates and leaves no copy of a secret behind.
    let capacity = items
        .iter()
        .map(|item| item.key.len() + 2 * item.value.len() + 4)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    for item in items {
        if item.key.is_empty() || !item.key.bytes().all(is_key_byte) {
            return Err(RenderError::new(
                &item.key,
                FORMAT,
                RenderErrorKind::InvalidKey,
            ));
        }
        let value = super::text_value(item, FORMAT)?;
        out.push_str(&item.key);
        out.push('=');
        if is_bare(value) {
            out.push_str(value);
        } else {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '$' => out.push_str("\\$"),
                    '`' => out.push_str("\\`"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('\n');
    }
    Ok(out)
}

/// A value that needs no quotes in any dotenv dialect or shell.
fn is_bare(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b'@' | b'+' | b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_dotenv(text)
            .unwrap()
            .into_iter()
            .map(|item| {
                (
                    item.key.clone(),
                    String::from_utf8(item.value.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    fn one(text: &str) -> String {
        let all = pairs(text);
        assert_eq!(all.len(), 1, "{text:?}");
        all.into_iter().next().unwrap().1
    }

    fn err(text: &str) -> ParseError {
        parse_dotenv(text).expect_err(text)
    }

    #[test]
    fn unquoted_values() {
        assert_eq!(one("A=b"), "b");
        assert_eq!(one("A = b c  "), "b c");
        assert_eq!(one("A=\tb\t"), "b");
        assert_eq!(one("A=a#b"), "a#b");
        assert_eq!(one("A=a #b"), "a");
        assert_eq!(one("A=a\t#b"), "a");
        assert_eq!(one("A= #b"), "");
        assert_eq!(one("A=#b"), "#b");
        assert_eq!(one("A="), "");
        assert_eq!(one("A=x=y=z"), "x=y=z");
        assert_eq!(one("A=it's"), "it's");
        assert_eq!(one("A=a\\nb"), "a\\nb");
        assert_eq!(one("A=$HOME ${USER}"), "$HOME ${USER}");
    }

    #[test]
    fn export_prefix() {
        assert_eq!(pairs("export A=1"), [("A".into(), "1".into())]);
        assert_eq!(pairs("export\t  A=1"), [("A".into(), "1".into())]);
        assert_eq!(pairs("export=1"), [("export".into(), "1".into())]);
        assert_eq!(pairs("export =1"), [("export".into(), "1".into())]);
        assert_eq!(pairs("exporter=1"), [("exporter".into(), "1".into())]);
    }

    #[test]
    fn quoted_values() {
        assert_eq!(one("A='a \"b\" $c \\n'"), "a \"b\" $c \\n");
        assert_eq!(one("A=`it's`"), "it's");
        assert_eq!(one(r#"A="q\"b\\s\$d\`e\nf\rg\th""#), "q\"b\\s$d`e\nf\rg\th");
        assert_eq!(one(r#"A="C:\Users\x""#), "C:\\Users\\x");
        assert_eq!(one(r##"A="# not a comment" # comment"##), "# not a comment");
        assert_eq!(one("A=\"  padded  \""), "  padded  ");
        assert_eq!(one("A=\"\""), "");
        assert_eq!(one("A=''"), "");
        assert_eq!(one("A = \"x\"   "), "x");
    }

    #[test]
    fn multi_line_values_and_line_numbers() {
        let text = "A=\"one\ntwo\"\nB='x\r\ny'\r\n\nC=3\nD=\"\\\nz\"\n";
        assert_eq!(
            pairs(text),
            [
                ("A".into(), "one\ntwo".into()),
                ("B".into(), "x\ny".into()),
                ("C".into(), "3".into()),
                ("D".into(), "\\\nz".into()),
            ]
        );
        let entries = parse_entries(text).unwrap();
        let lines: Vec<usize> = entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 3, 6, 7]);
        // Lines keep counting after a multi-line value.
        assert_eq!(err("A=\"1\n2\n3\"\nB\n").line, 4);
    }

    #[test]
    fn crlf_and_bom() {
        assert_eq!(
            pairs("\u{feff}A=1\r\nB=\"x\"\r\n# c\r\nC=y #c\r\n"),
            [
                ("A".into(), "1".into()),
                ("B".into(), "x".into()),
                ("C".into(), "y".into())
            ]
        );
        // A lone CR that does not end a line is content.
        assert_eq!(one("A=a\rb"), "a\rb");
        assert_eq!(one("A=\"a\rb\""), "a\rb");
    }

    #[test]
    fn comments_and_blank_lines() {
        assert!(pairs("# only\n\n   \n\t# indented\n").is_empty());
        assert!(pairs("").is_empty());
    }

    #[test]
    fn duplicate_key_names_both_lines() {
        let e = err("A=1\n# x\nB=2\nA=3\n");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("\"A\""), "{e}");
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn errors_name_line_and_key_never_value() {
        let e = err("A=1\nB=\"secret-value\nC=2\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("\"B\""));
        assert!(!e.to_string().contains("secret"));

        let e = err("A='secret-value\n");
        assert_eq!(e.line, 1);
        assert!(!e.to_string().contains("secret"));

        let e = err("A=1\nB=\"x\" secret-value\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("closing quote"));
        assert!(!e.to_string().contains("secret"));

        let e = err("\n\nsecret-value-without-key\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("has no `=`"));

        let e = err("A=1\n=secret\n");
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("expected a key"));
        assert!(!e.to_string().contains("secret"));

        let e = err("A: secret\n");
        assert!(e.message.contains("expected `=`"));
        assert!(!e.to_string().contains("secret"));

        let e = err("export A\n");
        assert!(e.message.contains("\"A\" has no `=`"), "{e}");
    }

    #[test]
    fn render_chooses_quoting() {
        let items = [
            Item::new("BARE", "abc-DEF_0.9/x:y@z+w"),
            Item::new("EMPTY", ""),
            Item::new("SPACE", "a b"),
            Item::new("HASH", "#x"),
            Item::new("ESC", "\\\"$`\n\r\t'"),
        ];
        let out = render_dotenv(&items).unwrap();
        assert_eq!(
            out.as_str(),
            "BARE=abc-DEF_0.9/x:y@z+w\nEMPTY=\"\"\nSPACE=\"a b\"\nHASH=\"#x\"\nESC=\"\\\\\\\"\\$\\`\\n\\r\\t'\"\n"
        );
        assert_eq!(parse_dotenv(&out).unwrap(), items);
    }

    #[test]
    fn render_refuses_what_env_cannot_carry() {
        let e = render_dotenv(&[Item::new("BIN", vec![0xff, 0xfe])]).unwrap_err();
        assert_eq!((e.key.as_str(), e.kind), ("BIN", RenderErrorKind::NotUtf8));
        let e = render_dotenv(&[Item::new("NUL", "a\0b")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::ContainsNul);
        let e = render_dotenv(&[Item::new("BAD KEY", "x")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::InvalidKey);
        let e = render_dotenv(&[Item::new("", "x")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::InvalidKey);
        let e = render_dotenv(&[Item::new("A", "1"), Item::new("A", "2")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::DuplicateKey);
        assert!(!e.to_string().contains('2'));
    }

    #[test]
    fn render_is_safe_to_source_from_sh() {
        // `$` and backticks are escaped, so a shell that sources the file
        // expands and executes nothing.
        let out = render_dotenv(&[Item::new("A", "$(touch /tmp/x) `id` ${HOME}")]).unwrap();
        assert_eq!(out.as_str(), "A=\"\\$(touch /tmp/x) \\`id\\` \\${HOME}\"\n");
    }
}
