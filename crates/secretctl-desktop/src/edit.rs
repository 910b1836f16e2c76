//! Turning the editor's form into a [`SecretUpdate`].
//!
//! The editor sends the form as it was loaded (`before`, sensitive values absent) and as the
//! user left it (`after`). [`edit_update`] names only what differs, so that saving a change to
//! one field never clears fields, tags, expiry, folder, notes or bindings the user did not touch
//! (SPEC §3.3) — including those changed meanwhile by the CLI or another window.

use crate::error::{IpcError, Result};
use crate::views::BindingItem;
use secretctl_core::secret::{FolderPath, SecretUpdate, SecretValue, Template};
use serde::Deserialize;

/// One field in the editor.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct FormField {
    /// Field name.
    pub name: String,
    /// The value: in `before`, the value of a non-sensitive field (`None` for sensitive ones);
    /// in `after`, `None` keeps the stored value and `Some` replaces it.
    pub value: Option<String>,
    /// Sensitivity.
    pub sensitive: bool,
}

/// The editor's form.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Form {
    /// Fields, in order.
    pub fields: Vec<FormField>,
    /// Bindings.
    pub bindings: Vec<BindingItem>,
    /// Notes; empty means none.
    pub notes: String,
    /// URL; empty means none.
    pub url: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Expiry as typed: empty, a date (`2027-01-31`, UTC midnight), an RFC 3339 time or a
    /// duration (`90d`), as `secretctl set --expires` reads it.
    pub expires: String,
    /// Folder path; empty means none.
    pub folder: String,
}

/// A new secret.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateRequest {
    /// Key name.
    pub name: String,
    /// Template name, if one was chosen.
    pub template: Option<String>,
    /// The form.
    pub form: Form,
}

/// A change to a secret.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateRequest {
    /// Key name.
    pub name: String,
    /// The form as loaded.
    pub before: Form,
    /// The form as saved.
    pub after: Form,
}

fn none_if_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn value(text: &str) -> Result<SecretValue> {
    Ok(SecretValue::new(text.as_bytes().to_vec())?)
}

fn expiry(text: &str) -> Result<Option<jiff::Timestamp>> {
    match none_if_empty(text) {
        None => Ok(None),
        Some(t) => secretctl_core::duration::parse_expiry(&t, jiff::Timestamp::now())
            .map(Some)
            .map_err(|e| IpcError::input(e.to_string())),
    }
}

fn folder(text: &str) -> Result<Option<FolderPath>> {
    none_if_empty(text)
        .map(|p| FolderPath::parse(&p))
        .transpose()
        .map_err(IpcError::from)
}

fn check_unique(fields: &[FormField]) -> Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if fields[..i].iter().any(|g| g.name == f.name) {
            return Err(IpcError::input(format!(
                "field '{}' is given twice",
                f.name.escape_debug()
            )));
        }
    }
    Ok(())
}

/// The update that creates a secret from a form: every field with a value (empty optional
/// template fields are left out), the template's definitions, the form's metadata.
pub fn create_update(req: &CreateRequest) -> Result<SecretUpdate> {
    let template = match req.template.as_deref().filter(|t| !t.is_empty()) {
        Some(name) => Some(
            Template::parse(name)
                .ok_or_else(|| IpcError::input(format!("unknown template '{name}'")))?,
        ),
        None => None,
    };
    let form = &req.form;
    check_unique(&form.fields)?;
    let mut update = SecretUpdate {
        template,
        ..SecretUpdate::default()
    };
    for f in &form.fields {
        let Some(text) = f.value.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        update.fields.push((f.name.clone(), value(text)?));
        // A new field is sensitive unless the template says otherwise; explicit sensitivity
        // wins over the template, so state it only where it differs.
        let default = template
            .and_then(|t| t.field(&f.name))
            .is_none_or(|d| d.sensitive);
        if f.sensitive != default {
            update.sensitivity.push((f.name.clone(), f.sensitive));
        }
    }
    if update.fields.is_empty() {
        return Err(IpcError::input("give at least one field a value"));
    }
    let present: Vec<&str> = update.fields.iter().map(|(n, _)| n.as_str()).collect();
    for b in &form.bindings {
        if present.contains(&b.field.as_str()) {
            update.bindings.push((b.env.clone(), b.field.clone()));
        }
    }
    update.notes = none_if_empty(&form.notes).map(Some);
    update.url = none_if_empty(&form.url).map(Some);
    if !form.tags.is_empty() {
        update.tags = Some(form.tags.clone());
    }
    update.expires_at = expiry(&form.expires)?.map(Some);
    update.folder = folder(&form.folder)?.map(Some);
    update.validate()?;
    Ok(update)
}

