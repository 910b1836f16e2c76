//! The session agent's protocol (SPEC §9): length-prefixed frames with bounded sizes, the
//! versioned requests and replies, how secrets and updates cross the socket, and where the
//! socket lives. The agent process and its clients are in the `secretctl` binary; this module
//! owns only what both sides must agree on, and never touches a socket's policy (peer checks,
//! timeouts) itself.
//!
//! A frame is a 4-byte big-endian length and that many bytes of JSON. One request and one
//! reply per connection.

use crate::secret::{
    Bindings, Field, FieldView, FolderPath, InputType, KeyName, Secret, SecretMeta, SecretSummary,
    SecretUpdate, SecretValue, Template,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::{Read, Write};
use std::path::PathBuf;
use zeroize::{Zeroize, Zeroizing};

/// Protocol version carried by every request.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest request frame: a `set` of one 1 MiB value in base64 fits with room to spare.
pub const MAX_REQUEST: usize = 4 * 1024 * 1024;
/// Largest reply frame: a `fetch` of many secrets.
pub const MAX_REPLY: usize = 256 * 1024 * 1024;

/// A frame that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The peer closed the connection, mid-frame or before it.
    #[error("the connection closed before a whole frame arrived")]
    Truncated,
    /// The announced length is over the limit.
    #[error("a frame of {0} bytes is over the limit")]
    TooLarge(usize),
    /// The body is not a valid message.
    #[error("malformed message")]
    Malformed,
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// Reads one frame of at most `limit` bytes. The buffer is wiped on drop: it may hold values.
pub fn read_frame(r: &mut impl Read, limit: usize) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(eof_as_truncated)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > limit {
        return Err(FrameError::TooLarge(len));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut body).map_err(eof_as_truncated)?;
    Ok(body)
}

fn eof_as_truncated(e: std::io::Error) -> FrameError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FrameError::Truncated
    } else {
        FrameError::Io(e)
    }
}

/// A request, inside an envelope that carries the protocol version.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Request {
    /// Locked or not, and the times left. Does not count as use. (Struct variants, even when
    /// empty, so that unknown fields are refused here too.)
    Status {},
    /// Lock now: the agent wipes its keys and exits.
    Lock {},
    /// Extend the running session; `proof` shows the caller knows the master password.
    Extend {
        /// Hex of [`crate::vault::Session::agent_proof`] over the agent's nonce.
        proof: String,
        /// New idle timeout, seconds.
        ttl_secs: u64,
        /// New maximum lifetime from now, seconds.
        max_secs: u64,
        /// A plaintext-read window from now, seconds.
        reveal_secs: Option<u64>,
    },
    /// Names and metadata.
    List {
        /// Only this tag.
        tag: Option<String>,
        /// Only secrets expiring before this time (ms since the epoch).
        expiring_before_ms: Option<i64>,
        /// Only secrets in this folder or below it.
        #[serde(default)]
        folder: Option<String>,
        /// The client interface.
        via: String,
    },
    /// A folder operation. The body is a list of [`WireFolder`] for `list` and `info`, the
    /// number of secrets taken out of folders for `delete`, and null otherwise.
    Folder {
        /// What to do.
        what: FolderOp,
        /// The client interface.
        via: String,
    },
    /// Metadata and masked views.
    GetMasked {
        /// The key.
        key: String,
        /// The client interface.
        via: String,
    },
    /// Create or update.
    Set {
        /// The key.
        key: String,
        /// The change.
        update: Box<WireUpdate>,
        /// The client interface.
        via: String,
    },
    /// Secrets to inject into a process the client starts (`run`), or render into a file
    /// (`inject -o`).
    Fetch {
        /// Key patterns.
        patterns: Vec<String>,
        /// Exact names that may be missing.
        optional: Vec<String>,
        /// `run` or `inject`.
        action: String,
        /// What the client will run, for the record.
        command: Option<String>,
        /// The client interface.
        via: String,
    },
    /// MCP `secret_run` (SPEC §7.2, §7.3): the agent loads `mcp-policy.yaml`, checks it
    /// against the approval it stores, decides `command args…` for `keys` with
    /// [`crate::command_policy::decide`], refuses values shorter than 4 bytes, and only then
    /// fetches the secrets. Every denial is audited (action `run`, error `denied`, the reason in
    /// the detail) and answered with [`ErrorKind::Denied`]. The body is an [`McpRunGrant`].
    McpRun {
        /// The command as the agent asked for it (a bare name or an absolute path).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Key patterns.
        keys: Vec<String>,
        /// An `env_aliases` set of the approved policy to read the keys through.
        #[serde(default)]
        env: Option<String>,
        /// The client interface.
        via: String,
    },
    /// The security report (SPEC §10), built inside the agent: values never cross the socket.
    /// The body is a [`crate::security::Report`].
    SecurityReport {
        /// Secrets expiring within this many seconds are listed as expiring.
        expiring_within_secs: u64,
        /// The client interface.
        via: String,
    },
    /// A plaintext read: only inside an `--allow-reveal` window.
    Get {
        /// The key.
        key: String,
        /// The client interface.
        via: String,
    },
}

