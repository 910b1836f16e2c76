//! Attacks by someone who can write to the vault directory but does not know the master
//! password (SPEC §3.1, §8, §12): flipped, swapped and moved ciphertext, and every way of
//! editing the audit log with the `sqlite3` CLI. Each attack runs on a fresh copy of the vault.

mod harness;

use harness::*;
use std::path::{Path, PathBuf};

const VICTIM: &[u8] = b"victim-value-0123456789";
const BYSTANDER: &[u8] = b"bystander-value";

/// A vault holding `victim` (with notes and url) and `bystander`; returns the victim's row id.
fn victim_and_bystander() -> (TestVault, String) {
    let v = TestVault::new();
    v.run_with_stdin(
        &[
            "set",
            "victim",
            "--keep-newline",
            "--notes",
            "rotated monthly",
            "--url",
            "https://example.com/console",
        ],
        VICTIM,
    )
    .ok("set victim");
    let victim_id = v.sql("SELECT id FROM secrets");
    v.set("bystander", BYSTANDER);
    (v, victim_id)
}

fn row(id: &str) -> String {
    format!("id = '{id}'")
}

/// `get victim` fails as vault damage naming the secret and the file; `list` either refuses
/// naming the file or (when it needs no damaged column) shows both secrets — it never quietly
/// leaves the victim out; the bystander still reads back exactly.
fn assert_only_victim_broken(dir: &Path, what: &str) {
    let line = secretctl(dir, &["get", "victim"]).failure(4, &format!("{what}: get victim"));
    assert!(
        line.contains("'victim'") && line.contains("vault.db"),
        "{what}: message must name the secret and vault.db: {line}"
    );
    let list = secretctl(dir, &["list"]);
    if list.code == Some(0) {
        assert_eq!(
            list.ok_text(&format!("{what}: list")),
            "bystander\nvictim\n",
            "{what}"
        );
    } else {
        let line = list.failure(4, &format!("{what}: list"));
        assert!(
            line.contains("vault.db"),
            "{what}: list must name vault.db: {line}"
        );
    }
    let out = secretctl(dir, &["get", "bystander"]);
    assert_eq!(
        out.ok(&format!("{what}: get bystander")),
        BYSTANDER,
        "{what}"
    );
}

#[test]
fn flipped_byte_in_nonce_body_or_tag_of_any_column_fails_only_that_secret() {
    let (v, id) = victim_and_bystander();
    for column in [
        "encrypted_value",
        "encrypted_key",
        "encrypted_notes",
        "encrypted_url",
    ] {
        let blob = read_blob(&v.db(), "secrets", column, &row(&id));
        assert!(blob.len() > 12 + 16, "{column}: nonce || ciphertext || tag");
        for (place, at) in [("nonce", 0), ("body", 12), ("tag", blob.len() - 1)] {
            let what = format!("{column} {place} byte {at} flipped");
            let dir = v.copy(&format!("{column}-{place}"));
            let mut bad = blob.clone();
            bad[at] ^= 0x01;
            write_blob(&dir.join("vault.db"), "secrets", column, &row(&id), &bad);
            assert_only_victim_broken(&dir, &what);
        }
    }
}

#[test]
fn swapped_values_fail_both_secrets() {
    let (v, _) = victim_and_bystander();
    v.sql(
        "CREATE TEMP TABLE t AS SELECT id, encrypted_value FROM secrets;
         UPDATE secrets SET encrypted_value =
           (SELECT t.encrypted_value FROM t WHERE t.id <> secrets.id);",
    );
    for key in ["victim", "bystander"] {
        let line = v
            .run(&["get", key])
            .failure(4, &format!("get {key} after value swap"));
        assert!(
            line.contains(&format!("'{key}'")) && line.contains("vault.db"),
            "{line}"
        );
    }
}

#[test]
fn swapped_key_hashes_fail_both_secrets_instead_of_answering_with_the_other() {
    let (v, _) = victim_and_bystander();
    // key_hash is UNIQUE: go through a placeholder.
    v.sql(
        "CREATE TEMP TABLE t AS SELECT id, key_hash FROM secrets;
         UPDATE secrets SET key_hash = randomblob(32);
         UPDATE secrets SET key_hash = (SELECT t.key_hash FROM t WHERE t.id <> secrets.id);",
    );
    for key in ["victim", "bystander"] {
        // `failure` also proves stdout is empty: the other secret's value is never printed.
        let line = v
            .run(&["get", key])
            .failure(4, &format!("get {key} after key_hash swap"));
        assert!(
            line.contains(&format!("'{key}'")) && line.contains("vault.db"),
            "{line}"
        );
    }
}

