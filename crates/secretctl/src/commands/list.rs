//! `secretctl list`: names, one per line (or columns, or JSON). No values.

use super::{summary_json, time_or_dash};
use crate::access::{self, Need};
use crate::cli::{Global, ListArgs};
use crate::failure::Result;
use crate::io;
use secretctl_core::secret::FolderPath;
use secretctl_core::vault::ListFilter;

pub fn run(g: &Global, a: ListArgs) -> Result<()> {
    let expiring_before = match &a.expiring {
        Some(d) => {
            let d = secretctl_core::duration::parse_duration(d)?;
            let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
            Some(
                jiff::Timestamp::now()
                    .saturating_add(span)
                    .unwrap_or(jiff::Timestamp::MAX),
            )
        }
        None => None,
    };
    if let Some(tag) = &a.tag {
        secretctl_core::secret::validate_tags(std::slice::from_ref(tag))?;
    }
    let filter = ListFilter {
        tag: a.tag,
        expiring_before,
        folder: a.folder.as_deref().map(FolderPath::parse).transpose()?,
    };
    let secrets = access::open(g, Need::Agent)?.list(&filter)?;
    if a.json {
        let items: Vec<serde_json::Value> =
            secrets.iter().map(|s| summary_json(s).into()).collect();
        return io::out_json(&items.into());
    }
    let mut text = String::new();
    if a.long {
        let width = secrets
            .iter()
            .map(|s| s.name.as_str().len())
            .max()
            .unwrap_or(4)
            .max(4);
        text.push_str(&format!(
            "{:width$}  {:6}  {:24}  {:20}  {:20}  {}\n",
            "NAME", "FIELDS", "TAGS", "EXPIRES", "UPDATED", "FOLDER"
        ));
        for s in &secrets {
            let tags = if s.meta.tags.is_empty() {
                "-".into()
            } else {
                s.meta.tags.join(",")
            };
            text.push_str(&format!(
                "{:width$}  {:6}  {:24}  {:20}  {:20}  {}\n",
                s.name.as_str(),
                s.field_count,
                tags,
                time_or_dash(s.meta.expires_at),
                time_or_dash(s.meta.updated_at),
                s.meta
                    .folder
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string)
            ));
        }
    } else {
        for s in &secrets {
            text.push_str(s.name.as_str());
            text.push('\n');
        }
    }
    io::out(text.as_bytes())
}
