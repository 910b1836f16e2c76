//! `secretctl audit list|verify|export|prune` (SPEC §8).

use crate::cli::{AuditCommand, AuditFilterArgs, AuditFormat, Global};
use crate::failure::{Failure, Result};
use crate::{io, password};
use secretctl_core::audit::{self, ExportFormat, Filter, Record, Source};
use secretctl_core::vault::Session;

pub fn run(g: &Global, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::List(a) => {
            let (mut session, mut filter) = open_with_filter(g, &a.filter)?;
            filter.limit = Some(a.limit);
            let rows = session.audit_list(&filter, Source::Cli, false)?;
            if a.json {
                return io::out_json(
                    &rows
                        .iter()
                        .map(|(r, name)| audit::record_json(r, name.as_deref()))
                        .collect::<Vec<_>>()
                        .into(),
                );
            }
            let mut text = String::new();
            for (r, name) in &rows {
                text.push_str(&format!(
                    "{:>6}  {}  {:<15} {:<7} {:<4} {}{}\n",
                    r.seq,
                    time_of(r),
                    r.action,
                    r.source,
                    if r.success { "ok" } else { "FAIL" },
                    key_shown(r, name.as_deref()),
                    r.error_msg
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
            }
            io::out(text.as_bytes())
        }
        AuditCommand::Verify(a) => {
            let mut session = password::unlock(g)?;
            let report = session.audit_verify(Source::Cli)?;
            if let Some(seq) = report.first_bad_seq {
                return Err(Failure::failed(format!(
                    "audit log verification failed at seq {seq}: {}",
                    report.problem.as_deref().unwrap_or("unknown problem")
                )));
            }
            if a.json {
                return io::out_json(&serde_json::to_value(&report).expect("report serialises"));
            }
            io::outln(&format!(
                "audit log verified: {} records; head seq {} hash {}",
                report.records, report.head_seq, report.head_hash
            ))
        }
        AuditCommand::Export(a) => {
            let (mut session, filter) = open_with_filter(g, &a.filter)?;
            let rows = session.audit_list(&filter, Source::Cli, true)?;
            let format = match a.format {
                AuditFormat::Json => ExportFormat::Json,
                AuditFormat::Csv => ExportFormat::Csv,
            };
            let bytes = audit::export(&rows, format);
            match &a.output {
                Some(path) => io::write_private_file(path, &bytes, a.force),
                None => io::out(&bytes),
            }
        }
        AuditCommand::Prune(a) => {
            let age = secretctl_core::duration::parse_duration(&a.older_than)?;
            let age = jiff::SignedDuration::try_from(age).unwrap_or(jiff::SignedDuration::MAX);
            let cutoff = jiff::Timestamp::now()
                .saturating_sub(age)
                .unwrap_or(jiff::Timestamp::MIN);
            let mut session = password::unlock(g)?;
            let pruned = session.audit_prune(cutoff, Source::Cli)?;
            if a.json {
                return io::out_json(&serde_json::json!({
                    "pruned": pruned.count,
                    "last_pruned_seq": pruned.last_pruned_seq,
                    "cutoff": cutoff.to_string(),
                }));
            }
            io::outln(&format!(
                "pruned {} audit records older than {cutoff}",
                pruned.count
            ))
        }
    }
}

fn open_with_filter(g: &Global, a: &AuditFilterArgs) -> Result<(Session, Filter)> {
    let since = match &a.since {
        Some(d) => {
            let d = secretctl_core::duration::parse_duration(d)?;
            let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
            Some(
                jiff::Timestamp::now()
                    .saturating_sub(d)
                    .unwrap_or(jiff::Timestamp::MIN),
            )
        }
        None => None,
    };
    let key = a.key.as_deref().map(super::parse_key).transpose()?;
    let session = password::unlock(g)?;
    let filter = Filter {
        limit: None,
        since,
        action: a.action.clone(),
        source: a.source.clone(),
        key_hash: key.map(|k| session.audit_name_hash(&k)),
    };
    Ok((session, filter))
}

fn time_of(r: &Record) -> String {
    jiff::Timestamp::from_millisecond(r.timestamp_ms)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_else(|_| r.timestamp_ms.to_string())
}

/// A known name, or the first 12 hex digits of the name's HMAC, or `-`.
fn key_shown(r: &Record, name: Option<&str>) -> String {
    match (name, &r.key_hash) {
        (Some(n), _) => n.to_owned(),
        (None, Some(h)) => format!("#{}", hex::encode(&h[..h.len().min(6)])),
        (None, None) => "-".into(),
    }
}