/// The minimal update from `before` to `after`: only what the user changed.
pub fn edit_update(before: &Form, after: &Form) -> Result<SecretUpdate> {
    check_unique(&after.fields)?;
    let mut update = SecretUpdate::default();
    let removed: Vec<&str> = before
        .fields
        .iter()
        .filter(|b| !after.fields.iter().any(|a| a.name == b.name))
        .map(|b| b.name.as_str())
        .collect();
    update.remove_fields = removed.iter().map(|s| (*s).to_owned()).collect();
    for a in &after.fields {
        match before.fields.iter().find(|b| b.name == a.name) {
            Some(b) => {
                if let Some(text) = &a.value
                    && b.value.as_ref() != Some(text)
                {
                    update.fields.push((a.name.clone(), value(text)?));
                }
                if a.sensitive != b.sensitive {
                    update.sensitivity.push((a.name.clone(), a.sensitive));
                }
            }
            None => {
                let text = a
                    .value
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        IpcError::input(format!("give the new field '{}' a value", a.name))
                    })?;
                update.fields.push((a.name.clone(), value(text)?));
                // New fields are created sensitive.
                if !a.sensitive {
                    update.sensitivity.push((a.name.clone(), false));
                }
            }
        }
    }
    for b in &after.bindings {
        if !before.bindings.contains(b) {
            update.bindings.push((b.env.clone(), b.field.clone()));
        }
    }
    for b in &before.bindings {
        let kept = after.bindings.iter().any(|a| a.env == b.env);
        // Removing a field removes the bindings to it already.
        if !kept && !removed.contains(&b.field.as_str()) {
            update.unbind.push(b.env.clone());
        }
    }
    if none_if_empty(&before.notes) != none_if_empty(&after.notes) {
        update.notes = Some(none_if_empty(&after.notes));
    }
    if none_if_empty(&before.url) != none_if_empty(&after.url) {
        update.url = Some(none_if_empty(&after.url));
    }
    if before.tags != after.tags {
        update.tags = Some(after.tags.clone());
    }
    if before.expires.trim() != after.expires.trim() {
        update.expires_at = Some(expiry(&after.expires)?);
    }
    if before.folder.trim() != after.folder.trim() {
        update.folder = Some(folder(&after.folder)?);
    }
    update.validate()?;
    Ok(update)
}

