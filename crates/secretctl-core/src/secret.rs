//! What a secret is: its validated name, its value, its metadata, and how it is shown masked
//! (SPEC §3.3, §7.1). No storage here: the vault module persists these types.

use std::fmt;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretSlice};

/// Largest value accepted (SPEC §3.3).
pub const MAX_VALUE_LEN: usize = 1024 * 1024;
/// Largest notes accepted, in bytes.
pub const MAX_NOTES_LEN: usize = 10 * 1024;
/// Most tags on one secret.
pub const MAX_TAGS: usize = 10;
/// Longest key name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Input that breaks a rule of SPEC §3.3. The text never contains a value; for names it
/// shows an escaped, shortened form so that a hostile name cannot forge terminal output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The key name breaks a naming rule.
    #[error("invalid key name {shown}: {rule}")]
    KeyName {
        /// The name, escaped and shortened for display.
        shown: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The value is larger than [`MAX_VALUE_LEN`].
    #[error("value is {len} bytes; the limit is 1 MiB (1048576 bytes)")]
    ValueTooLarge {
        /// The value's length.
        len: usize,
    },
    /// The value is empty.
    #[error("value is empty; nothing was stored")]
    EmptyValue,
    /// A tag breaks a rule.
    #[error("invalid tag {shown}: {rule}")]
    Tag {
        /// The tag, escaped and shortened.
        shown: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// Notes are too long or not text.
    #[error("notes are {len} bytes; the limit is 10 KiB")]
    NotesTooLong {
        /// Their length.
        len: usize,
    },
    /// A new master password breaks a rule.
    #[error("master password refused: {rule}")]
    Password {
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A field name breaks the rule.
    #[error("invalid field name {shown}: {rule}")]
    Field {
        /// The name, escaped.
        shown: String,
        /// The rule.
        rule: &'static str,
    },
    /// A binding's environment name breaks the rule.
    #[error("invalid environment name {shown}: {rule}")]
    Binding {
        /// The name, escaped.
        shown: String,
        /// The rule.
        rule: &'static str,
    },
    /// A key pattern is not valid.
    #[error("invalid pattern {shown}: {rule}")]
    Pattern {
        /// The pattern, escaped.
        shown: String,
        /// The rule.
        rule: &'static str,
    },
    /// A structural rule of fields and bindings.
    #[error("{0}")]
    Fields(String),
    /// A folder name or path breaks a rule.
    #[error("invalid folder {shown}: {rule}")]
    Folder {
        /// The name or path, escaped and shortened.
        shown: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The URL is not http(s) or too long.
    #[error("invalid url: {rule}")]
    Url {
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// Escapes and shortens untrusted text for one-line display (no control characters survive).
pub fn shown(input: &str) -> String {
    let mut out = String::from("'");
    for c in input.chars().take(48) {
        out.extend(c.escape_debug());
    }
    if input.chars().count() > 48 {
        out.push('…');
    }
    out.push('\'');
    out
}

/// A validated key name: 1–256 bytes of `[A-Za-z0-9._/-]`, not starting with `.`, `-` or `/`,
/// no `..`, no trailing `/`, no empty segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// Validates a name.
    pub fn parse(input: &str) -> Result<KeyName, InputError> {
        let fail = |rule| InputError::KeyName {
            shown: shown(input),
            rule,
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        if input.len() > MAX_NAME_LEN {
            return Err(fail("it is longer than 256 bytes"));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        {
            return Err(fail("use only letters, digits, '.', '_', '/' and '-'"));
        }
        if input.starts_with(['.', '-', '/']) {
            return Err(fail("it must not start with '.', '-' or '/'"));
        }
        if input.contains("..") {
            return Err(fail("it must not contain '..'"));
        }
        if input.ends_with('/') || input.contains("//") {
            return Err(fail("path segments must not be empty"));
        }
        Ok(KeyName(input.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret value: bytes, binary-safe, zeroized on drop, never printed by accident.
pub struct SecretValue(SecretSlice<u8>);

impl SecretValue {
    /// Wraps bytes after checking the size limit. An empty value is valid (an imported
    /// `KEY=`); the CLI's `set` refuses one as a likely accident.
    pub fn new(bytes: Vec<u8>) -> Result<SecretValue, InputError> {
        let value = SecretValue(SecretSlice::from(bytes));
        match value.len() {
            n if n > MAX_VALUE_LEN => Err(InputError::ValueTooLarge { len: n }),
            _ => Ok(value),
        }
    }

    /// Wraps bytes read back from the vault (already validated when stored).
    pub(crate) fn from_stored(bytes: Vec<u8>) -> SecretValue {
        SecretValue(SecretSlice::from(bytes))
    }

    /// The plaintext bytes. Callers: crypto, runner, redact, and the code printing a value the
    /// human asked for (STYLE rule 4).
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The masked form of SPEC §7.1.
    pub fn masked(&self) -> Masked {
        Masked::of(self.expose_bytes())
    }
}

/// A value shown without revealing it (SPEC §7.1): under 16 characters nothing is shown; longer
/// values show at most their last 4 characters, never more than a quarter of them; the length is
/// a bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Masked {
    /// The masked text, e.g. `****************abcd` or `********`.
    pub masked: String,
    /// `<16`, `16-31`, `32-63` or `64+`.
    pub length: String,
}

impl Masked {
    /// Masks a value.
    pub fn of(value: &[u8]) -> Masked {
        let text = String::from_utf8_lossy(value);
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let length = match n {
            0..=15 => "<16",
            16..=31 => "16-31",
            32..=63 => "32-63",
            _ => "64+",
        };
        let masked = if n < 16 {
            "********".to_owned()
        } else {
            let shown = 4.min(n / 4);
            let tail: String = chars[n - shown..]
                .iter()
                .map(|c| if c.is_control() { '?' } else { *c })
                .collect();
            format!("{}{}", "*".repeat(12), tail)
        };
        Masked {
            masked,
            length: length.to_owned(),
        }
    }
}

/// Metadata of a secret (everything but the value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretMeta {
    /// Free-form notes (encrypted at rest).
    pub notes: Option<String>,
    /// A related URL (encrypted at rest).
    pub url: Option<String>,
    /// Tags, in the order given (plaintext at rest so they can be filtered without the key).
    pub tags: Vec<String>,
    /// When the secret stops being usable.
    pub expires_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// When it was last changed.
    pub updated_at: Option<Timestamp>,
    /// The folder it is filed in, if any.
    pub folder: Option<FolderPath>,
}

/// Longest folder name, bytes.
pub const MAX_FOLDER_NAME_LEN: usize = 64;
/// Deepest folder nesting.
pub const MAX_FOLDER_DEPTH: usize = 16;

/// Where a folder sits: its name and its ancestors' names, outermost first, written `Work/AWS`
/// (SPEC §3.3). Folders organise secrets; they are not security boundaries. A name is 1–64
/// bytes of printable text without `/`, not `.` or `..`, without leading or trailing spaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FolderPath(Vec<String>);

impl FolderPath {
    /// Parses `Work/AWS`: names separated by `/`.
    pub fn parse(text: &str) -> Result<FolderPath, InputError> {
        FolderPath::from_names(text.split('/').map(str::to_owned).collect()).map_err(|e| match e {
            InputError::Folder { rule, .. } => InputError::Folder {
                shown: shown(text),
                rule,
            },
            e => e,
        })
    }

    /// A path from its names, outermost first.
    pub fn from_names(names: Vec<String>) -> Result<FolderPath, InputError> {
        if names.is_empty() || names.len() > MAX_FOLDER_DEPTH {
            return Err(InputError::Folder {
                shown: shown(&names.join("/")),
                rule: "a folder path has 1 to 16 names",
            });
        }
        for name in &names {
            check_folder_name(name)?;
        }
        Ok(FolderPath(names))
    }

    /// The names, outermost first.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The folder's own name.
    pub fn name(&self) -> &str {
        self.0.last().expect("a folder path has at least one name")
    }

    /// The enclosing folder, `None` at the top level.
    pub fn parent(&self) -> Option<FolderPath> {
        (self.0.len() > 1).then(|| FolderPath(self.0[..self.0.len() - 1].to_vec()))
    }

    /// This path with one more name.
    pub fn child(&self, name: &str) -> Result<FolderPath, InputError> {
        let mut names = self.0.clone();
        names.push(name.to_owned());
        FolderPath::from_names(names)
    }

    /// Whether this is `other` or inside it.
    pub fn is_within(&self, other: &FolderPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// Checks one folder name (see [`FolderPath`]).
pub fn check_folder_name(name: &str) -> Result<(), InputError> {
    let rule = if name.is_empty() || name.len() > MAX_FOLDER_NAME_LEN {
        Some("a folder name is 1 to 64 bytes")
    } else if name.contains('/') {
        Some("a folder name cannot contain '/'")
    } else if name == "." || name == ".." {
        Some("'.' and '..' are not folder names")
    } else if name.chars().any(char::is_control) {
        Some("a folder name cannot contain control characters")
    } else if name.trim() != name {
        Some("a folder name cannot start or end with spaces")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(InputError::Folder {
            shown: shown(name),
            rule,
        }),
        None => Ok(()),
    }
}

/// One secret as listed: its name and metadata, no value.
#[derive(Debug, Clone)]
pub struct SecretSummary {
    /// The name.
    pub name: KeyName,
    /// Its metadata.
    pub meta: SecretMeta,
    /// Number of fields (1 for a plain secret).
    pub field_count: usize,
}

/// A field as shown without revealing sensitive values (SPEC §7.1).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FieldView {
    /// Field name.
    pub name: String,
    /// Sensitivity.
    pub sensitive: bool,
    /// Kind.
    pub kind: Option<String>,
    /// Hint.
    pub hint: Option<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Input type.
    pub input_type: InputType,
    /// The value of a non-sensitive field that is valid UTF-8; `None` for sensitive ones.
    pub value: Option<String>,
    /// The masked value (always present).
    pub masked: Masked,
}

impl FieldView {
    /// The view of a field.
    pub fn of(field: &Field) -> FieldView {
        let value = (!field.sensitive)
            .then(|| {
                std::str::from_utf8(field.value.expose_bytes())
                    .ok()
                    .map(str::to_owned)
            })
            .flatten();
        FieldView {
            name: field.name.clone(),
            sensitive: field.sensitive,
            kind: field.kind.clone(),
            hint: field.hint.clone(),
            aliases: field.aliases.clone(),
            input_type: field.input_type,
            value,
            masked: field.value.masked(),
        }
    }
}

/// One secret with its fields. A plain secret is a single sensitive field named `value`.
pub struct Secret {
    /// The name.
    pub name: KeyName,
    /// Its fields, in order.
    pub fields: Vec<Field>,
    /// Environment bindings: ENV name → field name.
    pub bindings: Bindings,
    /// Its metadata.
    pub meta: SecretMeta,
}

impl Secret {
    /// A field by name or alias.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.aliases.iter().any(|a| a == name))
        })
    }

    /// Whether this is a plain secret: one field named `value`.
    pub fn is_plain(&self) -> bool {
        self.fields.len() == 1 && self.fields[0].name == VALUE_FIELD
    }
}

/// The field that holds a plain secret's value.
pub const VALUE_FIELD: &str = "value";
/// Most fields on one secret.
pub const MAX_FIELDS: usize = 64;

/// Whether a field's value is shown in full or masked to agents and in listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InputType {
    /// One line.
    #[default]
    Line,
    /// Several lines (keys, certificates).
    MultiLine,
}

/// One named field of a secret (SPEC §3.3).
pub struct Field {
    /// `^[a-z][a-z0-9_]*$`, at most 64 bytes.
    pub name: String,
    /// The value.
    pub value: SecretValue,
    /// Sensitive fields are never shown to agents and are masked in listings.
    pub sensitive: bool,
    /// Other names the field answers to.
    pub aliases: Vec<String>,
    /// What it holds: `password`, `api_key`, `token`, `hostname`, `port`, `url`, `username`, …
    pub kind: Option<String>,
    /// Line or multi-line input.
    pub input_type: InputType,
    /// A hint for whoever fills it in.
    pub hint: Option<String>,
}

impl Field {
    /// A sensitive one-line field with no extras.
    pub fn sensitive(name: &str, value: SecretValue) -> Field {
        Field {
            name: name.to_owned(),
            value,
            sensitive: true,
            aliases: Vec::new(),
            kind: None,
            input_type: InputType::Line,
            hint: None,
        }
    }
}

/// Environment bindings of a secret: ENV name → field name, ordered by ENV name.
pub type Bindings = std::collections::BTreeMap<String, String>;

/// Checks a field name: `^[a-z][a-z0-9_]*$`, at most 64 bytes.
pub fn check_field_name(name: &str) -> Result<(), InputError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(InputError::Field {
            shown: shown(name),
            rule: "field names are lower-case letters, digits and '_', starting with a letter",
        })
    }
}

/// Whether `name` has the shape of an environment variable name: `[A-Z_][A-Z0-9_]*`.
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks the syntax of an environment variable name for a binding: `[A-Z_][A-Z0-9_]*`.
/// Whether the name is safe to inject is decided at run time (SPEC §5.1).
pub fn check_binding_name(name: &str) -> Result<(), InputError> {
    if name.len() <= 128 && is_env_name(name) {
        Ok(())
    } else {
        Err(InputError::Binding {
            shown: shown(name),
            rule: "environment names are upper-case letters, digits and '_', not starting with a digit",
        })
    }
}

/// A field a template defines.
#[derive(Debug, Clone, Copy)]
pub struct TemplateField {
    /// Field name.
    pub name: &'static str,
    /// Sensitivity.
    pub sensitive: bool,
    /// Kind.
    pub kind: &'static str,
    /// Input type.
    pub input_type: InputType,
    /// Hint.
    pub hint: &'static str,
    /// The environment name bound to it by default, if any.
    pub binding: Option<&'static str>,
}

/// The built-in templates of SPEC §3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// username, password, url, totp.
    Login,
    /// host, port, username, password, database, with `PG*` bindings.
    Database,
    /// api_key, api_secret, endpoint.
    Api,
    /// host, username, private_key, passphrase.
    Ssh,
}

const fn tf(
    name: &'static str,
    sensitive: bool,
    kind: &'static str,
    hint: &'static str,
    binding: Option<&'static str>,
) -> TemplateField {
    TemplateField {
        name,
        sensitive,
        kind,
        input_type: InputType::Line,
        hint,
        binding,
    }
}

impl Template {
    /// Every template.
    pub const ALL: [Template; 4] = [
        Template::Login,
        Template::Database,
        Template::Api,
        Template::Ssh,
    ];

    /// Parses a template name.
    pub fn parse(name: &str) -> Option<Template> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The template's name.
    pub fn name(self) -> &'static str {
        match self {
            Template::Login => "login",
            Template::Database => "database",
            Template::Api => "api",
            Template::Ssh => "ssh",
        }
    }

    /// The fields it defines.
    pub fn fields(self) -> &'static [TemplateField] {
        const LOGIN: &[TemplateField] = &[
            tf("username", false, "username", "user name or e-mail", None),
            tf("password", true, "password", "password", None),
            tf("url", false, "url", "sign-in page", None),
            tf("totp", true, "totp", "TOTP secret (base32)", None),
        ];
        const DATABASE: &[TemplateField] = &[
            tf("host", false, "hostname", "database host", Some("PGHOST")),
            tf("port", false, "port", "port, e.g. 5432", Some("PGPORT")),
            tf(
                "username",
                false,
                "username",
                "database user",
                Some("PGUSER"),
            ),
            tf(
                "password",
                true,
                "password",
                "database password",
                Some("PGPASSWORD"),
            ),
            tf(
                "database",
                false,
                "database",
                "database name",
                Some("PGDATABASE"),
            ),
        ];
        const API: &[TemplateField] = &[
            tf("api_key", true, "api_key", "API key", None),
            tf("api_secret", true, "api_key", "API secret, if any", None),
            tf("endpoint", false, "url", "API base URL", None),
        ];
        const SSH: &[TemplateField] = &[
            tf("host", false, "hostname", "host name", None),
            tf("username", false, "username", "login name", None),
            TemplateField {
                name: "private_key",
                sensitive: true,
                kind: "ssh_key",
                input_type: InputType::MultiLine,
                hint: "private key (PEM or OpenSSH)",
                binding: None,
            },
            tf(
                "passphrase",
                true,
                "password",
                "key passphrase, if any",
                None,
            ),
        ];
        match self {
            Template::Login => LOGIN,
            Template::Database => DATABASE,
            Template::Api => API,
            Template::Ssh => SSH,
        }
    }

    /// A field of this template.
    pub fn field(self, name: &str) -> Option<&'static TemplateField> {
        self.fields().iter().find(|f| f.name == name)
    }
}

