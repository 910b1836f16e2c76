//! The keys of a backup file and its chunked encryption (SPEC §10).
//!
//! A backup's root key comes from Argon2id over a password (RFC 9106) with a fresh salt, or from
//! a 32-byte key file through HKDF-SHA256 (RFC 5869) with a fresh salt; two keys are expanded
//! from it: one that encrypts, one that proves the key right before anything is decrypted.
//!
//! The payload is cut into chunks of [`CHUNK_LEN`] bytes, each sealed with AES-256-GCM (NIST
//! SP 800-38D) under the nonce `prefix(7) || counter(4, big-endian) || last(1)`: the STREAM
//! construction of Hoang, Reyhanitabar, Rogaway and Vizár (2015), as age uses it. Reordered,
//! dropped, repeated or truncated chunks fail, and so does a stream that stops early, because
//! the final chunk alone carries `last = 1`.
//!
//! The first 32 bytes of every payload are the vault's data key, so that a backup restores with
//! its own password or key file alone; they are written and read here, and never leave this
//! module as bytes.

use super::*;
use std::io::{self, Read, Write};

/// Length of a key file, in bytes.
pub const KEY_FILE_LEN: usize = KEY_LEN;
/// Length of the random nonce prefix of a stream, in bytes.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Plaintext bytes per chunk (the last chunk may be shorter).
pub const CHUNK_LEN: usize = 64 * 1024;

const KEY_FILE_INFO: &[u8] = b"secretctl-backup-key-file-v1";
const ENC_INFO: &[u8] = b"secretctl-backup-enc-v1";
const CHECK_INFO: &[u8] = b"secretctl-backup-check-v1";

key_type!(
    /// The 32 random bytes of a backup key file.
    KeyFile
);

impl KeyFile {
    /// A new random key file content.
    pub fn generate() -> KeyFile {
        let mut bytes = [0u8; KEY_LEN];
        fill_random(&mut bytes);
        KeyFile::from_array(bytes)
    }

    /// A key file's content; `None` unless it is exactly [`KEY_FILE_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<KeyFile> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(KeyFile::from_array(array))
    }

    /// The bytes, to write a newly generated key file once.
    pub fn expose_for_storing(&self) -> &[u8] {
        self.bytes()
    }
}

/// The keys of one backup file.
pub struct BackupKey {
    enc: Zeroizing<[u8; KEY_LEN]>,
    check: SubKey,
}

impl BackupKey {
    fn from_root(root: &[u8; KEY_LEN]) -> BackupKey {
        let mut enc = Zeroizing::new([0u8; KEY_LEN]);
        let mut check = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(root, None, ENC_INFO, enc.as_mut()).expect("HKDF-SHA256 can expand 32 bytes");
        hkdf_sha256(root, None, CHECK_INFO, check.as_mut())
            .expect("HKDF-SHA256 can expand 32 bytes");
        BackupKey {
            enc,
            check: SubKey::from_array(*check),
        }
    }

    /// The key of a password backup: Argon2id (RFC 9106) over the password with the file's salt.
    /// Pays the full cost every time.
    pub fn from_password(
        password: &Passphrase,
        salt: &[u8; SALT_LEN],
        params: &KdfParams,
    ) -> Result<BackupKey, CryptoError> {
        let root = derive_master_key(password, salt, params)?;
        Ok(BackupKey::from_root(root.bytes()))
    }

    /// The key of a key-file backup: HKDF-SHA256 (RFC 5869) of the key file with the file's
    /// salt, so that every backup under one key file has keys of its own.
    pub fn from_key_file(file: &KeyFile, salt: &[u8; SALT_LEN]) -> BackupKey {
        let mut root = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(file.bytes(), Some(salt), KEY_FILE_INFO, root.as_mut())
            .expect("HKDF-SHA256 can expand 32 bytes");
        BackupKey::from_root(&root)
    }

    /// The key check stored in the header: HMAC-SHA256 (RFC 2104) of the header before it.
    pub fn check_value(&self, header: &[u8]) -> [u8; 32] {
        self.check.mac(header)
    }

    /// Whether `expected` is this key's check of `header` (constant time).
    pub fn verify_check(&self, header: &[u8], expected: &[u8]) -> bool {
        self.check.verify_parts(&[header], expected)
    }
}

impl Dek {
    /// Whether two data keys are the same key (constant time): a backup of this very vault.
    pub fn same_key(&self, other: &Dek) -> bool {
        constant_time_eq(self.bytes(), other.bytes())
    }
}

fn chunk_nonce(prefix: &[u8; NONCE_PREFIX_LEN], counter: u32, last: bool) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..NONCE_PREFIX_LEN].copy_from_slice(prefix);
    nonce[NONCE_PREFIX_LEN..NONCE_LEN - 1].copy_from_slice(&counter.to_be_bytes());
    nonce[NONCE_LEN - 1] = u8::from(last);
    nonce
}

/// Number of chunks of a payload of `total` bytes.
pub fn chunk_count(total: u64) -> u64 {
    total.div_ceil(CHUNK_LEN as u64)
}

