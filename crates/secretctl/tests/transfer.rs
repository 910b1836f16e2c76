//! `export`, `import` and `inject` through the real binary (SPEC §5.3, §5.4): lossless round
//! trips (dotenv corpus, JSON and YAML with binary values), all-or-nothing imports, conflict
//! handling, dry runs, tags, the safety of output files, and template rendering.

mod harness;

use harness::{Output, TestVault};
use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

type Map = BTreeMap<String, Vec<u8>>;

/// A corpus case: its name, its `.env` file and the expected `(key, value)` items.
type CorpusCase = (String, PathBuf, Vec<(String, String)>);

/// The dotenv corpus of the core crate: `NAME.env` with its expected items in `NAME.json`
/// (`[["KEY", "value"], …]`).
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../secretctl-core/tests/corpus/dotenv")
}

/// The variable name `export --format env` gives a key (SPEC §5.1).
fn env_name(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '/' | '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Whether `name` is a variable name `export --format env` can write.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A vault's contents as `export --format json` shows them, `{"base64": …}` decoded.
fn exported_map(dir: &Path) -> Map {
    let out = harness::secretctl(dir, &["export", "--format", "json"]);
    json_map(out.ok("export --format json"))
}

fn json_map(bytes: &[u8]) -> Map {
    let value: serde_json::Value = serde_json::from_slice(bytes).expect("export is JSON");
    let object = value.as_object().expect("export is a JSON object");
    object
        .iter()
        .map(|(k, v)| {
            let bytes = match v {
                serde_json::Value::String(s) => s.clone().into_bytes(),
                serde_json::Value::Object(o) => {
                    use base64::Engine as _;
                    let b64 = o["base64"].as_str().expect("{\"base64\": …}");
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .expect("valid base64")
                }
                other => panic!("unexpected JSON value for {k}: {other}"),
            };
            (k.clone(), bytes)
        })
        .collect()
}

/// The key names `list` prints.
fn listed(v: &TestVault) -> Vec<String> {
    v.run(&["list"])
        .ok_text("list")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn text(out: &Output, what: &str) -> String {
    out.ok_text(what)
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

/// One corpus file: import it, check every value, export it as .env, import that into a second
/// vault and check the values again (under their variable names).
fn dotenv_round_trip(name: &str, env_file: &Path, expected: &[(String, String)]) {
    let a = TestVault::new();
    let out = a.run(&["import", env_file.to_str().unwrap()]);
    let report = text(&out, &format!("{name}: import"));
    assert!(
        report.ends_with(&format!(
            "imported: {} created, 0 overwritten, 0 skipped\n",
            expected.len()
        )),
        "{name}: {report}"
    );
    let want: Map = expected
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    assert_eq!(
        want.len(),
        expected.len(),
        "{name}: duplicate keys in .json"
    );
    assert_eq!(exported_map(&a.dir), want, "{name}: vault after import");

    // Keys whose variable name `export --format env` cannot write (`123`) are left out.
    let exportable: Vec<&(String, String)> = expected
        .iter()
        .filter(|(k, _)| is_env_name(&env_name(k)))
        .collect();
    assert!(!exportable.is_empty(), "{name}: nothing to export");
    let mut args = vec!["export", "--format", "env"];
    for (k, _) in &exportable {
        args.extend(["-k", k.as_str()]);
    }
    let env_text = a
        .run(&args)
        .ok(&format!("{name}: export --format env"))
        .to_vec();
    let exported = a.scratch("exported.env");
    std::fs::write(&exported, &env_text).unwrap();

    let b = TestVault::new();
    b.run(&["import", exported.to_str().unwrap()])
        .ok(&format!("{name}: re-import"));
    let want_b: Map = exportable
        .iter()
        .map(|(k, v)| (env_name(k), v.clone().into_bytes()))
        .collect();
    assert_eq!(
        exported_map(&b.dir),
        want_b,
        "{name}: values after .env → vault → .env → vault; the exported file was:\n{}",
        String::from_utf8_lossy(&env_text)
    );
}

#[test]
fn dotenv_corpus_round_trips_losslessly() {
    let mut cases: Vec<CorpusCase> = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).expect("the core dotenv corpus") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "env") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expected: Vec<(String, String)> = serde_json::from_str(
                &std::fs::read_to_string(path.with_extension("json")).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{name}.json: {e}"));
            cases.push((name, path, expected));
        }
    }
    cases.sort();
    assert!(cases.len() >= 14, "only {} corpus cases", cases.len());
    // The corpus covers what the test promises: quotes, `=`, `#`, inline comments, multi-line
    // values, tabs, unicode, `export`, empty values, backslashes and `$`.
    let names: Vec<&str> = cases.iter().map(|c| c.0.as_str()).collect();
    for needed in [
        "quotes",
        "equals",
        "hash",
        "newlines",
        "tabs",
        "unicode",
        "export",
        "empty",
        "backslashes",
        "dollar",
    ] {
        assert!(names.contains(&needed), "corpus case {needed} is missing");
    }
    // Four at a time: each command mostly waits on the KDF of its own process.
    let workers = 4;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let cases = &cases;
                s.spawn(move || {
                    for (name, path, expected) in cases.iter().skip(w).step_by(workers) {
                        dotenv_round_trip(name, path, expected);
                    }
                })
            })
            .collect();
        let failed = handles.into_iter().filter_map(|h| h.join().err()).count();
        assert_eq!(failed, 0, "corpus cases failed (see above)");
    });
}

