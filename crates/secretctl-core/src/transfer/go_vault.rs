//! Reading a vault of the original Go secretctl (v0.8.x) for `import --from secretctl-go DIR`,
//! as described in `formats/secretctl-go.md`. Read-only: `vault.db` is opened with
//! `SQLITE_OPEN_READ_ONLY`, nothing in the directory is written, and the format is never written
//! anywhere.
//!
//! What is read:
//!
//! - The salt from `vault_keys.salt` (row `id = 1`), or from the file `vault.salt` when that
//!   column is missing or empty (schema < 4). The KEK is Argon2id of the password with the Go
//!   tool's fixed cost; it opens the DEK (see [`crate::crypto::legacy_go`]). When the DEK does
//!   not open, the error is [`GoVaultError::WrongPassword`] (a damaged key row looks the same).
//! - Every column that exists in `secrets` (checked with `PRAGMA table_info`, so older schemas
//!   without fields, bindings, metadata or folders work). Each `encrypted_*` blob is decrypted;
//!   one that does not decrypt, or decrypts to something that is not what the column holds, is
//!   [`GoVaultError::Corrupt`] naming the secret id and the column, never a value.
//! - `key_hash` is checked against HMAC-SHA256(DEK, decrypted name). The Go format binds no
//!   blob to its row, so a mismatch means names were swapped or damaged:
//!   [`GoVaultError::KeyHashMismatch`] lists every such id and nothing is imported.
//!
//! Mapping (the rest is as for the competitors, see [`crate::transfer::competitors`]):
//!
//! - The key name is kept as it is when secretctl accepts it; otherwise it is sanitised segment
//!   by segment (reported). Key names are not prefixed with the folder path: scripts already
//!   use these names.
//! - `encrypted_fields` NULL (or `{}`): a legacy secret, `encrypted_value` becomes the
//!   sensitive field `value`. Otherwise each field keeps its sensitivity, kind, hint and aliases;
//!   `inputType: "textarea"` (or a value with a line break) is multi-line. Field names secretctl
//!   does not accept are sanitised (reported); fields with an empty value are skipped
//!   (reported), as for the competitors.
//! - Bindings are kept; one whose environment name is invalid, or whose field was not carried,
//!   is reported.
//! - Metadata notes become notes (longer than 10 KiB: the field `notes`); an http(s) URL becomes
//!   the secret's URL, any other URL the non-sensitive field `url` (reported).
//! - Tags are sanitised as for the competitors; expiry, creation and update times are kept.
//!   Times may be SQLite text (`YYYY-MM-DD HH:MM:SS`, UTC), Go's time text
//!   (`2006-01-02 15:04:05.999999999-07:00`, or `time.String()`'s
//!   `2006-01-02 15:04:05.999999999 -0700 MST`, with or without ` m=+…`), RFC 3339, or Unix
//!   seconds. An unreadable time is reported, not guessed.
//! - Folders: the folder's chain of parents, outermost first, is [`Record::folder`](super::Record::folder). A parent
//!   chain that loops is [`GoVaultError::Folder`].
//! - The Go tool's audit log (`audit/`) and lock file are not read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::Conversion;
use super::convert::{Converter, Draft, FieldDef, SecretText, field_name};
use crate::crypto::Passphrase;
use crate::crypto::legacy_go::GoDek;
use crate::secret::{
    InputType, VALUE_FIELD, check_binding_name, check_field_name, shown, validate_url,
};

/// Length of the Go tool's salt.
const SALT_LEN: usize = 16;