/// Size of the sealed stream of a payload of `total` bytes; `None` when it does not fit in a
/// `u64` (a `total` read from a damaged or crafted header can be anything).
pub fn sealed_len(total: u64) -> Option<u64> {
    total.checked_add(chunk_count(total) * TAG_LEN as u64)
}

/// Writes a payload of a length fixed in advance as sealed chunks to `out`.
pub struct Sealer<'k, W: Write> {
    key: &'k BackupKey,
    prefix: [u8; NONCE_PREFIX_LEN],
    aad: Vec<u8>,
    total: u64,
    /// Bytes handed to `out` as sealed chunks so far.
    sealed: u64,
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
    out: W,
}

impl<'k, W: Write> Sealer<'k, W> {
    /// A sealer for a payload of exactly `total` bytes (more than zero), bound to `aad`.
    pub fn new(
        key: &'k BackupKey,
        prefix: [u8; NONCE_PREFIX_LEN],
        aad: Vec<u8>,
        total: u64,
        out: W,
    ) -> io::Result<Self> {
        if total == 0 || chunk_count(total) > u64::from(u32::MAX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "backup payload size out of range",
            ));
        }
        Ok(Sealer {
            key,
            prefix,
            aad,
            total,
            sealed: 0,
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK_LEN)),
            out,
        })
    }

    /// Writes the data key: the first 32 bytes of every backup payload.
    pub fn push_dek(&mut self, dek: &Dek) -> io::Result<()> {
        self.push(dek.bytes())
    }

    /// Adds payload bytes; full chunks are sealed and written at once.
    pub fn push(&mut self, mut data: &[u8]) -> io::Result<()> {
        let pending = self.sealed + self.buf.len() as u64;
        if data.len() as u64 > self.total - pending {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "more backup payload than announced",
            ));
        }
        while !data.is_empty() {
            let room = CHUNK_LEN - self.buf.len();
            let take = room.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK_LEN {
                self.emit()?;
            }
        }
        Ok(())
    }

    fn emit(&mut self) -> io::Result<()> {
        let last = self.sealed + self.buf.len() as u64 == self.total;
        let nonce = chunk_nonce(&self.prefix, self.counter, last);
        let sealed = gcm_seal_with_nonce(&self.key.enc, &nonce, &self.aad, &self.buf)
            .map_err(|_| io::Error::other("AES-GCM refused a chunk"))?;
        self.out.write_all(&sealed)?;
        self.sealed += self.buf.len() as u64;
        self.buf.zeroize();
        self.buf.clear();
        self.counter = self.counter.wrapping_add(1);
        Ok(())
    }

    /// Seals the final chunk; fails unless exactly the announced number of bytes came.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() {
            self.emit()?;
        }
        if self.sealed != self.total {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "less backup payload than announced",
            ));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Why a sealed stream could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// A chunk failed authentication, or the stream is short or too long.
    Damaged,
    /// Reading the stream or writing the plaintext failed.
    Io(io::Error),
}

