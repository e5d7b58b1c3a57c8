//! The audio console (Python's `console`): the agent session on the machine's microphone and
//! speakers, a level meter, and Ctrl+T to type instead.

use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;

use super::console::{CONSOLE_ROOM, ConsoleError, run_console};
use super::device_audio::{Level, meter_line};
use super::devices::{self, DeviceError};
use super::keys::{self, Control};
use crate::room::Room;
use crate::voice::{AgentSession, AudioOutput, ReplyOptions};
use crate::worker::AgentServer;

/// How often the level meter is redrawn.
const METER_EVERY: Duration = Duration::from_millis(100);
/// The meter's bar, in cells.
const METER_WIDTH: usize = 30;

/// What [`run_console_devices`] runs on.
///
/// ```
/// use agents_core::cli::DeviceOptions;
///
/// let options = DeviceOptions::new().input_device("hw:CARD=0,DEV=0").level_meter(true);
/// assert_eq!(options.input(), Some("hw:CARD=0,DEV=0"));
/// assert_eq!(options.output(), None); // the default speakers
/// ```
#[derive(Debug, Clone, Default)]
pub struct DeviceOptions {
    input_device: Option<String>,
    output_device: Option<String>,
    level_meter: bool,
    terminal: bool,
}

impl DeviceOptions {
    /// The default microphone and speakers, no level meter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The microphone: a name from [`list_devices`](super::list_devices) (`--input-device`).
    pub fn input_device(mut self, name: impl Into<String>) -> Self {
        self.input_device = Some(name.into());
        self
    }

    /// The speakers: a name from [`list_devices`](super::list_devices) (`--output-device`).
    pub fn output_device(mut self, name: impl Into<String>) -> Self {
        self.output_device = Some(name.into());
        self
    }

    /// Draws the microphone's level on standard error, in place, ten times a second.
    pub fn level_meter(mut self, on: bool) -> Self {
        self.level_meter = on;
        self
    }

    /// The keys come from the terminal on standard input: it is put in key-at-a-time mode so
    /// that Ctrl+T is read when pressed (restored when the console ends).
    pub(crate) fn terminal(mut self, on: bool) -> Self {
        self.terminal = on;
        self
    }

    /// The microphone asked for (`None`: the default).
    pub fn input(&self) -> Option<&str> {
        self.input_device.as_deref()
    }

    /// The speakers asked for (`None`: the default).
    pub fn output(&self) -> Option<&str> {
        self.output_device.as_deref()
    }
}

/// Runs `server` in the audio console: one local job in the room `console-room`, whose
/// agent session hears the microphone (10 ms mono frames at 24 kHz, converted from the
/// device's own format) and speaks through the speakers.
///
/// `keys` is the keyboard (standard input in [`run_app`](super::run_app)): Ctrl+T, or a line
/// `/text`, switches to text mode, where the microphone is muted and each line typed is a user
/// turn, as in [`run_console_text`](super::run_console_text); `/audio` (or Ctrl+T then Enter)
/// switches back. The conversation goes to `transcript` (`● You: ` for the user's turns,
/// `● Agent: ` for the agent's). The console ends when `interrupt` resolves (Ctrl+C), at the
/// end of `keys` in text mode (Ctrl+D), when the job or session ends, or when a device fails.
///
/// A microphone or speakers that are missing or cannot be opened are a
/// [`ConsoleError::Device`] saying which and what to do.
pub async fn run_console_devices<R, W, I>(
    server: &AgentServer,
    options: &DeviceOptions,
    keys: R,
    transcript: W,
    interrupt: I,
) -> Result<(), ConsoleError>
where
    R: Read + Send + 'static,
    W: Write,
    I: Future<Output = ()>,
{
    let (failures, failed) = mpsc::unbounded_channel();
    let level = Arc::new(Level::new());
    let (microphone, frames) =
        devices::open_input(options.input(), level.clone(), failures.clone())?;
    let speakers = devices::open_output(options.output(), failures)?;
    tracing::info!(
        "talk to the agent: microphone `{}`, speakers `{}` (Ctrl+T to type, Ctrl+C to quit)",
        microphone.name,
        speakers.name
    );
    let output = speakers.playout.clone() as Arc<dyn AudioOutput>;
    let room = Room::local_with_audio(CONSOLE_ROOM, Some(frames), Some(output));
    let _terminal = if options.terminal { keys::Terminal::keys() } else { None };
    let controls = keys::spawn_reader(keys, options.terminal);
    let meter = Arc::new(Meter::new(options.level_meter));
    let drawing = options.level_meter.then(|| tokio::spawn(draw(meter.clone(), level.clone())));
    let transcript = AboveMeter { out: transcript, meter: meter.clone() };
    let talk = {
        let meter = meter.clone();
        move |session| talk(session, controls, level, failed, meter)
    };
    let result = run_console(server, room, transcript, true, interrupt, talk).await;
    if let Some(drawing) = drawing {
        drawing.abort();
    }
    meter.hide();
    drop(microphone);
    drop(speakers);
    result
}