/// Why a secretctl-go vault could not be read. Messages name the file, the secret id and the
/// column, never a value or a name read from the vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GoVaultError {
    /// The directory does not hold a vault of the Go tool.
    #[error("{}: not a secretctl-go vault: {reason}", path.display())]
    NotAVault {
        /// The directory or file.
        path: PathBuf,
        /// What is missing.
        reason: &'static str,
    },
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// SQLite refused the database or a query.
    #[error("{}: cannot read the database: {message}", path.display())]
    Database {
        /// `vault.db`.
        path: PathBuf,
        /// SQLite's message (it holds no values: nothing is decrypted by SQLite).
        message: String,
    },
    /// The password does not open the vault's key (or the key row is damaged).
    #[error("wrong master password for the secretctl-go vault")]
    WrongPassword,
    /// A column of a secret does not decrypt, or decrypts to something unexpected.
    #[error("{}: secret id {id}: {column} {reason}; the vault is damaged or was altered", path.display())]
    Corrupt {
        /// `vault.db`.
        path: PathBuf,
        /// The secret's row id.
        id: i64,
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Decrypted names that do not match their `key_hash`.
    #[error(
        "{}: the key_hash of secret id {} does not match the decrypted name; the vault is damaged or was altered",
        path.display(),
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )]
    KeyHashMismatch {
        /// `vault.db`.
        path: PathBuf,
        /// The row ids, in order.
        ids: Vec<i64>,
    },
    /// The folder table is inconsistent.
    #[error("{}: folder {id}: {reason}", path.display())]
    Folder {
        /// `vault.db`.
        path: PathBuf,
        /// The folder id, escaped for display.
        id: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The columns of `secrets` this reader uses; the first three are required.
const COLUMNS: [&str; 12] = [
    "id",
    "key_hash",
    "encrypted_key",
    "encrypted_value",
    "encrypted_fields",
    "encrypted_bindings",
    "encrypted_metadata",
    "folder_id",
    "tags",
    "expires_at",
    "created_at",
    "updated_at",
];

/// One SQLite value, owned.
enum Cell {
    Null,
    Int(i64),
    Real,
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Cell {
    fn of(value: ValueRef<'_>) -> Cell {
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(_) => Cell::Real,
            ValueRef::Text(t) => Cell::Text(t.to_vec()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }

    /// The bytes of a text or blob cell; `None` for NULL and for an empty blob.
    fn bytes(&self) -> Result<Option<&[u8]>, &'static str> {
        match self {
            Cell::Null => Ok(None),
            Cell::Text(b) | Cell::Blob(b) if b.is_empty() => Ok(None),
            Cell::Text(b) | Cell::Blob(b) => Ok(Some(b)),
            Cell::Int(_) | Cell::Real => Err("is a number where bytes were expected"),
        }
    }

    /// The text of a text cell (a blob holding UTF-8 is accepted too).
    fn text(&self) -> Result<Option<&str>, &'static str> {
        match self.bytes()? {
            None => Ok(None),
            Some(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| "is not UTF-8 text"),
        }
    }
}

/// A field as the Go tool stores it in `encrypted_fields`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoField {
    value: Option<SecretText>,
    #[serde(default)]
    sensitive: bool,
    aliases: Option<Vec<String>>,
    kind: Option<String>,
    input_type: Option<String>,
    hint: Option<String>,
}

/// `encrypted_metadata`.
#[derive(Deserialize)]
struct Metadata {
    notes: Option<SecretText>,
    url: Option<String>,
}

/// Reads every secret of the Go vault in `dir` with its master password.
///
/// The integrator imports the result like a competitor's [`Conversion`]; `unsupported` lists
/// what was renamed or not carried.
pub fn read(dir: &Path, password: &Passphrase) -> Result<Conversion, GoVaultError> {
    let db_path = dir.join("vault.db");
    if !db_path.is_file() {
        return Err(GoVaultError::NotAVault {
            path: dir.to_owned(),
            reason: "there is no vault.db",
        });
    }
    let reader = Reader::open(db_path)?;
    let dek = reader.unlock(dir, password)?;
    let folders = reader.folders()?;
    reader.secrets(&dek, &folders)
}

struct Reader {
    path: PathBuf,
    conn: Connection,
}

