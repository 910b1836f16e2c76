//! Folders (SPEC §3.3) through the real binary: create, list, info, rename, move, delete,
//! `set --folder`, `list --folder`; the same through the session agent; refusals with one line
//! and the right exit code; and a tampered folder name reported, not misread.

mod harness;

use harness::{TestVault, command, get_json, run};
use serde_json::Value;

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("JSON output")
}

fn folders(v: &TestVault) -> Vec<(String, u64, u64)> {
    let out = v.run(&["folder", "list", "--json"]);
    json(out.ok("folder list"))
        .as_array()
        .expect("array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["secrets"].as_u64().unwrap(),
                f["subfolders"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn listed(v: &TestVault, folder: &str) -> Vec<String> {
    let out = v.run(&["list", "--folder", folder]);
    out.ok_text("list --folder")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn folders_organise_secrets_and_never_delete_them() {
    let v = TestVault::new();
    v.set("aws/key", b"aws-value-1234");
    v.set("gh/token", b"gh-value-12345");
    v.set("loose", b"loose-value-123");
    v.run(&["folder", "create", "Work/Cloud"]).ok("create");
    v.run(&["folder", "create", "Personal"]).ok("create");
    assert_eq!(
        v.run(&["folder", "create", "Work"]).failure(1, "exists"),
        "secretctl: folder 'Work' exists already"
    );
    v.run(&["set", "aws/key", "--keep-value", "--folder", "Work/Cloud"])
        .ok("file aws/key");
    v.run(&["set", "gh/token", "--keep-value", "--folder", "Work"])
        .ok("file gh/token");
    assert_eq!(
        folders(&v),
        [
            ("Personal".into(), 0, 0),
            ("Work".into(), 1, 1),
            ("Work/Cloud".into(), 1, 0)
        ]
    );
    assert_eq!(listed(&v, "Work"), ["aws/key", "gh/token"]);
    assert_eq!(listed(&v, "Work/Cloud"), ["aws/key"]);
    assert_eq!(get_json(&v.dir, "aws/key")["folder"], "Work/Cloud");
    assert_eq!(get_json(&v.dir, "loose")["folder"], Value::Null);
    // Filing a secret changes nothing else about it.
    assert_eq!(v.get("aws/key"), b"aws-value-1234");

    let info = json(v.run(&["folder", "info", "Work", "--json"]).ok("info"));
    assert_eq!(info["secrets"], 1);
    assert_eq!(info["subfolders"], 1);

    // Rename and move carry their contents along.
    v.run(&["folder", "rename", "Work/Cloud", "AWS"])
        .ok("rename");
    assert_eq!(get_json(&v.dir, "aws/key")["folder"], "Work/AWS");
    v.run(&["folder", "move", "Work/AWS", "--to", "Personal"])
        .ok("move");
    assert_eq!(get_json(&v.dir, "aws/key")["folder"], "Personal/AWS");
    v.run(&["folder", "move", "Personal/AWS", "--to", "/"])
        .ok("move to top");
    assert_eq!(get_json(&v.dir, "aws/key")["folder"], "AWS");
    v.run(&["folder", "move", "AWS", "--to", "Work"])
        .ok("move back");

    // Refusals: into itself, onto an existing name, a missing folder, a bad name.
    assert_eq!(
        v.run(&["folder", "move", "Work", "--to", "Work/AWS"])
            .failure(1, "cycle"),
        "secretctl: cannot move folder 'Work' into itself ('Work/AWS')"
    );
    v.run(&["folder", "create", "Personal/AWS"]).ok("create");
    assert_eq!(
        v.run(&["folder", "move", "Personal/AWS", "--to", "Work"])
            .failure(1, "taken"),
        "secretctl: folder 'Work/AWS' exists already"
    );
    assert_eq!(
        v.run(&["set", "loose", "--keep-value", "--folder", "Nope"])
            .failure(1, "missing folder"),
        "secretctl: folder 'Nope' not found"
    );
    assert_eq!(
        v.run(&["folder", "create", "a//b"])
            .failure(2, "empty name"),
        "secretctl: invalid folder 'a//b': a folder name is 1 to 64 bytes"
    );
    assert_eq!(
        v.run(&["folder", "rename", "Work", "x/y"])
            .failure(2, "slash"),
        "secretctl: invalid folder 'x/y': a folder name cannot contain '/'"
    );

    // Delete: a folder holding something needs --force; secrets are kept, out of any folder.
    let refused = v.run(&["folder", "delete", "Work"]).failure(1, "not empty");
    assert!(
        refused.contains("holds 2 secret(s) and 1 folder(s)"),
        "{refused}"
    );
    v.run(&["folder", "delete", "Work", "--force"])
        .ok("delete --force");
    assert_eq!(
        folders(&v),
        [("Personal".into(), 0, 1), ("Personal/AWS".into(), 0, 0)]
    );
    assert_eq!(get_json(&v.dir, "aws/key")["folder"], Value::Null);
    assert_eq!(v.get("aws/key"), b"aws-value-1234");
    assert_eq!(v.get("gh/token"), b"gh-value-12345");
    v.run(&["set", "loose", "--keep-value", "--folder", "Personal"])
        .ok("file loose");
    v.run(&["set", "loose", "--keep-value", "--no-folder"])
        .ok("unfile loose");
    assert_eq!(get_json(&v.dir, "loose")["folder"], Value::Null);
    v.run(&["folder", "delete", "Personal/AWS"])
        .ok("delete empty");

    // Every change is audited, and the chain verifies.
    let audit = json(
        v.run(&["audit", "list", "--json", "--limit", "1000"])
            .ok("audit"),
    );
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["success"] == true)
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for action in [
        "folder_create",
        "folder_rename",
        "folder_move",
        "folder_delete",
        "folder_list",
    ] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
    v.run(&["audit", "verify"]).ok("audit verify");
}

#[test]
fn folders_work_through_the_session_agent() {
    let v = TestVault::new();
    v.set("db/main", b"db-value-12345");
    v.run(&["unlock"]).ok("unlock");
    let no_password = |args: &[&str]| {
        let mut c = command(&v.dir);
        c.env_remove("SECRETCTL_PASSWORD").args(args);
        run(c, None)
    };
    no_password(&["folder", "create", "Team/DB"]).ok("create via agent");
    no_password(&["set", "db/main", "--keep-value", "--folder", "Team/DB"])
        .ok("set --folder via agent");
    let out = no_password(&["list", "--folder", "Team", "--json"]);
    let list = json(out.ok("list via agent"));
    assert_eq!(list[0]["key"], "db/main");
    assert_eq!(list[0]["folder"], "Team/DB");
    no_password(&["folder", "rename", "Team", "Ops"]).ok("rename via agent");
    let out = no_password(&["folder", "list", "--json"]);
    let paths: Vec<String> = json(out.ok("list"))
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["Ops", "Ops/DB"]);
    assert_eq!(
        no_password(&["folder", "info", "Nope"]).failure(1, "missing"),
        "secretctl: folder 'Nope' not found"
    );
    v.run(&["lock"]).ok("lock");
}

/// A folder name whose ciphertext was changed is reported as damage (exit 4), never shown as
/// some other name; secrets stay readable by name.
#[test]
fn tampered_folder_name_is_reported() {
    let v = TestVault::new();
    v.set("k", b"value-123456");
    v.run(&["folder", "create", "Mine"]).ok("create");
    let blob = harness::read_blob(&v.db(), "folders", "encrypted_name", "1=1");
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    harness::write_blob(&v.db(), "folders", "encrypted_name", "1=1", &bad);
    let line = v.run(&["folder", "list"]).failure(4, "tampered name");
    assert!(line.contains("fails to decrypt"), "{line}");
    assert_eq!(v.get("k"), b"value-123456");
    // The original bytes read again: nothing else was harmed.
    harness::write_blob(&v.db(), "folders", "encrypted_name", "1=1", &blob);
    v.run(&["folder", "list"]).ok("restored");
}

/// A backup carries folders: restored into a new vault, a secret is in the same folder path.
#[test]
fn folders_survive_backup_and_restore() {
    let v = TestVault::new();
    v.set("db/main", b"db-value-12345");
    v.run(&["folder", "create", "Team/DB"]).ok("create");
    v.run(&["set", "db/main", "--keep-value", "--folder", "Team/DB"])
        .ok("file");
    let key = v.scratch("backup.key");
    let file = v.scratch("vault.backup");
    v.run(&["backup", "--generate-key-file", key.to_str().unwrap()])
        .ok("key file");
    v.run(&[
        "backup",
        "-o",
        file.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ])
    .ok("backup");

    let w = TestVault::new();
    w.run(&[
        "restore",
        file.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ])
    .ok_text("restore");
    assert_eq!(get_json(&w.dir, "db/main")["folder"], "Team/DB");
    assert_eq!(w.get("db/main"), b"db-value-12345");
    assert_eq!(
        folders(&w),
        [("Team".into(), 0, 1), ("Team/DB".into(), 1, 0)]
    );
    w.run(&["audit", "verify"]).ok("audit verify");
}
