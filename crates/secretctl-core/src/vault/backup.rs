//! Backup and restore of a vault (SPEC §10): the database snapshot that goes into a backup
//! file, and the two ways back in — a merge, key by key, into the current vault, or the
//! replacement of the whole vault in one SQLite transaction. The file format, its keys and
//! reading it back are `crate::backup`'s; this module never sees a backup's bytes, only the
//! snapshot database and the data key they decrypt to.
//!
//! The payload of a backup is the vault's data key followed by a snapshot of `vault.db`, taken
//! with SQLite's online backup API in one read transaction (so writers carry on, and the copy
//! is consistent), normalised to a rollback-journal database and, without `--with-audit`,
//! stripped of the audit log (and compacted, so no freed page keeps it). With the data key in
//! the payload, a backup restores with its own password or key file alone, whatever the
//! master password has become since.
//!
//! A replacing restore never renames `vault.db`: it rewrites its contents in one `BEGIN
//! IMMEDIATE` transaction, so SQLite's journal decides what survives a crash and the `-wal`
//! and `-shm` files are never stale. `vault.salt` does not change (the restored data key is
//! wrapped under the current master password and salt). `vault.meta` changes with the vault id
//! and audit anchor, so its new content is written first into `vault.meta.next`, tagged with a
//! `restore_id` that the transaction also stores in the database; after the commit it becomes
//! `vault.meta` and the pending file goes. [`finish_interrupted_restore`], run by every open,
//! does the same when that id committed and only removes the pending file when not.

use super::*;
use crate::backup::{self as format, KeyKind, KeySource, OutputFile};
use crate::crypto::BackupKey;
use rusqlite::backup::{Backup, StepResult};
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::time::Instant;

/// File name of the pending `vault.meta` of a replacing restore.
const NEXT_META: &str = "vault.meta.next";
/// Metadata key naming the restore whose `vault.meta.next` belongs to this database.
const RESTORE_ID_META: &str = "restore_id";
/// Schema name of an attached snapshot.
const SOURCE_SCHEMA: &str = "restore_src";

/// Where a backup goes.
pub enum BackupTarget<'a> {
    /// A file: written under a temporary name in its directory and renamed when complete;
    /// `force` replaces an existing regular file.
    File {
        /// The backup file.
        path: &'a Path,
        /// Replace an existing file.
        force: bool,
    },
    /// A stream (stdout), written as the backup is produced.
    Stream(&'a mut dyn Write),
}

/// What a backup holds.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// Secrets in it.
    pub secrets: u64,
    /// Folders in it.
    pub folders: u64,
    /// Audit records in it, when the log was included.
    pub audit_records: Option<u64>,
    /// Size of the backup, in bytes.
    pub bytes: u64,
    /// What it is encrypted with.
    pub key: &'static str,
}

/// What a backup holds, as found when it was decrypted and checked.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotSummary {
    /// The id of the vault it was taken from.
    pub vault_id: String,
    /// When that vault was created.
    pub vault_created_at: Option<String>,
    /// What it is encrypted with.
    pub key: &'static str,
    /// Secrets in it.
    pub secrets: u64,
    /// Folders in it.
    pub folders: u64,
    /// Audit records in it (all verified), when the log was included.
    pub audit_records: Option<u64>,
}

/// What a merging restore did, or would do.
#[derive(Debug, Clone, Default)]
pub struct RestorePlan {
    /// Secrets that did not exist and were added.
    pub created: Vec<KeyName>,
    /// Existing secrets replaced by the backup's version.
    pub overwritten: Vec<KeyName>,
    /// Existing secrets left alone.
    pub skipped: Vec<KeyName>,
    /// Every key of the backup that existed already.
    pub conflicts: Vec<KeyName>,
    /// Names of the folders added for the restored secrets.
    pub folders_created: Vec<String>,
}

/// What happened to the audit log in a replacing restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// The current log stays and goes on (a backup of this same vault, no `--with-audit`).
    Kept,
    /// The backup's log replaced the current one (`--with-audit`).
    Restored,
    /// A new log starts with a genesis record (the current one belongs to another vault).
    Restarted,
}

impl AuditOutcome {
    /// The name used in output and audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Kept => "kept",
            AuditOutcome::Restored => "restored",
            AuditOutcome::Restarted => "restarted",
        }
    }
}

/// What a replacing restore did, or would do.
#[derive(Debug, Clone)]
pub struct ReplaceReport {
    /// Secrets in the vault now (those of the backup).
    pub secrets: u64,
    /// Folders in the vault now.
    pub folders: u64,
    /// Secrets the vault held before.
    pub replaced_secrets: u64,
    /// What happened to the audit log.
    pub audit: AuditOutcome,
    /// Where the previous `vault.db` was kept (`None` for a dry run).
    pub kept_as: Option<PathBuf>,
}

