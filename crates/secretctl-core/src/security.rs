//! The security report (SPEC §10 `security`, §7.1 `security_score`): a score from 0 to 100
//! from the strength of every sensitive value, reuse of values, and the expiry of every secret,
//! with the lists behind it. The formula is documented in `docs/security-report.md`; keep the
//! two in step.
//!
//! The report holds key names, field names, strength scores, guess counts, crack-time classes
//! and fixed reasons: never a value or any part of one, so every interface (the MCP server
//! included) may show it whole.
//!
//! Values are exposed here for two purposes only, one secret at a time while the vault hands
//! it over ([`crate::vault::Session::scan`]): the zxcvbn estimator, and an HMAC under a key
//! made fresh for each report and never stored, so that equal values group together by MAC
//! after the values themselves are gone. zxcvbn copies the first 100 characters it examines
//! into its own buffers and frees them without wiping; that is the one copy this module cannot
//! wipe.
//!
//! This module reads the vault only through [`Session::scan`] and writes nothing but the one
//! audit record that call makes.

use crate::audit::{Action, Source};
use crate::crypto::SubKey;
use crate::secret::Secret;
use crate::vault::{self, Session};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// Secrets expiring within this window are listed as expiring.
pub const DEFAULT_EXPIRING_WITHIN: Duration = Duration::from_secs(30 * 86_400);
/// zxcvbn scores below this are weak (zxcvbn's own advice: under 3 is too guessable).
pub const WEAK_BELOW: u8 = 3;
/// Weight of the strength component in the score.
pub const STRENGTH_WEIGHT: f64 = 0.5;
/// Weight of the reuse component.
pub const REUSE_WEIGHT: f64 = 0.3;
/// Weight of the expiry component.
pub const EXPIRY_WEIGHT: f64 = 0.2;

/// The report. Contains no value, nor any part of one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// 0 (bad) to 100 (nothing found): `round(100 · (0.5·strength + 0.3·reuse + 0.2·expiry))`.
    pub score: u8,
    /// The three components, each from 0 to 1.
    pub components: Components,
    /// What was examined and found.
    pub counts: Counts,
    /// Sensitive values with a zxcvbn score under [`WEAK_BELOW`], or empty.
    pub weak: Vec<WeakValue>,
    /// Groups of two or more sensitive values that are byte for byte equal.
    pub reused: Vec<ReuseGroup>,
    /// Secrets whose expiry has passed.
    pub expired: Vec<Expiry>,
    /// Secrets expiring within `expiring_within_secs`.
    pub expiring: Vec<Expiry>,
    /// Sensitive values that are not UTF-8 text (keys, binary blobs): not estimated, but
    /// checked for reuse.
    pub unscored: Vec<FieldRef>,
    /// The window for `expiring`, in seconds.
    pub expiring_within_secs: u64,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
}

/// The components of the score, each from 0 (worst) to 1 (best), rounded to 3 decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Components {
    /// Mean of `zxcvbn score / 4` over the scored values (1 when there are none).
    pub strength: f64,
    /// `1 − reused values / checked values` (1 when none were checked).
    pub reuse: f64,
    /// `1 − (expired + expiring / 2) / secrets` (1 for an empty vault).
    pub expiry: f64,
}

/// Counts behind the score.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Every secret in the vault.
    pub secrets: usize,
    /// Sensitive values examined (a plain secret's value, each sensitive field).
    pub values: usize,
    /// Values whose strength was scored (text values, empty ones included).
    pub scored: usize,
    /// Weak values.
    pub weak: usize,
    /// Non-empty values compared for reuse.
    pub checked_for_reuse: usize,
    /// Values equal to at least one other.
    pub reused_values: usize,
    /// Groups of equal values.
    pub reuse_groups: usize,
    /// Expired secrets.
    pub expired: usize,
    /// Secrets expiring within the window.
    pub expiring: usize,
    /// Values not scored (not UTF-8).
    pub unscored: usize,
}

/// A field of a secret: `field` is `value` for a plain secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FieldRef {
    /// Key name.
    pub key: String,
    /// Field name.
    pub field: String,
}

/// A weak value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeakValue {
    /// Key name.
    pub key: String,
    /// Field name.
    pub field: String,
    /// zxcvbn score, 0 to 4.
    pub strength: u8,
    /// `log10` of zxcvbn's guess estimate, rounded to 2 decimals.
    pub guesses_log10: f64,
    /// Time to guess it offline against a slow hash (10⁴ guesses a second), as zxcvbn words it.
    pub crack_time: String,
    /// Why it is weak: zxcvbn's warning (a fixed sentence), or the guess estimate.
    pub reason: String,
}

/// Values that are equal to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseGroup {
    /// Where the value occurs, sorted.
    pub members: Vec<FieldRef>,
}

