//! The vault's decoders of decrypted field and binding blobs (`vault::stored_codec`) on
//! arbitrary bytes. They run after AEAD authentication, so their input was written by
//! secretctl itself, but a decoder must still never panic on a damaged or old-format blob, and
//! whatever it accepts must survive encode → decode unchanged (a secret rewritten by `set` keeps
//! every field, value and binding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::secret::Field;
use secretctl_core::vault::stored_codec::{
    decode_bindings, decode_fields, encode_bindings, encode_fields,
};

fn same(a: &[Field], b: &[Field]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.name == b.name
                && a.value.expose_bytes() == b.value.expose_bytes()
                && a.sensitive == b.sensitive
                && a.aliases == b.aliases
                && a.kind == b.kind
                && a.input_type == b.input_type
                && a.hint == b.hint
        })
}

fuzz_target!(|data: &[u8]| {
    // Both decoders see the whole input, so one corpus serves both blob kinds.
    if let Some(fields) = decode_fields(data) {
        let again = decode_fields(&encode_fields(&fields)).expect("encoded fields decode");
        assert!(
            same(&fields, &again),
            "fields changed in an encode/decode round trip"
        );
    }
    if let Some(bindings) = decode_bindings(data) {
        let again = decode_bindings(&encode_bindings(&bindings)).expect("encoded bindings decode");
        assert_eq!(bindings, again);
    }
});
