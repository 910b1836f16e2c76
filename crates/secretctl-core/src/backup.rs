//! Backup files (SPEC §10): their byte format, key files, writing one so that no partial file is
//! ever left at its name, and reading one back — header first, then the key, then every chunk —
//! before anything else happens.
//!
//! What goes into a backup (a snapshot of the vault database) and how it is restored is the
//! vault's business (`vault::backup`); this module never opens a database. The format is
//! described byte by byte in `docs/backup.md`:
//!
//! ```text
//! offset  len  field
//!      0    8  magic "SCTL-BAK"
//!      8    4  header length, u32 big-endian (127)
//!     12    2  format version, u16 big-endian (1)
//!     14    1  key kind: 1 = Argon2id over a password, 2 = key file
//!     15    1  flags: bit 0 = audit log included, bit 1 = the password is the vault's
//!                     master password; other bits 0
//!     16   12  Argon2id m (KiB), t, p: three u32 big-endian (zero for a key file)
//!     28   16  salt (fresh for every backup)
//!     44    7  nonce prefix (random)
//!     51    4  chunk length, u32 big-endian (65536)
//!     55    8  payload length, u64 big-endian
//!     63   32  key check: HMAC-SHA256(check key, bytes 0..63)
//!     95   32  header checksum: SHA-256(bytes 0..95)
//!    127    …  the payload in sealed chunks, each AES-256-GCM with bytes 0..127 as
//!               associated data (see `crypto::Sealer`)
//! ```
//!
//! The unkeyed checksum lets a flipped header byte be reported as damage before any key is
//! derived (a changed salt would otherwise look like a wrong password); the key check then tells
//! a wrong password or key file apart from a damaged payload.

use crate::crypto::{
    self, BackupKey, CHUNK_LEN, CryptoError, Dek, KdfParams, KeyFile, NONCE_PREFIX_LEN, OpenError,
    Passphrase, SALT_LEN, Sealer,
};
use crate::vault::ErrorClass;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The first eight bytes of every backup file.
pub const MAGIC: [u8; 8] = *b"SCTL-BAK";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Length of a version-1 header, in bytes.
pub const HEADER_LEN: usize = 127;
/// Bytes covered by the key check.
const CHECKED_LEN: usize = 63;
/// Bytes covered by the header checksum.
const SUMMED_LEN: usize = 95;
/// Longest header length a reader accepts before the checksum is known.
const MAX_HEADER_LEN: u32 = 4096;

const KIND_PASSWORD: u8 = 1;
const KIND_KEY_FILE: u8 = 2;
const FLAG_AUDIT: u8 = 0b01;
const FLAG_MASTER: u8 = 0b10;