/// An expired or expiring secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// Key name.
    pub key: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// Whole days from now to the expiry, rounded down: negative once expired.
    pub days_left: i64,
}

/// How to build a report.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// "Now", for expiry.
    pub now: Timestamp,
    /// Secrets expiring within this window are listed as expiring.
    pub expiring_within: Duration,
}

impl Options {
    /// Now, with secrets expiring within `window` listed as expiring.
    pub fn expiring_within(window: Duration) -> Options {
        Options {
            now: Timestamp::now(),
            expiring_within: window,
        }
    }
}

impl Default for Options {
    /// Now, with the default window of [`DEFAULT_EXPIRING_WITHIN`].
    fn default() -> Self {
        Options::expiring_within(DEFAULT_EXPIRING_WITHIN)
    }
}

/// Builds the report from the vault: reads every secret through [`Session::scan`] (one audit
/// record, action `security_report`, with `source`) and examines each as it comes.
pub fn report(
    session: &mut Session,
    source: Source,
    options: Options,
) -> Result<Report, vault::Error> {
    let mut analyzer = Analyzer::new(options);
    session.scan(Action::SecurityReport, source, |secret| {
        analyzer.add(&secret)
    })?;
    Ok(analyzer.finish())
}

/// Examines secrets one by one and keeps only what the report needs.
pub struct Analyzer {
    options: Options,
    /// A key for this report only: equal values have equal MACs, and the MACs say nothing
    /// about the values once the key is dropped with the analyzer.
    mac_key: SubKey,
    by_mac: HashMap<[u8; 32], Vec<FieldRef>>,
    counts: Counts,
    /// Sum of `zxcvbn score / 4` over the scored values.
    strength_sum: f64,
    weak: Vec<WeakValue>,
    expired: Vec<Expiry>,
    expiring: Vec<Expiry>,
    unscored: Vec<FieldRef>,
}

impl Analyzer {
    /// An analyzer with a fresh MAC key.
    pub fn new(options: Options) -> Analyzer {
        Analyzer {
            options,
            mac_key: SubKey::random(),
            by_mac: HashMap::new(),
            counts: Counts::default(),
            strength_sum: 0.0,
            weak: Vec::new(),
            expired: Vec::new(),
            expiring: Vec::new(),
            unscored: Vec::new(),
        }
    }

    /// Examines one secret: its expiry, and each sensitive field's strength and MAC.
    /// Non-sensitive fields (user names, hosts, ports) are not passwords; they only serve as
    /// words an attacker would try (zxcvbn's user inputs), with the key name's parts.
    pub fn add(&mut self, secret: &Secret) {
        self.counts.secrets += 1;
        let key = secret.name.as_str();
        self.add_expiry(secret);
        let mut hints: Vec<String> = key
            .split(['/', '.', '_', '-'])
            .filter(|part| part.len() >= 3)
            .map(str::to_owned)
            .collect();
        hints.extend(
            secret
                .fields
                .iter()
                .filter(|f| !f.sensitive)
                .filter_map(|f| std::str::from_utf8(f.value.expose_bytes()).ok())
                .filter(|text| !text.is_empty() && text.len() <= 100)
                .map(str::to_owned),
        );
        let hints: Vec<&str> = hints.iter().map(String::as_str).collect();
        for field in secret.fields.iter().filter(|f| f.sensitive) {
            self.counts.values += 1;
            let at = FieldRef {
                key: key.to_owned(),
                field: field.name.clone(),
            };
            let bytes = field.value.expose_bytes();
            if bytes.is_empty() {
                self.counts.scored += 1;
                self.weak.push(WeakValue {
                    key: at.key,
                    field: at.field,
                    strength: 0,
                    guesses_log10: 0.0,
                    crack_time: "less than a second".into(),
                    reason: "the value is empty".into(),
                });
                continue;
            }
            self.counts.checked_for_reuse += 1;
            self.by_mac
                .entry(self.mac_key.mac(bytes))
                .or_default()
                .push(at.clone());
            match std::str::from_utf8(bytes) {
                Ok(text) => self.add_strength(at, text, &hints),
                Err(_) => self.unscored.push(at),
            }
        }
    }

