//! Differential fuzzing of the streaming redactor (`redact.rs`).
//!
//! From the input: 1–4 secrets of 4–64 arbitrary bytes (fresh, overlapping an earlier one, an
//! encoded form of an earlier one, periodic, or over a small alphabet, so that secrets share
//! prefixes, suffixes and whole patterns), a haystack built from literal bytes and copies of the
//! secrets (raw, case-flipped, any derived form, truncated forms, base64 at any alignment,
//! repeats), and a seed for chunk sizes.
//!
//! Checked, in order:
//!
//! 1. **Streaming = one-shot.** The haystack fed to a `StreamRedactor` in random chunks (empty
//!    ones included) gives exactly `Redactor::redact_all`'s output, and the stream never holds
//!    back `max_pattern_len()` bytes or more. The stream is then reused with other chunk sizes
//!    and must give the same output again.
//! 2. **One-shot = naive reference.** `reference()` below is a whole-buffer, position-by-position
//!    leftmost-longest matcher written for this test, run over the patterns the engine derives
//!    (`redact::derived_patterns`, every form: raw, case-insensitive, base64, hex, URL, JSON):
//!    this checks the engine's matching machinery (start filter, anchored trie walks, the
//!    linear-time fallback, hold-back windows, marker collapsing) but not the derivation of
//!    the forms, which item 3 covers for the forms it names.
//! 3. **Nothing survives (independent of the engine).** Cut the output at the markers; no piece
//!    contains a secret's raw bytes, an ASCII case-insensitive copy of a secret of 8+ bytes with
//!    a letter, its lower- or upper-case hex, or the stable core of its standard base64 at
//!    offset 0. These forms are derived here, without the engine's code.
//!
//! Secrets are at most 64 bytes, so no form is long enough to be split into pieces (asserted):
//! pieces are out of scope of this target.
#![no_main]

use arbitrary::{Result, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use secretctl_core::redact::{Redactor, derived_patterns};

const NAMES: [&str; 4] = ["S0", "S1", "S2", "S3"];
const MAX_HAYSTACK: usize = 8 * 1024;

struct Pattern {
    bytes: Vec<u8>,
    fold: bool,
    secret: usize,
}

struct Case {
    secrets: Vec<Vec<u8>>,
    haystack: Vec<u8>,
    chunk_seed: u64,
}

/// 0 to `max` bytes of input.
fn take<'a>(u: &mut Unstructured<'a>, max: usize) -> Result<&'a [u8]> {
    let n = u.int_in_range(0..=max)?;
    u.bytes(n)
}

/// 1 to `max` bytes of input.
fn take_at_least_one<'a>(u: &mut Unstructured<'a>, max: usize) -> Result<&'a [u8]> {
    let n = u.int_in_range(1..=max)?;
    u.bytes(n)
}

fn secret(u: &mut Unstructured, earlier: &[Vec<u8>]) -> Result<Vec<u8>> {
    let len = u.int_in_range(4..=64usize)?;
    let mut out = match u.int_in_range(0..=4u8)? {
        // A piece of an earlier secret plus fresh bytes: shared prefixes and suffixes.
        1 if !earlier.is_empty() => {
            let base = u.choose(earlier)?;
            let start = u.int_in_range(0..=base.len() - 1)?;
            let end = u.int_in_range(start + 1..=base.len())?;
            let mut s = Vec::new();
            if u.arbitrary()? {
                s.extend_from_slice(take(u, 8)?);
            }
            s.extend_from_slice(&base[start..end]);
            s.extend_from_slice(take(u, 8)?);
            s
        }
        // One of an earlier secret's encoded forms, possibly case-flipped: the same bytes
        // then belong to two secrets, in the exact and in the case-insensitive automaton.
        4 if !earlier.is_empty() => {
            let base = u.choose(earlier)?;
            let forms = derived_patterns(base);
            let (form, _, _) = u.choose(&forms)?;
            let flip: bool = u.arbitrary()?;
            form.iter()
                .map(|&b| {
                    if flip && b.is_ascii_alphabetic() {
                        b ^ 0x20
                    } else {
                        b
                    }
                })
                .collect()
        }
        // Periodic: `abcabcabc…` overlaps itself.
        2 => {
            let period = take_at_least_one(u, 6)?.to_vec();
            period.iter().copied().cycle().take(len).collect()
        }
        // A small alphabet with letters, digits and encoding characters.
        3 => {
            const ALPHABET: &[u8] = b"aAbB01%=+/_-\\\"";
            (0..len)
                .map(|_| u.choose(ALPHABET).copied())
                .collect::<Result<_>>()?
        }
        _ => u.bytes(len)?.to_vec(),
    };
    out.truncate(64);
    while out.len() < 4 {
        out.push(u.arbitrary()?);
    }
    Ok(out)
}

