//! Known-answer tests, read from the vector files under `tests/vectors/`.
//!
//! Each file holds cases as blocks of `key = value` lines separated by blank lines, with `#`
//! comments citing where each vector comes from and how it was cross-checked. Byte strings are
//! hex (an empty value is a zero-length string); cost parameters and lengths are decimal; `case`
//! is the label used in failure messages.
//!
//! Every test asserts how many cases it parsed, so an emptied or garbled file fails instead of
//! passing with nothing checked, and rejects keys it does not know, so a misspelt key cannot
//! silently stand for an empty value.

use super::*;

const ARGON2ID_RFC9106: &str = include_str!("../../tests/vectors/argon2id-rfc9106.txt");
const ARGON2ID_SEED_PARAMS: &str = include_str!("../../tests/vectors/argon2id-seed-params.txt");
const HKDF_SHA256_RFC5869: &str = include_str!("../../tests/vectors/hkdf-sha256-rfc5869.txt");
const HMAC_SHA256_RFC4231: &str = include_str!("../../tests/vectors/hmac-sha256-rfc4231.txt");
const AES256GCM: &str = include_str!("../../tests/vectors/aes256gcm.txt");
const AES256GCM_NEGATIVE: &str = include_str!("../../tests/vectors/aes256gcm-negative.txt");

/// One block of a vector file: its `key = value` lines in file order.
struct Case {
    file: &'static str,
    line: usize,
    fields: Vec<(&'static str, &'static str)>,
}

/// Splits a vector file into cases. Panics, naming the file and line, on anything that is not a
/// comment, a blank line or a `key = value` line, and on a key repeated within a case.
fn parse(file: &'static str, text: &'static str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            cases.extend(current.take());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{file}:{line_no}: expected `key = value`, got {raw:?}"));
        let (key, value) = (key.trim(), value.trim());
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{file}:{line_no}: bad key {key:?}"
        );
        let case = current.get_or_insert_with(|| Case {
            file,
            line: line_no,
            fields: Vec::new(),
        });
        assert!(
            case.fields.iter().all(|(k, _)| *k != key),
            "{file}:{line_no}: key `{key}` repeated within one case"
        );
        case.fields.push((key, value));
    }
    cases.extend(current);
    cases
}

impl Case {
    /// `file:line (case name)`, for failure messages.
    fn id(&self) -> String {
        let name = self.get("case").unwrap_or("<no `case` label>");
        format!("{}:{} ({name})", self.file, self.line)
    }

    fn get(&self, key: &str) -> Option<&'static str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Checks that the case has every key of `required` (plus `case`) and nothing outside
    /// `required` and `optional`.
    fn expect_keys(&self, required: &[&str], optional: &[&str]) {
        for key in required.iter().chain(&["case"]) {
            assert!(
                self.get(key).is_some(),
                "{}: missing key `{key}`",
                self.id()
            );
        }
        for (key, _) in &self.fields {
            assert!(
                *key == "case" || required.contains(key) || optional.contains(key),
                "{}: unexpected key `{key}`",
                self.id()
            );
        }
    }

    fn text(&self, key: &str) -> &'static str {
        self.get(key)
            .unwrap_or_else(|| panic!("{}: missing key `{key}`", self.id()))
    }

    fn bytes(&self, key: &str) -> Vec<u8> {
        hex::decode(self.text(key))
            .unwrap_or_else(|e| panic!("{}: `{key}` is not hex: {e}", self.id()))
    }

    fn array<const N: usize>(&self, key: &str) -> [u8; N] {
        let bytes = self.bytes(key);
        bytes.as_slice().try_into().unwrap_or_else(|_| {
            panic!(
                "{}: `{key}` is {} bytes, expected {N}",
                self.id(),
                bytes.len()
            )
        })
    }

    fn number(&self, key: &str) -> u32 {
        self.text(key)
            .parse()
            .unwrap_or_else(|e| panic!("{}: `{key}` is not a decimal number: {e}", self.id()))
    }

    fn kdf_params(&self) -> KdfParams {
        KdfParams {
            m_cost_kib: self.number("m_cost_kib"),
            t_cost: self.number("t_cost"),
            p_cost: self.number("p_cost"),
        }
    }
}

/// Parses `text` and checks it holds exactly `expected` cases.
fn cases(file: &'static str, text: &'static str, expected: usize) -> Vec<Case> {
    let cases = parse(file, text);
    assert_eq!(
        cases.len(),
        expected,
        "{file}: parsed {} cases, expected {expected}",
        cases.len()
    );
    cases
}