/// One secret of a snapshot: every column decrypted under the backup's keys, ready to be
/// sealed again under the current vault's (the plaintexts are wiped on drop).
struct SnapSecret {
    name: KeyName,
    value: Zeroizing<Vec<u8>>,
    fields: Option<Zeroizing<Vec<u8>>>,
    bindings: Option<Zeroizing<Vec<u8>>>,
    notes: Option<Zeroizing<Vec<u8>>>,
    url: Option<Zeroizing<Vec<u8>>>,
    tags: String,
    folder_id: Option<String>,
    expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// One folder of a snapshot, its name decrypted.
struct SnapFolder {
    id_text: String,
    name: Zeroizing<Vec<u8>>,
    parent_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// A backup decrypted into a private temporary database (0600, removed on drop) and checked
/// through and through — SQLite's integrity check, every row's MAC, every blob's decryption,
/// and the audit chain when it is included — before any restore may use it.
pub struct Snapshot {
    file: PathBuf,
    tmp: tempfile::NamedTempFile,
    keys: Keys,
    kind: KeyKind,
    with_audit: bool,
    created_at: Option<String>,
    secrets: Vec<SnapSecret>,
    folders: Vec<SnapFolder>,
    audit_records: Option<u64>,
}

fn uuid_text(id: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*id).to_string()
}

fn open_temp_db(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A snapshot taken from a WAL database says so in its header; a self-contained file with
    // no `-wal` beside it is what travels and what is restored.
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    conn.execute_batch(
        "PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;",
    )?;
    Ok(conn)
}

fn count(conn: &Connection, table: &str) -> rusqlite::Result<u64> {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// Runs an online backup from `src` into `dst` in one step (one read transaction on `src`, so
/// the copy is a consistent snapshot while other connections keep writing), retrying while
/// the source is busy, up to [`BUSY_TIMEOUT`].
fn copy_database(src: &Connection, dst: &mut Connection, db: &Path) -> Result<()> {
    let backup = Backup::new(src, dst).map_err(|e| Error::sql(db, e))?;
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match backup.step(-1).map_err(|e| Error::sql(db, e))? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ if Instant::now() >= deadline => return Err(Error::Busy),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn private_temp(dir: &Path, prefix: &str) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

impl Session {
    /// Writes an encrypted backup of the vault (SPEC §10) to `target`, under `key`, with the
    /// audit log when `with_audit`. Audited as `backup`, failures included; a file target is
    /// renamed into place inside the audited transaction, so no backup exists unrecorded.
    pub fn backup(
        &mut self,
        target: BackupTarget<'_>,
        key: KeySource<'_>,
        with_audit: bool,
        source: Source,
    ) -> Result<BackupReport> {
        let kind = key.kind();
        let attempt = self.write_backup(target, &key, with_audit);
        self.audited(Action::Backup, None, source, |_, _, detail| {
            detail.insert("key".into(), kind.as_str().into());
            detail.insert("with_audit".into(), with_audit.into());
            let (report, file) = attempt?;
            let to_file = file.is_some();
            if let Some(file) = file {
                file.commit()?;
            }
            detail.insert(
                "output".into(),
                if to_file { "file" } else { "stream" }.into(),
            );
            detail.insert("secrets".into(), report.secrets.into());
            detail.insert("bytes".into(), report.bytes.into());
            Ok(report)
        })
    }

    fn write_backup(
        &self,
        target: BackupTarget<'_>,
        key: &KeySource<'_>,
        with_audit: bool,
    ) -> Result<(BackupReport, Option<OutputFile>)> {
        let (mut file, stream) = match target {
            BackupTarget::File { path, force } => (Some(OutputFile::create(path, force)?), None),
            BackupTarget::Stream(w) => (None, Some(w)),
        };
        let (snapshot, mut report) = self.snapshot(with_audit)?;
        let len = snapshot
            .as_file()
            .metadata()
            .map_err(|e| Error::io(snapshot.path(), e))?
            .len();
        let db = BufReader::new(
            std::fs::File::open(snapshot.path()).map_err(|e| Error::io(snapshot.path(), e))?,
        );
        let (out, name): (&mut dyn Write, PathBuf) = match (&mut file, stream) {
            (Some(f), _) => {
                let name = f.path().to_owned();
                (f.writer() as &mut dyn Write, name)
            }
            (None, Some(w)) => (w, PathBuf::from("stdout")),
            (None, None) => unreachable!("a backup target is a file or a stream"),
        };
        let payload = format::Payload {
            dek: &self.keys.dek,
            db,
            db_len: len,
        };
        report.bytes = format::write(out, &name, key, self.vault.kdf, with_audit, payload)?;
        report.key = key.kind().as_str();
        Ok((report, file))
    }

    /// A consistent copy of the database in a private temporary file in the vault directory
    /// (stale ones are removed by a later open), without the audit log unless `with_audit`.
    fn snapshot(&self, with_audit: bool) -> Result<(tempfile::NamedTempFile, BackupReport)> {
        let db = self.vault.dir.db();
        let tmp = private_temp(self.vault.dir.root(), ".tmp-backup-")?;
        let path = tmp.path().to_owned();
        let sql = |e| Error::sql(&path, e);
        {
            let mut dst = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sql)?;
            copy_database(&self.vault.conn, &mut dst, &db)?;
        }
        let conn = open_temp_db(&path).map_err(sql)?;
        if !with_audit {
            conn.execute_batch(
                "DELETE FROM audit_log; DELETE FROM unlock_failures;
                 DELETE FROM metadata WHERE key = 'audit_anchor'; VACUUM;",
            )
            .map_err(sql)?;
        }
        let report = BackupReport {
            secrets: count(&conn, "secrets").map_err(sql)?,
            folders: count(&conn, "folders").map_err(sql)?,
            audit_records: if with_audit {
                Some(count(&conn, "audit_log").map_err(sql)?)
            } else {
                None
            },
            bytes: 0,
            key: "",
        };
        conn.close().map_err(|(_, e)| sql(e))?;
        Ok((tmp, report))
    }
}

impl Snapshot {
    /// Decrypts a backup whose key was checked into a private temporary database in
    /// `temp_dir` and checks everything in it. Any failure means nothing may be restored.
    pub fn load<R: Read>(
        reader: format::Reader<R>,
        key: &BackupKey,
        temp_dir: &Path,
    ) -> Result<Snapshot> {
        let file = reader.path().to_owned();
        let header = reader.header().clone();
        let mut tmp = private_temp(temp_dir, ".tmp-restore-")?;
        let dek = {
            let mut sink = BufWriter::new(tmp.as_file_mut());
            let dek = reader.decrypt(key, &mut sink)?;
            sink.flush().map_err(|e| Error::io(temp_dir, e))?;
            dek
        };
        let damaged = || Error::Backup(format::Error::Damaged(file.clone()));
        let path = tmp.path().to_owned();
        // Past the AEAD, the bytes are what secretctl wrote; anything SQLite or a MAC refuses
        // now was damaged before the backup was made, and is refused all the same.
        let conn = open_temp_db(&path).map_err(|_| damaged())?;
        let integrity: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|_| damaged())?;
        if integrity != ["ok"] || !schema::has_metadata_table(&conn).map_err(|_| damaged())? {
            return Err(damaged());
        }
        let version = schema::version(&conn).map_err(|_| damaged())?;
        if version > schema::CURRENT_VERSION {
            return Err(Error::Backup(format::Error::NewerSchema {
                path: file.clone(),
                version,
            }));
        }
        if version == 0 {
            return Err(damaged());
        }
        let mut conn = conn;
        if version < schema::CURRENT_VERSION {
            let tx = conn.transaction().map_err(|e| Error::sql(&path, e))?;
            schema::migrate(&tx, version).map_err(|e| Error::sql(&path, e))?;
            tx.commit().map_err(|e| Error::sql(&path, e))?;
        }
        let meta_row = |k: &str| get_meta_row(&conn, &path, k).map_err(|_| damaged());
        let vault_id = std::str::from_utf8(&meta_row("vault_id")?)
            .ok()
            .and_then(parse_uuid)
            .ok_or_else(damaged)?;
        meta_row(ROW_MACS_FLAG)?;
        let created_at = meta_row("created_at")
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let keys = Keys::from_dek(dek, vault_id);

        let mut secrets = Vec::new();
        let mut names = HashSet::new();
        for (id_text, row) in all_rows(&conn, &path).map_err(|_| damaged())? {
            let secret = snap_secret(&path, &keys, &id_text, row).map_err(|_| damaged())?;
            if !names.insert(secret.name.clone()) {
                return Err(damaged());
            }
            secrets.push(secret);
        }
        let folders = snap_folders(&conn, &keys).map_err(|_| damaged())?;
        let folder_ids: HashMap<&str, Option<&str>> = folders
            .iter()
            .map(|f| (f.id_text.as_str(), f.parent_id.as_deref()))
            .collect();
        // Every parent chain ends, within the table, at a root: no dangling id, no cycle.
        for f in &folders {
            let mut at = f.parent_id.as_deref();
            let mut steps = 0;
            while let Some(id) = at {
                steps += 1;
                if steps > folders.len() {
                    return Err(damaged());
                }
                at = *folder_ids.get(id).ok_or_else(damaged)?;
            }
        }
        if secrets
            .iter()
            .filter_map(|s| s.folder_id.as_deref())
            .any(|id| !folder_ids.contains_key(id))
        {
            return Err(damaged());
        }
        let audit_records = if header.with_audit {
            let report =
                audit::verify(&conn, &keys.audit, &keys.vault_id, None).map_err(|_| damaged())?;
            if let Some(seq) = report.first_bad_seq {
                return Err(Error::Backup(format::Error::AuditBroken {
                    path: file.clone(),
                    seq,
                }));
            }
            Some(report.records)
        } else {
            None
        };
        conn.close().map_err(|_| damaged())?;
        Ok(Snapshot {
            file,
            tmp,
            keys,
            kind: header.kind,
            with_audit: header.with_audit,
            created_at,
            secrets,
            folders,
            audit_records,
        })
    }

    /// What the backup holds.
    pub fn summary(&self) -> SnapshotSummary {
        SnapshotSummary {
            vault_id: uuid_text(&self.keys.vault_id),
            vault_created_at: self.created_at.clone(),
            key: self.kind.as_str(),
            secrets: self.secrets.len() as u64,
            folders: self.folders.len() as u64,
            audit_records: self.audit_records,
        }
    }

    fn folder(&self, id: &str) -> Option<&SnapFolder> {
        self.folders.iter().find(|f| f.id_text == id)
    }
}

/// Checks one row of a snapshot and decrypts every column of it.
fn snap_secret(db: &Path, keys: &Keys, id_text: &str, row: Row) -> Result<SnapSecret> {
    let row = checked_row(db, keys, id_text, row)?;
    let name = decrypt_name(db, keys, &row, id_text)?;
    // Parsed as every read parses them, so that nothing unreadable is carried over.
    decrypt_fields(db, keys, &row, name.as_str())?;
    decrypt_bindings(db, keys, &row, name.as_str())?;
    decrypt_meta(db, keys, &row, name.as_str())?;
    let open = |column: &str, blob: &[u8]| {
        keys.open(&row.id, column, blob)
            .ok_or_else(|| damaged_secret(db, name.as_str()))
    };
    let open_opt =
        |column: &str, blob: &Option<Vec<u8>>| blob.as_ref().map(|b| open(column, b)).transpose();
    Ok(SnapSecret {
        value: open("encrypted_value", &row.encrypted_value)?,
        fields: open_opt("encrypted_fields", &row.encrypted_fields)?,
        bindings: open_opt("encrypted_bindings", &row.encrypted_bindings)?,
        notes: open_opt("encrypted_notes", &row.encrypted_notes)?,
        url: open_opt("encrypted_url", &row.encrypted_url)?,
        tags: row.tags.clone(),
        folder_id: row.folder_id.clone(),
        expires_at: row.expires_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        name,
    })
}

/// The associated data of a folder name: the convention of [`Keys::seal`], with the folder's
/// id as the record and `encrypted_name` as the column.
fn folder_id_bytes(id_text: &str) -> Option<[u8; 16]> {
    parse_uuid(id_text)
}

/// A folders row as stored: id, encrypted name, parent, created and updated times.
type FolderRow = (String, Vec<u8>, Option<String>, i64, i64);

fn snap_folders(conn: &Connection, keys: &Keys) -> rusqlite::Result<Vec<SnapFolder>> {
    let mut stmt = conn.prepare(
        "SELECT id, encrypted_name, parent_id, created_at, updated_at FROM folders ORDER BY id",
    )?;
    let rows: Vec<FolderRow> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id_text, blob, parent_id, created_at, updated_at) in rows {
        let name = folder_id_bytes(&id_text)
            .and_then(|id| keys.open(&id, "encrypted_name", &blob))
            .filter(|n| std::str::from_utf8(n).is_ok())
            .ok_or(rusqlite::Error::InvalidQuery)?;
        out.push(SnapFolder {
            id_text,
            name,
            parent_id,
            created_at,
            updated_at,
        });
    }
    Ok(out)
}