fn case(data: &[u8]) -> Result<Case> {
    let mut u = Unstructured::new(data);
    let count = u.int_in_range(1..=4usize)?;
    let mut secrets = Vec::new();
    for _ in 0..count {
        let s = secret(&mut u, &secrets)?;
        secrets.push(s);
    }
    let chunk_seed = u.arbitrary()?;
    let forms: Vec<Vec<Vec<u8>>> = secrets
        .iter()
        .map(|s| {
            derived_patterns(s)
                .into_iter()
                .map(|(b, _, _)| b.to_vec())
                .collect()
        })
        .collect();
    let mut haystack = Vec::new();
    while !u.is_empty() && haystack.len() < MAX_HAYSTACK {
        let j = u.choose_index(secrets.len())?;
        let s = &secrets[j];
        match u.int_in_range(0..=7u8)? {
            0 | 1 => {
                let n = u.int_in_range(0..=16usize)?;
                haystack.extend_from_slice(u.bytes(n)?);
            }
            2 => haystack.extend_from_slice(s),
            3 => {
                for &b in s {
                    let flip: bool = u.arbitrary()?;
                    haystack.push(if flip && b.is_ascii_alphabetic() {
                        b ^ 0x20
                    } else {
                        b
                    });
                }
            }
            4 if !forms[j].is_empty() => haystack.extend_from_slice(u.choose(&forms[j])?),
            5 if !forms[j].is_empty() => {
                let form = u.choose(&forms[j])?;
                let cut = u.int_in_range(1..=form.len())?;
                if u.arbitrary()? {
                    haystack.extend_from_slice(&form[..cut]);
                } else {
                    haystack.extend_from_slice(&form[form.len() - cut..]);
                }
            }
            6 => {
                let mut plain = take(&mut u, 2)?.to_vec();
                plain.extend_from_slice(s);
                plain.extend_from_slice(take(&mut u, 2)?);
                let engines = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD];
                haystack.extend_from_slice(u.choose(&engines)?.encode(&plain).as_bytes());
            }
            _ => {
                let n = u.int_in_range(1..=64usize)?.min(haystack.len());
                let tail = haystack[haystack.len() - n..].to_vec();
                for _ in 0..u.int_in_range(1..=4u8)? {
                    haystack.extend_from_slice(&tail);
                }
            }
        }
    }
    Ok(Case {
        secrets,
        haystack,
        chunk_seed,
    })
}

/// xorshift64*: chunk sizes from the input's seed, without consuming more input.
struct Chunks(u64);

impl Chunks {
    fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        // Mostly small chunks around the pattern length, sometimes empty, sometimes large.
        match r % 8 {
            0 => 0,
            1 => (r >> 8) as usize % 4096,
            _ => (r >> 8) as usize % (max + 1),
        }
    }
}

fn streamed(r: &Redactor, haystack: &[u8], seed: u64) -> Vec<u8> {
    let mut stream = r.stream();
    let mut chunks = Chunks(seed | 1);
    let mut out = Vec::new();
    for round in 0..2 {
        let mut round_out = Vec::new();
        let mut rest = haystack;
        while !rest.is_empty() {
            let n = chunks.next(2 * r.max_pattern_len() + 2).min(rest.len());
            stream.push(&rest[..n], &mut round_out);
            rest = &rest[n..];
            assert!(
                stream.held() < r.max_pattern_len().max(1),
                "held {} bytes, longest pattern {}",
                stream.held(),
                r.max_pattern_len()
            );
        }
        stream.finish(&mut round_out);
        assert_eq!(stream.held(), 0);
        if round == 0 {
            out = round_out;
        } else {
            assert!(out == round_out, "a reused stream gave different output");
        }
    }
    out
}

fn matches_at(p: &Pattern, hay: &[u8], at: usize) -> bool {
    let Some(text) = hay.get(at..at + p.bytes.len()) else {
        return false;
    };
    if p.fold {
        text.eq_ignore_ascii_case(&p.bytes)
    } else {
        text == p.bytes.as_slice()
    }
}

