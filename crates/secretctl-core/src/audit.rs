//! The tamper-evident audit log (SPEC §8): record encoding, the HMAC chain, the MAC'd anchor,
//! verification, pruning with a checkpoint, listing and export.
//!
//! This module only reads and writes the `audit_log` table and the `audit_anchor` metadata row
//! inside a transaction the vault module opened; it never commits on its own, so that a
//! mutation and its record always land together (SPEC §3.2).

use crate::crypto::SubKey;
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

const RECORD_DOMAIN: &[u8] = b"secretctl-audit-record-v1";
const ANCHOR_DOMAIN: &[u8] = b"secretctl-audit-anchor-v1";
const GENESIS_DOMAIN: &[u8] = b"secretctl-audit-genesis-v1";

/// Which interface performed an operation. Passed in by the caller, never guessed (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The command-line interface.
    Cli,
    /// The MCP server.
    Mcp,
    /// The desktop app.
    Desktop,
    /// The session agent.
    Agent,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Mcp => "mcp",
            Source::Desktop => "desktop",
            Source::Agent => "agent",
        }
    }
}

/// An operation, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// The genesis record, written by `init`.
    Init,
    /// A failed unlock, folded in at the next successful one.
    Unlock,
    /// A secret created or changed.
    Set,
    /// A secret's value read.
    Get,
    /// A secret's masked value or metadata read.
    GetMasked,
    /// Secrets listed.
    List,
    /// A secret deleted.
    Delete,
    /// The master password changed.
    PasswordChange,
    /// The audit log listed.
    AuditList,
    /// The audit log verified.
    AuditVerify,
    /// The audit log exported.
    AuditExport,
    /// Old records pruned; this record is the checkpoint.
    AuditPrune,
    /// Secrets injected into a command.
    Run,
    /// Secrets exported in plaintext.
    Export,
    /// Secrets imported.
    Import,
    /// Secrets rendered into a template.
    Inject,
    /// Secrets loaded to redact a stream.
    Redact,
    /// The session agent started (an unlock that it holds).
    AgentStart,
    /// The session agent refused a connection or a request.
    AgentRefused,
    /// The session agent locked (lock, timeout, signal, vault changed).
    AgentLock,
    /// The MCP command policy approved (SPEC §7.2).
    PolicyApprove,
    /// Folders listed or looked at.
    FolderList,
    /// A folder created.
    FolderCreate,
    /// A folder renamed.
    FolderRename,
    /// A folder moved.
    FolderMove,
    /// A folder deleted.
    FolderDelete,
    /// Every secret read to build the security report (SPEC §10); no value left.
    SecurityReport,
    /// A backup written (SPEC §10).
    Backup,
    /// A backup restored into the vault, merged or replacing it (SPEC §10).
    Restore,
}

impl Action {
    /// Every stored name, for filters.
    pub const NAMES: [&'static str; 29] = [
        "init",
        "unlock",
        "set",
        "get",
        "get_masked",
        "list",
        "delete",
        "password_change",
        "audit_list",
        "audit_verify",
        "audit_export",
        "audit_prune",
        "run",
        "export",
        "import",
        "inject",
        "redact",
        "agent_start",
        "agent_refused",
        "agent_lock",
        "policy_approve",
        "folder_list",
        "folder_create",
        "folder_rename",
        "folder_move",
        "folder_delete",
        "security_report",
        "backup",
        "restore",
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Init => "init",
            Action::Unlock => "unlock",
            Action::Set => "set",
            Action::Get => "get",
            Action::GetMasked => "get_masked",
            Action::List => "list",
            Action::Delete => "delete",
            Action::PasswordChange => "password_change",
            Action::AuditList => "audit_list",
            Action::AuditVerify => "audit_verify",
            Action::AuditExport => "audit_export",
            Action::AuditPrune => "audit_prune",
            Action::Run => "run",
            Action::Export => "export",
            Action::Import => "import",
            Action::Inject => "inject",
            Action::Redact => "redact",
            Action::AgentStart => "agent_start",
            Action::AgentRefused => "agent_refused",
            Action::AgentLock => "agent_lock",
            Action::PolicyApprove => "policy_approve",
            Action::FolderList => "folder_list",
            Action::FolderCreate => "folder_create",
            Action::FolderRename => "folder_rename",
            Action::FolderMove => "folder_move",
            Action::FolderDelete => "folder_delete",
            Action::SecurityReport => "security_report",
            Action::Backup => "backup",
            Action::Restore => "restore",
        }
    }
}

