//! The vault API in-process, on real SQLite files in a temporary directory.

use secretctl_core::audit::Source;
use secretctl_core::crypto::Passphrase;
use secretctl_core::secret::{KeyName, SecretUpdate, SecretValue};
use secretctl_core::vault::{Error, ErrorClass, ListFilter, Session, SetOutcome, Vault, VaultDir};

const PW: &[u8] = b"correct horse battery";

fn pw(bytes: &[u8]) -> Passphrase {
    Passphrase::new(bytes.to_vec())
}

fn new_vault() -> (tempfile::TempDir, VaultDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("vault"));
    Vault::init(&dir, &pw(PW)).unwrap();
    (tmp, dir)
}

fn unlock(dir: &VaultDir, password: &[u8]) -> Result<Session, Error> {
    Vault::open(dir)?.unlock(&pw(password), Source::Cli)
}

fn key(name: &str) -> KeyName {
    KeyName::parse(name).unwrap()
}

fn value(bytes: &[u8]) -> Option<SecretValue> {
    Some(SecretValue::new(bytes.to_vec()).unwrap())
}

#[test]
fn init_makes_private_files_and_refuses_a_second_time() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, dir) = new_vault();
    let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.root().to_owned()), 0o700);
    for f in [dir.db(), dir.salt(), dir.meta()] {
        assert_eq!(mode(f.clone()), 0o600, "{}", f.display());
    }
    assert!(matches!(
        Vault::init(&dir, &pw(PW)),
        Err(Error::AlreadyExists(_))
    ));
}

#[test]
fn weak_new_passwords_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("v"));
    let err = Vault::init(&dir, &pw(b"short")).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Usage);
    assert!(!dir.has_vault_files());
}

