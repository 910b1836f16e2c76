//! `import --from` end to end through the binary (issue 6): another manager's export and a
//! vault of the original Go secretctl become secrets with fields, folders and tags in one
//! transaction; `--dry-run` changes nothing; a conflict or a wrong source password changes
//! nothing; what the source held that cannot be carried is listed, not dropped.

mod harness;

use harness::{TestVault, get_json};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../secretctl-core/tests/fixtures/import")
        .join(name)
}

fn names(v: &TestVault) -> Vec<String> {
    v.run(&["list"])
        .ok_text("list")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bitwarden_export_imports_whole_items_into_folders() {
    let v = TestVault::new();
    let file = fixture("bitwarden.json");
    let file = file.to_str().unwrap();

    let dry = v
        .run(&["import", "--from", "bitwarden", file, "--dry-run"])
        .ok_text("dry run");
    assert!(dry.contains("would create Work/GitHub-work\n"), "{dry}");
    assert!(dry.contains("not carried: "), "{dry}");
    assert!(dry.starts_with("would create"), "{dry}");
    assert!(names(&v).is_empty(), "a dry run writes nothing");
    assert_eq!(v.run(&["folder", "list"]).ok_text("folders"), "");

    let out = v
        .run(&["import", "--from", "bitwarden", file, "--tag", "migrated"])
        .ok_text("import");
    // The dry run showed exactly what the import then did.
    let per_line = |text: &str, verb: &str| -> Vec<String> {
        text.lines()
            .map(|l| match l.strip_prefix(verb) {
                Some(name) => format!("create{name}"),
                None => l.to_owned(),
            })
            .filter(|l| !l.starts_with("dry run:") && !l.starts_with("imported:"))
            .collect()
    };
    assert_eq!(per_line(&out, "created"), per_line(&dry, "would create"));
    assert!(
        out.ends_with("imported: 10 created, 0 overwritten, 0 skipped\n"),
        "{out}"
    );
    let listed = names(&v);
    assert!(
        listed.contains(&"Work/GitHub-work".to_owned()),
        "{listed:?}"
    );
    assert!(listed.contains(&"Personal/Visa".to_owned()), "{listed:?}");

    let gh = get_json(&v.dir, "Work/GitHub-work");
    assert_eq!(gh["folder"], "Work");
    assert_eq!(gh["notes"], "Work account\nsecond line");
    assert_eq!(gh["url"], "https://github.com/login");
    assert!(gh["tags"].as_array().unwrap().contains(&"migrated".into()));
    let field = |name: &str| {
        v.run(&["get", "Work/GitHub-work", "--field", name])
            .ok_text(name)
    };
    assert_eq!(field("username"), "octocat");
    assert_eq!(field("password"), "gh-\"quoted\", pass");
    assert_eq!(field("url_2"), "https://gist.github.com");
    // Sensitivity came along: the password is masked in the field listing, the user is not.
    let fields = v
        .run(&["get", "Work/GitHub-work", "--fields"])
        .ok_text("fields");
    assert!(fields.contains("octocat"), "{fields}");
    assert!(!fields.contains("gh-\"quoted\""), "{fields}");

    let folders = v.run(&["folder", "list", "--json"]).ok_text("folders");
    assert!(folders.contains("\"path\": \"Work\""), "{folders}");
    assert!(folders.contains("\"path\": \"Personal\""), "{folders}");

    // A second import with --on-conflict error changes nothing and names the keys.
    let before = names(&v);
    let line = v
        .run(&["import", "--from", "bitwarden", file])
        .failure(1, "conflict");
    assert!(line.contains("exist already"), "{line}");
    assert!(line.contains("Work/GitHub-work"), "{line}");
    assert_eq!(names(&v), before);
    v.run(&["audit", "verify"]).ok("audit verify");
}

#[test]
fn keepassxc_lastpass_and_1password_exports_import() {
    for (source, file) in [
        ("keepassxc", "keepassxc.csv"),
        ("lastpass", "lastpass.csv"),
        ("1password", "1password.csv"),
    ] {
        let v = TestVault::new();
        let path = fixture(file);
        let out = v
            .run(&["import", "--from", source, path.to_str().unwrap()])
            .ok_text(source);
        let created = out.lines().filter(|l| l.starts_with("created ")).count();
        assert!(created >= 3, "{source}: {out}");
        assert_eq!(names(&v).len(), created, "{source}");
        assert!(
            out.ends_with(&format!(
                "imported: {created} created, 0 overwritten, 0 skipped\n"
            )),
            "{source}: {out}"
        );
    }
}

#[test]
fn secretctl_go_vault_imports_with_its_own_password() {
    let v = TestVault::new();
    let dir = fixture("go-vault");
    let pw = v.scratch("go-pw");
    std::fs::write(&pw, "go-fixture-password\n").unwrap();
    let wrong = v.scratch("go-wrong");
    std::fs::write(&wrong, "not it\n").unwrap();

    let line = v
        .run(&[
            "import",
            "--from",
            "secretctl-go",
            dir.to_str().unwrap(),
            "--source-password-file",
            wrong.to_str().unwrap(),
        ])
        .failure(3, "wrong source password");
    assert_eq!(
        line,
        "secretctl: wrong master password for the secretctl-go vault"
    );
    assert!(names(&v).is_empty());

    v.run(&[
        "import",
        "--from",
        "secretctl-go",
        dir.to_str().unwrap(),
        "--source-password-file",
        pw.to_str().unwrap(),
    ])
    .ok("import go vault");
    assert_eq!(v.get("aws/access_key"), b"AKIAIOSFODNN7EXAMPLE");
    let aws = get_json(&v.dir, "aws/access_key");
    assert_eq!(aws["folder"], "Work/AWS");
    assert_eq!(aws["tags"], serde_json::json!(["prod", "aws"]));
    assert_eq!(aws["expires_at"], "2030-01-02T03:04:05Z");
    assert!(names(&v).contains(&"db/prod".to_owned()));

    // --source-password-file belongs to --from secretctl-go only.
    let line = v
        .run(&[
            "import",
            "x.env",
            "--source-password-file",
            pw.to_str().unwrap(),
        ])
        .failure(2, "misplaced flag");
    assert!(line.contains("goes with --from secretctl-go"), "{line}");
}
