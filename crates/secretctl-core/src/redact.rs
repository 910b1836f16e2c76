//! Redaction of injected secret values from output (SPEC §6, "Redaction
//! (defence in depth)").
//!
//! This module owns the one streaming redaction engine shared by
//! `secretctl run` (child stdout and stderr), the MCP server's `secret_run`
//! and the `secretctl redact` filter. It turns the list of injected secrets
//! into byte patterns, finds them in arbitrary bytes (never assuming UTF-8)
//! and replaces every match with `[REDACTED:ENV_NAME]`.
//!
//! # What is matched
//!
//! For every value of at least [`MIN_SECRET_LEN`] bytes:
//!
//! * the raw bytes, and for values of at least [`CASE_INSENSITIVE_MIN_LEN`]
//!   bytes an ASCII case-insensitive match of them;
//! * base64 in the standard and URL-safe alphabets, padded or not, with the
//!   value starting at byte 0, 1 or 2 of a 3-byte group, so it is caught
//!   inside a longer encoding (`base64("user:" + value)`,
//!   `base64(value + "\n")`). Only the *stable core* is matched: the
//!   characters whose 6 bits all come from the value. When the value ends
//!   the encoding, the final partial character and the padding are matched
//!   too;
//! * hex, lower and upper case (so a `0x` prefix is covered as well);
//! * percent-encoding: RFC 3986 (upper and lower `%XX`), `+` for space
//!   (form encoding), JavaScript's `encodeURIComponent` set and
//!   "everything but alphanumerics";
//! * JSON string escaping as serde_json / `JSON.stringify` write it, plus
//!   the `\/`, upper-case `\u00XX`, HTML-safe (Go) and ASCII-only (Python)
//!   variants, for values that are valid UTF-8.
//!
//! Derived patterns shorter than 4 bytes are dropped. Forms longer than
//! 1 KiB are split into consecutive pieces of about 512 bytes, each of
//! which is a pattern of its own: a full occurrence is then replaced piece
//! by piece (adjacent markers of one secret collapse into one), the hold-back
//! window stays small even for 1 MiB values, and a partial print of a large
//! value is still mostly caught.
//!
//! # Matching and streaming
//!
//! Matches are chosen leftmost-longest over all patterns, so a short secret
//! can never claim the head of a longer one and leak its tail. Every
//! pattern is at least four bytes long, so the search tests each position's
//! next four bytes against a Bloom-style filter of pattern starts and walks
//! the Aho-Corasick tries (anchored) only where it passes; that runs several
//! times faster than stepping an automaton over every byte. If the walks
//! grow too costly (text repeating a long pattern prefix) the search falls
//! back to Aho-Corasick's linear-time unanchored search. A
//! [`StreamRedactor`] releases bytes as soon as no future input can turn
//! them into part of a match: it holds back only the longest suffix of the
//! pending data that is a proper prefix of some pattern, and never releases
//! held bytes because time passed. Streamed output is byte-for-byte what
//! [`Redactor::redact_all`] produces for the concatenated input.
//!
//! # Secret hygiene
//!
//! Derived patterns are built in [`Zeroizing`] buffers of exact size (so no
//! reallocation leaves a copy behind) and wiped once the automata are built;
//! held-back bytes are wiped when released or dropped. Nothing here logs,
//! and the `Debug` impls show counts only.
//!
//! # Known limitations
//!
//! * The automata built by `aho-corasick` keep the short patterns in their
//!   transition tables, which are not wiped on drop (pieces of long forms
//!   live in wiped buffers).
//! * Pieces of long forms have no linear-time fallback: output that keeps
//!   repeating a piece's prefix (a long value like `xxxx…` against a run of
//!   `x`) costs up to ~600 byte comparisons per position.
//! * Base64 wrapped across lines (MIME, PEM) and values with ANSI escapes or
//!   zero-width characters inserted between their characters are not
//!   matched.
//! * A secret that overlaps itself (e.g. `aaaa` inside `aaaaa`) is redacted
//!   once, leftmost, and the remaining bytes are printed; likewise
//!   back-to-back copies of a long periodic value can leave a remainder
//!   shorter than one piece.
//! * Back-to-back occurrences of one secret produce a single marker.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::{contiguous, noncontiguous};
use aho_corasick::{Anchored, Input, Match, MatchKind, PatternID};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use zeroize::{Zeroize, Zeroizing};

/// Values shorter than this many bytes are never matched: they would
/// redact large parts of ordinary output.
pub const MIN_SECRET_LEN: usize = 4;

/// Raw values at least this long are also matched ASCII
/// case-insensitively. Shorter values only match exactly, because folding
/// case on them would hit ordinary words.
pub const CASE_INSENSITIVE_MIN_LEN: usize = 8;

/// Derived patterns shorter than this are dropped.
const MIN_PATTERN_LEN: usize = 4;

/// Forms up to this length become a single pattern; longer ones are split.
const MAX_WHOLE_PATTERN_LEN: usize = 1024;

/// Target length of the pieces a long form is split into.
const PIECE_LEN: usize = 512;

/// A trailing piece shorter than this is merged into the previous one: a
/// tiny piece (say four hex digits) would match unrelated output.
const MIN_PIECE_LEN: usize = 64;

/// Read size used by [`copy_redacted`].
const COPY_CHUNK_LEN: usize = 64 * 1024;

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// The immutable redaction engine for one run: the patterns derived from
/// every injected secret, compiled into Aho-Corasick automata (pieces of
/// long forms into a sorted index) behind a filter of pattern starts.
///
/// Build it once with [`Redactor::new`], share it (it is `Send + Sync`) and
/// create one [`StreamRedactor`] per output stream.
pub struct Redactor {
    /// Patterns matched byte for byte.
    exact: Option<Engine>,
    /// Patterns matched ASCII case-insensitively (raw values of 8+ bytes).
    folded: Option<Engine>,
    /// Secret index of every pattern of `exact`, by pattern id.
    exact_owner: Vec<usize>,
    /// Secret index of every pattern of `folded`, by pattern id.
    folded_owner: Vec<usize>,
    /// Pieces of forms too long to be single patterns.
    pieces: Pieces,
    /// `[REDACTED:NAME]`, by secret index.
    markers: Vec<Box<[u8]>>,
    /// First four bytes of every pattern, to skip positions cheaply.
    filter: GramFilter,
    /// Longest pattern or piece; 0 when there are none.
    max_pattern_len: usize,
}

impl Redactor {
    /// Builds the redactor for `secrets`, given as `(env_name, value)`.
    ///
    /// Values shorter than [`MIN_SECRET_LEN`] bytes are accepted but never
    /// matched.
    ///
    /// # Panics
    ///
    /// Only if the patterns exceed what `aho-corasick` can represent at all
    /// (billions of automaton states), far beyond the 1 MiB-per-value limit
    /// of the product.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Redactor {
        let mut markers = Vec::new();
        let mut exact = Vec::new();
        let mut exact_owner = Vec::new();
        let mut folded = Vec::new();
        let mut folded_owner = Vec::new();
        let mut grams = Vec::new();
        let mut pieces = Vec::new();
        for (index, (name, value)) in secrets.into_iter().enumerate() {
            markers.push(format!("[REDACTED:{name}]").into_bytes().into_boxed_slice());
            for form in forms_of(value) {
                start_grams(&form.bytes, form.fold_case, &mut grams);
                if form.piece {
                    pieces.push(Piece {
                        bytes: form.bytes,
                        fold_case: form.fold_case,
                        secret: index,
                    });
                } else if form.fold_case {
                    folded.push(form.bytes);
                    folded_owner.push(index);
                } else {
                    exact.push(form.bytes);
                    exact_owner.push(index);
                }
            }
        }
        // `exact` and `folded` are Zeroizing buffers: they are wiped when
        // they go out of scope right after the automata are built.
        let exact = Engine::build(&exact, false);
        let folded = Engine::build(&folded, true);
        let pieces = Pieces::new(pieces);
        let max_pattern_len = [&exact, &folded]
            .into_iter()
            .flatten()
            .map(Engine::max_pattern_len)
            .chain([pieces.max_len])
            .max()
            .unwrap_or(0);
        Redactor {
            exact,
            folded,
            exact_owner,
            folded_owner,
            pieces,
            markers,
            filter: GramFilter::new(&grams),
            max_pattern_len,
        }
    }

    /// Number of patterns derived from all secrets (raw and encoded forms,
    /// long forms counted per piece).
    pub fn pattern_count(&self) -> usize {
        self.exact_owner.len() + self.folded_owner.len() + self.pieces.len()
    }

    /// Length of the longest pattern. A stream never holds back more than
    /// this minus one bytes.
    pub fn max_pattern_len(&self) -> usize {
        self.max_pattern_len
    }

    /// Starts redacting one stream (e.g. a child's stdout) borrowing this
    /// redactor.
    pub fn stream(&self) -> StreamRedactor<'_> {
        StreamRedactor {
            redactor: self,
            state: StreamState::new(self),
        }
    }

    /// Starts redacting one stream, owning a handle to this redactor so the
    /// stream can move into a reader thread.
    pub fn stream_owned(self: &Arc<Self>) -> OwnedStreamRedactor {
        OwnedStreamRedactor {
            state: StreamState::new(self),
            redactor: Arc::clone(self),
        }
    }

    /// Redacts a whole buffer at once. This is the reference behaviour the
    /// streaming path reproduces exactly.
    pub fn redact_all(&self, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        self.run(input, true, &mut Emitter::default(), &mut out);
        out
    }

    /// Redacts `hay` into `out` and returns the index where held-back bytes
    /// start (`hay.len()` at EOF).
    ///
    /// Everything released before the returned index is final whatever
    /// input follows: a match is taken only if it starts before the hold
    /// boundary, and every position before that boundary can neither start
    /// a longer match reaching past `hay` (it is not a proper pattern prefix)
    /// nor start a match at all if the search found none there.
    fn run(&self, hay: &[u8], at_eof: bool, emit: &mut Emitter, out: &mut Vec<u8>) -> usize {
        let mut scan = Scan::new(self, hay);
        let mut pos = 0;
        // The hold boundary found for some earlier `pos` stays valid while
        // `pos` has not passed it, so it is only recomputed when a match
        // ends beyond it.
        let mut hold: Option<usize> = None;
        loop {
            let hit = scan.next_hit(pos);
            let boundary = if at_eof {
                hay.len()
            } else {
                match hold {
                    Some(h) if h >= pos => h,
                    _ => {
                        let h = self.hold_start(hay, pos);
                        hold = Some(h);
                        h
                    }
                }
            };
            match hit {
                Some(hit) if hit.start < boundary => {
                    emit.literal(&hay[pos..hit.start], out);
                    emit.marker(hit.secret, &self.markers, out);
                    pos = hit.end;
                }
                _ => {
                    emit.literal(&hay[pos..boundary], out);
                    return boundary;
                }
            }
        }
    }

    /// Start of the longest suffix of `hay[from..]` that is a proper prefix
    /// of some pattern, or `hay.len()` if there is none.
    fn hold_start(&self, hay: &[u8], from: usize) -> usize {
        if self.max_pattern_len == 0 {
            return hay.len();
        }
        // A suffix as long as the longest pattern cannot be a proper prefix.
        let lowest = from.max(hay.len().saturating_sub(self.max_pattern_len - 1));
        // Text repeating a long pattern prefix could make these walks
        // quadratic in the pattern length; past the budget the current
        // candidate is held, which only holds more than strictly needed.
        let mut budget = 4 * self.max_pattern_len + 64;
        (lowest..hay.len())
            .find(|&start| {
                let tail = &hay[start..];
                if tail.len() >= MIN_PATTERN_LEN && !self.filter.may_start(tail) {
                    return false;
                }
                [&self.exact, &self.folded]
                    .into_iter()
                    .flatten()
                    .any(|engine| engine.is_proper_prefix(tail, &mut budget))
                    || self.pieces.is_proper_prefix(tail, &mut budget)
            })
            .unwrap_or(hay.len())
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: patterns are secret material.
        f.debug_struct("Redactor")
            .field("secrets", &self.markers.len())
            .field("patterns", &self.pattern_count())
            .field("max_pattern_len", &self.max_pattern_len)
            .finish_non_exhaustive()
    }
}

