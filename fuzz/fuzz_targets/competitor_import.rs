//! `Competitor::convert` (`import --from 1password|bitwarden|lastpass|keepassxc`) on arbitrary
//! text. The first input byte picks the format (`Competitor::ALL[byte % 4]`: 1Password CSV,
//! Bitwarden JSON, LastPass CSV, KeePassXC CSV); the rest is the file. Never panics, and:
//!
//! - errors are one line, with a 1-based line number no greater than the file's line count;
//! - every record's secret passes `Secret::validate` (1 to 64 uniquely named fields with valid
//!   names, notes of at most 10 KiB, a valid URL, valid tags: what `import_records` checks
//!   before writing), and its key name is valid;
//! - key names are unique across the records (a taken name gets `-2`, `-3`, …);
//! - no field is empty; a field whose value has a line break is multi-line; no field name or
//!   alias is used twice; notes, when present, are not empty; the secret's URL, when set, is
//!   the value of a `url` field;
//! - a record's folder, when it has one, is a path the vault accepts (`FolderPath`); a folder
//!   it would refuse is dropped with a line `NAME: folder not carried: …`;
//! - a key name has at most one path segment per folder segment, plus the title (unless the
//!   folder was dropped);
//! - every line of `unsupported` is one line without control characters and starts with a
//!   valid key name and `: ` (lines name the item by its key name);
//! - converting the same text again gives the same records and lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::secret::{FolderPath, InputType, KeyName, SecretMeta};
use secretctl_core::transfer::{Competitor, Conversion};
use std::collections::HashSet;

type FieldView<'a> = (
    &'a str,
    &'a [u8],
    bool,
    &'a [String],
    Option<&'a str>,
    InputType,
    Option<&'a str>,
);

/// Everything a conversion holds, in comparable form.
#[allow(clippy::type_complexity)]
fn view(
    c: &Conversion,
) -> (
    Vec<(
        &str,
        Vec<FieldView<'_>>,
        Vec<(&String, &String)>,
        &SecretMeta,
        &[String],
    )>,
    &[String],
) {
    let records = c
        .records
        .iter()
        .map(|r| {
            let s = &r.secret;
            let fields = s
                .fields
                .iter()
                .map(|f| {
                    (
                        f.name.as_str(),
                        f.value.expose_bytes(),
                        f.sensitive,
                        f.aliases.as_slice(),
                        f.kind.as_deref(),
                        f.input_type,
                        f.hint.as_deref(),
                    )
                })
                .collect();
            (
                s.name.as_str(),
                fields,
                s.bindings.iter().collect(),
                &s.meta,
                r.folder.as_slice(),
            )
        })
        .collect();
    (records, &c.unsupported)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let competitor = Competitor::ALL[usize::from(pick) % Competitor::ALL.len()];
    let conversion = match competitor.convert(text) {
        Ok(conversion) => conversion,
        Err(err) => {
            assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
            let lines = text.matches('\n').count() + 1;
            assert!(
                (1..=lines).contains(&err.line),
                "error line {} outside 1..={lines}",
                err.line
            );
            return;
        }
    };

    let mut names = HashSet::new();
    for record in &conversion.records {
        let secret = &record.secret;
        let name = secret.name.as_str();
        assert!(KeyName::parse(name).is_ok(), "invalid key name");
        assert!(names.insert(name), "duplicate key name");
        if let Err(e) = secret.validate() {
            panic!("a converted secret does not validate: {e}");
        }
        let mut field_names = HashSet::new();
        for field in &secret.fields {
            assert!(!field.value.is_empty(), "empty field");
            if field.value.expose_bytes().contains(&b'\n') {
                assert_eq!(field.input_type, InputType::MultiLine, "multi-line value");
            }
            for n in std::iter::once(&field.name).chain(&field.aliases) {
                assert!(field_names.insert(n.as_str()), "field name or alias twice");
            }
        }
        if let Some(notes) = &secret.meta.notes {
            assert!(!notes.is_empty(), "empty notes");
        }
        if let Some(url) = &secret.meta.url {
            assert!(
                secret
                    .fields
                    .iter()
                    .any(|f| f.kind.as_deref() == Some("url")
                        && f.value.expose_bytes() == url.as_bytes()),
                "the secret's URL is in no url field"
            );
        }
        let dropped = format!("{name}: folder not carried: ");
        if conversion
            .unsupported
            .iter()
            .any(|l| l.starts_with(&dropped))
        {
            assert!(
                record.folder.is_empty(),
                "a folder said not carried is kept"
            );
        } else {
            assert!(
                name.split('/').count() <= record.folder.len() + 1,
                "more key name segments than folder segments and title"
            );
        }
        if !record.folder.is_empty() {
            assert!(
                FolderPath::from_names(record.folder.clone()).is_ok(),
                "a folder path the vault would refuse"
            );
        }
    }
    for line in &conversion.unsupported {
        assert!(
            !line.contains(char::is_control),
            "control character in a line"
        );
        let (name, _) = line.split_once(": ").expect("a line starts with 'NAME: '");
        assert!(KeyName::parse(name).is_ok(), "a line does not name an item");
    }

    let again = competitor
        .convert(text)
        .expect("the same text converts again");
    assert!(
        view(&again) == view(&conversion),
        "conversion is not deterministic"
    );
});
