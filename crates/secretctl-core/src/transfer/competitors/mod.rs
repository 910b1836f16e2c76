//! Converters for the exports of other password managers (`import --from`, SPEC §5.3):
//! 1Password CSV, Bitwarden unencrypted JSON, LastPass CSV and KeePassXC CSV.
//!
//! Each is a pure function from the file's text to a [`Conversion`]: the secrets, each with the
//! folder it sat in, and one line for everything the source held that secretctl cannot express.
//! No I/O, no vault. Errors ([`ParseError`]) name the line and say what is wrong with the file;
//! they never contain a value. Lines of [`Conversion::unsupported`] name the item (by its new key
//! name) and what was not carried, never a value.
//!
//! CSV is read with the `csv` crate (RFC 4180 quoting: commas, quotes and line breaks inside
//! quoted cells). A leading byte-order mark is ignored. Header names are matched
//! case-insensitively, trimmed. Rows whose cells are all empty are skipped. A row with more
//! non-empty cells than the header has columns is an error naming its line, rather than a guess
//! about which value belongs where.
//!
//! # Mapping
//!
//! An item becomes one multi-field secret (SPEC §3.3).
//!
//! | source | secretctl |
//! |---|---|
//! | username | field `username` (not sensitive, kind `username`) |
//! | password | field `password` (sensitive, kind `password`) |
//! | TOTP / OTPAuth | field `totp` (sensitive, kind `totp`), as written (secret or `otpauth://` URL) |
//! | first URL | field `url` (not sensitive, kind `url`); also the secret's URL when it is `http(s)://` and at most 2048 bytes |
//! | more URLs (Bitwarden) | fields `url_2`, `url_3`, … |
//! | notes ≤ 10 KiB | the secret's notes |
//! | notes > 10 KiB | field `notes` (sensitive, multi-line) |
//! | secure note, or an item with nothing but notes | field `value` (sensitive, multi-line): a plain secret |
//! | custom field, text or boolean | field named after its label (not sensitive) |
//! | custom field, hidden | field named after its label (sensitive) |
//! | an unknown CSV column | field named after the column (sensitive: nothing says it is not) |
//! | card (Bitwarden) | `cardholder_name`, `brand`, `exp_month`, `exp_year` (not sensitive); `number`, `code` (sensitive) |
//! | identity (Bitwarden) | one field per property, not sensitive except `ssn`, `passport_number`, `license_number` |
//! | SSH key (Bitwarden) | `private_key` (sensitive, multi-line, kind `ssh_key`), `public_key`, `fingerprint` |
//! | folder / group / grouping | [`Record::folder`](super::Record::folder), and the key name's path |
//! | tags (1Password) | tags, sanitised to `[A-Za-z0-9_-]{1,64}`, at most 10 |
//! | created / modified times (Bitwarden, KeePassXC) | the secret's created and updated times |
//!
//! Key names are `FOLDER/…/TITLE`, each segment sanitised (see the rules in
//! `docs/import-export.md`): `GitHub (work)` in folder `Work` becomes `Work/GitHub-work`. A title
//! with no usable character becomes `item-N` (N is the item's 1-based position in the file); a
//! name that is taken gets `-2`, `-3`, …. When a title loses letters that cannot be
//! transliterated, the original title is kept in a non-sensitive field `title`.
//!
//! Empty values are skipped. An item left with no value at all is not imported, and says so in
//! `unsupported`. So do attachments, password history, passkeys, favourites, archive and trash
//! flags, Bitwarden's re-prompt and URI match rules, linked and empty custom fields, KeePassXC
//! icons, tags beyond ten and anything that does not fit (a value over 1 MiB, a 65th field).
//!
//! Memory: values are copied out of the parser into wiped buffers at once, but the `csv` crate's
//! record buffer and serde_json's scratch buffer are freed without being wiped (as is the
//! caller's copy of the file, which holds every value anyway).

use csv::StringRecord;

use super::{Conversion, ParseError};

mod bitwarden;
mod keepassxc;
mod lastpass;
mod onepassword;

pub use bitwarden::parse_bitwarden_json;
pub use keepassxc::parse_keepassxc_csv;
pub use lastpass::parse_lastpass_csv;
pub use onepassword::parse_1password_csv;

/// A password manager whose export `import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Competitor {
    /// 1Password 8 "Export → CSV".
    OnePassword,
    /// Bitwarden "Export vault → .json" (unencrypted).
    Bitwarden,
    /// LastPass "Export → CSV".
    LastPass,
    /// KeePassXC "Database → Export → CSV".
    KeePassXc,
}

impl Competitor {
    /// Every supported source.
    pub const ALL: [Competitor; 4] = [
        Competitor::OnePassword,
        Competitor::Bitwarden,
        Competitor::LastPass,
        Competitor::KeePassXc,
    ];