/// Whether an update changes nothing (saving an untouched form writes nothing).
pub fn is_empty(u: &SecretUpdate) -> bool {
    u.value.is_none()
        && u.fields.is_empty()
        && u.sensitivity.is_empty()
        && u.bindings.is_empty()
        && u.remove_fields.is_empty()
        && u.unbind.is_empty()
        && u.template.is_none()
        && u.notes.is_none()
        && u.url.is_none()
        && u.tags.is_none()
        && u.add_tags.is_empty()
        && u.expires_at.is_none()
        && u.folder.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: Option<&str>, sensitive: bool) -> FormField {
        FormField {
            name: name.into(),
            value: value.map(Into::into),
            sensitive,
        }
    }

    /// The error of a refused edit (`SecretUpdate` has no `Debug`: it holds values).
    fn refused(result: Result<SecretUpdate>) -> &'static str {
        match result {
            Ok(_) => panic!("the edit was accepted"),
            Err(e) => e.code,
        }
    }

    /// The database secret as the editor loads it: the password is masked (no value).
    fn loaded() -> Form {
        Form {
            fields: vec![
                field("host", Some("db.internal"), false),
                field("port", Some("5432"), false),
                field("username", Some("app"), false),
                field("password", None, true),
                field("database", Some("orders"), false),
            ],
            bindings: vec![
                BindingItem {
                    env: "PGHOST".into(),
                    field: "host".into(),
                },
                BindingItem {
                    env: "PGPASSWORD".into(),
                    field: "password".into(),
                },
            ],
            notes: "primary".into(),
            url: String::new(),
            tags: vec!["prod".into(), "db".into()],
            expires: "2030-01-31".into(),
            folder: "Work".into(),
        }
    }

    #[test]
    fn an_untouched_form_changes_nothing() {
        let update = edit_update(&loaded(), &loaded()).unwrap();
        assert!(is_empty(&update));
    }

    #[test]
    fn editing_one_field_names_only_that_field() {
        let mut after = loaded();
        after.fields[1].value = Some("6432".into());
        let update = edit_update(&loaded(), &after).unwrap();
        let names: Vec<&str> = update.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["port"]);
        assert_eq!(update.fields[0].1.expose_bytes(), b"6432");
        let mut rest = update;
        rest.fields.clear();
        // Nothing else: no tags, expiry, folder, notes, url, bindings or sensitivity.
        assert!(is_empty(&rest));
    }

    #[test]
    fn a_sensitive_field_left_masked_is_kept_and_a_typed_one_replaced() {
        let mut after = loaded();
        assert!(is_empty(&edit_update(&loaded(), &after).unwrap()));
        after.fields[3].value = Some("n3w-pa55".into());
        let update = edit_update(&loaded(), &after).unwrap();
        assert_eq!(update.fields.len(), 1);
        assert_eq!(update.fields[0].0, "password");
    }

    #[test]
    fn metadata_changes_are_named_one_by_one() {
        let mut after = loaded();
        after.tags.push("critical".into());
        after.expires = String::new();
        let update = edit_update(&loaded(), &after).unwrap();
        assert_eq!(
            update.tags.as_deref(),
            Some(&["prod".to_owned(), "db".into(), "critical".into()][..])
        );
        assert_eq!(update.expires_at, Some(None));
        assert!(update.folder.is_none() && update.notes.is_none() && update.url.is_none());
        assert!(update.fields.is_empty() && update.unbind.is_empty());
    }

    #[test]
    fn removing_a_field_does_not_also_unbind_its_bindings() {
        let mut after = loaded();
        after.fields.remove(0);
        after.bindings.remove(0);
        let update = edit_update(&loaded(), &after).unwrap();
        assert_eq!(update.remove_fields, ["host"]);
        assert!(
            update.unbind.is_empty(),
            "apply_fields drops them with the field"
        );
    }

    #[test]
    fn bindings_added_and_removed() {
        let mut after = loaded();
        after.bindings.remove(1);
        after.bindings.push(BindingItem {
            env: "PGUSER".into(),
            field: "username".into(),
        });
        let update = edit_update(&loaded(), &after).unwrap();
        assert_eq!(update.unbind, ["PGPASSWORD"]);
        assert_eq!(update.bindings, [("PGUSER".into(), "username".into())]);
    }

    #[test]
    fn a_new_field_needs_a_value_and_keeps_its_sensitivity() {
        let mut after = loaded();
        after.fields.push(field("sslmode", None, false));
        assert_eq!(refused(edit_update(&loaded(), &after)), "input");
        after.fields[5].value = Some("require".into());
        let update = edit_update(&loaded(), &after).unwrap();
        assert_eq!(update.sensitivity, [("sslmode".into(), false)]);
    }

    #[test]
    fn create_from_the_database_template_skips_empty_fields() {
        let req = CreateRequest {
            name: "db/prod".into(),
            template: Some("database".into()),
            form: Form {
                fields: vec![
                    field("host", Some("db.internal"), false),
                    field("port", Some(""), false),
                    field("password", Some("pw"), true),
                ],
                tags: vec!["prod".into()],
                expires: "2030-01-31".into(),
                ..Form::default()
            },
        };
        let update = create_update(&req).unwrap();
        let names: Vec<&str> = update.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["host", "password"]);
        assert_eq!(update.template, Some(Template::Database));
        assert!(
            update.sensitivity.is_empty(),
            "the template's own sensitivity"
        );
        assert_eq!(
            update.expires_at,
            Some(Some("2030-01-31T00:00:00Z".parse().unwrap()))
        );
        assert!(update.folder.is_none());
    }

    #[test]
    fn bad_input_is_refused_before_the_vault() {
        let mut after = loaded();
        after.tags.push("has space".into());
        assert_eq!(refused(edit_update(&loaded(), &after)), "input");
        let mut after = loaded();
        after.expires = "someday".into();
        assert_eq!(refused(edit_update(&loaded(), &after)), "input");
        let mut after = loaded();
        after.fields.push(field("host", Some("x"), false));
        assert_eq!(refused(edit_update(&loaded(), &after)), "input");
    }
}