/// A folder operation (see [`crate::vault::Session::folder_list`] and its siblings). Paths
/// are written `Work/AWS`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FolderOp {
    /// Every folder.
    List {},
    /// One folder.
    Info {
        /// The folder.
        path: String,
    },
    /// Create a folder and missing parents.
    Create {
        /// The folder.
        path: String,
    },
    /// Rename a folder in place.
    Rename {
        /// The folder.
        path: String,
        /// Its new name.
        name: String,
    },
    /// Move a folder under another, or to the top level.
    Move {
        /// The folder.
        path: String,
        /// The new parent; `None` for the top level.
        to: Option<String>,
    },
    /// Delete a folder (never its secrets).
    Delete {
        /// The folder.
        path: String,
        /// Also when it holds secrets or folders.
        force: bool,
    },
}

impl FolderOp {
    /// Performs the operation on an unlocked vault and gives the body the agent replies with.
    pub fn apply(
        self,
        session: &mut crate::vault::Session,
        source: crate::audit::Source,
    ) -> Result<serde_json::Value, crate::vault::Error> {
        let listed = |folders: &[crate::vault::FolderInfo]| {
            serde_json::Value::Array(
                folders
                    .iter()
                    .map(|f| serde_json::to_value(WireFolder::of(f)).expect("folders serialise"))
                    .collect(),
            )
        };
        let path = |p: &str| FolderPath::parse(p).map_err(crate::vault::Error::from);
        Ok(match self {
            FolderOp::List {} => listed(&session.folder_list(source)?),
            FolderOp::Info { path: p } => listed(&[session.folder_info(&path(&p)?, source)?]),
            FolderOp::Create { path: p } => {
                session.folder_create(&path(&p)?, source)?;
                serde_json::Value::Null
            }
            FolderOp::Rename { path: p, name } => {
                session.folder_rename(&path(&p)?, &name, source)?;
                serde_json::Value::Null
            }
            FolderOp::Move { path: p, to } => {
                let to = to.as_deref().map(path).transpose()?;
                session.folder_move(&path(&p)?, to.as_ref(), source)?;
                serde_json::Value::Null
            }
            FolderOp::Delete { path: p, force } => {
                session.folder_delete(&path(&p)?, force, source)?.into()
            }
        })
    }
}

/// The folders of a `list` or `info` reply; `None` when malformed.
pub fn folders_from_wire(v: serde_json::Value) -> Option<Vec<crate::vault::FolderInfo>> {
    let wire: Vec<WireFolder> = serde_json::from_value(v).ok()?;
    wire.into_iter().map(WireFolder::into_info).collect()
}

/// A folder as it crosses the socket.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFolder {
    /// `Work/AWS`.
    pub path: String,
    /// Secrets directly in it.
    pub secrets: usize,
    /// Folders directly in it.
    pub subfolders: usize,
    /// Creation time, ms since the epoch.
    pub created_ms: Option<i64>,
    /// Last change, ms since the epoch.
    pub updated_ms: Option<i64>,
}

impl WireFolder {
    /// The wire form.
    pub fn of(f: &crate::vault::FolderInfo) -> WireFolder {
        WireFolder {
            path: f.path.to_string(),
            secrets: f.secrets,
            subfolders: f.subfolders,
            created_ms: ms(f.created_at),
            updated_ms: ms(f.updated_at),
        }
    }

    /// Back to a [`crate::vault::FolderInfo`]; `None` when the path is not valid.
    pub fn into_info(self) -> Option<crate::vault::FolderInfo> {
        Some(crate::vault::FolderInfo {
            path: FolderPath::parse(&self.path).ok()?,
            secrets: self.secrets,
            subfolders: self.subfolders,
            created_at: ts(self.created_ms),
            updated_at: ts(self.updated_ms),
        })
    }
}

