//! How a secret's fields and bindings are stored: JSON sealed under the DEK in
//! `encrypted_fields` and `encrypted_bindings`. A plain secret (one sensitive field `value` with
//! no extras, no bindings) keeps the compact form: the bytes in `encrypted_value`, both JSON
//! columns NULL. Field values are base64 in the JSON so that any bytes survive.

use crate::secret::{Bindings, Field, InputType, SecretValue, VALUE_FIELD};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredField {
    name: String,
    value: String,
    sensitive: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default)]
    input_type: InputType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl Drop for StoredField {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

/// Whether these fields fit the compact plain form.
pub(super) fn is_plain(fields: &[Field], bindings: &Bindings) -> bool {
    bindings.is_empty()
        && matches!(fields, [f] if f.name == VALUE_FIELD
            && f.sensitive
            && f.aliases.is_empty()
            && f.kind.is_none()
            && f.hint.is_none()
            && f.input_type == InputType::Line)
}

/// The JSON plaintext of `fields`, wiped on drop.
pub fn encode_fields(fields: &[Field]) -> Zeroizing<Vec<u8>> {
    let stored: Vec<StoredField> = fields
        .iter()
        .map(|f| StoredField {
            name: f.name.clone(),
            value: STANDARD.encode(f.value.expose_bytes()),
            sensitive: f.sensitive,
            aliases: f.aliases.clone(),
            kind: f.kind.clone(),
            input_type: f.input_type,
            hint: f.hint.clone(),
        })
        .collect();
    Zeroizing::new(serde_json::to_vec(&stored).expect("fields serialise"))
}

/// Parses decrypted field JSON; `None` when it is not ours.
pub fn decode_fields(plain: &[u8]) -> Option<Vec<Field>> {
    let stored: Vec<StoredField> = serde_json::from_slice(plain).ok()?;
    stored
        .iter()
        .map(|s| {
            let bytes = STANDARD.decode(&s.value).ok()?;
            Some(Field {
                name: s.name.clone(),
                value: SecretValue::from_stored(bytes),
                sensitive: s.sensitive,
                aliases: s.aliases.clone(),
                kind: s.kind.clone(),
                input_type: s.input_type,
                hint: s.hint.clone(),
            })
        })
        .collect()
}

/// The JSON plaintext of `bindings`.
pub fn encode_bindings(bindings: &Bindings) -> Vec<u8> {
    serde_json::to_vec(bindings).expect("bindings serialise")
}

/// Parses decrypted binding JSON; `None` when it is not ours.
pub fn decode_bindings(plain: &[u8]) -> Option<Bindings> {
    serde_json::from_slice(plain).ok()
}