/// Redacts one stream incrementally, borrowing its [`Redactor`].
///
/// Feed it with [`push`](Self::push) as output arrives and call
/// [`finish`](Self::finish) at EOF. After `finish` it can be reused for a
/// new stream.
pub struct StreamRedactor<'a> {
    redactor: &'a Redactor,
    state: StreamState,
}

impl StreamRedactor<'_> {
    /// Redacts `chunk` and appends to `out` every byte that can no longer be
    /// part of a match. Bytes that might still start a secret are held
    /// until more input (or [`finish`](Self::finish)) decides them.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.state.push(self.redactor, chunk, out);
    }

    /// Ends the stream: redacts any complete match among the held bytes and
    /// releases the rest.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.state.finish(self.redactor, out);
    }

    /// Number of bytes currently held back.
    pub fn held(&self) -> usize {
        self.state.pending.len()
    }
}

impl fmt::Debug for StreamRedactor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamRedactor")
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

/// Like [`StreamRedactor`] but owning an `Arc` of its [`Redactor`], so it is
/// `'static` and can move into a reader thread.
pub struct OwnedStreamRedactor {
    redactor: Arc<Redactor>,
    state: StreamState,
}

impl OwnedStreamRedactor {
    /// See [`StreamRedactor::push`].
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.state.push(&self.redactor, chunk, out);
    }

    /// See [`StreamRedactor::finish`].
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.state.finish(&self.redactor, out);
    }

    /// See [`StreamRedactor::held`].
    pub fn held(&self) -> usize {
        self.state.pending.len()
    }
}

impl fmt::Debug for OwnedStreamRedactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedStreamRedactor")
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}

/// Copies `reader` to `writer` through a [`StreamRedactor`], reading up to
/// 64 KiB at a time and writing and flushing whatever is released after
/// every read, so interactive prompts show up immediately. Returns the
/// number of bytes written.
///
/// On an error the bytes still held back are dropped (and wiped), not
/// written.
pub fn copy_redacted(
    r: &Redactor,
    mut reader: impl Read,
    mut writer: impl Write,
) -> io::Result<u64> {
    let mut stream = r.stream();
    // The read buffer carries unredacted output, secrets included.
    let mut buf = Zeroizing::new(vec![0u8; COPY_CHUNK_LEN]);
    let mut out = Vec::with_capacity(COPY_CHUNK_LEN + 256);
    let mut written = 0u64;
    loop {
        let n = match reader.read(&mut buf[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        stream.push(&buf[..n], &mut out);
        written += write_out(&mut writer, &mut out)?;
    }
    stream.finish(&mut out);
    written += write_out(&mut writer, &mut out)?;
    Ok(written)
}

fn write_out(writer: &mut impl Write, out: &mut Vec<u8>) -> io::Result<u64> {
    if out.is_empty() {
        return Ok(0);
    }
    writer.write_all(out)?;
    writer.flush()?;
    let n = out.len() as u64;
    out.clear();
    Ok(n)
}

/// Per-stream state shared by the borrowed and owned stream types.
struct StreamState {
    /// Held-back bytes: possibly the start of a secret, hence wiped.
    pending: Zeroizing<Vec<u8>>,
    emit: Emitter,
}

impl StreamState {
    fn new(r: &Redactor) -> StreamState {
        // Held bytes never exceed max_pattern_len - 1 and at most
        // max_pattern_len more are appended to them, so this capacity is
        // never outgrown and the buffer never reallocates.
        StreamState {
            pending: Zeroizing::new(Vec::with_capacity(2 * r.max_pattern_len)),
            emit: Emitter::default(),
        }
    }

    fn push(&mut self, r: &Redactor, chunk: &[u8], out: &mut Vec<u8>) {
        if r.max_pattern_len == 0 {
            self.emit.literal(chunk, out);
            return;
        }
        let mut rest = chunk;
        if !self.pending.is_empty() {
            // Held bytes are a proper prefix of a pattern, so only the next
            // max_pattern_len bytes can take part in a match starting
            // among them; the rest of the chunk is searched in place
            // instead of being copied behind them.
            let take = rest.len().min(r.max_pattern_len);
            let old_len = self.pending.len();
            append_wiping(&mut self.pending, &rest[..take]);
            let held_from = r.run(&self.pending, false, &mut self.emit, out);
            match held_from.checked_sub(old_len) {
                Some(resume) if take < rest.len() => {
                    // The old held bytes are settled: continue in the chunk.
                    self.keep_from(self.pending.len());
                    rest = &chunk[resume..];
                }
                _ if take == rest.len() => {
                    self.keep_from(held_from);
                    return;
                }
                _ => {
                    // Not reachable (a hold is shorter than the bytes
                    // appended), but if it were, falling back to the whole
                    // chunk keeps the output correct.
                    append_wiping(&mut self.pending, &rest[take..]);
                    let held_from = r.run(&self.pending, false, &mut self.emit, out);
                    self.keep_from(held_from);
                    return;
                }
            }
        }
        let held_from = r.run(rest, false, &mut self.emit, out);
        append_wiping(&mut self.pending, &rest[held_from..]);
    }

    fn finish(&mut self, r: &Redactor, out: &mut Vec<u8>) {
        // At EOF nothing can be completed any more, but a held prefix may
        // itself be a complete (shorter) pattern.
        r.run(&self.pending, true, &mut self.emit, out);
        self.keep_from(self.pending.len());
        self.emit = Emitter::default();
    }

    /// Drops `pending[..start]`, keeping the rest at the front and wiping
    /// the vacated tail.
    fn keep_from(&mut self, start: usize) {
        let len = self.pending.len();
        self.pending.copy_within(start..len, 0);
        let kept = len - start;
        self.pending[kept..].zeroize();
        self.pending.truncate(kept);
    }
}

/// Appends to a wiped buffer without letting `Vec` reallocate on its own,
/// which would free the old allocation unwiped.
fn append_wiping(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(2 * buf.capacity())));
        bigger.extend_from_slice(buf);
        // The old buffer is wiped as it is dropped here.
        *buf = bigger;
    }
    buf.extend_from_slice(bytes);
}

/// Writes output, collapsing back-to-back markers of one secret (e.g. the
/// pieces of a long value) into one.
#[derive(Default)]
struct Emitter {
    last_marker: Option<usize>,
}

impl Emitter {
    fn literal(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        if !bytes.is_empty() {
            out.extend_from_slice(bytes);
            self.last_marker = None;
        }
    }

