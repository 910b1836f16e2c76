//! [`Desktop`]: the state behind the window and the operations the IPC commands call, one core
//! call each, all with audit source `desktop`.

use crate::audit_view::{self, AuditPage, AuditQuery};
use crate::clipboard::{Clipboard, SystemBoard};
use crate::edit::{self, CreateRequest, UpdateRequest};
use crate::error::{IpcError, Result};
use crate::settings::Settings;
use crate::views::{self, Detail, FolderItem, ListItem, TemplateItem};
use secretctl_core::audit::ExportFormat;
use secretctl_core::audit::{self, Source};
use secretctl_core::crypto::Passphrase;
use secretctl_core::generate::{self, CharsetOptions, Recipe};
use secretctl_core::secret::{FolderPath, KeyName};
use secretctl_core::security;
use secretctl_core::vault::{self, ListFilter, Session, Vault, VaultDir};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

const SOURCE: Source = Source::Desktop;

/// How the app was started.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault directory.
    pub vault_dir: PathBuf,
    /// Where `settings.json` lives.
    pub config_dir: PathBuf,
    /// Overrides the auto-lock setting (tests use seconds).
    pub auto_lock: Option<Duration>,
    /// How long a copied value stays on the clipboard.
    pub clipboard_clear: Duration,
}

/// Why the vault locked, as the front end is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    /// The user locked it.
    User,
    /// Nobody used it for the auto-lock time.
    Idle,
    /// The vault on disk changed under the session (password changed or vault restored
    /// elsewhere).
    Changed,
}

struct State {
    session: Option<Session>,
    /// The last password the generator made, for `copy_generated`.
    generated: Option<Zeroizing<String>>,
    last_activity: Instant,
    settings: Settings,
    lock_reason: Option<LockReason>,
}

/// The app's state: at most one unlocked session, the idle clock, settings and clipboard.
pub struct Desktop {
    dir: VaultDir,
    options: Options,
    state: Mutex<State>,
    clipboard: Arc<Clipboard<SystemBoard>>,
}

/// What the front end needs at start and after a lock.
#[derive(Debug, Clone, Serialize)]
pub struct AppState {
    /// The vault directory.
    pub vault_dir: String,
    /// Whether a vault exists there.
    pub vault_exists: bool,
    /// Whether it is unlocked.
    pub unlocked: bool,
    /// Why it last locked.
    pub lock_reason: Option<LockReason>,
    /// The settings.
    pub settings: Settings,
    /// The auto-lock time in force, in seconds.
    pub auto_lock_secs: u64,
    /// How long a copy stays on the clipboard, in seconds.
    pub clipboard_clear_secs: u64,
    /// The templates.
    pub templates: Vec<TemplateItem>,
    /// Every audit action name, for the viewer's filter.
    pub audit_actions: Vec<&'static str>,
    /// The app's version.
    pub version: &'static str,
}

/// The list filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Words that must all appear in the name, a tag, the folder or the URL.
    pub query: String,
    /// Only this tag.
    pub tag: Option<String>,
    /// Only this folder and those below it.
    pub folder: Option<String>,
}

/// A revealed field value.
#[derive(Serialize)]
pub struct Revealed {
    /// The value, as text.
    pub value: String,
}

/// What a copy did.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReceipt {
    /// Seconds until the clipboard is cleared (if it still holds the value).
    pub clear_after_secs: u64,
}

/// The generator's options (SPEC §10), as the generator page sets them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct GenerateRequest {
    /// Words (a passphrase from the EFF large list) rather than characters.
    pub words: bool,
    /// The character choices (length, classes, exclusions), at the top level of the JSON.
    #[serde(flatten)]
    pub chars: CharsetOptions,
    /// Number of words.
    pub word_count: usize,
    /// Between words.
    pub separator: String,
}

impl Default for GenerateRequest {
    fn default() -> GenerateRequest {
        GenerateRequest {
            words: false,
            chars: CharsetOptions::default(),
            word_count: 6,
            separator: generate::DEFAULT_SEPARATOR.to_owned(),
        }
    }
}