#[test]
fn updates_touch_only_what_they_name() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let k = key("db/password");
    let expiry: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let created = s
        .set(
            &k,
            SecretUpdate {
                value: value(b"one"),
                notes: Some(Some("n".into())),
                url: Some(Some("https://db.example".into())),
                tags: Some(vec!["prod".into()]),
                expires_at: Some(Some(expiry)),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
    assert_eq!(created, SetOutcome::Created);
    let updated = s
        .set(
            &k,
            SecretUpdate {
                value: value(b"two"),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
    assert_eq!(updated, SetOutcome::Updated);
    s.set(
        &k,
        SecretUpdate {
            tags: Some(vec!["a".into(), "b".into()]),
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let got = s.get(&k, Source::Cli).unwrap();
    assert_eq!(got.fields[0].value.expose_bytes(), b"two");
    assert_eq!(got.meta.notes.as_deref(), Some("n"));
    assert_eq!(got.meta.url.as_deref(), Some("https://db.example"));
    assert_eq!(got.meta.tags, ["a", "b"]);
    assert_eq!(got.meta.expires_at, Some(expiry));
}

#[test]
fn a_new_secret_needs_a_value() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let err = s
        .set(
            &key("x"),
            SecretUpdate {
                tags: Some(vec![]),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap_err();
    assert!(matches!(err, Error::ValueRequired(_)));
    assert!(
        s.list(&ListFilter::default(), Source::Cli)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn list_filters_by_tag_and_expiry() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    for (name, tags, exp) in [
        ("a", vec!["prod"], Some(soon)),
        ("b", vec!["dev"], None),
        ("c", vec!["prod"], None),
    ] {
        s.set(
            &key(name),
            SecretUpdate {
                value: value(b"value"),
                tags: Some(tags.into_iter().map(String::from).collect()),
                expires_at: Some(exp),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
    }
    let names = |f: ListFilter, s: &mut Session| -> Vec<String> {
        s.list(&f, Source::Cli)
            .unwrap()
            .into_iter()
            .map(|x| x.name.to_string())
            .collect()
    };
    assert_eq!(
        names(
            ListFilter {
                tag: Some("prod".into()),
                ..Default::default()
            },
            &mut s
        ),
        ["a", "c"]
    );
    let week = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 7);
    assert_eq!(
        names(
            ListFilter {
                expiring_before: Some(week),
                ..Default::default()
            },
            &mut s
        ),
        ["a"]
    );
}

#[test]
fn wrong_passwords_are_delayed_then_folded_into_the_audit_log() {
    let (_tmp, dir) = new_vault();
    for _ in 0..5 {
        assert!(matches!(
            unlock(&dir, b"wrong password"),
            Err(Error::WrongPassword)
        ));
    }
    // The sixth attempt is refused before the KDF, even with the right password.
    match unlock(&dir, PW) {
        Err(Error::LockedOut(secs)) => assert!((1..=30).contains(&secs), "{secs}"),
        Err(e) => panic!("expected a lockout, got {e}"),
        Ok(_) => panic!("expected a lockout, got a session"),
    }
    assert_eq!(Error::LockedOut(1).class(), ErrorClass::Auth);
}

#[test]
fn failed_unlocks_become_audit_records_at_the_next_unlock() {
    let (_tmp, dir) = new_vault();
    for _ in 0..2 {
        assert!(unlock(&dir, b"wrong password").is_err());
    }
    let mut s = unlock(&dir, PW).unwrap();
    let records = s
        .audit_list(&Default::default(), Source::Cli, false)
        .unwrap();
    let failed: Vec<_> = records
        .iter()
        .filter(|(r, _)| r.action == "unlock" && !r.success)
        .collect();
    assert_eq!(failed.len(), 2);
    assert!(s.audit_verify(Source::Cli).unwrap().is_ok());
}

#[test]
fn password_change_rewraps_and_keeps_the_audit_chain() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    s.set(
        &key("k"),
        SecretUpdate {
            value: value(b"kept"),
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let salt_before = std::fs::read(dir.salt()).unwrap();
    s.change_password(&pw(b"a brand new password"), Source::Cli)
        .unwrap();
    drop(s);
    assert!(matches!(unlock(&dir, PW), Err(Error::WrongPassword)));
    let mut s = unlock(&dir, b"a brand new password").unwrap();
    assert_eq!(
        s.get(&key("k"), Source::Cli).unwrap().fields[0]
            .value
            .expose_bytes(),
        b"kept"
    );
    assert!(s.audit_verify(Source::Cli).unwrap().is_ok());
    assert_eq!(std::fs::read(dir.salt()).unwrap(), salt_before);
}

#[test]
fn prune_leaves_a_checkpoint_and_a_verifiable_chain() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    for _ in 0..5 {
        s.list(&ListFilter::default(), Source::Cli).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    let pruned = s.audit_prune(jiff::Timestamp::now(), Source::Cli).unwrap();
    assert_eq!(pruned.count, 6, "genesis and five lists");
    let report = s.audit_verify(Source::Cli).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let records = s
        .audit_list(&Default::default(), Source::Cli, false)
        .unwrap();
    let checkpoint = &records[0].0;
    assert_eq!(checkpoint.action, "audit_prune");
    let detail: serde_json::Value = serde_json::from_str(&checkpoint.detail).unwrap();
    assert_eq!(detail["pruned"], 6);
    assert_eq!(detail["last_pruned_seq"], 6);
}

#[test]
fn blobs_are_bound_to_their_row_and_column() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    for name in ["a", "b"] {
        s.set(
            &key(name),
            SecretUpdate {
                value: value(format!("value of {name}").as_bytes()),
                notes: Some(Some(format!("notes of {name}"))),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
    }
    drop(s);
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    // Move b's notes blob into a's value column: same key, wrong place.
    conn.execute(
        "UPDATE secrets SET encrypted_value = (SELECT encrypted_notes FROM secrets WHERE encrypted_notes IS NOT NULL LIMIT 1 OFFSET 1)
         WHERE id = (SELECT id FROM secrets LIMIT 1)",
        [],
    )
    .unwrap();
    drop(conn);
    let mut s = unlock(&dir, PW).unwrap();
    let results: Vec<bool> = ["a", "b"]
        .iter()
        .map(|n| s.get(&key(n), Source::Cli).is_ok())
        .collect();
    assert_eq!(results.iter().filter(|ok| !**ok).count(), 1, "{results:?}");
    let err = ["a", "b"]
        .iter()
        .find_map(|n| s.get(&key(n), Source::Cli).err())
        .unwrap();
    assert_eq!(err.class(), ErrorClass::Vault);
    assert!(err.to_string().contains("vault.db"), "{err}");
}

#[test]
fn multi_field_secrets_keep_untouched_fields_and_bindings() {
    use secretctl_core::secret::Template;
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let k = key("db/prod");
    let field = |n: &str, v: &[u8]| (n.to_owned(), SecretValue::new(v.to_vec()).unwrap());
    s.set(
        &k,
        SecretUpdate {
            fields: vec![field("host", b"db.internal"), field("password", b"pw-1")],
            template: Some(Template::Database),
            tags: Some(vec!["prod".into()]),
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    s.set(
        &k,
        SecretUpdate {
            fields: vec![field("password", b"pw-2")],
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let got = s.get(&k, Source::Cli).unwrap();
    assert!(!got.is_plain());
    assert_eq!(
        got.field("host").unwrap().value.expose_bytes(),
        b"db.internal"
    );
    assert!(!got.field("host").unwrap().sensitive);
    assert_eq!(got.field("password").unwrap().value.expose_bytes(), b"pw-2");
    assert!(got.field("password").unwrap().sensitive);
    assert_eq!(got.bindings.get("PGHOST").map(String::as_str), Some("host"));
    assert_eq!(
        got.bindings.get("PGPASSWORD").map(String::as_str),
        Some("password")
    );
    assert!(
        !got.bindings.contains_key("PGPORT"),
        "no binding to an absent field"
    );
    assert_eq!(got.meta.tags, ["prod"]);
    let (_, views, _) = s.get_masked(&k, Source::Cli).unwrap();
    let pw = views.iter().find(|v| v.name == "password").unwrap();
    assert_eq!(
        pw.value, None,
        "a sensitive value never appears in a masked view"
    );
    let host = views.iter().find(|v| v.name == "host").unwrap();
    assert_eq!(host.value.as_deref(), Some("db.internal"));
}

#[test]
fn a_binding_to_a_missing_field_is_refused() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let err = s
        .set(
            &key("x"),
            SecretUpdate {
                value: value(b"v"),
                bindings: vec![("TOKEN".into(), "nope".into())],
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Usage, "{err}");
}

/// Regression: a database rolled back behind `vault.meta` stopped being reported once a few
/// later writes carried its seq past the copy's, because each write replaced the copy.
#[test]
fn a_rolled_back_database_stays_detected_after_more_writes() {
    let (tmp, dir) = new_vault();
    let write = |s: &mut Session, n: usize| {
        s.set(
            &key(&format!("k{n}")),
            SecretUpdate {
                value: value(b"v"),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
    };
    let mut s = unlock(&dir, PW).unwrap();
    write(&mut s, 0);
    drop(s);
    let old = tmp.path().join("old.db");
    std::fs::copy(dir.db(), &old).unwrap();
    let mut s = unlock(&dir, PW).unwrap();
    for n in 1..4 {
        write(&mut s, n);
    }
    drop(s);
    std::fs::copy(&old, dir.db()).unwrap();
    let mut s = unlock(&dir, PW).unwrap();
    for round in 0..6 {
        let report = s.audit_verify(Source::Cli).unwrap();
        assert!(
            !report.is_ok(),
            "rollback not reported after {round} more writes"
        );
        write(&mut s, 10 + round);
        s.list(&ListFilter::default(), Source::Cli).unwrap();
    }
}

#[test]
fn fields_can_be_removed_and_a_bare_value_does_not_join_them() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let k = key("svc");
    let field = |n: &str| (n.to_owned(), SecretValue::new(b"v".to_vec()).unwrap());
    s.set(
        &k,
        SecretUpdate {
            fields: vec![field("user"), field("token")],
            bindings: vec![("SVC_TOKEN".into(), "token".into())],
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let err = s
        .set(
            &k,
            SecretUpdate {
                value: value(b"bare"),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Usage, "{err}");
    s.set(
        &k,
        SecretUpdate {
            remove_fields: vec!["token".into()],
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let got = s.get(&k, Source::Cli).unwrap();
    assert_eq!(got.fields.len(), 1);
    assert!(
        got.bindings.is_empty(),
        "the binding to a removed field goes too"
    );
}

fn sql(dir: &VaultDir, statement: &str) {
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    conn.execute_batch(statement).unwrap();
}

/// A vault of schema version 1 (no row MACs) migrates on open and gets its MACs at the next
/// unlock; after that, a row whose MAC is removed is damaged rather than re-sealed.
#[test]
fn a_version_1_vault_migrates_and_gets_row_macs_at_unlock() {
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    s.set(
        &key("old"),
        SecretUpdate {
            value: value(b"from version 1"),
            tags: Some(vec!["legacy".into()]),
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    drop(s);
    // Turn it back into what version 1 wrote.
    sql(
        &dir,
        "ALTER TABLE secrets DROP COLUMN row_mac; DELETE FROM metadata WHERE key = 'row_macs';
         PRAGMA user_version = 1;",
    );
    let mut s = unlock(&dir, PW).unwrap();
    let got = s.get(&key("old"), Source::Cli).unwrap();
    assert_eq!(got.fields[0].value.expose_bytes(), b"from version 1");
    assert_eq!(got.meta.tags, ["legacy"]);
    drop(s);
    sql(&dir, "UPDATE secrets SET row_mac = NULL");
    let mut s = unlock(&dir, PW).unwrap();
    let err = s
        .get(&key("old"), Source::Cli)
        .err()
        .expect("a row without its MAC");
    assert_eq!(err.class(), ErrorClass::Vault, "{err}");
}

#[test]
fn edited_plaintext_columns_and_nulled_blobs_are_caught() {
    let edits = [
        "UPDATE secrets SET tags = '[\"other\"]'",
        "UPDATE secrets SET expires_at = 1",
        "UPDATE secrets SET updated_at = updated_at + 1",
        "UPDATE secrets SET encrypted_notes = NULL",
        "UPDATE secrets SET encrypted_fields = NULL",
        "UPDATE secrets SET encrypted_bindings = NULL",
    ];
    for edit in edits {
        let (_tmp, dir) = new_vault();
        let mut s = unlock(&dir, PW).unwrap();
        let field = |n: &str| (n.to_owned(), SecretValue::new(b"v".to_vec()).unwrap());
        s.set(
            &key("db"),
            SecretUpdate {
                fields: vec![field("host"), field("password")],
                bindings: vec![("PGPASSWORD".into(), "password".into())],
                notes: Some(Some("n".into())),
                tags: Some(vec!["prod".into()]),
                ..Default::default()
            },
            Source::Cli,
        )
        .unwrap();
        drop(s);
        sql(&dir, edit);
        let mut s = unlock(&dir, PW).unwrap();
        let err = s.get(&key("db"), Source::Cli).err();
        assert!(
            err.as_ref().is_some_and(|e| e.class() == ErrorClass::Vault),
            "{edit}: {:?}",
            err.map(|e| e.to_string())
        );
        assert!(
            s.list(&ListFilter::default(), Source::Cli).is_err(),
            "{edit}: list"
        );
    }
}

/// Regression: `import --dry-run` said "would overwrite" for a value the real import refuses
/// (a bare value on a secret with fields); the dry run now performs the writes and rolls back.
#[test]
fn a_dry_run_import_fails_where_the_real_one_would_and_writes_nothing() {
    use secretctl_core::vault::OnConflict;
    let (_tmp, dir) = new_vault();
    let mut s = unlock(&dir, PW).unwrap();
    let field = |n: &str| (n.to_owned(), SecretValue::new(b"v".to_vec()).unwrap());
    s.set(
        &key("db"),
        SecretUpdate {
            fields: vec![field("host"), field("password")],
            ..Default::default()
        },
        Source::Cli,
    )
    .unwrap();
    let items = || {
        vec![
            (key("fresh"), SecretValue::new(b"x".to_vec()).unwrap()),
            (key("db"), SecretValue::new(b"y".to_vec()).unwrap()),
        ]
    };
    let dry = s.import(items(), OnConflict::Overwrite, &[], true, Source::Cli);
    assert!(dry.is_err(), "the dry run must fail like the real import");
    let ok = s
        .import(
            vec![(key("fresh"), SecretValue::new(b"x".to_vec()).unwrap())],
            OnConflict::Error,
            &[],
            true,
            Source::Cli,
        )
        .unwrap();
    assert_eq!(ok.created, [key("fresh")]);
    let names: Vec<String> = s
        .list(&ListFilter::default(), Source::Cli)
        .unwrap()
        .into_iter()
        .map(|x| x.name.to_string())
        .collect();
    assert_eq!(names, ["db"], "a dry run writes nothing");
}

/// A writer killed while replacing vault.meta leaves a `.tmp-*` file; opening the vault
/// removes old ones and leaves fresh ones (which may belong to a running writer).
#[test]
fn stale_temporary_files_are_removed_on_open() {
    let (_tmp, dir) = new_vault();
    let old = dir.root().join(".tmp-old");
    let fresh = dir.root().join(".tmp-fresh");
    std::fs::write(&old, b"x").unwrap();
    std::fs::write(&fresh, b"x").unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    Vault::open(&dir).unwrap();
    assert!(!old.exists(), "an hour-old temporary file is removed");
    assert!(fresh.exists(), "a fresh one may be a running writer's");
}