/// What a caller asks to record; the chain fields are filled in by [`append`].
pub struct Entry<'a> {
    /// The operation.
    pub action: Action,
    /// The key name concerned, if any (stored only as an HMAC).
    pub key: Option<&'a str>,
    /// The interface.
    pub source: Source,
    /// Whether it succeeded.
    pub success: bool,
    /// A short error code (never a value, never a key name).
    pub error: Option<&'a str>,
    /// Details: command path, reason, counts. Never values.
    pub detail: serde_json::Map<String, serde_json::Value>,
    /// When it happened (now, except for folded failed unlocks).
    pub at: Timestamp,
}

/// A stored record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Random unique id.
    pub id: String,
    /// Time, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Operation.
    pub action: String,
    /// HMAC of the key name under the audit key, hex.
    #[serde(serialize_with = "hex_opt")]
    pub key_hash: Option<Vec<u8>>,
    /// Interface.
    pub source: String,
    /// Outcome.
    pub success: bool,
    /// Error code.
    pub error_msg: Option<String>,
    /// Details as JSON text.
    pub detail: String,
    /// Hash of the previous record.
    #[serde(serialize_with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    /// This record's hash.
    #[serde(serialize_with = "hex_bytes")]
    pub hash: Vec<u8>,
}

fn hex_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

fn hex_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}

/// The head of the chain, MAC'd, kept in the `metadata` table and copied to `vault.meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// First seq still in the table (1 until a prune).
    pub first_seq: i64,
    /// The `prev_hash` the first record must carry, hex.
    pub first_prev_hash: String,
    /// Last seq appended.
    pub last_seq: i64,
    /// Hash of the last record, hex.
    pub last_hash: String,
    /// HMAC over the fields above, hex.
    pub mac: String,
}

impl Anchor {
    fn mac_input(
        vault_id: &[u8],
        first_seq: i64,
        first_prev: &str,
        last_seq: i64,
        last: &str,
    ) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(ANCHOR_DOMAIN);
        m.extend_from_slice(vault_id);
        m.extend_from_slice(&first_seq.to_be_bytes());
        m.extend_from_slice(first_prev.as_bytes());
        m.extend_from_slice(&last_seq.to_be_bytes());
        m.extend_from_slice(last.as_bytes());
        m
    }

    fn sealed(
        key: &SubKey,
        vault_id: &[u8],
        first_seq: i64,
        first_prev: &[u8],
        last_seq: i64,
        last: &[u8],
    ) -> Anchor {
        let (first_prev_hash, last_hash) = (hex::encode(first_prev), hex::encode(last));
        let mac = hex::encode(key.mac(&Self::mac_input(
            vault_id,
            first_seq,
            &first_prev_hash,
            last_seq,
            &last_hash,
        )));
        Anchor {
            first_seq,
            first_prev_hash,
            last_seq,
            last_hash,
            mac,
        }
    }

    /// Whether the MAC is valid under `key`.
    pub fn is_authentic(&self, key: &SubKey, vault_id: &[u8]) -> bool {
        let input = Self::mac_input(
            vault_id,
            self.first_seq,
            &self.first_prev_hash,
            self.last_seq,
            &self.last_hash,
        );
        hex::decode(&self.mac).is_ok_and(|mac| key.verify_parts(&[&input], &mac))
    }
}

/// A failure of the audit store (the SQL layer, or a missing or forged anchor).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed.
    #[error("audit log: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The anchor is missing or its MAC does not verify: the chain head cannot be trusted, so no
    /// record is appended to it.
    #[error("the audit anchor is missing or fails verification; run `secretctl audit verify`")]
    BadAnchor,
}