    fn add_strength(&mut self, at: FieldRef, text: &str, hints: &[&str]) {
        let estimate = zxcvbn::zxcvbn(text, hints);
        let strength = u8::from(estimate.score());
        self.counts.scored += 1;
        self.strength_sum += f64::from(strength) / 4.0;
        if strength < WEAK_BELOW {
            let log10 = estimate.guesses_log10();
            let reason = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| w.to_string())
                .unwrap_or_else(|| format!("could be guessed in about 10^{log10:.0} tries"));
            self.weak.push(WeakValue {
                key: at.key,
                field: at.field,
                strength,
                guesses_log10: round_to(log10, 2),
                crack_time: estimate
                    .crack_times()
                    .offline_slow_hashing_1e4_per_second()
                    .to_string(),
                reason,
            });
        }
    }

    fn add_expiry(&mut self, secret: &Secret) {
        let Some(at) = secret.meta.expires_at else {
            return;
        };
        let now = self.options.now;
        let left = at.as_second() - now.as_second();
        let entry = Expiry {
            key: secret.name.as_str().to_owned(),
            expires_at: seconds(at),
            days_left: left.div_euclid(86_400),
        };
        let window = i64::try_from(self.options.expiring_within.as_secs()).unwrap_or(i64::MAX);
        if at <= now {
            self.expired.push(entry);
        } else if left <= window {
            self.expiring.push(entry);
        }
    }

    /// The report: groups, counts, components and score.
    pub fn finish(self) -> Report {
        let Analyzer {
            options,
            by_mac,
            mut counts,
            strength_sum,
            mut weak,
            mut expired,
            mut expiring,
            mut unscored,
            ..
        } = self;
        let mut reused: Vec<ReuseGroup> = by_mac
            .into_values()
            .filter(|members| members.len() > 1)
            .map(|mut members| {
                members.sort();
                ReuseGroup { members }
            })
            .collect();
        reused.sort_by(|a, b| a.members.cmp(&b.members));
        weak.sort_by(|a, b| (&a.key, &a.field).cmp(&(&b.key, &b.field)));
        expired.sort_by(|a, b| (&a.expires_at, &a.key).cmp(&(&b.expires_at, &b.key)));
        expiring.sort_by(|a, b| (&a.expires_at, &a.key).cmp(&(&b.expires_at, &b.key)));
        unscored.sort();
        counts.weak = weak.len();
        counts.reuse_groups = reused.len();
        counts.reused_values = reused.iter().map(|g| g.members.len()).sum();
        counts.expired = expired.len();
        counts.expiring = expiring.len();
        counts.unscored = unscored.len();
        // An empty part of the vault has nothing wrong with it: its component is 1.
        let share = |part: f64, whole: usize| {
            if whole == 0 { 0.0 } else { part / whole as f64 }
        };
        let strength = if counts.scored == 0 {
            1.0
        } else {
            strength_sum / counts.scored as f64
        };
        let reuse = 1.0 - share(counts.reused_values as f64, counts.checked_for_reuse);
        let expiry = 1.0
            - share(
                counts.expired as f64 + counts.expiring as f64 / 2.0,
                counts.secrets,
            );
        let total =
            100.0 * (STRENGTH_WEIGHT * strength + REUSE_WEIGHT * reuse + EXPIRY_WEIGHT * expiry);
        Report {
            score: total.round().clamp(0.0, 100.0) as u8,
            components: Components {
                strength: round_to(strength, 3),
                reuse: round_to(reuse, 3),
                expiry: round_to(expiry, 3),
            },
            counts,
            weak,
            reused,
            expired,
            expiring,
            unscored,
            expiring_within_secs: options.expiring_within.as_secs(),
            generated_at: seconds(options.now),
        }
    }
}