/// Everything that can go wrong with a backup file. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Any byte of the file changed, or it was cut short or extended, or it is no backup.
    #[error("{}: backup file is damaged or was altered", .0.display())]
    Damaged(PathBuf),
    /// The password does not open this backup (the full KDF cost was paid).
    #[error("{}: wrong password for this backup", .0.display())]
    WrongPassword(PathBuf),
    /// The key file does not open this backup.
    #[error("{}: wrong key file for this backup", .0.display())]
    WrongKeyFile(PathBuf),
    /// A backup format this build does not know.
    #[error("{}: backup format {version} is newer than this secretctl reads; upgrade secretctl", path.display())]
    NewerFormat {
        /// The backup file.
        path: PathBuf,
        /// Its format version.
        version: u16,
    },
    /// A backup of a vault schema newer than this build.
    #[error("{}: the vault in this backup has schema version {version}, newer than this secretctl supports; upgrade secretctl", path.display())]
    NewerSchema {
        /// The backup file.
        path: PathBuf,
        /// Its schema version.
        version: u32,
    },
    /// The backup is encrypted with a key file and none was given.
    #[error("{}: this backup is encrypted with a key file; pass --key-file FILE", .0.display())]
    NeedsKeyFile(PathBuf),
    /// A key file was given for a backup encrypted with a password.
    #[error("{}: this backup is encrypted with a password, not a key file; leave out --key-file", .0.display())]
    NotKeyFile(PathBuf),
    /// `--with-audit` asked for a log that the backup does not hold.
    #[error("{}: this backup holds no audit log (it was made without --with-audit)", .0.display())]
    NoAuditLog(PathBuf),
    /// The audit log in a backup does not verify.
    #[error("{}: the audit log in this backup does not verify (first bad record {seq})", path.display())]
    AuditBroken {
        /// The backup file.
        path: PathBuf,
        /// The first bad record.
        seq: i64,
    },
    /// A file given as a backup, a key file or an output is a symlink.
    #[error("{} is a symlink; refusing to use it", .0.display())]
    Symlink(PathBuf),
    /// An output file exists already.
    #[error("{} exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// A key file exists already (never overwritten: backups depend on it).
    #[error("{} exists; refusing to overwrite a key file", .0.display())]
    KeyFileExists(PathBuf),
    /// Not a regular file.
    #[error("{} is not a regular file", .0.display())]
    NotRegular(PathBuf),
    /// A key file that is not 32 bytes.
    #[error("key file {} must hold exactly 32 bytes; make one with `secretctl backup --generate-key-file FILE`", .0.display())]
    KeyFileSize(PathBuf),
    /// A key file readable or writable by others, or not ours.
    #[error("key file {}: {problem}; run `{fix}`", path.display())]
    KeyFileUnsafe {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (or `stdout`).
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The exit-code class (SPEC §4.1): damage is a failed operation (1), a wrong password or
    /// key file is authentication (3).
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::WrongPassword(_) | Error::WrongKeyFile(_) => ErrorClass::Auth,
            Error::NeedsKeyFile(_) | Error::NotKeyFile(_) | Error::KeyFileSize(_) => {
                ErrorClass::Usage
            }
            _ => ErrorClass::Failed,
        }
    }

    /// A short code for the audit record.
    pub fn audit_code(&self) -> &'static str {
        match self {
            Error::Damaged(_) => "backup_damaged",
            Error::WrongPassword(_) | Error::WrongKeyFile(_) => "wrong_backup_key",
            _ => "failed",
        }
    }
}

type Result<T, E = Error> = std::result::Result<T, E>;

/// What a backup is encrypted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Argon2id over the vault's master password as it was when the backup was made.
    MasterPassword,
    /// Argon2id over a separate backup password.
    BackupPassword,
    /// A 32-byte key file.
    KeyFile,
}

impl KeyKind {
    /// The name used in audit details and output.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::MasterPassword => "master_password",
            KeyKind::BackupPassword => "backup_password",
            KeyKind::KeyFile => "key_file",
        }
    }
}

/// The key material a backup is written with.
pub enum KeySource<'a> {
    /// The master password that unlocked the session making the backup.
    MasterPassword(&'a Passphrase),
    /// A separate backup password.
    BackupPassword(&'a Passphrase),
    /// A key file.
    KeyFile(&'a KeyFile),
}

impl KeySource<'_> {
    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        match self {
            KeySource::MasterPassword(_) => KeyKind::MasterPassword,
            KeySource::BackupPassword(_) => KeyKind::BackupPassword,
            KeySource::KeyFile(_) => KeyKind::KeyFile,
        }
    }
}

/// The parsed header of a backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// What the backup is encrypted with.
    pub kind: KeyKind,
    /// Whether the vault's audit log is in it.
    pub with_audit: bool,
    /// Argon2id parameters (all zero for a key file).
    pub kdf: KdfParams,
    /// The salt of this backup's key.
    pub salt: [u8; SALT_LEN],
    /// The nonce prefix of its chunks.
    pub nonce_prefix: [u8; NONCE_PREFIX_LEN],
    /// Length of the decrypted payload: the 32-byte data key, then the database snapshot.
    pub payload_len: u64,
}

const NO_KDF: KdfParams = KdfParams {
    m_cost_kib: 0,
    t_cost: 0,
    p_cost: 0,
};

impl Header {
    /// Bytes 0..63: everything the key check covers.
    fn checked_bytes(&self) -> [u8; CHECKED_LEN] {
        let mut b = [0u8; CHECKED_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&(HEADER_LEN as u32).to_be_bytes());
        b[12..14].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
        let (kind, mut flags) = match self.kind {
            KeyKind::MasterPassword => (KIND_PASSWORD, FLAG_MASTER),
            KeyKind::BackupPassword => (KIND_PASSWORD, 0),
            KeyKind::KeyFile => (KIND_KEY_FILE, 0),
        };
        if self.with_audit {
            flags |= FLAG_AUDIT;
        }
        b[14] = kind;
        b[15] = flags;
        b[16..20].copy_from_slice(&self.kdf.m_cost_kib.to_be_bytes());
        b[20..24].copy_from_slice(&self.kdf.t_cost.to_be_bytes());
        b[24..28].copy_from_slice(&self.kdf.p_cost.to_be_bytes());
        b[28..44].copy_from_slice(&self.salt);
        b[44..51].copy_from_slice(&self.nonce_prefix);
        b[51..55].copy_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
        b[55..63].copy_from_slice(&self.payload_len.to_be_bytes());
        b
    }