/// Finds or makes, in the current vault, the folder that backup folder `id` stands for, its
/// parents first: the same id (the same folder, perhaps renamed since), else a folder of the
/// same name under the same parent, else a new folder with the backup's id, name and times.
fn map_folder(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    snap: &Snapshot,
    id: &str,
    mapped: &mut HashMap<String, String>,
    plan: &mut RestorePlan,
) -> Result<String> {
    if let Some(to) = mapped.get(id) {
        return Ok(to.clone());
    }
    let damaged = || Error::Backup(format::Error::Damaged(snap.file.clone()));
    let folder = snap.folder(id).ok_or_else(damaged)?;
    let parent = match &folder.parent_id {
        // Load checked that parent chains end, so this recursion does.
        Some(p) => Some(map_folder(conn, db, keys, snap, p, mapped, plan)?),
        None => None,
    };
    let sql = |e| Error::sql(db, e);
    let same_id = conn
        .query_row("SELECT 1 FROM folders WHERE id = ?1", params![id], |_| {
            Ok(())
        })
        .optional()
        .map_err(sql)?
        .is_some();
    let target = if same_id {
        id.to_owned()
    } else if let Some(found) = folder_by_name(conn, db, keys, parent.as_deref(), &folder.name)? {
        found
    } else {
        let record = folder_id_bytes(id).ok_or_else(damaged)?;
        conn.execute(
            "INSERT INTO folders (id, encrypted_name, parent_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                keys.seal(&record, "encrypted_name", &folder.name),
                parent,
                folder.created_at,
                folder.updated_at
            ],
        )
        .map_err(sql)?;
        plan.folders_created
            .push(String::from_utf8_lossy(&folder.name).into_owned());
        id.to_owned()
    };
    mapped.insert(id.to_owned(), target.clone());
    Ok(target)
}

/// A current folder named `name` under `parent`. Folders whose name does not decrypt with the
/// convention of [`Keys::seal`] are not matched (and not touched).
fn folder_by_name(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    parent: Option<&str>,
    name: &[u8],
) -> Result<Option<String>> {
    let mut stmt = conn
        .prepare("SELECT id, encrypted_name FROM folders WHERE parent_id IS ?1 ORDER BY id")
        .map_err(|e| Error::sql(db, e))?;
    let rows: Vec<(String, Vec<u8>)> = stmt
        .query_map(params![parent], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| Error::sql(db, e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| Error::sql(db, e))?;
    Ok(rows.into_iter().find_map(|(id, blob)| {
        let record = folder_id_bytes(&id)?;
        let plain = keys.open(&record, "encrypted_name", &blob)?;
        (plain.as_slice() == name).then_some(id)
    }))
}

/// Writes one secret of a snapshot into the current vault, every column sealed under the
/// current keys for its row: a new row, or the existing row `existing` replaced whole.
fn write_restored(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    s: &SnapSecret,
    existing: Option<[u8; 16]>,
    folder_id: Option<&str>,
) -> Result<()> {
    let id = existing.unwrap_or_else(|| *new_uuid().as_bytes());
    let id_text = uuid_text(&id);
    let seal = |column: &str, plain: &Option<Zeroizing<Vec<u8>>>| {
        plain.as_ref().map(|p| keys.seal(&id, column, p))
    };
    let encrypted_key = keys.seal(&id, "encrypted_key", s.name.as_str().as_bytes());
    let value = keys.seal(&id, "encrypted_value", &s.value);
    let fields = seal("encrypted_fields", &s.fields);
    let bindings = seal("encrypted_bindings", &s.bindings);
    let notes = seal("encrypted_notes", &s.notes);
    let url = seal("encrypted_url", &s.url);
    let sql = |e| Error::sql(db, e);
    if existing.is_some() {
        conn.execute(
            "UPDATE secrets SET encrypted_key = ?1, encrypted_value = ?2, encrypted_fields = ?3,
                    encrypted_bindings = ?4, encrypted_notes = ?5, encrypted_url = ?6, tags = ?7,
                    folder_id = ?8, expires_at = ?9, created_at = ?10, updated_at = ?11
             WHERE id = ?12",
            params![
                encrypted_key,
                value,
                fields,
                bindings,
                notes,
                url,
                s.tags,
                folder_id,
                s.expires_at,
                s.created_at,
                s.updated_at,
                id_text
            ],
        )
        .map_err(sql)?;
    } else {
        conn.execute(
            "INSERT INTO secrets (id, key_hash, encrypted_key, encrypted_value, encrypted_fields,
                    encrypted_bindings, encrypted_notes, encrypted_url, tags, folder_id,
                    expires_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id_text,
                keys.name_index(&s.name).to_vec(),
                encrypted_key,
                value,
                fields,
                bindings,
                notes,
                url,
                s.tags,
                folder_id,
                s.expires_at,
                s.created_at,
                s.updated_at
            ],
        )
        .map_err(sql)?;
    }
    seal_row(conn, db, keys, &id_text)
}