fn canonical(r: &Record) -> Vec<u8> {
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
    let mut out = Vec::with_capacity(256 + r.detail.len());
    out.extend_from_slice(RECORD_DOMAIN);
    field(&mut out, Some(&r.seq.to_be_bytes()));
    field(&mut out, Some(r.id.as_bytes()));
    field(&mut out, Some(&r.timestamp_ms.to_be_bytes()));
    field(&mut out, Some(r.action.as_bytes()));
    field(&mut out, r.key_hash.as_deref());
    field(&mut out, Some(r.source.as_bytes()));
    field(&mut out, Some(&[u8::from(r.success)]));
    field(&mut out, r.error_msg.as_deref().map(str::as_bytes));
    field(&mut out, Some(r.detail.as_bytes()));
    field(&mut out, Some(&r.prev_hash));
    out
}

/// The `prev_hash` of the genesis record: binds the chain to this vault.
pub fn genesis_prev_hash(key: &SubKey, vault_id: &[u8]) -> [u8; 32] {
    key.mac_parts(&[GENESIS_DOMAIN, vault_id])
}

/// HMAC of a key name under the audit key, as stored in `audit_log.key_hash`.
pub fn name_hash(key: &SubKey, name: &str) -> [u8; 32] {
    key.mac_parts(&[b"secretctl-audit-name-v1", name.as_bytes()])
}

fn record_hash(key: &SubKey, r: &Record) -> [u8; 32] {
    key.mac(&canonical(r))
}

/// Reads the anchor row, without checking its MAC.
pub fn read_anchor(tx: &rusqlite::Connection) -> Result<Option<Anchor>, Error> {
    let raw: Option<Vec<u8>> = tx
        .query_row(
            "SELECT value FROM metadata WHERE key = 'audit_anchor'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(raw.and_then(|raw| serde_json::from_slice(&raw).ok()))
}

fn write_anchor(tx: &rusqlite::Connection, anchor: &Anchor) -> Result<(), Error> {
    let json = serde_json::to_vec(anchor).expect("an anchor serialises");
    tx.execute(
        "INSERT INTO metadata (key, value) VALUES ('audit_anchor', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![json],
    )?;
    Ok(())
}

/// Writes the genesis record and the first anchor (at `init`).
pub fn write_genesis(
    tx: &rusqlite::Connection,
    key: &SubKey,
    vault_id: &[u8],
    at: Timestamp,
) -> Result<Anchor, Error> {
    let prev = genesis_prev_hash(key, vault_id);
    let first = Anchor::sealed(key, vault_id, 1, &prev, 0, &prev);
    write_anchor(tx, &first)?;
    append(
        tx,
        key,
        vault_id,
        Entry {
            action: Action::Init,
            key: None,
            source: Source::Cli,
            success: true,
            error: None,
            detail: serde_json::Map::new(),
            at,
        },
    )
}

/// Appends one record after the anchor's head and moves the anchor, inside `tx`.
///
/// The next seq and previous hash come from the MAC'd anchor, never from the table, so a
/// tampered table cannot steer where new records attach.
pub fn append(
    tx: &rusqlite::Connection,
    key: &SubKey,
    vault_id: &[u8],
    entry: Entry<'_>,
) -> Result<Anchor, Error> {
    let anchor = read_anchor(tx)?.ok_or(Error::BadAnchor)?;
    if !anchor.is_authentic(key, vault_id) {
        return Err(Error::BadAnchor);
    }
    let prev_hash = hex::decode(&anchor.last_hash).map_err(|_| Error::BadAnchor)?;
    let mut id = [0u8; 16];
    crate::crypto::fill_random(&mut id);
    let mut record = Record {
        seq: anchor.last_seq + 1,
        id: uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
        timestamp_ms: entry.at.as_millisecond(),
        action: entry.action.as_str().to_owned(),
        key_hash: entry.key.map(|k| name_hash(key, k).to_vec()),
        source: entry.source.as_str().to_owned(),
        success: entry.success,
        error_msg: entry.error.map(str::to_owned),
        detail: serde_json::Value::Object(entry.detail).to_string(),
        prev_hash,
        hash: Vec::new(),
    };
    record.hash = record_hash(key, &record).to_vec();
    tx.execute(
        "INSERT INTO audit_log (seq, id, timestamp, action, key_hash, source, success, error_msg, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            record.seq,
            record.id,
            record.timestamp_ms,
            record.action,
            record.key_hash,
            record.source,
            record.success,
            record.error_msg,
            record.detail,
            record.prev_hash,
            record.hash
        ],
    )?;
    let first_prev = hex::decode(&anchor.first_prev_hash).map_err(|_| Error::BadAnchor)?;
    let next = Anchor::sealed(
        key,
        vault_id,
        anchor.first_seq,
        &first_prev,
        record.seq,
        &record.hash,
    );
    write_anchor(tx, &next)?;
    Ok(next)
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        seq: row.get(0)?,
        id: row.get(1)?,
        timestamp_ms: row.get(2)?,
        action: row.get(3)?,
        key_hash: row.get(4)?,
        source: row.get(5)?,
        success: row.get(6)?,
        error_msg: row.get(7)?,
        detail: row.get(8)?,
        prev_hash: row.get(9)?,
        hash: row.get(10)?,
    })
}