#[test]
fn parser_reads_blocks_and_empty_values() {
    let parsed = parse(
        "inline",
        "# comment\n\ncase = a\nx = 00ff\n# inner comment\ny =\n\n\n case = b \n z = 1\n",
    );
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].fields, [("case", "a"), ("x", "00ff"), ("y", "")]);
    assert_eq!(parsed[0].line, 3);
    assert_eq!(parsed[1].fields, [("case", "b"), ("z", "1")]);
    assert_eq!(parsed[0].bytes("y"), Vec::<u8>::new());
}

#[test]
#[should_panic(expected = "inline:2: expected `key = value`")]
fn parser_rejects_garbled_lines() {
    parse("inline", "case = a\n0d640df58d78766c\n");
}

#[test]
#[should_panic(expected = "inline:3: key `x` repeated")]
fn parser_rejects_repeated_keys() {
    parse("inline", "case = a\nx = 00\nx = 01\n");
}

#[test]
fn argon2id_matches_rfc9106_and_reference_vectors() {
    let cases = cases("argon2id-rfc9106.txt", ARGON2ID_RFC9106, 9);
    let mut with_secret_and_ad = 0;
    for case in &cases {
        case.expect_keys(
            &[
                "password",
                "salt",
                "secret",
                "ad",
                "m_cost_kib",
                "t_cost",
                "p_cost",
                "tag",
            ],
            &[],
        );
        let (secret, ad) = (case.bytes("secret"), case.bytes("ad"));
        if !secret.is_empty() && !ad.is_empty() {
            with_secret_and_ad += 1;
        }
        let expected = case.bytes("tag");
        let mut out = vec![0u8; expected.len()];
        argon2id_raw(
            &case.bytes("password"),
            &case.bytes("salt"),
            &case.kdf_params(),
            &secret,
            &ad,
            &mut out,
        )
        .unwrap_or_else(|e| panic!("{}: argon2id_raw failed: {e}", case.id()));
        assert_eq!(
            hex::encode(&out),
            hex::encode(&expected),
            "{}: wrong tag",
            case.id()
        );
    }
    assert_eq!(
        with_secret_and_ad, 1,
        "the RFC 9106 case (secret and associated data) must be among the cases"
    );
}

#[test]
fn derive_master_key_at_seed_params_matches_reference_cli() {
    let cases = cases("argon2id-seed-params.txt", ARGON2ID_SEED_PARAMS, 1);
    for case in &cases {
        case.expect_keys(
            &["password", "salt", "m_cost_kib", "t_cost", "p_cost", "tag"],
            &[],
        );
        let params = case.kdf_params();
        assert_eq!(
            params,
            KdfParams::SEED,
            "{}: not the seed parameters",
            case.id()
        );
        let salt: [u8; SALT_LEN] = case.array("salt");
        let key = derive_master_key(&Passphrase::new(case.bytes("password")), &salt, &params)
            .unwrap_or_else(|e| panic!("{}: derive_master_key failed: {e}", case.id()));
        let expected: [u8; KEY_LEN] = case.array("tag");
        assert_eq!(
            hex::encode(key.bytes()),
            hex::encode(expected),
            "{}: wrong master key",
            case.id()
        );
    }
}

#[test]
fn hkdf_sha256_matches_rfc5869() {
    let cases = cases("hkdf-sha256-rfc5869.txt", HKDF_SHA256_RFC5869, 3);
    for case in &cases {
        case.expect_keys(&["ikm", "salt", "info", "l", "prk", "okm"], &[]);
        let (ikm, salt, info) = (case.bytes("ikm"), case.bytes("salt"), case.bytes("info"));
        let expected = case.bytes("okm");
        let len = usize::try_from(case.number("l")).expect("u32 fits in usize");
        assert_eq!(expected.len(), len, "{}: okm is not L octets", case.id());

        let mut out = vec![0u8; len];
        hkdf_sha256(&ikm, Some(&salt), &info, &mut out)
            .unwrap_or_else(|e| panic!("{}: hkdf_sha256 failed: {e}", case.id()));
        assert_eq!(
            hex::encode(&out),
            hex::encode(&expected),
            "{}: wrong OKM",
            case.id()
        );

        // HKDF-Extract is HMAC-SHA256(salt, IKM); an absent salt is HashLen zero octets.
        let prk = case.bytes("prk");
        assert_eq!(
            hex::encode(hmac_sha256(&salt, &ikm)),
            hex::encode(&prk),
            "{}: wrong PRK",
            case.id()
        );
        if salt.is_empty() {
            let mut out = vec![0u8; len];
            hkdf_sha256(&ikm, None, &info, &mut out)
                .unwrap_or_else(|e| panic!("{}: hkdf_sha256 (no salt) failed: {e}", case.id()));
            assert_eq!(
                hex::encode(&out),
                hex::encode(&expected),
                "{}: wrong OKM with salt = None",
                case.id()
            );
            assert_eq!(
                hex::encode(hmac_sha256(&[0u8; 32], &ikm)),
                hex::encode(&prk),
                "{}: wrong PRK with a zero salt",
                case.id()
            );
        }
    }
}