    /// The full header: checked bytes, the key check under `key`, the checksum.
    fn encode(&self, key: &BackupKey) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let checked = self.checked_bytes();
        h[..CHECKED_LEN].copy_from_slice(&checked);
        h[CHECKED_LEN..SUMMED_LEN].copy_from_slice(&key.check_value(&checked));
        let sum = crypto::sha256(&h[..SUMMED_LEN]);
        h[SUMMED_LEN..].copy_from_slice(&sum);
        h
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().expect("four bytes"))
}

/// What a header can be found to be before any key is known.
enum Parsed {
    Ok(Header),
    Damaged,
    Newer(u16),
}

/// Parses a complete header; the checksum is checked before any field is believed.
fn parse_header(h: &[u8]) -> Parsed {
    if h.len() < 14 + 32 || h[..8] != MAGIC {
        return Parsed::Damaged;
    }
    let (body, sum) = h.split_at(h.len() - 32);
    if !crypto::constant_time_eq(&crypto::sha256(body), sum) {
        return Parsed::Damaged;
    }
    let version = u16::from_be_bytes([h[12], h[13]]);
    if version != FORMAT_VERSION {
        return if version > FORMAT_VERSION {
            Parsed::Newer(version)
        } else {
            Parsed::Damaged
        };
    }
    if h.len() != HEADER_LEN || be_u32(&h[51..55]) as usize != CHUNK_LEN {
        return Parsed::Damaged;
    }
    let flags = h[15];
    if flags & !(FLAG_AUDIT | FLAG_MASTER) != 0 {
        return Parsed::Damaged;
    }
    let kdf = KdfParams {
        m_cost_kib: be_u32(&h[16..20]),
        t_cost: be_u32(&h[20..24]),
        p_cost: be_u32(&h[24..28]),
    };
    let kind = match (h[14], flags & FLAG_MASTER != 0) {
        (KIND_PASSWORD, true) => KeyKind::MasterPassword,
        (KIND_PASSWORD, false) => KeyKind::BackupPassword,
        (KIND_KEY_FILE, false) => KeyKind::KeyFile,
        _ => return Parsed::Damaged,
    };
    let kdf_ok = match kind {
        KeyKind::KeyFile => kdf == NO_KDF,
        _ => kdf.is_acceptable(),
    };
    if !kdf_ok {
        return Parsed::Damaged;
    }
    Parsed::Ok(Header {
        kind,
        with_audit: flags & FLAG_AUDIT != 0,
        kdf,
        salt: h[28..44].try_into().expect("16 bytes"),
        nonce_prefix: h[44..51].try_into().expect("7 bytes"),
        payload_len: u64::from_be_bytes(h[55..63].try_into().expect("8 bytes")),
    })
}

/// What a backup carries: the vault's data key, then a database snapshot of `db_len` bytes.
pub(crate) struct Payload<'a, R> {
    pub dek: &'a Dek,
    pub db: R,
    pub db_len: u64,
}