/// A change to a secret. `None` leaves a part as it is; `Some(None)` clears it. An update never
/// touches what it does not name (SPEC §3.3).
#[derive(Default)]
pub struct SecretUpdate {
    /// New value of the `value` field (a plain secret's value).
    pub value: Option<SecretValue>,
    /// New values of named fields (created if missing).
    pub fields: Vec<(String, SecretValue)>,
    /// Sensitivity changes: field name → sensitive.
    pub sensitivity: Vec<(String, bool)>,
    /// Bindings to add or replace: ENV name → field name.
    pub bindings: Vec<(String, String)>,
    /// Fields to remove (with the bindings to them).
    pub remove_fields: Vec<String>,
    /// Bindings to remove, by ENV name.
    pub unbind: Vec<String>,
    /// A template whose field definitions (sensitivity, kind, hint, default bindings) apply to
    /// the fields present after the update.
    pub template: Option<Template>,
    /// New notes, or `Some(None)` to clear them.
    pub notes: Option<Option<String>>,
    /// New URL, or `Some(None)` to clear it.
    pub url: Option<Option<String>>,
    /// New tags (replacing the old ones), or `Some(vec![])` to clear them.
    pub tags: Option<Vec<String>>,
    /// Tags to add to the current ones (after `tags`).
    pub add_tags: Vec<String>,
    /// New expiry, or `Some(None)` to clear it.
    pub expires_at: Option<Option<Timestamp>>,
    /// The folder to file it in (which must exist), or `Some(None)` to take it out of its folder.
    pub folder: Option<Option<FolderPath>>,
}

