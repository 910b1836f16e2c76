//! What may cross IPC about secrets. List and detail views are built from the core's summaries
//! and masked field views: a sensitive field's value never appears in them, only its mask. The
//! types here have no field that could carry a sensitive value; [`Desktop::reveal`] is the one
//! way out for a value.
//!
//! [`Desktop::reveal`]: crate::Desktop::reveal

use secretctl_core::secret::{Bindings, FieldView, InputType, SecretMeta, SecretSummary, Template};
use serde::Serialize;

/// RFC 3339 text of a timestamp.
pub fn time_text(t: Option<jiff::Timestamp>) -> Option<String> {
    t.map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
}

/// One row of the secret list: name and metadata, no value and no mask.
#[derive(Debug, Clone, Serialize)]
pub struct ListItem {
    /// Key name.
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Folder path, `Work/AWS`.
    pub folder: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Whether the expiry has passed.
    pub expired: bool,
    /// Last change, RFC 3339.
    pub updated_at: Option<String>,
    /// Number of fields.
    pub field_count: usize,
}

impl ListItem {
    /// The row of a summary.
    pub fn of(s: &SecretSummary, now: jiff::Timestamp) -> ListItem {
        ListItem {
            name: s.name.to_string(),
            tags: s.meta.tags.clone(),
            folder: s.meta.folder.as_ref().map(ToString::to_string),
            url: s.meta.url.clone(),
            expires_at: time_text(s.meta.expires_at),
            expired: s.meta.expires_at.is_some_and(|e| e <= now),
            updated_at: time_text(s.meta.updated_at),
            field_count: s.field_count,
        }
    }

    /// Whether the row matches a search: every word of `query` appears, ignoring case, in the
    /// name, a tag, the folder or the URL.
    pub fn matches(&self, query: &str) -> bool {
        let hay = format!(
            "{}\n{}\n{}\n{}",
            self.name,
            self.tags.join("\n"),
            self.folder.as_deref().unwrap_or(""),
            self.url.as_deref().unwrap_or("")
        )
        .to_lowercase();
        query
            .split_whitespace()
            .all(|w| hay.contains(&w.to_lowercase()))
    }
}

/// A field in the detail view.
#[derive(Debug, Clone, Serialize)]
pub struct FieldItem {
    /// Field name.
    pub name: String,
    /// Whether it is sensitive (masked until revealed).
    pub sensitive: bool,
    /// Kind: `password`, `hostname`, …
    pub kind: Option<String>,
    /// Hint for whoever fills it in.
    pub hint: Option<String>,
    /// Multi-line input.
    pub multiline: bool,
    /// The value of a non-sensitive text field; `None` for a sensitive one.
    pub value: Option<String>,
    /// The mask (SPEC §7.1).
    pub masked: String,
    /// The length bucket.
    pub length: String,
}

impl FieldItem {
    /// The item of a masked field view. The core leaves `value` empty for sensitive fields;
    /// this keeps it so even if a view were built differently.
    pub fn of(v: &FieldView) -> FieldItem {
        FieldItem {
            name: v.name.clone(),
            sensitive: v.sensitive,
            kind: v.kind.clone(),
            hint: v.hint.clone(),
            multiline: v.input_type == InputType::MultiLine,
            value: if v.sensitive { None } else { v.value.clone() },
            masked: v.masked.masked.clone(),
            length: v.masked.length.clone(),
        }
    }
}

/// An environment binding.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BindingItem {
    /// Environment variable name.
    pub env: String,
    /// Field name.
    pub field: String,
}

/// The detail view of a secret: metadata, masked fields, bindings.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    /// Key name.
    pub name: String,
    /// Fields, in order.
    pub fields: Vec<FieldItem>,
    /// Bindings, by ENV name.
    pub bindings: Vec<BindingItem>,
    /// Notes.
    pub notes: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Folder path.
    pub folder: Option<String>,
    /// Expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Creation, RFC 3339.
    pub created_at: Option<String>,
    /// Last change, RFC 3339.
    pub updated_at: Option<String>,
}

impl Detail {
    /// The detail view of what `Session::get_masked` returned.
    pub fn of(summary: &SecretSummary, views: &[FieldView], bindings: &Bindings) -> Detail {
        let SecretMeta {
            notes,
            url,
            tags,
            expires_at,
            created_at,
            updated_at,
            folder,
        } = &summary.meta;
        Detail {
            name: summary.name.to_string(),
            fields: views.iter().map(FieldItem::of).collect(),
            bindings: bindings
                .iter()
                .map(|(env, field)| BindingItem {
                    env: env.clone(),
                    field: field.clone(),
                })
                .collect(),
            notes: notes.clone(),
            url: url.clone(),
            tags: tags.clone(),
            folder: folder.as_ref().map(ToString::to_string),
            expires_at: time_text(*expires_at),
            created_at: time_text(*created_at),
            updated_at: time_text(*updated_at),
        }
    }
}

/// A field of a template, for the editor.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateFieldItem {
    /// Field name.
    pub name: &'static str,
    /// Sensitivity.
    pub sensitive: bool,
    /// Kind.
    pub kind: &'static str,
    /// Hint.
    pub hint: &'static str,
    /// Multi-line input.
    pub multiline: bool,
    /// Default binding.
    pub binding: Option<&'static str>,
}

/// A template, for the editor.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateItem {
    /// `login`, `database`, `api`, `ssh`.
    pub name: &'static str,
    /// Its fields.
    pub fields: Vec<TemplateFieldItem>,
}

/// The four templates of SPEC §3.3.
pub fn templates() -> Vec<TemplateItem> {
    Template::ALL
        .iter()
        .map(|t| TemplateItem {
            name: t.name(),
            fields: t
                .fields()
                .iter()
                .map(|f| TemplateFieldItem {
                    name: f.name,
                    sensitive: f.sensitive,
                    kind: f.kind,
                    hint: f.hint,
                    multiline: f.input_type == InputType::MultiLine,
                    binding: f.binding,
                })
                .collect(),
        })
        .collect()
}

/// A folder in the sidebar.
#[derive(Debug, Clone, Serialize)]
pub struct FolderItem {
    /// Path, `Work/AWS`.
    pub path: String,
    /// Depth, 0 at the top.
    pub depth: usize,
    /// Secrets filed directly in it.
    pub secrets: usize,
}
