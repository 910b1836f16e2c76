//! The backup reader (`backup::Reader`: `new` with its header parsing, `key_from_key_file`,
//! `decrypt`) on arbitrary files, with a fixed key file (no Argon2: key-file keys are one HKDF).
//!
//! The first input byte is a mode, the rest is the file. Mode bit 0: before reading, recompute
//! the key check (HMAC under the fixed key file and the file's salt) and the header checksum of
//! the first 127 bytes, so that mutated header fields (lengths, flags, KDF parameters, nonce
//! prefix) get past both and reach the field checks and the decryption. Mode bit 1: tell the
//! reader the file is `2^(mode >> 2)` bytes longer than it is.
//!
//! Seeds (`fuzz/make_backup_seeds.py`, an independent implementation of `docs/backup.md`) are
//! real backups under the fixed key file, data key, salt and nonce prefix, holding a snapshot
//! whose byte `i` is `(31 i + 7) mod 251`; the target checks at start-up that the reader opens
//! its own reference backup built with `crypto::Sealer` to exactly that. Never panics, never
//! allocates more than the file and one chunk, and:
//!
//! - `Reader::new` fails only with `Damaged` or `NewerFormat`; `key_from_key_file` only with
//!   `NotKeyFile` or `WrongKeyFile`, and never `WrongKeyFile` once the key check was recomputed;
//!   `decrypt` only with `Damaged`;
//! - every error message is one line, and its class is the documented one (damage `Failed`,
//!   a wrong key file `Auth`, a key file for a password backup `Usage`);
//! - a file opens only when the reader was told its true length, and then it decrypts to
//!   exactly the data key and the snapshot it was written with (`payload_len` = 32 + the
//!   snapshot's length): AES-GCM with the header as associated data, so a changed byte anywhere
//!   is damage, never a different plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::backup::{Error, HEADER_LEN, KeyKind, MAGIC, Reader};
use secretctl_core::crypto::{
    BackupKey, CHUNK_LEN, Dek, KEY_LEN, KeyFile, NONCE_PREFIX_LEN, SALT_LEN, Sealer, sha256,
};
use secretctl_core::vault::ErrorClass;
use std::path::Path;
use std::sync::OnceLock;

const SALT: [u8; SALT_LEN] = [0x53; SALT_LEN];
const NONCE_PREFIX: [u8; NONCE_PREFIX_LEN] = [0x4e; NONCE_PREFIX_LEN];

fn key_file() -> KeyFile {
    KeyFile::from_bytes(&std::array::from_fn::<u8, 32, _>(|i| i as u8)).expect("32 bytes")
}

fn dek_bytes() -> [u8; KEY_LEN] {
    std::array::from_fn(|i| 32 + i as u8)
}

fn snapshot(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// Recomputes the key check (bytes 63..95) and the header checksum (95..127).
fn fix_up(file: &mut [u8]) {
    if file.len() < HEADER_LEN {
        return;
    }
    let salt: [u8; SALT_LEN] = file[28..44].try_into().expect("16 bytes");
    let check = BackupKey::from_key_file(&key_file(), &salt).check_value(&file[..63]);
    file[63..95].copy_from_slice(&check);
    let sum = sha256(&file[..95]);
    file[95..HEADER_LEN].copy_from_slice(&sum);
}

/// A key-file backup of `snapshot(db_len)`, as `backup::write` lays it out.
fn reference(db_len: usize) -> Vec<u8> {
    let payload_len = (KEY_LEN + db_len) as u64;
    let mut file = vec![0u8; HEADER_LEN];
    file[..8].copy_from_slice(&MAGIC);
    file[8..12].copy_from_slice(&(HEADER_LEN as u32).to_be_bytes());
    file[12..14].copy_from_slice(&1u16.to_be_bytes());
    file[14] = 2;
    file[28..44].copy_from_slice(&SALT);
    file[44..51].copy_from_slice(&NONCE_PREFIX);
    file[51..55].copy_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
    file[55..63].copy_from_slice(&payload_len.to_be_bytes());
    fix_up(&mut file);
    let key = BackupKey::from_key_file(&key_file(), &SALT);
    let mut sealer =
        Sealer::new(&key, NONCE_PREFIX, file.clone(), payload_len, Vec::new()).expect("sealer");
    sealer.push(&dek_bytes()).expect("data key");
    sealer.push(&snapshot(db_len)).expect("snapshot");
    file.extend(sealer.finish().expect("sealed"));
    file
}

/// The data key of every seed, as the reader returns it from the reference backup.
fn reference_dek() -> &'static Dek {
    static DEK: OnceLock<Dek> = OnceLock::new();
    DEK.get_or_init(|| {
        let file = reference(1);
        let path = Path::new("reference.bak");
        let reader = Reader::new(&file[..], file.len() as u64, path).expect("reference header");
        let key = reader
            .key_from_key_file(&key_file())
            .expect("reference key");
        let mut out = Vec::new();
        let dek = reader.decrypt(&key, &mut out).expect("reference decrypts");
        assert_eq!(out, snapshot(1));
        dek
    })
}

/// One line, and the class the error's kind documents.
fn check(err: &Error) {
    assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
    let class = match err {
        Error::Damaged(_) | Error::NewerFormat { .. } => ErrorClass::Failed,
        Error::WrongKeyFile(_) => ErrorClass::Auth,
        Error::NotKeyFile(_) => ErrorClass::Usage,
        _ => panic!("unexpected error kind: {err:?}"),
    };
    assert_eq!(err.class(), class);
}

fuzz_target!(|data: &[u8]| {
    let dek = reference_dek();
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    let fixed = mode & 1 != 0;
    if fixed {
        fix_up(&mut file);
    }
    let honest = mode & 2 == 0;
    let total_len = if honest {
        file.len() as u64
    } else {
        file.len() as u64 + (1u64 << (mode >> 2))
    };
    let path = Path::new("fuzz.bak");

    let reader = match Reader::new(&file[..], total_len, path) {
        Ok(reader) => reader,
        Err(err) => {
            check(&err);
            assert!(matches!(err, Error::Damaged(_) | Error::NewerFormat { .. }));
            return;
        }
    };
    let header = reader.header().clone();
    let key = match reader.key_from_key_file(&key_file()) {
        Ok(key) => key,
        Err(err) => {
            check(&err);
            match err {
                Error::NotKeyFile(_) => assert_ne!(header.kind, KeyKind::KeyFile),
                Error::WrongKeyFile(_) => assert!(!fixed, "the recomputed key check failed"),
                _ => panic!("key_from_key_file: {err:?}"),
            }
            return;
        }
    };
    let mut out = Vec::new();
    match reader.decrypt(&key, &mut out) {
        Ok(got) => {
            assert!(honest, "a file opened at a length it does not have");
            assert_eq!(header.kind, KeyKind::KeyFile);
            assert!(got.same_key(dek), "decrypted to another data key");
            assert_eq!(header.payload_len, (KEY_LEN + out.len()) as u64);
            assert!(out == snapshot(out.len()), "decrypted to another snapshot");
        }
        Err(err) => {
            check(&err);
            assert!(matches!(err, Error::Damaged(_)), "decrypt: {err:?}");
        }
    }
});
