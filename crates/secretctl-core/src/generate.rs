//! Password and passphrase generation (SPEC §10 `generate`): a uniform choice from the
//! operating system's CSPRNG, with at least one character of each enabled class, or words from
//! the EFF large word list.
//!
//! This module owns the recipes, the sampling and the entropy they give. It never stores,
//! prints or copies a password: the caller decides where it goes.
//!
//! # Why rejection sampling
//! Every position is drawn uniformly from the whole alphabet `A`, so each string of `A^L` has
//! probability `|A|^-L`. A draw that lacks an enabled class is thrown away (and wiped) and the
//! whole string is drawn again. Retrying until the draw lands in the set `V` of valid strings
//! conditions the uniform distribution on `V`: each valid string then has probability
//! `|A|^-L / P(V) = 1 / |V|`, uniform over exactly the passwords the user asked for.
//!
//! The common shortcut, "one character of each class, the rest from `A`, then shuffle", is not
//! uniform: with 26 lower-case letters, 10 digits and length 4, it gives "two letters and two
//! digits" 40.1 % of the time (`2·26·10/36²`) where uniform over valid strings gives 33.4 %
//! (`6·26²·10² / |V|`, `|V| = 1 212 640`), so it makes some passwords likelier than others.
//!
//! Each index is drawn from a 32-bit random number by rejection too (values at or above the
//! largest multiple of the range are drawn again), so no index is favoured by a modulo.
//!
//! # Word list
//! Passphrases use the EFF large word list (7776 words), © 2016 Electronic Frontier
//! Foundation, <https://www.eff.org/dice>, licensed under CC BY 3.0 US
//! (<https://creativecommons.org/licenses/by/3.0/us/>). `generate/eff_large_wordlist.txt` is
//! the published file, unchanged (SHA-256 `addd3553…b903e`, checked by a test).

use crate::crypto;
use std::sync::OnceLock;
use zeroize::{Zeroize, Zeroizing};

/// Default password length.
pub const DEFAULT_LENGTH: usize = 24;
/// Longest password generated.
pub const MAX_LENGTH: usize = 4096;
/// Most passwords generated at once.
pub const MAX_COUNT: usize = 100_000;
/// Most words in a passphrase.
pub const MAX_WORDS: usize = 64;
/// Longest word separator, in bytes.
pub const MAX_SEPARATOR_LEN: usize = 16;
/// Default word separator.
pub const DEFAULT_SEPARATOR: &str = "-";

/// Lower-case ASCII letters.
pub const LOWERCASE: &str = "abcdefghijklmnopqrstuvwxyz";
/// Upper-case ASCII letters.
pub const UPPERCASE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// ASCII digits.
pub const DIGITS: &str = "0123456789";
/// Every printable ASCII character that is neither a letter, a digit nor a space.
pub const SYMBOLS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The EFF large word list as published (dice number, a tab, the word, one per line).
const EFF_LARGE: &str = include_str!("generate/eff_large_wordlist.txt");

/// A recipe that cannot produce a password. The text names the problem, never a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Every character class is disabled.
    #[error("every character class is disabled; enable at least one")]
    NoClass,
    /// The excluded characters remove a whole enabled class.
    #[error("the excluded characters include all {0}; disable {0} instead")]
    ClassExcluded(Class),
    /// Too short to hold one character of each enabled class.
    #[error(
        "a length of {length} cannot hold one character of each of the {classes} enabled classes"
    )]
    TooShort {
        /// The length asked for.
        length: usize,
        /// The number of enabled classes.
        classes: usize,
    },
    /// Longer than [`MAX_LENGTH`].
    #[error("a length of {0} is over the limit of 4096")]
    TooLong(usize),
    /// No words, or more than [`MAX_WORDS`].
    #[error("a passphrase has 1 to 64 words, not {0}")]
    Words(usize),
    /// A separator that is too long or holds a control character.
    #[error("the word separator must be at most 16 bytes without control characters")]
    Separator,
}

