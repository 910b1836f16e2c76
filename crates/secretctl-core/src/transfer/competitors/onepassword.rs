//! 1Password CSV: what 1Password 8 writes with "Export → CSV"
//! (`Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes`).
//!
//! Header variants of other versions are accepted: `Website`/`URLs` for the URL,
//! `User name`, `One-time password`/`OTP`/`TOTP`, `Favourite`, `NotesPlain`/`Note`. Only `Title`
//! is required. Tags are separated by `;` or `,`. The CSV export holds no folders (vaults are
//! not exported) and no item types: a row with nothing but notes is a secure note.

use zeroize::Zeroizing;

use super::{Table, add_extra_columns, cell, truthy};
use crate::secret::Template;
use crate::transfer::convert::{Converter, Draft};
use crate::transfer::{Conversion, ParseError};

const FORMAT: &str = "1Password";

/// Converts a 1Password CSV export. See the module docs of
/// [`crate::transfer::competitors`] for the mapping.
///
/// ```
/// # use secretctl_core::transfer::parse_1password_csv;
/// let csv = "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\n\
///            GitHub (work),https://github.com,octocat,hunter2,,false,false,dev,\n";
/// let conversion = parse_1password_csv(csv).unwrap();
/// assert_eq!(conversion.records[0].secret.name.as_str(), "GitHub-work");
/// assert_eq!(conversion.records[0].secret.meta.tags, ["dev"]);
/// ```
pub fn parse_1password_csv(text: &str) -> Result<Conversion, ParseError> {
    let table = Table::read(text, FORMAT)?;
    let title = table.required(&["title"], FORMAT, "Title")?;
    let url = table.col(&["url", "urls", "website"]);
    let username = table.col(&["username", "user name"]);
    let password = table.col(&["password"]);
    let otp = table.col(&["otpauth", "one-time password", "otp", "totp"]);
    let favorite = table.col(&["favorite", "favourite"]);
    let archived = table.col(&["archived"]);
    let tags = table.col(&["tags"]);
    let notes = table.col(&["notes", "notesplain", "note"]);
    let extra = table.extra_columns(&[
        Some(title),
        url,
        username,
        password,
        otp,
        favorite,
        archived,
        tags,
        notes,
    ]);

    let mut converter = Converter::default();
    for (i, record) in table.rows.iter().enumerate() {
        let mut draft = Draft::titled(i + 1, cell(record, Some(title)));
        draft.template_field(Template::Login, "username", cell(record, username));
        draft.template_field(Template::Login, "password", cell(record, password));
        draft.url(cell(record, url));
        draft.template_field(Template::Login, "totp", cell(record, otp));
        add_extra_columns(&mut draft, &table, record, &extra);
        if truthy(cell(record, favorite)) {
            draft.problem("favorite flag not carried");
        }
        if truthy(cell(record, archived)) {
            draft.problem("archived in 1Password; imported as an ordinary secret");
        }
        for raw in cell(record, tags).split([';', ',']) {
            draft.tag(raw);
        }
        draft.notes(Zeroizing::new(cell(record, notes).to_owned()));
        converter.finish(draft);
    }
    Ok(converter.into_conversion())
}
