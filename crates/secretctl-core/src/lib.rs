//! The core of secretctl: crypto, the vault, the audit log, and everything every interface
//! (CLI, MCP server, session agent, desktop app) shares. Synchronous; no CLI, async runtime or GUI
//! dependency lives here (SPEC §2).
#![deny(missing_docs)]
// `unsafe` is denied everywhere; only `runner::sys` (pre-exec and signal hooks) allows it.

pub mod agent;
pub mod audit;
pub mod backup;
pub mod command_policy;
pub mod crypto;
pub mod duration;
pub mod environment;
pub mod generate;
pub mod hardening;
pub mod health;
pub mod pattern;
pub mod policy;
pub mod redact;
pub mod runner;
pub mod secret;
pub mod security;
pub mod transfer;
pub mod vault;