/// The columns of `table` in the current schema, in order.
fn columns(conn: &Connection, db: &Path, table: &str) -> Result<String> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA main.table_info({table})"))
        .map_err(|e| Error::sql(db, e))?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(1))
        .map_err(|e| Error::sql(db, e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| Error::sql(db, e))?;
    Ok(names.join(", "))
}

/// Replaces the rows of `table` with those of the attached snapshot.
fn copy_table(conn: &Connection, db: &Path, table: &str) -> Result<()> {
    let cols = columns(conn, db, table)?;
    conn.execute_batch(&format!(
        "DELETE FROM main.{table};
         INSERT INTO main.{table} ({cols}) SELECT {cols} FROM {SOURCE_SCHEMA}.{table};"
    ))
    .map_err(|e| Error::sql(db, e))
}

/// The pending `vault.meta` of a replacing restore, named by the restore's id.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingMeta {
    restore_id: String,
    meta: MetaFile,
}

/// Writes `vault.meta.next` (0600, through a temporary file and a rename) and returns it open
/// and exclusively locked: an open of the vault meanwhile waits for the lock, then finds the
/// file gone (done), or decides by the database (see [`finish_interrupted_restore`]).
fn write_pending_meta(dir: &VaultDir, pending: &PendingMeta) -> Result<std::fs::File> {
    let root = dir.root();
    let mut tmp = private_temp(root, ".tmp-meta-")?;
    let mut json = serde_json::to_vec_pretty(pending).expect("vault metadata serialises");
    json.push(b'\n');
    let next = root.join(NEXT_META);
    tmp.write_all(&json).map_err(|e| Error::io(&next, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(&next, e))?;
    rustix::fs::flock(tmp.as_file(), rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| Error::io(&next, e.into()))?;
    let file = tmp.persist(&next).map_err(|e| Error::io(&next, e.error))?;
    files::sync_dir(root)?;
    Ok(file)
}

/// Completes or undoes a replacing restore that was interrupted between writing
/// `vault.meta.next` and removing it: when the database holds the restore's id (the transaction
/// committed) its meta becomes `vault.meta` (again, if it already had); either way the pending
/// file goes. Waits while a restore that is still running holds the file's lock.
pub(super) fn finish_interrupted_restore(dir: &VaultDir, conn: &Connection) -> Result<()> {
    let next = dir.root().join(NEXT_META);
    loop {
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&next)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(_) => return dir.check_file(&next),
        };
        dir.check_file(&next)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| Error::io(&next, e.into()))?;
        let held = file.metadata().map_err(|e| Error::io(&next, e))?;
        match std::fs::symlink_metadata(&next) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(&next, e)),
            // Removed and written anew meanwhile by another restore: look again.
            Ok(m) if (m.dev(), m.ino()) != (held.dev(), held.ino()) => continue,
            Ok(_) => {}
        }
        let mut bytes = Vec::new();
        (&file)
            .take(1 << 20)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&next, e))?;
        let pending = serde_json::from_slice::<PendingMeta>(&bytes).ok();
        if let Some(p) = pending {
            let committed = conn
                .query_row(
                    "SELECT value FROM metadata WHERE key = ?1",
                    params![RESTORE_ID_META],
                    |r| r.get::<_, Vec<u8>>(0),
                )
                .optional()
                .map_err(|e| Error::sql(&dir.db(), e))?
                .is_some_and(|id| id == p.restore_id.as_bytes());
            if committed {
                files::write_atomic(&dir.meta(), &meta_json(&p.meta))?;
            }
        }
        std::fs::remove_file(&next).map_err(|e| Error::io(&next, e))?;
        return files::sync_dir(dir.root());
    }
}

