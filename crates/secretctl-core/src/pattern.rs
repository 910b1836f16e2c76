//! Key patterns of SPEC §5.2: a literal key, or a glob where `*` and `?` match within one path
//! segment, `**` matches across segments, and `[abc]` is a class.

use crate::secret::{InputError, KeyName, shown};

/// A parsed `-k` argument.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// A key name, which must exist.
    Literal(KeyName),
    /// A glob, which must match at least one key.
    Glob {
        /// The glob as typed.
        text: String,
        /// The compiled matcher.
        matcher: globset::GlobMatcher,
    },
}

impl Pattern {
    /// Parses a pattern; anything without `*`, `?` or `[` is a literal key name.
    pub fn parse(text: &str) -> Result<Pattern, InputError> {
        if !text.contains(['*', '?', '[']) {
            return KeyName::parse(text).map(Pattern::Literal);
        }
        if text.len() > 512 || text.chars().any(char::is_control) {
            return Err(InputError::Pattern {
                shown: shown(text),
                rule: "patterns are at most 512 printable characters",
            });
        }
        let glob = globset::GlobBuilder::new(text)
            .literal_separator(true)
            .backslash_escape(false)
            .build()
            .map_err(|_| InputError::Pattern {
                shown: shown(text),
                rule: "it is not a valid glob",
            })?;
        Ok(Pattern::Glob {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &KeyName) -> bool {
        match self {
            Pattern::Literal(k) => k == name,
            Pattern::Glob { matcher, .. } => matcher.is_match(name.as_str()),
        }
    }

    /// The pattern as typed.
    pub fn as_str(&self) -> &str {
        match self {
            Pattern::Literal(k) => k.as_str(),
            Pattern::Glob { text, .. } => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, name: &str) -> bool {
        Pattern::parse(p)
            .unwrap()
            .matches(&KeyName::parse(name).unwrap())
    }

    #[test]
    fn globs_follow_path_segments() {
        assert!(m("aws/*", "aws/key"));
        assert!(!m("aws/*", "aws/prod/key"));
        assert!(m("aws/**", "aws/prod/key"));
        assert!(m("aws/**/key", "aws/prod/eu/key"));
        assert!(m("db/?", "db/a"));
        assert!(!m("db/?", "db/ab"));
        assert!(m("db/[ab]", "db/b"));
        assert!(!m("db/[ab]", "db/c"));
        assert!(m("API_KEY", "API_KEY"));
        assert!(!m("API_KEY", "API_KEY2"));
        assert!(m("*", "top"));
        assert!(!m("*", "a/b"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Pattern::parse("db/[a").is_err());
        assert!(Pattern::parse("../x").is_err());
        assert!(Pattern::parse("a\n*").is_err());
    }
}
