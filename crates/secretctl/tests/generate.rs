//! `secretctl generate` (SPEC §10) through the real binary: every enabled class in every
//! password, character frequencies within statistical bounds, exclusions and `--no-*` flags
//! honoured, passphrases made of list words, usage errors as one line with exit 2, and
//! `--copy` onto a real (Xvfb) clipboard that is cleared only while it still holds our value.
//!
//! The statistical checks use chi-square thresholds at p ≈ 1e-6, so a correct generator fails
//! them about once in a million runs; a biased one (a modulo, a forced class) fails every time.

mod harness;

use harness::{Output, bin, run};
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const SYMBOLS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const WORDLIST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../secretctl-core/src/generate/eff_large_wordlist.txt"
));

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(["generate"])
        .args(args)
        .env_remove("SECRETCTL_HOME")
        .env_remove("SECRETCTL_PASSWORD")
        .env("RUST_BACKTRACE", "0");
    c
}

fn generate(args: &[&str]) -> Output {
    let mut c = command(args);
    c.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    run(c, None)
}

fn lines(args: &[&str]) -> Vec<String> {
    generate(args)
        .ok_text(&format!("generate {args:?}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The chi-square value exceeded with probability 1e-6 for `df` degrees of freedom, by the
/// Wilson–Hilferty approximation (0.3 % above the exact 131.37 and 172.75 for the 63 and 93
/// degrees of freedom used here).
fn chi2_threshold(df: usize) -> f64 {
    const Z: f64 = 4.753_424; // upper 1e-6 point of the standard normal
    let k = df as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + Z * a.sqrt()).powi(3)
}

fn chi2(observed: &HashMap<char, u64>, expected: &[(char, f64)]) -> f64 {
    expected
        .iter()
        .map(|(c, e)| {
            let o = observed.get(c).copied().unwrap_or(0) as f64;
            (o - e).powi(2) / e
        })
        .sum()
}

/// P(`draws` uniform picks from `total` characters hit every class in `sizes`), by
/// inclusion–exclusion over the classes that could be missed.
fn cover_probability(sizes: &[usize], total: usize, draws: i32) -> f64 {
    (0u32..1 << sizes.len())
        .map(|missed| {
            let size: usize = (0..sizes.len())
                .filter(|i| missed & (1 << i) != 0)
                .map(|i| sizes[i])
                .sum();
            let term = (1.0 - size as f64 / total as f64).powi(draws);
            if missed.count_ones() % 2 == 0 {
                term
            } else {
                -term
            }
        })
        .sum()
}

/// The probability of each character at any one position of a password drawn uniformly from
/// the valid ones (every class present). Not 1/|A|: the condition favours small classes.
/// P(position holds c ∈ class k) = (1/|A|) · P(the other L−1 cover every class but k) / P(valid).
fn position_probabilities(classes: &[&str], length: i32) -> Vec<(char, f64)> {
    let sizes: Vec<usize> = classes.iter().map(|c| c.len()).collect();
    let total: usize = sizes.iter().sum();
    let valid = cover_probability(&sizes, total, length);
    let mut out = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        let others: Vec<usize> = (0..sizes.len())
            .filter(|&i| i != k)
            .map(|i| sizes[i])
            .collect();
        let p = cover_probability(&others, total, length - 1) / (total as f64 * valid);
        out.extend(class.chars().map(|c| (c, p)));
    }
    let sum: f64 = out.iter().map(|(_, p)| p).sum();
    assert!((sum - 1.0).abs() < 1e-9, "probabilities sum to {sum}");
    out
}

#[test]
fn ten_thousand_passwords_hold_every_class_with_uniform_characters() {
    let passwords = lines(&["-n", "10000"]);
    assert_eq!(passwords.len(), 10_000);
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let mut per_position: Vec<HashMap<char, u64>> = vec![HashMap::new(); 24];
    let mut overall: HashMap<char, u64> = HashMap::new();
    for p in &passwords {
        assert_eq!(p.chars().count(), 24, "default length");
        for class in classes {
            assert!(
                p.chars().any(|c| class.contains(c)),
                "no {class:?} in a password"
            );
        }
        for (i, c) in p.chars().enumerate() {
            assert!(c.is_ascii_graphic(), "{c:?} is not printable ASCII");
            *per_position[i].entry(c).or_default() += 1;
            *overall.entry(c).or_default() += 1;
        }
    }
    let probabilities = position_probabilities(&classes, 24);
    assert_eq!(probabilities.len(), 94);
    let limit = chi2_threshold(93);
    // Each position on its own: 10 000 independent draws, an exact chi-square test.
    for (i, counts) in per_position.iter().enumerate() {
        let expected: Vec<(char, f64)> = probabilities
            .iter()
            .map(|(c, p)| (*c, p * 10_000.0))
            .collect();
        let x = chi2(counts, &expected);
        assert!(x < limit, "position {i}: chi2 {x:.1} ≥ {limit:.1}");
    }
    // All 240 000 characters together (nearly independent: the class condition couples the
    // characters of one password only slightly).
    let expected: Vec<(char, f64)> = probabilities
        .iter()
        .map(|(c, p)| (*c, p * 240_000.0))
        .collect();
    let x = chi2(&overall, &expected);
    assert!(x < limit, "all characters: chi2 {x:.1} ≥ {limit:.1}");
}

#[test]
fn valid_passwords_are_equally_likely_not_just_their_characters() {
    // Alphabet {a, b, 0}: letters and digits, length 4. Of the 81 strings, 64 hold both
    // classes; each must come up 1/64 of the time. ("One of each class, then shuffle" would
    // give one digit 44 % of the time instead of 50 %: far outside these bounds.)
    let passwords = lines(&[
        "-l",
        "4",
        "-n",
        "100000",
        "--no-uppercase",
        "--no-symbols",
        "--exclude",
        "cdefghijklmnopqrstuvwxyz123456789",
    ]);
    let mut counts: HashMap<String, u64> = HashMap::new();
    for p in passwords {
        *counts.entry(p).or_default() += 1;
    }
    assert_eq!(counts.len(), 64, "{counts:?}");
    let expected = 100_000.0 / 64.0;
    let x: f64 = counts
        .values()
        .map(|&o| (o as f64 - expected).powi(2) / expected)
        .sum();
    let limit = chi2_threshold(63);
    assert!(x < limit, "chi2 {x:.1} ≥ {limit:.1}: {counts:?}");
}

#[test]
fn no_flags_leave_their_class_out_and_keep_the_others() {
    let cases: [(&str, &str); 4] = [
        ("--no-lowercase", LOWER),
        ("--no-uppercase", UPPER),
        ("--no-digits", DIGITS),
        ("--no-symbols", SYMBOLS),
    ];
    for (flag, left_out) in cases {
        let kept: Vec<&str> = [LOWER, UPPER, DIGITS, SYMBOLS]
            .into_iter()
            .filter(|c| *c != left_out)
            .collect();
        for p in lines(&[flag, "-n", "300", "-l", "12"]) {
            assert_eq!(p.len(), 12);
            assert!(!p.chars().any(|c| left_out.contains(c)), "{flag}: {p:?}");
            for class in &kept {
                assert!(p.chars().any(|c| class.contains(c)), "{flag}: {p:?}");
            }
        }
    }
    for p in lines(&["--no-symbols", "--no-digits", "--no-uppercase", "-n", "50"]) {
        assert!(p.chars().all(|c| LOWER.contains(c)), "{p:?}");
    }
}

#[test]
fn excluded_characters_never_appear() {
    let excluded = "abc0O1lI|'\"`\\ ";
    for p in lines(&["--exclude", excluded, "-n", "2000", "-l", "16"]) {
        assert!(!p.chars().any(|c| excluded.contains(c)), "{p:?}");
        for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
            assert!(p.chars().any(|c| class.contains(c)), "{p:?}");
        }
    }
}

