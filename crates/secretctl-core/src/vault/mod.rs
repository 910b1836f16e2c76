//! The vault: opening and checking the files of SPEC §3, unlocking with the key hierarchy of
//! SPEC §3.1, and every operation on secrets, each committed together with its audit record in
//! one `BEGIN IMMEDIATE` transaction (SPEC §3.2, §8).
//!
//! A [`Vault`] is an opened, still locked vault: it has checked the files and read the public
//! parameters, but holds no key. [`Vault::unlock`] pays the KDF and returns a [`Session`], the
//! only type that can read or change secrets.

mod backup;
mod files;
mod folders;
mod schema;
mod stored;

pub use backup::{
    AuditOutcome, BackupReport, BackupTarget, ReplaceReport, RestorePlan, Snapshot, SnapshotSummary,
};
pub use files::VaultDir;
pub use folders::FolderInfo;
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;
pub(crate) use schema::version as schema_version;

/// The codecs of the decrypted field and binding blobs, public only so that the fuzz targets in
/// `fuzz/` can reach them (docs/fuzzing.md). Not part of the API: hidden, and free to change.
#[doc(hidden)]
pub mod stored_codec {
    pub use super::stored::{decode_bindings, decode_fields, encode_bindings, encode_fields};
}

use crate::audit::{self, Action, Anchor, Entry, Source};
use crate::crypto::{self, Dek, KdfParams, Passphrase, SubKey};
use crate::pattern::Pattern;
use crate::secret::{
    Bindings, Field, FieldView, FolderPath, InputError, KeyName, Secret, SecretMeta, SecretSummary,
    SecretUpdate, SecretValue, VALUE_FIELD,
};
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// The `format` written to `vault.meta`.
pub const META_FORMAT: u32 = 1;
/// How long a writer waits for another before giving up with [`Error::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// Minimum master password length, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Maximum master password length, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Everything that can go wrong with the vault. Messages never contain a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No vault in the directory.
    #[error("no vault at {}; run `secretctl init` to create one", .0.display())]
    NoVault(PathBuf),
    /// `init` found vault files already.
    #[error("a vault already exists at {}; refusing to overwrite it", .0.display())]
    AlreadyExists(PathBuf),
    /// A vault file or the directory is open to others or not ours.
    #[error("{}: {problem}; run `{fix}`", path.display())]
    UnsafePermissions {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// A vault file is a symlink.
    #[error("{} is a symlink; vault files must be regular files", .0.display())]
    Symlink(PathBuf),
    /// A vault file is damaged or inconsistent.
    #[error("{} is damaged: {reason}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored secret fails authentication.
    #[error("{what} fails to decrypt: {} is damaged or was tampered with", path.display())]
    SecretDamaged {
        /// Which secret (name, or record id when the name itself is unreadable).
        what: String,
        /// The database file.
        path: PathBuf,
    },
    /// The master password is wrong (the KDF was paid in full).
    #[error("wrong master password")]
    WrongPassword,
    /// Too many recent failures.
    #[error("too many failed unlock attempts; try again in {0} s")]
    LockedOut(u64),
    /// Another process held the write lock past [`BUSY_TIMEOUT`].
    #[error("vault busy: another secretctl process is writing; try again")]
    Busy,
    /// No secret with that name.
    #[error("secret '{0}' not found")]
    NotFound(KeyName),
    /// A new secret needs a value.
    #[error("secret '{0}' does not exist; give a value to create it")]
    ValueRequired(KeyName),
    /// A literal key that does not exist, or a glob that matches nothing (SPEC §5.2).
    #[error("no secret matches '{0}'")]
    NoMatch(String),
    /// An import met keys that exist already, with `--on-conflict error`.
    #[error("these keys exist already: {0}; choose --on-conflict skip or overwrite")]
    Conflict(String),
    /// No folder at that path.
    #[error("folder '{0}' not found")]
    NoFolder(String),
    /// A folder exists at that path already.
    #[error("folder '{0}' exists already")]
    FolderExists(String),
    /// A folder holds secrets or folders (the message says how many and what to do).
    #[error("{0}")]
    FolderNotEmpty(String),
    /// A move that would put a folder inside itself or nest too deep.
    #[error("{0}")]
    FolderCycle(String),
    /// `audit prune` refuses to prune a chain that does not verify.
    #[error("the audit log does not verify (first bad record {0}); refusing to prune it")]
    AuditBroken(i64),
    /// Invalid input.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A backup file could not be written or read.
    #[error(transparent)]
    Backup(#[from] crate::backup::Error),
    /// Another process replaced the vault (a restore) after this one unlocked it.
    #[error("the vault was replaced by a restore while this command ran; run it again")]
    Replaced,
    /// The database failed in a way that is not damage or contention.
    #[error("{}: {source}", path.display())]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
}

/// How an error should be reported: the exit-code classes of SPEC §4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Operation failed (exit 1).
    Failed,
    /// Usage error (exit 2).
    Usage,
    /// Authentication (exit 3).
    Auth,
    /// Vault missing, damaged or unsafe (exit 4).
    Vault,
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    fn sql(path: &Path, source: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode as C;
        match source.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => Error::Busy,
            Some(C::DatabaseCorrupt | C::NotADatabase) => Error::Damaged {
                path: path.to_owned(),
                reason: "it is not a readable SQLite database".into(),
            },
            _ => Error::Sql {
                path: path.to_owned(),
                source,
            },
        }
    }

    fn audit(path: &Path, e: audit::Error) -> Error {
        match e {
            audit::Error::Sql(s) => Error::sql(path, s),
            audit::Error::BadAnchor => Error::Damaged {
                path: path.to_owned(),
                reason: "the audit anchor is missing or fails verification".into(),
            },
        }
    }

    /// The exit-code class.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::NoVault(_)
            | Error::UnsafePermissions { .. }
            | Error::Symlink(_)
            | Error::Damaged { .. }
            | Error::SecretDamaged { .. } => ErrorClass::Vault,
            Error::WrongPassword | Error::LockedOut(_) => ErrorClass::Auth,
            Error::Input(_) | Error::ValueRequired(_) => ErrorClass::Usage,
            Error::Backup(e) => e.class(),
            Error::AlreadyExists(_)
            | Error::Replaced
            | Error::Busy
            | Error::NotFound(_)
            | Error::NoMatch(_)
            | Error::NoFolder(_)
            | Error::FolderExists(_)
            | Error::FolderNotEmpty(_)
            | Error::FolderCycle(_)
            | Error::Conflict(_)
            | Error::AuditBroken(_)
            | Error::Io { .. }
            | Error::Sql { .. } => ErrorClass::Failed,
        }
    }

    /// A short code for the audit record: no names, no values, no paths.
    pub fn audit_code(&self) -> &'static str {
        match self {
            Error::NotFound(_) | Error::NoMatch(_) | Error::NoFolder(_) => "not_found",
            Error::FolderExists(_) => "exists",
            Error::FolderNotEmpty(_) => "not_empty",
            Error::ValueRequired(_) => "value_required",
            Error::Input(_) => "invalid_input",
            Error::SecretDamaged { .. } => "decrypt_failed",
            Error::WrongPassword => "wrong_password",
            Error::AuditBroken(_) => "audit_broken",
            Error::Busy => "busy",
            Error::Backup(e) => e.audit_code(),
            _ => "failed",
        }
    }
}

type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks a new master password against the rules every interface shares.
pub fn check_new_password(password: &Passphrase) -> Result<(), InputError> {
    let chars = password.char_count().ok_or(InputError::Password {
        rule: "it must be valid UTF-8 text",
    })?;
    if chars < MIN_PASSWORD_CHARS {
        return Err(InputError::Password {
            rule: "use at least 8 characters",
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(InputError::Password {
            rule: "use at most 1024 bytes",
        });
    }
    Ok(())
}

/// The contents of `vault.meta`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaFile {
    /// File format version.
    pub format: u32,
    /// The vault's random id.
    pub vault_id: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// KDF parameters (the database holds the authoritative copy).
    pub kdf: KdfParams,
    /// A copy of the audit anchor (SPEC §8).
    pub audit_anchor: Option<Anchor>,
}

/// An opened vault whose files passed the checks, still locked.
pub struct Vault {
    dir: VaultDir,
    /// The database file's inode at open: a restore that swaps the file changes it.
    db_inode: u64,
    conn: Connection,
    vault_id: [u8; 16],
    salt: [u8; crypto::SALT_LEN],
    kdf: KdfParams,
    wrapped_dek: Vec<u8>,
    meta: MetaFile,
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::sql(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| Error::sql(path, e))?;
    // WAL with FULL sync: an acknowledged write survives power loss; readers never block writers.
    // secure_delete overwrites freed pages, so a deleted secret's ciphertext does not linger.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .map_err(|e| Error::sql(path, e))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;
         PRAGMA trusted_schema = OFF;",
    )
    .map_err(|e| Error::sql(path, e))?;
    Ok(conn)
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn get_meta_row(conn: &Connection, db: &Path, key: &str) -> Result<Vec<u8>> {
    conn.query_row(
        "SELECT value FROM metadata WHERE key = ?1",
        params![key],
        |r| r.get(0),
    )
    .optional()
    .map_err(|e| Error::sql(db, e))?
    .ok_or_else(|| Error::Damaged {
        path: db.to_owned(),
        reason: format!("metadata '{key}' is missing"),
    })
}

fn set_meta_row(conn: &Connection, db: &Path, key: &str, value: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO metadata (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map_err(|e| Error::sql(db, e))?;
    Ok(())
}

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text).ok().map(|u| *u.as_bytes())
}

