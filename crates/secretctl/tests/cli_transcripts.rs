//! CLI transcripts: help text and everyday sessions, kept as files under `tests/cmd/` and
//! compared byte for byte (run with `TRYCMD=overwrite` to regenerate after a deliberate change).

#[test]
fn cli_transcripts() {
    trycmd::TestCases::new()
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .case("tests/cmd/help/*.toml")
        .case("tests/cmd/*.md");
}
