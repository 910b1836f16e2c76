//! `import --from 1password|bitwarden|lastpass|keepassxc`: each fixture under
//! `tests/fixtures/import/` converted, and every secret checked field by field (name, value
//! bytes, sensitivity, kind, line or multi-line), with its folder, notes, URL and tags, and the
//! exact lines of what was not carried.

use std::fs;
use std::path::Path;

use secretctl_core::secret::InputType;
use secretctl_core::transfer::{
    Competitor, Conversion, Record, parse_1password_csv, parse_bitwarden_json, parse_keepassxc_csv,
    parse_lastpass_csv,
};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An expected field: name, value, sensitive, kind, multi-line.
type F = (&'static str, &'static str, bool, Option<&'static str>, bool);

/// A field as compared: name, value bytes, sensitive, kind, multi-line.
type Got<'a> = (&'a str, &'a [u8], bool, Option<&'a str>, bool);

const LINE: bool = false;
const MULTI: bool = true;

struct Expect {
    name: &'static str,
    folder: &'static [&'static str],
    fields: Vec<F>,
    notes: Option<&'static str>,
    url: Option<&'static str>,
    tags: &'static [&'static str],
}

impl Expect {
    fn new(name: &'static str, folder: &'static [&'static str], fields: Vec<F>) -> Expect {
        Expect {
            name,
            folder,
            fields,
            notes: None,
            url: None,
            tags: &[],
        }
    }
    fn notes(mut self, notes: &'static str) -> Expect {
        self.notes = Some(notes);
        self
    }
    fn url(mut self, url: &'static str) -> Expect {
        self.url = Some(url);
        self
    }
    fn tags(mut self, tags: &'static [&'static str]) -> Expect {
        self.tags = tags;
        self
    }
}

fn check(record: &Record, want: &Expect) {
    let secret = &record.secret;
    let name = secret.name.as_str();
    assert_eq!(name, want.name);
    assert_eq!(record.folder, want.folder, "{name}: folder");
    let got: Vec<Got<'_>> = secret
        .fields
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.value.expose_bytes(),
                f.sensitive,
                f.kind.as_deref(),
                f.input_type == InputType::MultiLine,
            )
        })
        .collect();
    let expected: Vec<Got<'_>> = want
        .fields
        .iter()
        .map(|(n, v, s, k, m)| (*n, v.as_bytes(), *s, *k, *m))
        .collect();
    assert_eq!(got, expected, "{name}: fields");
    assert_eq!(secret.meta.notes.as_deref(), want.notes, "{name}: notes");
    assert_eq!(secret.meta.url.as_deref(), want.url, "{name}: url");
    assert_eq!(secret.meta.tags, want.tags, "{name}: tags");
    assert!(secret.bindings.is_empty(), "{name}: bindings");
    assert!(secret.meta.expires_at.is_none(), "{name}: expiry");
}

fn check_all(conversion: &Conversion, want: &[Expect]) {
    let names: Vec<&str> = conversion
        .records
        .iter()
        .map(|r| r.secret.name.as_str())
        .collect();
    let want_names: Vec<&str> = want.iter().map(|w| w.name).collect();
    assert_eq!(names, want_names);
    for (record, want) in conversion.records.iter().zip(want) {
        check(record, want);
    }
    no_value_in_lines(conversion);
}

/// No line of `unsupported` contains a value that was imported.
fn no_value_in_lines(conversion: &Conversion) {
    for record in &conversion.records {
        for field in &record.secret.fields {
            let Ok(value) = std::str::from_utf8(field.value.expose_bytes()) else {
                continue;
            };
            if value.len() < 4 || field.name == "title" {
                continue;
            }
            for line in &conversion.unsupported {
                assert!(!line.contains(value), "{line:?} shows a value");
            }
        }
    }
}

fn time(record: &Record) -> (Option<String>, Option<String>) {
    (
        record.secret.meta.created_at.map(|t| t.to_string()),
        record.secret.meta.updated_at.map(|t| t.to_string()),
    )
}