/// Secrets of every awkward kind, stored byte for byte.
fn awkward_vault() -> (TestVault, Map) {
    let v = TestVault::new();
    let values: Vec<(&str, Vec<u8>)> = vec![
        ("bin/key", b"\x00\x80\xff binary\xfe\n".to_vec()),
        (
            "text/multiline",
            b"line 1\nline 2\n  indented\ttab\n".to_vec(),
        ),
        ("text/unicode", "päss wörd ✓ 鍵 😀".as_bytes().to_vec()),
        (
            "text/quotes",
            b"it's \"quoted\" \\ $HOME `id` # not a comment".to_vec(),
        ),
        ("yaml/looks-like", b"0755".to_vec()),
        ("yaml/bool", b"yes".to_vec()),
        ("yaml/null", b"~".to_vec()),
        ("spaces", b"  leading and trailing  ".to_vec()),
    ];
    for (i, (key, value)) in values.iter().enumerate() {
        let file = v.scratch(&format!("value-{i}"));
        std::fs::write(&file, value).unwrap();
        v.run(&["set", key, "--from-file", file.to_str().unwrap()])
            .ok(&format!("set {key}"));
    }
    let map = values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    (v, map)
}

#[test]
fn json_and_yaml_exports_import_into_a_fresh_vault_unchanged() {
    let (source, want) = awkward_vault();
    assert_eq!(exported_map(&source.dir), want, "source vault");
    for format in ["json", "yaml"] {
        let file = source.scratch(&format!("export.{format}"));
        source
            .run(&["export", "--format", format, "-o", file.to_str().unwrap()])
            .ok(&format!("export --format {format} -o"));
        let exported = std::fs::read_to_string(&file).unwrap();
        assert!(
            exported.contains("base64"),
            "{format}: the binary value is not in base64 form:\n{exported}"
        );
        let fresh = TestVault::new();
        fresh
            .run(&["import", file.to_str().unwrap()])
            .ok(&format!("import the {format} export"));
        assert_eq!(exported_map(&fresh.dir), want, "{format} round trip");
        assert_eq!(
            fresh.get("bin/key"),
            want["bin/key"],
            "{format}: binary value"
        );
    }
}

#[test]
fn json_import_takes_base64_values_byte_for_byte() {
    let v = TestVault::new();
    let file = v.scratch("in.json");
    // "\x00\x80\xffAB" in base64, next to ordinary values.
    std::fs::write(
        &file,
        r#"{"plain/a": "text", "bin/raw": {"base64": "AID/QUI="}, "num/port": 5432}"#,
    )
    .unwrap();
    v.run(&["import", file.to_str().unwrap()])
        .ok("import base64 JSON");
    assert_eq!(v.get("bin/raw"), b"\x00\x80\xffAB");
    assert_eq!(v.get("plain/a"), b"text");
    assert_eq!(v.get("num/port"), b"5432");
}