#[test]
fn changed_row_id_fails_the_secret() {
    let (v, id) = victim_and_bystander();
    v.sql(&format!(
        "UPDATE secrets SET id = '00000000-0000-4000-8000-000000000001' WHERE {}",
        row(&id)
    ));
    assert_only_victim_broken(&v.dir, "row id changed");
}

#[test]
fn ciphertext_moved_to_another_column_of_the_same_row_fails() {
    let (v, id) = victim_and_bystander();
    v.sql(&format!(
        "UPDATE secrets SET encrypted_notes = encrypted_url WHERE {}",
        row(&id)
    ));
    assert_only_victim_broken(&v.dir, "url blob moved into notes");
}

/// A multi-field secret (a database template: a sensitive password, a plain host, PG* bindings)
/// and its row id.
fn database_secret() -> (TestVault, String) {
    let v = TestVault::new();
    v.run_with_stdin(
        &[
            "set",
            "db",
            "--template",
            "database",
            "--field",
            "password=-",
            "--field",
            "host=localhost",
        ],
        b"hunter2",
    )
    .ok("set db --template database");
    let id = v.sql("SELECT id FROM secrets");
    v.set("bystander", BYSTANDER);
    (v, id)
}

#[test]
fn flipped_byte_in_fields_or_bindings_fails_the_secret() {
    let (v, id) = database_secret();
    for column in ["encrypted_fields", "encrypted_bindings"] {
        let mut blob = read_blob(&v.db(), "secrets", column, &row(&id));
        let dir = v.copy(column);
        let last = blob.len() - 1;
        blob[last] ^= 0x80;
        write_blob(&dir.join("vault.db"), "secrets", column, &row(&id), &blob);
        let line = secretctl(&dir, &["get", "db", "--json"]).failure(4, column);
        assert!(
            line.contains("'db'") && line.contains("vault.db"),
            "{column}: {line}"
        );
        let out = secretctl(&dir, &["get", "bystander"]);
        assert_eq!(out.ok(&format!("{column}: get bystander")), BYSTANDER);
    }
}

