//! How a failed command ends: one line on stderr and the exit code of SPEC §4.1.

use secretctl_core::vault::{self, ErrorClass};
use std::process::ExitCode;

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_AUTH: u8 = 3;
pub const EXIT_VAULT: u8 = 4;
/// Denied by the MCP command policy.
pub const EXIT_POLICY: u8 = 5;

/// A failed command: what to print and which code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(EXIT_FAILED, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(EXIT_AUTH, message)
    }
}

impl From<vault::Error> for Failure {
    fn from(e: vault::Error) -> Self {
        let code = match e.class() {
            ErrorClass::Failed => EXIT_FAILED,
            ErrorClass::Usage => EXIT_USAGE,
            ErrorClass::Auth => EXIT_AUTH,
            ErrorClass::Vault => EXIT_VAULT,
        };
        Failure::new(code, e.to_string())
    }
}

impl From<secretctl_core::backup::Error> for Failure {
    fn from(e: secretctl_core::backup::Error) -> Self {
        vault::Error::from(e).into()
    }
}

impl From<secretctl_core::secret::InputError> for Failure {
    fn from(e: secretctl_core::secret::InputError) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<secretctl_core::duration::ParseError> for Failure {
    fn from(e: secretctl_core::duration::ParseError) -> Self {
        Failure::usage(e.to_string())
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Help and version go to stdout with 0; a usage error is one line on stderr with 2.
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            // clap explains over several lines (what is wrong, which arguments, a tip, usage);
            // keep what explains and drop the usage block, on one line.
            let rendered = e.render().to_string();
            let parts: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("Usage:")
                        && !l.starts_with("For more information")
                })
                .collect();
            let text = parts.join(" ");
            let text = text.trim_start_matches("error: ");
            crate::io::error_line(&format!("{text} (see `secretctl --help`)"));
            ExitCode::from(EXIT_USAGE)
        }
    }
}
