//! Process hardening applied at start by every secretctl process (SPEC §3.1).
//!
//! A non-dumpable process cannot be ptrace'd by processes of the same user (including the
//! children it runs), its `/proc/<pid>/environ` and `mem` become root-only, and with a core
//! limit of zero a crash never writes key material to disk.

/// Makes the process non-dumpable and disables core files.
///
/// Errors are returned rather than ignored so that the caller can decide; on Linux neither call
/// can fail for an unprivileged process lowering its own limits.
pub fn harden_process() -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    Ok(())
}

/// Whether the process is currently dumpable (for `doctor` and tests).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn is_dumpable() -> std::io::Result<bool> {
    Ok(rustix::process::dumpable_behavior()? != rustix::process::DumpableBehavior::NotDumpable)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hardening_makes_the_process_non_dumpable_without_core_files() {
        super::harden_process().unwrap();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert!(!super::is_dumpable().unwrap());
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
    }
}