fn new_uuid() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    crypto::fill_random(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

impl Vault {
    /// Creates a new vault in `dir` (created 0700 if missing). Refuses to touch existing vault
    /// files. The database is built under a temporary name and renamed into place last, so an
    /// interrupted `init` never leaves a `vault.db` that looks complete.
    pub fn init(dir: &VaultDir, password: &Passphrase) -> Result<()> {
        check_new_password(password)?;
        dir.create()?;
        if dir.has_vault_files() {
            return Err(Error::AlreadyExists(dir.root().to_owned()));
        }
        let vault_id = new_uuid();
        let salt = crypto::random_salt();
        let kdf = KdfParams::SEED;
        let dek = Dek::generate();
        let master =
            crypto::derive_master_key(password, &salt, &kdf).map_err(|_| Error::Damaged {
                path: dir.meta(),
                reason: "the KDF parameters are invalid".into(),
            })?;
        let wrapped = master
            .wrap_dek(&dek, vault_id.as_bytes())
            .expect("AES-GCM encrypts a 32-byte key");
        drop(master);
        let audit_key = dek.derive(AUDIT_INFO);
        let created = now();

        let tmp_db = dir.root().join("vault.db.init");
        let _ = std::fs::remove_file(&tmp_db);
        drop(files::create_new_private(&tmp_db)?);
        let anchor = {
            let mut conn = connect(&tmp_db)?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| Error::sql(&tmp_db, e))?;
            schema::migrate(&tx, 0).map_err(|e| Error::sql(&tmp_db, e))?;
            let kdf_json = serde_json::to_vec(&kdf).expect("KDF parameters serialise");
            for (k, v) in [
                ("vault_id", vault_id.to_string().into_bytes()),
                ("salt", salt.to_vec()),
                ("kdf", kdf_json),
                ("wrapped_dek", wrapped),
                ("created_at", created.to_string().into_bytes()),
                (ROW_MACS_FLAG, b"1".to_vec()),
            ] {
                set_meta_row(&tx, &tmp_db, k, &v)?;
            }
            let anchor = audit::write_genesis(&tx, &audit_key, vault_id.as_bytes(), created)
                .map_err(|e| Error::audit(&tmp_db, e))?;
            tx.commit().map_err(|e| Error::sql(&tmp_db, e))?;
            conn.close().map_err(|(_, e)| Error::sql(&tmp_db, e))?;
            anchor
        };
        let mut salt_file = files::create_new_private(&dir.salt())?;
        std::io::Write::write_all(&mut salt_file, &salt).map_err(|e| Error::io(&dir.salt(), e))?;
        salt_file
            .sync_all()
            .map_err(|e| Error::io(&dir.salt(), e))?;
        let meta = MetaFile {
            format: META_FORMAT,
            vault_id: vault_id.to_string(),
            created_at: created.to_string(),
            kdf,
            audit_anchor: Some(anchor),
        };
        files::write_atomic(&dir.meta(), &meta_json(&meta))?;
        std::fs::rename(&tmp_db, dir.db()).map_err(|e| Error::io(&dir.db(), e))?;
        files::sync_dir(dir.root())
    }

    /// Opens and checks a vault: directory and file permissions, symlinks, salt and id
    /// consistency, schema version (migrating an older one). Holds no key.
    pub fn open(dir: &VaultDir) -> Result<Vault> {
        dir.check_dir()?;
        let db = dir.db();
        if db.symlink_metadata().is_err() {
            if dir.salt().symlink_metadata().is_ok() {
                return Err(Error::Damaged {
                    path: db,
                    reason: "it is missing although vault.salt exists (an interrupted `init`, or \
                             a removed database); restore it from a backup, or remove vault.salt \
                             and vault.meta to start over"
                        .into(),
                });
            }
            return Err(Error::NoVault(dir.root().to_owned()));
        }
        for path in [db.clone(), dir.salt(), dir.meta()] {
            dir.check_file(&path)?;
        }
        for suffix in ["-wal", "-shm"] {
            dir.check_optional_file(&dir.root().join(format!("vault.db{suffix}")))?;
        }
        let salt_bytes = std::fs::read(dir.salt()).map_err(|e| Error::io(&dir.salt(), e))?;
        let salt: [u8; crypto::SALT_LEN] =
            salt_bytes
                .as_slice()
                .try_into()
                .map_err(|_| Error::Damaged {
                    path: dir.salt(),
                    reason: format!("it holds {} bytes, not 16", salt_bytes.len()),
                })?;
        // SQLite would quietly turn an empty file into a new, empty database.
        if std::fs::metadata(&db).map_err(|e| Error::io(&db, e))?.len() == 0 {
            return Err(Error::Damaged {
                path: db,
                reason: "it is empty".into(),
            });
        }
        let mut conn = connect(&db)?;
        if !schema::has_metadata_table(&conn).map_err(|e| Error::sql(&db, e))? {
            return Err(Error::Damaged {
                path: db,
                reason: "it holds no vault (no metadata table)".into(),
            });
        }
        let version = schema::version(&conn).map_err(|e| Error::sql(&db, e))?;
        if version > schema::CURRENT_VERSION {
            return Err(Error::Damaged {
                path: db,
                reason: format!(
                    "its schema version {version} is newer than this secretctl supports ({})",
                    schema::CURRENT_VERSION
                ),
            });
        }
        if version < schema::CURRENT_VERSION {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| Error::sql(&db, e))?;
            // Another process may have migrated while we waited for the lock.
            let now_version = schema::version(&tx).map_err(|e| Error::sql(&db, e))?;
            schema::migrate(&tx, now_version).map_err(|e| Error::sql(&db, e))?;
            tx.commit().map_err(|e| Error::sql(&db, e))?;
        }

        // vault.meta is read only now: a replacing restore that was interrupted is completed
        // or undone first (see `backup::finish_interrupted_restore`).
        backup::finish_interrupted_restore(dir, &conn)?;
        let mut meta = read_meta_file(dir)?;

        let damaged = |reason: &str| Error::Damaged {
            path: db.clone(),
            reason: reason.into(),
        };
        let db_id = get_meta_row(&conn, &db, "vault_id")?;
        let vault_id = std::str::from_utf8(&db_id)
            .ok()
            .and_then(parse_uuid)
            .ok_or_else(|| damaged("its vault id is invalid"))?;
        if parse_uuid(&meta.vault_id) != Some(vault_id) {
            // A restore may have committed between reading the two; it writes vault.meta
            // last, under the lock this waits for.
            backup::finish_interrupted_restore(dir, &conn)?;
            meta = read_meta_file(dir)?;
        }
        if parse_uuid(&meta.vault_id) != Some(vault_id) {
            return Err(Error::Damaged {
                path: dir.meta(),
                reason: "its vault id does not match vault.db".into(),
            });
        }
        if get_meta_row(&conn, &db, "salt")? != salt {
            return Err(Error::Damaged {
                path: dir.salt(),
                reason: "it does not match the salt stored in vault.db".into(),
            });
        }
        let kdf: KdfParams = serde_json::from_slice(&get_meta_row(&conn, &db, "kdf")?)
            .map_err(|_| damaged("its KDF parameters are invalid"))?;
        if !kdf.is_acceptable() {
            return Err(damaged(
                "its KDF parameters are weaker than secretctl allows",
            ));
        }
        let wrapped_dek = get_meta_row(&conn, &db, "wrapped_dek")?;
        files::remove_stale_temporaries(dir.root());
        let db_inode = std::os::unix::fs::MetadataExt::ino(
            &std::fs::metadata(&db).map_err(|e| Error::io(&db, e))?,
        );
        Ok(Vault {
            dir: dir.clone(),
            db_inode,
            conn,
            vault_id,
            salt,
            kdf,
            wrapped_dek,
            meta,
        })
    }

    /// The vault directory.
    pub fn dir(&self) -> &VaultDir {
        &self.dir
    }

    /// The KDF parameters in force.
    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// The vault id.
    pub fn id(&self) -> uuid::Uuid {
        uuid::Uuid::from_bytes(self.vault_id)
    }

    /// Seconds until another unlock attempt is allowed, after repeated failures (SPEC §3.1:
    /// 5 failures → 30 s, 10 → 5 min, 20 → 30 min).
    pub fn lockout_remaining(&self) -> Result<Option<u64>> {
        let db = self.dir.db();
        let (count, last): (i64, Option<i64>) = self
            .conn
            .query_row("SELECT COUNT(*), MAX(at) FROM unlock_failures", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| Error::sql(&db, e))?;
        let delay_ms: i64 = match count {
            0..5 => return Ok(None),
            5..10 => 30_000,
            10..20 => 300_000,
            _ => 1_800_000,
        };
        let until = last.unwrap_or(0).saturating_add(delay_ms);
        let now_ms = now().as_millisecond();
        Ok((now_ms < until).then(|| ((until - now_ms) as u64).div_ceil(1000)))
    }

    /// Derives the master key (always paying the full KDF cost), unwraps the DEK and returns an
    /// unlocked session. A wrong password is recorded and later folded into the audit log.
    pub fn unlock(self, password: &Passphrase, source: Source) -> Result<Session> {
        if let Some(secs) = self.lockout_remaining()? {
            return Err(Error::LockedOut(secs));
        }
        let master = crypto::derive_master_key(password, &self.salt, &self.kdf).map_err(|_| {
            Error::Damaged {
                path: self.dir.db(),
                reason: "its KDF parameters are invalid".into(),
            }
        })?;
        match master.unwrap_dek(&self.wrapped_dek, &self.vault_id) {
            Ok(dek) => {
                let mut session = Session::new(self, dek);
                session.fold_failed_unlocks()?;
                session.ensure_row_macs()?;
                Ok(session)
            }
            Err(_) => {
                let db = self.dir.db();
                self.conn
                    .execute(
                        "INSERT INTO unlock_failures (at, source) VALUES (?1, ?2)",
                        params![now().as_millisecond(), source.as_str()],
                    )
                    .map_err(|e| Error::sql(&db, e))?;
                Err(Error::WrongPassword)
            }
        }
    }
}