/// Writes a whole backup to `out` (named `out_name` in messages): the header, then the payload
/// as sealed chunks. Pays the KDF for a password. Returns the number of bytes written.
pub(crate) fn write(
    out: &mut dyn Write,
    out_name: &Path,
    key: &KeySource<'_>,
    kdf: KdfParams,
    with_audit: bool,
    payload: Payload<'_, impl Read>,
) -> Result<u64> {
    let Payload {
        dek,
        mut db,
        db_len,
    } = payload;
    let salt = crypto::random_salt();
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    crypto::fill_random(&mut nonce_prefix);
    let header = Header {
        kind: key.kind(),
        with_audit,
        kdf: match key {
            KeySource::KeyFile(_) => NO_KDF,
            _ => kdf,
        },
        salt,
        nonce_prefix,
        payload_len: crypto::KEY_LEN as u64 + db_len,
    };
    let backup_key = match key {
        KeySource::MasterPassword(p) | KeySource::BackupPassword(p) => {
            BackupKey::from_password(p, &salt, &kdf).map_err(|_: CryptoError| {
                Error::io(
                    out_name,
                    io::Error::other("the vault's KDF parameters are invalid"),
                )
            })?
        }
        KeySource::KeyFile(f) => BackupKey::from_key_file(f, &salt),
    };
    let head = header.encode(&backup_key);
    let fail = |e: io::Error| Error::io(out_name, e);
    out.write_all(&head).map_err(fail)?;
    let mut sealer = Sealer::new(
        &backup_key,
        nonce_prefix,
        head.to_vec(),
        header.payload_len,
        &mut *out,
    )
    .map_err(fail)?;
    sealer.push_dek(dek).map_err(fail)?;
    let mut buf = vec![0u8; CHUNK_LEN];
    let mut left = db_len;
    while left > 0 {
        let n = db.read(&mut buf[..(left.min(CHUNK_LEN as u64) as usize)]);
        match n {
            Ok(0) => {
                return Err(fail(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the snapshot shrank while it was being encrypted",
                )));
            }
            Ok(n) => {
                sealer.push(&buf[..n]).map_err(fail)?;
                left -= n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e)),
        }
    }
    sealer.finish().map_err(fail)?;
    let sealed = crypto::sealed_len(header.payload_len).expect("the sealer took this length");
    Ok(HEADER_LEN as u64 + sealed)
}

/// A backup being read: its header is parsed and checked, nothing is decrypted yet.
pub struct Reader<R> {
    path: PathBuf,
    input: R,
    header: Header,
    raw: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the header of a backup of `total_len` bytes (the whole file): magic,
    /// checksum, version, fields, and that the length is exactly what the header announces.
    /// `path` names the file in messages.
    pub fn new(mut input: R, total_len: u64, path: &Path) -> Result<Reader<R>> {
        let damaged = || Error::Damaged(path.to_owned());
        let read = |input: &mut R, buf: &mut [u8]| {
            input.read_exact(buf).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => damaged(),
                _ => Error::io(path, e),
            })
        };
        let mut start = [0u8; 12];
        read(&mut input, &mut start)?;
        if start[..8] != MAGIC {
            return Err(damaged());
        }
        let len = be_u32(&start[8..12]);
        if !(14 + 32..=MAX_HEADER_LEN).contains(&len) || u64::from(len) > total_len {
            return Err(damaged());
        }
        let mut raw = vec![0u8; len as usize];
        raw[..12].copy_from_slice(&start);
        read(&mut input, &mut raw[12..])?;
        let header = match parse_header(&raw) {
            Parsed::Ok(h) => h,
            Parsed::Damaged => return Err(damaged()),
            Parsed::Newer(version) => {
                return Err(Error::NewerFormat {
                    path: path.to_owned(),
                    version,
                });
            }
        };
        let expected =
            crypto::sealed_len(header.payload_len).and_then(|n| n.checked_add(HEADER_LEN as u64));
        if header.payload_len <= crypto::KEY_LEN as u64 || expected != Some(total_len) {
            return Err(damaged());
        }
        Ok(Reader {
            path: path.to_owned(),
            input,
            header,
            raw,
        })
    }

    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file, as named in messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Derives the key from a password (paying the full KDF cost) and checks it.
    pub fn key_from_password(&self, password: &Passphrase) -> Result<BackupKey> {
        if self.header.kind == KeyKind::KeyFile {
            return Err(Error::NeedsKeyFile(self.path.clone()));
        }
        let key = BackupKey::from_password(password, &self.header.salt, &self.header.kdf)
            .map_err(|_| Error::Damaged(self.path.clone()))?;
        if !key.verify_check(&self.raw[..CHECKED_LEN], &self.raw[CHECKED_LEN..SUMMED_LEN]) {
            return Err(Error::WrongPassword(self.path.clone()));
        }
        Ok(key)
    }

    /// Derives the key from a key file and checks it.
    pub fn key_from_key_file(&self, file: &KeyFile) -> Result<BackupKey> {
        if self.header.kind != KeyKind::KeyFile {
            return Err(Error::NotKeyFile(self.path.clone()));
        }
        let key = BackupKey::from_key_file(file, &self.header.salt);
        if !key.verify_check(&self.raw[..CHECKED_LEN], &self.raw[CHECKED_LEN..SUMMED_LEN]) {
            return Err(Error::WrongKeyFile(self.path.clone()));
        }
        Ok(key)
    }

    /// Decrypts and checks every chunk, writing the database snapshot to `sink`; returns the
    /// vault's data key. On error `sink` holds a partial snapshot that must be discarded.
    pub fn decrypt(mut self, key: &BackupKey, sink: impl Write) -> Result<Dek> {
        let prefix = self.header.nonce_prefix;
        crypto::open_stream(
            key,
            &prefix,
            &self.raw,
            self.header.payload_len,
            &mut self.input,
            sink,
        )
        .map_err(|e| match e {
            OpenError::Damaged => Error::Damaged(self.path.clone()),
            OpenError::Io(e) => Error::io(&self.path, e),
        })
    }
}