/// A name `vault.<x>.pre-restore-<stamp>` free for all three vault files.
fn pre_restore_stamp(dir: &VaultDir) -> String {
    let base = now().strftime("%Y%m%dT%H%M%SZ").to_string();
    (0..)
        .map(|n| {
            if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|stamp| {
            ["vault.db", "vault.meta", "vault.salt"].iter().all(|f| {
                dir.root()
                    .join(format!("{f}.pre-restore-{stamp}"))
                    .symlink_metadata()
                    .is_err()
            })
        })
        .expect("some suffix is free")
}

impl Session {
    /// Restores a backup by merging it into this vault, key by key, in one audited transaction
    /// (SPEC §10). A key that exists already is handled by `on_conflict`: `Skip` keeps the
    /// current secret, `Overwrite` replaces it whole with the backup's version (fields,
    /// bindings, notes, url, tags, expiry, folder, times), `Error` refuses the whole restore.
    /// Folders the restored secrets sit in come along. With `dry_run` every write is made and
    /// rolled back, and the plan is returned.
    pub fn restore_merge(
        &mut self,
        snap: &Snapshot,
        on_conflict: OnConflict,
        dry_run: bool,
        source: Source,
    ) -> Result<RestorePlan> {
        let db = self.vault.dir.db();
        self.audited(Action::Restore, None, source, |conn, keys, detail| {
            detail.insert("mode".into(), "merge".into());
            detail.insert("dry_run".into(), dry_run.into());
            detail.insert(
                "backup_vault_id".into(),
                uuid_text(&snap.keys.vault_id).into(),
            );
            detail.insert("key".into(), snap.kind.as_str().into());
            let mut plan = RestorePlan::default();
            let mut existing = HashMap::new();
            let mut order: Vec<&SnapSecret> = snap.secrets.iter().collect();
            order.sort_by(|a, b| a.name.cmp(&b.name));
            for s in &order {
                if let Some(row) = find_row(conn, &db, keys, &s.name)? {
                    plan.conflicts.push(s.name.clone());
                    existing.insert(s.name.clone(), row.id);
                }
            }
            if on_conflict == OnConflict::Error && !plan.conflicts.is_empty() {
                let names: Vec<&str> = plan.conflicts.iter().map(KeyName::as_str).collect();
                return Err(Error::Conflict(names.join(", ")));
            }
            if dry_run {
                conn.execute_batch("SAVEPOINT restore_dry_run")
                    .map_err(|e| Error::sql(&db, e))?;
            }
            let mut mapped = HashMap::new();
            for s in order {
                let current = existing.get(&s.name).copied();
                if current.is_some() && on_conflict == OnConflict::Skip {
                    plan.skipped.push(s.name.clone());
                    continue;
                }
                let folder = match &s.folder_id {
                    Some(f) => Some(map_folder(
                        conn,
                        &db,
                        keys,
                        snap,
                        f,
                        &mut mapped,
                        &mut plan,
                    )?),
                    None => None,
                };
                write_restored(conn, &db, keys, s, current, folder.as_deref())?;
                if current.is_some() {
                    plan.overwritten.push(s.name.clone());
                } else {
                    plan.created.push(s.name.clone());
                }
            }
            if dry_run {
                conn.execute_batch("ROLLBACK TO restore_dry_run; RELEASE restore_dry_run")
                    .map_err(|e| Error::sql(&db, e))?;
            }
            detail.insert("created".into(), plan.created.len().into());
            detail.insert("overwritten".into(), plan.overwritten.len().into());
            detail.insert("skipped".into(), plan.skipped.len().into());
            detail.insert("folders_created".into(), plan.folders_created.len().into());
            Ok(plan)
        })
    }

    /// Replaces the whole vault with a backup's (SPEC §10), in one `BEGIN IMMEDIATE`
    /// transaction: secrets, folders and metadata become the backup's; the data key is wrapped
    /// under `password` (which must be this vault's master password) with the current salt and
    /// KDF parameters, so the vault opens with the same password before and after; the MCP
    /// policy approval of this vault is kept (its pin of the policy file renewed under the
    /// restored vault's key when the file is still the approved one). The audit log: the backup's with `with_audit`;
    /// else this vault's when the backup is of this same vault; else a new chain. The previous
    /// database, `vault.meta` and `vault.salt` are kept as `<file>.pre-restore-<UTC time>`
    /// first. The restore's record is the last of the new log (or, for a dry run, of this
    /// one).
    pub fn restore_replace(
        mut self,
        snap: Snapshot,
        password: &Passphrase,
        with_audit: bool,
        dry_run: bool,
        source: Source,
    ) -> Result<ReplaceReport> {
        let dir = self.vault.dir.clone();
        let db = dir.db();
        if with_audit && !snap.with_audit {
            return Err(Error::Backup(format::Error::NoAuditLog(snap.file.clone())));
        }
        let same_vault =
            snap.keys.vault_id == self.keys.vault_id && snap.keys.dek.same_key(&self.keys.dek);
        let audit_outcome = if with_audit {
            AuditOutcome::Restored
        } else if same_vault {
            AuditOutcome::Kept
        } else {
            AuditOutcome::Restarted
        };
        let replaced_secrets =
            count(&self.vault.conn, "secrets").map_err(|e| Error::sql(&db, e))?;
        let mut report = ReplaceReport {
            secrets: snap.secrets.len() as u64,
            folders: snap.folders.len() as u64,
            replaced_secrets,
            audit: audit_outcome,
            kept_as: None,
        };
        let describe = |detail: &mut serde_json::Map<String, serde_json::Value>,
                        report: &ReplaceReport| {
            detail.insert("mode".into(), "replace".into());
            detail.insert("dry_run".into(), dry_run.into());
            detail.insert(
                "backup_vault_id".into(),
                uuid_text(&snap.keys.vault_id).into(),
            );
            detail.insert("key".into(), snap.kind.as_str().into());
            detail.insert("secrets".into(), report.secrets.into());
            detail.insert("replaced_secrets".into(), report.replaced_secrets.into());
            detail.insert("audit".into(), report.audit.as_str().into());
        };
        if dry_run {
            return self.audited(Action::Restore, None, source, |_, _, detail| {
                describe(detail, &report);
                Ok(report.clone())
            });
        }

        // The password must be this vault's: it is what the restored data key is wrapped under.
        let master = crypto::derive_master_key(password, &self.vault.salt, &self.vault.kdf)
            .map_err(|_| Error::Damaged {
                path: db.clone(),
                reason: "its KDF parameters are invalid".into(),
            })?;
        master
            .unwrap_dek(&self.vault.wrapped_dek, &self.vault.vault_id)
            .map_err(|_| Error::WrongPassword)?;
        let wrapped = master
            .wrap_dek(&snap.keys.dek, &snap.keys.vault_id)
            .expect("AES-GCM encrypts a 32-byte key");
        drop(master);
        // This vault's approval goes on under the restored vault's policy key. Its pin of the
        // policy file is an HMAC under the old key: when the file on disk is still the one
        // approved, it is pinned again under the new key; otherwise it is carried as it stands
        // (it did not match before either). A row that fails its MAC is no approval.
        let approval = self.policy_approval().ok().flatten().map(|json| {
            let new_key = snap.keys.dek.derive(POLICY_INFO);
            let rebound = std::str::from_utf8(&json)
                .ok()
                .and_then(|text| crate::command_policy::Approval::from_json(text).ok())
                .map(|mut ap| {
                    if let Ok((_, bytes)) = crate::policy::Policy::load_with_bytes(&dir.policy()) {
                        let old = crate::command_policy::policy_hmac(&self.policy_key(), &bytes);
                        if crypto::constant_time_eq(&old, &ap.policy_hmac) {
                            ap.policy_hmac = crate::command_policy::policy_hmac(&new_key, &bytes);
                        }
                    }
                    ap.to_json().into_bytes()
                })
                .unwrap_or(json);
            let mut row = new_key
                .mac_parts(&[POLICY_APPROVAL_MAC_DOMAIN, &rebound])
                .to_vec();
            row.extend_from_slice(&rebound);
            row
        });
        let current_anchor: Option<Vec<u8>> = self
            .vault
            .conn
            .query_row(
                "SELECT value FROM metadata WHERE key = 'audit_anchor'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::sql(&db, e))?;
        let snap_path = snap
            .tmp
            .path()
            .to_str()
            .ok_or_else(|| Error::Damaged {
                path: dir.root().to_owned(),
                reason: "its path is not UTF-8, which SQLite's ATTACH needs".into(),
            })?
            .to_owned();
        let restore_id = new_uuid().to_string();
        let stamp = pre_restore_stamp(&dir);
        let kept_db = dir.root().join(format!("vault.db.pre-restore-{stamp}"));

        let conn = &mut self.vault.conn;
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {SOURCE_SCHEMA}"),
            params![snap_path],
        )
        .map_err(|e| Error::sql(&db, e))?;
        let outcome = (|| -> Result<(std::fs::File, MetaFile)> {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| Error::sql(&db, e))?;
            // Checked again under the write lock: another restore may have won the race.
            let id_now = get_meta_row(&tx, &db, "vault_id")?;
            if std::str::from_utf8(&id_now).ok().and_then(parse_uuid) != Some(self.keys.vault_id) {
                return Err(Error::Replaced);
            }
            keep_pre_restore(&dir, &stamp)?;
            let sql = |e| Error::sql(&db, e);
            tx.execute_batch("DELETE FROM main.secrets; DELETE FROM main.folders;")
                .map_err(sql)?;
            copy_table(&tx, &db, "folders")?;
            copy_table(&tx, &db, "secrets")?;
            copy_table(&tx, &db, "metadata")?;
            let kdf_json = serde_json::to_vec(&self.vault.kdf).expect("KDF parameters serialise");
            set_meta_row(&tx, &db, "salt", &self.vault.salt)?;
            set_meta_row(&tx, &db, "kdf", &kdf_json)?;
            set_meta_row(&tx, &db, "wrapped_dek", &wrapped)?;
            set_meta_row(&tx, &db, RESTORE_ID_META, restore_id.as_bytes())?;
            tx.execute(
                "DELETE FROM metadata WHERE key = ?1",
                params![POLICY_APPROVAL_META],
            )
            .map_err(sql)?;
            if let Some(row) = &approval {
                set_meta_row(&tx, &db, POLICY_APPROVAL_META, row)?;
            }
            match audit_outcome {
                AuditOutcome::Kept => match &current_anchor {
                    Some(a) => set_meta_row(&tx, &db, "audit_anchor", a)?,
                    None => return Err(Error::audit(&db, audit::Error::BadAnchor)),
                },
                AuditOutcome::Restored => copy_table(&tx, &db, "audit_log")?,
                AuditOutcome::Restarted => {
                    tx.execute_batch(
                        "DELETE FROM main.audit_log;
                         DELETE FROM main.metadata WHERE key = 'audit_anchor';",
                    )
                    .map_err(sql)?;
                    audit::write_genesis(&tx, &snap.keys.audit, &snap.keys.vault_id, now())
                        .map_err(|e| Error::audit(&db, e))?;
                }
            }
            let mut detail = serde_json::Map::new();
            describe(&mut detail, &report);
            detail.insert(
                "kept_as".into(),
                format!("vault.db.pre-restore-{stamp}").into(),
            );
            let anchor = audit::append(
                &tx,
                &snap.keys.audit,
                &snap.keys.vault_id,
                Entry {
                    action: Action::Restore,
                    key: None,
                    source,
                    success: true,
                    error: None,
                    detail,
                    at: now(),
                },
            )
            .map_err(|e| Error::audit(&db, e))?;
            let meta = MetaFile {
                format: META_FORMAT,
                vault_id: uuid_text(&snap.keys.vault_id),
                created_at: snap.created_at.clone().unwrap_or_else(|| now().to_string()),
                kdf: self.vault.kdf,
                audit_anchor: Some(anchor.clone()),
            };
            let pending = PendingMeta {
                restore_id: restore_id.clone(),
                meta,
            };
            let lock = write_pending_meta(&dir, &pending)?;
            if let Err(e) = tx.commit() {
                let _ = std::fs::remove_file(dir.root().join(NEXT_META));
                return Err(Error::sql(&db, e));
            }
            Ok((lock, pending.meta))
        })();
        let _ = conn.execute(&format!("DETACH DATABASE {SOURCE_SCHEMA}"), []);
        let (lock, meta) = match outcome {
            Ok(done) => done,
            Err(e) => {
                // Nothing committed; a pending meta written before a failed commit goes too
                // (an open would also remove it, finding no restore id in the database).
                return Err(e);
            }
        };
        // Rolled forward like an open would: the new vault.meta, then the pending file goes.
        files::write_atomic(&dir.meta(), &meta_json(&meta))?;
        std::fs::remove_file(dir.root().join(NEXT_META))
            .map_err(|e| Error::io(&dir.root().join(NEXT_META), e))?;
        files::sync_dir(dir.root())?;
        drop(lock);
        report.kept_as = Some(kept_db);
        Ok(report)
    }
}