fn login(user: &'static str, password: &'static str, url: &'static str) -> Vec<F> {
    let mut fields = Vec::new();
    if !user.is_empty() {
        fields.push(("username", user, false, Some("username"), LINE));
    }
    fields.push(("password", password, true, Some("password"), LINE));
    if !url.is_empty() {
        fields.push(("url", url, false, Some("url"), LINE));
    }
    fields
}

fn with(mut fields: Vec<F>, more: &[F]) -> Vec<F> {
    fields.extend_from_slice(more);
    fields
}

fn note(text: &'static str) -> Vec<F> {
    vec![("value", text, true, Some("note"), MULTI)]
}

#[test]
fn onepassword_fixture() {
    let c = parse_1password_csv(&fixture("1password.csv")).unwrap();
    check_all(
        &c,
        &[
            Expect::new(
                "GitHub-work",
                &[],
                with(
                    login("octocat", "pa,ss\"word", "https://github.com/login"),
                    &[(
                        "totp",
                        "otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
                        true,
                        Some("totp"),
                        LINE,
                    )],
                ),
            )
            .notes("Recovery codes are in the safe.\nSecond line, with a comma.")
            .url("https://github.com/login")
            .tags(&["dev", "work"]),
            Expect::new(
                "GitHub-work-2",
                &[],
                login("second-account", "pw2", "https://github.com"),
            )
            .url("https://github.com"),
            Expect::new("Cafe-Wi-Fi", &[], login("", "wifi-pässwörd ✓", ""))
                .tags(&["Home-Network", "Unicode-tag"]),
            Expect::new(
                "item-4",
                &[],
                with(
                    login("山田", "パスワード123", "https://bank.example.jp"),
                    &[("title", "日本の銀行", false, Some("title"), LINE)],
                ),
            )
            .url("https://bank.example.jp"),
            Expect::new(
                "Server-notes",
                &[],
                note("Host: db.example.com\nRoot password: hunter2"),
            ),
            Expect::new(
                "FTP-box",
                &[],
                login("ftpuser", "ftppw", "ftp://files.example.com"),
            ),
            Expect::new("Tagged", &[], login("", "pw-tagged", ""))
                .tags(&["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10"]),
            Expect::new("Bad-tag", &[], login("", "pw-bad-tag", "")),
            Expect::new(
                "item-10",
                &[],
                login("nobody", "pw-untitled", "https://untitled.example.com"),
            )
            .url("https://untitled.example.com"),
        ],
    );
    assert_eq!(
        c.unsupported,
        [
            "GitHub-work: favorite flag not carried",
            "Cafe-Wi-Fi: archived in 1Password; imported as an ordinary secret",
            "Empty-thing: not imported: the item holds no value",
            "Tagged: tags t11, t12 not carried: a secret holds at most 10 tags",
            "Bad-tag: tag '仕事' not carried: it has no character a tag may hold",
        ]
    );
}