/// Opens a backup file for reading: a symlink or anything but a regular file is refused, and the
/// header is checked (see [`Reader::new`]).
pub fn open(path: &Path) -> Result<Reader<io::BufReader<File>>> {
    let meta = path.symlink_metadata().map_err(|e| Error::io(path, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::Symlink(path.to_owned()));
    }
    if !meta.is_file() {
        return Err(Error::NotRegular(path.to_owned()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotRegular(path.to_owned()));
    }
    Reader::new(
        io::BufReader::with_capacity(CHUNK_LEN + crypto::TAG_LEN, file),
        meta.len(),
        path,
    )
}

/// Checks an output path before any work: not a symlink, not an existing file unless `force`
/// (and then a regular file).
pub fn check_output(path: &Path, force: bool) -> Result<()> {
    if let Ok(meta) = path.symlink_metadata() {
        if meta.file_type().is_symlink() {
            return Err(Error::Symlink(path.to_owned()));
        }
        if !force {
            return Err(Error::Exists(path.to_owned()));
        }
        if !meta.is_file() {
            return Err(Error::NotRegular(path.to_owned()));
        }
    }
    Ok(())
}

/// A backup file being written: a private (0600) temporary file in the target's directory,
/// renamed to the target only by [`OutputFile::commit`]. Dropped uncommitted, it is removed, so
/// an error never leaves a partial or empty file at the target's name.
pub struct OutputFile {
    path: PathBuf,
    force: bool,
    tmp: tempfile::NamedTempFile,
}

impl OutputFile {
    /// Starts writing a backup to `path`.
    pub fn create(path: &Path, force: bool) -> Result<OutputFile> {
        check_output(path, force)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.secretctl-tmp-"))
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| Error::io(path, e))?;
        Ok(OutputFile {
            path: path.to_owned(),
            force,
            tmp,
        })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the backup's bytes go.
    pub fn writer(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Syncs the file, renames it to the target (atomically; without `force` never over an
    /// existing file) and syncs the directory.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        check_output(&path, self.force)?;
        if self.force {
            self.tmp
                .persist(&path)
                .map_err(|e| Error::io(&path, e.error))?;
        } else {
            self.tmp.persist_noclobber(&path).map_err(|e| {
                if e.error.kind() == io::ErrorKind::AlreadyExists {
                    Error::Exists(path.clone())
                } else {
                    Error::io(&path, e.error)
                }
            })?;
        }
        sync_parent(&path)
    }
}

/// Reads a key file: a regular file (not a symlink) of exactly 32 bytes, ours, and closed to
/// group and others.
pub fn read_key_file(path: &Path) -> Result<KeyFile> {
    let meta = path.symlink_metadata().map_err(|e| Error::io(path, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::Symlink(path.to_owned()));
    }
    if !meta.is_file() {
        return Err(Error::NotRegular(path.to_owned()));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Error::KeyFileUnsafe {
            path: path.to_owned(),
            problem: format!("it belongs to uid {}, not to you", meta.uid()),
            fix: format!("chown $(id -u) {}", path.display()),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFileUnsafe {
            path: path.to_owned(),
            problem: format!("it is accessible by group or others (mode {mode:04o})"),
            fix: format!("chmod 600 {}", path.display()),
        });
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(crypto::KEY_FILE_LEN + 1));
    file.take(crypto::KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    KeyFile::from_bytes(&bytes).ok_or_else(|| Error::KeyFileSize(path.to_owned()))
}

/// Writes a new key file of 32 random bytes: created 0600 with `O_EXCL`, never through a
/// symlink, never over an existing file; synced with its directory.
pub fn generate_key_file(path: &Path) -> Result<()> {
    match path.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => return Err(Error::Symlink(path.to_owned())),
        Ok(_) => return Err(Error::KeyFileExists(path.to_owned())),
        Err(_) => {}
    }
    let key = KeyFile::generate();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => Error::KeyFileExists(path.to_owned()),
            _ => Error::io(path, e),
        })?;
    let written = file
        .write_all(key.expose_for_storing())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(Error::io(path, e));
    }
    sync_parent(path)
}

