//! Redaction through the real binary (SPEC §6): the output of a `secretctl run` child and the
//! `secretctl redact` filter.
//!
//! The property test stores random values byte for byte (`set --from-file`), has a Python child
//! read its value from the environment as bytes and print every supported encoding of it, each
//! split in two writes with a pause between them, on stdout and stderr, between marker text; then
//! checks that no encoding survives, a `[REDACTED:NAME]` marker stands in each place, and the
//! marker text is intact. The encodings are computed by the same Python code the child runs (mode
//! `forms`), so the check sees exactly what the child printed. Set `REDACTION_SEED` to replay a
//! run (the seed is printed) and `REDACTION_CASES` to run more than 12 cases.

mod harness;

use base64::Engine as _;
use harness::TestVault;
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The system Python (faster to start than a version-manager shim).
fn python3() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// The child (`emit NAME SEED`) and the oracle (`forms HEX`). Forms are `(label, bytes)`.
const FORMS_PY: &str = r#"
import base64, json, os, random, sys, time, urllib.parse

def forms(v):
    out = [("raw", v), ("ansi", b"\x1b[31m" + v + b"\x1b[0m")]
    for tag, data in (("v", v), ("u", b"user:" + v)):
        for alpha, enc in (("std", base64.b64encode), ("url", base64.urlsafe_b64encode)):
            e = enc(data)
            out.append(("b64-%s-pad-%s" % (alpha, tag), e))
            out.append(("b64-%s-nopad-%s" % (alpha, tag), e.rstrip(b"=")))
    out.append(("hex", v.hex().encode()))
    out.append(("HEX", v.hex().upper().encode()))
    out.append(("url", urllib.parse.quote(v, safe="").encode()))
    try:
        out.append(("json", json.dumps(v.decode("utf-8")).encode()))
    except UnicodeDecodeError:
        pass
    if len(v) >= 8:
        out.append(("swapcase", v.swapcase()))
    return out

if sys.argv[1] == "forms":
    v = bytes.fromhex(sys.argv[2])
    print(json.dumps([[label, f.hex()] for label, f in forms(v)]))
else:
    name, seed = sys.argv[2], int(sys.argv[3])
    v = os.environb[name.encode()]
    rng = random.Random(seed)
    streams = (sys.stdout.buffer, sys.stderr.buffer)
    for label, f in forms(v):
        cut = rng.randrange(1, len(f))
        for s in streams:
            s.write(b"<B:" + label.encode() + b">" + f[:cut])
            s.flush()
        time.sleep(0.2)
        for s in streams:
            s.write(f[cut:] + b"<E:" + label.encode() + b">\n")
            s.flush()
"#;

/// xorshift64* seeded from `REDACTION_SEED` or the kernel; the seed is printed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = match std::env::var("REDACTION_SEED") {
            Ok(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex seed"),
            Err(_) => u64::from_le_bytes(harness::random_bytes(8).try_into().unwrap()) | 1,
        };
        eprintln!("redaction: REDACTION_SEED={seed:#x}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }
}

/// A value of `len` bytes, never NUL. Kinds rotate: any byte; UTF-8 text with controls, quotes,
/// backslashes and non-ASCII (so the JSON form is exercised); ASCII letters and punctuation (so
/// case folding is exercised).
fn random_value(rng: &mut Rng, kind: usize, len: usize) -> Vec<u8> {
    const TEXT: &[&str] = &[
        "a", "Z", "q", "7", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{1}", "\u{1f}", "\u{7f}",
        "é", "ß", "Ω", "€", "中", "\u{200b}", "😀", "%", "+", "&", "=", "<", ">", "'",
    ];
    const ASCII: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:!@";
    let mut v = Vec::with_capacity(len + 4);
    while v.len() < len {
        match kind {
            0 => v.push(rng.range(1, 255) as u8),
            1 => {
                let piece = TEXT[rng.below(TEXT.len() as u64) as usize].as_bytes();
                if v.len() + piece.len() <= len {
                    v.extend_from_slice(piece);
                } else {
                    v.push(b'x');
                }
            }
            _ => v.push(ASCII[rng.below(ASCII.len() as u64) as usize]),
        }
    }
    v
}