#[test]
fn hmac_sha256_matches_rfc4231() {
    let cases = cases("hmac-sha256-rfc4231.txt", HMAC_SHA256_RFC4231, 7);
    let mut truncated = 0;
    for case in &cases {
        case.expect_keys(&["key", "data", "mac"], &["truncate"]);
        let (key, data, expected) = (case.bytes("key"), case.bytes("data"), case.bytes("mac"));
        let compared = match case.get("truncate") {
            Some(_) => {
                truncated += 1;
                usize::try_from(case.number("truncate")).expect("u32 fits in usize")
            }
            None => 32,
        };
        assert_eq!(
            expected.len(),
            compared,
            "{}: mac is {} bytes, expected {compared}",
            case.id(),
            expected.len()
        );

        let mac = hmac_sha256(&key, &data);
        assert_eq!(
            hex::encode(&mac[..compared]),
            hex::encode(&expected),
            "{}: wrong HMAC",
            case.id()
        );

        // The multi-part form must agree with the one-shot form wherever the message is split.
        let (a, b) = data.split_at(data.len() / 2);
        assert_eq!(
            hmac_sha256_parts(&key, &[a, b]),
            mac,
            "{}: hmac_sha256_parts differs from hmac_sha256",
            case.id()
        );
    }
    assert_eq!(truncated, 1, "only test case 5 is truncated (to 128 bits)");
}

#[test]
fn aes256gcm_seal_and_open_match_known_answers() {
    let cases = cases("aes256gcm.txt", AES256GCM, 16);
    for case in &cases {
        case.expect_keys(&["key", "iv", "aad", "pt", "ct", "tag"], &[]);
        let key: [u8; KEY_LEN] = case.array("key");
        let nonce: [u8; NONCE_LEN] = case.array("iv");
        let (aad, pt) = (case.bytes("aad"), case.bytes("pt"));
        let tag: [u8; TAG_LEN] = case.array("tag");
        let mut expected = case.bytes("ct");
        assert_eq!(
            expected.len(),
            pt.len(),
            "{}: ct and pt lengths differ",
            case.id()
        );
        expected.extend_from_slice(&tag);

        let sealed = gcm_seal_with_nonce(&key, &nonce, &aad, &pt)
            .unwrap_or_else(|e| panic!("{}: seal failed: {e}", case.id()));
        assert_eq!(
            hex::encode(&sealed),
            hex::encode(&expected),
            "{}: wrong ct || tag",
            case.id()
        );

        let opened = gcm_open_with_nonce(&key, &nonce, &aad, &expected)
            .unwrap_or_else(|e| panic!("{}: open rejected the known answer: {e}", case.id()));
        assert_eq!(
            hex::encode(opened.as_slice()),
            hex::encode(&pt),
            "{}: wrong plaintext",
            case.id()
        );
    }
}

#[test]
fn aes256gcm_open_rejects_negative_cases() {
    let cases = cases("aes256gcm-negative.txt", AES256GCM_NEGATIVE, 14);
    for case in &cases {
        case.expect_keys(&["key", "iv", "aad", "sealed"], &[]);
        let key: [u8; KEY_LEN] = case.array("key");
        let nonce: [u8; NONCE_LEN] = case.array("iv");
        let result = gcm_open_with_nonce(&key, &nonce, &case.bytes("aad"), &case.bytes("sealed"));
        if let Ok(plaintext) = result {
            panic!(
                "{}: open accepted an input it must reject, giving {}",
                case.id(),
                hex::encode(plaintext.as_slice())
            );
        }
    }
}