/// RFC 3339 to the second.
fn seconds(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Bindings, Field, KeyName, SecretMeta, SecretValue};

    const STRONG: &str = "kV9#pQ2$wL7!mZ4&xR8*tB3^";

    fn value(bytes: &[u8]) -> SecretValue {
        SecretValue::new(bytes.to_vec()).expect("test values are small")
    }

    fn plain(name: &str, v: &[u8]) -> Secret {
        Secret {
            name: KeyName::parse(name).unwrap(),
            fields: vec![Field::sensitive("value", value(v))],
            bindings: Bindings::new(),
            meta: SecretMeta::default(),
        }
    }

    fn login(name: &str, user: &str, password: &[u8]) -> Secret {
        let mut username = Field::sensitive("username", value(user.as_bytes()));
        username.sensitive = false;
        Secret {
            name: KeyName::parse(name).unwrap(),
            fields: vec![username, Field::sensitive("password", value(password))],
            bindings: Bindings::new(),
            meta: SecretMeta::default(),
        }
    }

    fn at(key: &str, field: &str) -> FieldRef {
        FieldRef {
            key: key.into(),
            field: field.into(),
        }
    }

    fn analyze(secrets: &[Secret], now: Timestamp) -> Report {
        let mut a = Analyzer::new(Options {
            now,
            expiring_within: DEFAULT_EXPIRING_WITHIN,
        });
        for s in secrets {
            a.add(s);
        }
        a.finish()
    }

    #[test]
    fn weak_reused_and_expiring_secrets_are_listed() {
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let days = |d: i64| now + jiff::SignedDuration::from_hours(24 * d);
        let mut expired = plain("old/token", b"Zq8!vN3@rT6#yP1$");
        expired.meta.expires_at = Some(days(-3));
        let mut soon = plain("soon/token", b"Hw5%kD9&jS2*fG7(");
        soon.meta.expires_at = Some(days(10));
        let mut later = plain("later/token", b"Lp4)bM8_cX1+nV6=");
        later.meta.expires_at = Some(days(60));
        let secrets = vec![
            plain("weak", b"password123"),
            plain("strong", STRONG.as_bytes()),
            plain("reuse/a", b"Shared-Secret-Value-42!"),
            plain("reuse/b", b"Shared-Secret-Value-42!"),
            login("svc", "alice", b"Shared-Secret-Value-42!"),
            expired,
            soon,
            later,
        ];
        let r = analyze(&secrets, now);
        assert_eq!(r.counts.secrets, 8);
        // svc's username is not a password: 8 sensitive values, not 9.
        assert_eq!(r.counts.values, 8);
        assert_eq!(r.counts.scored, 8);
        assert_eq!(
            r.weak
                .iter()
                .map(|w| (&*w.key, &*w.field))
                .collect::<Vec<_>>(),
            [("weak", "value")]
        );
        assert_eq!(r.weak[0].strength, 0);
        assert!(!r.weak[0].reason.is_empty());
        assert_eq!(
            r.reused,
            [ReuseGroup {
                members: vec![
                    at("reuse/a", "value"),
                    at("reuse/b", "value"),
                    at("svc", "password")
                ]
            }]
        );
        assert_eq!(r.counts.reused_values, 3);
        assert_eq!(
            r.expired,
            [Expiry {
                key: "old/token".into(),
                expires_at: "2029-12-29T00:00:00Z".into(),
                days_left: -3
            }]
        );
        assert_eq!(r.expiring.len(), 1);
        assert_eq!(r.expiring[0].key, "soon/token");
        assert_eq!(r.expiring[0].days_left, 10);
        assert!(r.score < 100);
    }

    #[test]
    fn score_follows_the_documented_formula() {
        let now = Timestamp::now();
        let mut expired = plain("b", STRONG.as_bytes());
        expired.meta.expires_at = Some(now - jiff::SignedDuration::from_hours(1));
        let secrets = vec![plain("a", b"password"), expired];
        let r = analyze(&secrets, now);
        // Strength: (0/4 + 4/4) / 2; reuse: none; expiry: 1 − 1/2.
        assert_eq!(r.components.strength, 0.5);
        assert_eq!(r.components.reuse, 1.0);
        assert_eq!(r.components.expiry, 0.5);
        assert_eq!(
            r.score,
            (100.0f64 * (0.5 * 0.5 + 0.3 + 0.2 * 0.5)).round() as u8
        );
        assert_eq!(analyze(&[], now).score, 100);
        assert_eq!(analyze(&[plain("s", STRONG.as_bytes())], now).score, 100);
    }

    #[test]
    fn empty_and_binary_values_are_handled_apart() {
        let secrets = vec![
            plain("empty", b""),
            plain("empty2", b""),
            plain("bin", &[0xff, 0x00, 0xfe, 0x01, 0x80, 0x90]),
        ];
        let r = analyze(&secrets, Timestamp::now());
        assert_eq!(r.counts.values, 3);
        // Empty values are weak, and never "reused" with each other.
        assert_eq!(r.weak.len(), 2);
        assert_eq!(r.weak[0].reason, "the value is empty");
        assert!(r.reused.is_empty());
        assert_eq!(r.unscored, [at("bin", "value")]);
        assert_eq!(r.counts.scored, 2);
        assert_eq!(r.counts.checked_for_reuse, 1);
    }

    #[test]
    fn every_secret_counts_and_no_value_reaches_the_report() {
        let mut secrets = Vec::new();
        let mut values = Vec::new();
        for i in 0..150 {
            let v = format!("value-{i:03}-Xq7!kP");
            secrets.push(plain(&format!("bulk/{i:03}"), v.as_bytes()));
            values.push(v);
        }
        secrets.push(plain("weak", b"qwerty123"));
        values.push("qwerty123".into());
        secrets.push(login("db", "dbadmin", b"hunter2hunter2"));
        values.push("hunter2hunter2".into());
        let r = analyze(&secrets, Timestamp::now());
        assert_eq!(r.counts.secrets, 152);
        assert_eq!(r.counts.values, 152);
        let json = serde_json::to_string(&r).unwrap();
        for v in &values {
            assert!(!json.contains(v.as_str()), "a value reached the report");
        }
        // Nor any 6-byte fragment of the weak ones. (Not `password…`: zxcvbn's fixed
        // warnings contain the word.)
        for v in ["qwerty123", "hunter2hunter2"] {
            for w in v.as_bytes().windows(6) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!json.contains(w), "fragment {w:?} reached the report");
            }
        }
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
