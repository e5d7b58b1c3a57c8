//! Logs to standard error, with the level from `--log-level` or `LIVEKIT_LOG_LEVEL`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The environment variable Python's CLI reads the log level from.
pub(crate) const LOG_LEVEL_ENV: &str = "LIVEKIT_LOG_LEVEL";

/// The level names tracing knows.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// A log level or filter that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid log level {given:?}: use trace, debug, info, warn, error or off, or a tracing \
     filter such as `info,agents_core=debug` ({reason})"
)]
pub(crate) struct LogLevelError {
    given: String,
    reason: String,
}

/// Python's level names, lowercased, as tracing's.
fn tracing_level(level: &str) -> String {
    match level.trim().to_ascii_lowercase().as_str() {
        "warning" => "warn".to_owned(),
        "critical" | "fatal" => "error".to_owned(),
        "notset" => "trace".to_owned(),
        other => other.to_owned(),
    }
}

/// The filter for `level` (`--log-level`), else `LIVEKIT_LOG_LEVEL`, else `default`.
pub(crate) fn filter(level: Option<&str>, default: &str) -> Result<EnvFilter, LogLevelError> {
    let from_env = std::env::var(LOG_LEVEL_ENV).ok().filter(|value| !value.trim().is_empty());
    let given = level.map(str::to_owned).or(from_env).unwrap_or_else(|| default.to_owned());
    let directives = tracing_level(&given);
    // A bare word would be taken as a target name and silence everything else.
    let is_filter = directives.contains(['=', ',', '[']);
    if !is_filter && !LEVELS.contains(&directives.as_str()) {
        return Err(LogLevelError { given, reason: "not a level".to_owned() });
    }
    EnvFilter::try_new(directives)
        .map_err(|error| LogLevelError { given, reason: error.to_string() })
}

/// Installs the global subscriber: plain text on standard error, colored on a terminal. Does
/// nothing if a subscriber is already installed.
pub(crate) fn init(filter: EnvFilter) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Installs the global subscriber for production (`start`): one JSON object per line on
/// standard error. Does nothing if a subscriber is already installed.
#[cfg(feature = "worker")]
pub(crate) fn init_json(filter: EnvFilter) {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_level_names() {
        assert_eq!(tracing_level("WARNING"), "warn");
        assert_eq!(tracing_level("CRITICAL"), "error");
        assert_eq!(tracing_level(" Debug "), "debug");
        assert!(filter(Some("DEBUG"), "info").is_ok());
        assert!(filter(Some("info,agents_core=debug"), "info").is_ok());
        let error = filter(Some("loud"), "info").map(|_| ()).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("\"loud\"")));
    }
}
