//! The app's own settings (theme, language, idle auto-lock), kept in `settings.json` in the app
//! config directory so that they survive a restart. Settings hold no secret and no vault data;
//! a damaged file falls back to the defaults instead of keeping the app from starting.

use crate::error::{IpcError, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Default idle time before the vault locks itself.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;
/// Longest idle time a user may choose (8 hours, the session agent's maximum lifetime).
pub const MAX_AUTO_LOCK_MINUTES: u32 = 480;
/// The file name in the config directory.
pub const FILE_NAME: &str = "settings.json";

/// Light, dark, or whatever the system prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// The languages of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Japanese.
    Ja,
}

/// Everything the settings file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Colour theme.
    pub theme: Theme,
    /// Interface language.
    pub language: Language,
    /// Minutes without use before the vault locks (1 to 480).
    pub auto_lock_minutes: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            theme: Theme::System,
            language: Language::En,
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
        }
    }
}

impl Settings {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_AUTO_LOCK_MINUTES).contains(&self.auto_lock_minutes) {
            return Err(IpcError::input(format!(
                "auto-lock must be 1 to {MAX_AUTO_LOCK_MINUTES} minutes"
            )));
        }
        Ok(())
    }

    /// The settings in `dir`, or the defaults when the file is missing or unreadable.
    pub fn load(dir: &Path) -> Settings {
        std::fs::read(dir.join(FILE_NAME))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Settings>(&bytes).ok())
            .filter(|s| s.validate().is_ok())
            .unwrap_or_default()
    }

    /// Writes the settings to `dir` (created 0700), replacing the file atomically (0600).
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        self.validate()?;
        let fail = |e: std::io::Error| {
            IpcError::failed(format!("cannot save settings in {}: {e}", dir.display()))
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        let mut json = serde_json::to_vec_pretty(self).expect("settings serialise");
        json.push(b'\n');
        // NamedTempFile is created 0600.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        tmp.write_all(&json).map_err(fail)?;
        tmp.as_file().sync_all().map_err(fail)?;
        let path = dir.join(FILE_NAME);
        tmp.persist(&path).map_err(|e| fail(e.error))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        let s = Settings {
            theme: Theme::Dark,
            language: Language::Ja,
            auto_lock_minutes: 5,
        };
        s.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()), s);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_damaged_or_out_of_range_file_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        std::fs::write(dir.path().join(FILE_NAME), br#"{"auto_lock_minutes": 0}"#).unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
        let bad = Settings {
            auto_lock_minutes: 100_000,
            ..Settings::default()
        };
        assert_eq!(bad.save(dir.path()).unwrap_err().code, "input");
    }
}