/// Whole-buffer leftmost-longest redaction over `patterns`, by brute force.
///
/// At each position from the left, the longest pattern matching there wins; of equally long
/// ones, an exact pattern before a case-insensitive one, then the lower secret index (the
/// engine's documented tie order: exact automaton, folded automaton, then pattern order). A
/// match is replaced by its secret's marker; a marker directly following a marker of the same
/// secret is left out.
fn reference(patterns: &[Pattern], hay: &[u8]) -> Vec<u8> {
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); 256];
    for (i, p) in patterns.iter().enumerate() {
        let b = p.bytes[0];
        by_first[usize::from(b)].push(i);
        if p.fold && b.is_ascii_alphabetic() {
            by_first[usize::from(b ^ 0x20)].push(i);
        }
    }
    let mut out = Vec::new();
    let mut last_marker: Option<usize> = None;
    let mut pos = 0;
    while pos < hay.len() {
        let best = by_first[usize::from(hay[pos])]
            .iter()
            .map(|&i| &patterns[i])
            .filter(|p| matches_at(p, hay, pos))
            .min_by_key(|p| (std::cmp::Reverse(p.bytes.len()), p.fold, p.secret));
        match best {
            Some(p) => {
                if last_marker != Some(p.secret) {
                    out.extend_from_slice(format!("[REDACTED:{}]", NAMES[p.secret]).as_bytes());
                    last_marker = Some(p.secret);
                }
                pos += p.bytes.len();
            }
            None => {
                out.push(hay[pos]);
                last_marker = None;
                pos += 1;
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8], fold: bool) -> bool {
    hay.windows(needle.len()).any(|w| {
        if fold {
            w.eq_ignore_ascii_case(needle)
        } else {
            w == needle
        }
    })
}

/// The output cut at every marker: each piece is output text that is no marker.
fn unmarked_pieces(out: &[u8]) -> Vec<&[u8]> {
    let markers: Vec<String> = NAMES.iter().map(|n| format!("[REDACTED:{n}]")).collect();
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < out.len() {
        match markers.iter().find(|m| out[i..].starts_with(m.as_bytes())) {
            Some(m) => {
                pieces.push(&out[start..i]);
                i += m.len();
                start = i;
            }
            None => i += 1,
        }
    }
    pieces.push(&out[start..]);
    pieces
}

fn hex(bytes: &[u8], upper: bool) -> Vec<u8> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    bytes
        .iter()
        .flat_map(|&b| [digits[usize::from(b >> 4)], digits[usize::from(b & 0xf)]])
        .collect()
}

fn check_nothing_survives(secrets: &[Vec<u8>], out: &[u8]) {
    let pieces = unmarked_pieces(out);
    for (j, s) in secrets.iter().enumerate() {
        let fold = s.len() >= 8 && s.iter().any(u8::is_ascii_alphabetic);
        let b64 = STANDARD_NO_PAD.encode(s);
        let core = &b64.as_bytes()[..8 * s.len() / 6];
        let forms: [(&str, &[u8], bool); 4] = [
            ("raw", s, fold),
            ("hex", &hex(s, false), false),
            ("HEX", &hex(s, true), false),
            ("base64", core, false),
        ];
        for piece in &pieces {
            for (what, form, fold) in forms {
                assert!(
                    !contains(piece, form, fold),
                    "secret {j} survives in the output ({what}{})",
                    if fold { ", any case" } else { "" }
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(case) = case(data) else {
        return;
    };
    let named: Vec<(&str, &[u8])> = case
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (NAMES[i], s.as_slice()))
        .collect();
    let redactor = Redactor::new(named);

    // 1. Streaming in random chunks = one-shot.
    let one_shot = redactor.redact_all(&case.haystack);
    let streamed = streamed(&redactor, &case.haystack, case.chunk_seed);
    assert!(
        streamed == one_shot,
        "streamed output differs from redact_all"
    );

    // 2. One-shot = the naive reference over the engine's patterns.
    let mut patterns = Vec::new();
    for (secret, value) in case.secrets.iter().enumerate() {
        for (bytes, fold, piece) in derived_patterns(value) {
            assert!(
                !piece,
                "a form of a value of at most 64 bytes was split into pieces"
            );
            patterns.push(Pattern {
                bytes: bytes.to_vec(),
                fold,
                secret,
            });
        }
    }
    assert!(
        one_shot == reference(&patterns, &case.haystack),
        "redact_all differs from the reference matcher"
    );

    // 3. No raw, case-folded, hex or base64 copy of a secret survives between markers.
    check_nothing_survives(&case.secrets, &one_shot);
});