// ---------------------------------------------------------------------------------------------
// All or nothing, conflicts, dry runs, tags
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_item_aborts_the_whole_import() {
    let v = TestVault::new();
    v.set("keep/me", b"existing");
    let before = listed(&v);
    let big = "x".repeat(1024 * 1024 + 1);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "bad-key.env",
            "FIRST=1\nSECOND=2\nbad key=3\nFOURTH=4\n".to_owned(),
            "line 3",
        ),
        (
            "bad-key.json",
            r#"{"first/a": "1", "second/b": "2", "bad key": "3", "fourth/d": "4"}"#.to_owned(),
            "bad key",
        ),
        (
            "dotdot.yaml",
            "first/a: '1'\nsecond/b: '2'\nthird/../c: '3'\n".to_owned(),
            "third/../c",
        ),
        (
            "too-big.json",
            format!(r#"{{"first/a": "1", "second/b": "2", "third/c": "{big}"}}"#),
            "third/c",
        ),
    ];
    for (name, content, named) in cases {
        let file = v.scratch(name);
        std::fs::write(&file, content).unwrap();
        let out = v.run(&["import", file.to_str().unwrap()]);
        let line = out.failure(2, &format!("import {name}"));
        assert!(line.contains(named), "{name}: {line}");
        assert_eq!(listed(&v), before, "{name}: something was written");
    }
}

#[test]
fn conflicts_skip_overwrite_dry_run_and_tags() {
    let v = TestVault::new();
    v.set("dup/key", b"old-value");
    let file = v.scratch("batch.json");
    std::fs::write(
        &file,
        r#"{"new/one": "1", "dup/key": "new-value", "new/two": "2"}"#,
    )
    .unwrap();
    let file = file.to_str().unwrap();

    // error (also the default): nothing is written, the line names the key.
    for args in [
        vec!["import", file, "--on-conflict", "error"],
        vec!["import", file],
    ] {
        let line = v.run(&args).failure(1, "import with a conflict");
        assert!(line.contains("dup/key"), "{line}");
        assert_eq!(listed(&v), ["dup/key"]);
    }

    // dry run: exactly what would happen, nothing written.
    let out = v.run(&["import", file, "--on-conflict", "overwrite", "--dry-run"]);
    assert_eq!(
        text(&out, "import --dry-run"),
        "would create new/one\nwould create new/two\nwould overwrite dup/key\n\
         dry run: 2 created, 1 overwritten, 0 skipped\n"
    );
    let out = v.run(&["import", file, "--on-conflict", "skip", "--dry-run"]);
    assert_eq!(
        text(&out, "import --dry-run --on-conflict skip"),
        "would create new/one\nwould create new/two\nwould skip dup/key\n\
         dry run: 2 created, 0 overwritten, 1 skipped\n"
    );
    assert_eq!(listed(&v), ["dup/key"]);
    assert_eq!(v.get("dup/key"), b"old-value");

    // skip, with a tag: the existing value stays, only the created secrets are tagged.
    let out = v.run(&["import", file, "--on-conflict", "skip", "--tag", "batch1"]);
    assert_eq!(
        text(&out, "import --on-conflict skip"),
        "created new/one\ncreated new/two\nskipped dup/key\n\
         imported: 2 created, 0 overwritten, 1 skipped\n"
    );
    assert_eq!(v.get("dup/key"), b"old-value");
    assert_eq!(v.get("new/one"), b"1");
    assert_eq!(listed(&v), ["dup/key", "new/one", "new/two"]);
    let tagged = text(&v.run(&["list", "--tag", "batch1"]), "list --tag batch1");
    assert_eq!(tagged, "new/one\nnew/two\n");

    // overwrite: every key exists now.
    let out = v.run(&["import", file, "--on-conflict", "overwrite"]);
    assert_eq!(
        text(&out, "import --on-conflict overwrite"),
        "overwrote new/one\noverwrote dup/key\noverwrote new/two\n\
         imported: 0 created, 3 overwritten, 0 skipped\n"
    );
    assert_eq!(v.get("dup/key"), b"new-value");
}

// ---------------------------------------------------------------------------------------------
// Output files
// ---------------------------------------------------------------------------------------------

