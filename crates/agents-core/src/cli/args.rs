//! The command line: `<program> <command> [options]`, parsed by hand.

use std::ffi::OsString;

/// The usage text of `--help`.
pub(crate) const USAGE: &str = "\
Run a LiveKit agent.

Usage: <program> <COMMAND> [OPTIONS]

Commands:
  console    Talk to the agent with no LiveKit server: with the microphone and speakers
             (`console`; Ctrl+T to type instead), by text (`console --text`), or with WAV
             files (`console --input-file in.wav --output-file out.wav`)
  dev        Run as a worker of a LiveKit server, for development (`<program> dev --help`)
  start      Run as a worker of a LiveKit server, for production (`<program> start --help`)
  connect    Join one LiveKit room directly (`<program> connect --help`)
  download-files
             Install the native libraries the agent's plugins load at run time (e.g. ONNX
             Runtime) from PyPI into the per-user cache [env: LIVEKIT_AGENTS_CACHE_DIR]

Options:
  --text                  console: talk by text (reads lines from standard input)
  --input-file <WAV>      console: the user's speech, from a WAV file (real-time paced)
  --output-file <WAV>     console: write the agent's speech to a WAV file
  --fast                  console: read --input-file as fast as possible
  --input-device <NAME>   console: the microphone (default: the system's default)
  --output-device <NAME>  console: the speakers (default: the system's default)
  --list-devices          console: list the input and output devices (* the defaults) and exit
  --log-level <LEVEL>     trace, debug, info, warn, error or off, or a tracing filter such as
                          `info,agents_core=debug` [env: LIVEKIT_LOG_LEVEL] [default: info]
  -h, --help              Print this help

Agent replies and tool calls go to standard output, logs to standard error. Variables in a
`.env` file in the working directory (or a parent) are loaded first. The microphone console
(`console` alone) is built with the `audio-devices` feature of voice-agents-core; in it, Ctrl+T
(or a line `/text`) switches to typing, `/audio` back to the microphone.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Print the usage.
    Help,
    /// The console.
    Console {
        /// Text mode (`--text`).
        text: bool,
        /// `--log-level`, if given.
        log_level: Option<String>,
        /// `--input-file`, `--output-file` and `--fast`.
        files: AudioFiles,
        /// `--input-device`, `--output-device` and `--list-devices`.
        devices: Devices,
    },
    /// Install the runtime libraries.
    DownloadFiles {
        /// `--log-level`, if given.
        log_level: Option<String>,
    },
    /// A command that exists in Python's CLI but not here yet.
    Unavailable {
        /// The command.
        command: String,
    },
}

/// The console's audio files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AudioFiles {
    /// The user's speech.
    pub(crate) input: Option<std::path::PathBuf>,
    /// Where the agent's speech goes.
    pub(crate) output: Option<std::path::PathBuf>,
    /// Read the input as fast as possible.
    pub(crate) fast: bool,
}

/// The console's audio devices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Devices {
    /// The microphone's name.
    pub(crate) input: Option<String>,
    /// The speakers' name.
    pub(crate) output: Option<String>,
    /// List the devices and exit.
    pub(crate) list: bool,
}

/// A command line that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ArgsError {
    /// No command was given.
    #[error("no command given: run `console --text` to talk to the agent, or see `--help`")]
    NoCommand,
    /// The command is not known.
    #[error("unknown command `{0}`: the available command is `console --text` (see `--help`)")]
    UnknownCommand(String),
    /// An option is not known.
    #[error("unknown option `{0}`: see `--help`")]
    UnknownOption(String),
    /// An option is known from Python's CLI but does nothing here yet.
    #[error("`{0}` is not available yet: only the text console (`console --text`) is")]
    UnavailableOption(String),
    /// An option needs a value.
    #[error("`{0}` needs a value: see `--help`")]
    MissingValue(String),
    /// An argument is not valid UTF-8.
    #[error("the argument {0:?} is not valid UTF-8")]
    NotUtf8(OsString),
    /// A console option given to another command.
    #[error("the console's options do not apply to `{0}`: see `--help`")]
    NotForCommand(&'static str),
    /// An extra argument.
    #[error("unexpected argument `{0}`: see `--help`")]
    Unexpected(String),
}

/// Options of Python's console that this console does not have yet.
const AUDIO_OPTIONS: [&str; 1] = ["--record"];

/// Commands of Python's CLI that are not here yet.
const UNAVAILABLE_COMMANDS: [&str; 3] = ["dev", "start", "connect"];