#[test]
fn passphrases_are_words_of_the_eff_list() {
    let list: std::collections::HashSet<&str> = WORDLIST
        .lines()
        .map(|l| l.split_once('\t').expect("DICE<TAB>WORD").1)
        .collect();
    assert_eq!(list.len(), 7776);
    let phrases = lines(&["--words", "6", "--separator", " ", "-n", "500"]);
    assert_eq!(phrases.len(), 500);
    for phrase in &phrases {
        let words: Vec<&str> = phrase.split(' ').collect();
        assert_eq!(words.len(), 6, "{phrase:?}");
        assert!(words.iter().all(|w| list.contains(w)), "{phrase:?}");
    }
    // The default separator is `-` (four list words contain one too, e.g. `t-shirt`).
    for phrase in lines(&["--words", "4", "-n", "50"]) {
        assert!(phrase.matches('-').count() >= 3, "{phrase:?}");
    }
    let json: serde_json::Value = serde_json::from_slice(
        generate(&["--words", "5", "--json", "-n", "3"]).ok("generate --words --json"),
    )
    .expect("JSON");
    assert_eq!(json["kind"], "words");
    assert_eq!(json["passwords"].as_array().map(Vec::len), Some(3));
    let bits = json["entropy_bits"].as_f64().expect("entropy_bits");
    assert!((bits - 5.0 * 7776f64.log2()).abs() < 0.1, "{bits}");
}