/// The body of a successful [`Request::McpRun`]: what to execute, and how.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpRunGrant {
    /// The pinned canonical path to execute (never looked up on a PATH).
    pub canonical_path: PathBuf,
    /// The rule's timeout, milliseconds.
    pub timeout_ms: u64,
    /// `redacted`, `tail:N` or `none`.
    pub output: String,
    /// The secrets, as [`secret_to_wire`] gives them.
    pub found: Vec<serde_json::Value>,
}

/// What every request travels in.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// [`PROTOCOL_VERSION`].
    pub v: u32,
    /// The request.
    pub request: Request,
}

/// Why the agent refused or failed a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The agent holds no keys any more; run `secretctl unlock`.
    Locked,
    /// This operation needs the master password (SPEC §9).
    PasswordRequired,
    /// The request is malformed, of another version, or too large.
    BadRequest,
    /// The extend proof is wrong, or the MCP policy refused a run.
    Denied,
    /// Operation failed (exit 1).
    Failed,
    /// Usage error (exit 2).
    Usage,
    /// Authentication (exit 3).
    Auth,
    /// Vault damaged (exit 4).
    Vault,
}

/// A reply: `ok` with a body, or an error.
///
/// The body stays raw JSON until the caller decodes it into the type it expects
/// ([`Reply::decode`]): no generic JSON tree is built on either side, which is most of the cost
/// of a large listing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Whether the request succeeded.
    pub ok: bool,
    /// The error kind, when not ok.
    pub error: Option<ErrorKind>,
    /// A one-line message, when not ok (never a value).
    pub message: Option<String>,
    /// The result, when ok (`null` otherwise).
    pub body: Box<RawValue>,
}

impl Reply {
    /// A successful reply.
    pub fn ok(body: impl Serialize) -> Reply {
        Reply {
            ok: true,
            error: None,
            message: None,
            body: serde_json::value::to_raw_value(&body).expect("replies serialise"),
        }
    }

    /// A failed reply.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            error: Some(kind),
            message: Some(message.into()),
            body: null(),
        }
    }

    /// Decodes the body as a `T`, then wipes the raw body (it may hold a secret); `None` when the
    /// body is not a `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(mut self) -> Option<T> {
        let decoded = serde_json::from_str(self.body.get()).ok();
        self.wipe();
        decoded
    }

    /// Overwrites the raw body with zeros and leaves `null`.
    pub fn wipe(&mut self) {
        let mut text: Box<str> = std::mem::replace(&mut self.body, null()).into();
        text.zeroize();
    }
}

fn null() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}

/// The agent's state, as `status` reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// Whether keys are held.
    pub unlocked: bool,
    /// The agent's process id.
    pub pid: u32,
    /// The vault's id.
    pub vault_id: String,
    /// Seconds until the idle timeout.
    pub idle_secs_left: u64,
    /// Seconds until the maximum lifetime ends.
    pub max_secs_left: u64,
    /// Seconds left of a plaintext-read window, if one is open.
    pub reveal_secs_left: Option<u64>,
    /// Hex nonce to prove knowledge of the password against (for `extend`).
    pub nonce: String,
}

/// How a change crosses the socket.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireUpdate {
    /// Base64 of the `value` field's new value.
    pub value: Option<String>,
    /// Field name → base64 value.
    pub fields: Vec<(String, String)>,
    /// Field name → sensitive.
    pub sensitivity: Vec<(String, bool)>,
    /// ENV → field.
    pub bindings: Vec<(String, String)>,
    /// Fields to remove.
    pub remove_fields: Vec<String>,
    /// Bindings to remove.
    pub unbind: Vec<String>,
    /// Template name.
    pub template: Option<String>,
    /// New notes (`Some(None)` clears).
    pub notes: Option<Option<String>>,
    /// New URL (`Some(None)` clears).
    pub url: Option<Option<String>>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// New expiry in ms (`Some(None)` clears).
    pub expires_ms: Option<Option<i64>>,
    /// Folder path to file it in (`Some(None)` takes it out of its folder).
    #[serde(default)]
    pub folder: Option<Option<String>>,
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Option<SecretValue> {
    let bytes = STANDARD.decode(text).ok()?;
    SecretValue::new(bytes).ok()
}

fn ms(t: Option<jiff::Timestamp>) -> Option<i64> {
    t.map(|t| t.as_millisecond())
}

fn ts(ms: Option<i64>) -> Option<jiff::Timestamp> {
    ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
}