/// Regression: with `encrypted_fields` set to NULL, a multi-field secret read as a plain secret
/// with an empty value (`get` printed nothing and exited 0). Each row now carries a MAC over
/// every column, NULLs included.
#[test]
fn multi_field_secret_stripped_of_its_fields_is_not_read_as_an_empty_value() {
    let (v, id) = database_secret();
    v.sql(&format!(
        "UPDATE secrets SET encrypted_fields = NULL, encrypted_bindings = NULL WHERE {}",
        row(&id)
    ));
    for args in [&["get", "db"][..], &["get", "db", "--json"]] {
        let line = v.run(args).failure(4, &args.join(" "));
        assert!(line.contains("'db'") && line.contains("vault.db"), "{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// The audit chain.

/// A vault whose audit log holds exactly these ten records, and the authentic anchor as it
/// stood after record 5:
/// 1 init, 2 set a, 3 set b, 4 get a, 5 get b, 6 get missing (failed), 7 list, 8 set c,
/// 9 get c, 10 list.
fn ten_records() -> (TestVault, Vec<u8>) {
    let v = TestVault::new();
    v.set("a", b"1");
    v.set("b", b"2");
    v.get("a");
    v.get("b");
    let anchor_at_5 = read_blob(&v.db(), "metadata", "value", "key = 'audit_anchor'");
    v.run(&["get", "missing"]).failure(1, "get missing");
    v.run(&["list"]).ok("list");
    v.set("c", b"3");
    v.get("c");
    v.run(&["list"]).ok("list");
    assert_eq!(
        v.sql("SELECT count(*), max(seq), action, success, error_msg IS NULL, key_hash IS NOT NULL FROM audit_log WHERE seq = 5"),
        "1|5|get|1|1|1",
    );
    assert_eq!(v.sql("SELECT count(*), max(seq) FROM audit_log"), "10|10");
    (v, anchor_at_5)
}

/// A fresh copy of the vault with `sql` applied by the `sqlite3` CLI.
fn tampered(v: &TestVault, name: &str, sql: &str) -> PathBuf {
    let dir = v.copy(name);
    sqlite3(&dir.join("vault.db"), sql);
    dir
}

/// `audit verify` exits 1 and names exactly `seq` as the first bad record.
fn verify_fails_at(dir: &Path, seq: i64, what: &str) -> String {
    let line = secretctl(dir, &["audit", "verify"]).failure(1, what);
    assert!(
        line.contains(&format!("failed at seq {seq}:")),
        "{what}: expected first bad seq {seq}: {line}"
    );
    line
}

#[test]
fn changing_any_column_of_a_middle_record_is_reported_at_its_seq() {
    let (v, _) = ten_records();
    let at5 = "WHERE seq = 5";
    for (column, set) in [
        ("seq", "seq = 1000".to_owned()),
        ("id", "id = '00000000-0000-4000-8000-000000000005'".into()),
        ("timestamp", "timestamp = timestamp - 86400000".into()),
        ("action", "action = 'list'".into()),
        // Point the record at another key: hides which secret was read.
        (
            "key_hash",
            "key_hash = (SELECT key_hash FROM audit_log WHERE seq = 4)".into(),
        ),
        ("source", "source = 'mcp'".into()),
        ("success", "success = 0".into()),
        ("error_msg", "error_msg = 'not_found'".into()),
        ("detail", "detail = '{\"count\":0}'".into()),
        ("prev_hash", "prev_hash = zeroblob(32)".into()),
        (
            "hash",
            "hash = (SELECT hash FROM audit_log WHERE seq = 4)".into(),
        ),
    ] {
        let dir = tampered(&v, column, &format!("UPDATE audit_log SET {set} {at5}"));
        verify_fails_at(&dir, 5, &format!("audit_log.{column} of seq 5 changed"));
    }
}

#[test]
fn removing_records_is_reported_at_the_first_missing_seq() {
    let (v, _) = ten_records();
    for (name, sql, first_bad) in [
        ("middle", "DELETE FROM audit_log WHERE seq = 5", 5),
        ("last-1", "DELETE FROM audit_log WHERE seq = 10", 10),
        ("last-5", "DELETE FROM audit_log WHERE seq > 5", 6),
        ("all", "DELETE FROM audit_log", 1),
    ] {
        let dir = tampered(&v, name, sql);
        let line = verify_fails_at(&dir, first_bad, name);
        if name == "all" {
            assert!(line.contains("empty"), "an emptied log says so: {line}");
        }
    }
}

#[test]
fn swapping_two_records_is_reported_at_the_first_of_them() {
    let (v, _) = ten_records();
    // Every column but seq trades places (ids go through placeholders: they are UNIQUE).
    let contents = tampered(
        &v,
        "contents",
        "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (5, 6);
         UPDATE audit_log SET id = 'placeholder-' || seq WHERE seq IN (5, 6);
         UPDATE audit_log SET (id, timestamp, action, key_hash, source, success, error_msg,
                               detail, prev_hash, hash) =
           (SELECT id, timestamp, action, key_hash, source, success, error_msg, detail,
                   prev_hash, hash FROM t WHERE t.seq = 11 - audit_log.seq)
         WHERE seq IN (5, 6);",
    );
    assert_eq!(
        sqlite3(
            &contents.join("vault.db"),
            "SELECT action || ',' || success FROM audit_log WHERE seq IN (5, 6) ORDER BY seq"
        ),
        "get,0\nget,1",
        "the swap happened"
    );
    verify_fails_at(&contents, 5, "contents of 5 and 6 swapped");

    let seqs = tampered(
        &v,
        "seqs",
        "UPDATE audit_log SET seq = -1 WHERE seq = 5;
         UPDATE audit_log SET seq = 5 WHERE seq = 6;
         UPDATE audit_log SET seq = 6 WHERE seq = -1;",
    );
    verify_fails_at(&seqs, 5, "seq of 5 and 6 swapped");

    let far = tampered(
        &v,
        "far",
        "UPDATE audit_log SET seq = -1 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 8;
         UPDATE audit_log SET seq = 8 WHERE seq = -1;",
    );
    verify_fails_at(&far, 3, "seq of 3 and 8 swapped");
}

/// Regression: a record planted at the seq the next append would take made `audit verify`
/// fail with "UNIQUE constraint failed: audit_log.seq" instead of naming the bad seq.
#[test]
fn record_planted_after_the_head_is_reported_at_its_seq() {
    let (v, _) = ten_records();
    let forged = tampered(
        &v,
        "forged",
        "INSERT INTO audit_log
           SELECT 11, '00000000-0000-4000-8000-000000000011', timestamp + 1, 'get', key_hash,
                  source, success, error_msg, detail, hash, hash
           FROM audit_log WHERE seq = 10",
    );
    verify_fails_at(&forged, 11, "record 11 planted");

    let moved = tampered(&v, "moved", "UPDATE audit_log SET seq = 11 WHERE seq = 5");
    verify_fails_at(&moved, 5, "record 5 moved to seq 11");
}

#[test]
fn tampered_audit_anchor_is_vault_damage() {
    let (v, _) = ten_records();
    let anchor = String::from_utf8(read_blob(
        &v.db(),
        "metadata",
        "value",
        "key = 'audit_anchor'",
    ))
    .expect("the anchor is JSON text");
    assert!(anchor.contains("\"last_seq\":10"), "{anchor}");
    let set_anchor = |text: &str| {
        format!(
            "UPDATE metadata SET value = X'{}' WHERE key = 'audit_anchor'",
            hex::encode(text)
        )
    };
    let mac_start = anchor.find("\"mac\":\"").expect("anchor has a mac") + 7;
    let mut flipped_mac = anchor.clone().into_bytes();
    flipped_mac[mac_start] = if flipped_mac[mac_start] == b'0' {
        b'1'
    } else {
        b'0'
    };
    for (name, sql) in [
        (
            "mac",
            set_anchor(std::str::from_utf8(&flipped_mac).expect("ASCII")),
        ),
        // Hide a truncated tail by moving the head back, without the key to re-MAC it.
        (
            "head-moved-back",
            format!(
                "DELETE FROM audit_log WHERE seq = 10; {}",
                set_anchor(&anchor.replace("\"last_seq\":10", "\"last_seq\":9"))
            ),
        ),
        (
            "deleted",
            "DELETE FROM metadata WHERE key = 'audit_anchor'".into(),
        ),
        ("garbage", set_anchor("not json")),
    ] {
        let dir = tampered(&v, name, &sql);
        let line = secretctl(&dir, &["audit", "verify"]).failure(4, &format!("anchor {name}"));
        assert!(
            line.contains("vault.db") && line.contains("audit anchor"),
            "anchor {name}: {line}"
        );
        // Every other operation fails closed too, and prints no value.
        let line = secretctl(&dir, &["get", "a"]).failure(4, &format!("anchor {name}: get a"));
        assert!(line.contains("audit anchor"), "anchor {name}: {line}");
    }
}

#[test]
fn truncation_hidden_by_replaying_an_old_anchor_is_caught_by_vault_meta() {
    let (v, anchor_at_5) = ten_records();
    let dir = tampered(
        &v,
        "replayed",
        &format!(
            "DELETE FROM audit_log WHERE seq > 5;
             UPDATE metadata SET value = X'{}' WHERE key = 'audit_anchor'",
            hex::encode(&anchor_at_5)
        ),
    );
    let line = verify_fails_at(&dir, 6, "old anchor replayed over a truncated log");
    assert!(line.contains("rolled back"), "{line}");
}

#[test]
fn prune_leaves_a_checkpoint_that_verifies_and_cannot_be_cut_away() {
    let (v, _) = ten_records();

    // A broken chain is never pruned (pruning would launder the evidence).
    let broken = tampered(
        &v,
        "broken",
        "UPDATE audit_log SET success = 0 WHERE seq = 5",
    );
    let line = secretctl(&broken, &["audit", "prune", "--older-than", "0s"])
        .failure(1, "prune of a broken chain");
    assert!(line.contains("first bad record 5"), "{line}");

    // Everything before the cutoff goes; the checkpoint record starts the chain.
    let out = v.run(&["audit", "prune", "--older-than", "0s"]);
    assert!(
        out.ok_text("prune").starts_with("pruned 10 audit records"),
        "{out:?}"
    );
    v.run(&["audit", "verify"]).ok("verify after prune");
    let records = audit_records(&v.dir, 100);
    let seqs: Vec<i64> = records.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [11, 12], "records 1-10 pruned; 11 prune, 12 verify");
    let checkpoint = &records[0];
    assert_eq!(checkpoint["action"], "audit_prune", "{checkpoint}");
    assert_eq!(checkpoint["success"], true, "{checkpoint}");
    assert_eq!(checkpoint["detail"]["pruned"], 10, "{checkpoint}");
    assert_eq!(checkpoint["detail"]["last_pruned_seq"], 10, "{checkpoint}");
    assert_eq!(
        checkpoint["detail"]["last_pruned_hash"], checkpoint["prev_hash"],
        "the checkpoint links to the last pruned record"
    );

    // The new start and the rest of the chain are anchored like before.
    let checkpoint_cut = tampered(&v, "checkpoint-cut", "DELETE FROM audit_log WHERE seq = 11");
    verify_fails_at(&checkpoint_cut, 11, "prune checkpoint deleted");
    let count_edited = tampered(
        &v,
        "count-edited",
        "UPDATE audit_log SET detail = replace(detail, '\"pruned\":10', '\"pruned\":1') WHERE seq = 11",
    );
    verify_fails_at(&count_edited, 11, "prune count edited");
    let tail_cut = tampered(&v, "tail-cut", "DELETE FROM audit_log WHERE seq = 12");
    verify_fails_at(&tail_cut, 12, "record after the checkpoint deleted");
    // Records re-inserted before the checkpoint do not belong to the chain any more.
    let replanted = tampered(
        &v,
        "replanted",
        "INSERT INTO audit_log SELECT 10, 'replanted', timestamp, action, key_hash, source,
           success, error_msg, detail, prev_hash, hash FROM audit_log WHERE seq = 11",
    );
    verify_fails_at(&replanted, 10, "record planted before the checkpoint");
}

// ---------------------------------------------------------------------------------------------
// Rolling vault.db back behind vault.meta.

/// Replaces the live vault.db (and any -wal/-shm) with the one in `old`, keeping vault.meta.
fn roll_back_db(live: &Path, old: &Path) {
    for name in ["vault.db", "vault.db-wal", "vault.db-shm"] {
        let _ = std::fs::remove_file(live.join(name));
        if old.join(name).exists() {
            std::fs::copy(old.join(name), live.join(name)).expect("copy old db back");
        }
    }
}

/// A vault at seq 3 (init, set a, set b) copied aside, then two more writes (seq 4, 5), then
/// the old vault.db copied back under the new vault.meta.
fn rolled_back() -> TestVault {
    let v = TestVault::new();
    v.set("a", b"1");
    v.set("b", b"2");
    let old = v.copy("old");
    v.set("c", b"3");
    v.set("d", b"4");
    roll_back_db(&v.dir, &old);
    assert_eq!(v.sql("SELECT max(seq) FROM audit_log"), "3");
    v
}

#[test]
fn db_rolled_back_behind_vault_meta_is_reported() {
    let v = rolled_back();
    let line = verify_fails_at(&v.dir, 4, "vault.db rolled back");
    assert!(line.contains("rolled back"), "{line}");
}

/// Regression: ordinary commands after a rollback overwrote vault.meta's anchor once the
/// database's seq caught up, so `audit verify` later passed and the rollback was laundered.
#[test]
fn db_rollback_stays_reported_after_later_commands() {
    let v = rolled_back();
    for _ in 0..4 {
        v.run(&["list"]).ok("list after rollback");
    }
    assert_eq!(v.sql("SELECT max(seq) FROM audit_log"), "7");
    let line = secretctl(&v.dir, &["audit", "verify"]).failure(1, "verify after later commands");
    assert!(line.contains("rolled back"), "{line}");
    // Nor can a prune cut the evidence away.
    let line = v
        .run(&["audit", "prune", "--older-than", "0s"])
        .failure(1, "prune after a rollback");
    assert!(line.contains("does not verify"), "{line}");
    secretctl(&v.dir, &["audit", "verify"]).failure(1, "verify after the refused prune");
}
