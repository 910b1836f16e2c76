//! LastPass CSV: `url,username,password,totp,extra,name,grouping,fav`.
//!
//! - A row whose `url` is `http://sn` is a secure note. Its `extra` (which for typed notes starts
//!   with `NoteType:` and holds `Label:value` lines) is kept verbatim as the sensitive
//!   multi-line field `value`; it is not parsed into fields.
//! - For other rows `extra` is the notes. A `url` of just `http://` (what LastPass writes for a
//!   site without one) is no URL.
//! - `grouping` is the folder; LastPass separates nested folders with `\`. `(none)` is no folder.
//! - `fav` = `1` is reported, not carried.
//!
//! Form-fill profiles are a different CSV and are not read. Only `url` and `name` are required.

use zeroize::Zeroizing;

use super::{Table, add_extra_columns, cell, truthy};
use crate::secret::Template;
use crate::transfer::convert::{Converter, Draft};
use crate::transfer::{Conversion, ParseError};

const FORMAT: &str = "LastPass";
/// The `url` LastPass gives secure notes.
const SECURE_NOTE_URL: &str = "http://sn";

/// Converts a LastPass CSV export. See the module docs of
/// [`crate::transfer::competitors`] for the mapping.
pub fn parse_lastpass_csv(text: &str) -> Result<Conversion, ParseError> {
    let table = Table::read(text, FORMAT)?;
    let url = table.required(&["url"], FORMAT, "url")?;
    let name = table.required(&["name"], FORMAT, "name")?;
    let username = table.col(&["username"]);
    let password = table.col(&["password"]);
    let totp = table.col(&["totp"]);
    let extra_col = table.col(&["extra"]);
    let grouping = table.col(&["grouping"]);
    let fav = table.col(&["fav"]);
    let extra = table.extra_columns(&[
        Some(url),
        Some(name),
        username,
        password,
        totp,
        extra_col,
        grouping,
        fav,
    ]);

    let mut converter = Converter::default();
    for (i, record) in table.rows.iter().enumerate() {
        let mut draft = Draft::titled(i + 1, cell(record, Some(name)));
        draft.folder = folder(cell(record, grouping));
        draft.template_field(Template::Login, "username", cell(record, username));
        draft.template_field(Template::Login, "password", cell(record, password));
        let site = cell(record, Some(url));
        let secure_note = site == SECURE_NOTE_URL;
        if !secure_note && site != "http://" {
            draft.url(site);
        }
        draft.template_field(Template::Login, "totp", cell(record, totp));
        add_extra_columns(&mut draft, &table, record, &extra);
        let text = cell(record, extra_col);
        if secure_note {
            draft.note_body(text.as_bytes().to_vec());
        } else {
            draft.notes(Zeroizing::new(text.to_owned()));
        }
        if truthy(cell(record, fav)) {
            draft.problem("favorite flag not carried");
        }
        converter.finish(draft);
    }
    Ok(converter.into_conversion())
}

/// The folder path of a `grouping` cell.
fn folder(grouping: &str) -> Vec<String> {
    if grouping.trim() == "(none)" {
        return Vec::new();
    }
    grouping
        .split('\\')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groupings_are_backslash_paths() {
        assert_eq!(folder(r"Work\AWS"), ["Work", "AWS"]);
        assert_eq!(folder("(none)"), Vec::<String>::new());
        assert_eq!(folder(""), Vec::<String>::new());
        assert_eq!(folder(r"Shared-Team\\Ops "), ["Shared-Team", "Ops"]);
    }
}