#[test]
fn bitwarden_fixture() {
    let c = parse_bitwarden_json(&fixture("bitwarden.json")).unwrap();
    check_all(
        &c,
        &[
            Expect::new(
                "Work/GitHub-work",
                &["Work"],
                with(
                    login("octocat", "gh-\"quoted\", pass", "https://github.com/login"),
                    &[
                        ("url_2", "https://gist.github.com", false, Some("url"), LINE),
                        (
                            "url_3",
                            "androidapp://com.github.android",
                            false,
                            Some("url"),
                            LINE,
                        ),
                        (
                            "totp",
                            "otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP",
                            true,
                            Some("totp"),
                            LINE,
                        ),
                        ("security_question", "First pet?", false, None, LINE),
                        ("recovery_key", "rk-1234-5678", true, None, LINE),
                        ("is_admin", "true", false, None, LINE),
                        (
                            "password_2",
                            "a custom field named like a login field",
                            true,
                            None,
                            LINE,
                        ),
                    ],
                ),
            )
            .notes("Work account\nsecond line")
            .url("https://github.com/login"),
            Expect::new(
                "Work/GitHub-work-2",
                &["Work"],
                login("second", "pw-second", ""),
            ),
            Expect::new(
                "Personal/Recovery-codes",
                &["Personal"],
                with(
                    note("codes:\n1111-2222\n3333-4444"),
                    &[("pin", "0000", true, None, LINE)],
                ),
            ),
            Expect::new(
                "Personal/Visa",
                &["Personal"],
                vec![
                    ("cardholder_name", "Jane Doe", false, Some("name"), LINE),
                    ("brand", "Visa", false, Some("card_brand"), LINE),
                    (
                        "number",
                        "4111111111111111",
                        true,
                        Some("card_number"),
                        LINE,
                    ),
                    ("exp_month", "7", false, Some("expiry"), LINE),
                    ("exp_year", "2030", false, Some("expiry"), LINE),
                    ("code", "123", true, Some("card_code"), LINE),
                ],
            )
            .notes("billing card"),
            Expect::new(
                "Jane",
                &[],
                vec![
                    ("title", "Ms", false, None, LINE),
                    ("first_name", "Jane", false, None, LINE),
                    ("last_name", "Doe", false, None, LINE),
                    ("address1", "1 Main St", false, None, LINE),
                    ("city", "Zürich", false, None, LINE),
                    ("postal_code", "8001", false, None, LINE),
                    ("country", "CH", false, None, LINE),
                    ("email", "jane@example.com", false, Some("email"), LINE),
                    ("phone", "+41 44 000 00 00", false, Some("phone"), LINE),
                    ("ssn", "756.1234.5678.97", true, None, LINE),
                    ("username", "jdoe", false, Some("username"), LINE),
                    ("passport_number", "X1234567", true, None, LINE),
                    ("license_number", "ZH-99", true, None, LINE),
                ],
            ),
            Expect::new(
                "Work/AWS/deploy-key",
                &["Work", "AWS"],
                vec![
                    (
                        "private_key",
                        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                        true,
                        Some("ssh_key"),
                        MULTI,
                    ),
                    (
                        "public_key",
                        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample deploy@example",
                        false,
                        Some("ssh_public_key"),
                        LINE,
                    ),
                    (
                        "fingerprint",
                        "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                        false,
                        Some("fingerprint"),
                        LINE,
                    ),
                ],
            ),
            Expect::new("Unicode", &[], login("ユーザー", "pässwörd✓", "")).notes("ノート"),
            Expect::new("Old-login", &[], login("old", "old-pw", "")),
            Expect::new(
                "Bank-account",
                &[],
                vec![("iban", "CH93 0076 2011 6238 5295 7", true, None, LINE)],
            )
            .notes("IBAN in the custom field"),
            Expect::new("item-11", &[], login("", "pw-unnamed", "")),
        ],
    );
    assert_eq!(
        c.unsupported,
        [
            "Work/GitHub-work: URI match rules not carried",
            "Work/GitHub-work: 1 passkey not carried",
            "Work/GitHub-work: linked field 'Username' not carried: it only points at another field",
            "Work/GitHub-work: custom field 'Empty One' not carried: it is empty",
            "Work/GitHub-work: favorite flag not carried",
            "Work/GitHub-work: master password re-prompt not carried",
            "Work/GitHub-work: 2 password history entries not carried",
            "Old-login: folder not carried: the export has no folder with its id",
            "Old-login: 2 attachments not carried",
            "Old-login: in Bitwarden's trash; imported as an ordinary secret",
            "Bank-account: item type 99 is not supported; only its notes and custom fields were carried",
            "Nothing: not imported: the item holds no value",
        ]
    );
    let github = &c.records[0];
    assert_eq!(
        time(github),
        (
            Some("2022-01-02T03:04:05Z".to_owned()),
            Some("2024-03-04T05:06:07.89Z".to_owned())
        )
    );
    // A custom field whose label had to change keeps the label as its hint.
    let hint = |record: &Record, field: &str| {
        record
            .secret
            .field(field)
            .and_then(|f| f.hint.clone())
            .unwrap_or_default()
    };
    assert_eq!(hint(github, "recovery_key"), "Recovery Key");
    assert_eq!(hint(github, "password_2"), "");
    assert_eq!(hint(github, "password"), "password");
    assert_eq!(hint(&c.records[2], "pin"), "PIN");
}

