//! `export --format shell`: a script of `export KEY='value'` lines for
//! `eval "$(secretctl export --format shell)"`.

use zeroize::Zeroizing;

use super::{Item, RenderError, RenderErrorKind, check_unique_keys};

/// Renders items as POSIX shell `export KEY='value'` lines.
///
/// Values are single-quoted, the only quoting in which a POSIX shell
/// interprets nothing; a `'` inside is written `'\''` (close, escaped quote,
/// reopen). Newlines and every other byte are carried verbatim. A shell
/// variable cannot hold NUL, and this function returns text, so values with
/// NUL or invalid UTF-8 are a [`RenderError`]; so is a key that is not a shell
/// name (`[A-Za-z_][A-Za-z0-9_]*`) — map vault paths to env names (SPEC §5.1)
/// before calling this.
///
/// ```
/// # use secretctl_core::transfer::{Item, render_shell};
/// let out = render_shell(&[Item::new("TOKEN", "it's")]).unwrap();
/// assert_eq!(out.as_str(), "export TOKEN='it'\\''s'\n");
/// ```
pub fn render_shell(items: &[Item]) -> Result<Zeroizing<String>, RenderError> {
    const FORMAT: &str = "shell";
    check_unique_keys(items, FORMAT)?;
    // `'` grows to four bytes; sizing up front avoids reallocations that would
    // leave unwiped copies of secrets in freed memory.
    let capacity = items
        .iter()
        .map(|item| item.key.len() + 4 * item.value.len() + 12)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    for item in items {
        if !is_shell_name(&item.key) {
            return Err(RenderError::new(
                &item.key,
                FORMAT,
                RenderErrorKind::InvalidKey,
            ));
        }
        let value = super::text_value(item, FORMAT)?;
        out.push_str("export ");
        out.push_str(&item.key);
        out.push_str("='");
        for c in value.chars() {
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
        out.push_str("'\n");
    }
    Ok(out)
}

fn is_shell_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_everything_in_single_quotes() {
        let out = render_shell(&[
            Item::new("A", ""),
            Item::new("B", "$(id) `id` \\ \"x\"\nline2"),
            Item::new("_c1", "''"),
        ])
        .unwrap();
        assert_eq!(
            out.as_str(),
            "export A=''\nexport B='$(id) `id` \\ \"x\"\nline2'\nexport _c1=''\\'''\\'''\n"
        );
    }

    #[test]
    fn refuses_non_names_nul_and_binary() {
        for key in ["aws/prod", "1A", "A-B", "", "A B"] {
            let e = render_shell(&[Item::new(key, "x")]).unwrap_err();
            assert_eq!(e.kind, RenderErrorKind::InvalidKey, "{key:?}");
        }
        let e = render_shell(&[Item::new("A", "a\0b")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::ContainsNul);
        let e = render_shell(&[Item::new("A", vec![0xc3])]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::NotUtf8);
        let e = render_shell(&[Item::new("A", "1"), Item::new("A", "1")]).unwrap_err();
        assert_eq!(e.kind, RenderErrorKind::DuplicateKey);
    }
}