/// A character class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `a`–`z`.
    Lowercase,
    /// `A`–`Z`.
    Uppercase,
    /// `0`–`9`.
    Digits,
    /// [`SYMBOLS`].
    Symbols,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 4] = [
        Class::Lowercase,
        Class::Uppercase,
        Class::Digits,
        Class::Symbols,
    ];

    /// Its characters.
    pub fn chars(self) -> &'static str {
        match self {
            Class::Lowercase => LOWERCASE,
            Class::Uppercase => UPPERCASE,
            Class::Digits => DIGITS,
            Class::Symbols => SYMBOLS,
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Class::Lowercase => "lower-case letters",
            Class::Uppercase => "upper-case letters",
            Class::Digits => "digits",
            Class::Symbols => "symbols",
        })
    }
}

/// The choices of a character password. As JSON (the desktop app's generator page), a missing
/// choice takes its default.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct CharsetOptions {
    /// Number of characters.
    pub length: usize,
    /// Use `a`–`z`.
    pub lowercase: bool,
    /// Use `A`–`Z`.
    pub uppercase: bool,
    /// Use `0`–`9`.
    pub digits: bool,
    /// Use [`SYMBOLS`].
    pub symbols: bool,
    /// Characters never to use; those in no class are ignored.
    pub exclude: String,
}

impl Default for CharsetOptions {
    fn default() -> Self {
        CharsetOptions {
            length: DEFAULT_LENGTH,
            lowercase: true,
            uppercase: true,
            digits: true,
            symbols: true,
            exclude: String::new(),
        }
    }
}

/// A checked character recipe: the enabled classes after exclusions, and the length.
#[derive(Debug, Clone)]
pub struct Charset {
    /// The characters of each enabled class (disjoint, none empty).
    classes: Vec<(Class, Vec<u8>)>,
    /// Their union, in class order.
    alphabet: Vec<u8>,
    /// Bit `i` set in `class_bit[b]` when byte `b` is in the `i`-th enabled class.
    class_bit: [u8; 128],
    length: usize,
}

impl Charset {
    /// Checks the options: at least one class, no class emptied by `exclude`, and a length
    /// from the number of enabled classes to [`MAX_LENGTH`].
    pub fn new(options: &CharsetOptions) -> Result<Charset, Error> {
        let enabled = [
            options.lowercase,
            options.uppercase,
            options.digits,
            options.symbols,
        ];
        let mut classes = Vec::new();
        for (class, on) in Class::ALL.into_iter().zip(enabled) {
            if !on {
                continue;
            }
            let chars: Vec<u8> = class
                .chars()
                .bytes()
                .filter(|b| !options.exclude.contains(char::from(*b)))
                .collect();
            if chars.is_empty() {
                return Err(Error::ClassExcluded(class));
            }
            classes.push((class, chars));
        }
        if classes.is_empty() {
            return Err(Error::NoClass);
        }
        if options.length > MAX_LENGTH {
            return Err(Error::TooLong(options.length));
        }
        if options.length < classes.len() {
            return Err(Error::TooShort {
                length: options.length,
                classes: classes.len(),
            });
        }
        let mut class_bit = [0u8; 128];
        let mut alphabet = Vec::new();
        for (i, (_, chars)) in classes.iter().enumerate() {
            for &b in chars {
                class_bit[usize::from(b)] |= 1 << i;
            }
            alphabet.extend_from_slice(chars);
        }
        Ok(Charset {
            classes,
            alphabet,
            class_bit,
            length: options.length,
        })
    }

    /// Every character a password may contain.
    pub fn alphabet(&self) -> &[u8] {
        &self.alphabet
    }

    /// The enabled classes and their characters after exclusions.
    pub fn classes(&self) -> impl Iterator<Item = (Class, &[u8])> {
        self.classes.iter().map(|(c, chars)| (*c, chars.as_slice()))
    }

