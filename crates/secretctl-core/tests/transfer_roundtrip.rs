//! Property tests: every renderer's output parses back to the same items, and
//! the shell renderer's output means the same thing to a real `/bin/sh`.

use std::collections::BTreeMap;
use std::process::Command;

use proptest::prelude::*;
use secretctl_core::transfer::{
    Item, parse_dotenv, parse_json, parse_yaml, render_dotenv, render_json, render_shell,
    render_yaml,
};

/// Characters that break naive quoting, mixed with arbitrary ones.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            '"', '\'', '\\', '$', '#', '\n', '\r', '\t', ' ', '=', '`', '{', '}', '!', '*', '&',
            ':', '-', '?', '|', '>', '%', '@', ',', '[', ']', '~', '\u{85}', '\u{2028}',
            '\u{feff}', 'é', '日', '😀', '\u{1b}', '\u{7f}', '\u{a0}',
        ]),
        2 => any::<char>().prop_filter("NUL", |c| *c != '\0'),
        3 => prop::char::range('a', 'z'),
    ]
}

/// Any UTF-8 text without NUL (what env and shell formats can carry).
fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(tricky_char(), 0..40).prop_map(|c| c.into_iter().collect()),
        // Whole words that YAML readers like to retype.
        prop::sample::select(vec![
            "",
            " ",
            "yes",
            "no",
            "on",
            "off",
            "null",
            "~",
            "true",
            "0755",
            "1.50",
            "1e3",
            "0x1F",
            ".inf",
            "-",
            "- x",
            "? x",
            "a: b",
            "#x",
            "&a",
            "*a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "|",
            ">",
            "'",
            "\"",
            "2001-12-14",
            "1:20",
            "<<",
            "=",
            "---",
            "...",
            "\n",
            "\n\n",
            " \n",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any bytes (what JSON and YAML carry, through base64 when not UTF-8).
fn byte_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        text_value().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
        "[a-z\\x00]{0,8}".prop_map(String::into_bytes),
    ]
}

fn items<K, V>(keys: K, values: V) -> impl Strategy<Value = Vec<Item>>
where
    K: Strategy<Value = String>,
    V: Strategy,
    V::Value: Into<Vec<u8>>,
{
    prop::collection::btree_map(keys, values, 0..6).prop_map(|map: BTreeMap<String, V::Value>| {
        map.into_iter().map(|(k, v)| Item::new(k, v)).collect()
    })
}

/// Vault key names (SPEC §3.3 plus `_`), including ones YAML would retype.
fn vault_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._/-]{1,12}",
        prop::sample::select(vec!["null", "true", "1", "~", "-", "yes", "1.5", "<<"])
            .prop_map(str::to_owned),
    ]
}

/// Runs `script` in `/bin/sh` and returns what it printed.
fn sh(script: &str) -> Vec<u8> {
    let output = Command::new("/bin/sh")
        .env_clear()
        .arg("-c")
        .arg(script)
        .output()
        .expect("run /bin/sh");
    assert!(
        output.status.success(),
        "sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Prints each key's shell value followed by a NUL (values cannot hold NUL).
fn print_values(items: &[Item]) -> String {
    items
        .iter()
        .map(|item| format!("printf '%s\\000' \"${}\"\n", item.key))
        .collect()
}

fn split_nul(out: &[u8]) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    assert_eq!(parts.pop(), Some(&b""[..]), "output must end with NUL");
    parts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dotenv_round_trips(items in items("[A-Za-z0-9_./-]{1,12}", text_value())) {
        let text = render_dotenv(&items).unwrap();
        prop_assert_eq!(parse_dotenv(&text).unwrap(), items);
    }

    #[test]
    fn json_round_trips(items in items(any::<String>(), byte_value())) {
        let text = render_json(&items).unwrap();
        prop_assert_eq!(parse_json(&text).unwrap(), items);
    }

    #[test]
    fn yaml_round_trips(items in items(vault_key(), byte_value())) {
        let text = render_yaml(&items).unwrap();
        let parsed = parse_yaml(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, text.as_str());
        prop_assert_eq!(parsed.unwrap(), items, "{}", text.as_str());
    }

    #[test]
    fn yaml_round_trips_any_key(items in items(any::<String>(), text_value())) {
        let text = render_yaml(&items).unwrap();
        let parsed = parse_yaml(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, text.as_str());
        prop_assert_eq!(parsed.unwrap(), items, "{}", text.as_str());
    }

    /// Multi-line printable text, the case where YAML block scalars are used.
    #[test]
    fn yaml_round_trips_multi_line_text(
        items in items(vault_key(), prop::collection::vec("[ a-z#:'\"|>-]{0,8}", 1..6).prop_map(|l| l.join("\n")))
    ) {
        let text = render_yaml(&items).unwrap();
        let parsed = parse_yaml(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, text.as_str());
        prop_assert_eq!(parsed.unwrap(), items, "{}", text.as_str());
    }

    #[test]
    fn dotenv_refuses_exactly_what_it_cannot_carry(value in byte_value()) {
        let items = [Item::new("K", value.clone())];
        let representable = std::str::from_utf8(&value).is_ok_and(|s| !s.contains('\0'));
        prop_assert_eq!(render_dotenv(&items).is_ok(), representable);
        prop_assert_eq!(render_shell(&items).is_ok(), representable);
    }
}

proptest! {
    // Each case starts a shell; fewer cases keep the suite fast.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `eval "$(secretctl export --format shell)"` gives the shell exactly the
    /// stored values.
    #[test]
    fn shell_output_evaluates_to_the_values(items in items("K_[A-Za-z0-9_]{0,8}", text_value())) {
        let script = format!("{}{}", render_shell(&items).unwrap().as_str(), print_values(&items));
        let out = sh(&script);
        let got = split_nul(&out);
        let want: Vec<&[u8]> = items.iter().map(|i| i.value.as_slice()).collect();
        prop_assert_eq!(got, want);
    }

    /// A rendered .env file can be `source`d by sh without anything being
    /// expanded or executed; values without newline, CR or tab (which the
    /// shell reads as two-character escapes) come out exactly.
    #[test]
    fn dotenv_output_is_safe_to_source(items in items("K_[A-Za-z0-9_]{0,8}", text_value())) {
        let text = render_dotenv(&items).unwrap();
        let script = format!("{}{}", text.as_str(), print_values(&items));
        let out = sh(&script);
        let got = split_nul(&out);
        for (item, got) in items.iter().zip(got) {
            if !item.value.iter().any(|b| matches!(b, b'\n' | b'\r' | b'\t')) {
                prop_assert_eq!(got, item.value.as_slice());
            }
        }
    }
}

#[test]
fn shell_evaluates_hostile_values_without_running_them() {
    let items = [
        Item::new("A", "$(echo pwned)"),
        Item::new("B", "`echo pwned`"),
        Item::new("C", "'; echo pwned; '"),
        Item::new("D", "line1\nline2\n\n"),
        Item::new("E", ""),
    ];
    let script = format!(
        "{}{}",
        render_shell(&items).unwrap().as_str(),
        print_values(&items)
    );
    let out = sh(&script);
    let got = split_nul(&out);
    let want: Vec<&[u8]> = items.iter().map(|i| i.value.as_slice()).collect();
    assert_eq!(got, want);
}