/// Copies the vault as it is into `vault.{db,meta,salt}.pre-restore-<stamp>` (0600, each
/// under a temporary name first), the database through the online backup API from a second
/// connection — the caller holds the write lock, so it is the last committed state.
fn keep_pre_restore(dir: &VaultDir, stamp: &str) -> Result<()> {
    let db = dir.db();
    let root = dir.root();
    let tmp = private_temp(root, ".tmp-prerestore-")?;
    {
        let reader = connect(&db)?;
        let mut dst = Connection::open_with_flags(
            tmp.path(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::sql(tmp.path(), e))?;
        copy_database(&reader, &mut dst, &db)?;
    }
    open_temp_db(tmp.path())
        .and_then(|c| c.close().map_err(|(_, e)| e))
        .map_err(|e| Error::sql(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    let kept_db = root.join(format!("vault.db.pre-restore-{stamp}"));
    tmp.persist_noclobber(&kept_db)
        .map_err(|e| Error::io(&kept_db, e.error))?;
    for (from, name) in [(dir.meta(), "vault.meta"), (dir.salt(), "vault.salt")] {
        let bytes = std::fs::read(&from).map_err(|e| Error::io(&from, e))?;
        files::write_atomic(&root.join(format!("{name}.pre-restore-{stamp}")), &bytes)?;
    }
    files::sync_dir(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyFile;
    use crate::secret::{SecretUpdate, SecretValue, Template};

    const PW_A: &[u8] = b"password of vault a";
    const PW_B: &[u8] = b"password of vault b";

    fn pw(b: &[u8]) -> Passphrase {
        Passphrase::new(b.to_vec())
    }

    fn key(name: &str) -> KeyName {
        KeyName::parse(name).unwrap()
    }

    fn val(b: &[u8]) -> SecretValue {
        SecretValue::new(b.to_vec()).unwrap()
    }

    struct TestVault {
        _tmp: tempfile::TempDir,
        dir: VaultDir,
        password: &'static [u8],
    }

    impl TestVault {
        fn new(password: &'static [u8]) -> TestVault {
            let tmp = tempfile::tempdir().unwrap();
            let dir = VaultDir::new(tmp.path().join("vault"));
            Vault::init(&dir, &pw(password)).unwrap();
            TestVault {
                _tmp: tmp,
                dir,
                password,
            }
        }

        fn unlock(&self) -> Session {
            Vault::open(&self.dir)
                .unwrap()
                .unlock(&pw(self.password), Source::Cli)
                .unwrap()
        }

        fn scratch(&self) -> &Path {
            self._tmp.path()
        }
    }

    /// A folder row as the folder code will write one: the name sealed like any column.
    fn add_folder(s: &Session, name: &str, parent: Option<&str>) -> String {
        let id = new_uuid();
        s.vault
            .conn
            .execute(
                "INSERT INTO folders (id, encrypted_name, parent_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 111, 222)",
                params![
                    id.to_string(),
                    s.keys
                        .seal(id.as_bytes(), "encrypted_name", name.as_bytes()),
                    parent
                ],
            )
            .unwrap();
        id.to_string()
    }

    fn put_in_folder(s: &Session, name: &str, folder: &str) {
        let db = s.vault.dir.db();
        let row = find_row(&s.vault.conn, &db, &s.keys, &key(name))
            .unwrap()
            .unwrap();
        let id_text = uuid_text(&row.id);
        s.vault
            .conn
            .execute(
                "UPDATE secrets SET folder_id = ?1 WHERE id = ?2",
                params![folder, id_text],
            )
            .unwrap();
        seal_row(&s.vault.conn, &db, &s.keys, &id_text).unwrap();
    }

    /// The folder path of a secret, outermost first, names decrypted.
    fn folder_path(s: &Session, name: &str) -> Vec<String> {
        let db = s.vault.dir.db();
        let row = find_row(&s.vault.conn, &db, &s.keys, &key(name))
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        let mut at = row.folder_id;
        while let Some(id) = at {
            let (blob, parent): (Vec<u8>, Option<String>) = s
                .vault
                .conn
                .query_row(
                    "SELECT encrypted_name, parent_id FROM folders WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let plain = s
                .keys
                .open(&parse_uuid(&id).unwrap(), "encrypted_name", &blob)
                .unwrap();
            out.insert(0, String::from_utf8(plain.to_vec()).unwrap());
            at = parent;
        }
        out
    }

    /// Fills a vault with every kind of secret: plain, binary, multi-field with bindings,
    /// metadata, and one in a nested folder.
    fn fill(s: &mut Session) {
        s.set(
            &key("plain"),
            SecretUpdate {
                value: Some(val(b"plain value")),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        s.set(
            &key("bin/blob"),
            SecretUpdate {
                value: Some(val(&[0, 1, 2, 255, b'\n'])),
                notes: Some(Some("some notes\nwith lines".into())),
                url: Some(Some("https://example.com/x".into())),
                tags: Some(vec!["t1".into(), "t2".into()]),
                expires_at: Some(Some(Timestamp::from_second(2_000_000_000).unwrap())),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        s.set(
            &key("db/prod"),
            SecretUpdate {
                fields: vec![
                    ("host".into(), val(b"db.internal")),
                    ("password".into(), val(b"hunter2hunter2")),
                ],
                template: Some(Template::parse("database").unwrap()),
                bindings: vec![("DB_PASS".into(), "password".into())],
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        let work = add_folder(s, "work", None);
        let aws = add_folder(s, "aws", Some(&work));
        put_in_folder(s, "db/prod", &aws);
    }

    /// Everything a secret is, as comparable text (values included).
    fn describe(s: &mut Session, name: &str) -> String {
        let secret = s.get(&key(name), Source::Cli).unwrap();
        let fields: Vec<String> = secret
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}={:?} sensitive={} kind={:?} hint={:?} aliases={:?} input={:?}",
                    f.name,
                    f.value.expose_bytes(),
                    f.sensitive,
                    f.kind,
                    f.hint,
                    f.aliases,
                    f.input_type
                )
            })
            .collect();
        format!(
            "{fields:?} {:?} {:?} folder={:?}",
            secret.bindings,
            secret.meta,
            folder_path(s, name)
        )
    }

    fn backup_bytes(s: &mut Session, key: KeySource<'_>, with_audit: bool) -> Vec<u8> {
        let mut out = Vec::new();
        s.backup(BackupTarget::Stream(&mut out), key, with_audit, Source::Cli)
            .unwrap();
        out
    }

    fn load_with(
        bytes: &[u8],
        key: impl Fn(&format::Reader<&[u8]>) -> BackupKey,
        dir: &Path,
    ) -> Result<Snapshot> {
        let reader = format::Reader::new(bytes, bytes.len() as u64, Path::new("test.bak"))?;
        let k = key(&reader);
        Snapshot::load(reader, &k, dir)
    }

    fn temp_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect()
    }

    #[test]
    fn a_merge_into_an_empty_vault_is_lossless_and_brings_folders() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let names = ["bin/blob", "db/prod", "plain"];
        let want: Vec<String> = names.iter().map(|n| describe(&mut sa, n)).collect();
        let password = pw(PW_A);
        let bytes = backup_bytes(&mut sa, KeySource::MasterPassword(&password), false);

        let b = TestVault::new(PW_B);
        let snap = load_with(
            &bytes,
            |r| r.key_from_password(&pw(PW_A)).unwrap(),
            b.dir.root(),
        )
        .unwrap();
        let summary = snap.summary();
        assert_eq!((summary.secrets, summary.folders), (3, 2));
        assert_eq!(summary.audit_records, None);
        assert_eq!(summary.vault_id, sa.vault_id().to_string());
        let mut sb = b.unlock();
        let plan = sb
            .restore_merge(&snap, OnConflict::Error, false, Source::Cli)
            .unwrap();
        assert_eq!(plan.created, names.map(key).to_vec());
        assert_eq!(plan.folders_created, ["work", "aws"]);
        let got: Vec<String> = names.iter().map(|n| describe(&mut sb, n)).collect();
        assert_eq!(got, want);
        assert!(sb.audit_verify(Source::Cli).unwrap().is_ok());
        drop(snap);
        assert!(temp_files(b.dir.root()).is_empty());
    }

    #[test]
    fn merge_conflicts_error_skip_overwrite_and_dry_run() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        let want = describe(&mut sa, "plain");

        let b = TestVault::new(PW_B);
        let mut sb = b.unlock();
        sb.set(
            &key("plain"),
            SecretUpdate {
                value: Some(val(b"changed")),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        let before = describe(&mut sb, "plain");
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        let err = sb
            .restore_merge(&snap, OnConflict::Error, false, Source::Cli)
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::Conflict(ref k) if k == "plain"),
            "{err}"
        );
        assert!(sb.list(&ListFilter::default(), Source::Cli).unwrap().len() == 1);

        let plan = sb
            .restore_merge(&snap, OnConflict::Overwrite, true, Source::Cli)
            .unwrap();
        assert_eq!(plan.overwritten, [key("plain")]);
        assert_eq!(plan.created.len(), 2);
        assert_eq!(describe(&mut sb, "plain"), before, "a dry run wrote");
        assert_eq!(
            sb.list(&ListFilter::default(), Source::Cli).unwrap().len(),
            1
        );

        let plan = sb
            .restore_merge(&snap, OnConflict::Skip, false, Source::Cli)
            .unwrap();
        assert_eq!((plan.skipped.len(), plan.created.len()), (1, 2));
        assert_eq!(describe(&mut sb, "plain"), before);

        // The folders exist now: a second restore finds them by id instead of adding more.
        let plan = sb
            .restore_merge(&snap, OnConflict::Overwrite, false, Source::Cli)
            .unwrap();
        assert_eq!(plan.overwritten.len(), 3);
        assert!(plan.folders_created.is_empty());
        assert_eq!(describe(&mut sb, "plain"), want);
        assert!(sb.audit_verify(Source::Cli).unwrap().is_ok());
        let restores = audit::list(
            &sb.vault.conn,
            &audit::Filter {
                action: Some("restore".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let outcomes: Vec<bool> = restores.iter().map(|r| r.success).collect();
        assert_eq!(outcomes, [false, true, true, true]);
    }

    #[test]
    fn a_folder_of_the_same_name_is_reused() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        let b = TestVault::new(PW_B);
        let sb = b.unlock();
        let work = add_folder(&sb, "work", None);
        let mut sb = sb;
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        let plan = sb
            .restore_merge(&snap, OnConflict::Error, false, Source::Cli)
            .unwrap();
        assert_eq!(plan.folders_created, ["aws"]);
        assert_eq!(folder_path(&sb, "db/prod"), ["work", "aws"]);
        let parent: String = sb
            .vault
            .conn
            .query_row(
                "SELECT f.parent_id FROM folders f JOIN secrets s ON s.folder_id = f.id",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(parent, work);
    }

    #[test]
    fn replace_swaps_the_vault_keeps_the_password_and_the_policy_approval() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), true);
        let want = describe(&mut sa, "db/prod");
        let a_id = sa.vault_id();

        let b = TestVault::new(PW_B);
        let mut sb = b.unlock();
        sb.set(
            &key("only/in/b"),
            SecretUpdate {
                value: Some(val(b"b")),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        sb.set_policy_approval(br#"{"commands":[]}"#, Source::Cli)
            .unwrap();
        let b_meta = std::fs::read(b.dir.meta()).unwrap();
        let b_salt = std::fs::read(b.dir.salt()).unwrap();
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        // Genesis and three sets; the folders were written behind the log's back.
        assert_eq!(snap.summary().audit_records, Some(4));

        // A wrong password is refused before anything changes.
        let snap2 = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        let err = sb
            .restore_replace(snap2, &pw(PW_A), true, false, Source::Cli)
            .err()
            .unwrap();
        assert!(matches!(err, Error::WrongPassword), "{err}");
        assert_eq!(std::fs::read(b.dir.meta()).unwrap(), b_meta);

        let sb = b.unlock();
        let report = sb
            .restore_replace(snap, &pw(PW_B), true, false, Source::Cli)
            .unwrap();
        assert_eq!(report.audit, AuditOutcome::Restored);
        assert_eq!((report.secrets, report.replaced_secrets), (3, 1));
        let kept = report.kept_as.unwrap();
        let stamp = kept
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_prefix("vault.db.pre-restore-")
            .unwrap()
            .to_owned();
        for (file, old) in [("vault.meta", &b_meta), ("vault.salt", &b_salt)] {
            let path = b.dir.root().join(format!("{file}.pre-restore-{stamp}"));
            assert_eq!(&std::fs::read(&path).unwrap(), old);
            assert_eq!(path.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(kept.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        // The kept database is the old vault, whole: it opens with the old files.
        let old = VaultDir::new(b.scratch().join("old"));
        std::fs::create_dir(old.root()).unwrap();
        std::fs::set_permissions(old.root(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::copy(&kept, old.db()).unwrap();
        std::fs::write(old.meta(), &b_meta).unwrap();
        std::fs::write(old.salt(), &b_salt).unwrap();
        for p in [old.meta(), old.salt()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut so = Vault::open(&old)
            .unwrap()
            .unlock(&pw(PW_B), Source::Cli)
            .unwrap();
        assert_eq!(
            so.list(&ListFilter::default(), Source::Cli).unwrap().len(),
            1
        );

        assert!(!b.dir.root().join(NEXT_META).exists());
        assert_eq!(std::fs::read(b.dir.salt()).unwrap(), b_salt);
        assert!(matches!(
            Vault::open(&b.dir).unwrap().unlock(&pw(PW_A), Source::Cli),
            Err(Error::WrongPassword)
        ));
        let mut sb = b.unlock();
        assert_eq!(sb.vault_id(), a_id);
        assert_eq!(describe(&mut sb, "db/prod"), want);
        assert!(matches!(
            sb.get(&key("only/in/b"), Source::Cli),
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            sb.policy_approval().unwrap().as_deref(),
            Some(&br#"{"commands":[]}"#[..])
        );
        let v = sb.audit_verify(Source::Cli).unwrap();
        assert!(v.is_ok(), "{v:?}");
        let actions: Vec<String> = audit::list(&sb.vault.conn, &audit::Filter::default())
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        // The backup's log, the restore, then what this test did since: the wrong password
        // (folded in at the next unlock), two reads, the verify.
        assert_eq!(
            actions,
            [
                "init",
                "set",
                "set",
                "set",
                "restore",
                "unlock",
                "get",
                "get",
                "audit_verify"
            ]
        );
        assert!(temp_files(b.dir.root()).is_empty());
    }

    #[test]
    fn replace_keeps_the_log_of_the_same_vault_and_restarts_another_vaults() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        sa.set(
            &key("later"),
            SecretUpdate {
                value: Some(val(b"x")),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        let records_before = sa.audit_verify(Source::Cli).unwrap().records;
        drop(sa);
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), a.dir.root()).unwrap();
        let report = a
            .unlock()
            .restore_replace(snap, &pw(PW_A), false, false, Source::Cli)
            .unwrap();
        assert_eq!(report.audit, AuditOutcome::Kept);
        let mut sa = a.unlock();
        assert!(matches!(
            sa.get(&key("later"), Source::Cli),
            Err(Error::NotFound(_))
        ));
        let v = sa.audit_verify(Source::Cli).unwrap();
        assert!(v.is_ok(), "{v:?}");
        // The verify before, the restore, the failed read of `later`.
        assert_eq!(v.records, records_before + 3);

        let b = TestVault::new(PW_B);
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        let report = b
            .unlock()
            .restore_replace(snap, &pw(PW_B), false, false, Source::Cli)
            .unwrap();
        assert_eq!(report.audit, AuditOutcome::Restarted);
        let mut sb = b.unlock();
        let v = sb.audit_verify(Source::Cli).unwrap();
        assert!(v.is_ok(), "{v:?}");
        assert_eq!(v.records, 2, "genesis and the restore");
        assert_eq!(
            sb.list(&ListFilter::default(), Source::Cli).unwrap().len(),
            3
        );
    }

    #[test]
    fn with_audit_needs_a_backup_that_has_the_log() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), a.dir.root()).unwrap();
        let err = sa
            .restore_replace(snap, &pw(PW_A), true, false, Source::Cli)
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::Backup(format::Error::NoAuditLog(_))),
            "{err}"
        );
    }

    #[test]
    fn an_interrupted_replace_is_undone_before_commit_and_completed_after() {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        drop(sa);
        let b = TestVault::new(PW_B);
        let b_meta = std::fs::read(b.dir.meta()).unwrap();
        let next = b.dir.root().join(NEXT_META);
        let pending = |id: &str, meta: MetaFile| {
            let json = serde_json::to_vec(&PendingMeta {
                restore_id: id.into(),
                meta,
            })
            .unwrap();
            std::fs::write(&next, json).unwrap();
            std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o600)).unwrap();
        };
        let meta_a: MetaFile =
            serde_json::from_slice(&std::fs::read(a.dir.meta()).unwrap()).unwrap();

        // Killed before the commit: the database names no restore, the pending file goes.
        pending("no-such-restore", meta_a.clone());
        b.unlock();
        assert!(!next.exists());
        assert_eq!(std::fs::read(b.dir.meta()).unwrap(), b_meta);

        // Killed after the commit, before vault.meta was written: it is written.
        let snap = load_with(&bytes, |r| r.key_from_key_file(&kf).unwrap(), b.dir.root()).unwrap();
        b.unlock()
            .restore_replace(snap, &pw(PW_B), false, false, Source::Cli)
            .unwrap();
        let new_meta = std::fs::read(b.dir.meta()).unwrap();
        let restore_id = {
            let conn = Connection::open(b.dir.db()).unwrap();
            get_meta_row(&conn, &b.dir.db(), RESTORE_ID_META).unwrap()
        };
        std::fs::write(b.dir.meta(), &b_meta).unwrap();
        pending(
            std::str::from_utf8(&restore_id).unwrap(),
            serde_json::from_slice(&new_meta).unwrap(),
        );
        let mut sb = b.unlock();
        assert!(!next.exists());
        assert_eq!(sb.vault_id().to_string(), meta_a.vault_id);
        assert!(sb.audit_verify(Source::Cli).unwrap().is_ok());
    }

    /// A real backup of a small vault (no audit log: 48 KiB) and the positions to flip.
    fn real_backup() -> (TestVault, KeyFile, Vec<u8>) {
        let a = TestVault::new(PW_A);
        let mut sa = a.unlock();
        fill(&mut sa);
        let kf = KeyFile::generate();
        let bytes = backup_bytes(&mut sa, KeySource::KeyFile(&kf), false);
        drop(sa);
        (a, kf, bytes)
    }

    /// Flips each position in turn and runs the reader (header, key check, every chunk).
    fn flips_are_damage(bytes: &[u8], kf: &KeyFile, positions: impl Iterator<Item = usize>) {
        let mut bad = bytes.to_vec();
        for i in positions {
            bad[i] ^= 0x01;
            let outcome =
                format::Reader::new(&bad[..], bad.len() as u64, Path::new("b")).and_then(|r| {
                    let key = r.key_from_key_file(kf)?;
                    r.decrypt(&key, std::io::sink())
                });
            bad[i] ^= 0x01;
            assert!(
                matches!(outcome, Err(format::Error::Damaged(_))),
                "flip at {i}: {:?}",
                outcome.err()
            );
        }
    }

    /// Every byte position of a real backup. Unoptimised AES-GCM takes about 4 ms per flip of
    /// this 48 KiB file (minutes in all), so it runs on request:
    /// `cargo test --release -p secretctl-core --lib every_flipped_byte -- --ignored`.
    #[test]
    #[ignore = "minutes unoptimised; run with --release -- --ignored"]
    fn every_flipped_byte_of_a_real_backup_is_damage() {
        let (_a, kf, bytes) = real_backup();
        flips_are_damage(&bytes, &kf, 0..bytes.len());
    }

    /// Flips in a real backup are damage, found before anything could be restored: every header
    /// byte, the first and last 512 bytes of the sealed payload and a random sample of the rest
    /// through the reader; a few positions through the whole load, which leaves no temporary
    /// file behind. (Every byte of a small backup: `backup::tests`; every byte of this one:
    /// the ignored test above.)
    #[test]
    fn flipped_bytes_of_a_real_backup_are_damage() {
        let (a, kf, bytes) = real_backup();
        let n = bytes.len();
        let mut seed = u64::from_le_bytes(crypto::random_salt()[..8].try_into().unwrap()) | 1;
        eprintln!("flip sample seed {seed:#x}");
        let sample: Vec<usize> = (0..300)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % n as u64) as usize
            })
            .collect();
        let head = format::HEADER_LEN + 512;
        flips_are_damage(&bytes, &kf, (0..head).chain(n - 512..n).chain(sample));
        let scratch = a.scratch().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        for i in [0, 14, 40, 70, 100, 130, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 0x80;
            // Header flips fail in the reader, before the key is asked for.
            let err = load_with(&bad, |r| r.key_from_key_file(&kf).unwrap(), &scratch).err();
            assert!(
                matches!(err, Some(Error::Backup(format::Error::Damaged(_)))),
                "flip at {i}: {err:?}"
            );
            assert!(temp_files(&scratch).is_empty());
        }
    }
}
