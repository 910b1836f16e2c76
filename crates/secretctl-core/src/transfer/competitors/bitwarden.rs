//! Bitwarden's unencrypted JSON export ("Export vault", file format `.json`).
//!
//! ```text
//! {"encrypted": false,
//!  "folders": [{"id", "name"}],               nested folders are names with '/' ("Work/AWS")
//!  "collections": [{"id", "name"}],           organisation exports
//!  "items": [{"type", "name", "notes", "folderId", "collectionIds", "favorite", "reprompt",
//!             "fields": [{"name", "value", "type": 0 text | 1 hidden | 2 boolean | 3 linked}],
//!             "login": {"username", "password", "totp", "uris": [{"uri", "match"}],
//!                       "fido2Credentials"},
//!             "card": {...}, "identity": {...}, "sshKey": {...}, "secureNote": {...},
//!             "passwordHistory", "attachments", "creationDate", "revisionDate",
//!             "deletedDate", "archivedDate"}]}
//! ```
//!
//! Item types: 1 login, 2 secure note, 3 card, 4 identity, 5 SSH key. Any other type keeps its
//! notes and custom fields and is reported. An encrypted export (`"encrypted": true`, account-
//! or password-protected) is refused: secretctl cannot decrypt it, and the user can export
//! again without encryption.
//!
//! Errors from serde_json are reduced to line, column and kind: its messages can quote a
//! string from the file, which may be a value.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::secret::{Template, shown};
use crate::transfer::convert::{Converter, Draft, FieldDef, SecretText};
use crate::transfer::{Conversion, ParseError};

/// Just enough of the export to tell whether it is one and whether it is encrypted.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    encrypted: Option<bool>,
    password_protected: Option<bool>,
    items: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Export {
    folders: Option<Vec<Named>>,
    collections: Option<Vec<Named>>,
    items: Vec<Item>,
}

/// A folder or a collection.
#[derive(Deserialize)]
struct Named {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(rename = "type")]
    kind: Option<i64>,
    name: Option<String>,
    notes: Option<SecretText>,
    folder_id: Option<String>,
    collection_ids: Option<Vec<String>>,
    favorite: Option<bool>,
    reprompt: Option<i64>,
    fields: Option<Vec<CustomField>>,
    login: Option<Login>,
    card: Option<Card>,
    identity: Option<Identity>,
    ssh_key: Option<SshKey>,
    password_history: Option<Vec<IgnoredAny>>,
    attachments: Option<Vec<IgnoredAny>>,
    creation_date: Option<String>,
    revision_date: Option<String>,
    deleted_date: Option<String>,
    archived_date: Option<String>,
}