impl WireUpdate {
    /// The wire form of an update (values as base64, in wiped-on-drop strings where they pass
    /// through here; serde's own buffers are outside our control).
    pub fn from_update(u: &SecretUpdate) -> WireUpdate {
        WireUpdate {
            value: u.value.as_ref().map(|v| b64(v.expose_bytes())),
            fields: u
                .fields
                .iter()
                .map(|(n, v)| (n.clone(), b64(v.expose_bytes())))
                .collect(),
            sensitivity: u.sensitivity.clone(),
            bindings: u.bindings.clone(),
            remove_fields: u.remove_fields.clone(),
            unbind: u.unbind.clone(),
            template: u.template.map(|t| t.name().to_owned()),
            notes: u.notes.clone(),
            url: u.url.clone(),
            tags: u.tags.clone(),
            add_tags: u.add_tags.clone(),
            expires_ms: u.expires_at.map(ms),
            folder: u
                .folder
                .as_ref()
                .map(|f| f.as_ref().map(ToString::to_string)),
        }
    }

    /// The update again; `None` when a value or the template is not valid.
    pub fn into_update(self) -> Option<SecretUpdate> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for (n, v) in &self.fields {
            fields.push((n.clone(), unb64(v)?));
        }
        let value = match &self.value {
            Some(v) => Some(unb64(v)?),
            None => None,
        };
        let template = match &self.template {
            Some(t) => Some(Template::parse(t)?),
            None => None,
        };
        let folder = match &self.folder {
            Some(Some(f)) => Some(Some(FolderPath::parse(f).ok()?)),
            Some(None) => Some(None),
            None => None,
        };
        Some(SecretUpdate {
            value,
            fields,
            sensitivity: self.sensitivity,
            bindings: self.bindings,
            remove_fields: self.remove_fields,
            unbind: self.unbind,
            template,
            notes: self.notes,
            url: self.url,
            tags: self.tags,
            add_tags: self.add_tags,
            expires_at: self.expires_ms.map(ts),
            folder,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct WireField {
    name: String,
    value: String,
    sensitive: bool,
    aliases: Vec<String>,
    kind: Option<String>,
    input_type: InputType,
    hint: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireMeta {
    notes: Option<String>,
    url: Option<String>,
    tags: Vec<String>,
    expires_ms: Option<i64>,
    created_ms: Option<i64>,
    updated_ms: Option<i64>,
    #[serde(default)]
    folder: Option<String>,
}

impl WireMeta {
    fn of(m: &SecretMeta) -> WireMeta {
        WireMeta {
            notes: m.notes.clone(),
            url: m.url.clone(),
            tags: m.tags.clone(),
            expires_ms: ms(m.expires_at),
            created_ms: ms(m.created_at),
            updated_ms: ms(m.updated_at),
            folder: m.folder.as_ref().map(ToString::to_string),
        }
    }

    fn into_meta(self) -> SecretMeta {
        SecretMeta {
            notes: self.notes,
            url: self.url,
            tags: self.tags,
            expires_at: ts(self.expires_ms),
            created_at: ts(self.created_ms),
            updated_at: ts(self.updated_ms),
            folder: self.folder.and_then(|f| FolderPath::parse(&f).ok()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireSecret {
    name: String,
    fields: Vec<WireField>,
    bindings: Bindings,
    meta: WireMeta,
}

/// A secret, values included, as JSON (for `fetch` and revealed `get`).
pub fn secret_to_wire(s: &Secret) -> serde_json::Value {
    let wire = WireSecret {
        name: s.name.to_string(),
        fields: s
            .fields
            .iter()
            .map(|f| WireField {
                name: f.name.clone(),
                value: b64(f.value.expose_bytes()),
                sensitive: f.sensitive,
                aliases: f.aliases.clone(),
                kind: f.kind.clone(),
                input_type: f.input_type,
                hint: f.hint.clone(),
            })
            .collect(),
        bindings: s.bindings.clone(),
        meta: WireMeta::of(&s.meta),
    };
    serde_json::to_value(wire).expect("secrets serialise")
}

/// A secret from its JSON form; `None` when the JSON is not one.
pub fn secret_from_wire(v: serde_json::Value) -> Option<Secret> {
    let w: WireSecret = serde_json::from_value(v).ok()?;
    let mut fields = Vec::with_capacity(w.fields.len());
    for f in w.fields {
        fields.push(Field {
            value: unb64(&f.value)?,
            name: f.name,
            sensitive: f.sensitive,
            aliases: f.aliases,
            kind: f.kind,
            input_type: f.input_type,
            hint: f.hint,
        });
    }
    Some(Secret {
        name: KeyName::parse(&w.name).ok()?,
        fields,
        bindings: w.bindings,
        meta: w.meta.into_meta(),
    })
}

/// A listing entry as it crosses the socket: a `list` reply's body is an array of these.
#[derive(Serialize, Deserialize)]
pub struct WireSummary {
    name: String,
    meta: WireMeta,
    field_count: usize,
}

impl WireSummary {
    /// The wire form of a listing entry.
    pub fn of(s: &SecretSummary) -> WireSummary {
        WireSummary {
            name: s.name.to_string(),
            meta: WireMeta::of(&s.meta),
            field_count: s.field_count,
        }
    }

    /// The listing entry; `None` when the name is not a valid key name.
    pub fn into_summary(self) -> Option<SecretSummary> {
        Some(SecretSummary {
            name: KeyName::parse(&self.name).ok()?,
            meta: self.meta.into_meta(),
            field_count: self.field_count,
        })
    }
}

/// A listing entry as JSON.
pub fn summary_to_wire(s: &SecretSummary) -> serde_json::Value {
    serde_json::to_value(WireSummary::of(s)).expect("summaries serialise")
}

/// A listing entry from JSON.
pub fn summary_from_wire(v: serde_json::Value) -> Option<SecretSummary> {
    serde_json::from_value::<WireSummary>(v)
        .ok()?
        .into_summary()
}

/// The masked view of a secret as JSON: summary, field views (no sensitive value), bindings.
pub fn masked_to_wire(s: &SecretSummary, views: &[FieldView], b: &Bindings) -> serde_json::Value {
    serde_json::json!({ "summary": summary_to_wire(s), "views": views, "bindings": b })
}

/// The masked view from JSON.
pub fn masked_from_wire(v: serde_json::Value) -> Option<(SecretSummary, Vec<FieldView>, Bindings)> {
    let mut obj = match v {
        serde_json::Value::Object(o) => o,
        _ => return None,
    };
    let summary = summary_from_wire(obj.remove("summary")?)?;
    let views = serde_json::from_value(obj.remove("views")?).ok()?;
    let bindings = serde_json::from_value(obj.remove("bindings")?).ok()?;
    Some((summary, views, bindings))
}

/// Where the agent of a vault listens: `agent.sock` in the vault directory, or, when that path
/// is too long for a Unix socket address (108 bytes), `secretctl-<hash>.sock` in
/// `$XDG_RUNTIME_DIR` (a per-user 0700 directory), the hash naming the vault directory.
pub fn socket_path(dir: &crate::vault::VaultDir) -> PathBuf {
    let inside = dir.socket();
    if inside.as_os_str().len() < 100 {
        return inside;
    }
    let canonical = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().to_owned());
    let hash = crate::crypto::sha256(canonical.as_os_str().as_encoded_bytes());
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(format!(
                "/tmp/secretctl-{}",
                rustix::process::geteuid().as_raw()
            ))
        });
    runtime.join(format!("secretctl-{}.sock", hex::encode(&hash[..8])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_bounded_and_truncation_is_reported() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"{\"x\":1}").unwrap();
        assert_eq!(
            &*read_frame(&mut buf.as_slice(), 100).unwrap(),
            b"{\"x\":1}"
        );
        assert!(matches!(
            read_frame(&mut buf.as_slice(), 3),
            Err(FrameError::TooLarge(7))
        ));
        assert!(matches!(
            read_frame(&mut &buf[..6], 100),
            Err(FrameError::Truncated)
        ));
        assert!(matches!(
            read_frame(&mut &buf[..2], 100),
            Err(FrameError::Truncated)
        ));
    }

    #[test]
    fn requests_are_strict() {
        let ok: Envelope =
            serde_json::from_str(r#"{"v":1,"request":{"op":"get_masked","key":"a","via":"cli"}}"#)
                .unwrap();
        assert!(matches!(ok.request, Request::GetMasked { .. }));
        for bad in [
            r#"{"v":1,"request":{"op":"drop_tables"}}"#,
            r#"{"v":1,"request":{"op":"status","extra":1}}"#,
            r#"{"v":1,"request":{"op":"status"},"x":2}"#,
        ] {
            assert!(serde_json::from_str::<Envelope>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn updates_round_trip() {
        let u = SecretUpdate {
            value: Some(SecretValue::new(b"\x00\xffv".to_vec()).unwrap()),
            tags: Some(vec!["a".into()]),
            template: Some(Template::Database),
            expires_at: Some(None),
            ..Default::default()
        };
        let back = WireUpdate::from_update(&u).into_update().unwrap();
        assert_eq!(back.value.unwrap().expose_bytes(), b"\x00\xffv");
        assert_eq!(back.tags, Some(vec!["a".to_string()]));
        assert_eq!(back.template, Some(Template::Database));
        assert_eq!(back.expires_at, Some(None));
    }
}