impl SecretUpdate {
    /// Checks notes, URL and tags against SPEC §3.3.
    pub fn validate(&self) -> Result<(), InputError> {
        for (name, _) in &self.fields {
            check_field_name(name)?;
        }
        for (name, _) in &self.sensitivity {
            check_field_name(name)?;
        }
        for (env, field) in &self.bindings {
            check_binding_name(env)?;
            check_field_name(field)?;
        }
        for name in &self.remove_fields {
            check_field_name(name)?;
        }
        for env in &self.unbind {
            check_binding_name(env)?;
        }
        if let Some(Some(notes)) = &self.notes
            && notes.len() > MAX_NOTES_LEN
        {
            return Err(InputError::NotesTooLong { len: notes.len() });
        }
        if let Some(Some(url)) = &self.url {
            validate_url(url)?;
        }
        if let Some(tags) = &self.tags {
            validate_tags(tags)?;
        }
        validate_tags(&self.add_tags)?;
        Ok(())
    }
}

impl SecretUpdate {
    /// Moves the field changes of this update into `fields` and `bindings` (a secret's current
    /// state, empty for a new one). Values are moved, not copied. Fields not named stay as they
    /// are; a template sets the definition of the fields present (sensitivity, kind, hint, input
    /// type) and binds its default names unless the name is bound already; explicit
    /// `sensitivity` and `bindings` come last and win.
    pub fn apply_fields(
        &mut self,
        fields: &mut Vec<Field>,
        bindings: &mut Bindings,
    ) -> Result<(), InputError> {
        let mut new_values: Vec<(String, SecretValue)> = std::mem::take(&mut self.fields);
        if let Some(v) = self.value.take() {
            // A bare value on a secret that has other fields would quietly add a `value` field
            // next to them; the caller must name the field instead.
            if !fields.is_empty() && !fields.iter().any(|f| f.name == VALUE_FIELD) {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                return Err(InputError::Fields(format!(
                    "the secret has fields {}; set one with --field NAME=-",
                    names.join(", ")
                )));
            }
            new_values.insert(0, (VALUE_FIELD.to_owned(), v));
        }
        for name in &self.remove_fields {
            let before = fields.len();
            fields.retain(|f| &f.name != name);
            if fields.len() == before {
                return Err(InputError::Fields(format!(
                    "there is no field {} to remove",
                    shown(name)
                )));
            }
            bindings.retain(|_, field| field != name);
        }
        for env in &self.unbind {
            if bindings.remove(env).is_none() {
                return Err(InputError::Fields(format!(
                    "there is no binding {}",
                    shown(env)
                )));
            }
        }
        for (name, value) in new_values {
            match fields.iter_mut().find(|f| f.name == name) {
                Some(f) => f.value = value,
                None => fields.push(Field::sensitive(&name, value)),
            }
        }
        if let Some(template) = self.template {
            for field in fields.iter_mut() {
                if let Some(def) = template.field(&field.name) {
                    field.sensitive = def.sensitive;
                    field.kind = Some(def.kind.to_owned());
                    field.hint = Some(def.hint.to_owned());
                    field.input_type = def.input_type;
                    if let Some(env) = def.binding {
                        bindings
                            .entry(env.to_owned())
                            .or_insert_with(|| def.name.to_owned());
                    }
                }
            }
        }
        for (name, sensitive) in &self.sensitivity {
            let field = fields.iter_mut().find(|f| &f.name == name).ok_or_else(|| {
                InputError::Fields(format!("there is no field {} to mark", shown(name)))
            })?;
            field.sensitive = *sensitive;
        }
        for (env, field) in &self.bindings {
            bindings.insert(env.clone(), field.clone());
        }
        if fields.is_empty() {
            return Err(InputError::Fields(
                "a secret needs at least one field; delete the secret instead".into(),
            ));
        }
        if fields.len() > MAX_FIELDS {
            return Err(InputError::Fields(format!(
                "a secret holds at most {MAX_FIELDS} fields"
            )));
        }
        if let Some((env, field)) = bindings
            .iter()
            .find(|(_, field)| !fields.iter().any(|f| &&f.name == field))
        {
            return Err(InputError::Fields(format!(
                "binding {env} refers to field {}, which the secret does not have",
                shown(field)
            )));
        }
        Ok(())
    }
}

