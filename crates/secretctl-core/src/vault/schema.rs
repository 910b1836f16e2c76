//! The database schema (SPEC §3.2) and its numbered migrations.
//!
//! Migration N moves a database from version N-1 to N. Each runs inside the caller's
//! transaction together with the version bump, so a crash leaves the old or the new schema.
//! A database newer than this build is refused rather than guessed at.

use rusqlite::{OptionalExtension, Transaction};

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = 2;

/// Migrations in order; index 0 is migration 1 (creates version 1 from an empty database).
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE metadata (
        key   TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
     ) STRICT;
     CREATE TABLE folders (
        id             TEXT PRIMARY KEY NOT NULL,
        encrypted_name BLOB NOT NULL,
        parent_id      TEXT REFERENCES folders(id),
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE secrets (
        id                 TEXT PRIMARY KEY NOT NULL,
        key_hash           BLOB NOT NULL UNIQUE,
        encrypted_key      BLOB NOT NULL,
        encrypted_value    BLOB NOT NULL,
        encrypted_fields   BLOB,
        encrypted_bindings BLOB,
        encrypted_notes    BLOB,
        encrypted_url      BLOB,
        tags               TEXT NOT NULL DEFAULT '[]',
        folder_id          TEXT REFERENCES folders(id),
        expires_at         INTEGER,
        created_at         INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL
     ) STRICT;
     CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY NOT NULL,
        id        TEXT NOT NULL UNIQUE,
        timestamp INTEGER NOT NULL,
        action    TEXT NOT NULL,
        key_hash  BLOB,
        source    TEXT NOT NULL,
        success   INTEGER NOT NULL,
        error_msg TEXT,
        detail    TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash      BLOB NOT NULL
     ) STRICT;
     CREATE INDEX audit_log_timestamp ON audit_log(timestamp);
     CREATE TABLE unlock_failures (
        at     INTEGER NOT NULL,
        source TEXT NOT NULL
     ) STRICT;",
    // 2: a MAC over every column of a secrets row. Rows of a version-1 vault get theirs at the
    // next unlock (it needs the key); until then the `row_macs` metadata flag is absent.
    "ALTER TABLE secrets ADD COLUMN row_mac BLOB;",
];

/// The schema version recorded in the database (0 for an empty one).
pub fn version(conn: &rusqlite::Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Whether the database has our tables at all (an empty file has none).
pub fn has_metadata_table(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metadata'",
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
}

/// Runs every migration after `from` inside `tx`; returns the new version.
pub fn migrate(tx: &Transaction<'_>, from: u32) -> rusqlite::Result<u32> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
    }
    Ok(MIGRATIONS.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every earlier version migrates to the current one and ends with the same schema as a
    /// fresh database.
    #[test]
    fn migrations_from_every_version_reach_the_same_schema() {
        let schema_of = |conn: &rusqlite::Connection| -> Vec<String> {
            let mut s = conn
                .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            s.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut fresh = rusqlite::Connection::open_in_memory().unwrap();
        let tx = fresh.transaction().unwrap();
        assert_eq!(migrate(&tx, 0).unwrap(), CURRENT_VERSION);
        tx.commit().unwrap();
        let want = schema_of(&fresh);
        for start in 0..CURRENT_VERSION {
            let mut conn = rusqlite::Connection::open_in_memory().unwrap();
            let tx = conn.transaction().unwrap();
            for (i, sql) in MIGRATIONS.iter().enumerate().take(start as usize) {
                tx.execute_batch(sql).unwrap();
                tx.pragma_update(None, "user_version", (i + 1) as u32)
                    .unwrap();
            }
            migrate(&tx, start).unwrap();
            tx.commit().unwrap();
            assert_eq!(schema_of(&conn), want, "from version {start}");
            assert_eq!(version(&conn).unwrap(), CURRENT_VERSION);
        }
    }
}
