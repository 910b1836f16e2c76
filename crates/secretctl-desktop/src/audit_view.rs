//! The audit viewer's side of the audit log (SPEC §8): filters the core does not have (an end
//! date), pagination, and the export of the whole filtered set as JSON or CSV.

use crate::error::{IpcError, Result};
use secretctl_core::audit::Record;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Most records on one page.
pub const MAX_PAGE_SIZE: usize = 500;

/// The viewer's filters. Times are milliseconds since the Unix epoch (the front end turns the
/// user's local dates into them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// Only this action (`get`, `set`, …).
    pub action: Option<String>,
    /// Only this source (`cli`, `desktop`, `mcp`, `agent`).
    pub source: Option<String>,
    /// Only records about this key name.
    pub key: Option<String>,
    /// Only records at or after this time.
    pub from_ms: Option<i64>,
    /// Only records before this time.
    pub to_ms: Option<i64>,
    /// Page number, from 0 (newest records first).
    pub page: usize,
    /// Records per page (1 to 500; 0 means 50).
    pub page_size: usize,
}

/// One record as the viewer shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// Position in the chain.
    pub seq: i64,
    /// Time, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Time, RFC 3339 (UTC).
    pub timestamp: String,
    /// Action.
    pub action: String,
    /// Source.
    pub source: String,
    /// Outcome.
    pub success: bool,
    /// The key's current name, if it is known.
    pub key: Option<String>,
    /// The first 12 hex digits of the key's HMAC, for keys no longer in the vault.
    pub key_hash: Option<String>,
    /// Error code.
    pub error: Option<String>,
    /// Detail JSON text (never values).
    pub detail: String,
}

impl AuditRow {
    /// The row of a record and the key name the core matched to it.
    pub fn of(r: &Record, name: Option<&str>) -> AuditRow {
        AuditRow {
            seq: r.seq,
            timestamp_ms: r.timestamp_ms,
            timestamp: time(r),
            action: r.action.clone(),
            source: r.source.clone(),
            success: r.success,
            key: name.map(str::to_owned),
            key_hash: r
                .key_hash
                .as_ref()
                .map(|h| hex::encode(&h[..h.len().min(6)])),
            error: r.error_msg.clone(),
            detail: r.detail.clone(),
        }
    }
}

fn time(r: &Record) -> String {
    jiff::Timestamp::from_millisecond(r.timestamp_ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| r.timestamp_ms.to_string())
}

/// One page of the filtered records, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// The records of this page.
    pub rows: Vec<AuditRow>,
    /// Records matching the filters.
    pub total: usize,
    /// This page, from 0.
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
    /// Records per page.
    pub page_size: usize,
}

/// Keeps the records before `to_ms` (the core filters the rest), newest first.
pub fn filtered(
    mut records: Vec<(Record, Option<String>)>,
    q: &AuditQuery,
) -> Vec<(Record, Option<String>)> {
    if let Some(to) = q.to_ms {
        records.retain(|(r, _)| r.timestamp_ms < to);
    }
    records.reverse();
    records
}

/// The page `q.page` of `records` (already filtered, newest first).
pub fn page(records: &[(Record, Option<String>)], q: &AuditQuery) -> AuditPage {
    let size = match q.page_size {
        0 => 50,
        n => n.min(MAX_PAGE_SIZE),
    };
    let total = records.len();
    let pages = total.div_ceil(size).max(1);
    let page = q.page.min(pages - 1);
    let rows = records
        .iter()
        .skip(page * size)
        .take(size)
        .map(|(r, n)| AuditRow::of(r, n.as_deref()))
        .collect();
    AuditPage {
        rows,
        total,
        page,
        pages,
        page_size: size,
    }
}

/// Writes an export to a new file (0600); an existing file is never overwritten.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if !path.is_absolute() {
        return Err(IpcError::input("give the export file as an absolute path"));
    }
    let fail = |e: std::io::Error| IpcError::failed(format!("{}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, ms: i64, action: &str) -> (Record, Option<String>) {
        (
            Record {
                seq,
                id: format!("id{seq}"),
                timestamp_ms: ms,
                action: action.into(),
                key_hash: None,
                source: "desktop".into(),
                success: true,
                error_msg: None,
                detail: "{}".into(),
                prev_hash: vec![0; 32],
                hash: vec![1; 32],
            },
            None,
        )
    }

    #[test]
    fn pages_run_newest_first_and_the_end_date_is_exclusive() {
        let records: Vec<_> = (1..=120).map(|i| record(i, i * 1000, "get")).collect();
        let q = AuditQuery {
            to_ms: Some(101_000),
            page_size: 50,
            ..AuditQuery::default()
        };
        let all = filtered(records, &q);
        assert_eq!(all.len(), 100);
        let first = page(&all, &q);
        assert_eq!((first.total, first.pages), (100, 2));
        assert_eq!(first.rows[0].seq, 100);
        let last = page(&all, &AuditQuery { page: 9, ..q });
        assert_eq!(last.page, 1, "a page past the end shows the last one");
        assert_eq!(last.rows.last().unwrap().seq, 1);
    }

    #[test]
    fn exports_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.json");
        write_new(&path, b"[]").unwrap();
        assert!(write_new(&path, b"[]").is_err());
        assert!(write_new(Path::new("relative.json"), b"[]").is_err());
    }
}