    /// The password length.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Draws one password, uniform over the strings of the alphabet that hold every enabled
    /// class (see the module docs).
    pub fn generate(&self, rng: &mut OsRandom) -> Zeroizing<String> {
        let all = (1u8 << self.classes.len()) - 1;
        let n = u32::try_from(self.alphabet.len()).expect("the alphabet has at most 94 bytes");
        let mut bytes = Zeroizing::new(Vec::with_capacity(self.length));
        loop {
            bytes.clear();
            let mut seen = 0u8;
            for _ in 0..self.length {
                let b = self.alphabet[rng.below(n) as usize];
                seen |= self.class_bit[usize::from(b)];
                bytes.push(b);
            }
            if seen == all {
                break;
            }
            bytes.zeroize();
        }
        let text = String::from_utf8(std::mem::take(&mut *bytes)).expect("the alphabet is ASCII");
        Zeroizing::new(text)
    }

    /// The probability that a uniform draw from the alphabet holds every enabled class
    /// (inclusion–exclusion over the classes a string could miss).
    pub fn acceptance(&self) -> f64 {
        let total = self.alphabet.len() as f64;
        let k = self.classes.len();
        let length = i32::try_from(self.length).expect("length is at most 4096");
        let mut p = 0.0;
        for missing in 0u32..(1 << k) {
            let size: usize = (0..k)
                .filter(|i| missing & (1 << i) != 0)
                .map(|i| self.classes[i].1.len())
                .sum();
            let term = (1.0 - size as f64 / total).powi(length);
            if missing.count_ones() % 2 == 0 {
                p += term;
            } else {
                p -= term;
            }
        }
        p
    }

    /// Bits of entropy: `log2` of the number of valid passwords.
    pub fn entropy_bits(&self) -> f64 {
        self.length as f64 * (self.alphabet.len() as f64).log2() + self.acceptance().log2()
    }
}

/// A checked passphrase recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passphrase {
    words: usize,
    separator: String,
}

impl Passphrase {
    /// Checks the number of words (1 to [`MAX_WORDS`]) and the separator (at most
    /// [`MAX_SEPARATOR_LEN`] bytes, no control characters; empty is allowed).
    pub fn new(words: usize, separator: &str) -> Result<Passphrase, Error> {
        if words == 0 || words > MAX_WORDS {
            return Err(Error::Words(words));
        }
        if separator.len() > MAX_SEPARATOR_LEN || separator.chars().any(char::is_control) {
            return Err(Error::Separator);
        }
        Ok(Passphrase {
            words,
            separator: separator.to_owned(),
        })
    }

    /// The number of words.
    pub fn words(&self) -> usize {
        self.words
    }

    /// The separator.
    pub fn separator(&self) -> &str {
        &self.separator
    }

    /// Draws `words` words, each uniform over the list and independent of the others.
    pub fn generate(&self, rng: &mut OsRandom) -> Zeroizing<String> {
        let list = eff_large_wordlist();
        let n = u32::try_from(list.len()).expect("the list has 7776 words");
        let mut text = Zeroizing::new(String::with_capacity(
            self.words * (9 + self.separator.len()),
        ));
        for i in 0..self.words {
            if i > 0 {
                text.push_str(&self.separator);
            }
            text.push_str(list[rng.below(n) as usize]);
        }
        text
    }

    /// Bits of entropy of the word choice: `words · log2(7776)`. (A separator that also
    /// occurs inside four of the words, such as `-` in `t-shirt`, can make two word sequences
    /// print alike; that costs far less than a hundredth of a bit.)
    pub fn entropy_bits(&self) -> f64 {
        self.words as f64 * (eff_large_wordlist().len() as f64).log2()
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub enum Recipe {
    /// Characters.
    Chars(Charset),
    /// Words.
    Words(Passphrase),
}

impl Recipe {
    /// Draws one password or passphrase.
    pub fn generate(&self, rng: &mut OsRandom) -> Zeroizing<String> {
        match self {
            Recipe::Chars(c) => c.generate(rng),
            Recipe::Words(p) => p.generate(rng),
        }
    }

    /// Bits of entropy of one draw.
    pub fn entropy_bits(&self) -> f64 {
        match self {
            Recipe::Chars(c) => c.entropy_bits(),
            Recipe::Words(p) => p.entropy_bits(),
        }
    }
}

/// The 7776 words of the EFF large word list, in its order.
pub fn eff_large_wordlist() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        EFF_LARGE
            .lines()
            .map(|line| {
                line.split_once('\t')
                    .map(|(_, word)| word)
                    .expect("each line of the bundled list is `DICE<TAB>WORD`")
            })
            .collect()
    })
}

