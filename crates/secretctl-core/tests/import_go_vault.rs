//! `import --from secretctl-go DIR`: the vaults under `tests/fixtures/import/go-vault*/` (made by
//! `make_go_vault.py` from the format document, independently of the reader) read back field by
//! field; a wrong password, a flipped ciphertext byte, swapped names and missing files give the
//! errors the CLI maps to exit codes, naming the item and never a value.

use std::fs;
use std::path::{Path, PathBuf};

use secretctl_core::crypto::Passphrase;
use secretctl_core::secret::InputType;
use secretctl_core::transfer::Record;
use secretctl_core::transfer::go_vault::{GoVaultError, read};

const PASSWORD: &[u8] = b"go-fixture-password";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn password() -> Passphrase {
    Passphrase::new(PASSWORD.to_vec())
}

/// A copy of a fixture vault in a temporary directory, to damage.
fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn ts(t: Option<jiff::Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

/// name, value, sensitive, kind, multi-line, hint, aliases
type F<'a> = (
    &'a str,
    &'a [u8],
    bool,
    Option<&'a str>,
    bool,
    Option<&'a str>,
    Vec<&'a str>,
);

fn fields(record: &Record) -> Vec<F<'_>> {
    record
        .secret
        .fields
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.value.expose_bytes(),
                f.sensitive,
                f.kind.as_deref(),
                f.input_type == InputType::MultiLine,
                f.hint.as_deref(),
                f.aliases.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