/// The user's side: the keyboard's controls and lines, until something ends it.
async fn talk(
    session: AgentSession,
    mut controls: mpsc::UnboundedReceiver<Control>,
    level: Arc<Level>,
    mut failed: mpsc::UnboundedReceiver<DeviceError>,
    meter: Arc<Meter>,
) -> Result<(), ConsoleError> {
    let mut text = false;
    let mut keys_open = true;
    loop {
        tokio::select! {
            Some(error) = failed.recv() => return Err(error.into()),
            control = controls.recv(), if keys_open => match control {
                Some(Control::TextMode) => {
                    text = true;
                    level.set_muted(true);
                    meter.hide();
                    meter.note(
                        "text mode, the microphone muted: type a message and press Enter \
                         (`/audio` to talk again, Ctrl+D to end)",
                    );
                }
                Some(Control::AudioMode) => {
                    text = false;
                    level.set_muted(false);
                    meter.note("listening to the microphone (Ctrl+T to type)");
                    meter.show();
                }
                Some(Control::Line(line)) => {
                    let line = line.trim();
                    if text && !line.is_empty() {
                        session.generate_reply(ReplyOptions::user_input(line));
                        session.wait_for_idle().await;
                    }
                }
                Some(Control::End) | None => {
                    if text {
                        session.wait_for_idle().await;
                        return Ok(());
                    }
                    // No keyboard (standard input closed): the microphone goes on.
                    keys_open = false;
                }
            },
            else => std::future::pending::<()>().await,
        }
    }
}

/// The level meter's line on standard error.
struct Meter {
    on: bool,
    hidden: AtomicBool,
    /// Whether the line is drawn now; held while writing to standard error.
    drawn: Mutex<bool>,
}

impl Meter {
    fn new(on: bool) -> Self {
        Self { on, hidden: AtomicBool::new(false), drawn: Mutex::new(false) }
    }

    /// Draws `line` in place of the last one.
    fn draw(&self, line: &str) {
        if !self.on || self.hidden.load(Ordering::Relaxed) {
            return;
        }
        let mut drawn = self.drawn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}\r");
        let _ = stderr.flush();
        *drawn = true;
    }

    /// Erases the line, if drawn.
    fn erase(&self) {
        let mut drawn = self.drawn.lock().unwrap_or_else(PoisonError::into_inner);
        if *drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            *drawn = false;
        }
    }

    fn hide(&self) {
        self.hidden.store(true, Ordering::Relaxed);
        self.erase();
    }

    fn show(&self) {
        self.hidden.store(false, Ordering::Relaxed);
    }

    /// A line for the user on standard error (above the meter).
    fn note(&self, message: &str) {
        self.erase();
        let _ = writeln!(std::io::stderr(), "{message}");
    }
}

/// Redraws the meter with the microphone's level, ten times a second.
async fn draw(meter: Arc<Meter>, level: Arc<Level>) {
    let mut every = tokio::time::interval(METER_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        let db = level.take();
        meter.draw(&meter_line(db, METER_WIDTH));
    }
}

/// The transcript's writer: the meter's line is erased before each write, so the
/// conversation is not drawn over it.
struct AboveMeter<W> {
    out: W,
    meter: Arc<Meter>,
}

impl<W: Write> Write for AboveMeter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.meter.erase();
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Whether the level meter can be drawn: standard error is a terminal.
pub(crate) fn meter_wanted() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether Ctrl+T can be read as pressed: standard input is a terminal.
pub(crate) fn keys_wanted() -> bool {
    std::io::stdin().is_terminal()
}