/// The forms the child prints for `value`, from the child's own code.
fn forms_of(value: &[u8]) -> Vec<(String, Vec<u8>)> {
    let out = std::process::Command::new(python3())
        .args(["-c", FORMS_PY, "forms", &hex::encode(value)])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "forms: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<(String, String)> = serde_json::from_slice(&out.stdout).expect("forms JSON");
    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    for (label, h) in list {
        seen.push((label, hex::decode(h).unwrap()));
    }
    seen
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks one captured stream: the markers of every form in order, nothing else between lines,
/// a redaction marker in place of each form, and no form anywhere.
fn check_stream(stream: &[u8], what: &str, env: &str, forms: &[(String, Vec<u8>)]) {
    let marker = format!("[REDACTED:{env}]").into_bytes();
    let show = || String::from_utf8_lossy(stream).into_owned();
    let mut rest = stream;
    for (label, form) in forms {
        let begin = format!("<B:{label}>").into_bytes();
        let end = format!("<E:{label}>\n").into_bytes();
        assert!(
            rest.starts_with(&begin),
            "{what}: expected {label} begin marker at {:?}\nwhole stream: {:?}",
            String::from_utf8_lossy(&rest[..rest.len().min(80)]),
            show()
        );
        let after = &rest[begin.len()..];
        let stop = find(after, &end)
            .unwrap_or_else(|| panic!("{what}: {label} end marker missing: {:?}", show()));
        let segment = &after[..stop];
        assert!(
            !contains(segment, form),
            "{what}: form {label} survived: {:?}",
            String::from_utf8_lossy(segment)
        );
        assert!(
            contains(segment, &marker),
            "{what}: form {label} has no redaction marker: {:?}",
            String::from_utf8_lossy(segment)
        );
        match label.as_str() {
            "raw" | "swapcase" => assert_eq!(
                segment,
                &marker[..],
                "{what}: {label}: {:?}",
                String::from_utf8_lossy(segment)
            ),
            "ansi" => assert_eq!(
                segment,
                &[&b"\x1b[31m"[..], &marker, b"\x1b[0m"].concat()[..],
                "{what}: ansi: {:?}",
                String::from_utf8_lossy(segment)
            ),
            _ => {}
        }
        rest = &after[stop + end.len()..];
    }
    assert!(
        rest.is_empty(),
        "{what}: unexpected trailing output {:?}",
        String::from_utf8_lossy(rest)
    );
    for (label, form) in forms {
        assert!(
            !contains(stream, form),
            "{what}: form {label} appears in the output"
        );
    }
}

struct Case {
    key: String,
    env: String,
    value: Vec<u8>,
    split_seed: u64,
}

/// Stores the cases in a fresh vault and runs the child for each one.
fn run_cases(cases: Vec<Case>) {
    let v = TestVault::new();
    for (i, case) in cases.iter().enumerate() {
        let file = v.scratch(&format!("value-{i}"));
        std::fs::write(&file, &case.value).unwrap();
        v.run(&["set", &case.key, "--from-file", file.to_str().unwrap()])
            .ok(&format!("set {} --from-file", case.key));
        assert_eq!(v.get(&case.key), case.value, "{} stored exactly", case.key);
    }
    for case in &cases {
        let forms = forms_of(&case.value);
        let seed = case.split_seed.to_string();
        let out = v.run(&[
            "run",
            "-k",
            &case.key,
            "--",
            python3(),
            "-c",
            FORMS_PY,
            "emit",
            &case.env,
            &seed,
        ]);
        let what = format!(
            "{} (value {}, split seed {seed})",
            case.key,
            hex::encode(&case.value)
        );
        assert_eq!(out.code, Some(0), "{what}: stderr {:?}", out.stderr);
        check_stream(&out.stdout, &format!("{what} stdout"), &case.env, &forms);
        check_stream(
            out.stderr.as_bytes(),
            &format!("{what} stderr"),
            &case.env,
            &forms,
        );
    }
}

#[test]
fn random_values_are_redacted_in_every_form_on_both_streams() {
    // `REDACTION_CASES=N` runs more cases (a soak run); the default keeps the file fast.
    let cases_wanted: usize = std::env::var("REDACTION_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    const WORKERS: usize = 4;
    let mut rng = Rng::new();
    let mut cases = Vec::new();
    for i in 0..cases_wanted {
        let len = match i {
            0 => 4,
            1 => 200,
            _ => rng.range(4, 200),
        };
        let mut value = random_value(&mut rng, i % 3, len);
        if i == 2 {
            // A value wrapped in control bytes, as a coloured terminal line would carry it.
            value.truncate(190);
            value = [&b"\x1b[31m"[..], &value, b"\x1b[0m"].concat();
        }
        cases.push(Case {
            key: format!("prop/v{i}"),
            env: format!("PROP_V{i}"),
            value,
            split_seed: rng.next() >> 1,
        });
    }
    // Each worker has its own vault, so concurrent runs never contend for one database; the
    // children mostly sleep, so four at once are cheap even on two cores.
    let mut buckets: Vec<Vec<Case>> = (0..WORKERS).map(|_| Vec::new()).collect();
    for (i, case) in cases.into_iter().enumerate() {
        buckets[i % WORKERS].push(case);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|b| s.spawn(move || run_cases(b)))
            .collect();
        let mut failures = Vec::new();
        for h in handles {
            if let Err(e) = h.join() {
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default(),
                );
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    });
}

#[test]
fn a_value_with_a_nul_byte_is_refused_by_run() {
    let v = TestVault::new();
    let file = v.scratch("nul-value");
    std::fs::write(&file, b"abc\0def-nul-value").unwrap();
    v.run(&["set", "bin/nul", "--from-file", file.to_str().unwrap()])
        .ok("set a value with a NUL byte");
    let marker = v.scratch("ran");
    let touch = format!("touch '{}'", marker.display());
    let out = v.run(&["run", "-k", "bin/nul", "--", "sh", "-c", &touch]);
    let line = out.failure(1, "run with a NUL in a value");
    assert!(
        line.contains("BIN_NUL") && line.contains("NUL byte"),
        "{line}"
    );
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn an_interactive_prompt_flows_through_at_once() {
    let v = TestVault::new();
    v.set("api/token", b"prompt-secret-value-99");
    let mut cmd = harness::command(&v.dir);
    cmd.args([
        "run",
        "-k",
        "api/token",
        "--",
        python3(),
        "-c",
        "import sys, time; sys.stdout.write('Password: '); sys.stdout.flush(); time.sleep(2)",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn secretctl");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got == b"Password: " {
                        let _ = tx.send(Instant::now());
                    }
                }
            }
        }
        got
    });
    let arrived = rx.recv_timeout(Duration::from_secs(10));
    let running_then = child.try_wait().expect("try_wait").is_none();
    let status = child.wait().expect("wait");
    let exited = Instant::now();
    let all = reader.join().unwrap();
    let arrived = arrived.unwrap_or_else(|_| {
        panic!(
            "the prompt never arrived alone; stdout was {:?}",
            String::from_utf8_lossy(&all)
        )
    });
    assert!(
        running_then,
        "the prompt arrived only after the child exited"
    );
    // The child sleeps 2 s after its prompt: the prompt came through at most ~0.5 s after it
    // was written (measured from the end, so a slow start under load does not count).
    let before_exit = exited - arrived;
    assert!(
        before_exit >= Duration::from_millis(1500),
        "the prompt arrived only {before_exit:?} before the end ({:?} after start)",
        arrived - start
    );
    assert!(status.success());
    assert_eq!(all, b"Password: ");
}