/// Checks a metadata URL (SPEC §3.3): `http://` or `https://`, a host, no spaces or control
/// characters, at most [`MAX_URL_LEN`] bytes.
pub fn validate_url(url: &str) -> Result<(), InputError> {
    if url.len() > MAX_URL_LEN {
        return Err(InputError::Url {
            rule: "it is longer than 2048 bytes",
        });
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(InputError::Url {
            rule: "it must start with http:// or https://",
        })?;
    if rest.is_empty() || rest.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InputError::Url {
            rule: "it must have a host and no spaces or control characters",
        });
    }
    Ok(())
}

impl Secret {
    /// Checks a whole secret against SPEC §3.3 (for secrets built elsewhere, such as imports):
    /// 1 to 64 uniquely named fields, bindings to fields it has, notes, URL and tags.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.fields.is_empty() || self.fields.len() > MAX_FIELDS {
            return Err(InputError::Fields(format!(
                "a secret holds 1 to {MAX_FIELDS} fields, not {}",
                self.fields.len()
            )));
        }
        for (i, field) in self.fields.iter().enumerate() {
            check_field_name(&field.name)?;
            if self.fields[..i].iter().any(|f| f.name == field.name) {
                return Err(InputError::Fields(format!(
                    "field {} is given twice",
                    shown(&field.name)
                )));
            }
        }
        for (env, field) in &self.bindings {
            check_binding_name(env)?;
            if !self.fields.iter().any(|f| &f.name == field) {
                return Err(InputError::Fields(format!(
                    "binding {env} refers to field {}, which the secret does not have",
                    shown(field)
                )));
            }
        }
        if let Some(notes) = &self.meta.notes
            && notes.len() > MAX_NOTES_LEN
        {
            return Err(InputError::NotesTooLong { len: notes.len() });
        }
        if let Some(url) = &self.meta.url {
            validate_url(url)?;
        }
        validate_tags(&self.meta.tags)
    }
}