impl Reader {
    fn open(path: PathBuf) -> Result<Reader, GoVaultError> {
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| database(&path, e))?;
        Ok(Reader { path, conn })
    }

    fn not_a_vault(&self, reason: &'static str) -> GoVaultError {
        GoVaultError::NotAVault {
            path: self.path.clone(),
            reason,
        }
    }

    fn corrupt(&self, id: i64, column: &'static str, reason: &'static str) -> GoVaultError {
        GoVaultError::Corrupt {
            path: self.path.clone(),
            id,
            column,
            reason,
        }
    }

    /// The column names of `table` (empty when there is no such table).
    fn columns(&self, table: &str) -> Result<HashSet<String>, GoVaultError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .map_err(|e| database(&self.path, e))?;
        let names = stmt
            .query_map([table], |row| row.get::<_, String>(0))
            .and_then(Iterator::collect)
            .map_err(|e| database(&self.path, e))?;
        Ok(names)
    }

    /// Derives the KEK and opens the DEK.
    fn unlock(&self, dir: &Path, password: &Passphrase) -> Result<GoDek, GoVaultError> {
        let key_columns = self.columns("vault_keys")?;
        if key_columns.is_empty() {
            return Err(self.not_a_vault("vault.db has no vault_keys table"));
        }
        let salt_column = if key_columns.contains("salt") {
            "salt"
        } else {
            "NULL"
        };
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {salt_column}, encrypted_dek, dek_nonce FROM vault_keys WHERE id = 1"
                ),
                [],
                |row| {
                    Ok((
                        Cell::of(row.get_ref(0)?),
                        Cell::of(row.get_ref(1)?),
                        Cell::of(row.get_ref(2)?),
                    ))
                },
            )
            .optional()
            .map_err(|e| database(&self.path, e))?
            .ok_or_else(|| self.not_a_vault("vault_keys has no key row"))?;
        let incomplete = |_| self.not_a_vault("the key row of vault_keys is damaged");
        let (salt, encrypted_dek, dek_nonce) = row;
        let encrypted_dek = encrypted_dek
            .bytes()
            .map_err(incomplete)?
            .ok_or_else(|| self.not_a_vault("the key row of vault_keys has no encrypted_dek"))?;
        let dek_nonce = dek_nonce
            .bytes()
            .map_err(incomplete)?
            .ok_or_else(|| self.not_a_vault("the key row of vault_keys has no dek_nonce"))?;
        let salt = match salt.bytes().map_err(incomplete)? {
            Some(salt) => salt.to_vec(),
            None => {
                let salt_path = dir.join("vault.salt");
                std::fs::read(&salt_path).map_err(|source| GoVaultError::Io {
                    path: salt_path,
                    source,
                })?
            }
        };
        if salt.len() != SALT_LEN {
            return Err(self.not_a_vault("the salt is not 16 bytes long"));
        }
        GoDek::unwrap(password, &salt, dek_nonce, encrypted_dek)
            .map_err(|_| GoVaultError::WrongPassword)
    }

    /// Folder id → path (outermost first), and whether the chain was cut by a missing parent.
    fn folders(&self) -> Result<HashMap<String, (Vec<String>, bool)>, GoVaultError> {
        let columns = self.columns("folders")?;
        if !columns.contains("id") || !columns.contains("name") {
            return Ok(HashMap::new());
        }
        let parent = if columns.contains("parent_id") {
            "parent_id"
        } else {
            "NULL"
        };
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT id, name, {parent} FROM folders"))
            .map_err(|e| database(&self.path, e))?;
        let rows: Vec<(String, String, Option<String>)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(|e| database(&self.path, e))?;
        let by_id: HashMap<&str, (&str, Option<&str>)> = rows
            .iter()
            .map(|(id, name, parent)| (id.as_str(), (name.as_str(), parent.as_deref())))
            .collect();
        let mut paths = HashMap::new();
        for (id, _, _) in &rows {
            let mut path = Vec::new();
            let mut cut = false;
            let mut next = Some(id.as_str());
            while let Some(current) = next {
                if path.len() > by_id.len() {
                    return Err(GoVaultError::Folder {
                        path: self.path.clone(),
                        id: shown(id),
                        reason: "its chain of parent folders loops",
                    });
                }
                match by_id.get(current) {
                    Some((name, parent)) => {
                        path.push((*name).to_owned());
                        next = parent.filter(|p| !p.is_empty());
                    }
                    None => {
                        cut = true;
                        next = None;
                    }
                }
            }
            path.reverse();
            paths.insert(id.clone(), (path, cut));
        }
        Ok(paths)
    }

    /// Decrypts a blob of secret `id`'s `column`; `None` for NULL.
    fn decrypt(
        &self,
        dek: &GoDek,
        cell: &Cell,
        id: i64,
        column: &'static str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, GoVaultError> {
        let Some(blob) = cell.bytes().map_err(|why| self.corrupt(id, column, why))? else {
            return Ok(None);
        };
        dek.open(blob)
            .map(Some)
            .map_err(|_| self.corrupt(id, column, "does not decrypt"))
    }

    /// Decrypts and parses a JSON column of secret `id`.
    fn open_json<T: serde::de::DeserializeOwned>(
        &self,
        dek: &GoDek,
        cell: &Cell,
        id: i64,
        column: &'static str,
    ) -> Result<Option<T>, GoVaultError> {
        match self.decrypt(dek, cell, id, column)? {
            None => Ok(None),
            Some(plain) => serde_json::from_slice(plain.as_slice())
                .map(Some)
                .map_err(|_| self.corrupt(id, column, "does not hold the expected JSON")),
        }
    }

    fn secrets(
        &self,
        dek: &GoDek,
        folders: &HashMap<String, (Vec<String>, bool)>,
    ) -> Result<Conversion, GoVaultError> {
        let present = self.columns("secrets")?;
        if present.is_empty() {
            return Err(self.not_a_vault("vault.db has no secrets table"));
        }
        if COLUMNS[..3].iter().any(|c| !present.contains(*c)) {
            return Err(self.not_a_vault("the secrets table lacks id, key_hash or encrypted_key"));
        }
        let select: Vec<&str> = COLUMNS
            .iter()
            .map(|c| if present.contains(*c) { *c } else { "NULL" })
            .collect();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM secrets ORDER BY id",
                select.join(", ")
            ))
            .map_err(|e| database(&self.path, e))?;
        let rows: Vec<Vec<Cell>> = stmt
            .query_map([], |row| {
                (0..COLUMNS.len())
                    .map(|i| row.get_ref(i).map(Cell::of))
                    .collect()
            })
            .and_then(Iterator::collect)
            .map_err(|e| database(&self.path, e))?;

        let mut converter = Converter::default();
        let mut mismatches = Vec::new();
        for row in &rows {
            let id = match row[0] {
                Cell::Int(id) => id,
                _ => return Err(self.not_a_vault("a secret has no integer id")),
            };
            if let Some(draft) = self.secret(dek, id, row, folders, &mut mismatches)? {
                converter.finish(draft);
            }
        }
        if !mismatches.is_empty() {
            return Err(GoVaultError::KeyHashMismatch {
                path: self.path.clone(),
                ids: mismatches,
            });
        }
        Ok(converter.into_conversion())
    }

    /// One secret as a draft; `None` (with `id` added to `mismatches`) when its name does not
    /// match its `key_hash`.
    fn secret(
        &self,
        dek: &GoDek,
        id: i64,
        row: &[Cell],
        folders: &HashMap<String, (Vec<String>, bool)>,
        mismatches: &mut Vec<i64>,
    ) -> Result<Option<Draft>, GoVaultError> {
        let name = self
            .decrypt(dek, &row[2], id, "encrypted_key")?
            .ok_or_else(|| self.corrupt(id, "encrypted_key", "is empty"))?;
        let name = std::str::from_utf8(&name)
            .map_err(|_| self.corrupt(id, "encrypted_key", "is not UTF-8 text"))?;
        let key_hash = row[1]
            .text()
            .map_err(|why| self.corrupt(id, "key_hash", why))?
            .unwrap_or("");
        if !dek.key_hash_matches(name.as_bytes(), key_hash) {
            mismatches.push(id);
            return Ok(None);
        }
        let mut draft = Draft::keyed(usize::try_from(id).unwrap_or(0), name);

        let fields: Option<BTreeMap<String, GoField>> =
            self.open_json(dek, &row[4], id, "encrypted_fields")?;
        let mut renamed: HashMap<String, String> = HashMap::new();
        match fields.filter(|f| !f.is_empty()) {
            Some(fields) => add_fields(&mut draft, fields, &mut renamed),
            None => {
                if let Some(mut value) = self.decrypt(dek, &row[3], id, "encrypted_value")? {
                    let value = std::mem::take(&mut *value);
                    draft.push(VALUE_FIELD, value, FieldDef::plain(true, None));
                    renamed.insert(VALUE_FIELD.to_owned(), VALUE_FIELD.to_owned());
                }
            }
        }

        let bindings: Option<BTreeMap<String, String>> =
            self.open_json(dek, &row[5], id, "encrypted_bindings")?;
        for (env, field) in bindings.unwrap_or_default() {
            if check_binding_name(&env).is_err() {
                draft.problem(format!(
                    "binding {} not carried: it is not a valid environment name",
                    shown(&env)
                ));
            } else if let Some(target) = renamed.get(&field) {
                draft.bindings.insert(env, target.clone());
            } else {
                draft.problem(format!(
                    "binding {} not carried: its field {} was not carried",
                    shown(&env),
                    shown(&field)
                ));
            }
        }

        let metadata: Option<Metadata> = self.open_json(dek, &row[6], id, "encrypted_metadata")?;
        if let Some(metadata) = metadata {
            if let Some(notes) = metadata.notes {
                draft.notes(notes.into_text());
            }
            if let Some(url) = metadata.url.filter(|u| !u.trim().is_empty()) {
                if validate_url(&url).is_ok() {
                    draft.set_meta_url(url);
                } else if let Some(field) =
                    draft.push("url", url.into_bytes(), FieldDef::plain(false, Some("url")))
                {
                    draft.problem(format!(
                        "url is not an http(s) URL secretctl accepts; kept in field {}",
                        shown(&field)
                    ));
                }
            }
        }

        match row[7].text() {
            Ok(None) => {}
            Ok(Some(folder_id)) => match folders.get(folder_id) {
                Some((path, cut)) => {
                    draft.folder = path.clone();
                    if *cut {
                        draft.problem("folder path incomplete: a parent folder is missing");
                    }
                }
                None => draft.problem("folder not carried: the vault has no folder with its id"),
            },
            Err(why) => return Err(self.corrupt(id, "folder_id", why)),
        }

        if let Some(tags) = row[8].text().map_err(|why| self.corrupt(id, "tags", why))? {
            let tags: Vec<String> = serde_json::from_str(tags)
                .map_err(|_| self.corrupt(id, "tags", "is not a JSON list of strings"))?;
            for tag in &tags {
                draft.tag(tag);
            }
        }

        for (i, what) in [
            (9, "expiry"),
            (10, "creation time"),
            (11, "modification time"),
        ] {
            let time = match &row[i] {
                Cell::Null => None,
                Cell::Int(secs) => Timestamp::from_second(*secs).ok(),
                cell => match cell.text() {
                    Ok(None) => continue,
                    Ok(Some(text)) => go_time(text),
                    Err(_) => None,
                },
            };
            if time.is_none() && !matches!(row[i], Cell::Null) {
                draft.problem(format!("{what} not carried: it is not a timestamp"));
            }
            match i {
                9 => draft.expires_at = time,
                10 => draft.created_at = time,
                _ => draft.updated_at = time,
            }
        }
        Ok(Some(draft))
    }
}

