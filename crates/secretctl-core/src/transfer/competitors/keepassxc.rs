//! KeePassXC CSV: `"Group","Title","Username","Password","URL","Notes","TOTP","Icon",
//! "Last Modified","Created"` (2.7; older versions stop after `Notes`).
//!
//! - `Group` is the group path from the root group, joined with `/` (`Root/Work/AWS`). The
//!   first segment is the root group (whatever it is called) and is dropped: the folder is
//!   `Work/AWS`, and entries of the root group have no folder. KeePassXC exports the Recycle
//!   Bin too; its entries arrive in a folder of that name.
//! - `TOTP` is kept as written (usually an `otpauth://` URL).
//! - `Last Modified` and `Created` become the secret's times (RFC 3339; UTC when no offset).
//! - An `Icon` other than the default `0` is reported, not carried.
//!
//! Attachments, custom attributes, history and expiry are not in KeePassXC's CSV export at
//! all, so they cannot be reported either; the docs say so. `Title` and `Password` are
//! required.

use zeroize::Zeroizing;

use super::{Table, add_extra_columns, cell};
use crate::secret::Template;
use crate::transfer::convert::{Converter, Draft};
use crate::transfer::{Conversion, ParseError};

const FORMAT: &str = "KeePassXC";

/// Converts a KeePassXC CSV export. See the module docs of
/// [`crate::transfer::competitors`] for the mapping.
pub fn parse_keepassxc_csv(text: &str) -> Result<Conversion, ParseError> {
    let table = Table::read(text, FORMAT)?;
    let title = table.required(&["title"], FORMAT, "Title")?;
    let password = table.required(&["password"], FORMAT, "Password")?;
    let group = table.col(&["group"]);
    let username = table.col(&["username", "user name"]);
    let url = table.col(&["url"]);
    let notes = table.col(&["notes"]);
    let totp = table.col(&["totp"]);
    let icon = table.col(&["icon"]);
    let modified = table.col(&["last modified"]);
    let created = table.col(&["created"]);
    let extra = table.extra_columns(&[
        Some(title),
        Some(password),
        group,
        username,
        url,
        notes,
        totp,
        icon,
        modified,
        created,
    ]);

    let mut converter = Converter::default();
    for (i, record) in table.rows.iter().enumerate() {
        let mut draft = Draft::titled(i + 1, cell(record, Some(title)));
        draft.folder = folder(cell(record, group));
        draft.template_field(Template::Login, "username", cell(record, username));
        draft.template_field(Template::Login, "password", cell(record, Some(password)));
        draft.url(cell(record, url));
        draft.template_field(Template::Login, "totp", cell(record, totp));
        add_extra_columns(&mut draft, &table, record, &extra);
        draft.notes(Zeroizing::new(cell(record, notes).to_owned()));
        let icon = cell(record, icon).trim();
        if !icon.is_empty() && icon != "0" {
            draft.problem("icon not carried");
        }
        draft.created_at = draft.time(cell(record, created), "creation time");
        draft.updated_at = draft.time(cell(record, modified), "modification time");
        converter.finish(draft);
    }
    Ok(converter.into_conversion())
}

/// The folder path of a `Group` cell: the path without the root group.
fn folder(group: &str) -> Vec<String> {
    group
        .split('/')
        .skip(1)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_group_is_dropped() {
        assert_eq!(folder("Root/Work/AWS"), ["Work", "AWS"]);
        assert_eq!(folder("Passwords/Email"), ["Email"]);
        assert_eq!(folder("Root"), Vec::<String>::new());
        assert_eq!(folder(""), Vec::<String>::new());
    }
}