#[test]
fn json_lists_the_passwords_and_their_entropy() {
    let json: serde_json::Value =
        serde_json::from_slice(generate(&["--json", "-n", "4"]).ok("generate --json"))
            .expect("JSON");
    assert_eq!(json["kind"], "characters");
    let passwords = json["passwords"].as_array().expect("passwords");
    assert_eq!(passwords.len(), 4);
    assert!(
        passwords
            .iter()
            .all(|p| p.as_str().is_some_and(|p| p.len() == 24))
    );
    let bits = json["entropy_bits"].as_f64().expect("entropy_bits");
    // log2 of the valid 24-character strings: a little under 24 · log2(94) ≈ 157.3.
    assert!((156.0..157.3).contains(&bits), "{bits}");
}

#[test]
fn impossible_or_out_of_range_requests_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["-l", "3"], "length"),
        (&["-l", "4097"], "4096"),
        (&["-l", "0"], "length"),
        (&["-n", "0"], "-n"),
        (&["-n", "100001"], "100000"),
        (
            &[
                "--no-lowercase",
                "--no-uppercase",
                "--no-digits",
                "--no-symbols",
            ],
            "every character class",
        ),
        (&["--exclude", DIGITS], "--no-digits"),
        (
            &["--no-symbols", "--exclude", "abcdefghijklmnopqrstuvwxyz"],
            "--no-lowercase",
        ),
        (&["--words", "0"], "words"),
        (&["--words", "65"], "words"),
        (&["--words", "3", "--separator", "\n"], "separator"),
        (&["--words", "3", "-l", "10"], "--length"),
        (&["--words", "3", "--exclude", "x"], "--exclude"),
        (&["--separator", "-"], "--words"),
        (&["-n", "2", "--copy"], "--copy"),
        (&["--print"], "--copy"),
        (&["--copy", "--json"], "--json"),
        (&["-l", "many"], "many"),
    ];
    for (args, needle) in cases {
        let line = generate(args).failure(2, &format!("generate {args:?}"));
        assert!(line.contains(needle), "generate {args:?}: {line:?}");
    }
}

#[test]
fn copy_without_a_display_fails_in_one_line_and_prints_nothing() {
    for args in [&["--copy"][..], &["--copy", "--print"]] {
        let line = generate(args).failure(1, "generate --copy without a display");
        assert!(line.contains("clipboard"), "{line:?}");
        assert!(line.contains("DISPLAY"), "{line:?}");
    }
}

/// An Xvfb server on a free display, stopped on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "320x200x24",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed (apt-get install xvfb; scripts/test does)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        let display = format!(":{}", line.trim());
        assert!(line.trim().parse::<u32>().is_ok(), "Xvfb said {line:?}");
        Xvfb { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variable that turns [`clipboard_probe`] into a clipboard client.
const PROBE: &str = "SECRETCTL_TEST_CLIPBOARD_PROBE";

/// Starts this test binary as a clipboard client on `display` (arboard takes the display from
/// the environment, which a test must not change for its neighbours): `read` prints the text,
/// `own` sets stdin's first line as the text and keeps serving it until stdin closes.
fn probe(display: &str, mode: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "clipboard_probe",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE, mode)
        .env("DISPLAY", display)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the clipboard probe")
}