/// Adds the Go fields to the draft, recording old name → new name in `renamed`.
fn add_fields(
    draft: &mut Draft,
    fields: BTreeMap<String, GoField>,
    renamed: &mut HashMap<String, String>,
) {
    let mut aliases = Vec::new();
    for (name, field) in fields {
        let Some(mut value) = field.value else {
            draft.problem(format!("field {} not carried: it is empty", shown(&name)));
            continue;
        };
        let value = value.take();
        if value.is_empty() {
            draft.problem(format!("field {} not carried: it is empty", shown(&name)));
            continue;
        }
        let base = if check_field_name(&name).is_ok() {
            name.clone()
        } else {
            field_name(&name)
        };
        let def = FieldDef {
            sensitive: field.sensitive,
            kind: field.kind.filter(|k| !k.is_empty()),
            input_type: if field.input_type.as_deref() == Some("textarea") {
                InputType::MultiLine
            } else {
                InputType::Line
            },
            hint: field.hint.filter(|h| !h.is_empty()),
            aliases: Vec::new(),
        };
        if let Some(used) = draft.push(&base, value, def) {
            if used != name {
                draft.problem(format!(
                    "field {} renamed to {}: it is not a valid field name",
                    shown(&name),
                    shown(&used)
                ));
            }
            aliases.push((used.clone(), field.aliases.unwrap_or_default()));
            renamed.insert(name, used);
        }
    }
    // Aliases last, so that an alias never takes the name of a field that comes later.
    for (field, list) in aliases {
        for alias in list {
            if check_field_name(&alias).is_err() || draft.has_field(&alias) {
                draft.problem(format!(
                    "alias {} of field {} not carried: it is not a valid field name or is taken",
                    shown(&alias),
                    shown(&field)
                ));
            } else {
                draft.add_alias(&field, alias);
            }
        }
    }
}

