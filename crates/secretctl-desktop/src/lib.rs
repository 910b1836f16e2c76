//! The desktop app of secretctl (SPEC §11), minus the window: everything the IPC commands call,
//! kept free of Tauri so that it is tested as plain Rust.
//!
//! [`Desktop`] owns the unlocked [`Session`](secretctl_core::vault::Session) (at most one), the
//! idle clock, the settings and the clipboard. Each of its methods calls one core function with
//! source `desktop`; `views` turns the results into what may cross IPC, and sensitive values
//! leave only through [`Desktop::reveal`]. The web view never sees a key, and never sees a
//! sensitive value it did not ask to reveal.
#![forbid(unsafe_code)]

pub mod audit_view;
pub mod clipboard;
pub mod desktop;
pub mod edit;
pub mod error;
pub mod settings;
pub mod views;

pub use desktop::{Desktop, Options};
pub use error::IpcError;