fn read_meta_file(dir: &VaultDir) -> Result<MetaFile> {
    let meta_bytes = std::fs::read(dir.meta()).map_err(|e| Error::io(&dir.meta(), e))?;
    let meta: MetaFile = serde_json::from_slice(&meta_bytes).map_err(|_| Error::Damaged {
        path: dir.meta(),
        reason: "it is not valid vault metadata".into(),
    })?;
    if meta.format != META_FORMAT {
        return Err(Error::Damaged {
            path: dir.meta(),
            reason: format!("unknown format {}", meta.format),
        });
    }
    Ok(meta)
}

fn meta_json(meta: &MetaFile) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(meta).expect("vault metadata serialises");
    json.push(b'\n');
    json
}

const AUDIT_INFO: &str = "audit-log-v1";
const INDEX_INFO: &str = "key-index-v1";
const POLICY_INFO: &str = "mcp-policy-v1";
/// Metadata key of the stored MCP policy approval.
const POLICY_APPROVAL_META: &str = "policy_approval";
/// Domain prefix of the MAC that guards the stored approval row.
const POLICY_APPROVAL_MAC_DOMAIN: &[u8] = b"secretctl policy approval row v1\0";
const ROW_INFO: &str = "row-mac-v1";
/// Metadata flag: every secrets row carries a MAC, so a missing one is tampering.
const ROW_MACS_FLAG: &str = "row_macs";

/// The keys of an unlocked vault.
struct Keys {
    dek: Dek,
    audit: SubKey,
    index: SubKey,
    row: SubKey,
    vault_id: [u8; 16],
}

impl Keys {
    fn from_dek(dek: Dek, vault_id: [u8; 16]) -> Keys {
        Keys {
            audit: dek.derive(AUDIT_INFO),
            index: dek.derive(INDEX_INFO),
            row: dek.derive(ROW_INFO),
            vault_id,
            dek,
        }
    }

    /// Associated data binding a blob to its place: vault id, record id, column (SPEC §3.1).
    fn aad(&self, record: &[u8; 16], column: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(32 + column.len());
        aad.extend_from_slice(&self.vault_id);
        aad.extend_from_slice(record);
        aad.extend_from_slice(column.as_bytes());
        aad
    }

    fn seal(&self, record: &[u8; 16], column: &str, plain: &[u8]) -> Vec<u8> {
        self.dek
            .seal(&self.aad(record, column), plain)
            .expect("AES-GCM encrypts values up to 1 MiB")
    }

    fn open(&self, record: &[u8; 16], column: &str, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.dek.open(&self.aad(record, column), blob).ok()
    }

    fn name_index(&self, name: &KeyName) -> [u8; 32] {
        self.index.mac(name.as_str().as_bytes())
    }

    /// The MAC of a whole secrets row: every column, NULLs included, in a fixed length-prefixed
    /// encoding. Per-blob AEAD cannot see a blob set to NULL or edited plaintext columns (tags,
    /// expiry, times); this does.
    fn row_mac(&self, id_text: &str, row: &Row) -> [u8; 32] {
        fn field(out: &mut Vec<u8>, v: Option<&[u8]>) {
            match v {
                None => out.push(0),
                Some(b) => {
                    out.push(1);
                    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
                    out.extend_from_slice(b);
                }
            }
        }
        let expires = row.expires_at.map(i64::to_be_bytes);
        let mut m = Vec::with_capacity(256 + row.encrypted_value.len());
        m.extend_from_slice(b"secretctl-row-v1");
        m.extend_from_slice(&self.vault_id);
        field(&mut m, Some(id_text.as_bytes()));
        field(&mut m, Some(&row.key_hash));
        field(&mut m, Some(&row.encrypted_key));
        field(&mut m, Some(&row.encrypted_value));
        field(&mut m, row.encrypted_fields.as_deref());
        field(&mut m, row.encrypted_bindings.as_deref());
        field(&mut m, row.encrypted_notes.as_deref());
        field(&mut m, row.encrypted_url.as_deref());
        field(&mut m, Some(row.tags.as_bytes()));
        field(&mut m, row.folder_id.as_deref().map(str::as_bytes));
        field(&mut m, expires.as_ref().map(|b| &b[..]));
        field(&mut m, Some(&row.created_at.to_be_bytes()));
        field(&mut m, Some(&row.updated_at.to_be_bytes()));
        self.row.mac(&m)
    }
}

/// Filters for [`Session::list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only secrets with this tag.
    pub tag: Option<String>,
    /// Only secrets expiring before this time (expired ones included).
    pub expiring_before: Option<Timestamp>,
    /// Only secrets in this folder or a folder below it.
    pub folder: Option<FolderPath>,
}

/// What to do when an imported key exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Keep the stored secret.
    Skip,
    /// Replace its value (its other fields, metadata and tags stay).
    Overwrite,
    /// Refuse the whole import.
    Error,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// New secrets.
    pub created: Vec<KeyName>,
    /// Existing secrets whose value was replaced.
    pub overwritten: Vec<KeyName>,
    /// Existing secrets left alone.
    pub skipped: Vec<KeyName>,
    /// Every key that existed already.
    pub conflicts: Vec<KeyName>,
}

/// What [`Session::set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOutcome {
    /// A new secret.
    Created,
    /// An existing secret changed.
    Updated,
}

/// A stored secret row, still encrypted.
struct Row {
    id: [u8; 16],
    key_hash: Vec<u8>,
    folder_id: Option<String>,
    row_mac: Option<Vec<u8>>,
    encrypted_key: Vec<u8>,
    encrypted_value: Vec<u8>,
    encrypted_fields: Option<Vec<u8>>,
    encrypted_bindings: Option<Vec<u8>>,
    encrypted_notes: Option<Vec<u8>>,
    encrypted_url: Option<Vec<u8>>,
    tags: String,
    expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const SELECT_ROW: &str = "SELECT id, encrypted_key, encrypted_value, encrypted_fields, encrypted_bindings, encrypted_notes, encrypted_url, tags, expires_at, created_at, updated_at, key_hash, folder_id, row_mac FROM secrets";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Row)> {
    Ok((
        r.get(0)?,
        Row {
            id: [0; 16],
            encrypted_key: r.get(1)?,
            encrypted_value: r.get(2)?,
            encrypted_fields: r.get(3)?,
            encrypted_bindings: r.get(4)?,
            encrypted_notes: r.get(5)?,
            encrypted_url: r.get(6)?,
            tags: r.get(7)?,
            expires_at: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
            key_hash: r.get(11)?,
            folder_id: r.get(12)?,
            row_mac: r.get(13)?,
        },
    ))
}

fn ts(ms: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(ms).ok()
}

/// An unlocked vault. Dropping it wipes the keys.
pub struct Session {
    vault: Vault,
    /// Boxed so that the keys have one address for their whole life (see
    /// [`Session::lock_keys_in_memory`]).
    keys: Box<Keys>,
    /// The client interface behind a session agent, recorded in each record's detail.
    via: Option<&'static str>,
}