    fn marker(&mut self, secret: usize, markers: &[Box<[u8]>], out: &mut Vec<u8>) {
        if self.last_marker != Some(secret) {
            out.extend_from_slice(&markers[secret]);
            self.last_marker = Some(secret);
        }
    }
}

/// One compiled automaton: a leftmost-longest Aho-Corasick NFA over one
/// group of patterns, used for anchored walks (the usual path) and for
/// unanchored searches (the fallback).
enum Engine {
    Contiguous(contiguous::NFA),
    Noncontiguous(noncontiguous::NFA),
}

impl Engine {
    fn build(patterns: &[Zeroizing<Vec<u8>>], fold_case: bool) -> Option<Engine> {
        if patterns.is_empty() {
            return None;
        }
        let pats = || patterns.iter().map(|p| &p[..]);
        let built = contiguous::Builder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(fold_case)
            .build(pats());
        if let Ok(aut) = built {
            return Some(Engine::Contiguous(aut));
        }
        // The contiguous NFA has tighter size limits than the
        // noncontiguous one.
        let aut = noncontiguous::Builder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(fold_case)
            .build(pats())
            .expect("secret patterns exceed the automaton size limits");
        Some(Engine::Noncontiguous(aut))
    }

    fn max_pattern_len(&self) -> usize {
        match self {
            Engine::Contiguous(a) => a.max_pattern_len(),
            Engine::Noncontiguous(a) => a.max_pattern_len(),
        }
    }

    /// Leftmost-longest match in `hay[from..]` (linear time).
    fn find(&self, hay: &[u8], from: usize) -> Option<Match> {
        let input = Input::new(hay).span(from..hay.len());
        // NFAs always support unanchored search, the only way this can fail.
        let found = match self {
            Engine::Contiguous(a) => a.try_find(&input),
            Engine::Noncontiguous(a) => a.try_find(&input),
        };
        found.expect("NFAs support unanchored search")
    }

    /// Longest pattern starting exactly at `hay[at]`, as (end, pattern).
    fn longest_at(&self, hay: &[u8], at: usize, walked: &mut usize) -> Option<(usize, PatternID)> {
        match self {
            Engine::Contiguous(a) => longest_at(a, hay, at, walked),
            Engine::Noncontiguous(a) => longest_at(a, hay, at, walked),
        }
    }

    /// Whether `tail` is a proper prefix of some pattern; `true` as well
    /// once `budget` steps are used up, which only makes the caller hold
    /// more than necessary.
    fn is_proper_prefix(&self, tail: &[u8], budget: &mut usize) -> bool {
        match self {
            Engine::Contiguous(a) => is_proper_prefix(a, tail, budget),
            Engine::Noncontiguous(a) => is_proper_prefix(a, tail, budget),
        }
    }
}

/// Walks the trie from the anchored start (no failure transitions) along
/// `hay[at..]` and remembers the deepest pattern end.
fn longest_at<A: Automaton>(
    aut: &A,
    hay: &[u8],
    at: usize,
    walked: &mut usize,
) -> Option<(usize, PatternID)> {
    let mut sid = aut.start_state(Anchored::Yes).ok()?;
    let mut best = None;
    for (depth, &byte) in (1..).zip(&hay[at..]) {
        *walked += 1;
        sid = aut.next_state(Anchored::Yes, sid, byte);
        if aut.is_dead(sid) {
            break;
        }
        if aut.is_match(sid) {
            // A state that is not itself a pattern end may carry shorter
            // patterns copied along failure links: those start after `at`.
            // A state's own pattern comes first in its list.
            let pid = aut.match_pattern(sid, 0);
            if aut.pattern_len(pid) == depth {
                best = Some((at + depth, pid));
            }
        }
    }
    best
}

fn is_proper_prefix<A: Automaton>(aut: &A, tail: &[u8], budget: &mut usize) -> bool {
    let Ok(mut sid) = aut.start_state(Anchored::Yes) else {
        // Unreachable: NFAs support anchored search. Holding is safe.
        return true;
    };
    for &byte in tail {
        if *budget == 0 {
            return true;
        }
        *budget -= 1;
        sid = aut.next_state(Anchored::Yes, sid, byte);
        if aut.is_dead(sid) {
            return false;
        }
    }
    (0..=u8::MAX).any(|byte| !aut.is_dead(aut.next_state(Anchored::Yes, sid, byte)))
}

/// A set of the first four bytes of every pattern (all case variants for
/// folded ones), as a one-hash Bloom filter.
///
/// Every pattern is at least four bytes long, so a match can only start
/// where the next four bytes pass this filter. Testing it costs a load, a
/// multiply and a bit test per position, with no dependency between
/// positions, whereas stepping an automaton over ~2,000 patterns chains a
/// cache-missing load per byte and ran at ~150 MB/s, DFA or not.
struct GramFilter {
    bits: Zeroizing<Vec<u64>>,
    shift: u32,
}

impl GramFilter {
    fn new(grams: &[[u8; MIN_PATTERN_LEN]]) -> GramFilter {
        // About 256 bits per entry keeps false positives (each costing a
        // mispredicted branch and a trie walk) near 0.4%, while ~2,000
        // patterns still fit a 128 KiB table in L2.
        let bit_count = (grams.len() * 256)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 26);
        let mut filter = GramFilter {
            bits: Zeroizing::new(vec![0; bit_count / 64]),
            shift: 32 - bit_count.trailing_zeros(),
        };
        for gram in grams {
            let h = filter.slot(gram);
            filter.bits[h / 64] |= 1 << (h % 64);
        }
        filter
    }

    #[inline]
    fn slot(&self, gram: &[u8; MIN_PATTERN_LEN]) -> usize {
        slot(u32::from_le_bytes(*gram), self.shift)
    }

    /// Whether a pattern may start with the first four bytes of `window`.
    fn may_start(&self, window: &[u8]) -> bool {
        let h = slot(
            u32::from_le_bytes([window[0], window[1], window[2], window[3]]),
            self.shift,
        );
        self.bits[h / 64] & (1 << (h % 64)) != 0
    }

    /// First position at or after `from` where a pattern may start and fit
    /// in `hay`.
    ///
    /// This loop is where nearly all the time goes. Tests at successive
    /// positions do not depend on each other, so the CPU overlaps them; an
    /// automaton step instead waits for the previous one's load.
    #[inline]
    fn next_candidate(&self, hay: &[u8], from: usize) -> Option<usize> {
        let last = hay.len().checked_sub(MIN_PATTERN_LEN)?;
        let (bits, shift) = (&self.bits[..], self.shift);
        let mut at = from;
        while at <= last {
            let w = &hay[at..at + MIN_PATTERN_LEN];
            let h = slot(u32::from_le_bytes([w[0], w[1], w[2], w[3]]), shift);
            if bits[h / 64] & (1 << (h % 64)) != 0 {
                return Some(at);
            }
            at += 1;
        }
        None
    }
}

/// Multiplicative hashing: the top bits mix all four bytes.
#[inline]
fn slot(gram: u32, shift: u32) -> usize {
    (gram.wrapping_mul(0x9e37_79b1) >> shift) as usize
}

/// The 4-byte grams a pattern can start with: its first four bytes, and
/// for a case-folded pattern every ASCII case variant of them.
fn start_grams(pattern: &[u8], fold_case: bool, out: &mut Vec<[u8; MIN_PATTERN_LEN]>) {
    let gram = [pattern[0], pattern[1], pattern[2], pattern[3]];
    if !fold_case {
        out.push(gram);
        return;
    }
    for flips in 0..16u8 {
        let mut variant = gram;
        for (i, b) in variant.iter_mut().enumerate() {
            if flips & (1 << i) != 0 && b.is_ascii_alphabetic() {
                *b ^= 0x20;
            }
        }
        out.push(variant);
    }
}

/// Pieces of long forms, found through a sorted index of their first four
/// bytes and compared directly.
///
/// An automaton over a 1 MiB value's forms (~60,000 pieces, ~30 million
/// states) took half a minute and over a gigabyte to build; this index
/// costs the piece bytes plus 8 bytes a piece.
#[derive(Default)]
struct Pieces {
    pieces: Vec<Piece>,
    /// `(first four bytes, index into pieces)`, sorted, for exact pieces.
    exact: Vec<([u8; MIN_PATTERN_LEN], usize)>,
    /// The same for case-folded pieces, keyed by their lower-cased bytes.
    folded: Vec<([u8; MIN_PATTERN_LEN], usize)>,
    max_len: usize,
}

struct Piece {
    bytes: Zeroizing<Vec<u8>>,
    fold_case: bool,
    secret: usize,
}

impl Piece {
    fn matches(&self, text: &[u8]) -> bool {
        if self.fold_case {
            self.bytes[..text.len()].eq_ignore_ascii_case(text)
        } else {
            self.bytes[..text.len()] == *text
        }
    }
}

impl Pieces {
    fn new(pieces: Vec<Piece>) -> Pieces {
        let mut index = Pieces::default();
        for (i, piece) in pieces.iter().enumerate() {
            let key = [
                piece.bytes[0],
                piece.bytes[1],
                piece.bytes[2],
                piece.bytes[3],
            ];
            if piece.fold_case {
                index.folded.push((key.map(|b| b.to_ascii_lowercase()), i));
            } else {
                index.exact.push((key, i));
            }
            index.max_len = index.max_len.max(piece.bytes.len());
        }
        index.exact.sort_unstable();
        index.folded.sort_unstable();
        index.pieces = pieces;
        index
    }

