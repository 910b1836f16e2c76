//! Cryptographic primitives and the key types of the vault's key hierarchy (SPEC §3.1).
//!
//! This module owns every call into the RustCrypto crates. Nothing outside it touches a cipher,
//! a MAC or a KDF directly, and every key type here zeroizes on drop and has no `Debug`,
//! `Display` or `Serialize`: exposing key bytes is not possible outside this module.
//!
//! ```text
//! master_key = Argon2id(password, salt, m=64 MiB, t=3, p=4, 32 bytes)   never stored
//! wrap_key   = HKDF-SHA256(master_key, info="dek-v1")
//! DEK        = 32 random bytes, stored as AES-256-GCM(wrap_key, DEK, aad=vault_id)
//! audit_key  = HKDF-SHA256(DEK, info="audit-log-v1")
//! index_key  = HKDF-SHA256(DEK, info="key-index-v1")
//! policy_key = HKDF-SHA256(DEK, info="mcp-policy-v1")
//! ```

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

#[cfg(test)]
mod kat;
pub mod legacy_go;

/// Length of every symmetric key in the hierarchy, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the Argon2id salt, in bytes (SPEC §3: 128 bits).
pub const SALT_LEN: usize = 16;
/// Length of an AES-GCM nonce, in bytes (NIST SP 800-38D recommends 96 bits).
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM tag, in bytes.
pub const TAG_LEN: usize = 16;

/// The one error of this module. It never says which check failed (STYLE rule 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("decryption failed")]
pub struct CryptoError;

/// Argon2id cost parameters, stored with the vault so that a later version can raise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// The seed's parameters: 64 MiB, 3 passes, 4 lanes.
    pub const SEED: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 4,
    };

    /// Whether these parameters are at least the seed's and within what Argon2 accepts.
    ///
    /// A vault whose stored parameters are weaker than the seed's was not made by us (or was
    /// tampered with to make guessing cheaper), so it is refused rather than unlocked.
    pub fn is_acceptable(&self) -> bool {
        self.m_cost_kib >= Self::SEED.m_cost_kib
            && self.m_cost_kib <= 4 * 1024 * 1024
            && self.t_cost >= Self::SEED.t_cost
            && self.t_cost <= 64
            && self.p_cost >= 1
            && self.p_cost <= 64
    }
}

/// A master password as typed or read from a password source.
pub struct Passphrase(SecretSlice<u8>);

impl Passphrase {
    /// Wraps password bytes; the vector is moved, never copied.
    pub fn new(bytes: Vec<u8>) -> Self {
        Passphrase(SecretSlice::from(bytes))
    }

    /// Length in bytes (for password rules; reveals nothing else).
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Whether the password is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Constant-time equality, for "type it again" confirmation.
    pub fn matches(&self, other: &Passphrase) -> bool {
        constant_time_eq(self.0.expose_secret(), other.0.expose_secret())
    }

    /// The password bytes, to hand to the session agent's process over a pipe (the one place
    /// a password leaves this process).
    pub fn expose_for_handoff(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Number of Unicode characters, when the password is valid UTF-8.
    pub fn char_count(&self) -> Option<usize> {
        std::str::from_utf8(self.0.expose_secret())
            .ok()
            .map(|s| s.chars().count())
    }
}

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(Zeroizing<[u8; KEY_LEN]>);

        impl $name {
            fn from_array(bytes: [u8; KEY_LEN]) -> Self {
                let mut bytes = bytes;
                let key = $name(Zeroizing::new(bytes));
                bytes.zeroize();
                key
            }

            fn bytes(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }
    };
}

key_type!(
    /// `Argon2id(password, salt)`: the root of the hierarchy, never stored.
    MasterKey
);
key_type!(
    /// The data-encryption key: encrypts every secret, and is the root of the sub-keys.
    Dek
);
key_type!(
    /// A key derived from the DEK for one purpose (audit MAC, name index, policy MAC).
    SubKey
);