fn bindings(record: &Record) -> Vec<(&str, &str)> {
    record
        .secret
        .bindings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn schema_5_vault_reads_field_by_field() {
    let c = read(&fixture("go-vault"), &password()).unwrap();
    let names: Vec<&str> = c.records.iter().map(|r| r.secret.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "aws/access_key",
            "db/prod",
            "personal/wifi",
            "legacy/binary",
            "old-key"
        ]
    );

    // 1: legacy single value, nested folder, SQLite timestamps.
    let r = &c.records[0];
    assert_eq!(
        fields(r),
        [(
            "value",
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            true,
            None,
            false,
            None,
            vec![]
        )]
    );
    assert!(r.secret.is_plain());
    assert_eq!(r.folder, ["Work", "AWS"]);
    assert_eq!(r.secret.meta.tags, ["prod", "aws"]);
    assert_eq!(
        ts(r.secret.meta.expires_at).as_deref(),
        Some("2030-01-02T03:04:05Z")
    );
    assert_eq!(
        ts(r.secret.meta.created_at).as_deref(),
        Some("2024-01-01T10:00:00Z")
    );
    assert_eq!(
        ts(r.secret.meta.updated_at).as_deref(),
        Some("2024-01-02T11:00:00Z")
    );
    assert_eq!(r.secret.meta.notes, None);
    assert_eq!(r.secret.meta.url, None);
    assert!(bindings(r).is_empty());

    // 2: fields (the legacy value beside them is ignored), textarea, aliases, bindings,
    // metadata, Go time spellings.
    let r = &c.records[1];
    assert_eq!(
        fields(r),
        [
            (
                "ca_cert",
                &b"-----BEGIN CERTIFICATE-----\nMIIBexample\n-----END CERTIFICATE-----"[..],
                false,
                None,
                true,
                Some("PEM"),
                vec![]
            ),
            (
                "host",
                &b"db.example.com"[..],
                false,
                Some("hostname"),
                false,
                None,
                vec![]
            ),
            (
                "password",
                &b"s3cret-pw"[..],
                true,
                Some("password"),
                false,
                Some("database password"),
                vec!["pass", "pw"]
            ),
            (
                "port",
                &b"5432"[..],
                false,
                Some("port"),
                false,
                None,
                vec![]
            ),
            (
                "username",
                &b"app"[..],
                false,
                Some("username"),
                false,
                None,
                vec![]
            ),
        ]
    );
    assert_eq!(
        bindings(r),
        [
            ("PGHOST", "host"),
            ("PGPASSWORD", "password"),
            ("PGPORT", "port"),
            ("PGUSER", "username")
        ]
    );
    assert_eq!(
        r.secret.meta.notes.as_deref(),
        Some("Production database\nrotate quarterly")
    );
    assert_eq!(
        r.secret.meta.url.as_deref(),
        Some("https://db.example.com/console")
    );
    assert_eq!(r.folder, ["Work"]);
    assert_eq!(r.secret.meta.tags, ["db"]);
    assert_eq!(
        ts(r.secret.meta.expires_at).as_deref(),
        Some("2031-06-06T23:09:10.123456789Z")
    );
    assert_eq!(
        ts(r.secret.meta.created_at).as_deref(),
        Some("2024-02-03T04:05:06.5Z")
    );
    assert_eq!(
        ts(r.secret.meta.updated_at).as_deref(),
        Some("2024-02-04T12:06:07.25Z")
    );

    // 3: unicode, a renamed field, an empty field, bad bindings, a non-http url, an odd tag.
    let r = &c.records[2];
    assert_eq!(
        fields(r),
        [
            ("bad_name", &b"x1"[..], false, None, false, None, vec![]),
            ("psk", "ключ-🔑".as_bytes(), true, None, false, None, vec![]),
            (
                "ssid",
                "Café ☕".as_bytes(),
                false,
                None,
                false,
                None,
                vec![]
            ),
            (
                "url",
                &b"ftp://files.example.com"[..],
                false,
                Some("url"),
                false,
                None,
                vec![]
            ),
        ]
    );
    assert_eq!(bindings(r), [("WIFI_PSK", "psk")]);
    assert_eq!(r.secret.meta.notes.as_deref(), Some("ノート"));
    assert_eq!(r.secret.meta.url, None);
    assert_eq!(r.secret.meta.tags, ["home", "not-valid"]);
    assert!(r.folder.is_empty());
    assert_eq!(r.secret.meta.expires_at, None);
    assert_eq!(r.secret.meta.created_at, None);

    // 4: binary legacy value, RFC 3339 times, top-level folder.
    let r = &c.records[3];
    assert_eq!(
        fields(r),
        [(
            "value",
            &[0x00, 0x01, 0xfe, 0xff][..],
            true,
            None,
            false,
            None,
            vec![]
        )]
    );
    assert_eq!(r.folder, ["Personal"]);
    assert_eq!(
        ts(r.secret.meta.created_at).as_deref(),
        Some("2024-03-01T12:00:00Z")
    );

    // 5: renamed key, folder whose parent is missing.
    let r = &c.records[4];
    assert_eq!(
        fields(r),
        [("value", &b"old-value"[..], true, None, false, None, vec![])]
    );
    assert_eq!(r.folder, ["Orphan"]);

    assert_eq!(
        c.unsupported,
        [
            "personal/wifi: field 'Bad Name' renamed to 'bad_name': it is not a valid field name",
            "personal/wifi: field 'empty' not carried: it is empty",
            "personal/wifi: binding 'WIFI_GONE' not carried: its field 'empty' was not carried",
            "personal/wifi: binding 'bad-env' not carried: it is not a valid environment name",
            "personal/wifi: url is not an http(s) URL secretctl accepts; kept in field 'url'",
            "old-key: renamed from 'old key': it is not a valid secretctl key name",
            "old-key: folder path incomplete: a parent folder is missing",
        ]
    );
}

#[test]
fn older_schema_takes_the_salt_from_vault_salt() {
    let c = read(&fixture("go-vault-v1"), &password()).unwrap();
    assert!(c.unsupported.is_empty(), "{:?}", c.unsupported);
    assert_eq!(c.records.len(), 2);
    let r = &c.records[0];
    assert_eq!(r.secret.name.as_str(), "API_KEY");
    assert_eq!(
        fields(r),
        [(
            "value",
            &b"sk-legacy-123"[..],
            true,
            None,
            false,
            None,
            vec![]
        )]
    );
    assert!(r.secret.meta.tags.is_empty());
    let r = &c.records[1];
    assert_eq!(r.secret.name.as_str(), "github/token");
    assert_eq!(
        fields(r),
        [(
            "value",
            &b"ghp_legacyToken"[..],
            true,
            None,
            false,
            None,
            vec![]
        )]
    );
    assert_eq!(r.secret.meta.tags, ["ci"]);
    assert_eq!(
        ts(r.secret.meta.expires_at).as_deref(),
        Some("2029-12-31T23:59:59Z")
    );
    assert_eq!(
        ts(r.secret.meta.updated_at).as_deref(),
        Some("2023-01-02T09:00:00Z")
    );
    assert!(r.folder.is_empty());
}