/// Flushes the entries of the directory holding `path` (after a create or rename), so that the
/// new file survives a crash.
fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_backup(key: &KeySource<'_>, dek: &Dek, db: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let payload = Payload {
            dek,
            db,
            db_len: db.len() as u64,
        };
        let n = write(
            &mut out,
            Path::new("out"),
            key,
            KdfParams::SEED,
            true,
            payload,
        )
        .unwrap();
        assert_eq!(n as usize, out.len());
        out
    }

    fn read_all(bytes: &[u8], kf: &KeyFile) -> Result<(Dek, Vec<u8>)> {
        let r = Reader::new(bytes, bytes.len() as u64, Path::new("b"))?;
        let key = r.key_from_key_file(kf)?;
        let mut out = Vec::new();
        let dek = r.decrypt(&key, &mut out)?;
        Ok((dek, out))
    }

    #[test]
    fn header_layout_matches_the_documented_offsets() {
        let kf = KeyFile::generate();
        let dek = Dek::generate();
        let file = small_backup(&KeySource::KeyFile(&kf), &dek, b"snapshot");
        assert_eq!(&file[0..8], b"SCTL-BAK");
        assert_eq!(&file[8..12], &127u32.to_be_bytes());
        assert_eq!(&file[12..14], &1u16.to_be_bytes());
        assert_eq!(file[14], 2);
        assert_eq!(file[15], 1);
        assert_eq!(&file[16..28], &[0; 12]);
        assert_eq!(&file[51..55], &65536u32.to_be_bytes());
        assert_eq!(&file[55..63], &(32u64 + 8).to_be_bytes());
        assert_eq!(&file[95..127], &crypto::sha256(&file[..95]));
        assert_eq!(file.len(), 127 + 40 + 16);
        let (back, db) = read_all(&file, &kf).unwrap();
        assert!(back.same_key(&dek));
        assert_eq!(db, b"snapshot");
    }

    /// Every single-byte flip is damage, never a wrong key and never a success: every byte of
    /// a one-chunk backup, and of a two-chunk one the header, both ends of the first chunk and
    /// all of the second (unoptimised AES-GCM makes all 65 KiB take minutes).
    #[test]
    fn every_flipped_byte_of_a_key_file_backup_is_damage() {
        let kf = KeyFile::generate();
        let dek = Dek::generate();
        let db: Vec<u8> = (0..1500).map(|i| (i * 31 % 256) as u8).collect();
        let file = small_backup(&KeySource::KeyFile(&kf), &dek, &db);
        let positions: Vec<usize> = (0..file.len()).collect();
        flips_are_damage(&file, &kf, &positions);

        let db: Vec<u8> = (0..CHUNK_LEN + 300).map(|i| (i * 31 % 256) as u8).collect();
        let file = small_backup(&KeySource::KeyFile(&kf), &dek, &db);
        let first_end = HEADER_LEN + CHUNK_LEN + 16;
        let positions: Vec<usize> = (0..HEADER_LEN + 300)
            .chain(first_end - 300..file.len())
            .collect();
        flips_are_damage(&file, &kf, &positions);

        for cut in [0, 1, 12, 126, 127, 128, file.len() - 1] {
            assert!(matches!(
                read_all(&file[..cut], &kf),
                Err(Error::Damaged(_))
            ));
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(read_all(&longer, &kf), Err(Error::Damaged(_))));
    }

    fn flips_are_damage(file: &[u8], kf: &KeyFile, positions: &[usize]) {
        let mut bad = file.to_vec();
        for &i in positions {
            bad[i] ^= 0x40;
            let outcome = read_all(&bad, kf);
            bad[i] ^= 0x40;
            match outcome {
                Err(Error::Damaged(_)) => {}
                Err(e) => panic!("flip at {i}: {e}"),
                Ok(_) => panic!("flip at {i} accepted"),
            }
        }
    }

    #[test]
    fn wrong_key_file_and_wrong_password_are_auth_errors() {
        let kf = KeyFile::generate();
        let dek = Dek::generate();
        let file = small_backup(&KeySource::KeyFile(&kf), &dek, b"db");
        let e = read_all(&file, &KeyFile::generate()).err().unwrap();
        assert!(matches!(e, Error::WrongKeyFile(_)));
        assert_eq!(e.class(), ErrorClass::Auth);

        let pw = Passphrase::new(b"backup password".to_vec());
        let file = small_backup(&KeySource::BackupPassword(&pw), &dek, b"db");
        let r = Reader::new(&file[..], file.len() as u64, Path::new("b")).unwrap();
        assert_eq!(r.header().kind, KeyKind::BackupPassword);
        assert!(matches!(
            r.key_from_password(&Passphrase::new(b"other password".to_vec())),
            Err(Error::WrongPassword(_))
        ));
        assert!(matches!(
            r.key_from_key_file(&kf),
            Err(Error::NotKeyFile(_))
        ));
        let key = r.key_from_password(&pw).unwrap();
        let mut out = Vec::new();
        assert!(r.decrypt(&key, &mut out).unwrap().same_key(&dek));
        assert_eq!(out, b"db");
    }

    /// Flips in the header of a password backup are found by the checksum, before any KDF.
    #[test]
    fn flipped_header_bytes_of_a_password_backup_are_damage() {
        let pw = Passphrase::new(b"backup password".to_vec());
        let file = small_backup(&KeySource::MasterPassword(&pw), &Dek::generate(), b"x");
        assert_eq!(file[15], FLAG_AUDIT | FLAG_MASTER);
        for i in 0..HEADER_LEN {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            assert!(
                matches!(
                    Reader::new(&bad[..], bad.len() as u64, Path::new("b")),
                    Err(Error::Damaged(_))
                ),
                "flip at {i}"
            );
        }
    }

    /// Found by the `backup_reader` fuzz target: a header announcing a payload near `u64::MAX`
    /// (the checksum is unkeyed, so anyone can write one) made `sealed_len` overflow — a panic
    /// with overflow checks, and without them a wrapped length that can equal the file's, so
    /// that the header was accepted and the file reported as a wrong key file or password
    /// instead of damage. Both must be damage, found before any key is derived.
    #[test]
    fn bug_huge_payload_len_overflowed_the_sealed_length() {
        let kf = KeyFile::generate();
        let file = small_backup(&KeySource::KeyFile(&kf), &Dek::generate(), b"x");
        // u64::MAX (the fuzzer's input, on a password header), and a length whose sealed
        // length wraps around to exactly 16 bytes after the header.
        for (payload_len, body) in [
            (u64::MAX, file.len() - HEADER_LEN),
            (0xfff0_00ff_f001_0000, 16),
        ] {
            let mut bad = file[..HEADER_LEN + body].to_vec();
            bad[55..63].copy_from_slice(&payload_len.to_be_bytes());
            let sum = crypto::sha256(&bad[..SUMMED_LEN]);
            bad[SUMMED_LEN..HEADER_LEN].copy_from_slice(&sum);
            assert!(
                matches!(
                    Reader::new(&bad[..], bad.len() as u64, Path::new("b")),
                    Err(Error::Damaged(_))
                ),
                "payload length {payload_len:#x}"
            );
        }
        assert_eq!(crypto::sealed_len(u64::MAX), None);
        assert_eq!(crypto::sealed_len(0xfff0_00ff_f001_0000), None);
    }

    #[test]
    fn a_newer_format_is_named_as_such() {
        let kf = KeyFile::generate();
        let mut file = small_backup(&KeySource::KeyFile(&kf), &Dek::generate(), b"x");
        file[12..14].copy_from_slice(&2u16.to_be_bytes());
        let sum = crypto::sha256(&file[..SUMMED_LEN]);
        file[SUMMED_LEN..HEADER_LEN].copy_from_slice(&sum);
        assert!(matches!(
            Reader::new(&file[..], file.len() as u64, Path::new("b")),
            Err(Error::NewerFormat { version: 2, .. })
        ));
    }
}