const SELECT_RECORD: &str = "SELECT seq, id, timestamp, action, key_hash, source, success, error_msg, detail, prev_hash, hash FROM audit_log";

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Records checked.
    pub records: u64,
    /// The first bad seq, if any.
    pub first_bad_seq: Option<i64>,
    /// What is wrong there.
    pub problem: Option<String>,
    /// The head hash (hex), for keeping elsewhere.
    pub head_hash: String,
    /// The head seq.
    pub head_seq: i64,
}

impl Verification {
    /// Whether the chain verified.
    pub fn is_ok(&self) -> bool {
        self.first_bad_seq.is_none()
    }
}

/// Verifies the whole chain against the anchor: detects modified, inserted, deleted, reordered
/// or swapped records, a truncated tail and an emptied table, and names the first bad seq.
///
/// `meta_anchor` is the copy from `vault.meta`; when it is authentic and ahead of the database,
/// the database was rolled back.
pub fn verify(
    conn: &rusqlite::Connection,
    key: &SubKey,
    vault_id: &[u8],
    meta_anchor: Option<&Anchor>,
) -> Result<Verification, Error> {
    let anchor = match read_anchor(conn)? {
        Some(a) if a.is_authentic(key, vault_id) => a,
        _ => return Err(Error::BadAnchor),
    };
    let mut out = Verification {
        records: 0,
        first_bad_seq: None,
        problem: None,
        head_hash: anchor.last_hash.clone(),
        head_seq: anchor.last_seq,
    };
    let bad = |out: &mut Verification, seq: i64, problem: String| {
        out.first_bad_seq = Some(seq);
        out.problem = Some(problem);
    };

    let mut expected_seq = anchor.first_seq;
    let mut expected_prev = hex::decode(&anchor.first_prev_hash).map_err(|_| Error::BadAnchor)?;
    let mut stmt = conn.prepare(&format!("{SELECT_RECORD} ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let r = row_to_record(row)?;
        out.records += 1;
        if r.seq < expected_seq {
            bad(
                &mut out,
                r.seq,
                format!(
                    "record {} precedes the start of the chain ({})",
                    r.seq, anchor.first_seq
                ),
            );
            return Ok(out);
        }
        if r.seq > expected_seq {
            bad(
                &mut out,
                expected_seq,
                format!("record {expected_seq} is missing"),
            );
            return Ok(out);
        }
        if r.prev_hash != expected_prev {
            bad(
                &mut out,
                r.seq,
                format!("record {} does not link to the record before it", r.seq),
            );
            return Ok(out);
        }
        if !crate::crypto::constant_time_eq(&record_hash(key, &r), &r.hash) {
            bad(&mut out, r.seq, format!("record {} was modified", r.seq));
            return Ok(out);
        }
        expected_prev = r.hash;
        expected_seq += 1;
    }
    let last_present = expected_seq - 1;
    if last_present < anchor.last_seq {
        let what = if out.records == 0 {
            "the audit log is empty"
        } else {
            "the end of the audit log is missing"
        };
        bad(
            &mut out,
            expected_seq,
            format!(
                "{what}: records {expected_seq} to {} are gone",
                anchor.last_seq
            ),
        );
        return Ok(out);
    }
    if last_present > anchor.last_seq || hex::encode(&expected_prev) != anchor.last_hash {
        bad(
            &mut out,
            anchor.last_seq + 1,
            format!(
                "record {} was added after the anchored head",
                anchor.last_seq + 1
            ),
        );
        return Ok(out);
    }
    if let Some(meta) = meta_anchor
        && let Some((seq, problem)) = meta_anchor_problem(conn, key, vault_id, &anchor, meta)?
    {
        bad(&mut out, seq, problem);
    }
    Ok(out)
}

/// Checks the copy of the anchor kept in `vault.meta` against the database's chain. The copy
/// must be authentic and name a record that is on the chain: ahead of the database, or on a
/// different record at the same seq, means the database was rolled back (and perhaps written
/// again since). A copy that names a record already pruned cannot be checked and passes.
pub fn meta_anchor_problem(
    conn: &rusqlite::Connection,
    key: &SubKey,
    vault_id: &[u8],
    anchor: &Anchor,
    meta: &Anchor,
) -> Result<Option<(i64, String)>, Error> {
    if !meta.is_authentic(key, vault_id) {
        return Ok(Some((
            anchor.first_seq,
            "the audit anchor copy in vault.meta fails verification".into(),
        )));
    }
    if meta.last_seq > anchor.last_seq {
        return Ok(Some((
            anchor.last_seq + 1,
            format!(
                "vault.meta records seq {} but the database ends at {}: the database was rolled back",
                meta.last_seq, anchor.last_seq
            ),
        )));
    }
    if meta.last_seq < anchor.first_seq {
        return Ok(None);
    }
    let hash: Option<Vec<u8>> = conn
        .query_row(
            "SELECT hash FROM audit_log WHERE seq = ?1",
            params![meta.last_seq],
            |r| r.get(0),
        )
        .optional()?;
    match hash {
        Some(h) if hex::encode(&h) == meta.last_hash => Ok(None),
        // A missing record is reported by the chain walk itself.
        None => Ok(None),
        Some(_) => Ok(Some((
            meta.last_seq,
            format!(
                "record {} differs from the one vault.meta recorded: the database was rolled back and written again",
                meta.last_seq
            ),
        ))),
    }
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Most recent N records (after the other filters).
    pub limit: Option<u64>,
    /// Only records at or after this time.
    pub since: Option<Timestamp>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// Only records about the key with this name hash.
    pub key_hash: Option<Vec<u8>>,
}

/// Lists records, newest last, after filtering.
pub fn list(conn: &rusqlite::Connection, filter: &Filter) -> Result<Vec<Record>, Error> {
    let mut sql = format!("{SELECT_RECORD} WHERE 1=1");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    if let Some(since) = filter.since {
        sql.push_str(" AND timestamp >= ?");
        args.push(Box::new(since.as_millisecond()));
    }
    if let Some(a) = &filter.action {
        sql.push_str(" AND action = ?");
        args.push(Box::new(a.clone()));
    }
    if let Some(s) = &filter.source {
        sql.push_str(" AND source = ?");
        args.push(Box::new(s.clone()));
    }
    if let Some(k) = &filter.key_hash {
        sql.push_str(" AND key_hash = ?");
        args.push(Box::new(k.clone()));
    }
    sql.push_str(" ORDER BY seq DESC");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as u64)));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut records: Vec<Record> = stmt
        .query_map(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            row_to_record,
        )?
        .collect::<Result<_, _>>()?;
    records.reverse();
    Ok(records)
}

