//! `secretctl security`: the security report of SPEC §10 — a score, and the weak, reused,
//! expired and expiring secrets behind it — as a short table or JSON. It reads every value (in
//! the agent when one is unlocked) and prints none.

use crate::access::{self, Need};
use crate::cli::{Global, SecurityArgs, SecuritySection};
use crate::failure::Result;
use crate::io;
use secretctl_core::security::{Expiry, FieldRef, Report};

pub fn run(g: &Global, a: SecurityArgs) -> Result<()> {
    let within = secretctl_core::duration::parse_duration(&a.expiring_within)?;
    let report = access::open(g, Need::Agent)?.security_report(within)?;
    if a.json {
        let Some(section) = a.section else {
            // The struct's own field order (score first), which a `Value` would sort away.
            let mut text = serde_json::to_string_pretty(&report).expect("reports serialise");
            text.push('\n');
            return io::out(text.as_bytes());
        };
        let full = serde_json::to_value(&report).expect("reports serialise");
        let keep: &[&str] = match section {
            SecuritySection::Weak => &["weak"],
            SecuritySection::Duplicates => &["reused"],
            SecuritySection::Expiring => &["expired", "expiring", "expiring_within_secs"],
        };
        let part: serde_json::Map<String, serde_json::Value> = keep
            .iter()
            .map(|k| ((*k).to_owned(), full[*k].clone()))
            .collect();
        return io::out_json(&part.into());
    }
    let text = human(&report, a.section);
    // A single section starts at its heading, not after a blank line.
    io::out(text.trim_start_matches('\n').as_bytes())
}

/// `1 group`, `2 groups`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn human(r: &Report, section: Option<SecuritySection>) -> String {
    let mut out = String::new();
    let secs = r.expiring_within_secs;
    let window = if secs.is_multiple_of(86_400) {
        count((secs / 86_400) as usize, "day", "days")
    } else if secs.is_multiple_of(3600) {
        count((secs / 3600) as usize, "hour", "hours")
    } else {
        format!("{secs} s")
    };
    let c = &r.counts;
    if section.is_none() {
        out.push_str(&format!(
            "Security score: {}/100 (strength {:.2}, reuse {:.2}, expiry {:.2})\n",
            r.score, r.components.strength, r.components.reuse, r.components.expiry
        ));
        out.push_str(&format!(
            "{}, {}: {} weak, {} reused in {}, {} expired, {} expiring within {window}, \
             {} not scored\n",
            count(c.secrets, "secret", "secrets"),
            count(c.values, "sensitive value", "sensitive values"),
            c.weak,
            c.reused_values,
            count(c.reuse_groups, "group", "groups"),
            c.expired,
            c.expiring,
            c.unscored
        ));
    }
    let show = |s: SecuritySection| section.is_none_or(|want| want == s);
    let explicit = section.is_some();
    if show(SecuritySection::Weak) && (explicit || !r.weak.is_empty()) {
        out.push_str("\nWeak values\n");
        let rows: Vec<[String; 5]> = r
            .weak
            .iter()
            .map(|w| {
                [
                    w.key.clone(),
                    w.field.clone(),
                    format!("{}/4", w.strength),
                    w.crack_time.clone(),
                    w.reason.clone(),
                ]
            })
            .collect();
        table(
            &mut out,
            ["KEY", "FIELD", "STRENGTH", "CRACK TIME", "REASON"],
            &rows,
        );
    }
    if show(SecuritySection::Duplicates) && (explicit || !r.reused.is_empty()) {
        out.push_str("\nReused values (one line per value)\n");
        if r.reused.is_empty() {
            out.push_str("  none\n");
        }
        for group in &r.reused {
            let places: Vec<String> = group.members.iter().map(place).collect();
            out.push_str(&format!("  {}\n", places.join(", ")));
        }
    }
    if show(SecuritySection::Expiring) {
        if explicit || !r.expired.is_empty() {
            out.push_str("\nExpired\n");
            expiry_table(&mut out, &r.expired);
        }
        if explicit || !r.expiring.is_empty() {
            out.push_str(&format!("\nExpiring within {window}\n"));
            expiry_table(&mut out, &r.expiring);
        }
    }
    if section.is_none() && !r.unscored.is_empty() {
        let places: Vec<String> = r.unscored.iter().map(place).collect();
        out.push_str(&format!(
            "\nNot scored (binary values): {}\n",
            places.join(", ")
        ));
    }
    out
}

fn place(f: &FieldRef) -> String {
    format!("{} ({})", f.key, f.field)
}

fn expiry_table(out: &mut String, items: &[Expiry]) {
    let rows: Vec<[String; 3]> = items
        .iter()
        .map(|e| [e.key.clone(), e.expires_at.clone(), e.days_left.to_string()])
        .collect();
    table(out, ["KEY", "EXPIRES", "DAYS LEFT"], &rows);
}

/// Appends an indented table with a header; `none` when there are no rows. The last column
/// is not padded.
fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    if rows.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::from(" ");
        for (i, cell) in cells.iter().enumerate() {
            text.push(' ');
            if i + 1 < N {
                text.push_str(&format!("{cell:<width$} ", width = widths[i]));
            } else {
                text.push_str(cell);
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(header.to_vec()));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
}