/// Opens a stream written by [`Sealer`]: checks and decrypts every chunk of a payload of `total`
/// bytes from `input`, returns the data key from its head and writes the rest to `sink`. Bytes
/// after the last chunk are damage too. `sink` may have received the plaintext of the chunks
/// before a failing one: callers discard it on error.
pub fn open_stream(
    key: &BackupKey,
    prefix: &[u8; NONCE_PREFIX_LEN],
    aad: &[u8],
    total: u64,
    mut input: impl Read,
    mut sink: impl Write,
) -> Result<Dek, OpenError> {
    if total < KEY_LEN as u64 || chunk_count(total) > u64::from(u32::MAX) {
        return Err(OpenError::Damaged);
    }
    let mut dek = Zeroizing::new([0u8; KEY_LEN]);
    let mut dek_filled = 0usize;
    let mut done = 0u64;
    let mut counter = 0u32;
    let mut sealed = vec![0u8; CHUNK_LEN + TAG_LEN];
    while done < total {
        let len = (total - done).min(CHUNK_LEN as u64) as usize;
        let chunk = &mut sealed[..len + TAG_LEN];
        input.read_exact(chunk).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => OpenError::Damaged,
            _ => OpenError::Io(e),
        })?;
        let last = done + len as u64 == total;
        let nonce = chunk_nonce(prefix, counter, last);
        let plain =
            gcm_open_with_nonce(&key.enc, &nonce, aad, chunk).map_err(|_| OpenError::Damaged)?;
        let mut rest: &[u8] = &plain;
        if dek_filled < KEY_LEN {
            let take = (KEY_LEN - dek_filled).min(rest.len());
            dek[dek_filled..dek_filled + take].copy_from_slice(&rest[..take]);
            dek_filled += take;
            rest = &rest[take..];
        }
        sink.write_all(rest).map_err(OpenError::Io)?;
        done += len as u64;
        counter = counter.wrapping_add(1);
    }
    let mut extra = [0u8; 1];
    loop {
        match input.read(&mut extra) {
            Ok(0) => break,
            Ok(_) => return Err(OpenError::Damaged),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(OpenError::Io(e)),
        }
    }
    sink.flush().map_err(OpenError::Io)?;
    Ok(Dek::from_array(*dek))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(key: &BackupKey, prefix: [u8; 7], aad: &[u8], dek: &Dek, rest: &[u8]) -> Vec<u8> {
        let total = (KEY_LEN + rest.len()) as u64;
        let mut s = Sealer::new(key, prefix, aad.to_vec(), total, Vec::new()).unwrap();
        s.push_dek(dek).unwrap();
        for piece in rest.chunks(1000) {
            s.push(piece).unwrap();
        }
        let out = s.finish().unwrap();
        assert_eq!(Some(out.len() as u64), sealed_len(total));
        out
    }

    #[test]
    fn streams_round_trip_at_chunk_boundaries() {
        let key = BackupKey::from_key_file(&KeyFile::generate(), &random_salt());
        let dek = Dek::generate();
        for len in [
            0,
            1,
            CHUNK_LEN - KEY_LEN - 1,
            CHUNK_LEN - KEY_LEN,
            CHUNK_LEN - KEY_LEN + 1,
            3 * CHUNK_LEN + 17,
        ] {
            let rest: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let blob = sealed(&key, [7; 7], b"hdr", &dek, &rest);
            let mut out = Vec::new();
            let total = (KEY_LEN + len) as u64;
            let back = open_stream(&key, &[7; 7], b"hdr", total, &blob[..], &mut out).unwrap();
            assert!(back.same_key(&dek), "len {len}");
            assert_eq!(out, rest, "len {len}");
        }
    }

    #[test]
    fn damage_truncation_reordering_and_wrong_keys_fail() {
        let file = KeyFile::generate();
        let salt = random_salt();
        let key = BackupKey::from_key_file(&file, &salt);
        let dek = Dek::generate();
        let rest: Vec<u8> = (0..2 * CHUNK_LEN + 5).map(|i| (i % 7) as u8).collect();
        let total = (KEY_LEN + rest.len()) as u64;
        let blob = sealed(&key, [1; 7], b"hdr", &dek, &rest);
        let open = |k: &BackupKey, prefix: [u8; 7], aad: &[u8], total: u64, b: &[u8]| {
            open_stream(k, &prefix, aad, total, b, io::sink()).map(drop)
        };
        assert!(open(&key, [1; 7], b"hdr", total, &blob).is_ok());
        assert!(matches!(
            open(&key, [2; 7], b"hdr", total, &blob),
            Err(OpenError::Damaged)
        ));
        assert!(open(&key, [1; 7], b"hdX", total, &blob).is_err());
        // Truncated at a chunk boundary, with the total shortened to match: the last flag tells.
        let cut = CHUNK_LEN + TAG_LEN;
        assert!(open(&key, [1; 7], b"hdr", CHUNK_LEN as u64, &blob[..cut]).is_err());
        assert!(open(&key, [1; 7], b"hdr", total, &blob[..blob.len() - 1]).is_err());
        let mut longer = blob.clone();
        longer.push(0);
        assert!(open(&key, [1; 7], b"hdr", total, &longer).is_err());
        let mut swapped = blob.clone();
        swapped[..cut].copy_from_slice(&blob[cut..2 * cut]);
        swapped[cut..2 * cut].copy_from_slice(&blob[..cut]);
        assert!(open(&key, [1; 7], b"hdr", total, &swapped).is_err());
        let other = BackupKey::from_key_file(&KeyFile::generate(), &salt);
        assert!(open(&other, [1; 7], b"hdr", total, &blob).is_err());
        let resalted = BackupKey::from_key_file(&file, &random_salt());
        assert!(open(&resalted, [1; 7], b"hdr", total, &blob).is_err());
    }

    #[test]
    fn key_check_binds_key_and_header() {
        let file = KeyFile::generate();
        let salt = random_salt();
        let key = BackupKey::from_key_file(&file, &salt);
        let check = key.check_value(b"header");
        assert!(key.verify_check(b"header", &check));
        assert!(!key.verify_check(b"headex", &check));
        let other = BackupKey::from_key_file(&KeyFile::generate(), &salt);
        assert!(!other.verify_check(b"header", &check));
        assert!(KeyFile::from_bytes(&[0; 31]).is_none());
        assert!(KeyFile::from_bytes(&[0; 33]).is_none());
    }

    #[test]
    fn sealer_refuses_more_or_less_than_announced() {
        let key = BackupKey::from_key_file(&KeyFile::generate(), &random_salt());
        let mut s = Sealer::new(&key, [0; 7], Vec::new(), 40, Vec::new()).unwrap();
        s.push(&[0; 40]).unwrap();
        assert!(s.push(&[0]).is_err());
        let mut s = Sealer::new(&key, [0; 7], Vec::new(), 40, Vec::new()).unwrap();
        s.push(&[0; 39]).unwrap();
        assert!(s.finish().is_err());
        assert!(Sealer::new(&key, [0; 7], Vec::new(), 0, Vec::new()).is_err());
    }
}