impl Session {
    fn new(vault: Vault, dek: Dek) -> Session {
        let keys = Keys::from_dek(dek, vault.vault_id);
        Session {
            vault,
            keys: Box::new(keys),
            via: None,
        }
    }

    /// The vault directory.
    pub fn dir(&self) -> &VaultDir {
        &self.vault.dir
    }

    /// The vault's id.
    pub fn vault_id(&self) -> uuid::Uuid {
        self.vault.id()
    }

    /// Records the client interface behind a session agent (`cli`, `mcp`, …) in the detail
    /// of every following record; the record's source is the agent's.
    pub fn set_via(&mut self, via: Option<&'static str>) {
        self.via = via;
    }

    /// Keeps the keys' memory out of swap (`mlock`) for as long as the guard lives. The
    /// session agent holds keys for hours; a short-lived command does not need this.
    pub fn lock_keys_in_memory(&self) -> std::io::Result<region::LockGuard> {
        region::lock(&*self.keys as *const Keys, std::mem::size_of::<Keys>())
            .map_err(std::io::Error::other)
    }

    /// A proof that the caller knows the master password of this vault, bound to `nonce`:
    /// HMAC under a key derived from the DEK. A second `unlock` sends it to extend a running
    /// agent without sending the password.
    pub fn agent_proof(&self, nonce: &[u8]) -> [u8; 32] {
        self.keys
            .dek
            .derive("agent-extend-v1")
            .mac_parts(&[b"secretctl-agent-extend", nonce])
    }

    /// Whether the vault on disk is still the one this session unlocked: the same database
    /// file, holding the same wrapped data key. A password change or a restore by another
    /// process makes this false, and a long-lived holder (the agent) then locks.
    pub fn still_current(&self) -> bool {
        self.still_same_file()
            && get_meta_row(&self.vault.conn, &self.vault.dir.db(), "wrapped_dek")
                .is_ok_and(|w| w == self.vault.wrapped_dek)
    }