/// A generated password. It is new, not read from the vault: it crosses IPC so that the user
/// can see it and put it in a field.
#[derive(Serialize)]
pub struct Generated {
    /// The password.
    pub password: String,
    /// Its entropy, in bits.
    pub entropy_bits: f64,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReceipt {
    /// The file.
    pub path: String,
    /// Records written.
    pub count: usize,
}

/// The verification result, for the viewer.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyView {
    /// Whether the chain verified.
    pub ok: bool,
    /// Records checked.
    pub records: u64,
    /// First bad seq.
    pub first_bad_seq: Option<i64>,
    /// What is wrong.
    pub problem: Option<String>,
    /// Head seq.
    pub head_seq: i64,
    /// Head hash, hex.
    pub head_hash: String,
}

fn passphrase(text: String) -> Passphrase {
    // into_bytes moves the buffer: no second copy of the password is left behind.
    Passphrase::new(text.into_bytes())
}

fn key(name: &str) -> Result<KeyName> {
    Ok(KeyName::parse(name)?)
}

impl Desktop {
    /// The app state for `options`; the vault stays locked.
    pub fn new(options: Options) -> Desktop {
        let settings = Settings::load(&options.config_dir);
        Desktop {
            dir: VaultDir::new(options.vault_dir.clone()),
            clipboard: Clipboard::new(SystemBoard::default(), options.clipboard_clear),
            state: Mutex::new(State {
                session: None,
                generated: None,
                last_activity: Instant::now(),
                settings,
                lock_reason: None,
            }),
            options,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves nothing half-written that matters: the session
        // is either there or not.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn auto_lock(&self, settings: &Settings) -> Duration {
        self.options.auto_lock.unwrap_or(Duration::from_secs(
            u64::from(settings.auto_lock_minutes) * 60,
        ))
    }

    /// Runs `op` on the unlocked session and counts as use. A session whose vault changed on
    /// disk (a password change or restore elsewhere) is locked instead.
    fn with_session<T>(
        &self,
        op: impl FnOnce(&mut Session) -> Result<T, vault::Error>,
    ) -> Result<T> {
        let mut state = self.state();
        let Some(session) = state.session.as_mut() else {
            return Err(IpcError::locked());
        };
        if !session.still_current() {
            state.session = None;
            state.lock_reason = Some(LockReason::Changed);
            return Err(IpcError::new(
                "locked",
                "the vault changed on disk (its password was changed or it was restored); unlock it again",
            ));
        }
        state.last_activity = Instant::now();
        let session = state.session.as_mut().expect("checked above");
        op(session).map_err(IpcError::from)
    }

    /// The state the front end starts from.
    pub fn app_state(&self) -> AppState {
        let state = self.state();
        AppState {
            vault_dir: self.dir.root().display().to_string(),
            vault_exists: self.dir.db().symlink_metadata().is_ok(),
            unlocked: state.session.is_some(),
            lock_reason: state.lock_reason,
            settings: state.settings.clone(),
            auto_lock_secs: self.auto_lock(&state.settings).as_secs(),
            clipboard_clear_secs: self.clipboard.clear_after().as_secs(),
            templates: views::templates(),
            audit_actions: audit::Action::NAMES.to_vec(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// Creates a vault with the CLI's password rules and unlocks it.
    pub fn create_vault(&self, password: String, confirm: String) -> Result<()> {
        let (password, confirm) = (passphrase(password), passphrase(confirm));
        if !password.matches(&confirm) {
            return Err(IpcError::input("the two passwords differ"));
        }
        vault::check_new_password(&password)?;
        Vault::init(&self.dir, &password)?;
        self.open_session(&password)
    }

    /// Unlocks the vault (a wrong password is recorded, as in the CLI).
    pub fn unlock(&self, password: String) -> Result<()> {
        self.open_session(&passphrase(password))
    }

    fn open_session(&self, password: &Passphrase) -> Result<()> {
        let session = Vault::open(&self.dir)?.unlock(password, SOURCE)?;
        let mut state = self.state();
        state.session = Some(session);
        state.lock_reason = None;
        state.last_activity = Instant::now();
        Ok(())
    }

    /// Locks: drops the session (wiping its keys) and clears a copied value still on the
    /// clipboard.
    pub fn lock(&self, reason: LockReason) {
        let mut state = self.state();
        if state.session.take().is_some() {
            state.lock_reason = Some(reason);
        }
        state.generated = None;
        drop(state);
        self.clipboard.clear_now();
    }

    /// Counts as use (the front end reports keyboard and mouse activity).
    pub fn touch(&self) {
        self.state().last_activity = Instant::now();
    }

    /// Locks if the vault has been idle for the auto-lock time; returns whether it did.
    pub fn lock_if_idle(&self) -> bool {
        let state = self.state();
        let due = state.session.is_some()
            && state.last_activity.elapsed() >= self.auto_lock(&state.settings);
        drop(state);
        if due {
            self.lock(LockReason::Idle);
        }
        due
    }

    /// The secrets matching `q`: names and metadata only.
    pub fn list(&self, q: ListQuery) -> Result<Vec<ListItem>> {
        let filter = ListFilter {
            tag: q.tag.filter(|t| !t.is_empty()),
            folder: q
                .folder
                .filter(|f| !f.is_empty())
                .map(|f| FolderPath::parse(&f))
                .transpose()?,
            ..ListFilter::default()
        };
        let summaries = self.with_session(|s| s.list(&filter, SOURCE))?;
        let now = jiff::Timestamp::now();
        Ok(summaries
            .iter()
            .map(|s| ListItem::of(s, now))
            .filter(|item| item.matches(&q.query))
            .collect())
    }

    /// A secret's detail view: metadata, bindings, non-sensitive values, masks.
    pub fn view(&self, name: &str) -> Result<Detail> {
        let name = key(name)?;
        let (summary, fields, bindings) = self.with_session(|s| s.get_masked(&name, SOURCE))?;
        Ok(Detail::of(&summary, &fields, &bindings))
    }

    fn read_field(&self, name: &str, field: &str) -> Result<Zeroizing<String>> {
        let name = key(name)?;
        let secret = self.with_session(|s| s.get(&name, SOURCE))?;
        let field = secret.field(field).ok_or_else(|| {
            IpcError::new(
                "not_found",
                format!("secret '{name}' has no field '{}'", field.escape_debug()),
            )
        })?;
        let text = std::str::from_utf8(field.value.expose_bytes()).map_err(|_| {
            IpcError::failed("the value is binary; read it with `secretctl get --field`")
        })?;
        Ok(Zeroizing::new(text.to_owned()))
    }

    /// A field's value, for the human who asked to see it: audited as a `get`.
    pub fn reveal(&self, name: &str, field: &str) -> Result<Revealed> {
        let value = self.read_field(name, field)?;
        Ok(Revealed {
            value: value.as_str().to_owned(),
        })
    }

    /// Copies a field's value to the clipboard (audited as a `get`); the value does not cross
    /// IPC. It is cleared after the delay if the clipboard still holds it.
    pub fn copy(&self, name: &str, field: &str) -> Result<CopyReceipt> {
        let value = self.read_field(name, field)?;
        self.clipboard.copy(value).map_err(IpcError::failed)?;
        Ok(CopyReceipt {
            clear_after_secs: self.clipboard.clear_after().as_secs(),
        })
    }

    /// Creates a secret; refuses a name that exists (editing is [`Desktop::update`]). The
    /// check is a listing rather than a read, so that the audit log does not show a failed read
    /// for every new name.
    pub fn create(&self, req: CreateRequest) -> Result<()> {
        let name = key(&req.name)?;
        let update = edit::create_update(&req)?;
        let exists = self
            .with_session(|s| s.list(&ListFilter::default(), SOURCE))?
            .iter()
            .any(|item| item.name == name);
        if exists {
            return Err(IpcError::new(
                "exists",
                format!("a secret named '{name}' exists already; edit it instead"),
            ));
        }
        self.with_session(|s| s.set(&name, update, SOURCE).map(drop))
    }

    /// Saves an edit: only what changed between the loaded and the saved form. An untouched
    /// form writes nothing.
    pub fn update(&self, req: UpdateRequest) -> Result<()> {
        let name = key(&req.name)?;
        let update = edit::edit_update(&req.before, &req.after)?;
        if edit::is_empty(&update) {
            return Ok(());
        }
        self.with_session(|s| s.set(&name, update, SOURCE).map(drop))
    }

    /// Deletes a secret.
    pub fn delete(&self, name: &str) -> Result<()> {
        let name = key(name)?;
        self.with_session(|s| s.delete(&name, SOURCE))
    }

    /// Every folder, in tree order.
    pub fn folders(&self) -> Result<Vec<FolderItem>> {
        let folders = self.with_session(|s| s.folder_list(SOURCE))?;
        Ok(folders
            .into_iter()
            .map(|f| FolderItem {
                depth: f.path.names().len() - 1,
                path: f.path.to_string(),
                secrets: f.secrets,
            })
            .collect())
    }

    /// Creates a folder (and any missing folder above it).
    pub fn folder_create(&self, path: &str) -> Result<()> {
        let path = FolderPath::parse(path.trim())?;
        self.with_session(|s| s.folder_create(&path, SOURCE))
    }

    fn audit_records(
        &self,
        q: &AuditQuery,
        export: bool,
    ) -> Result<Vec<(audit::Record, Option<String>)>> {
        let key = q
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(key)
            .transpose()?;
        let since = q
            .from_ms
            .map(|ms| {
                jiff::Timestamp::from_millisecond(ms).map_err(|_| IpcError::input("bad date"))
            })
            .transpose()?;
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let records = self.with_session(|s| {
            let filter = audit::Filter {
                limit: None,
                since,
                action: nonempty(&q.action),
                source: nonempty(&q.source),
                key_hash: key.as_ref().map(|k| s.audit_name_hash(k)),
            };
            s.audit_list(&filter, SOURCE, export)
        })?;
        Ok(audit_view::filtered(records, q))
    }

    /// One page of the filtered audit log, newest first.
    pub fn audit_query(&self, q: AuditQuery) -> Result<AuditPage> {
        let records = self.audit_records(&q, false)?;
        Ok(audit_view::page(&records, &q))
    }

    /// Verifies the audit chain.
    pub fn audit_verify(&self) -> Result<VerifyView> {
        let v = self.with_session(|s| s.audit_verify(SOURCE))?;
        Ok(VerifyView {
            ok: v.is_ok(),
            records: v.records,
            first_bad_seq: v.first_bad_seq,
            problem: v.problem,
            head_seq: v.head_seq,
            head_hash: v.head_hash,
        })
    }

    /// Writes every record matching the filters (not just one page) to a new file.
    pub fn audit_export(
        &self,
        q: AuditQuery,
        format: ExportFormat,
        path: &str,
    ) -> Result<ExportReceipt> {
        let path = PathBuf::from(path.trim());
        if !path.is_absolute() {
            return Err(IpcError::input("give the export file as an absolute path"));
        }
        let records = self.audit_records(&q, true)?;
        let bytes = secretctl_core::audit::export(&records, format);
        audit_view::write_new(&path, &bytes)?;
        Ok(ExportReceipt {
            path: path.display().to_string(),
            count: records.len(),
        })
    }

    /// Generates a password with the core generator (uniform, at least one character of each
    /// enabled class, or EFF words) and keeps it for [`Desktop::copy_generated`].
    pub fn generate(&self, req: GenerateRequest) -> Result<Generated> {
        let recipe = if req.words {
            Recipe::Words(
                generate::Passphrase::new(req.word_count, &req.separator)
                    .map_err(|e| IpcError::input(e.to_string()))?,
            )
        } else {
            Recipe::Chars(
                generate::Charset::new(&req.chars).map_err(|e| IpcError::input(e.to_string()))?,
            )
        };
        let password = recipe.generate(&mut generate::OsRandom::new());
        let out = Generated {
            password: password.as_str().to_owned(),
            entropy_bits: (recipe.entropy_bits() * 10.0).round() / 10.0,
        };
        self.state().generated = Some(password);
        Ok(out)
    }

    /// Copies the last generated password, cleared like any copied value.
    pub fn copy_generated(&self) -> Result<CopyReceipt> {
        let value = self
            .state()
            .generated
            .clone()
            .ok_or_else(|| IpcError::input("generate a password first"))?;
        self.clipboard.copy(value).map_err(IpcError::failed)?;
        Ok(CopyReceipt {
            clear_after_secs: self.clipboard.clear_after().as_secs(),
        })
    }

    /// The security report (SPEC §10): score, weak, reused, expired and expiring secrets. It
    /// reads every value inside the core and returns none of them; recorded as one
    /// `security_report`.
    pub fn security_report(&self) -> Result<security::Report> {
        self.with_session(|s| {
            security::report(
                s,
                SOURCE,
                security::Options::expiring_within(security::DEFAULT_EXPIRING_WITHIN),
            )
        })
    }

    /// Changes the master password after checking the current one (a fresh unlock, so a wrong
    /// current password counts as a failed unlock). The new session replaces the old one.
    pub fn change_password(&self, current: String, new: String, confirm: String) -> Result<()> {
        let (current, new, confirm) = (passphrase(current), passphrase(new), passphrase(confirm));
        if self.state().session.is_none() {
            return Err(IpcError::locked());
        }
        if !new.matches(&confirm) {
            return Err(IpcError::input("the two new passwords differ"));
        }
        vault::check_new_password(&new)?;
        let mut session = Vault::open(&self.dir)?.unlock(&current, SOURCE)?;
        session.change_password(&new, SOURCE)?;
        let mut state = self.state();
        state.session = Some(session);
        state.last_activity = Instant::now();
        Ok(())
    }

    /// Saves the settings and returns the state with them in force.
    pub fn save_settings(&self, settings: Settings) -> Result<AppState> {
        settings.save(&self.options.config_dir)?;
        self.state().settings = settings;
        Ok(self.app_state())
    }

    /// Clears a copied value still on the clipboard (at exit).
    pub fn clear_clipboard(&self) {
        self.clipboard.clear_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{Form, FormField};

    const PW: &str = "correct horse battery";
    const SECRET: &str = "pg-Secr3t-Value-4242";

    fn desktop(dir: &std::path::Path) -> Desktop {
        Desktop::new(Options {
            vault_dir: dir.join("vault"),
            config_dir: dir.join("config"),
            auto_lock: None,
            clipboard_clear: Duration::from_secs(30),
        })
    }

    fn field(name: &str, value: Option<&str>, sensitive: bool) -> FormField {
        FormField {
            name: name.into(),
            value: value.map(Into::into),
            sensitive,
        }
    }

    fn with_db_secret() -> (tempfile::TempDir, Desktop) {
        let tmp = tempfile::tempdir().unwrap();
        let d = desktop(tmp.path());
        d.create_vault(PW.into(), PW.into()).unwrap();
        d.create(CreateRequest {
            name: "db/prod".into(),
            template: Some("database".into()),
            form: Form {
                fields: vec![
                    field("host", Some("db.internal"), false),
                    field("port", Some("5432"), false),
                    field("password", Some(SECRET), true),
                ],
                tags: vec!["prod".into()],
                expires: "2030-01-31".into(),
                notes: "primary".into(),
                ..Form::default()
            },
        })
        .unwrap();
        (tmp, d)
    }

    #[test]
    fn list_and_detail_views_never_carry_a_sensitive_value() {
        let (_tmp, d) = with_db_secret();
        let list = serde_json::to_string(&d.list(ListQuery::default()).unwrap()).unwrap();
        assert!(list.contains("db/prod") && !list.contains(SECRET), "{list}");
        let detail = d.view("db/prod").unwrap();
        let json = serde_json::to_string(&detail).unwrap();
        assert!(
            json.contains("db.internal"),
            "non-sensitive values are shown: {json}"
        );
        assert!(!json.contains(SECRET), "{json}");
        let password = detail.fields.iter().find(|f| f.name == "password").unwrap();
        assert!(password.value.is_none() && password.masked.ends_with("4242"));
    }

    #[test]
    fn reveal_is_a_get_recorded_with_source_desktop() {
        let (_tmp, d) = with_db_secret();
        assert_eq!(d.reveal("db/prod", "password").unwrap().value, SECRET);
        let page = d
            .audit_query(AuditQuery {
                action: Some("get".into()),
                key: Some("db/prod".into()),
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.rows[0].source, "desktop");
        assert_eq!(page.rows[0].key.as_deref(), Some("db/prod"));
        assert!(d.audit_verify().unwrap().ok);
    }

    #[test]
    fn an_edit_of_one_field_leaves_the_rest_alone() {
        let (_tmp, d) = with_db_secret();
        let detail = d.view("db/prod").unwrap();
        let before = Form {
            fields: detail
                .fields
                .iter()
                .map(|f| field(&f.name, f.value.as_deref(), f.sensitive))
                .collect(),
            bindings: detail.bindings.clone(),
            notes: detail.notes.clone().unwrap_or_default(),
            url: String::new(),
            tags: detail.tags.clone(),
            expires: detail.expires_at.clone().unwrap()[..10].to_owned(),
            folder: String::new(),
        };
        let mut after = before.clone();
        after.fields[1].value = Some("6432".into());
        d.update(UpdateRequest {
            name: "db/prod".into(),
            before,
            after,
        })
        .unwrap();
        let again = d.view("db/prod").unwrap();
        let port = again.fields.iter().find(|f| f.name == "port").unwrap();
        assert_eq!(port.value.as_deref(), Some("6432"));
        assert_eq!(again.tags, detail.tags);
        assert_eq!(again.expires_at, detail.expires_at);
        assert_eq!(again.notes, detail.notes);
        assert_eq!(again.bindings, detail.bindings);
        assert_eq!(d.reveal("db/prod", "password").unwrap().value, SECRET);
    }

    #[test]
    fn creating_an_existing_name_is_refused() {
        let (_tmp, d) = with_db_secret();
        let err = d
            .create(CreateRequest {
                name: "db/prod".into(),
                template: None,
                form: Form {
                    fields: vec![field("value", Some("x"), true)],
                    ..Form::default()
                },
            })
            .unwrap_err();
        assert_eq!(err.code, "exists");
        assert_eq!(d.reveal("db/prod", "password").unwrap().value, SECRET);
    }

    #[test]
    fn lock_wrong_password_and_idle_lock() {
        let (_tmp, d) = with_db_secret();
        d.lock(LockReason::User);
        assert_eq!(d.list(ListQuery::default()).unwrap_err().code, "locked");
        assert_eq!(
            d.unlock("not the password".into()).unwrap_err().code,
            "wrong_password"
        );
        d.unlock(PW.into()).unwrap();
        assert!(d.app_state().unlocked);
        let quick = Desktop::new(Options {
            auto_lock: Some(Duration::from_millis(1)),
            ..d.options.clone()
        });
        quick.unlock(PW.into()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(quick.lock_if_idle());
        let state = quick.app_state();
        assert!(!state.unlocked);
        assert_eq!(state.lock_reason, Some(LockReason::Idle));
    }

    #[test]
    fn a_password_change_elsewhere_locks_the_app() {
        let (tmp, d) = with_db_secret();
        let other = desktop(tmp.path());
        other
            .change_password(
                PW.into(),
                "a new master pw".into(),
                "a new master pw".into(),
            )
            .unwrap_err();
        other.unlock(PW.into()).unwrap();
        other
            .change_password(
                PW.into(),
                "a new master pw".into(),
                "a new master pw".into(),
            )
            .unwrap();
        let err = d.list(ListQuery::default()).unwrap_err();
        assert_eq!(err.code, "locked");
        assert_eq!(d.app_state().lock_reason, Some(LockReason::Changed));
        d.unlock("a new master pw".into()).unwrap();
    }

    #[test]
    fn new_passwords_follow_the_cli_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let d = desktop(tmp.path());
        assert_eq!(
            d.create_vault("short".into(), "short".into())
                .unwrap_err()
                .code,
            "input"
        );
        assert_eq!(
            d.create_vault(PW.into(), "different".into())
                .unwrap_err()
                .code,
            "input"
        );
        assert!(!d.app_state().vault_exists);
    }

    #[test]
    fn the_generator_follows_its_options() {
        let tmp = tempfile::tempdir().unwrap();
        let d = desktop(tmp.path());
        // As the generator page sends it: the character choices at the top level.
        let request: GenerateRequest =
            serde_json::from_value(serde_json::json!({ "length": 20, "symbols": false })).unwrap();
        let g = d.generate(request).unwrap();
        assert_eq!(g.password.len(), 20);
        assert!(g.password.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(g.entropy_bits > 100.0);
        let w = d
            .generate(GenerateRequest {
                words: true,
                word_count: 5,
                ..GenerateRequest::default()
            })
            .unwrap();
        assert_eq!(w.password.split('-').count(), 5);
        let none = GenerateRequest {
            chars: CharsetOptions {
                lowercase: false,
                uppercase: false,
                digits: false,
                symbols: false,
                ..CharsetOptions::default()
            },
            ..GenerateRequest::default()
        };
        assert_eq!(d.generate(none).err().unwrap().code, "input");
    }

    #[test]
    fn the_security_report_names_weak_secrets_without_their_values() {
        let (_tmp, d) = with_db_secret();
        for name in ["weak/one", "weak/two"] {
            d.create(CreateRequest {
                name: name.into(),
                template: None,
                form: Form {
                    fields: vec![field("value", Some("password123"), true)],
                    ..Form::default()
                },
            })
            .unwrap();
        }
        let report = d.security_report().unwrap();
        let json = serde_json::to_string(&report).unwrap();
        assert!(
            !json.contains("password123") && !json.contains(SECRET),
            "{json}"
        );
        assert!(report.weak.iter().any(|w| w.key == "weak/one"));
        assert_eq!(report.reused.len(), 1);
        assert!(report.score < 100);
    }
}