// ---------------------------------------------------------------------------------------------
// `secretctl redact`
// ---------------------------------------------------------------------------------------------

const REDACT_SECRET: &[u8] = b"s3cr3t-Value-42"; // 15 bytes: base64 without partial groups
const REDACT_MARKER: &[u8] = b"[REDACTED:API_TOKEN]";

/// Spawns `secretctl redact -k api/token` on a vault holding [`REDACT_SECRET`].
fn redact_filter(v: &TestVault) -> std::process::Child {
    let mut cmd = harness::command(&v.dir);
    cmd.args(["redact", "-k", "api/token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("spawn secretctl redact")
}

#[test]
fn redact_filter_streams_and_redacts_split_and_encoded_values() {
    let v = TestVault::new();
    v.set("api/token", REDACT_SECRET);
    let b64 = base64::engine::general_purpose::STANDARD.encode(REDACT_SECRET);
    assert!(!b64.contains('='));
    let mut child = redact_filter(&v);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let first = [&b"line one\nbefore "[..], &REDACT_SECRET[..6]].concat();
    stdin.write_all(&first).unwrap();
    stdin.flush().unwrap();
    // What cannot be part of the secret is released at once; its first six bytes are held.
    let mut early = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while early != b"line one\nbefore " && Instant::now() < deadline {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            early.extend_from_slice(&chunk);
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&early),
        "line one\nbefore ",
        "released before the rest of the secret arrived"
    );
    std::thread::sleep(Duration::from_millis(300));
    let second = [
        &REDACT_SECRET[6..],
        b" after\nencoded: ",
        b64.as_bytes(),
        b" end\nclean line\n",
    ]
    .concat();
    stdin.write_all(&second).unwrap();
    drop(stdin);
    let status = child.wait().expect("wait");
    reader.join().unwrap();
    let mut rest = early;
    while let Ok(chunk) = rx.try_recv() {
        rest.extend_from_slice(&chunk);
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "stderr: {stderr}");
    assert_eq!(stderr, "");
    let expected = [
        &b"line one\nbefore "[..],
        REDACT_MARKER,
        b" after\nencoded: ",
        REDACT_MARKER,
        b" end\nclean line\n",
    ]
    .concat();
    assert_eq!(
        String::from_utf8_lossy(&rest),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn redact_filter_passes_binary_input_through() {
    let v = TestVault::new();
    v.set("api/token", REDACT_SECRET);
    let mut rng = Rng::new();
    // Random binary (NULs and high bytes included), without letters, so it cannot form the
    // secret or one of its encodings by chance.
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            let b = rng.below(256) as u8;
            if b.is_ascii_alphanumeric() { 0 } else { b }
        })
        .collect();
    let input = [
        &b"\x00\x01\xfe\xff"[..],
        REDACT_SECRET,
        b"\x00\x00",
        &noise,
        hex::encode(REDACT_SECRET).as_bytes(),
        b"\xff\x00tail",
    ]
    .concat();
    let expected = [
        &b"\x00\x01\xfe\xff"[..],
        REDACT_MARKER,
        b"\x00\x00",
        &noise,
        REDACT_MARKER,
        b"\xff\x00tail",
    ]
    .concat();
    let out = v.run_with_stdin(&["redact", "-k", "api/token"], &input);
    let stdout = out.ok("redact binary input");
    assert_eq!(stdout.len(), expected.len(), "output length");
    assert!(stdout == &expected[..], "binary output differs");
}