#[test]
fn lastpass_fixture() {
    let c = parse_lastpass_csv(&fixture("lastpass.csv")).unwrap();
    check_all(
        &c,
        &[
            Expect::new(
                "Work/Dev/GitHub",
                &["Work", "Dev"],
                with(
                    login("octocat", "p@ss,\"word\"", "https://github.com/login"),
                    &[("totp", "JBSWY3DPEHPK3PXP", true, Some("totp"), LINE)],
                ),
            )
            .notes("Note line 1\r\nnote line 2")
            .url("https://github.com/login"),
            Expect::new(
                "Work/DB-server",
                &["Work"],
                note(
                    "NoteType:Server\r\nHostname:db.example.com\r\nUsername:admin\r\nPassword:s3cr3t",
                ),
            ),
            Expect::new("Plain-note", &[], note("just a plain note")),
            Expect::new("No-URL", &[], login("user", "pw-no-url", "")),
            Expect::new(
                "Work/Dev/GitHub-2",
                &["Work", "Dev"],
                login("second", "pw-second", "https://github.com"),
            )
            .url("https://github.com"),
            Expect::new(
                "Privat/Laden/Bucher",
                &["Privat", "Läden"],
                login("jürgen", "grüße", "https://example.de"),
            )
            .url("https://example.de"),
        ],
    );
    assert_eq!(
        c.unsupported,
        [
            "Work/Dev/GitHub: favorite flag not carried",
            "Empty-note: not imported: the item holds no value",
        ]
    );
}

#[test]
fn keepassxc_fixture() {
    let c = parse_keepassxc_csv(&fixture("keepassxc.csv")).unwrap();
    check_all(
        &c,
        &[
            Expect::new(
                "Email",
                &[],
                login("me@example.com", "pw1", "https://mail.example.com"),
            )
            .url("https://mail.example.com"),
            Expect::new(
                "Work/AWS/Console",
                &["Work", "AWS"],
                with(
                    login("admin", "aws\"pw,1", "https://console.aws.amazon.com"),
                    &[(
                        "totp",
                        "otpauth://totp/AWS?secret=ABC",
                        true,
                        Some("totp"),
                        LINE,
                    )],
                ),
            )
            .notes("multi\nline \"notes\"")
            .url("https://console.aws.amazon.com"),
            Expect::new(
                "Work/AWS/Console-2",
                &["Work", "AWS"],
                login("admin2", "pw2", ""),
            ),
            Expect::new("Recycle-Bin/Old", &["Recycle Bin"], login("", "old-pw", "")),
            Expect::new(
                "Prive/API",
                &["Privé"],
                with(
                    login("", "ключ", ""),
                    &[("title", "Ключ API", false, Some("title"), LINE)],
                ),
            ),
            Expect::new("Note-only", &[], note("Just a note")),
        ],
    );
    assert_eq!(
        c.unsupported,
        [
            "Work/AWS/Console: icon not carried",
            "Work/AWS/Console: creation time not carried: it is not a timestamp",
            "item-7: not imported: the item holds no value",
        ]
    );
    assert_eq!(
        time(&c.records[0]),
        (
            Some("2023-05-06T07:08:09Z".to_owned()),
            Some("2024-01-02T03:04:05Z".to_owned())
        )
    );
    assert_eq!(
        time(&c.records[1]),
        (None, Some("2024-02-03T04:05:06Z".to_owned()))
    );
}