    fn len(&self) -> usize {
        self.pieces.len()
    }

    /// Pieces whose first bytes are `prefix` (at most four bytes), exact
    /// ones first.
    fn starting_with(&self, prefix: &[u8]) -> impl Iterator<Item = &Piece> {
        let mut lower = [0u8; MIN_PATTERN_LEN];
        let lower = &mut lower[..prefix.len()];
        lower.copy_from_slice(prefix);
        lower.make_ascii_lowercase();
        let exact = key_range(&self.exact, prefix);
        let folded = key_range(&self.folded, lower);
        exact.iter().chain(folded).map(|&(_, i)| &self.pieces[i])
    }

    /// Longest piece at `hay[at..]`, as (end, secret).
    fn longest_at(&self, hay: &[u8], at: usize, walked: &mut usize) -> Option<(usize, usize)> {
        let key = hay.get(at..at + MIN_PATTERN_LEN)?;
        let mut best: Option<(usize, usize)> = None;
        for piece in self.starting_with(key) {
            let Some(text) = hay.get(at..at + piece.bytes.len()) else {
                continue;
            };
            *walked += text.len();
            if piece.matches(text) && best.is_none_or(|(end, _)| at + text.len() > end) {
                best = Some((at + text.len(), piece.secret));
            }
        }
        best
    }

    fn is_proper_prefix(&self, tail: &[u8], budget: &mut usize) -> bool {
        let key = &tail[..tail.len().min(MIN_PATTERN_LEN)];
        self.starting_with(key).any(|piece| {
            if *budget < tail.len() {
                return true;
            }
            *budget -= tail.len();
            piece.bytes.len() > tail.len() && piece.matches(tail)
        })
    }
}

/// Entries of a sorted key list whose keys start with `prefix`.
fn key_range<'a>(
    keys: &'a [([u8; MIN_PATTERN_LEN], usize)],
    prefix: &[u8],
) -> &'a [([u8; MIN_PATTERN_LEN], usize)] {
    let n = prefix.len();
    let lo = keys.partition_point(|(key, _)| key[..n] < *prefix);
    let hi = lo + keys[lo..].partition_point(|(key, _)| key[..n] == *prefix);
    &keys[lo..hi]
}

/// A match: `hay[start..end]` is a form of secret number `secret`.
#[derive(Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    secret: usize,
}

impl Hit {
    /// Leftmost-longest order; on a full tie the earlier source wins.
    fn better(self, other: Option<Hit>) -> bool {
        other.is_none_or(|o| self.start < o.start || (self.start == o.start && self.end > o.end))
    }
}

/// What is known about one source's next match in the current haystack.
#[derive(Clone, Copy)]
enum Next {
    Unknown,
    None,
    At(Hit),
}

impl Next {
    /// The cached match if still valid at `pos`, else `find()`'s. A source's
    /// leftmost-longest match found from an earlier position is still its
    /// leftmost-longest for any later position not past its start.
    fn get(&mut self, pos: usize, find: impl FnOnce() -> Option<Hit>) -> Option<Hit> {
        match *self {
            Next::At(hit) if hit.start >= pos => return Some(hit),
            Next::None => return None,
            _ => {}
        }
        let found = find();
        *self = found.map_or(Next::None, Next::At);
        found
    }
}

/// Trie steps allowed per scanned byte (plus a fixed slack) before a scan
/// gives up on filtered walks for the rest of its haystack.
const WALK_STEPS_PER_BYTE: usize = 16;
const WALK_STEPS_SLACK: usize = 8192;

/// Leftmost-longest search over all patterns within one haystack.
///
/// The usual path tests each position against the [`GramFilter`] and
/// checks only where it passes: the first position with a match is the
/// leftmost one, and the deepest pattern end there is the longest. A check
/// costs up to the pattern length, so text that keeps repeating a long
/// pattern prefix could make this quadratic; once checking exceeds its
/// budget the scan switches to the automata's own linear-time unanchored
/// search (pieces, at most ~600 bytes, keep the filtered path).
struct Scan<'r, 'h> {
    redactor: &'r Redactor,
    hay: &'h [u8],
    walked: usize,
    /// Set once the scan fell back to unanchored search: the next match
    /// of the exact automaton, the folded one and the pieces.
    fallback: Option<[Next; 3]>,
}

impl<'r, 'h> Scan<'r, 'h> {
    fn new(redactor: &'r Redactor, hay: &'h [u8]) -> Self {
        Scan {
            redactor,
            hay,
            walked: 0,
            fallback: if force_fallback() {
                Some([Next::Unknown; 3])
            } else {
                None
            },
        }
    }

    fn next_hit(&mut self, pos: usize) -> Option<Hit> {
        if self.fallback.is_some() {
            return self.next_fallback(pos);
        }
        let mut from = pos;
        while let Some(at) = self.redactor.filter.next_candidate(self.hay, from) {
            if let Some(hit) = self.longest_at(at, true) {
                return Some(hit);
            }
            if self.walked > WALK_STEPS_PER_BYTE * at + WALK_STEPS_SLACK {
                self.fallback = Some([Next::Unknown; 3]);
                return self.next_fallback(at + 1);
            }
            from = at + 1;
        }
        None
    }

    /// Longest match starting at `at`, of the pieces and (if `automata`)
    /// of both automata.
    fn longest_at(&mut self, at: usize, automata: bool) -> Option<Hit> {
        let r = self.redactor;
        let mut best: Option<Hit> = None;
        let mut consider = |found: Option<(usize, usize)>| {
            if let Some((end, secret)) = found {
                let hit = Hit {
                    start: at,
                    end,
                    secret,
                };
                if hit.better(best) {
                    best = Some(hit);
                }
            }
        };
        if automata {
            for (engine, owner) in [(&r.exact, &r.exact_owner), (&r.folded, &r.folded_owner)] {
                if let Some(engine) = engine {
                    let found = engine.longest_at(self.hay, at, &mut self.walked);
                    consider(found.map(|(end, pid)| (end, owner[pid.as_usize()])));
                }
            }
        }
        consider(r.pieces.longest_at(self.hay, at, &mut self.walked));
        best
    }

    fn next_fallback(&mut self, pos: usize) -> Option<Hit> {
        let r = self.redactor;
        let hay = self.hay;
        let mut nexts = self.fallback?;
        let [exact, folded, pieces] = &mut nexts;
        let from_engine = |engine: &Option<Engine>, owner: &[usize]| {
            let m = engine.as_ref()?.find(hay, pos)?;
            Some(Hit {
                start: m.start(),
                end: m.end(),
                secret: owner[m.pattern().as_usize()],
            })
        };
        let candidates = [
            exact.get(pos, || from_engine(&r.exact, &r.exact_owner)),
            folded.get(pos, || from_engine(&r.folded, &r.folded_owner)),
            pieces.get(pos, || self.next_piece(pos)),
        ];
        self.fallback = Some(nexts);
        candidates.into_iter().flatten().fold(
            None,
            |best, hit| if hit.better(best) { Some(hit) } else { best },
        )
    }

    fn next_piece(&mut self, pos: usize) -> Option<Hit> {
        if self.redactor.pieces.len() == 0 {
            return None;
        }
        let mut from = pos;
        while let Some(at) = self.redactor.filter.next_candidate(self.hay, from) {
            if let Some(hit) = self.longest_at(at, false) {
                return Some(hit);
            }
            from = at + 1;
        }
        None
    }
}

#[cfg(not(test))]
fn force_fallback() -> bool {
    false
}