    /// Whether `vault.db` is still the file this session opened (a restore swaps it).
    pub fn still_same_file(&self) -> bool {
        std::fs::metadata(self.vault.dir.db())
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m) == self.vault.db_inode)
            .unwrap_or(false)
    }

    /// Appends a record for something that is not a vault operation (an agent starting, a
    /// refused peer), in its own transaction. `error` is the code of a failure.
    pub fn note(
        &mut self,
        action: Action,
        source: Source,
        error: Option<&'static str>,
        mut detail: serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let db = self.vault.dir.db();
        if let Some(via) = self.via {
            detail.insert("via".into(), via.into());
        }
        let tx = self
            .vault
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::sql(&db, e))?;
        audit::append(
            &tx,
            &self.keys.audit,
            &self.keys.vault_id,
            Entry {
                action,
                key: None,
                source,
                success: error.is_none(),
                error,
                detail,
                at: now(),
            },
        )
        .map_err(|e| Error::audit(&db, e))?;
        tx.commit().map_err(|e| Error::sql(&db, e))
    }

    /// The key that MACs the approved MCP policy (SPEC §7.2).
    pub fn policy_key(&self) -> SubKey {
        self.keys.dek.derive(POLICY_INFO)
    }

    /// The stored MCP policy approval (the JSON of `command_policy::Approval`), if any
    /// (SPEC §7.2).
    ///
    /// The row holds a MAC under [`Session::policy_key`] ahead of the JSON, so the pinned paths
    /// and hashes cannot be edited in `vault.db` without the key; a row that fails it is an
    /// error, never an approval.
    pub fn policy_approval(&self) -> Result<Option<Vec<u8>>> {
        let db = self.vault.dir.db();
        let row: Option<Vec<u8>> = self
            .vault
            .conn
            .query_row(
                "SELECT value FROM metadata WHERE key = ?1",
                params![POLICY_APPROVAL_META],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::sql(&db, e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let damaged = || Error::Damaged {
            path: db.clone(),
            reason: "the stored policy approval fails its MAC".into(),
        };
        if row.len() < 32 {
            return Err(damaged());
        }
        let (mac, json) = row.split_at(32);
        let expected = self
            .policy_key()
            .mac_parts(&[POLICY_APPROVAL_MAC_DOMAIN, json]);
        if !crypto::constant_time_eq(mac, &expected) {
            return Err(damaged());
        }
        Ok(Some(json.to_vec()))
    }

    /// Stores an MCP policy approval (SPEC §7.2) in an audited transaction (action
    /// `policy_approve`; the detail records the number of approved commands).
    ///
    /// `json` is the `command_policy::Approval` JSON; it is stored behind a MAC under
    /// [`Session::policy_key`] (see [`Session::policy_approval`]).
    pub fn set_policy_approval(&mut self, json: &[u8], source: Source) -> Result<()> {
        let db = self.vault.dir.db();
        let commands = serde_json::from_slice::<serde_json::Value>(json)
            .ok()
            .and_then(|v| v.get("commands").and_then(|c| c.as_array()).map(Vec::len));
        let mac = self
            .policy_key()
            .mac_parts(&[POLICY_APPROVAL_MAC_DOMAIN, json]);
        let mut row = Vec::with_capacity(32 + json.len());
        row.extend_from_slice(&mac);
        row.extend_from_slice(json);
        self.audited(Action::PolicyApprove, None, source, |conn, _, detail| {
            if let Some(n) = commands {
                detail.insert("commands".into(), n.into());
            }
            set_meta_row(conn, &db, POLICY_APPROVAL_META, &row)
        })
    }

    /// Runs `op` and appends its audit record in one `BEGIN IMMEDIATE` transaction.
    ///
    /// `op` runs inside a savepoint: when it fails, its changes are rolled back but the failure
    /// is still recorded and committed. When the record cannot be written, the whole operation
    /// fails (fail closed). After the commit the anchor is copied to `vault.meta`.
    fn audited<T>(
        &mut self,
        action: Action,
        key: Option<&str>,
        source: Source,
        op: impl FnOnce(
            &Connection,
            &Keys,
            &mut serde_json::Map<String, serde_json::Value>,
        ) -> Result<T>,
    ) -> Result<T> {
        let db = self.vault.dir.db();
        let keys = &self.keys;
        let mut tx = self
            .vault
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::sql(&db, e))?;
        // A restore that replaced the vault since this session unlocked leaves keys that fit
        // nothing here; say so rather than fail on the audit anchor.
        let id_now = get_meta_row(&tx, &db, "vault_id")?;
        if std::str::from_utf8(&id_now).ok().and_then(parse_uuid) != Some(keys.vault_id) {
            return Err(Error::Replaced);
        }
        let mut detail = serde_json::Map::new();
        if let Some(via) = self.via {
            detail.insert("via".into(), via.into());
        }
        let result = {
            let sp = tx.savepoint().map_err(|e| Error::sql(&db, e))?;
            let result = op(&sp, keys, &mut detail);
            if result.is_ok() {
                sp.commit().map_err(|e| Error::sql(&db, e))?;
            }
            result
        };
        let anchor = audit::append(
            &tx,
            &keys.audit,
            &keys.vault_id,
            Entry {
                action,
                key,
                source,
                success: result.is_ok(),
                error: result.as_ref().err().map(Error::audit_code),
                detail,
                at: now(),
            },
        )
        .map_err(|e| Error::audit(&db, e))?;
        tx.commit().map_err(|e| Error::sql(&db, e))?;
        // The copy costs two fsyncs. Reads append records too, but a rollback that removes
        // only reads hides no change to a secret, so reads leave the copy to the next write.
        if changes_data(action) {
            self.copy_anchor_to_meta(anchor);
        }
        result
    }

    /// Best effort: the database anchor is authoritative; `vault.meta` holds a copy that lets
    /// `audit verify` notice a database rolled back behind it. A copy that lags (a crash right
    /// after a commit, or two writers racing) is harmless; one that fails to write is reported
    /// by `audit verify` as lagging, never as tampering.
    fn copy_anchor_to_meta(&mut self, anchor: Anchor) {
        // Never overwrite evidence: a copy that fails its MAC or is not on this database's
        // chain stays as it is, so that `audit verify` keeps reporting the rollback.
        if let Some(current) = read_meta_anchor(&self.vault.dir) {
            let consistent = audit::meta_anchor_problem(
                &self.vault.conn,
                &self.keys.audit,
                &self.keys.vault_id,
                &anchor,
                &current,
            );
            if !matches!(consistent, Ok(None)) {
                return;
            }
        }
        self.vault.meta.audit_anchor = Some(anchor);
        let _ = files::write_atomic(&self.vault.dir.meta(), &meta_json(&self.vault.meta));
    }

    /// Gives every row of a vault made before row MACs its MAC, once, then sets the flag that
    /// makes a missing MAC an error. Rows are trusted as they are at that moment, as they were
    /// before.
    fn ensure_row_macs(&mut self) -> Result<()> {
        let db = self.vault.dir.db();
        let flagged: Option<Vec<u8>> = self
            .vault
            .conn
            .query_row(
                "SELECT value FROM metadata WHERE key = ?1",
                params![ROW_MACS_FLAG],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::sql(&db, e))?;
        if flagged.is_some() {
            return Ok(());
        }
        let keys = &self.keys;
        let tx = self
            .vault
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::sql(&db, e))?;
        let ids: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT id FROM secrets")
                .map_err(|e| Error::sql(&db, e))?;
            stmt.query_map([], |r| r.get(0))
                .map_err(|e| Error::sql(&db, e))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| Error::sql(&db, e))?
        };
        for id in &ids {
            seal_row(&tx, &db, keys, id)?;
        }
        set_meta_row(&tx, &db, ROW_MACS_FLAG, b"1")?;
        tx.commit().map_err(|e| Error::sql(&db, e))
    }

    fn fold_failed_unlocks(&mut self) -> Result<()> {
        let db = self.vault.dir.db();
        let pending: i64 = self
            .vault
            .conn
            .query_row("SELECT COUNT(*) FROM unlock_failures", [], |r| r.get(0))
            .map_err(|e| Error::sql(&db, e))?;
        if pending == 0 {
            return Ok(());
        }
        let keys = &self.keys;
        let tx = self
            .vault
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::sql(&db, e))?;
        let failures: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare("SELECT at, source FROM unlock_failures ORDER BY at")
                .map_err(|e| Error::sql(&db, e))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| Error::sql(&db, e))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| Error::sql(&db, e))?
        };
        let mut anchor = None;
        for (at, source) in failures {
            let source = match source.as_str() {
                "mcp" => Source::Mcp,
                "desktop" => Source::Desktop,
                "agent" => Source::Agent,
                _ => Source::Cli,
            };
            let mut detail = serde_json::Map::new();
            detail.insert("recorded_at_unlock".into(), now().to_string().into());
            anchor = Some(
                audit::append(
                    &tx,
                    &keys.audit,
                    &keys.vault_id,
                    Entry {
                        action: Action::Unlock,
                        key: None,
                        source,
                        success: false,
                        error: Some("wrong_password"),
                        detail,
                        at: ts(at).unwrap_or_else(now),
                    },
                )
                .map_err(|e| Error::audit(&db, e))?,
            );
        }
        tx.execute("DELETE FROM unlock_failures", [])
            .map_err(|e| Error::sql(&db, e))?;
        tx.commit().map_err(|e| Error::sql(&db, e))?;
        if let Some(anchor) = anchor {
            self.copy_anchor_to_meta(anchor);
        }
        Ok(())
    }

    /// Creates or updates a secret. Only what `update` names changes (SPEC §3.3).
    pub fn set(
        &mut self,
        name: &KeyName,
        mut update: SecretUpdate,
        source: Source,
    ) -> Result<SetOutcome> {
        let db = self.vault.dir.db();
        self.audited(
            Action::Set,
            Some(name.as_str()),
            source,
            |conn, keys, detail| {
                let outcome = write_secret(conn, &db, keys, name, &mut update)?;
                detail.insert("created".into(), (outcome == SetOutcome::Created).into());
                Ok(outcome)
            },
        )
    }

    /// Imports secrets in one transaction: all or nothing. A key that exists already is handled
    /// by `on_conflict`; with `dry_run` nothing is written and the plan is returned.
    pub fn import(
        &mut self,
        items: Vec<(KeyName, SecretValue)>,
        on_conflict: OnConflict,
        tags: &[String],
        dry_run: bool,
        source: Source,
    ) -> Result<ImportPlan> {
        crate::secret::validate_tags(tags)?;
        self.import_with(
            items,
            |(name, _)| name,
            on_conflict,
            dry_run,
            source,
            |conn, db, keys, (name, value), _| {
                let mut update = SecretUpdate {
                    value: Some(value),
                    add_tags: tags.to_vec(),
                    ..Default::default()
                };
                write_secret(conn, db, keys, &name, &mut update).map(drop)
            },
        )
    }

    /// Imports whole secrets from another manager (`import --from`) in one transaction: all or
    /// nothing. Each record's folder path is created as needed. A key that exists already is
    /// handled by `on_conflict`; `Overwrite` replaces the whole secret (fields, bindings,
    /// metadata and folder: the record is the item as the other manager had it). `tags` are
    /// added to every record's own. With `dry_run` every write is made and rolled back.
    pub fn import_records(
        &mut self,
        records: Vec<crate::transfer::Record>,
        on_conflict: OnConflict,
        tags: &[String],
        dry_run: bool,
        source: Source,
    ) -> Result<ImportPlan> {
        crate::secret::validate_tags(tags)?;
        self.import_with(
            records,
            |r| &r.secret.name,
            on_conflict,
            dry_run,
            source,
            |conn, db, keys, mut record, row| {
                let name = &record.secret.name;
                for tag in tags {
                    if !record.secret.meta.tags.contains(tag) {
                        record.secret.meta.tags.push(tag.clone());
                    }
                }
                record.secret.validate().map_err(|e| {
                    Error::Input(InputError::Fields(format!("secret '{name}': {e}")))
                })?;
                let folder_id = if record.folder.is_empty() {
                    None
                } else {
                    let path = FolderPath::from_names(record.folder.clone())?;
                    Some(folders::ensure(conn, db, keys, &path)?)
                };
                put_whole(conn, db, keys, row.map(|r| r.id), &record.secret, folder_id)
            },
        )
    }

    /// What both imports share, in one audited transaction: find the conflicts, refuse them
    /// all under `OnConflict::Error`, skip or `write` each item, and with `dry_run` roll every
    /// write back — so a dry run fails exactly where the real import would.
    fn import_with<T>(
        &mut self,
        items: Vec<T>,
        name_of: impl Fn(&T) -> &KeyName,
        on_conflict: OnConflict,
        dry_run: bool,
        source: Source,
        mut write: impl FnMut(&Connection, &Path, &Keys, T, Option<Row>) -> Result<()>,
    ) -> Result<ImportPlan> {
        let db = self.vault.dir.db();
        self.audited(Action::Import, None, source, |conn, keys, detail| {
            let mut plan = ImportPlan::default();
            let mut existing = Vec::with_capacity(items.len());
            for item in &items {
                let row = find_row(conn, &db, keys, name_of(item))?;
                if row.is_some() {
                    plan.conflicts.push(name_of(item).clone());
                }
                existing.push(row);
            }
            if on_conflict == OnConflict::Error && !plan.conflicts.is_empty() {
                let names: Vec<&str> = plan.conflicts.iter().map(KeyName::as_str).collect();
                return Err(Error::Conflict(names.join(", ")));
            }
            if dry_run {
                conn.execute_batch("SAVEPOINT import_dry_run")
                    .map_err(|e| Error::sql(&db, e))?;
            }
            for (item, row) in items.into_iter().zip(existing) {
                let name = name_of(&item).clone();
                let exists = row.is_some();
                if exists && on_conflict == OnConflict::Skip {
                    plan.skipped.push(name);
                    continue;
                }
                write(conn, &db, keys, item, row)?;
                if exists {
                    plan.overwritten.push(name);
                } else {
                    plan.created.push(name);
                }
            }
            if dry_run {
                conn.execute_batch("ROLLBACK TO import_dry_run; RELEASE import_dry_run")
                    .map_err(|e| Error::sql(&db, e))?;
            }
            detail.insert("dry_run".into(), dry_run.into());
            detail.insert("created".into(), plan.created.len().into());
            detail.insert("overwritten".into(), plan.overwritten.len().into());
            detail.insert("skipped".into(), plan.skipped.len().into());
            Ok(plan)
        })
    }

    /// Reads a secret with its values (a plaintext read: the caller is a human who asked, or
    /// the runner that injects it).
    pub fn get(&mut self, name: &KeyName, source: Source) -> Result<Secret> {
        let db = self.vault.dir.db();
        self.audited(Action::Get, Some(name.as_str()), source, |conn, keys, _| {
            read_secret(conn, &db, keys, name)
        })
    }

    /// Reads a secret's metadata and the masked views of its fields (SPEC §7.1): non-sensitive
    /// values in full, sensitive ones masked. No plaintext of a sensitive field leaves.
    pub fn get_masked(
        &mut self,
        name: &KeyName,
        source: Source,
    ) -> Result<(SecretSummary, Vec<FieldView>, Bindings)> {
        let db = self.vault.dir.db();
        self.audited(
            Action::GetMasked,
            Some(name.as_str()),
            source,
            |conn, keys, _| {
                let secret = read_secret(conn, &db, keys, name)?;
                let views = secret.fields.iter().map(FieldView::of).collect();
                let summary = SecretSummary {
                    name: secret.name.clone(),
                    field_count: secret.fields.len(),
                    meta: secret.meta.clone(),
                };
                Ok((summary, views, secret.bindings.clone()))
            },
        )
    }

    /// Lists secrets (names and metadata, no values), sorted by name.
    pub fn list(&mut self, filter: &ListFilter, source: Source) -> Result<Vec<SecretSummary>> {
        let db = self.vault.dir.db();
        self.audited(Action::List, None, source, |conn, keys, detail| {
            let tree = folders::Tree::load(conn, &db, keys)?;
            if let Some(folder) = &filter.folder {
                tree.require(folder)?;
            }
            let mut out = Vec::new();
            for (id_text, row) in all_rows(conn, &db)? {
                let row = checked_row(&db, keys, &id_text, row)?;
                let name = decrypt_name(&db, keys, &row, &id_text)?;
                let mut meta = decrypt_meta(&db, keys, &row, name.as_str())?;
                meta.folder = row.folder_id.as_deref().and_then(|id| tree.path_of(id));
                if let Some(folder) = &filter.folder
                    && !meta.folder.as_ref().is_some_and(|f| f.is_within(folder))
                {
                    continue;
                }
                if let Some(tag) = &filter.tag
                    && !meta.tags.contains(tag)
                {
                    continue;
                }
                if let Some(before) = filter.expiring_before
                    && meta.expires_at.is_none_or(|e| e > before)
                {
                    continue;
                }
                let field_count = match row.encrypted_fields {
                    None => 1,
                    Some(_) => decrypt_fields(&db, keys, &row, name.as_str())?.len(),
                };
                out.push(SecretSummary {
                    name,
                    meta,
                    field_count,
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            detail.insert("count".into(), out.len().into());
            Ok(out)
        })
    }

    /// Reads every secret matching `patterns`, sorted by name, as one audited operation
    /// (`action` says why: run, export, inject, redact). Each pattern must match something.
    pub fn select(
        &mut self,
        patterns: &[Pattern],
        action: Action,
        source: Source,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<Secret>> {
        self.fetch(patterns, &[], action, source, extra)
            .map(|(found, _)| found)
    }

    /// Like [`select`](Session::select), plus `optional` exact names that may be missing (the
    /// references of an env file or template), all in one audited operation. The record names
    /// a single key in `key_hash`, or lists the HMACs of all keys read in `detail`.
    pub fn fetch(
        &mut self,
        patterns: &[Pattern],
        optional: &[KeyName],
        action: Action,
        source: Source,
        mut extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(Vec<Secret>, Vec<Option<Secret>>)> {
        let db = self.vault.dir.db();
        let single = match (patterns, optional) {
            ([Pattern::Literal(k)], []) => Some(k.clone()),
            _ => None,
        };
        let audit_key = single.as_ref().map(|k| k.as_str().to_owned());
        self.audited(
            action,
            audit_key.as_deref(),
            source,
            |conn, keys, detail| {
                let names: Vec<KeyName> = if let Some(k) = &single {
                    vec![k.clone()]
                } else if patterns.is_empty() {
                    Vec::new()
                } else {
                    let mut all = Vec::new();
                    for (id_text, row) in all_rows(conn, &db)? {
                        let row = checked_row(&db, keys, &id_text, row)?;
                        all.push(decrypt_name(&db, keys, &row, &id_text)?);
                    }
                    if let Some(p) = patterns.iter().find(|p| !all.iter().any(|n| p.matches(n))) {
                        return Err(Error::NoMatch(p.as_str().to_owned()));
                    }
                    let mut names: Vec<KeyName> = all
                        .into_iter()
                        .filter(|n| patterns.iter().any(|p| p.matches(n)))
                        .collect();
                    names.sort();
                    names
                };
                let mut found = Vec::with_capacity(names.len());
                for name in &names {
                    found.push(read_secret(conn, &db, keys, name).map_err(|e| match e {
                        Error::NotFound(n) => Error::NoMatch(n.to_string()),
                        e => e,
                    })?);
                }
                let mut optional_found = Vec::with_capacity(optional.len());
                for name in optional {
                    optional_found.push(match read_secret(conn, &db, keys, name) {
                        Ok(s) => Some(s),
                        Err(Error::NotFound(_)) => None,
                        Err(e) => return Err(e),
                    });
                }
                detail.append(&mut extra);
                let read: Vec<&Secret> = found
                    .iter()
                    .chain(optional_found.iter().flatten())
                    .collect();
                detail.insert("keys".into(), read.len().into());
                if single.is_none() {
                    let hashes: Vec<serde_json::Value> = read
                        .iter()
                        .map(|s| hex::encode(audit::name_hash(&keys.audit, s.name.as_str())).into())
                        .collect();
                    detail.insert("key_hashes".into(), hashes.into());
                }
                Ok((found, optional_found))
            },
        )
    }

    /// Reads every secret, one at a time, and hands each to `visit`, which owns it: its values
    /// are wiped when `visit` drops it, before the next secret is decrypted, so at most one
    /// secret's plaintext is held at once. One audited operation (`action` says why, e.g.
    /// [`Action::SecurityReport`]); its record counts the secrets read and names none, since
    /// it read them all. Returns that count.
    ///
    /// The reads happen in a read transaction (one consistent snapshot, which in WAL mode does
    /// not block writers however long `visit` takes); the record is written right after, and
    /// the count is returned only once it is: if the record cannot be written, the caller gets
    /// the error, not the result (fail closed).
    ///
    /// A row that fails its MAC or does not decrypt fails the whole operation, as in `list`.
    pub fn scan(
        &mut self,
        action: Action,
        source: Source,
        mut visit: impl FnMut(Secret),
    ) -> Result<usize> {
        let db = self.vault.dir.db();
        let read: Result<usize> = (|| {
            let tx = self
                .vault
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(|e| Error::sql(&db, e))?;
            let keys = &self.keys;
            let mut count = 0usize;
            for (id_text, row) in all_rows(&tx, &db)? {
                let row = checked_row(&db, keys, &id_text, row)?;
                let name = decrypt_name(&db, keys, &row, &id_text)?;
                let secret = Secret {
                    fields: decrypt_fields(&db, keys, &row, name.as_str())?,
                    bindings: decrypt_bindings(&db, keys, &row, name.as_str())?,
                    meta: decrypt_meta(&db, keys, &row, name.as_str())?,
                    name,
                };
                visit(secret);
                count += 1;
            }
            tx.finish().map_err(|e| Error::sql(&db, e))?;
            Ok(count)
        })();
        let mut detail = serde_json::Map::new();
        match read {
            Ok(count) => {
                detail.insert("keys".into(), count.into());
                self.note(action, source, None, detail)?;
                Ok(count)
            }
            Err(e) => {
                self.note(action, source, Some(e.audit_code()), detail)?;
                Err(e)
            }
        }
    }

    /// Deletes a secret.
    pub fn delete(&mut self, name: &KeyName, source: Source) -> Result<()> {
        let db = self.vault.dir.db();
        self.audited(
            Action::Delete,
            Some(name.as_str()),
            source,
            |conn, keys, _| {
                let n = conn
                    .execute(
                        "DELETE FROM secrets WHERE key_hash = ?1",
                        params![keys.name_index(name).to_vec()],
                    )
                    .map_err(|e| Error::sql(&db, e))?;
                if n == 0 {
                    return Err(Error::NotFound(name.clone()));
                }
                Ok(())
            },
        )
    }

    /// Changes the master password: re-wraps the DEK under the new password; no secret is
    /// re-encrypted and the audit chain stays verifiable (its key comes from the DEK). The salt
    /// is kept, so no second file has to change in step with the database.
    pub fn change_password(&mut self, new_password: &Passphrase, source: Source) -> Result<()> {
        check_new_password(new_password)?;
        let db = self.vault.dir.db();
        let (salt, kdf) = (self.vault.salt, self.vault.kdf);
        let master =
            crypto::derive_master_key(new_password, &salt, &kdf).map_err(|_| Error::Damaged {
                path: db.clone(),
                reason: "its KDF parameters are invalid".into(),
            })?;
        let wrapped = master
            .wrap_dek(&self.keys.dek, &self.keys.vault_id)
            .expect("AES-GCM encrypts a 32-byte key");
        self.audited(Action::PasswordChange, None, source, |conn, _, _| {
            set_meta_row(conn, &db, "wrapped_dek", &wrapped)
        })?;
        self.vault.wrapped_dek = wrapped;
        Ok(())
    }

    /// Verifies the audit chain, then records that it did.
    pub fn audit_verify(&mut self, source: Source) -> Result<audit::Verification> {
        let db = self.vault.dir.db();
        let meta_anchor = read_meta_anchor(&self.vault.dir);
        let report = audit::verify(
            &self.vault.conn,
            &self.keys.audit,
            &self.keys.vault_id,
            meta_anchor.as_ref(),
        )
        .map_err(|e| Error::audit(&db, e))?;
        let ok = report.is_ok();
        let first_bad = report.first_bad_seq;
        let logged = self.audited(Action::AuditVerify, None, source, |_, _, detail| {
            detail.insert("records".into(), report.records.into());
            detail.insert("ok".into(), ok.into());
            if let Some(seq) = first_bad {
                detail.insert("first_bad_seq".into(), seq.into());
            }
            Ok(())
        });
        match logged {
            // A record planted at the next seq makes the append fail; the broken chain is the
            // finding to report, not the failed append.
            Err(_) if !ok => Ok(report),
            other => other.map(|()| report),
        }
    }

    /// Lists audit records; `names` maps each key hash to a current key name where known.
    pub fn audit_list(
        &mut self,
        filter: &audit::Filter,
        source: Source,
        export: bool,
    ) -> Result<Vec<(audit::Record, Option<String>)>> {
        let db = self.vault.dir.db();
        let action = if export {
            Action::AuditExport
        } else {
            Action::AuditList
        };
        self.audited(action, None, source, |conn, keys, detail| {
            let records = audit::list(conn, filter).map_err(|e| Error::audit(&db, e))?;
            let mut names = std::collections::HashMap::new();
            for (id_text, row) in all_rows(conn, &db)? {
                let Ok(row) = checked_row(&db, keys, &id_text, row) else {
                    continue;
                };
                if let Ok(name) = decrypt_name(&db, keys, &row, &id_text) {
                    names.insert(
                        audit::name_hash(&keys.audit, name.as_str()).to_vec(),
                        name.to_string(),
                    );
                }
            }
            detail.insert("count".into(), records.len().into());
            Ok(records
                .into_iter()
                .map(|r| {
                    let name = r.key_hash.as_ref().and_then(|h| names.get(h).cloned());
                    (r, name)
                })
                .collect())
        })
    }

    /// The HMAC under which a key name appears in the audit log (for `audit list --key`).
    pub fn audit_name_hash(&self, name: &KeyName) -> Vec<u8> {
        audit::name_hash(&self.keys.audit, name.as_str()).to_vec()
    }

    /// Prunes records older than `cutoff` after verifying the chain; the prune's own record is
    /// the checkpoint (count, last pruned seq and hash), so the chain still verifies.
    pub fn audit_prune(&mut self, cutoff: Timestamp, source: Source) -> Result<audit::Pruned> {
        let db = self.vault.dir.db();
        // Against vault.meta's anchor too: pruning a rolled-back database would move the start
        // of the chain past the record vault.meta names, and with it the evidence.
        let report = audit::verify(
            &self.vault.conn,
            &self.keys.audit,
            &self.keys.vault_id,
            read_meta_anchor(&self.vault.dir).as_ref(),
        )
        .map_err(|e| Error::audit(&db, e))?;
        if let Some(seq) = report.first_bad_seq {
            return Err(Error::AuditBroken(seq));
        }
        self.audited(Action::AuditPrune, None, source, |conn, keys, detail| {
            let (pruned, last_hash) = audit::prune(conn, &keys.audit, &keys.vault_id, cutoff)
                .map_err(|e| Error::audit(&db, e))?;
            detail.insert("pruned".into(), pruned.count.into());
            detail.insert("cutoff".into(), cutoff.to_string().into());
            if let (Some(seq), Some(hash)) = (pruned.last_pruned_seq, last_hash) {
                detail.insert("last_pruned_seq".into(), seq.into());
                detail.insert("last_pruned_hash".into(), hash.into());
            }
            Ok(pruned)
        })
    }
}

/// Whether an operation changes secrets, keys or the log's shape (and so refreshes the anchor
/// copy in `vault.meta`).
fn changes_data(action: Action) -> bool {
    matches!(
        action,
        Action::Set
            | Action::Delete
            | Action::Import
            | Action::PasswordChange
            | Action::AuditPrune
            | Action::PolicyApprove
            | Action::FolderCreate
            | Action::FolderRename
            | Action::FolderMove
            | Action::FolderDelete
            | Action::Restore
            | Action::Init
    )
}

fn read_meta_anchor(dir: &VaultDir) -> Option<Anchor> {
    let bytes = std::fs::read(dir.meta()).ok()?;
    serde_json::from_slice::<MetaFile>(&bytes)
        .ok()?
        .audit_anchor
}

fn damaged_secret(db: &Path, what: &str) -> Error {
    let what = if what.starts_with("secret record ") {
        what.to_owned()
    } else {
        format!("secret '{what}'")
    };
    Error::SecretDamaged {
        what,
        path: db.to_owned(),
    }
}

/// Every row, in table order (a scan; ordering by the text `id` would cost one index lookup per
/// row).
fn all_rows(conn: &Connection, db: &Path) -> Result<Vec<(String, Row)>> {
    let mut stmt = conn
        .prepare(&format!("{SELECT_ROW} ORDER BY rowid"))
        .map_err(|e| Error::sql(db, e))?;
    stmt.query_map([], read_row)
        .map_err(|e| Error::sql(db, e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| Error::sql(db, e))
}

/// Finds a secret by name through the HMAC index, and checks that the row really holds that
/// name (a row whose `key_hash` was swapped with another's decrypts to the other name).
fn find_row(conn: &Connection, db: &Path, keys: &Keys, name: &KeyName) -> Result<Option<Row>> {
    let found = conn
        .query_row(
            &format!("{SELECT_ROW} WHERE key_hash = ?1"),
            params![keys.name_index(name).to_vec()],
            read_row,
        )
        .optional()
        .map_err(|e| Error::sql(db, e))?;
    let Some((id_text, row)) = found else {
        return Ok(None);
    };
    let row =
        checked_row(db, keys, &id_text, row).map_err(|_| damaged_secret(db, name.as_str()))?;
    let stored = keys
        .open(&row.id, "encrypted_key", &row.encrypted_key)
        .ok_or_else(|| damaged_secret(db, name.as_str()))?;
    if stored.as_slice() != name.as_str().as_bytes() {
        return Err(damaged_secret(db, name.as_str()));
    }
    Ok(Some(row))
}

/// Parses the row's id and checks its MAC; a row that fails is damaged.
fn checked_row(db: &Path, keys: &Keys, id_text: &str, mut row: Row) -> Result<Row> {
    let damaged = || damaged_secret(db, &format!("secret record {id_text}"));
    row.id = parse_uuid(id_text).ok_or_else(damaged)?;
    let stored = row.row_mac.as_deref().ok_or_else(damaged)?;
    if !crypto::constant_time_eq(&keys.row_mac(id_text, &row), stored) {
        return Err(damaged());
    }
    Ok(row)
}

/// Recomputes and stores the MAC of row `id_text` after a change, inside the caller's
/// transaction.
fn seal_row(conn: &Connection, db: &Path, keys: &Keys, id_text: &str) -> Result<()> {
    let (_, row) = conn
        .query_row(
            &format!("{SELECT_ROW} WHERE id = ?1"),
            params![id_text],
            read_row,
        )
        .map_err(|e| Error::sql(db, e))?;
    conn.execute(
        "UPDATE secrets SET row_mac = ?1 WHERE id = ?2",
        params![keys.row_mac(id_text, &row).to_vec(), id_text],
    )
    .map_err(|e| Error::sql(db, e))?;
    Ok(())
}

fn decrypt_name(db: &Path, keys: &Keys, row: &Row, id_text: &str) -> Result<KeyName> {
    let what = format!("secret record {id_text}");
    let plain = keys
        .open(&row.id, "encrypted_key", &row.encrypted_key)
        .ok_or_else(|| damaged_secret(db, &what))?;
    std::str::from_utf8(&plain)
        .ok()
        .and_then(|s| KeyName::parse(s).ok())
        .ok_or_else(|| damaged_secret(db, &what))
}

/// Creates or updates one secret inside the caller's transaction.
fn write_secret(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    name: &KeyName,
    update: &mut SecretUpdate,
) -> Result<SetOutcome> {
    update.validate()?;
    let now_ms = now().as_millisecond();
    let mut current_tags: Vec<String> = Vec::new();
    let (id, mut fields, mut bindings, outcome) = match find_row(conn, db, keys, name)? {
        Some(row) => {
            let fields = decrypt_fields(db, keys, &row, name.as_str())?;
            let bindings = decrypt_bindings(db, keys, &row, name.as_str())?;
            current_tags = decrypt_meta(db, keys, &row, name.as_str())?.tags;
            (row.id, fields, bindings, SetOutcome::Updated)
        }
        None => {
            if update.value.is_none() && update.fields.is_empty() {
                return Err(Error::ValueRequired(name.clone()));
            }
            let id = *new_uuid().as_bytes();
            (id, Vec::new(), Bindings::new(), SetOutcome::Created)
        }
    };
    update.apply_fields(&mut fields, &mut bindings)?;
    let (value_blob, fields_blob, bindings_blob) = seal_fields(keys, &id, &fields, &bindings);
    let id_text = uuid::Uuid::from_bytes(id).to_string();
    let sql = |e| Error::sql(db, e);
    if outcome == SetOutcome::Created {
        conn.execute(
            "INSERT INTO secrets (id, key_hash, encrypted_key, encrypted_value, encrypted_fields,
                                  encrypted_bindings, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                id_text,
                keys.name_index(name).to_vec(),
                keys.seal(&id, "encrypted_key", name.as_str().as_bytes()),
                value_blob,
                fields_blob,
                bindings_blob,
                now_ms
            ],
        )
        .map_err(sql)?;
    } else {
        conn.execute(
            "UPDATE secrets SET encrypted_value = ?1, encrypted_fields = ?2,
                                encrypted_bindings = ?3, updated_at = ?4 WHERE id = ?5",
            params![value_blob, fields_blob, bindings_blob, now_ms, id_text],
        )
        .map_err(sql)?;
    }
    let exec = |column: &str, value: &dyn rusqlite::ToSql| {
        conn.execute(
            &format!("UPDATE secrets SET {column} = ?1 WHERE id = ?2"),
            params![value, id_text],
        )
        .map(drop)
        .map_err(sql)
    };
    if let Some(notes) = &update.notes {
        exec(
            "encrypted_notes",
            &notes
                .as_ref()
                .map(|n| keys.seal(&id, "encrypted_notes", n.as_bytes())),
        )?;
    }
    if let Some(url) = &update.url {
        exec(
            "encrypted_url",
            &url.as_ref()
                .map(|u| keys.seal(&id, "encrypted_url", u.as_bytes())),
        )?;
    }
    if update.tags.is_some() || !update.add_tags.is_empty() {
        let mut tags = update.tags.clone().unwrap_or(current_tags);
        for tag in &update.add_tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        crate::secret::validate_tags(&tags)?;
        exec(
            "tags",
            &serde_json::to_string(&tags).expect("tags serialise"),
        )?;
    }
    if let Some(expires) = &update.expires_at {
        exec("expires_at", &expires.map(|t| t.as_millisecond()))?;
    }
    if let Some(folder) = &update.folder {
        let folder_id = match folder {
            Some(path) => Some(
                folders::Tree::load(conn, db, keys)?
                    .require(path)?
                    .id
                    .clone(),
            ),
            None => None,
        };
        exec("folder_id", &folder_id)?;
    }
    seal_row(conn, db, keys, &id_text)?;
    Ok(outcome)
}

/// The value, fields and bindings blobs of a secret: the plain form (one `value` field, no
/// bindings) keeps its value in `encrypted_value`; any other form keeps the fields as JSON.
fn seal_fields(
    keys: &Keys,
    id: &[u8; 16],
    fields: &[Field],
    bindings: &Bindings,
) -> (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>) {
    if stored::is_plain(fields, bindings) {
        return (
            keys.seal(id, "encrypted_value", fields[0].value.expose_bytes()),
            None,
            None,
        );
    }
    let json = stored::encode_fields(fields);
    let bindings_blob = (!bindings.is_empty())
        .then(|| keys.seal(id, "encrypted_bindings", &stored::encode_bindings(bindings)));
    (
        keys.seal(id, "encrypted_value", b""),
        Some(keys.seal(id, "encrypted_fields", &json)),
        bindings_blob,
    )
}

/// Writes a whole secret (every column) as a new row, or over row `existing`, inside the
/// caller's transaction.
fn put_whole(
    conn: &Connection,
    db: &Path,
    keys: &Keys,
    existing: Option<[u8; 16]>,
    secret: &Secret,
    folder_id: Option<String>,
) -> Result<()> {
    let id = existing.unwrap_or_else(|| *new_uuid().as_bytes());
    let id_text = uuid::Uuid::from_bytes(id).to_string();
    let (value, fields, bindings) = seal_fields(keys, &id, &secret.fields, &secret.bindings);
    let meta = &secret.meta;
    let notes = meta
        .notes
        .as_ref()
        .map(|n| keys.seal(&id, "encrypted_notes", n.as_bytes()));
    let url = meta
        .url
        .as_ref()
        .map(|u| keys.seal(&id, "encrypted_url", u.as_bytes()));
    let tags = serde_json::to_string(&meta.tags).expect("tags serialise");
    let expires = meta.expires_at.map(|t| t.as_millisecond());
    let now_ms = now().as_millisecond();
    let sql = |e| Error::sql(db, e);
    if existing.is_some() {
        conn.execute(
            "UPDATE secrets SET encrypted_value = ?1, encrypted_fields = ?2,
                    encrypted_bindings = ?3, encrypted_notes = ?4, encrypted_url = ?5,
                    tags = ?6, expires_at = ?7, folder_id = ?8, updated_at = ?9
             WHERE id = ?10",
            params![
                value, fields, bindings, notes, url, tags, expires, folder_id, now_ms, id_text
            ],
        )
        .map_err(sql)?;
    } else {
        conn.execute(
            "INSERT INTO secrets (id, key_hash, encrypted_key, encrypted_value, encrypted_fields,
                                  encrypted_bindings, encrypted_notes, encrypted_url, tags,
                                  expires_at, folder_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                id_text,
                keys.name_index(&secret.name).to_vec(),
                keys.seal(&id, "encrypted_key", secret.name.as_str().as_bytes()),
                value,
                fields,
                bindings,
                notes,
                url,
                tags,
                expires,
                folder_id,
                meta.created_at.map_or(now_ms, |t| t.as_millisecond())
            ],
        )
        .map_err(sql)?;
    }
    seal_row(conn, db, keys, &id_text)
}

fn read_secret(conn: &Connection, db: &Path, keys: &Keys, name: &KeyName) -> Result<Secret> {
    let row = find_row(conn, db, keys, name)?.ok_or_else(|| Error::NotFound(name.clone()))?;
    let mut meta = decrypt_meta(db, keys, &row, name.as_str())?;
    if let Some(id) = &row.folder_id {
        meta.folder = folders::Tree::load(conn, db, keys)?.path_of(id);
    }
    Ok(Secret {
        name: name.clone(),
        fields: decrypt_fields(db, keys, &row, name.as_str())?,
        bindings: decrypt_bindings(db, keys, &row, name.as_str())?,
        meta,
    })
}

/// The fields of a row: the plain form's one `value` field, or the decrypted field list. The
/// value blob is authenticated in both forms, so a swapped `encrypted_value` is caught even
/// when the fields live elsewhere.
fn decrypt_fields(db: &Path, keys: &Keys, row: &Row, name: &str) -> Result<Vec<Field>> {
    let value = keys
        .open(&row.id, "encrypted_value", &row.encrypted_value)
        .ok_or_else(|| damaged_secret(db, name))?;
    match &row.encrypted_fields {
        None => Ok(vec![Field::sensitive(
            VALUE_FIELD,
            SecretValue::from_stored(value.to_vec()),
        )]),
        Some(blob) => keys
            .open(&row.id, "encrypted_fields", blob)
            .and_then(|plain| stored::decode_fields(&plain))
            .filter(|fields| !fields.is_empty())
            .ok_or_else(|| damaged_secret(db, name)),
    }
}

fn decrypt_bindings(db: &Path, keys: &Keys, row: &Row, name: &str) -> Result<Bindings> {
    match &row.encrypted_bindings {
        None => Ok(Bindings::new()),
        Some(blob) => keys
            .open(&row.id, "encrypted_bindings", blob)
            .and_then(|plain| stored::decode_bindings(&plain))
            .ok_or_else(|| damaged_secret(db, name)),
    }
}

fn decrypt_meta(db: &Path, keys: &Keys, row: &Row, name: &str) -> Result<SecretMeta> {
    let text = |column: &str, blob: &Option<Vec<u8>>| -> Result<Option<String>> {
        match blob {
            None => Ok(None),
            Some(b) => {
                let plain = keys
                    .open(&row.id, column, b)
                    .ok_or_else(|| damaged_secret(db, name))?;
                String::from_utf8(plain.to_vec())
                    .map(Some)
                    .map_err(|_| damaged_secret(db, name))
            }
        }
    };
    Ok(SecretMeta {
        notes: text("encrypted_notes", &row.encrypted_notes)?,
        url: text("encrypted_url", &row.encrypted_url)?,
        tags: serde_json::from_str(&row.tags).map_err(|_| damaged_secret(db, name))?,
        expires_at: row.expires_at.and_then(ts),
        created_at: ts(row.created_at),
        updated_at: ts(row.updated_at),
        folder: None,
    })
}
