//! `parse_env_file_with_refs` (`run --env-file`) on arbitrary text: never panics, errors are
//! one line, it accepts exactly the files `parse_dotenv` accepts with valid references, keeps
//! the same keys in the same order, and every value it returns resolves (a template's references
//! were validated at parse time, which `EnvValue::references` relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::transfer::{
    EnvValue, Reference, parse_dotenv, parse_env_file_with_refs, parse_reference, references,
};
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let entries = match parse_env_file_with_refs(text) {
        Ok(entries) => entries,
        Err(err) => {
            assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
            return;
        }
    };
    let plain = parse_dotenv(text).expect("a file with valid references is a dotenv file");
    assert_eq!(entries.len(), plain.len());
    for ((key, value), item) in entries.iter().zip(&plain) {
        assert_eq!(key, &item.key);
        match value {
            EnvValue::Literal(bytes) => assert_eq!(bytes.as_slice(), item.value.as_slice()),
            EnvValue::Reference(reference) => {
                let text = std::str::from_utf8(&item.value).expect("dotenv values are text");
                assert_eq!(parse_reference(text).as_ref(), Ok(reference));
                assert_eq!(reference.candidates()[0].0, reference.path);
            }
            EnvValue::Template(template) => {
                assert_eq!(template.as_bytes(), item.value.as_slice());
                let refs = references(template).expect("templates are validated when parsed");
                assert!(!refs.is_empty(), "a template holds a reference");
                assert_eq!(value.references(), refs);
            }
        }
        let mut calls = 0;
        let mut resolve = |r: &Reference| -> Result<Zeroizing<Vec<u8>>, String> {
            calls += 1;
            Ok(Zeroizing::new(r.path.as_bytes().to_vec()))
        };
        value
            .resolve(&mut resolve)
            .expect("an infallible resolver never fails");
    }
});