mod stream;
pub use stream::{
    BackupKey, CHUNK_LEN, KEY_FILE_LEN, KeyFile, NONCE_PREFIX_LEN, OpenError, Sealer, chunk_count,
    open_stream, sealed_len,
};

/// Argon2id as specified by RFC 9106 (version 0x13), with optional secret and associated data.
///
/// The vault never uses `secret` or `ad`; they exist so that the RFC 9106 §5.3 test vector, which
/// sets both, exercises this exact function.
pub(crate) fn argon2id_raw(
    password: &[u8],
    salt: &[u8],
    params: &KdfParams,
    secret: &[u8],
    ad: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let mut builder = argon2::ParamsBuilder::new();
    builder
        .m_cost(params.m_cost_kib)
        .t_cost(params.t_cost)
        .p_cost(params.p_cost)
        .output_len(out.len());
    if !ad.is_empty() {
        builder.data(argon2::AssociatedData::new(ad).map_err(|_| CryptoError)?);
    }
    let argon_params = builder.build().map_err(|_| CryptoError)?;
    let argon = if secret.is_empty() {
        argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon_params,
        )
    } else {
        argon2::Argon2::new_with_secret(
            secret,
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon_params,
        )
        .map_err(|_| CryptoError)?
    };
    argon
        .hash_password_into(password, salt, out)
        .map_err(|_| CryptoError)
}

/// Derives the master key from a password (RFC 9106 Argon2id). Pays the full cost every time.
pub fn derive_master_key(
    password: &Passphrase,
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<MasterKey, CryptoError> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon2id_raw(
        password.0.expose_secret(),
        salt,
        params,
        &[],
        &[],
        out.as_mut(),
    )?;
    Ok(MasterKey::from_array(*out))
}

/// HKDF-SHA256 (RFC 5869): extract with `salt` (none = zeros), then expand with `info`.
pub(crate) fn hkdf_sha256(
    ikm: &[u8],
    salt: Option<&[u8]>,
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    hkdf::Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out)
        .map_err(|_| CryptoError)
}

/// HMAC-SHA256 (RFC 2104 with SHA-256; test vectors from RFC 4231).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Like [`hmac_sha256`], over several parts fed in order (no separator is added).
pub(crate) fn hmac_sha256_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// SHA-256 of public data (binary pinning, checksums). Not for secrets.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of everything `reader` yields, read in 64 KiB pieces (a binary to pin).
pub fn sha256_reader(mut reader: impl std::io::Read) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..n]);
    }
}

/// AES-256-GCM encryption with an explicit nonce (NIST SP 800-38D); returns `ciphertext || tag`.
pub(crate) fn gcm_seal_with_nonce(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError)?;
    cipher
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError)
}

/// AES-256-GCM decryption of `ciphertext || tag` with an explicit nonce (NIST SP 800-38D).
pub(crate) fn gcm_open_with_nonce(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError)?;
    cipher
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError)
}

/// Encrypts `plaintext` into a blob `nonce(12) || ciphertext || tag(16)` with a fresh random nonce.
fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce);
    let sealed = gcm_seal_with_nonce(key, &nonce, aad, plaintext)?;
    let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypts a blob made by [`seal`].
fn open(key: &[u8; KEY_LEN], aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError);
    }
    let (nonce, rest) = blob.split_at(NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError)?;
    gcm_open_with_nonce(key, nonce, aad, rest)
}

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Panics
/// When the OS has no entropy source: no key may ever be made from anything weaker.
pub fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator is available");
}

/// A fresh random salt.
pub fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt);
    salt
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl MasterKey {
    fn wrap_key(&self) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        let mut wrap = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(self.bytes(), None, b"dek-v1", wrap.as_mut())?;
        Ok(wrap)
    }

    /// Encrypts the DEK under this master key, bound to the vault's id.
    pub fn wrap_dek(&self, dek: &Dek, vault_id: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&*self.wrap_key()?, vault_id, dek.bytes())
    }

    /// Decrypts the wrapped DEK. Failure means a wrong password or a damaged vault; the two
    /// cannot be told apart, by design.
    pub fn unwrap_dek(&self, wrapped: &[u8], vault_id: &[u8]) -> Result<Dek, CryptoError> {
        let plain = open(&*self.wrap_key()?, vault_id, wrapped)?;
        let bytes: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| CryptoError)?;
        Ok(Dek::from_array(bytes))
    }
}

