#!/usr/bin/env python3
"""Writes the seed corpus of the `backup_reader` fuzz target (fuzz/corpus/backup_reader/).

An independent implementation of the backup format of docs/backup.md (key-file backups only),
with the `cryptography` package. The target accepts a file only if it decrypts to its fixed
data key and snapshot pattern, so these seeds opening cleanly (no crash on the seed corpus)
checks this implementation and the reader against each other.

Each seed is one mode byte (bit 0: the target recomputes the key check and the header checksum)
followed by the file. Key file, data key, salt and nonce prefix are the fixed values the target
uses; the snapshot is the target's pattern. Run from the repository root:

    python3 fuzz/make_backup_seeds.py
"""

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = bytes(range(32))
DEK = bytes(range(32, 64))
SALT = b"\x53" * 16
NONCE_PREFIX = b"\x4e" * 7
CHUNK_LEN = 65536
HEADER_LEN = 127


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def keys(salt):
    root = hkdf(KEY_FILE, salt, b"secretctl-backup-key-file-v1")
    return hkdf(root, None, b"secretctl-backup-enc-v1"), hkdf(root, None, b"secretctl-backup-check-v1")


def snapshot(n):
    return bytes((i * 31 + 7) % 251 for i in range(n))


def header(payload_len, kind=2, flags=0, kdf=(0, 0, 0), version=1):
    _, check = keys(SALT)
    h = b"SCTL-BAK" + struct.pack(">IHBB", HEADER_LEN, version, kind, flags)
    h += struct.pack(">III", *kdf) + SALT + NONCE_PREFIX + struct.pack(">IQ", CHUNK_LEN, payload_len)
    h += hmac.new(check, h, hashlib.sha256).digest()
    return h + hashlib.sha256(h).digest()


def backup(db_len, **kw):
    payload = DEK + snapshot(db_len)
    head = header(len(payload), **kw)
    enc, _ = keys(SALT)
    aead = AESGCM(enc)
    out = head
    chunks = [payload[i : i + CHUNK_LEN] for i in range(0, len(payload), CHUNK_LEN)]
    for counter, chunk in enumerate(chunks):
        last = counter == len(chunks) - 1
        nonce = NONCE_PREFIX + struct.pack(">IB", counter, int(last))
        out += aead.encrypt(nonce, chunk, head)
    return out


SEEDS = {
    # A one-byte snapshot, read as it is.
    "one_byte": b"\x00" + backup(1),
    # With the audit flag; the target fixes the header up after mutating it.
    "audit_fixup": b"\x01" + backup(200, flags=1),
    # Two chunks: the second one short, with the `last` flag.
    "two_chunks": b"\x00" + backup(CHUNK_LEN - 32 + 100),
    # A password backup (master password, the seed's Argon2id parameters): the key file is
    # refused before any KDF.
    "password": b"\x01" + backup(5, kind=1, flags=2, kdf=(65536, 3, 4)),
    # Format version 2.
    "newer_format": b"\x01" + backup(5, version=2),
}

if __name__ == "__main__":
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "backup_reader")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")
