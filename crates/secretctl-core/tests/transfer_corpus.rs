//! The dotenv corpus: tricky files under `tests/corpus/dotenv/`, each with its
//! expected items in a sibling `.json` (`[["KEY", "value"], ...]`, in order),
//! and malformed files under `errors/` with the expected line and message.

use std::fs;
use std::path::{Path, PathBuf};

use secretctl_core::transfer::{
    Item, parse_dotenv, parse_json, parse_yaml, render_dotenv, render_json, render_yaml,
};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/dotenv")
}

/// The `.env` files of a directory, sorted, each with its sibling `.json`.
fn cases(dir: &Path) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "env") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).unwrap();
            let expected = fs::read_to_string(path.with_extension("json"))
                .unwrap_or_else(|_| panic!("{name}: missing .json"));
            out.push((name, text, serde_json::from_str(&expected).unwrap()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn expected_items(expected: &serde_json::Value) -> Vec<Item> {
    expected
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let pair = pair.as_array().unwrap();
            Item::new(pair[0].as_str().unwrap(), pair[1].as_str().unwrap())
        })
        .collect()
}

#[test]
fn corpus_is_present() {
    let cases = cases(&corpus_dir());
    assert!(cases.len() >= 14, "only {} corpus files", cases.len());
    // The CRLF case must really contain CRLF (a checkout with line-ending
    // conversion would make it test nothing; see .gitattributes).
    let crlf = cases.iter().find(|c| c.0 == "crlf").unwrap();
    assert!(crlf.1.contains("\r\n"));
}

#[test]
fn corpus_parses_to_expected_values() {
    for (name, text, expected) in cases(&corpus_dir()) {
        let items = parse_dotenv(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(items, expected_items(&expected), "{name}");
    }
}

#[test]
fn corpus_round_trips_through_every_renderer() {
    for (name, text, _) in cases(&corpus_dir()) {
        let items = parse_dotenv(&text).unwrap();

        let env = render_dotenv(&items).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            parse_dotenv(&env).unwrap(),
            items,
            "{name} (env):\n{}",
            env.as_str()
        );
        // Rendering is stable: a second round gives the same text.
        assert_eq!(
            render_dotenv(&parse_dotenv(&env).unwrap()).unwrap(),
            env,
            "{name}"
        );

        let json = render_json(&items).unwrap();
        assert_eq!(
            parse_json(&json).unwrap(),
            items,
            "{name} (json):\n{}",
            json.as_str()
        );

        let yaml = render_yaml(&items).unwrap();
        assert_eq!(
            parse_yaml(&yaml).unwrap(),
            items,
            "{name} (yaml):\n{}",
            yaml.as_str()
        );
    }
}

#[test]
fn corpus_errors_name_the_line() {
    let cases = cases(&corpus_dir().join("errors"));
    assert!(cases.len() >= 8);
    for (name, text, expected) in cases {
        let err = parse_dotenv(&text).expect_err(&name);
        assert_eq!(
            err.line as u64,
            expected["line"].as_u64().unwrap(),
            "{name}: {err}"
        );
        assert_eq!(err.message, expected["message"].as_str().unwrap(), "{name}");
    }
}