/// A timestamp as the Go tool or SQLite wrote it (see the module docs).
fn go_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    // Go's monotonic clock reading, which time.String() appends.
    let text = text.split(" m=").next().unwrap_or(text);
    let (date, rest) = text.split_at_checked(10)?;
    let rest = rest.strip_prefix([' ', 'T'])?;
    let (clock, mut rest) = rest.split_at_checked(8)?;
    let mut fraction = "";
    if let Some(after_dot) = rest.strip_prefix('.') {
        let end = after_dot
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after_dot.len());
        fraction = &after_dot[..end];
        rest = &after_dot[end..];
    }
    let civil: jiff::civil::DateTime = if fraction.is_empty() {
        format!("{date}T{clock}").parse().ok()?
    } else {
        format!("{date}T{clock}.{fraction}").parse().ok()?
    };
    // "", "Z", "+09:00", "-0700", "+0000 UTC", "-0700 MST": the zone name is ignored.
    let offset = match rest.split_whitespace().next() {
        None | Some("Z") | Some("UTC") => 0,
        Some(zone) => offset_seconds(zone)?,
    };
    jiff::tz::Offset::from_seconds(offset)
        .ok()?
        .to_timestamp(civil)
        .ok()
}

/// `+09:00` or `-0700` in seconds.
fn offset_seconds(zone: &str) -> Option<i32> {
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

fn database(path: &Path, err: rusqlite::Error) -> GoVaultError {
    GoVaultError::Database {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_times_in_every_spelling() {
        let utc = |t: &str| go_time(t).map(|ts| ts.to_string());
        assert_eq!(
            utc("2030-01-02 03:04:05").as_deref(),
            Some("2030-01-02T03:04:05Z")
        );
        assert_eq!(
            utc("2031-06-07 08:09:10.5+09:00").as_deref(),
            Some("2031-06-06T23:09:10.5Z")
        );
        assert_eq!(
            utc("2031-06-07 08:09:10.123456789 -0700 MST m=+0.000012").as_deref(),
            Some("2031-06-07T15:09:10.123456789Z")
        );
        assert_eq!(
            utc("2024-02-03 04:05:06 +0000 UTC").as_deref(),
            Some("2024-02-03T04:05:06Z")
        );
        assert_eq!(
            utc("2024-02-03T04:05:06Z").as_deref(),
            Some("2024-02-03T04:05:06Z")
        );
        assert_eq!(utc("soon"), None);
        assert_eq!(utc("2024-02-03 04:05:06 +9"), None);
    }
}