/// Parses the arguments after the program name.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, ArgsError> {
    let mut command: Option<String> = None;
    let mut text = false;
    let mut log_level = None;
    let mut files = AudioFiles::default();
    let mut devices = Devices::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.into_string().map_err(ArgsError::NotUtf8)?;
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--text" => text = true,
            "--fast" => files.fast = true,
            "--list-devices" => devices.list = true,
            "--log-level" | "--input-file" | "--output-file" | "--input-device"
            | "--output-device" => {
                let value = match inline_value {
                    Some(value) => value,
                    None => match args.next() {
                        Some(value) => value.into_string().map_err(ArgsError::NotUtf8)?,
                        None => return Err(ArgsError::MissingValue(name)),
                    },
                };
                match name.as_str() {
                    "--input-file" => files.input = Some(value.into()),
                    "--output-file" => files.output = Some(value.into()),
                    "--input-device" => devices.input = Some(value),
                    "--output-device" => devices.output = Some(value),
                    _ => log_level = Some(value),
                }
            }
            option if AUDIO_OPTIONS.contains(&option) => {
                return Err(ArgsError::UnavailableOption(name));
            }
            option if option.starts_with('-') => return Err(ArgsError::UnknownOption(name)),
            word if command.is_none() => command = Some(word.to_owned()),
            _ => return Err(ArgsError::Unexpected(arg)),
        }
    }
    match command.as_deref() {
        None => Err(ArgsError::NoCommand),
        Some("console") => Ok(Command::Console { text, log_level, files, devices }),
        Some("download-files") => {
            if text || files != AudioFiles::default() || devices != Devices::default() {
                return Err(ArgsError::NotForCommand("download-files"));
            }
            Ok(Command::DownloadFiles { log_level })
        }
        Some(other) if UNAVAILABLE_COMMANDS.contains(&other) => {
            Ok(Command::Unavailable { command: other.to_owned() })
        }
        Some(other) => Err(ArgsError::UnknownCommand(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, ArgsError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn console() {
        assert_eq!(
            parse_str(&["console", "--text"]),
            Ok(Command::Console {
                text: true,
                log_level: None,
                files: AudioFiles::default(),
                devices: Devices::default()
            })
        );
        assert_eq!(
            parse_str(&["--log-level", "debug", "console"]),
            Ok(Command::Console {
                text: false,
                log_level: Some("debug".into()),
                files: AudioFiles::default(),
                devices: Devices::default()
            })
        );
        assert_eq!(
            parse_str(&["console", "--text", "--log-level=warn"]),
            Ok(Command::Console {
                text: true,
                log_level: Some("warn".into()),
                files: AudioFiles::default(),
                devices: Devices::default()
            })
        );
        assert_eq!(
            parse_str(&["console", "--input-file", "in.wav", "--output-file=out.wav", "--fast"]),
            Ok(Command::Console {
                text: false,
                log_level: None,
                files: AudioFiles {
                    input: Some("in.wav".into()),
                    output: Some("out.wav".into()),
                    fast: true
                },
                devices: Devices::default()
            })
        );
    }

    #[test]
    fn devices() {
        assert_eq!(
            parse_str(&["console", "--input-device", "hw:CARD=0,DEV=0", "--output-device=pulse"]),
            Ok(Command::Console {
                text: false,
                log_level: None,
                files: AudioFiles::default(),
                devices: Devices {
                    input: Some("hw:CARD=0,DEV=0".into()),
                    output: Some("pulse".into()),
                    list: false
                }
            })
        );
        assert_eq!(
            parse_str(&["console", "--list-devices"]),
            Ok(Command::Console {
                text: false,
                log_level: None,
                files: AudioFiles::default(),
                devices: Devices { list: true, ..Devices::default() }
            })
        );
        // A name with `=` in it, given inline: split at the first `=` only.
        assert_eq!(
            parse_str(&["console", "--input-device=plughw:CARD=1"]),
            Ok(Command::Console {
                text: false,
                log_level: None,
                files: AudioFiles::default(),
                devices: Devices { input: Some("plughw:CARD=1".into()), ..Devices::default() }
            })
        );
        assert_eq!(
            parse_str(&["console", "--output-device"]),
            Err(ArgsError::MissingValue("--output-device".into()))
        );
        assert!(USAGE.contains("--input-device <NAME>") && USAGE.contains("--list-devices"));
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse_str(&["console", "--help"]), Ok(Command::Help));
        assert_eq!(parse_str(&["-h"]), Ok(Command::Help));
        assert_eq!(parse_str(&["nonsense", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_str(&[]), Err(ArgsError::NoCommand));
        assert_eq!(parse_str(&["consol"]), Err(ArgsError::UnknownCommand("consol".into())));
        assert_eq!(parse_str(&["console", "--txt"]), Err(ArgsError::UnknownOption("--txt".into())));
        assert_eq!(
            parse_str(&["console", "--record"]),
            Err(ArgsError::UnavailableOption("--record".into()))
        );
        assert_eq!(
            parse_str(&["console", "--log-level"]),
            Err(ArgsError::MissingValue("--log-level".into()))
        );
        assert_eq!(parse_str(&["console", "extra"]), Err(ArgsError::Unexpected("extra".into())));
        assert_eq!(parse_str(&["dev"]), Ok(Command::Unavailable { command: "dev".into() }));
        assert_eq!(
            parse_str(&["download-files", "--text"]),
            Err(ArgsError::NotForCommand("download-files"))
        );
    }

    #[test]
    fn download_files() {
        assert_eq!(parse_str(&["download-files"]), Ok(Command::DownloadFiles { log_level: None }));
        assert_eq!(
            parse_str(&["download-files", "--log-level", "debug"]),
            Ok(Command::DownloadFiles { log_level: Some("debug".into()) })
        );
        assert!(USAGE.contains("download-files"));
    }
}
