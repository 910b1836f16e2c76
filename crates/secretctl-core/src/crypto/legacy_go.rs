//! The keys of a vault made by the original Go secretctl (v0.8.x), for reading it once during
//! `import --from secretctl-go` (`formats/secretctl-go.md`). Never used to write anything.
//!
//! ```text
//! KEK      = Argon2id(password, salt, t=3, m=64 MiB, p=4, 32 bytes)      RFC 9106
//! DEK      = AES-256-GCM-Open(KEK, dek_nonce, encrypted_dek, no AAD)     NIST SP 800-38D
//! blob     = nonce(12) || ciphertext || tag(16) under the DEK, no AAD
//! key_hash = hex(HMAC-SHA256(DEK, key name))                            RFC 2104
//! ```
//!
//! The Go format has no associated data, so a blob moved to another row or column still
//! decrypts there; the importer checks `key_hash` against each decrypted name to catch at least
//! swapped names. Like the rest of this module, the key type zeroizes on drop and has no
//! `Debug`; failures are the one opaque [`CryptoError`].

use zeroize::Zeroizing;

use super::{
    CryptoError, KEY_LEN, KdfParams, NONCE_LEN, Passphrase, TAG_LEN, argon2id_raw,
    constant_time_eq, gcm_open_with_nonce, hmac_sha256,
};
use secrecy::ExposeSecret;

/// The Argon2id cost the Go tool used (fixed there, not stored in its vault).
const GO_KDF: KdfParams = KdfParams {
    m_cost_kib: 64 * 1024,
    t_cost: 3,
    p_cost: 4,
};

/// The data-encryption key of a Go secretctl vault.
pub struct GoDek(Zeroizing<[u8; KEY_LEN]>);

impl GoDek {
    /// Derives the KEK from `password` and `salt` (Argon2id, RFC 9106) and opens the wrapped DEK
    /// with it (AES-256-GCM, NIST SP 800-38D). Pays the full KDF cost. A failure means a wrong
    /// password or a damaged key row; the two cannot be told apart.
    pub fn unwrap(
        password: &Passphrase,
        salt: &[u8],
        dek_nonce: &[u8],
        encrypted_dek: &[u8],
    ) -> Result<GoDek, CryptoError> {
        let mut kek = Zeroizing::new([0u8; KEY_LEN]);
        argon2id_raw(
            password.0.expose_secret(),
            salt,
            &GO_KDF,
            &[],
            &[],
            kek.as_mut(),
        )?;
        let nonce: &[u8; NONCE_LEN] = dek_nonce.try_into().map_err(|_| CryptoError)?;
        let plain = gcm_open_with_nonce(&kek, nonce, &[], encrypted_dek)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if plain.len() != KEY_LEN {
            return Err(CryptoError);
        }
        key.copy_from_slice(&plain);
        Ok(GoDek(key))
    }

    /// Decrypts one `nonce || ciphertext || tag` blob of the vault (no associated data).
    pub fn open(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError);
        }
        let (nonce, rest) = blob.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError)?;
        gcm_open_with_nonce(&self.0, nonce, &[], rest)
    }

    /// Whether `stored` (hex, either case) is HMAC-SHA256(DEK, `name`), compared in constant
    /// time.
    pub fn key_hash_matches(&self, name: &[u8], stored: &str) -> bool {
        let Ok(stored) = hex::decode(stored.trim()) else {
            return false;
        };
        constant_time_eq(&hmac_sha256(self.0.as_ref(), name), &stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::gcm_seal_with_nonce;

    #[test]
    fn open_rejects_short_and_flipped_blobs() {
        let dek = GoDek(Zeroizing::new([7u8; KEY_LEN]));
        let nonce = [1u8; NONCE_LEN];
        let mut blob = nonce.to_vec();
        blob.extend(gcm_seal_with_nonce(&[7u8; KEY_LEN], &nonce, &[], b"hello").unwrap());
        assert_eq!(dek.open(&blob).unwrap().as_slice(), b"hello");
        let mut bad = blob.clone();
        bad[NONCE_LEN] ^= 1;
        assert!(dek.open(&bad).is_err());
        assert!(dek.open(&blob[..NONCE_LEN + TAG_LEN - 1]).is_err());
    }

    #[test]
    fn key_hash_is_hex_hmac_of_the_name() {
        let dek = GoDek(Zeroizing::new([7u8; KEY_LEN]));
        let good = hex::encode(hmac_sha256(&[7u8; KEY_LEN], b"aws/key"));
        assert!(dek.key_hash_matches(b"aws/key", &good));
        assert!(dek.key_hash_matches(b"aws/key", &good.to_uppercase()));
        assert!(!dek.key_hash_matches(b"aws/kez", &good));
        assert!(!dek.key_hash_matches(b"aws/key", "not hex"));
    }
}