#[test]
fn wrong_password_is_its_own_error() {
    let err = read(
        &fixture("go-vault"),
        &Passphrase::new(b"not-the-password".to_vec()),
    )
    .err()
    .unwrap();
    assert!(matches!(err, GoVaultError::WrongPassword), "{err}");
    assert_eq!(
        err.to_string(),
        "wrong master password for the secretctl-go vault"
    );
}

#[test]
fn reading_changes_nothing_in_the_directory() {
    let dir = copy("go-vault");
    let before: Vec<(PathBuf, Vec<u8>)> = snapshot(dir.path());
    read(dir.path(), &password()).unwrap();
    assert_eq!(snapshot(dir.path()), before);
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_flipped_ciphertext_byte_names_the_secret_and_column() {
    let dir = copy("go-vault");
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    let mut blob: Vec<u8> = db
        .query_row(
            "SELECT encrypted_fields FROM secrets WHERE id = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    blob[20] ^= 0x01;
    db.execute(
        "UPDATE secrets SET encrypted_fields = ?1 WHERE id = 2",
        [&blob],
    )
    .unwrap();
    drop(db);
    let err = read(dir.path(), &password()).err().unwrap();
    match &err {
        GoVaultError::Corrupt { id, column, .. } => {
            assert_eq!((*id, *column), (2, "encrypted_fields"));
        }
        other => panic!("unexpected error: {other}"),
    }
    let shown = err.to_string();
    assert!(
        shown.ends_with(
            "vault.db: secret id 2: encrypted_fields does not decrypt; the vault is damaged or was altered"
        ),
        "{shown}"
    );
    for value in ["db/prod", "s3cret", "db.example.com"] {
        assert!(!shown.contains(value), "{shown}");
    }
}

#[test]
fn swapped_names_fail_the_key_hash_check() {
    let dir = copy("go-vault");
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    // Each name still decrypts (the Go format has no associated data), but under the other
    // row's key_hash.
    db.execute_batch(
        "UPDATE secrets SET encrypted_key = (SELECT encrypted_key FROM secrets AS o WHERE o.id = 4)
             WHERE id = 1;
         UPDATE secrets SET encrypted_key = (SELECT encrypted_value FROM secrets AS o WHERE o.id = 5)
             WHERE id = 5;",
    )
    .unwrap();
    drop(db);
    let err = read(dir.path(), &password()).err().unwrap();
    match &err {
        GoVaultError::KeyHashMismatch { ids, .. } => assert_eq!(ids, &[1, 5]),
        other => panic!("unexpected error: {other}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains("the key_hash of secret id 1, 5 does not match the decrypted name"),
        "{shown}"
    );
    assert!(!shown.contains("legacy/binary") && !shown.contains("old-value"));
}

#[test]
fn a_changed_key_hash_is_reported() {
    let dir = copy("go-vault-v1");
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    db.execute(
        "UPDATE secrets SET key_hash = ?1 WHERE id = 2",
        [&"00".repeat(32)],
    )
    .unwrap();
    drop(db);
    let err = read(dir.path(), &password()).err().unwrap();
    assert!(
        matches!(&err, GoVaultError::KeyHashMismatch { ids, .. } if ids == &[2]),
        "{err}"
    );
}

#[test]
fn missing_files_are_named() {
    let empty = tempfile::tempdir().unwrap();
    let err = read(empty.path(), &password()).err().unwrap();
    assert!(matches!(err, GoVaultError::NotAVault { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("not a secretctl-go vault: there is no vault.db")
    );

    // Before schema 4 the salt lives only in vault.salt.
    let dir = copy("go-vault-v1");
    fs::remove_file(dir.path().join("vault.salt")).unwrap();
    let err = read(dir.path(), &password()).err().unwrap();
    match &err {
        GoVaultError::Io { path, .. } => assert!(path.ends_with("vault.salt")),
        other => panic!("unexpected error: {other}"),
    }
}

#[test]
fn a_folder_loop_is_an_error() {
    let dir = copy("go-vault");
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    db.execute(
        "UPDATE folders SET parent_id = '22222222-2222-4222-8222-222222222222' WHERE name = 'Work'",
        [],
    )
    .unwrap();
    drop(db);
    let err = read(dir.path(), &password()).err().unwrap();
    assert!(matches!(err, GoVaultError::Folder { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("its chain of parent folders loops")
    );
}