    /// The name `--from` takes: `1password`, `bitwarden`, `lastpass`, `keepassxc`.
    pub fn name(self) -> &'static str {
        match self {
            Competitor::OnePassword => "1password",
            Competitor::Bitwarden => "bitwarden",
            Competitor::LastPass => "lastpass",
            Competitor::KeePassXc => "keepassxc",
        }
    }

    /// The source named `name` (as [`Competitor::name`] spells it).
    pub fn parse(name: &str) -> Option<Competitor> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Converts an export of this source.
    pub fn convert(self, text: &str) -> Result<Conversion, ParseError> {
        match self {
            Competitor::OnePassword => parse_1password_csv(text),
            Competitor::Bitwarden => parse_bitwarden_json(text),
            Competitor::LastPass => parse_lastpass_csv(text),
            Competitor::KeePassXc => parse_keepassxc_csv(text),
        }
    }
}

/// A CSV export: its header (as written, and lower-cased for matching) and its rows.
struct Table {
    labels: Vec<String>,
    header: Vec<String>,
    rows: Vec<StringRecord>,
}

impl Table {
    /// Reads a whole CSV file. `format` names the source in messages.
    fn read(text: &str, format: &str) -> Result<Table, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let labels: Vec<String> = match records.next() {
            None => {
                return Err(ParseError::new(
                    1,
                    format!("the file is empty; expected a {format} CSV export with a header row"),
                ));
            }
            Some(header) => header
                .map_err(csv_error)?
                .iter()
                .map(|label| label.trim().to_owned())
                .collect(),
        };
        let header = labels.iter().map(|l| l.to_lowercase()).collect();
        let mut rows = Vec::new();
        for record in records {
            let record = record.map_err(csv_error)?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            if record
                .iter()
                .skip(labels.len())
                .any(|cell| !cell.is_empty())
            {
                let line = record.position().map_or(1, |p| p.line() as usize);
                return Err(ParseError::new(
                    line,
                    format!(
                        "the item has {} cells but the header has {} columns",
                        record.len(),
                        labels.len()
                    ),
                ));
            }
            rows.push(record);
        }
        Ok(Table {
            labels,
            header,
            rows,
        })
    }

    /// The first column whose header is one of `names` (lower case).
    fn col(&self, names: &[&str]) -> Option<usize> {
        self.header.iter().position(|h| names.contains(&h.as_str()))
    }

    /// The first column whose header is one of `names`, or an error saying the file is not an
    /// export of `format`.
    fn required(&self, names: &[&str], format: &str, label: &str) -> Result<usize, ParseError> {
        self.col(names).ok_or_else(|| {
            ParseError::new(
                1,
                format!("not a {format} CSV export: the header has no {label} column"),
            )
        })
    }

    /// Columns not in `known`, with a non-empty label: carried as sensitive custom fields.
    fn extra_columns(&self, known: &[Option<usize>]) -> Vec<usize> {
        (0..self.labels.len())
            .filter(|i| !known.contains(&Some(*i)))
            .collect()
    }
}

/// The cell of column `col` (empty when the column is absent or the row is short).
fn cell(record: &StringRecord, col: Option<usize>) -> &str {
    col.and_then(|i| record.get(i)).unwrap_or("")
}

/// Whether a CSV flag cell means yes (`true`, `1`, `yes`, any case).
fn truthy(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes"
    )
}

/// Adds the cells of unknown columns to `draft` as sensitive custom fields.
fn add_extra_columns(
    draft: &mut super::convert::Draft,
    table: &Table,
    record: &StringRecord,
    extra: &[usize],
) {
    for &i in extra {
        let value = record.get(i).unwrap_or("");
        draft.custom(&table.labels[i], value.as_bytes().to_vec(), true, false);
    }
}

/// A `csv` error as a [`ParseError`]. The crate's own text is not used: it is not needed, and
/// keeping to our own words guarantees no cell content ends up in a message.
fn csv_error(err: csv::Error) -> ParseError {
    let line = err.position().map_or(1, |p| p.line() as usize);
    let message = match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8",
        _ => "the file is not valid CSV",
    };
    ParseError::new(line, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn competitor_names_round_trip() {
        for c in Competitor::ALL {
            assert_eq!(Competitor::parse(c.name()), Some(c));
        }
        assert_eq!(Competitor::parse("secretctl-go"), None);
    }

    #[test]
    fn extra_cells_are_an_error_naming_the_line() {
        let err = Table::read("a,b\n1,2\n\"x\ny\",2,3\n", "Test")
            .err()
            .unwrap();
        assert_eq!(err.line, 3);
        assert!(!err.message.contains('x'));
        // Trailing empty cells are tolerated.
        assert_eq!(Table::read("a,b\n1,2,,\n", "Test").unwrap().rows.len(), 1);
    }

    #[test]
    fn empty_file_is_an_error() {
        assert_eq!(Table::read("", "Test").err().unwrap().line, 1);
        assert_eq!(Table::read("\u{feff}", "Test").err().unwrap().line, 1);
    }
}
