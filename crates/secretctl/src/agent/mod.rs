//! The session agent (SPEC §9): a background process that holds an unlocked vault so that
//! commands need no password for a while. `server` is the agent itself; `client` is how
//! commands talk to it. Only protocol goes over the socket; the agent never prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod client;
pub mod server;