/// Checks tags: at most 10, each `[A-Za-z0-9_-]{1,64}`, no duplicates.
pub fn validate_tags(tags: &[String]) -> Result<(), InputError> {
    if tags.len() > MAX_TAGS {
        return Err(InputError::Tag {
            shown: format!("({} tags)", tags.len()),
            rule: "at most 10 tags per secret",
        });
    }
    for (i, tag) in tags.iter().enumerate() {
        let fail = |rule| InputError::Tag {
            shown: shown(tag),
            rule,
        };
        if tag.is_empty() || tag.len() > 64 {
            return Err(fail("tags are 1 to 64 characters"));
        }
        if !tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(fail("use only letters, digits, '_' and '-'"));
        }
        if tags[..i].contains(tag) {
            return Err(fail("it is given twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        for ok in [
            "A",
            "aws/prod/key",
            "db.password",
            "x-1_2",
            &"a".repeat(256),
        ] {
            assert!(KeyName::parse(ok).is_ok(), "{ok} refused");
        }
        for bad in [
            "",
            "-rf",
            ".hidden",
            "/abs",
            "a/../b",
            "a/",
            "a//b",
            "new\nline",
            "esc\x1b[31m",
            "sp ace",
            "ü",
            &"a".repeat(257),
        ] {
            let err = KeyName::parse(bad).unwrap_err().to_string();
            assert!(!err.contains('\n') && !err.contains('\x1b'), "{err}");
        }
    }

    #[test]
    fn masking_follows_spec() {
        assert_eq!(Masked::of(b"short").masked, "********");
        assert_eq!(Masked::of(b"short").length, "<16");
        let m = Masked::of(b"0123456789abcdefWXYZ");
        assert_eq!(m.masked, "************WXYZ");
        assert_eq!(m.length, "16-31");
        assert_eq!(Masked::of(&[b'x'; 64]).length, "64+");
    }

    #[test]
    fn values_are_bounded() {
        assert!(SecretValue::new(vec![0; MAX_VALUE_LEN]).is_ok());
        assert!(matches!(
            SecretValue::new(vec![0; MAX_VALUE_LEN + 1]),
            Err(InputError::ValueTooLarge { .. })
        ));
        assert!(SecretValue::new(vec![]).unwrap().is_empty());
    }
}