#[cfg(test)]
thread_local! {
    /// Lets tests run the fallback search on its own.
    static FORCE_FALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn force_fallback() -> bool {
    FORCE_FALLBACK.with(|f| f.get())
}

/// The patterns [`Redactor::new`] derives from one value, as `(bytes, ascii_case_insensitive,
/// piece)`. Public only for the differential fuzz target in `fuzz/`, whose naive reference
/// matcher runs over exactly these patterns (docs/fuzzing.md). Not part of the API: hidden, and
/// free to change.
#[doc(hidden)]
pub fn derived_patterns(value: &[u8]) -> Vec<(Zeroizing<Vec<u8>>, bool, bool)> {
    forms_of(value)
        .into_iter()
        .map(|form| (form.bytes, form.fold_case, form.piece))
        .collect()
}

/// One derived pattern of a secret.
struct Form {
    bytes: Zeroizing<Vec<u8>>,
    fold_case: bool,
    /// A piece of a long form rather than a whole one.
    piece: bool,
}

/// Every pattern for one value: all encodings, long ones split into
/// pieces, short ones dropped, duplicates removed.
fn forms_of(value: &[u8]) -> Vec<Form> {
    let mut forms = Vec::new();
    if value.len() < MIN_SECRET_LEN {
        return forms;
    }
    // Without ASCII letters folding changes nothing: such values stay exact
    // and add no case variants to the filter.
    let fold = value.len() >= CASE_INSENSITIVE_MIN_LEN && value.iter().any(u8::is_ascii_alphabetic);
    add_pieces(&mut forms, Zeroizing::new(value.to_vec()), fold);

    let mut encoded = Vec::new();
    base64_forms(value, &mut encoded);
    encoded.push(hex(value, HEX_LOWER));
    encoded.push(hex(value, HEX_UPPER));
    url_forms(value, &mut encoded);
    if let Ok(text) = std::str::from_utf8(value) {
        json_forms(text, &mut encoded);
    }
    for form in encoded {
        add_pieces(&mut forms, form, false);
    }

    // Sort folded before exact so that, of two equal patterns, the folded
    // one (which matches a superset) is kept.
    forms.sort_by(|a, b| a.bytes.cmp(&b.bytes).then(b.fold_case.cmp(&a.fold_case)));
    forms.dedup_by(|later, kept| later.bytes == kept.bytes);
    forms
}

/// Adds `form` as one pattern, or as consecutive pieces if it is long. The
/// pieces tile the form exactly, so a full occurrence is matched piece
/// after piece without gaps.
fn add_pieces(forms: &mut Vec<Form>, form: Zeroizing<Vec<u8>>, fold_case: bool) {
    if form.len() < MIN_PATTERN_LEN {
        return;
    }
    if form.len() <= MAX_WHOLE_PATTERN_LEN {
        forms.push(Form {
            bytes: form,
            fold_case,
            piece: false,
        });
        return;
    }
    let mut start = 0;
    while start < form.len() {
        let mut end = (start + PIECE_LEN).min(form.len());
        if form.len() - end < MIN_PIECE_LEN {
            end = form.len();
        }
        forms.push(Form {
            bytes: Zeroizing::new(form[start..end].to_vec()),
            fold_case,
            piece: true,
        });
        start = end;
    }
}

/// Stable base64 cores of `value` for both alphabets and all three
/// alignments.
///
/// The value is encoded behind `lead` zero bytes (lead = 0, 1, 2 is its
/// offset inside a 3-byte group of the surrounding encoding). Character `i`
/// carries bits `6i..6i+6` of the stream and the value occupies bits
/// `8*lead..8*(lead+len)`, so the characters that depend on the value alone
/// run from `ceil(8*lead/6)` to `floor(8*(lead+len)/6)`. That core is a
/// substring of every encoding containing the value at that alignment,
/// padded or not. If the value ends the encoding, its last partial
/// character (value bits plus zero fill) and the `=` padding are fixed
/// too, so `core + partial` and `core + partial + padding` are added.
fn base64_forms(value: &[u8], out: &mut Vec<Zeroizing<Vec<u8>>>) {
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for lead in 0..3 {
            let mut shifted = Zeroizing::new(Vec::with_capacity(lead + value.len()));
            shifted.resize(lead, 0);
            shifted.extend_from_slice(value);
            let Some(encoded_len) = base64::encoded_len(shifted.len(), false) else {
                continue;
            };
            let mut encoded = Zeroizing::new(vec![0u8; encoded_len]);
            if engine.encode_slice(&shifted[..], &mut encoded[..]).is_err() {
                continue;
            }
            let first = (8 * lead).div_ceil(6);
            let full_end = 8 * shifted.len() / 6;
            out.push(Zeroizing::new(encoded[first..full_end].to_vec()));
            if full_end < encoded.len() {
                out.push(Zeroizing::new(encoded[first..].to_vec()));
                let padding = 3 - shifted.len() % 3;
                let mut padded =
                    Zeroizing::new(Vec::with_capacity(encoded.len() - first + padding));
                padded.extend_from_slice(&encoded[first..]);
                let padded_len = padded.len() + padding;
                padded.resize(padded_len, b'=');
                out.push(padded);
            }
        }
    }
}

fn hex(value: &[u8], digits: &[u8; 16]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(2 * value.len()));
    for &b in value {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 0xf)]);
    }
    out
}

/// Builds a secret-bearing byte string of unknown length without a
/// reallocation (which would free an unwiped copy): `write` runs once to
/// measure and once to fill an exactly sized buffer.
fn build_exact(write: impl Fn(&mut dyn FnMut(&[u8]))) -> Zeroizing<Vec<u8>> {
    let mut len = 0;
    write(&mut |bytes: &[u8]| len += bytes.len());
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    write(&mut |bytes: &[u8]| out.extend_from_slice(bytes));
    out
}

