//! `Policy::parse` (the MCP command policy, versions 1 and 2) on arbitrary text: never panics
//! (deep nesting and alias bombs included), errors are one line, and every accepted policy is
//! usable: alias rules map a key and map it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::policy::{DEFAULT_TIMEOUT, MAX_TIMEOUT, OutputMode, Policy, alias_pattern};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = match Policy::parse(text, Path::new("mcp-policy.yaml")) {
        Ok(policy) => policy,
        Err(err) => {
            assert!(!err.to_string().contains(['\n', '\r']), "multi-line error");
            return;
        }
    };
    assert!(matches!(policy.version, 1 | 2));
    for rule in &policy.commands {
        assert!(!rule.name.is_empty() || policy.version == 1);
        assert!(!rule.keys.is_empty());
        assert!(!rule.timeout.is_zero() && rule.timeout <= MAX_TIMEOUT.max(DEFAULT_TIMEOUT));
        assert!(!matches!(rule.output, OutputMode::Tail(0)));
    }
    for rules in policy.env_aliases.values() {
        for rule in rules {
            // A key under the rule's pattern maps to one under its target and back.
            let key = match rule.pattern.strip_suffix('*') {
                Some(prefix) => format!("{prefix}x/y"),
                None => rule.pattern.clone(),
            };
            let mapped = rule.map(&key).expect("a rule applies to its own pattern");
            assert_eq!(rule.unmap(&mapped).as_deref(), Some(key.as_str()));
            let _ = alias_pattern(rules, &rule.pattern);
        }
    }
});
