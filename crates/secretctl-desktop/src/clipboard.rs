//! Copying a value to the clipboard, and clearing it again after a delay (30 s by default) —
//! but only if the clipboard still holds that value, so that something the user copied since is
//! never wiped. The value is written from here, in the app process: it does not cross IPC.
//!
//! On X11 the app owns the selection while it runs; [`Clipboard::clear_now`] runs at exit so
//! that a copied value is not handed to a clipboard manager when the app quits.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a copied value stays on the clipboard by default.
pub const DEFAULT_CLEAR_AFTER: Duration = Duration::from_secs(30);

/// What the clipboard module needs from a real clipboard (a fake one in tests).
pub trait Board: Send {
    /// Puts text on the clipboard.
    fn set(&mut self, text: &str) -> Result<(), String>;
    /// The text on the clipboard now, if any.
    fn get(&mut self) -> Option<Zeroizing<String>>;
    /// Empties the clipboard.
    fn clear(&mut self);
}

/// The system clipboard through `arboard`, opened on first use (there may be no display).
#[derive(Default)]
pub struct SystemBoard {
    inner: Option<arboard::Clipboard>,
}

impl SystemBoard {
    fn open(&mut self) -> Result<&mut arboard::Clipboard, String> {
        if self.inner.is_none() {
            self.inner = Some(
                arboard::Clipboard::new().map_err(|e| format!("no clipboard is available: {e}"))?,
            );
        }
        Ok(self.inner.as_mut().expect("opened just above"))
    }
}

impl Board for SystemBoard {
    fn set(&mut self, text: &str) -> Result<(), String> {
        let board = self.open()?;
        #[cfg(target_os = "linux")]
        {
            use arboard::SetExtLinux as _;
            board
                .set()
                .exclude_from_history()
                .text(text.to_owned())
                .map_err(|e| format!("cannot copy to the clipboard: {e}"))
        }
        #[cfg(not(target_os = "linux"))]
        board
            .set_text(text.to_owned())
            .map_err(|e| format!("cannot copy to the clipboard: {e}"))
    }

    fn get(&mut self) -> Option<Zeroizing<String>> {
        self.open().ok()?.get_text().ok().map(Zeroizing::new)
    }

    fn clear(&mut self) {
        if let Ok(board) = self.open() {
            let _ = board.clear();
        }
    }
}

struct State<B> {
    board: B,
    /// The last value copied and its generation, until it is cleared or replaced.
    pending: Option<(u64, Zeroizing<String>)>,
    generation: u64,
}

/// The clipboard with delayed, conditional clearing.
pub struct Clipboard<B: Board = SystemBoard> {
    state: Mutex<State<B>>,
    clear_after: Duration,
}

impl<B: Board + 'static> Clipboard<B> {
    /// A clipboard that clears copied values after `clear_after`.
    pub fn new(board: B, clear_after: Duration) -> Arc<Clipboard<B>> {
        Arc::new(Clipboard {
            state: Mutex::new(State {
                board,
                pending: None,
                generation: 0,
            }),
            clear_after,
        })
    }

    /// The delay before a copied value is cleared.
    pub fn clear_after(&self) -> Duration {
        self.clear_after
    }

    /// Copies `value` and schedules its clearing.
    pub fn copy(self: &Arc<Self>, value: Zeroizing<String>) -> Result<(), String> {
        let generation = {
            let mut state = self.state.lock().expect("clipboard lock is not poisoned");
            state.board.set(&value)?;
            state.generation += 1;
            let generation = state.generation;
            state.pending = Some((generation, value));
            generation
        };
        let this = Arc::clone(self);
        std::thread::spawn(move || {
            std::thread::sleep(this.clear_after);
            this.clear_if_still(generation);
        });
        Ok(())
    }

    /// Clears the clipboard if it still holds the value copied as `generation` and no later
    /// copy replaced it.
    fn clear_if_still(&self, generation: u64) {
        let mut state = self.state.lock().expect("clipboard lock is not poisoned");
        let Some((pending_generation, value)) = state.pending.take() else {
            return;
        };
        if pending_generation != generation {
            state.pending = Some((pending_generation, value));
            return;
        }
        if state.board.get().is_some_and(|now| {
            secretctl_core::crypto::constant_time_eq(now.as_bytes(), value.as_bytes())
        }) {
            state.board.clear();
        }
    }

    /// Clears a pending value now if the clipboard still holds it (at exit and on lock).
    pub fn clear_now(&self) {
        let generation = self
            .state
            .lock()
            .expect("clipboard lock is not poisoned")
            .generation;
        self.clear_if_still(generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct FakeBoard(Arc<Mutex<Option<String>>>);

    impl Board for FakeBoard {
        fn set(&mut self, text: &str) -> Result<(), String> {
            *self.0.lock().unwrap() = Some(text.to_owned());
            Ok(())
        }
        fn get(&mut self) -> Option<Zeroizing<String>> {
            self.0.lock().unwrap().clone().map(Zeroizing::new)
        }
        fn clear(&mut self) {
            *self.0.lock().unwrap() = None;
        }
    }

    fn held(b: &FakeBoard) -> Option<String> {
        b.0.lock().unwrap().clone()
    }

    const SHORT: Duration = Duration::from_millis(80);

    #[test]
    fn a_copied_value_is_cleared_after_the_delay() {
        let board = FakeBoard::default();
        let clip = Clipboard::new(board.clone(), SHORT);
        clip.copy(Zeroizing::new("s3cret".into())).unwrap();
        assert_eq!(held(&board).as_deref(), Some("s3cret"));
        std::thread::sleep(SHORT * 4);
        assert_eq!(held(&board), None);
    }

    #[test]
    fn something_copied_since_is_never_cleared() {
        let board = FakeBoard::default();
        let clip = Clipboard::new(board.clone(), SHORT);
        clip.copy(Zeroizing::new("s3cret".into())).unwrap();
        // The user copies something else in another program.
        *board.0.lock().unwrap() = Some("shopping list".into());
        std::thread::sleep(SHORT * 4);
        assert_eq!(held(&board).as_deref(), Some("shopping list"));
    }

    #[test]
    fn a_second_copy_gets_its_own_full_delay() {
        let board = FakeBoard::default();
        let clip = Clipboard::new(board.clone(), Duration::from_millis(300));
        clip.copy(Zeroizing::new("same".into())).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        clip.copy(Zeroizing::new("same".into())).unwrap();
        // The first timer fires here and must not clear the second copy.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(held(&board).as_deref(), Some("same"));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(held(&board), None);
    }

    #[test]
    fn clear_now_clears_only_our_value() {
        let board = FakeBoard::default();
        let clip = Clipboard::new(board.clone(), Duration::from_secs(60));
        clip.copy(Zeroizing::new("s3cret".into())).unwrap();
        clip.clear_now();
        assert_eq!(held(&board), None);
        *board.0.lock().unwrap() = Some("mine".into());
        clip.clear_now();
        assert_eq!(held(&board).as_deref(), Some("mine"));
    }
}
