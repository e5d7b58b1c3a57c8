//! The audio console's keyboard: Ctrl+T switches to text mode, where lines are the user's
//! turns.
//!
//! When standard input is a terminal, it is put in a key-at-a-time mode without echo (line
//! editing off; Ctrl+C still interrupts) so that Ctrl+T is read the moment it is pressed; text
//! mode restores the terminal's line editing and echo. Whatever standard input is, a line
//! `/text` also switches to text mode, and in text mode a line `/audio` (or Ctrl+T then
//! Enter) switches back to the microphone.

// Without the feature, only the unit tests use this module.
#![cfg_attr(not(feature = "audio-devices"), allow(dead_code, unused_imports))]

use std::io::Read;

use tokio::sync::mpsc;

/// Ctrl+T.
const CTRL_T: u8 = 0x14;

/// What the keyboard asks of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Type instead of speaking.
    TextMode,
    /// Back to the microphone.
    AudioMode,
    /// A line typed in text mode.
    Line(String),
    /// The end of the input (Ctrl+D).
    End,
}

/// Splits the bytes read into [`Control`]s. A UTF-8 byte order mark at the start of the
/// first line (a file saved with one) is dropped.
#[derive(Debug, Default)]
pub struct Keys {
    text: bool,
    line: Vec<u8>,
    /// Whether a line was completed: only the first may start with a byte order mark.
    past_first: bool,
}

impl Keys {
    /// Whether the keyboard is in text mode.
    #[cfg(test)]
    pub(crate) fn is_text(&self) -> bool {
        self.text
    }

    /// The controls in `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Control> {
        let mut controls = Vec::new();
        for &byte in bytes {
            if !self.text && byte == CTRL_T {
                self.line.clear();
                self.text = true;
                controls.push(Control::TextMode);
                continue;
            }
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let raw = self.take_line();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches('\r');
            if self.text {
                if line.trim() == "/audio" || line.trim() == "\u{14}" {
                    self.text = false;
                    controls.push(Control::AudioMode);
                } else {
                    controls.push(Control::Line(line.to_owned()));
                }
            } else if line.trim() == "/text" {
                self.text = true;
                controls.push(Control::TextMode);
            }
        }
        controls
    }

    /// The end of the input: a last unterminated line in text mode, then [`Control::End`].
    pub fn end(&mut self) -> Vec<Control> {
        let mut controls = Vec::new();
        if self.text && !self.line.is_empty() {
            let raw = self.take_line();
            controls.push(Control::Line(String::from_utf8_lossy(&raw).trim_end().to_owned()));
        }
        controls.push(Control::End);
        controls
    }

    /// The line read so far, without the byte order mark the input may start with.
    fn take_line(&mut self) -> Vec<u8> {
        let mut raw = std::mem::take(&mut self.line);
        if !std::mem::replace(&mut self.past_first, true) && raw.starts_with(super::lines::BOM) {
            raw.drain(..super::lines::BOM.len());
        }
        raw
    }
}

/// Reads `input` on a thread of its own (a blocking read must not hold the async runtime),
/// switching the terminal's mode with the keyboard's when `terminal` is set.
pub(crate) fn spawn_reader(
    mut input: impl Read + Send + 'static,
    terminal: bool,
) -> mpsc::UnboundedReceiver<Control> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new().name("console-keys".into()).spawn(move || {
        let mut keys = Keys::default();
        let mut buffer = [0u8; 256];
        loop {
            let controls = match input.read(&mut buffer) {
                Ok(0) => keys.end(),
                Ok(read) => keys.feed(&buffer[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    tracing::warn!("cannot read the keyboard: {error}");
                    keys.end()
                }
            };
            for control in controls {
                if terminal {
                    match control {
                        Control::TextMode => terminal::line_mode(),
                        Control::AudioMode => terminal::key_mode(),
                        _ => {}
                    }
                }
                let end = control == Control::End;
                if sender.send(control).is_err() || end {
                    return;
                }
            }
        }
    });
    if let Err(error) = spawned {
        tracing::warn!("cannot read the keyboard: {error}");
    }
    receiver
}

pub(crate) use terminal::{Terminal, restore as restore_terminal};

/// The terminal's modes, with rustix's termios (no unsafe code).
#[cfg(all(unix, feature = "audio-devices"))]
mod terminal {
    use std::io::IsTerminal;
    use std::sync::{Mutex, PoisonError};

    use rustix::termios::{
        LocalModes, OptionalActions, SpecialCodeIndex, Termios, tcgetattr, tcsetattr,
    };

    /// The terminal's settings before the console changed them; `None` once restored.
    static ORIGINAL: Mutex<Option<Termios>> = Mutex::new(None);

    /// The terminal in key-at-a-time mode for as long as it lives.
    pub(crate) struct Terminal(());