impl Dek {
    /// A new random DEK (made once, at `init`).
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        fill_random(&mut bytes);
        Dek::from_array(bytes)
    }

    /// Derives a sub-key for one purpose (RFC 5869 HKDF-SHA256, no salt).
    pub fn derive(&self, info: &'static str) -> SubKey {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(self.bytes(), None, info.as_bytes(), out.as_mut())
            .expect("HKDF-SHA256 can expand 32 bytes");
        SubKey::from_array(*out)
    }

    /// Encrypts a value bound to `aad` (the blob's place in the vault).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(self.bytes(), aad, plaintext)
    }

    /// Decrypts a value sealed under the same `aad`.
    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(self.bytes(), aad, blob)
    }
}

impl SubKey {
    /// A fresh random key for one run only, never stored: e.g. to tell equal values apart
    /// by their MACs without keeping the values.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        fill_random(&mut bytes);
        let key = SubKey::from_array(bytes);
        bytes.zeroize();
        key
    }

    /// HMAC-SHA256 of `message` under this key.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        hmac_sha256(self.bytes(), message)
    }

    /// HMAC-SHA256 over parts fed in order.
    pub fn mac_parts(&self, parts: &[&[u8]]) -> [u8; 32] {
        hmac_sha256_parts(self.bytes(), parts)
    }

    /// Checks a MAC in constant time.
    pub fn verify_parts(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        constant_time_eq(&self.mac_parts(parts), expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dek_wrap_round_trips_and_binds_vault_id() {
        let params = KdfParams {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        };
        let salt = random_salt();
        let mk = derive_master_key(&Passphrase::new(b"pw".to_vec()), &salt, &params).unwrap();
        let dek = Dek::generate();
        let wrapped = mk.wrap_dek(&dek, b"vault-a").unwrap();
        let back = mk.unwrap_dek(&wrapped, b"vault-a").unwrap();
        assert_eq!(back.bytes(), dek.bytes());
        assert!(mk.unwrap_dek(&wrapped, b"vault-b").is_err());
        let other = derive_master_key(&Passphrase::new(b"pX".to_vec()), &salt, &params).unwrap();
        assert!(other.unwrap_dek(&wrapped, b"vault-a").is_err());
    }

    #[test]
    fn sealed_blobs_use_fresh_nonces_and_reject_tampering() {
        let dek = Dek::generate();
        let a = dek.seal(b"aad", b"value").unwrap();
        let b = dek.seal(b"aad", b"value").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_eq!(dek.open(b"aad", &a).unwrap().as_slice(), b"value");
        for i in 0..a.len() {
            let mut bad = a.clone();
            bad[i] ^= 0x01;
            assert!(dek.open(b"aad", &bad).is_err(), "flip at {i} accepted");
        }
        assert!(dek.open(b"aaX", &a).is_err());
        assert!(dek.open(b"aad", &a[..a.len() - 1]).is_err());
        assert!(dek.open(b"aad", &a[..NONCE_LEN + TAG_LEN - 1]).is_err());
    }

    #[test]
    fn subkeys_differ_by_purpose() {
        let dek = Dek::generate();
        let a = dek.derive("audit-log-v1").mac(b"x");
        let b = dek.derive("key-index-v1").mac(b"x");
        assert_ne!(a, b);
    }

    #[test]
    fn seed_params_are_acceptable_and_weaker_ones_are_not() {
        assert!(KdfParams::SEED.is_acceptable());
        let mut weak = KdfParams::SEED;
        weak.m_cost_kib = 1024;
        assert!(!weak.is_acceptable());
    }
}