/// What the probe said after `PROBE:`.
fn probe_line(child: &mut Child) -> String {
    let stdout = child.stdout.as_mut().expect("piped");
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("probe output");
        // libtest prints the test's name on the same line, before the probe's output.
        if let Some((_, rest)) = line.split_once("PROBE:") {
            return rest.to_owned();
        }
    }
    panic!("the clipboard probe said nothing");
}

/// The clipboard's text on `display`, or `None` when nobody owns it.
fn clipboard_text(display: &str) -> Option<String> {
    let mut child = probe(display, "read");
    let line = probe_line(&mut child);
    let _ = child.wait();
    line.strip_prefix("text ").map(str::to_owned)
}

/// Not a test on its own: the clipboard client behind [`probe`]; returns at once otherwise.
#[test]
fn clipboard_probe() {
    let Ok(mode) = std::env::var(PROBE) else {
        return;
    };
    let mut clipboard = arboard::Clipboard::new().expect("connect to the display");
    match mode.as_str() {
        "read" => match clipboard.get_text() {
            Ok(text) => println!("PROBE:text {text}"),
            Err(e) => println!("PROBE:none {e}"),
        },
        "own" => {
            let mut text = String::new();
            std::io::stdin().read_line(&mut text).expect("the text");
            clipboard
                .set_text(text.trim_end().to_owned())
                .expect("set the text");
            println!("PROBE:owned");
            // Serve it until the test closes stdin.
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        }
        other => panic!("unknown probe mode {other}"),
    }
}

fn wait_until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// Whether `child` exits within `seconds`.
fn exits_within(child: &mut Child, seconds: u64) -> bool {
    wait_until(Duration::from_secs(seconds), || {
        child.try_wait().ok().flatten().is_some()
    })
}

/// Starts `secretctl clipboard-hold --seconds N` as `generate --copy` does, and waits for its
/// `ready`.
fn hold(display: &str, value: &str, seconds: u64) -> Child {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(["clipboard-hold", "--seconds", &seconds.to_string()])
        .env("DISPLAY", display)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn clipboard-hold");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(value.as_bytes())
        .expect("hand the value over");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("read ready");
    assert_eq!(line, "ready\n");
    child
}

#[test]
fn copy_puts_the_password_on_the_clipboard_and_prints_it_only_when_asked() {
    let x = Xvfb::start();
    let mut c = command(&["--copy"]);
    c.env("DISPLAY", &x.display);
    let out = run(c, None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "--copy alone prints nothing");
    let copied = clipboard_text(&x.display).expect("the clipboard holds the password");
    assert_eq!(copied.len(), 24);

    let mut c = command(&["--copy", "--print", "--words", "4"]);
    c.env("DISPLAY", &x.display);
    let printed = run(c, None).ok_text("generate --copy --print");
    let printed = printed.strip_suffix('\n').expect("one line");
    assert!(
        wait_until(Duration::from_secs(5), || clipboard_text(&x.display)
            .as_deref()
            == Some(printed)),
        "the printed passphrase is the one on the clipboard"
    );
}

#[test]
fn the_helper_clears_its_value_when_time_is_up() {
    let x = Xvfb::start();
    let mut helper = hold(&x.display, "Tr0ub4dor&3-clipboard", 2);
    assert_eq!(
        clipboard_text(&x.display).as_deref(),
        Some("Tr0ub4dor&3-clipboard")
    );
    assert!(
        exits_within(&mut helper, 10),
        "the helper exits after its time"
    );
    assert_eq!(clipboard_text(&x.display), None, "the value is gone");
}

#[test]
fn the_helper_leaves_a_later_copy_alone() {
    let x = Xvfb::start();
    let mut helper = hold(&x.display, "first-value-from-secretctl", 2);
    // The user copies something else: another client owns the clipboard from now on.
    let mut user = probe(&x.display, "own");
    {
        use std::io::Write;
        let stdin = user.stdin.as_mut().expect("piped");
        stdin
            .write_all(b"the user's own text\n")
            .expect("hand the text over");
    }
    assert_eq!(probe_line(&mut user), "owned");
    assert!(
        exits_within(&mut helper, 10),
        "the helper exits after its time"
    );
    assert_eq!(
        clipboard_text(&x.display).as_deref(),
        Some("the user's own text"),
        "the helper must not clear what it no longer owns"
    );
    drop(user.stdin.take());
    let _ = user.wait();
}