#[test]
fn competitor_dispatch_matches_the_functions() {
    for (competitor, file) in [
        (Competitor::OnePassword, "1password.csv"),
        (Competitor::Bitwarden, "bitwarden.json"),
        (Competitor::LastPass, "lastpass.csv"),
        (Competitor::KeePassXc, "keepassxc.csv"),
    ] {
        let c = competitor.convert(&fixture(file)).unwrap();
        assert!(!c.records.is_empty(), "{file}");
        assert_eq!(Competitor::parse(competitor.name()), Some(competitor));
    }
}

#[test]
fn onepassword_header_variants_and_unknown_columns() {
    let csv = "\u{feff}title,website,user name,PASSWORD,one-time password,notesPlain,Type\n\
               X,https://x.example,u,p,,n,Login\n";
    let c = parse_1password_csv(csv).unwrap();
    check_all(
        &c,
        &[Expect::new(
            "X",
            &[],
            with(
                login("u", "p", "https://x.example"),
                &[("type", "Login", true, None, LINE)],
            ),
        )
        .notes("n")
        .url("https://x.example")],
    );
    assert_eq!(
        c.records[0].secret.field("type").unwrap().hint.as_deref(),
        Some("Type")
    );
}

#[test]
fn the_wrong_format_is_an_error_naming_the_missing_column() {
    let lastpass = fixture("lastpass.csv");
    let err = parse_keepassxc_csv(&lastpass).err().unwrap();
    assert_eq!(
        err.to_string(),
        "line 1: not a KeePassXC CSV export: the header has no Title column"
    );
    let err = parse_1password_csv(&lastpass).err().unwrap();
    assert_eq!(
        err.to_string(),
        "line 1: not a 1Password CSV export: the header has no Title column"
    );
    let err = parse_lastpass_csv(&fixture("keepassxc.csv")).err().unwrap();
    assert_eq!(
        err.to_string(),
        "line 1: not a LastPass CSV export: the header has no name column"
    );
    let err = parse_bitwarden_json(&lastpass).err().unwrap();
    assert!(
        err.to_string().starts_with("line 1: not valid JSON"),
        "{err}"
    );
}

#[test]
fn a_row_with_too_many_cells_names_its_line_not_its_values() {
    let csv = "Title,Password\nA,pw-a\nB,\"pw\nsecret-b\",surplus-value\n";
    let err = parse_1password_csv(csv).err().unwrap();
    assert_eq!(err.line, 3);
    assert!(!err.to_string().contains("secret-b"));
    assert!(!err.to_string().contains("surplus"));
}

#[test]
fn long_notes_become_a_field_and_huge_values_are_reported() {
    let long_notes = "n".repeat(10 * 1024 + 1);
    let huge = "x".repeat(1024 * 1024 + 1);
    let csv = format!(
        "Title,Password,Notes,Extra\nLong,pw-long,{long_notes},\nHuge,{huge},,kept\nExact,pw-exact,{},\n",
        "e".repeat(10 * 1024)
    );
    let c = parse_1password_csv(&csv).unwrap();
    let long = &c.records[0].secret;
    assert!(long.meta.notes.is_none());
    let field = long.field("notes").unwrap();
    assert!(field.sensitive);
    assert_eq!(field.input_type, InputType::MultiLine);
    assert_eq!(field.value.expose_bytes(), long_notes.as_bytes());
    let huge_secret = &c.records[1].secret;
    assert_eq!(huge_secret.fields.len(), 1);
    assert_eq!(huge_secret.fields[0].name, "extra");
    assert_eq!(
        c.unsupported,
        ["Huge: field 'password' not carried: it is larger than 1 MiB"]
    );
    assert_eq!(
        c.records[2].secret.meta.notes.as_deref().map(str::len),
        Some(10 * 1024)
    );
}