#[derive(Deserialize)]
struct CustomField {
    name: Option<String>,
    value: Option<SecretText>,
    #[serde(rename = "type")]
    kind: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    username: Option<SecretText>,
    password: Option<SecretText>,
    totp: Option<SecretText>,
    uris: Option<Vec<Uri>>,
    fido2_credentials: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct Uri {
    uri: Option<SecretText>,
    #[serde(rename = "match")]
    match_rule: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Card {
    cardholder_name: Option<SecretText>,
    brand: Option<SecretText>,
    number: Option<SecretText>,
    exp_month: Option<SecretText>,
    exp_year: Option<SecretText>,
    code: Option<SecretText>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    title: Option<SecretText>,
    first_name: Option<SecretText>,
    middle_name: Option<SecretText>,
    last_name: Option<SecretText>,
    address1: Option<SecretText>,
    address2: Option<SecretText>,
    address3: Option<SecretText>,
    city: Option<SecretText>,
    state: Option<SecretText>,
    postal_code: Option<SecretText>,
    country: Option<SecretText>,
    company: Option<SecretText>,
    email: Option<SecretText>,
    phone: Option<SecretText>,
    ssn: Option<SecretText>,
    username: Option<SecretText>,
    passport_number: Option<SecretText>,
    license_number: Option<SecretText>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SshKey {
    private_key: Option<SecretText>,
    public_key: Option<SecretText>,
    key_fingerprint: Option<SecretText>,
}

/// Converts a Bitwarden unencrypted JSON export. See the module docs of
/// [`crate::transfer::competitors`] for the mapping.
pub fn parse_bitwarden_json(text: &str) -> Result<Conversion, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let probe: Probe = serde_json::from_str(text).map_err(json_error)?;
    if probe.encrypted == Some(true) || probe.password_protected == Some(true) {
        return Err(ParseError::new(
            line_of(text, "\"encrypted\""),
            "this Bitwarden export is encrypted; export the vault again as .json without \
             password protection (the unencrypted format)",
        ));
    }
    if probe.items.is_none() {
        return Err(ParseError::new(
            1,
            "not a Bitwarden JSON export: there is no \"items\" list",
        ));
    }
    let export: Export = serde_json::from_str(text).map_err(json_error)?;
    let folders = paths(export.folders);
    let collections = paths(export.collections);

    let mut converter = Converter::default();
    for (i, item) in export.items.into_iter().enumerate() {
        convert_item(&mut converter, i + 1, item, &folders, &collections);
    }
    Ok(converter.into_conversion())
}

fn convert_item(
    converter: &mut Converter,
    index: usize,
    mut item: Item,
    folders: &HashMap<String, Vec<String>>,
    collections: &HashMap<String, Vec<String>>,
) {
    let mut draft = Draft::titled(index, item.name.as_deref().unwrap_or(""));
    place(&mut draft, &item, folders, collections);
    let kind = item.kind.unwrap_or(1);
    match kind {
        1 => login(&mut draft, item.login.take()),
        2 => {
            if let Some(mut notes) = item.notes.take() {
                draft.note_body(notes.take());
            }
        }
        3 => card(&mut draft, item.card.take()),
        4 => identity(&mut draft, item.identity.take()),
        5 => ssh_key(&mut draft, item.ssh_key.take()),
        other => draft.problem(format!(
            "item type {other} is not supported; only its notes and custom fields were carried"
        )),
    }
    for field in item.fields.take().unwrap_or_default() {
        custom_field(&mut draft, field);
    }
    if let Some(notes) = item.notes.take() {
        draft.notes(notes.into_text());
    }
    flags(&mut draft, &item);
    draft.created_at = draft.time(item.creation_date.as_deref().unwrap_or(""), "creation time");
    draft.updated_at = draft.time(
        item.revision_date.as_deref().unwrap_or(""),
        "modification time",
    );
    converter.finish(draft);
}

/// Sets the draft's folder from the item's folder, or else its first collection.
fn place(
    draft: &mut Draft,
    item: &Item,
    folders: &HashMap<String, Vec<String>>,
    collections: &HashMap<String, Vec<String>>,
) {
    if let Some(id) = &item.folder_id {
        match folders.get(id) {
            Some(path) => draft.folder = path.clone(),
            None => draft.problem("folder not carried: the export has no folder with its id"),
        }
        return;
    }
    let ids = item.collection_ids.as_deref().unwrap_or_default();
    if let Some(first) = ids.first() {
        match collections.get(first) {
            Some(path) => draft.folder = path.clone(),
            None => {
                draft.problem("collection not carried: the export has no collection with its id")
            }
        }
        if ids.len() > 1 {
            draft.problem(format!(
                "only the first of its {} collections was carried (as its folder)",
                ids.len()
            ));
        }
    }
}

fn login(draft: &mut Draft, login: Option<Login>) {
    let Some(mut login) = login else { return };
    for (name, value) in [
        ("username", &mut login.username),
        ("password", &mut login.password),
    ] {
        if let Some(value) = value {
            draft.push(
                name,
                value.take(),
                FieldDef::template(Template::Login, name),
            );
        }
    }
    let uris = login.uris.take().unwrap_or_default();
    if uris.iter().any(|u| u.match_rule.is_some()) {
        draft.problem("URI match rules not carried");
    }
    for uri in &uris {
        if let Some(uri) = &uri.uri {
            draft.url(uri.as_str());
        }
    }
    if let Some(totp) = &mut login.totp {
        draft.push(
            "totp",
            totp.take(),
            FieldDef::template(Template::Login, "totp"),
        );
    }
    let passkeys = login.fido2_credentials.map_or(0, |c| c.len());
    if passkeys > 0 {
        draft.problem(counted(passkeys, "passkey", "passkeys", "not carried"));
    }
}

fn card(draft: &mut Draft, card: Option<Card>) {
    let Some(card) = card else { return };
    let fields = [
        ("cardholder_name", card.cardholder_name, false, Some("name")),
        ("brand", card.brand, false, Some("card_brand")),
        ("number", card.number, true, Some("card_number")),
        ("exp_month", card.exp_month, false, Some("expiry")),
        ("exp_year", card.exp_year, false, Some("expiry")),
        ("code", card.code, true, Some("card_code")),
    ];
    for (name, value, sensitive, kind) in fields {
        if let Some(mut value) = value {
            draft.push(name, value.take(), FieldDef::plain(sensitive, kind));
        }
    }
}

fn identity(draft: &mut Draft, identity: Option<Identity>) {
    let Some(id) = identity else { return };
    let fields = [
        ("title", id.title, false, None),
        ("first_name", id.first_name, false, None),
        ("middle_name", id.middle_name, false, None),
        ("last_name", id.last_name, false, None),
        ("address1", id.address1, false, None),
        ("address2", id.address2, false, None),
        ("address3", id.address3, false, None),
        ("city", id.city, false, None),
        ("state", id.state, false, None),
        ("postal_code", id.postal_code, false, None),
        ("country", id.country, false, None),
        ("company", id.company, false, None),
        ("email", id.email, false, Some("email")),
        ("phone", id.phone, false, Some("phone")),
        ("ssn", id.ssn, true, None),
        ("username", id.username, false, Some("username")),
        ("passport_number", id.passport_number, true, None),
        ("license_number", id.license_number, true, None),
    ];
    for (name, value, sensitive, kind) in fields {
        if let Some(mut value) = value {
            draft.push(name, value.take(), FieldDef::plain(sensitive, kind));
        }
    }
}

fn ssh_key(draft: &mut Draft, key: Option<SshKey>) {
    let Some(key) = key else { return };
    if let Some(mut private) = key.private_key {
        draft.push(
            "private_key",
            private.take(),
            FieldDef::template(Template::Ssh, "private_key"),
        );
    }
    if let Some(mut public) = key.public_key {
        draft.push(
            "public_key",
            public.take(),
            FieldDef::plain(false, Some("ssh_public_key")),
        );
    }
    if let Some(mut fingerprint) = key.key_fingerprint {
        draft.push(
            "fingerprint",
            fingerprint.take(),
            FieldDef::plain(false, Some("fingerprint")),
        );
    }
}

fn custom_field(draft: &mut Draft, field: CustomField) {
    let label = field.name.as_deref().unwrap_or("");
    let kind = field.kind.unwrap_or(0);
    if kind == 3 {
        draft.problem(format!(
            "linked field {} not carried: it only points at another field",
            shown(label)
        ));
        return;
    }
    // Text (0) and boolean (2) are shown openly in Bitwarden; hidden (1) and any type this
    // converter does not know are kept sensitive.
    let sensitive = !matches!(kind, 0 | 2);
    let value = field.value.map(|mut v| v.take()).unwrap_or_default();
    draft.custom(label, value, sensitive, true);
}

/// Reports what the item had that no secret carries.
fn flags(draft: &mut Draft, item: &Item) {
    if item.favorite == Some(true) {
        draft.problem("favorite flag not carried");
    }
    if item.reprompt.is_some_and(|r| r != 0) {
        draft.problem("master password re-prompt not carried");
    }
    if let Some(n) = item
        .password_history
        .as_ref()
        .map(Vec::len)
        .filter(|n| *n > 0)
    {
        draft.problem(counted(
            n,
            "password history entry",
            "password history entries",
            "not carried",
        ));
    }
    if let Some(n) = item.attachments.as_ref().map(Vec::len).filter(|n| *n > 0) {
        draft.problem(counted(n, "attachment", "attachments", "not carried"));
    }
    if item.deleted_date.is_some() {
        draft.problem("in Bitwarden's trash; imported as an ordinary secret");
    }
    if item.archived_date.is_some() {
        draft.problem("archived in Bitwarden; imported as an ordinary secret");
    }
}

/// `1 attachment not carried`, `2 attachments not carried`.
fn counted(n: usize, one: &str, many: &str, rest: &str) -> String {
    format!("{n} {} {rest}", if n == 1 { one } else { many })
}

/// Folder (or collection) id → path. Bitwarden nests folders by naming them `Parent/Child`.
fn paths(named: Option<Vec<Named>>) -> HashMap<String, Vec<String>> {
    named
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            let path = n
                .name
                .unwrap_or_default()
                .split('/')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            Some((n.id?, path))
        })
        .collect()
}