/// Random numbers from the operating system's CSPRNG ([`crypto::fill_random`]), read in
/// blocks to save system calls; the unread rest of a block is wiped on drop.
pub struct OsRandom {
    block: Zeroizing<[u8; 512]>,
    used: usize,
}

impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl OsRandom {
    /// A new source; nothing is read until the first draw.
    pub fn new() -> OsRandom {
        OsRandom {
            block: Zeroizing::new([0; 512]),
            used: 512,
        }
    }

    fn next_u32(&mut self) -> u32 {
        if self.used + 4 > self.block.len() {
            crypto::fill_random(&mut self.block[..]);
            self.used = 0;
        }
        let word: [u8; 4] = self.block[self.used..self.used + 4]
            .try_into()
            .expect("a 4-byte slice");
        self.block[self.used..self.used + 4].zeroize();
        self.used += 4;
        u32::from_le_bytes(word)
    }

    /// A number uniform in `0..n`. Draws at or above the largest multiple of `n` that fits
    /// in 32 bits are rejected, so every result is equally likely.
    ///
    /// # Panics
    /// When `n` is 0.
    pub fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "a range of uniform draws is not empty");
        let span = 1u64 << 32;
        let limit = span - span % u64::from(n);
        loop {
            let x = u64::from(self.next_u32());
            if x < limit {
                return (x % u64::from(n)) as u32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charset(f: impl FnOnce(&mut CharsetOptions)) -> Result<Charset, Error> {
        let mut o = CharsetOptions::default();
        f(&mut o);
        Charset::new(&o)
    }

    #[test]
    fn word_list_is_the_published_eff_large_list() {
        assert_eq!(
            hex::encode(crypto::sha256(EFF_LARGE.as_bytes())),
            "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e"
        );
        let words = eff_large_wordlist();
        assert_eq!(words.len(), 7776);
        let mut sorted = words.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 7776, "words are distinct");
        assert_eq!(words[0], "abacus");
        assert_eq!(words[7775], "zoom");
    }

    #[test]
    fn default_alphabet_is_printable_ascii_without_space() {
        let c = charset(|_| {}).unwrap();
        let mut expected: Vec<u8> = (b'!'..=b'~').collect();
        let mut got = c.alphabet().to_vec();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected);
        assert_eq!(c.length(), DEFAULT_LENGTH);
    }

    #[test]
    fn every_password_holds_every_enabled_class_and_nothing_else() {
        let c = charset(|o| {
            o.length = 4;
            o.exclude = "abcXYZ019!\"".into();
        })
        .unwrap();
        let mut rng = OsRandom::new();
        for _ in 0..2000 {
            let p = c.generate(&mut rng);
            assert_eq!(p.len(), 4);
            for (class, chars) in c.classes() {
                assert!(p.bytes().any(|b| chars.contains(&b)), "no {class}");
            }
            assert!(p.bytes().all(|b| c.alphabet().contains(&b)));
            assert!(!p.contains(['a', 'X', '0', '!', '"']));
        }
    }

    #[test]
    fn recipes_that_cannot_work_are_refused() {
        assert_eq!(
            charset(|o| {
                o.lowercase = false;
                o.uppercase = false;
                o.digits = false;
                o.symbols = false;
            })
            .unwrap_err(),
            Error::NoClass
        );
        assert_eq!(
            charset(|o| o.exclude = DIGITS.into()).unwrap_err(),
            Error::ClassExcluded(Class::Digits)
        );
        assert_eq!(
            charset(|o| o.length = 3).unwrap_err(),
            Error::TooShort {
                length: 3,
                classes: 4
            }
        );
        assert_eq!(
            charset(|o| o.length = 4097).unwrap_err(),
            Error::TooLong(4097)
        );
        // Excluding a whole class that is disabled anyway is fine.
        assert!(
            charset(|o| {
                o.digits = false;
                o.exclude = DIGITS.into();
                o.length = 3;
            })
            .is_ok()
        );
        assert_eq!(Passphrase::new(0, "-").unwrap_err(), Error::Words(0));
        assert_eq!(Passphrase::new(65, "-").unwrap_err(), Error::Words(65));
        assert_eq!(Passphrase::new(5, "\n").unwrap_err(), Error::Separator);
        assert_eq!(
            Passphrase::new(5, &"x".repeat(17)).unwrap_err(),
            Error::Separator
        );
        assert!(Passphrase::new(5, "").is_ok());
    }

    #[test]
    fn entropy_counts_valid_passwords_exactly() {
        // One class: L·log2(n).
        let c = charset(|o| {
            o.uppercase = false;
            o.digits = false;
            o.symbols = false;
            o.length = 10;
        })
        .unwrap();
        assert!((c.entropy_bits() - 10.0 * 26f64.log2()).abs() < 1e-9);
        // Lower-case and digits, length 4: |V| = 36⁴ − 26⁴ − 10⁴ = 1 212 640 (module docs).
        let c = charset(|o| {
            o.uppercase = false;
            o.symbols = false;
            o.length = 4;
        })
        .unwrap();
        assert!((c.entropy_bits() - 1_212_640f64.log2()).abs() < 1e-9);
        // The default recipe is close to 24·log2(94).
        let d = charset(|_| {}).unwrap();
        assert!(d.entropy_bits() < 24.0 * 94f64.log2());
        assert!(d.entropy_bits() > 24.0 * 94f64.log2() - 1.0);
        let p = Passphrase::new(6, " ").unwrap();
        assert!((p.entropy_bits() - 6.0 * 7776f64.log2()).abs() < 1e-9);
    }

    #[test]
    fn passphrases_are_words_of_the_list() {
        let p = Passphrase::new(7, " ").unwrap();
        let mut rng = OsRandom::new();
        let list = eff_large_wordlist();
        for _ in 0..200 {
            let text = p.generate(&mut rng);
            let words: Vec<&str> = text.split(' ').collect();
            assert_eq!(words.len(), 7);
            assert!(words.iter().all(|w| list.contains(w)));
        }
    }

    #[test]
    fn draws_below_n_are_uniform() {
        // 7 does not divide 2^32, so a modulo without rejection would favour low values
        // (too little to see here; this checks range and rough balance).
        let mut rng = OsRandom::new();
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[rng.below(7) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn rejection_sampling_is_uniform_over_valid_strings() {
        // Alphabet {a, b, 0}, two classes (letters, digits), length 3: the valid strings are
        // those with at least one letter and one digit: 3³ − 2³ − 1 = 18, each 1/18.
        let c = charset(|o| {
            o.uppercase = false;
            o.symbols = false;
            o.exclude = "cdefghijklmnopqrstuvwxyz123456789".into();
            o.length = 3;
        })
        .unwrap();
        assert_eq!(c.alphabet(), b"ab0");
        let mut rng = OsRandom::new();
        let mut counts = std::collections::HashMap::new();
        let draws = 180_000;
        for _ in 0..draws {
            *counts
                .entry(c.generate(&mut rng).to_string())
                .or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 18);
        // Chi-square with 17 degrees of freedom; 60 is far beyond p = 1e-6 (≈ 57.6).
        let expected = f64::from(draws) / 18.0;
        let chi2: f64 = counts
            .values()
            .map(|&n| (f64::from(n) - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 60.0, "chi2 {chi2}: {counts:?}");
    }
}