#[test]
fn fields_beyond_64_are_reported() {
    let fields: Vec<String> = (1..=70)
        .map(|i| format!("{{\"name\": \"f{i}\", \"value\": \"v-{i}\", \"type\": 1}}"))
        .collect();
    let json = format!(
        "{{\"encrypted\": false, \"items\": [{{\"type\": 2, \"name\": \"Many\", \"notes\": \"body\", \"fields\": [{}]}}]}}",
        fields.join(",")
    );
    let c = parse_bitwarden_json(&json).unwrap();
    let secret = &c.records[0].secret;
    assert_eq!(secret.fields.len(), 64);
    assert_eq!(secret.fields[0].name, "value");
    assert_eq!(secret.fields[63].name, "f63");
    let want: Vec<String> = (64..=70)
        .map(|i| format!("Many: field 'f{i}' not carried: a secret holds at most 64 fields"))
        .collect();
    assert_eq!(c.unsupported, want);
}

#[test]
fn hostile_labels_cannot_forge_lines() {
    let json = r#"{"items": [{"type": 1, "name": "Evil\nitem", "login": {"password": "pw-evil"},
        "fields": [{"name": "x\n\u001b[31mfake", "value": "", "type": 0}]}]}"#;
    let c = parse_bitwarden_json(json).unwrap();
    assert_eq!(c.records[0].secret.name.as_str(), "Evil-item");
    assert_eq!(c.unsupported.len(), 1);
    let line = &c.unsupported[0];
    assert!(!line.contains('\n') && !line.contains('\x1b'), "{line:?}");
}

#[test]
fn documented_error_messages() {
    // The examples of docs/import-export.md, "Errors".
    let err = parse_1password_csv("Title,Password\nA,pw-a\nB,pw-b,surplus\n")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "line 3: the item has 3 cells but the header has 2 columns"
    );
    let err = parse_bitwarden_json("{\n  \"encrypted\": true,\n  \"items\": []\n}")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "line 2: this Bitwarden export is encrypted; export the vault again as .json without \
         password protection (the unencrypted format)"
    );
    let err = parse_bitwarden_json("{\"items\": [\n {\"type\": \"login\"}]}")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "line 2: not a Bitwarden JSON export: a value has an unexpected type (column 17)"
    );
}

/// A folder secretctl cannot hold (a name with '/', over 64 bytes, nested deeper than 16) is
/// left out with a line saying why, instead of failing the whole import when it is written;
/// the key name keeps the path. Found by reading the code the `competitor_import` fuzz target
/// checks.
#[test]
fn folders_secretctl_cannot_hold_are_not_carried() {
    let long = "L".repeat(65);
    let deep = (1..=17)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("\\");
    let text = format!(
        "url,username,password,totp,extra,name,grouping,fav\n\
         ,u1,pw1,,,Slash,Ops/Infra,0\n\
         ,u2,pw2,,,Long,{long},0\n\
         ,u3,pw3,,,Deep,{deep},0\n\
         ,u4,pw4,,,Fine,Work\\Dev,0\n"
    );
    let c = parse_lastpass_csv(&text).unwrap();
    let folders: Vec<(&str, &[String])> = c
        .records
        .iter()
        .map(|r| (r.secret.name.as_str(), r.folder.as_slice()))
        .collect();
    assert_eq!(folders[0], ("Ops-Infra/Slash", &[][..]));
    assert_eq!(folders[1].1, &[] as &[String]);
    assert_eq!(folders[2].1, &[] as &[String]);
    assert_eq!(
        folders[3],
        ("Work/Dev/Fine", &["Work".to_owned(), "Dev".to_owned()][..])
    );
    assert_eq!(c.unsupported.len(), 3, "{:#?}", c.unsupported);
    assert_eq!(
        c.unsupported[0],
        "Ops-Infra/Slash: folder not carried: invalid folder 'Ops/Infra': a folder name cannot \
         contain '/'"
    );
    assert!(c.unsupported[1].ends_with("a folder name is 1 to 64 bytes"));
    assert!(c.unsupported[2].ends_with("a folder path has 1 to 16 names"));
    for r in &c.records {
        r.secret.validate().unwrap();
    }
}
