//! `parse_json` on arbitrary text: never panics, errors are one line, and whatever it accepts
//! survives `render_json` → `parse_json` and `render_yaml` → `parse_yaml` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::transfer::{parse_json, parse_yaml, render_json, render_yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let items = match parse_json(text) {
        Ok(items) => items,
        Err(err) => {
            assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
            return;
        }
    };
    let json = render_json(&items).expect("JSON carries every JSON item");
    assert_eq!(parse_json(&json).expect("rendered JSON parses"), items);
    let yaml = render_yaml(&items).expect("YAML carries every JSON item");
    assert_eq!(parse_yaml(&yaml).expect("rendered YAML parses"), items);
});