#[test]
fn export_files_are_private_and_never_clobbered_or_followed() {
    let v = TestVault::new();
    v.set("api/token", b"token-value-1234");
    let expected = v.run(&["export"]).ok("export to stdout").to_vec();
    assert_eq!(expected, b"API_TOKEN=token-value-1234\n");

    // A new file: 0600, whatever the umask lets through.
    let out_file = v.scratch("out.env");
    let out_path = out_file.to_str().unwrap();
    v.run(&["export", "-o", out_path]).ok("export -o");
    assert_eq!(std::fs::read(&out_file).unwrap(), expected);
    assert_eq!(mode(&out_file), 0o600);

    // An existing file is kept without --force.
    std::fs::write(&out_file, "sentinel\n").unwrap();
    std::fs::set_permissions(&out_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = v
        .run(&["export", "-o", out_path])
        .failure(1, "export over an existing file");
    assert!(line.contains("--force"), "{line}");
    assert_eq!(std::fs::read(&out_file).unwrap(), b"sentinel\n");

    // With --force it is replaced, and private again.
    v.run(&["export", "-o", out_path, "--force"])
        .ok("export --force");
    assert_eq!(std::fs::read(&out_file).unwrap(), expected);
    assert_eq!(mode(&out_file), 0o600);

    // A symlink is refused, with or without --force, and its target is untouched; a dangling
    // symlink does not create its target.
    let target = v.scratch("target.txt");
    std::fs::write(&target, "target content\n").unwrap();
    let link = v.scratch("link.env");
    symlink(&target, &link).unwrap();
    let missing = v.scratch("never-created.txt");
    let dangling = v.scratch("dangling.env");
    symlink(&missing, &dangling).unwrap();
    for (path, force) in [(&link, false), (&link, true), (&dangling, false)] {
        let mut args = vec!["export", "-o", path.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        let line = v.run(&args).failure(1, "export through a symlink");
        assert!(line.contains("symlink"), "{line}");
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"target content\n");
    assert!(!missing.exists(), "export created the target of a symlink");

    // Writing into an existing directory never changes its mode, nor does naming the directory.
    let dir = v.scratch("shared-dir");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let inside = dir.join("secrets.env");
    v.run(&["export", "-o", inside.to_str().unwrap()])
        .ok("export into a directory");
    assert_eq!(mode(&dir), 0o755);
    assert_eq!(mode(&inside), 0o600);
    v.run(&["export", "-o", inside.to_str().unwrap(), "--force"])
        .ok("export --force into a directory");
    assert_eq!(mode(&dir), 0o755);
    for force in [false, true] {
        let mut args = vec!["export", "-o", dir.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        v.run(&args).failure(1, "export onto a directory");
        assert_eq!(mode(&dir), 0o755);
    }
}

// ---------------------------------------------------------------------------------------------
// inject
// ---------------------------------------------------------------------------------------------

#[test]
fn inject_renders_keys_and_fields() {
    let v = TestVault::new();
    v.set("api/token", b"tok-inject-5678");
    v.run_with_stdin(
        &[
            "set",
            "db/main",
            "--template",
            "database",
            "--field",
            "host=db.internal",
            "--field",
            "password=-",
        ],
        b"db-pass-9012\n",
    )
    .ok("set db/main");
    let template = v.scratch("config.tpl");
    std::fs::write(
        &template,
        "token: {{ secretctl://api/token }}\nurl: postgres://{{secretctl://db/main/host}}:5432\n\
         password: \"{{ secretctl://db/main/password }}\"\nplain {text} stays\n",
    )
    .unwrap();
    let rendered = "token: tok-inject-5678\nurl: postgres://db.internal:5432\n\
                    password: \"db-pass-9012\"\nplain {text} stays\n";
    let out = v.run(&["inject", "-i", template.to_str().unwrap()]);
    assert_eq!(text(&out, "inject"), rendered);

    let out_file = v.scratch("config.yaml");
    v.run(&[
        "inject",
        "-i",
        template.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ])
    .ok("inject -o");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), rendered);
    assert_eq!(mode(&out_file), 0o600);
}

#[test]
fn inject_with_an_unknown_key_fails_and_writes_nothing() {
    let v = TestVault::new();
    v.set("api/token", b"tok-inject-5678");
    let template = v.scratch("bad.tpl");
    std::fs::write(
        &template,
        "ok: {{ secretctl://api/token }}\nmissing: {{ secretctl://missing/key }}\n",
    )
    .unwrap();
    let out_file = v.scratch("never.yaml");
    let out = v.run(&[
        "inject",
        "-i",
        template.to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    let line = out.failure(1, "inject with an unknown key");
    assert!(line.contains("secretctl://missing/key"), "{line}");
    assert!(!out_file.exists(), "inject created its output file");
    // To stdout as well: nothing printed, the rendered part included.
    let out = v.run(&["inject", "-i", template.to_str().unwrap()]);
    out.failure(1, "inject with an unknown key to stdout");
}
