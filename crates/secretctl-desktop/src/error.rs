//! The one error shape that crosses IPC: a stable code the front end branches on, and a message
//! for people. Messages come from the core, which never puts a value in one.

use secretctl_core::secret::InputError;
use secretctl_core::vault;
use serde::Serialize;

/// An error as the front end receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    /// `locked`, `wrong_password`, `locked_out`, `input`, `not_found`, `exists`, `busy`,
    /// `vault` or `failed`.
    pub code: &'static str,
    /// One line for people.
    pub message: String,
}

impl IpcError {
    /// An error with this code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> IpcError {
        IpcError {
            code,
            message: message.into(),
        }
    }

    /// The vault is locked (never unlocked, locked by hand, idle, or changed on disk).
    pub fn locked() -> IpcError {
        IpcError::new("locked", "the vault is locked")
    }

    /// Bad input from the form.
    pub fn input(message: impl Into<String>) -> IpcError {
        IpcError::new("input", message)
    }

    /// Anything else that failed.
    pub fn failed(message: impl Into<String>) -> IpcError {
        IpcError::new("failed", message)
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<vault::Error> for IpcError {
    fn from(e: vault::Error) -> IpcError {
        let code = match &e {
            vault::Error::WrongPassword => "wrong_password",
            vault::Error::LockedOut(_) => "locked_out",
            vault::Error::Input(_) | vault::Error::ValueRequired(_) => "input",
            vault::Error::NotFound(_) | vault::Error::NoMatch(_) | vault::Error::NoFolder(_) => {
                "not_found"
            }
            vault::Error::AlreadyExists(_) | vault::Error::FolderExists(_) => "exists",
            vault::Error::Busy => "busy",
            e if e.class() == vault::ErrorClass::Vault => "vault",
            _ => "failed",
        };
        IpcError::new(code, e.to_string())
    }
}

impl From<InputError> for IpcError {
    fn from(e: InputError) -> IpcError {
        IpcError::input(e.to_string())
    }
}

/// The result of a desktop operation.
pub type Result<T, E = IpcError> = std::result::Result<T, E>;