/// What a prune removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Records removed.
    pub count: u64,
    /// Seq of the last removed record.
    pub last_pruned_seq: Option<i64>,
}

/// Removes the records older than `cutoff` from the start of the chain and moves the anchor's
/// start past them. The caller verifies the chain first and appends the checkpoint record
/// (count and last pruned hash) in the same transaction.
pub fn prune(
    tx: &rusqlite::Connection,
    key: &SubKey,
    vault_id: &[u8],
    cutoff: Timestamp,
) -> Result<(Pruned, Option<String>), Error> {
    let anchor = read_anchor(tx)?
        .filter(|a| a.is_authentic(key, vault_id))
        .ok_or(Error::BadAnchor)?;
    // Only a prefix of the chain can go: the first record newer than the cutoff ends the prune,
    // even if older ones follow it (folded failed unlocks carry their own earlier time).
    let stop: Option<i64> = tx.query_row(
        "SELECT MIN(seq) FROM audit_log WHERE timestamp >= ?1",
        params![cutoff.as_millisecond()],
        |r| r.get(0),
    )?;
    let stop = stop.unwrap_or(anchor.last_seq + 1);
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
            params![stop],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((last_seq, last_hash)) = last else {
        return Ok((
            Pruned {
                count: 0,
                last_pruned_seq: None,
            },
            None,
        ));
    };
    let count = tx.execute("DELETE FROM audit_log WHERE seq <= ?1", params![last_seq])? as u64;
    let last_hex = hex::encode(&last_hash);
    let moved = Anchor::sealed(
        key,
        vault_id,
        last_seq + 1,
        &last_hash,
        anchor.last_seq,
        &hex::decode(&anchor.last_hash).map_err(|_| Error::BadAnchor)?,
    );
    write_anchor(tx, &moved)?;
    Ok((
        Pruned {
            count,
            last_pruned_seq: Some(last_seq),
        },
        Some(last_hex),
    ))
}

