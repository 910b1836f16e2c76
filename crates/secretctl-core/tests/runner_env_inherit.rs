// The test sets process environment variables before any thread starts; that is the one
// use of `unsafe` here (std::env::set_var), allowed for this test binary only.
#![allow(unsafe_code)]
//! The inherited environment loses `SECRETCTL_*` and gains the secrets. Its own test binary: it
//! changes this process's environment, which must not race with other tests.

use secretctl_core::runner::{
    BaseEnv, Command, OutputFilter, PassThrough, RunOptions, Sink, Status, run,
};
use zeroize::Zeroizing;

#[test]
fn inherit_drops_secretctl_variables_and_adds_secrets() {
    // SAFETY: this binary has a single test, so no other thread reads or writes the environment.
    unsafe {
        std::env::set_var("SECRETCTL_PASSWORD", "master-password-value");
        std::env::set_var("SECRETCTL_PASSWORD_FILE", "/tmp/pw");
        std::env::set_var("RUNNER_TEST_KEEP", "kept");
        std::env::set_var("DB_URL", "inherited-value");
    }
    let mut opts = RunOptions::cli();
    opts.forward_signals = false;
    opts.stdin_null = true;
    assert_eq!(opts.base_env, BaseEnv::Inherit);
    opts.extra_env = vec![(
        "DB_URL".into(),
        Zeroizing::new(b"postgres://u:p@h/db".to_vec()),
    )];
    let make = || Box::new(PassThrough) as Box<dyn OutputFilter>;
    let out = run(
        &Command::new("env"),
        &opts,
        Sink::Capture,
        Sink::Capture,
        &make,
    )
    .unwrap();
    assert_eq!(out.status, Status::Exited(0));
    let env = String::from_utf8(out.stdout).unwrap();
    assert!(!env.contains("SECRETCTL_"), "{env}");
    assert!(!env.contains("master-password-value"));
    assert!(env.lines().any(|l| l == "RUNNER_TEST_KEEP=kept"));
    let db: Vec<&str> = env.lines().filter(|l| l.starts_with("DB_URL=")).collect();
    assert_eq!(db, ["DB_URL=postgres://u:p@h/db"], "the secret wins, once");
}