    impl Terminal {
        /// Puts standard input, when it is a terminal, in key-at-a-time mode.
        pub(crate) fn keys() -> Option<Self> {
            let stdin = std::io::stdin();
            if !stdin.is_terminal() {
                return None;
            }
            let original = match tcgetattr(&stdin) {
                Ok(original) => original,
                Err(error) => {
                    tracing::warn!("cannot read the terminal's settings (Ctrl+T is off): {error}");
                    return None;
                }
            };
            *ORIGINAL.lock().unwrap_or_else(PoisonError::into_inner) = Some(original);
            key_mode();
            Some(Self(()))
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            restore();
        }
    }

    /// Keys one at a time, without echo; signals (Ctrl+C) still work.
    pub(crate) fn key_mode() {
        let original = ORIGINAL.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(original) = original.as_ref() {
            let mut keys = original.clone();
            keys.local_modes.remove(LocalModes::ICANON | LocalModes::ECHO);
            keys.special_codes[SpecialCodeIndex::VMIN] = 1;
            keys.special_codes[SpecialCodeIndex::VTIME] = 0;
            set(&keys);
        }
    }

    /// The terminal's own line editing and echo.
    pub(crate) fn line_mode() {
        let original = ORIGINAL.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(original) = original.as_ref() {
            set(original);
        }
    }

    /// Gives the terminal its settings back (also before a forced exit).
    pub(crate) fn restore() {
        let original = ORIGINAL.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(original) = original {
            set(&original);
        }
    }

    fn set(termios: &Termios) {
        if let Err(error) = tcsetattr(std::io::stdin(), OptionalActions::Now, termios) {
            tracing::warn!("cannot set the terminal's mode: {error}");
        }
    }
}

/// Without termios, Ctrl+T is read only as a byte of a line: `/text` works.
#[cfg(not(all(unix, feature = "audio-devices")))]
mod terminal {
    /// No terminal control here.
    pub(crate) struct Terminal(());

    impl Terminal {
        pub(crate) fn keys() -> Option<Self> {
            None
        }
    }

    pub(crate) fn key_mode() {}

    pub(crate) fn line_mode() {}

    pub(crate) fn restore() {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ctrl_t_switches_to_text_and_lines_follow() {
        let mut keys = Keys::default();
        assert_eq!(keys.feed(b"ignored noise"), []);
        assert_eq!(keys.feed(b"\x14hel"), [Control::TextMode]);
        assert!(keys.is_text());
        assert_eq!(keys.feed(b"lo\r\nsecond"), [Control::Line("hello".into())]);
        assert_eq!(keys.feed(b" line\n"), [Control::Line("second line".into())]);
        assert_eq!(keys.feed(b"/audio\n"), [Control::AudioMode]);
        assert!(!keys.is_text());
        assert_eq!(keys.feed(b"spoken\n"), []);
        assert_eq!(keys.end(), [Control::End]);
    }

    #[test]
    fn a_text_line_switches_too_and_ctrl_t_enter_goes_back() {
        let mut keys = Keys::default();
        assert_eq!(
            keys.feed(b"/text\nhi\n\x14\n"),
            [Control::TextMode, Control::Line("hi".into()), Control::AudioMode]
        );
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_dropped() {
        let mut keys = Keys::default();
        assert_eq!(
            keys.feed(b"\xEF\xBB\xBF/text\nfirst\n\xEF\xBBx\n"),
            [Control::TextMode, Control::Line("first".into()), Control::Line("\u{fffd}x".into())]
        );
        // Split across reads, and as the only line.
        let mut keys = Keys::default();
        assert_eq!(keys.feed(b"\xEF\xBB"), []);
        assert_eq!(keys.feed(b"\xBF/text\n"), [Control::TextMode]);
        let mut keys = Keys { text: true, ..Keys::default() };
        keys.feed(b"\xEF\xBB\xBFbye");
        assert_eq!(keys.end(), [Control::Line("bye".into()), Control::End]);
    }

    #[test]
    fn the_last_line_without_a_newline_is_kept_in_text_mode() {
        let mut keys = Keys::default();
        keys.feed(b"\x14bye");
        assert_eq!(keys.end(), [Control::Line("bye".into()), Control::End]);
        let mut audio = Keys::default();
        audio.feed(b"mumble");
        assert_eq!(audio.end(), [Control::End]);
    }

    #[tokio::test]
    async fn the_reader_thread_forwards_the_controls_then_ends() {
        let mut controls = spawn_reader(&b"\x14one\ntwo"[..], false);
        let mut seen = Vec::new();
        while let Some(control) = controls.recv().await {
            seen.push(control);
        }
        assert_eq!(
            seen,
            [
                Control::TextMode,
                Control::Line("one".into()),
                Control::Line("two".into()),
                Control::End
            ]
        );
    }
}
