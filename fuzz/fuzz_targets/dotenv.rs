//! `parse_dotenv` on arbitrary text: never panics, errors are one line, and whatever it accepts
//! survives `render_dotenv` → `parse_dotenv` unchanged (the renderer's documented guarantee).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::transfer::{parse_dotenv, render_dotenv, render_json, render_yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let items = match parse_dotenv(text) {
        Ok(items) => items,
        Err(err) => {
            // Keys come from the file: the error must stay one line (SPEC §12).
            assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
            return;
        }
    };
    // A value with a NUL is refused by the dotenv renderer with an error: that is allowed.
    if let Ok(rendered) = render_dotenv(&items) {
        assert_eq!(
            parse_dotenv(&rendered).expect("rendered dotenv parses"),
            items
        );
    }
    // Every dotenv value is text, which JSON and YAML carry losslessly.
    let json = render_json(&items).expect("JSON carries every dotenv item");
    assert_eq!(
        secretctl_core::transfer::parse_json(&json).expect("rendered JSON parses"),
        items
    );
    let yaml = render_yaml(&items).expect("YAML carries every dotenv item");
    assert_eq!(
        secretctl_core::transfer::parse_yaml(&yaml).expect("rendered YAML parses"),
        items
    );
});