/// Percent-encodings of `value`. Most variants coincide for typical values
/// and are removed again by deduplication.
fn url_forms(value: &[u8], out: &mut Vec<Zeroizing<Vec<u8>>>) {
    // RFC 3986 unreserved characters stay literal.
    fn unreserved(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    }
    // What JavaScript's encodeURIComponent leaves alone.
    fn component(b: u8) -> bool {
        unreserved(b) || matches!(b, b'!' | b'*' | b'\'' | b'(' | b')')
    }
    // application/x-www-form-urlencoded (WHATWG).
    fn form(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
    }
    fn alphanumeric(b: u8) -> bool {
        b.is_ascii_alphanumeric()
    }
    /// Which bytes stay literal, the hex digits, and `+` for space.
    type UrlStyle = (fn(u8) -> bool, &'static [u8; 16], bool);
    let variants: [UrlStyle; 7] = [
        (unreserved, HEX_UPPER, false),
        (unreserved, HEX_LOWER, false),
        (unreserved, HEX_UPPER, true),
        (component, HEX_UPPER, false),
        (form, HEX_UPPER, true),
        (alphanumeric, HEX_UPPER, false),
        (alphanumeric, HEX_LOWER, false),
    ];
    for (keep, digits, plus_for_space) in variants {
        out.push(build_exact(|sink| {
            for &b in value {
                if keep(b) {
                    sink(&[b]);
                } else if plus_for_space && b == b' ' {
                    sink(b"+");
                } else {
                    sink(&[
                        b'%',
                        digits[usize::from(b >> 4)],
                        digits[usize::from(b & 0xf)],
                    ]);
                }
            }
        }));
    }
}

/// How a JSON encoder escapes a string.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// `/` as `\/` (PHP, some Java encoders).
    slash: bool,
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX` (Go's default).
    html_safe: bool,
    /// Every non-ASCII character (and DEL) as `\uXXXX`, surrogate pairs
    /// beyond the BMP (Python's default).
    ascii_only: bool,
    digits: &'static [u8; 16],
}

/// JSON string escapings of `text` (without the quotes).
fn json_forms(text: &str, out: &mut Vec<Zeroizing<Vec<u8>>>) {
    for digits in [HEX_LOWER, HEX_UPPER] {
        for (slash, html_safe, ascii_only) in [
            (false, false, false),
            (true, false, false),
            (false, true, false),
            (false, false, true),
        ] {
            let style = JsonStyle {
                slash,
                html_safe,
                ascii_only,
                digits,
            };
            out.push(build_exact(|sink| json_escape(text, style, sink)));
        }
    }
}

fn json_escape(text: &str, style: JsonStyle, sink: &mut dyn FnMut(&[u8])) {
    let unicode = |sink: &mut dyn FnMut(&[u8]), unit: u16| {
        let d = style.digits;
        let [hi, lo] = unit.to_be_bytes();
        sink(&[
            b'\\',
            b'u',
            d[usize::from(hi >> 4)],
            d[usize::from(hi & 0xf)],
            d[usize::from(lo >> 4)],
            d[usize::from(lo & 0xf)],
        ]);
    };
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        match c {
            '"' => sink(b"\\\""),
            '\\' => sink(b"\\\\"),
            '\n' => sink(b"\\n"),
            '\r' => sink(b"\\r"),
            '\t' => sink(b"\\t"),
            '\u{8}' => sink(b"\\b"),
            '\u{c}' => sink(b"\\f"),
            '/' if style.slash => sink(b"\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html_safe => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    unicode(sink, unit);
                }
            }
            // Python's ASCII-only mode escapes everything outside ' '..='~', DEL included.
            c if u32::from(c) < 0x20 || (style.ascii_only && (!c.is_ascii() || c == '\u{7f}')) => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    unicode(sink, unit);
                }
            }
            c => sink(c.encode_utf8(&mut utf8).as_bytes()),
        }
    }
    utf8.zeroize();
}

/// The redactor as the runner's output filter: one owned stream per output stream.
impl crate::runner::OutputFilter for OwnedStreamRedactor {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        OwnedStreamRedactor::push(self, chunk, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        OwnedStreamRedactor::finish(self, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use proptest::prelude::*;

    const MARK: &[u8] = b"[REDACTED:TOKEN]";

    fn one(value: &[u8]) -> Redactor {
        Redactor::new([("TOKEN", value)])
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
    }

    fn show(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Streams `input` split at `cuts` (positions, any order) and checks
    /// the hold-back bound after every push.
    fn stream_cut(r: &Redactor, input: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        cuts.sort_unstable();
        let mut s = r.stream();
        let mut out = Vec::new();
        let mut prev = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            s.push(&input[prev..cut], &mut out);
            assert!(s.held() < r.max_pattern_len().max(1));
            prev = cut;
        }
        s.finish(&mut out);
        assert_eq!(s.held(), 0);
        out
    }

    fn stream_by(r: &Redactor, input: &[u8], size: usize) -> Vec<u8> {
        let cuts: Vec<usize> = (size..input.len()).step_by(size).collect();
        stream_cut(r, input, &cuts)
    }

    /// Redacts whole and streamed (1, 3 and 7 bytes at a time) and checks
    /// they agree, that the marker is there and `gone` is not.
    fn assert_redacted(r: &Redactor, input: &[u8], gone: &[u8]) -> Vec<u8> {
        let out = r.redact_all(input);
        assert!(contains(&out, MARK), "no marker in {:?}", show(&out));
        assert!(
            !contains(&out, gone),
            "{:?} survives in {:?}",
            show(gone),
            show(&out)
        );
        for size in [1, 3, 7] {
            assert_eq!(stream_by(r, input, size), out, "chunk size {size}");
        }
        out
    }

    /// The characters of `encoded` that depend only on the bytes
    /// `lead..lead + len` of what was encoded.
    fn stable_core(encoded: &[u8], lead: usize, len: usize) -> Vec<u8> {
        let first = (8 * lead).div_ceil(6);
        let end = 8 * (lead + len) / 6;
        encoded[first..end].to_vec()
    }

    fn url_rfc3986(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in value {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b);
            } else {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
        out
    }

    /// serde_json's escaping, written independently of `json_escape`.
    fn json_serde(text: &str) -> Vec<u8> {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.into_bytes()
    }

    #[test]
    fn raw_value_is_replaced_with_marker() {
        let r = one(b"s3cr3t-value");
        let out = assert_redacted(&r, b"before s3cr3t-value after", b"s3cr3t-value");
        assert_eq!(out, b"before [REDACTED:TOKEN] after");
    }

    #[test]
    fn names_pick_the_marker_and_other_text_is_untouched() {
        let r = Redactor::new([
            ("DB_PASS", &b"hunter22"[..]),
            ("API_KEY", &b"sk-live-123"[..]),
        ]);
        assert_eq!(
            r.redact_all(b"db=hunter22 key=sk-live-123 plain=hunter"),
            b"db=[REDACTED:DB_PASS] key=[REDACTED:API_KEY] plain=hunter"
        );
    }

    #[test]
    fn base64_all_alphabets_paddings_and_alignments() {
        // 0xfb 0xff 0xfe encode to "+//+" / "-__-", so the alphabets differ.
        let value: &[u8] = b"\xfb\xff\xfe-hunter2-\x00\x01\xfb\xff";
        let r = one(value);
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            for lead in [&b""[..], b"u", b"us", b"user:", b"abcd"] {
                for trail in [&b""[..], b"\n", b"xy", b"xyz!"] {
                    let mut plain = lead.to_vec();
                    plain.extend_from_slice(value);
                    plain.extend_from_slice(trail);
                    let encoded = engine.encode(&plain).into_bytes();
                    let core = stable_core(&encoded, lead.len(), value.len());
                    let mut input = b"Authorization: Basic ".to_vec();
                    input.extend_from_slice(&encoded);
                    input.extend_from_slice(b" done");
                    assert_redacted(&r, &input, &core);
                }
            }
        }
    }

    #[test]
    fn base64_of_user_colon_password_is_redacted_through_the_padding() {
        let r = one(b"correct-horse!");
        let encoded = STANDARD.encode(b"user:correct-horse!").into_bytes();
        assert!(encoded.ends_with(b"=="));
        let out = r.redact_all(&encoded);
        // "user:" is 5 bytes, so characters 0..7 ("dXNlcjp") carry bits of
        // it; everything after, padding included, depends on the password.
        let expected = [&encoded[..7], MARK].concat();
        assert_eq!(out, expected, "{}", show(&out));
    }

    #[test]
    fn hex_lower_upper_and_0x() {
        let value = b"\x00\xde\xad\xbe\xefsecret";
        let r = one(value);
        let lower: String = value.iter().map(|b| format!("{b:02x}")).collect();
        let upper = lower.to_uppercase();
        for (text, gone) in [
            (lower.clone(), &lower),
            (upper.clone(), &upper),
            (format!("0x{lower}"), &lower),
            (format!("0X{upper}"), &upper),
        ] {
            let input = format!("key={text};");
            let out = assert_redacted(&r, input.as_bytes(), gone.as_bytes());
            assert!(out.ends_with(b"[REDACTED:TOKEN];"), "{}", show(&out));
        }
    }

    #[test]
    fn url_encodings() {
        let value = b"p@ss w/rd+&=?~";
        let r = one(value);
        let rfc = url_rfc3986(value);
        assert_eq!(rfc, b"p%40ss%20w%2Frd%2B%26%3D%3F~");
        let lower = b"p%40ss%20w%2frd%2b%26%3d%3f~";
        let plus = b"p%40ss+w%2Frd%2B%26%3D%3F~";
        let everything = b"p%40ss%20w%2Frd%2B%26%3D%3F%7E";
        for form in [&rfc[..], lower, plus, everything] {
            let mut input = b"https://x.test/?pw=".to_vec();
            input.extend_from_slice(form);
            input.extend_from_slice(b"&next=1");
            let out = assert_redacted(&r, &input, form);
            assert_eq!(out, b"https://x.test/?pw=[REDACTED:TOKEN]&next=1");
        }
    }

    #[test]
    fn json_escapes() {
        let value = "a\"b\\c\nd\u{1}e/f\t<é>";
        let r = one(value.as_bytes());
        let serde = json_serde(value);
        assert_eq!(serde, b"a\\\"b\\\\c\\nd\\u0001e/f\\t<\xc3\xa9>");
        let variants: [&[u8]; 4] = [
            &serde,
            b"a\\\"b\\\\c\\nd\\u0001e\\/f\\t<\xc3\xa9>",
            b"a\\\"b\\\\c\\nd\\u0001e/f\\t\\u003c\xc3\xa9\\u003e",
            b"a\\\"b\\\\c\\nd\\u0001e/f\\t<\\u00e9>",
        ];
        for escaped in variants {
            let mut input = b"{\"password\":\"".to_vec();
            input.extend_from_slice(escaped);
            input.extend_from_slice(b"\"}");
            let out = assert_redacted(&r, &input, escaped);
            assert_eq!(out, b"{\"password\":\"[REDACTED:TOKEN]\"}");
        }
    }

    #[test]
    fn json_escape_of_astral_char_uses_surrogates_in_ascii_mode() {
        let value = "key-\u{1F600}-x";
        let r = one(value.as_bytes());
        assert_redacted(&r, b"\"key-\\ud83d\\ude00-x\"", b"key-\\ud83d\\ude00-x");
    }

    #[test]
    fn case_insensitive_from_eight_bytes() {
        let r = one(b"CorrectHorse");
        for variant in [&b"correcthorse"[..], b"CORRECTHORSE", b"cOrReCtHoRsE"] {
            assert_redacted(&r, &[b"pw: ", variant, b"."].concat(), variant);
        }
    }

    #[test]
    fn no_case_folding_below_eight_bytes() {
        let r = one(b"Abc1234");
        assert_eq!(r.redact_all(b"abc1234 ABC1234"), b"abc1234 ABC1234");
        assert_eq!(r.redact_all(b"Abc1234"), MARK);
    }

    #[test]
    fn values_shorter_than_four_bytes_are_ignored() {
        let r = Redactor::new([("TOKEN", &b"abc"[..]), ("EMPTY", &b""[..])]);
        assert_eq!(r.pattern_count(), 0);
        assert_eq!(r.redact_all(b"abc abc YWJj 616263"), b"abc abc YWJj 616263");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"ab", &mut out);
        assert_eq!(s.held(), 0);
        assert_eq!(out, b"ab");
    }

    #[test]
    fn four_byte_values_are_matched_with_their_encodings() {
        let r = one(b"pw12");
        assert_eq!(r.redact_all(b"x pw12 y"), b"x [REDACTED:TOKEN] y");
        assert_eq!(r.redact_all(b"x 70773132 y"), b"x [REDACTED:TOKEN] y");
        assert!(r.pattern_count() >= 4);
    }

    #[test]
    fn leftmost_longest_never_leaks_the_tail_of_a_longer_secret() {
        let r = Redactor::new([("SHORT", &b"abcd"[..]), ("LONG", &b"abcdefgh"[..])]);
        assert_eq!(r.redact_all(b"xxabcdefghyy"), b"xx[REDACTED:LONG]yy");
        assert_eq!(r.redact_all(b"xxabcdyy"), b"xx[REDACTED:SHORT]yy");
        assert_eq!(
            stream_cut(&r, b"xxabcdefghyy", &[6]),
            b"xx[REDACTED:LONG]yy"
        );
        // Held "abcd" may still grow into "abcdefgh"; at EOF it is a match.
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"xxabcd", &mut out);
        assert_eq!(out, b"xx");
        assert_eq!(s.held(), 4);
        s.finish(&mut out);
        assert_eq!(out, b"xx[REDACTED:SHORT]");
    }

    #[test]
    fn control_bytes_around_the_value_do_not_hide_it() {
        let r = one(b"hunter2-secret");
        let inputs: [&[u8]; 3] = [
            b"\x1b[31mhunter2-secret\x1b[0m",
            b"\0\0hunter2-secret\0",
            b"\xff\xfe\x80hunter2-secret\xc3",
        ];
        for input in inputs {
            let out = assert_redacted(&r, input, b"hunter2-secret");
            assert_eq!(out.len(), input.len() - 14 + MARK.len());
        }
    }

    #[test]
    fn prompt_without_partial_match_is_released_at_once() {
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"Password: ", &mut out);
        assert_eq!(s.held(), 0);
        assert_eq!(out, b"Password: ");
    }

    #[test]
    fn exactly_the_partial_secret_is_held_until_completed() {
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"Password: xxhuhunt", &mut out);
        // "hunt" is the longest suffix that starts a pattern.
        assert_eq!(s.held(), 4);
        assert_eq!(out, b"Password: xxhu");
        // A paused writer: nothing more comes out however long we wait.
        s.push(b"", &mut out);
        assert_eq!(s.held(), 4);
        assert_eq!(out, b"Password: xxhu");
        s.push(b"er2-sec", &mut out);
        assert_eq!(s.held(), 11);
        s.push(b"ret\n", &mut out);
        assert_eq!(s.held(), 0);
        assert_eq!(out, b"Password: xxhu[REDACTED:TOKEN]\n");
    }

    #[test]
    fn a_complete_match_at_the_end_of_a_chunk_is_released_at_once() {
        // No longer pattern starts with the whole value, so nothing can
        // change the decision and nothing is held.
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"xx hunter2-secret", &mut out);
        assert_eq!(s.held(), 0);
        assert_eq!(out, b"xx [REDACTED:TOKEN]");
    }

    #[test]
    fn a_prefix_that_does_not_complete_is_released() {
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"hunter2", &mut out);
        assert_eq!((s.held(), out.len()), (7, 0));
        s.push(b"-nope", &mut out);
        assert_eq!(s.held(), 0);
        assert_eq!(out, b"hunter2-nope");
        s.push(b"hunter", &mut out);
        s.finish(&mut out);
        assert_eq!(out, b"hunter2-nopehunter");
    }

    #[test]
    fn secret_split_across_a_large_chunk_is_caught() {
        let r = one(b"hunter2-secret");
        let mut input = vec![b'.'; 100_000];
        input.extend_from_slice(b"hunter2-secret");
        input.extend_from_slice(&[b','; 100_000]);
        for cut in [99_995, 100_000, 100_007, 100_013] {
            let out = stream_cut(&r, &input, &[cut]);
            assert_eq!(out, r.redact_all(&input));
            assert_eq!(out.len(), 200_000 + MARK.len());
        }
    }

    #[test]
    fn long_values_are_split_into_pieces_and_fully_redacted() {
        let mut value = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            value.push(x as u8);
        }
        let r = one(&value);
        assert!(r.max_pattern_len() <= MAX_WHOLE_PATTERN_LEN);
        let b64 = STANDARD.encode(&value).into_bytes();
        let hexed: Vec<u8> = value
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect();
        for form in [&value[..], &b64[..], &hexed[..]] {
            let input = [&b"<<"[..], form, b">>"].concat();
            let out = r.redact_all(&input);
            // The pieces collapse into one marker.
            assert_eq!(out, [&b"<<"[..], MARK, b">>"].concat());
            assert_eq!(stream_by(&r, &input, 777), out);
        }
        // A partial print of the value is still caught piecewise.
        let out = r.redact_all(&value[1000..9000]);
        assert!(out.len() < 2 * PIECE_LEN, "{} bytes survive", out.len());
    }

    #[test]
    fn a_one_mebibyte_value_is_supported() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let value: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let r = one(&value);
        assert!(r.max_pattern_len() <= MAX_WHOLE_PATTERN_LEN);
        let b64 = URL_SAFE.encode(&value).into_bytes();
        for form in [&value[..], &b64[..]] {
            let input = [&b"start "[..], form, b" end"].concat();
            assert_eq!(
                stream_by(&r, &input, 64 * 1024),
                [&b"start "[..], MARK, b" end"].concat()
            );
        }
    }

    #[test]
    fn copy_redacted_writes_and_flushes_each_read() {
        use std::cell::RefCell;
        use std::rc::Rc;

        struct Sink(Rc<RefCell<Vec<u8>>>, Rc<RefCell<usize>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                *self.1.borrow_mut() += 1;
                Ok(())
            }
        }
        // Each read checks that the previous prompt is already flushed.
        struct Source {
            parts: Vec<&'static [u8]>,
            seen: Rc<RefCell<Vec<u8>>>,
            expect_seen: Vec<&'static [u8]>,
        }
        impl Read for Source {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let expected = self.expect_seen.remove(0);
                assert_eq!(&self.seen.borrow()[..], expected);
                if self.parts.is_empty() {
                    return Ok(0);
                }
                let part = self.parts.remove(0);
                buf[..part.len()].copy_from_slice(part);
                Ok(part.len())
            }
        }
        let r = one(b"hunter2-secret");
        let seen = Rc::new(RefCell::new(Vec::new()));
        let flushes = Rc::new(RefCell::new(0));
        let source = Source {
            parts: vec![b"Password: ", b"ok hunter2-", b"secret bye"],
            seen: Rc::clone(&seen),
            expect_seen: vec![
                b"",
                b"Password: ",
                b"Password: ok ",
                b"Password: ok [REDACTED:TOKEN] bye",
            ],
        };
        let n = copy_redacted(&r, source, Sink(Rc::clone(&seen), Rc::clone(&flushes))).unwrap();
        assert_eq!(&seen.borrow()[..], b"Password: ok [REDACTED:TOKEN] bye");
        assert_eq!(n, seen.borrow().len() as u64);
        assert_eq!(*flushes.borrow(), 3);
    }

    #[test]
    fn owned_stream_moves_into_a_thread() {
        let r = Arc::new(one(b"hunter2-secret"));
        let mut s = r.stream_owned();
        let out = std::thread::spawn(move || {
            let mut out = Vec::new();
            s.push(b"a hunter2-se", &mut out);
            s.push(b"cret b", &mut out);
            s.finish(&mut out);
            out
        })
        .join()
        .unwrap();
        assert_eq!(out, b"a [REDACTED:TOKEN] b");
    }

    #[test]
    fn redactor_is_send_sync_and_debug_hides_patterns() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Redactor>();
        send_sync::<OwnedStreamRedactor>();
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        s.push(b"hunter2", &mut Vec::new());
        let text = format!("{r:?} {s:?}");
        assert!(!text.contains("hunter"), "{text}");
        assert!(text.contains("held: 7"), "{text}");
    }

    #[test]
    fn finish_resets_the_stream_for_reuse() {
        let r = one(b"hunter2-secret");
        let mut s = r.stream();
        let mut out = Vec::new();
        s.push(b"hunter2-secret", &mut out);
        s.finish(&mut out);
        s.push(b"hunter2-secret", &mut out);
        s.finish(&mut out);
        assert_eq!(out, [MARK, MARK].concat());
    }

    #[test]
    fn periodic_secret_in_periodic_text_falls_back_and_stays_correct() {
        // Every position starts a 200-byte partial match: the filtered walk
        // alone would be quadratic, so the scan switches to the automata.
        let secret = [vec![b'a'; 200], b"b".to_vec()].concat();
        let r = one(&secret);
        let input = [vec![b'a'; 200_000], secret.clone(), b"!".to_vec()].concat();
        let expected = [vec![b'a'; 200_000], MARK.to_vec(), b"!".to_vec()].concat();
        assert_eq!(r.redact_all(&input), expected);
        assert_eq!(stream_by(&r, &input, 4096), expected);
        assert_eq!(stream_by(&r, &input, 333), expected);
    }

    #[test]
    fn periodic_long_secret_collapses_to_one_marker() {
        let secret = vec![b'x'; 5000];
        let r = one(&secret);
        let input = [&b"<"[..], &secret, b">"].concat();
        let out = r.redact_all(&input);
        assert_eq!(out, [&b"<"[..], MARK, b">"].concat());
        assert_eq!(stream_by(&r, &input, 1000), out);
        // Back-to-back copies are tiled greedily by 512-byte pieces, which
        // leaves a remainder shorter than the smallest piece.
        let input = [&b"<"[..], &secret.repeat(20), b">"].concat();
        let out = r.redact_all(&input);
        assert_eq!(
            out,
            [&b"<"[..], MARK, &[b'x'; 100_000 % PIECE_LEN], b">"].concat()
        );
        assert_eq!(stream_by(&r, &input, 1000), out);
    }

    fn with_fallback<T>(f: impl FnOnce() -> T) -> T {
        FORCE_FALLBACK.with(|flag| flag.set(true));
        let result = f();
        FORCE_FALLBACK.with(|flag| flag.set(false));
        result
    }

    #[test]
    fn fallback_search_agrees_on_the_unit_cases() {
        let r = Redactor::new([("SHORT", &b"abcd"[..]), ("LONG", &b"abcdefgh"[..])]);
        let input = b"xxabcdefghyy abcd ABCDEFGH 6162636465666768 YWJjZGVmZ2g=";
        let normal = r.redact_all(input);
        assert_eq!(with_fallback(|| r.redact_all(input)), normal);
        assert_eq!(with_fallback(|| stream_by(&r, input, 5)), normal);
    }

    /// The encodings a test embeds in output.
    #[derive(Debug, Clone, Copy)]
    enum Form {
        Raw,
        CaseFlipped,
        Base64 { url: bool, pad: bool },
        HexLower,
        HexUpper,
        Url,
        Json,
    }

    fn form_strategy() -> impl Strategy<Value = Form> {
        prop_oneof![
            Just(Form::Raw),
            Just(Form::CaseFlipped),
            (any::<bool>(), any::<bool>()).prop_map(|(url, pad)| Form::Base64 { url, pad }),
            Just(Form::HexLower),
            Just(Form::HexUpper),
            Just(Form::Url),
            Just(Form::Json),
        ]
    }

    /// Bytes that no encoded form uses, so surrounding text made of them
    /// can neither contain nor extend a match by accident.
    const TEXT_ALPHABET: &[u8] = b" !\"#$&'(),:;<>?@[]^`{|}\n\t";

    fn text_strategy() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(TEXT_ALPHABET), 0..60)
    }

    /// Renders `secret` in `form`; returns the embedded bytes and the part
    /// that must not survive redaction.
    fn render(form: Form, secret: &[u8], ctx: &[u8]) -> (Vec<u8>, Vec<u8>) {
        match form {
            Form::Raw | Form::Json if std::str::from_utf8(secret).is_err() => {
                (secret.to_vec(), secret.to_vec())
            }
            Form::Raw => (secret.to_vec(), secret.to_vec()),
            Form::Json => {
                let escaped = json_serde(std::str::from_utf8(secret).unwrap());
                (escaped.clone(), escaped)
            }
            Form::CaseFlipped => {
                let flipped: Vec<u8> = if secret.len() >= CASE_INSENSITIVE_MIN_LEN {
                    secret
                        .iter()
                        .zip(ctx.iter().cycle())
                        .map(|(&b, &c)| {
                            if c & 1 == 1 {
                                b ^ (u8::from(b.is_ascii_alphabetic()) << 5)
                            } else {
                                b
                            }
                        })
                        .collect()
                } else {
                    secret.to_vec()
                };
                (flipped.clone(), flipped)
            }
            Form::Base64 { url, pad } => {
                let lead = usize::from(ctx[0] % 6);
                let trail = usize::from(ctx[1] % 4);
                let plain = [&ctx[2..2 + lead], secret, &ctx[8..8 + trail]].concat();
                let engine = match (url, pad) {
                    (false, true) => &STANDARD,
                    (false, false) => &STANDARD_NO_PAD,
                    (true, true) => &URL_SAFE,
                    (true, false) => &URL_SAFE_NO_PAD,
                };
                let encoded = engine.encode(&plain).into_bytes();
                let core = stable_core(&encoded, lead, secret.len());
                (encoded, core)
            }
            Form::HexLower | Form::HexUpper => {
                let mut hexed: String = secret.iter().map(|b| format!("{b:02x}")).collect();
                if matches!(form, Form::HexUpper) {
                    hexed = hexed.to_uppercase();
                }
                (hexed.clone().into_bytes(), hexed.into_bytes())
            }
            Form::Url => {
                let encoded = url_rfc3986(secret);
                (encoded.clone(), encoded)
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_every_form_is_redacted_and_streaming_agrees(
            secret in proptest::collection::vec(any::<u8>(), 4..200),
            form in form_strategy(),
            ctx in proptest::collection::vec(any::<u8>(), 16),
            before in text_strategy(),
            after in text_strategy(),
            one_cut in any::<proptest::sample::Index>(),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
        ) {
            // JSON needs text: map arbitrary bytes onto valid UTF-8 that
            // still holds controls, quotes and backslashes.
            let secret = if matches!(form, Form::Json) {
                String::from_utf8_lossy(&secret).into_owned().into_bytes()
            } else {
                secret
            };
            let r = one(&secret);
            let (embedded, gone) = render(form, &secret, &ctx);
            let input = [&before[..], &embedded, &after].concat();
            let whole = r.redact_all(&input);

            prop_assert!(contains(&whole, MARK));
            prop_assert!(!contains(&whole, &gone), "form survives: {:?}", show(&whole));
            prop_assert!(!contains(&whole, &secret));
            prop_assert!(whole.starts_with(&before), "text before damaged: {:?}", show(&whole));
            prop_assert!(whole.ends_with(&after), "text after damaged: {:?}", show(&whole));

            let two = stream_cut(&r, &input, &[one_cut.index(input.len() + 1)]);
            prop_assert_eq!(&two, &whole);
            let cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            let many = stream_cut(&r, &input, &cuts);
            prop_assert_eq!(&many, &whole);
        }

        #[test]
        fn prop_streaming_equals_whole_on_adversarial_text(
            secrets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 1..4),
            segments in proptest::collection::vec((0u8..6, proptest::collection::vec(any::<u8>(), 0..24)), 0..14),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..16),
        ) {
            let names = ["A", "B", "C", "D"];
            let r = Redactor::new(names.iter().zip(&secrets).map(|(n, s)| (*n, &s[..])));
            let mut input = Vec::new();
            for (tag, bytes) in &segments {
                let secret = &secrets[bytes.len() % secrets.len()];
                match tag {
                    0 => input.extend_from_slice(bytes),
                    1 => input.extend_from_slice(secret),
                    // A prefix that never completes (or completes by chance).
                    2 => input.extend_from_slice(&secret[..bytes.len() % secret.len()]),
                    3 => input.extend(secret.iter().map(|b| b.to_ascii_uppercase())),
                    4 => input.extend_from_slice(STANDARD.encode([bytes, &secret[..]].concat()).as_bytes()),
                    _ => input.extend(secret.iter().flat_map(|b| format!("{b:02x}").into_bytes())),
                }
            }
            let whole = r.redact_all(&input);
            let cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            prop_assert_eq!(&stream_cut(&r, &input, &cuts), &whole);
            prop_assert_eq!(&stream_by(&r, &input, 1), &whole);
            for s in &secrets {
                if s.len() >= MIN_SECRET_LEN {
                    prop_assert!(!contains(&whole, s));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Tiny alphabets make overlaps, periodic secrets and partial
        /// matches at chunk ends common; both search paths must agree.
        #[test]
        fn prop_small_alphabet_overlaps(
            secrets in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(&b"abAB"[..]), 3..12), 1..4),
            text in proptest::collection::vec(proptest::sample::select(&b"abAB-"[..]), 0..120),
            cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..10),
        ) {
            let names = ["A", "B", "C", "D"];
            let r = Redactor::new(names.iter().zip(&secrets).map(|(n, s)| (*n, &s[..])));
            let whole = r.redact_all(&text);
            let cuts: Vec<usize> = cuts.iter().map(|i| i.index(text.len() + 1)).collect();
            prop_assert_eq!(&stream_cut(&r, &text, &cuts), &whole);
            prop_assert_eq!(&stream_by(&r, &text, 1), &whole);
            prop_assert_eq!(&with_fallback(|| r.redact_all(&text)), &whole);
            prop_assert_eq!(&with_fallback(|| stream_cut(&r, &text, &cuts)), &whole);
        }

        #[test]
        fn prop_fallback_agrees_with_filtered_search(
            secrets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 4..40), 1..4),
            segments in proptest::collection::vec((0u8..4, proptest::collection::vec(any::<u8>(), 0..24)), 0..14),
        ) {
            let names = ["A", "B", "C", "D"];
            let r = Redactor::new(names.iter().zip(&secrets).map(|(n, s)| (*n, &s[..])));
            let mut input = Vec::new();
            for (tag, bytes) in &segments {
                let secret = &secrets[bytes.len() % secrets.len()];
                match tag {
                    0 => input.extend_from_slice(bytes),
                    1 => input.extend_from_slice(secret),
                    2 => input.extend(secret.iter().map(|b| b.to_ascii_lowercase())),
                    _ => input.extend_from_slice(URL_SAFE.encode([bytes, &secret[..]].concat()).as_bytes()),
                }
            }
            prop_assert_eq!(with_fallback(|| r.redact_all(&input)), r.redact_all(&input));
        }
    }

    /// Throughput benchmark: `cargo test --release -- --ignored --nocapture
    /// throughput`.
    #[test]
    #[ignore = "benchmark; run in release"]
    fn throughput() {
        use std::time::Instant;

        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let secrets: Vec<(String, Vec<u8>)> = (0..100)
            .map(|i| {
                let len = 24 + (next() % 17) as usize;
                // Printable, like API tokens and passwords.
                let value = (0..len).map(|_| b'!' + (next() % 94) as u8).collect();
                (format!("SECRET_{i}"), value)
            })
            .collect();
        let start = Instant::now();
        let r = Redactor::new(secrets.iter().map(|(n, v)| (n.as_str(), &v[..])));
        let build = start.elapsed();

        const CHUNK: usize = 64 * 1024;
        const TOTAL: usize = 256 * 1024 * 1024;
        // A few distinct printable chunks, so the input is not one repeated
        // 64 KiB block sitting in cache.
        let chunks: Vec<Vec<u8>> = (0..64)
            .map(|_| (0..CHUNK).map(|_| b' ' + (next() % 95) as u8).collect())
            .collect();

        let mut out = Vec::with_capacity(2 * CHUNK);
        let start = Instant::now();
        let mut copied = 0usize;
        for i in 0..TOTAL / CHUNK {
            out.clear();
            out.extend_from_slice(&chunks[i % chunks.len()]);
            copied += out.len();
        }
        let copy_secs = start.elapsed().as_secs_f64();

        let mut s = r.stream();
        let mut secs = f64::MAX;
        let mut produced = 0usize;
        for _ in 0..3 {
            let start = Instant::now();
            produced = 0;
            for i in 0..TOTAL / CHUNK {
                out.clear();
                s.push(&chunks[i % chunks.len()], &mut out);
                produced += out.len();
            }
            out.clear();
            s.finish(&mut out);
            produced += out.len();
            secs = secs.min(start.elapsed().as_secs_f64());
        }
        let mb = TOTAL as f64 / 1e6;
        println!(
            "{:?}: build {:.1} ms; redact {:.0} MB/s; memcpy {:.0} MB/s; output {} bytes (copied {})",
            r,
            build.as_secs_f64() * 1e3,
            mb / secs,
            mb / copy_secs,
            produced,
            copied
        );
    }
}