/// The 1-based line of the first occurrence of `needle` (1 when absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

/// A serde_json error reduced to where and what kind: its own message may quote a value.
fn json_error(err: serde_json::Error) -> ParseError {
    let what = match err.classify() {
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Eof => "the JSON ends too early",
        serde_json::error::Category::Data => {
            "not a Bitwarden JSON export: a value has an unexpected type"
        }
        serde_json::error::Category::Io => "the file could not be read",
    };
    ParseError::new(
        err.line().max(1),
        format!("{what} (column {})", err.column()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_do_not_quote_values() {
        let err = parse_bitwarden_json(
            "{\"items\": [\n {\"type\": \"hunter2-secret\", \"name\": \"x\"}]}",
        )
        .err()
        .unwrap();
        assert_eq!(err.line, 2);
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = parse_bitwarden_json("{\"items\": [\"unterminated")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("unterminated"), "{err}");
    }

    #[test]
    fn encrypted_exports_are_refused() {
        let err = parse_bitwarden_json(
            "{\n  \"encrypted\": true,\n  \"encKeyValidation_DO_NOT_EDIT\": \"2.x\",\n  \"items\": []\n}",
        )
        .err()
        .unwrap();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("encrypted"));
        let err = parse_bitwarden_json(
            "{\"encrypted\": true, \"passwordProtected\": true, \"salt\": \"s\", \"data\": \"d\"}",
        )
        .err()
        .unwrap();
        assert!(err.message.contains("without password protection"));
    }

    #[test]
    fn other_json_is_not_an_export() {
        let err = parse_bitwarden_json("{\"a\": 1}").err().unwrap();
        assert!(err.message.contains("no \"items\""));
        assert!(parse_bitwarden_json("[1, 2]").is_err());
    }
}