/// Formats of an audit export (`secretctl audit export`, the desktop app's export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// A JSON array of the records, with `timestamp`, `key` and `detail` as JSON.
    Json,
    /// CSV with a header row, safe against spreadsheet formula injection.
    Csv,
}

/// One record as JSON, as `audit list --json` and the JSON export show it: the record's fields,
/// its `timestamp` in RFC 3339, its `key` name when known, and its `detail` as JSON.
pub fn record_json(r: &Record, name: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(r).expect("records serialise");
    if let Some(obj) = v.as_object_mut() {
        obj.insert("timestamp".into(), export_time(r).into());
        obj.insert("key".into(), name.into());
        if let Ok(detail) = serde_json::from_str::<serde_json::Value>(&r.detail) {
            obj.insert("detail".into(), detail);
        }
    }
    v
}

fn export_time(r: &Record) -> String {
    Timestamp::from_millisecond(r.timestamp_ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| r.timestamp_ms.to_string())
}

/// The export of `rows` (records with their key names when known), one format for every
/// interface. CSV cells a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return) get a leading `'`, as OWASP advises.
pub fn export(rows: &[(Record, Option<String>)], format: ExportFormat) -> Vec<u8> {
    match format {
        ExportFormat::Json => {
            let records: Vec<serde_json::Value> = rows
                .iter()
                .map(|(r, name)| record_json(r, name.as_deref()))
                .collect();
            let mut out = serde_json::to_vec_pretty(&records).expect("records serialise");
            out.push(b'\n');
            out
        }
        ExportFormat::Csv => {
            const HEADER: [&str; 11] = [
                "seq",
                "timestamp",
                "action",
                "source",
                "success",
                "key",
                "key_hash",
                "error",
                "detail",
                "prev_hash",
                "hash",
            ];
            let defuse = |cell: &str| {
                if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    format!("'{cell}")
                } else {
                    cell.to_owned()
                }
            };
            // Writing to memory: the only errors `csv` has are I/O errors, which a Vec has not.
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(HEADER).expect("CSV to memory");
            for (r, name) in rows {
                let cells = [
                    r.seq.to_string(),
                    export_time(r),
                    r.action.clone(),
                    r.source.clone(),
                    r.success.to_string(),
                    name.clone().unwrap_or_default(),
                    r.key_hash.as_deref().map(hex::encode).unwrap_or_default(),
                    r.error_msg.clone().unwrap_or_default(),
                    r.detail.clone(),
                    hex::encode(&r.prev_hash),
                    hex::encode(&r.hash),
                ];
                w.write_record(cells.iter().map(|c| defuse(c)))
                    .expect("CSV to memory");
            }
            w.into_inner().expect("CSV to memory")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, ExportFormat, Record, export};

    fn exported_record() -> (Record, Option<String>) {
        let record = Record {
            seq: 7,
            id: "id7".into(),
            timestamp_ms: 1_700_000_000_123,
            action: "set".into(),
            key_hash: Some(vec![0xab; 32]),
            source: "desktop".into(),
            success: false,
            error_msg: Some("=HYPERLINK(\"x\")".into()),
            detail: r#"{"fields":2}"#.into(),
            prev_hash: vec![1; 32],
            hash: vec![2; 32],
        };
        (record, Some("-name".into()))
    }

    #[test]
    fn csv_export_has_the_header_and_defuses_formulas() {
        let csv = String::from_utf8(export(&[exported_record()], ExportFormat::Csv)).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("seq,timestamp,action,source,success,key,key_hash,error,detail,prev_hash,hash")
        );
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("7,2023-11-14T22:13:20.123Z,set,desktop,false,'-name,abab"),
            "{row}"
        );
        assert!(row.contains(r#""'=HYPERLINK(""x"")""#), "{row}");
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn json_export_carries_names_times_and_details_as_json() {
        let json = export(&[exported_record()], ExportFormat::Json);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let r = &v.as_array().unwrap()[0];
        assert_eq!(r["key"], "-name", "JSON needs no defusing");
        assert_eq!(r["timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(r["detail"]["fields"], 2);
        assert_eq!(r["key_hash"], "ab".repeat(32));
        assert_eq!(r["seq"], 7);
    }

    /// Every action, in the order of [`Action::NAMES`]. The match below stops compiling when an
    /// action is added, so that this list, and through it `NAMES`, cannot fall behind.
    const ALL: [Action; 29] = [
        Action::Init,
        Action::Unlock,
        Action::Set,
        Action::Get,
        Action::GetMasked,
        Action::List,
        Action::Delete,
        Action::PasswordChange,
        Action::AuditList,
        Action::AuditVerify,
        Action::AuditExport,
        Action::AuditPrune,
        Action::Run,
        Action::Export,
        Action::Import,
        Action::Inject,
        Action::Redact,
        Action::AgentStart,
        Action::AgentRefused,
        Action::AgentLock,
        Action::PolicyApprove,
        Action::FolderList,
        Action::FolderCreate,
        Action::FolderRename,
        Action::FolderMove,
        Action::FolderDelete,
        Action::SecurityReport,
        Action::Backup,
        Action::Restore,
    ];

    #[test]
    fn names_list_every_action_once() {
        for action in ALL {
            match action {
                Action::Init
                | Action::Unlock
                | Action::Set
                | Action::Get
                | Action::GetMasked
                | Action::List
                | Action::Delete
                | Action::PasswordChange
                | Action::AuditList
                | Action::AuditVerify
                | Action::AuditExport
                | Action::AuditPrune
                | Action::Run
                | Action::Export
                | Action::Import
                | Action::Inject
                | Action::Redact
                | Action::AgentStart
                | Action::AgentRefused
                | Action::AgentLock
                | Action::PolicyApprove
                | Action::FolderList
                | Action::FolderCreate
                | Action::FolderRename
                | Action::FolderMove
                | Action::FolderDelete
                | Action::SecurityReport
                | Action::Backup
                | Action::Restore => {}
            }
        }
        let names: Vec<&str> = ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, Action::NAMES);
    }
}
