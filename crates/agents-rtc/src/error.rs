//! The crate's errors.

use std::path::PathBuf;
use std::time::Duration;

/// An error of the room client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtcError {
    /// liblivekit_ffi was not found (the message names `LIVEKIT_LIB_PATH` and
    /// `download-files`).
    #[error(transparent)]
    NotFound(#[from] agents_runtime_libs::LocateError),
    /// liblivekit_ffi was found but could not be loaded.
    #[error(
        "cannot load livekit-ffi from `{}`: {reason}; set LIVEKIT_LIB_PATH to the \
         liblivekit_ffi.so of PyPI `livekit` 1.2.1, or run `<agent> download-files` to \
         install it (see docs/src/troubleshooting.md#livekit-client-library)",
        path.display()
    )]
    Load {
        /// The library file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The library could not handle a request (it is another version than 1.2.1, or a
    /// handle was stale).
    #[error(
        "livekit-ffi could not handle the `{request}` request{}; check that LIVEKIT_LIB_PATH \
         names the liblivekit_ffi.so of PyPI `livekit` 1.2.1 \
         (see docs/src/troubleshooting.md#livekit-client-library)",
        detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    Protocol {
        /// The request.
        request: &'static str,
        /// What was wrong with its answer, if anything was received.
        detail: Option<String>,
    },
    /// The library ran the operation and reported an error.
    #[error("{operation} failed: {message}")]
    Failed {
        /// The operation, e.g. `"publish_track"`.
        operation: &'static str,
        /// The library's message.
        message: String,
    },
    /// The library panicked: it cannot be used again in this process.
    #[error(
        "livekit-ffi panicked: {message}; its rooms are gone and it cannot be used again in \
         this process: restart the process (or the job)"
    )]
    Fatal {
        /// The panic's text.
        message: String,
    },
    /// The object's room was disconnected, or the library dropped the operation.
    #[error("{operation}: the room is disconnected (or the library dropped the operation)")]
    Closed {
        /// The operation.
        operation: &'static str,
    },
    /// An argument the library cannot take.
    #[error("invalid {what}: {problem}")]
    InvalidArgument {
        /// The argument.
        what: &'static str,
        /// What is wrong with it and what is expected.
        problem: String,
    },
}

/// Why [`Room::connect`](crate::Room::connect) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The library is missing or broken, or panicked.
    #[error(transparent)]
    Rtc(#[from] RtcError),
    /// The URL is not a `ws://`, `wss://`, `http://` or `https://` URL.
    #[error(
        "invalid LiveKit URL `{url}`: expected ws://, wss://, http:// or https:// (LIVEKIT_URL)"
    )]
    InvalidUrl {
        /// The URL, without any password.
        url: String,
    },
    /// The server refused the access token (HTTP 401/403).
    #[error(
        "the LiveKit server at {url} refused the access token: {message}; check the token's \
         room grant and that LIVEKIT_API_KEY / LIVEKIT_API_SECRET match the server's"
    )]
    Unauthorized {
        /// The server URL, without any password.
        url: String,
        /// The library's message (the token removed).
        message: String,
    },
    /// Every attempt failed (server unreachable, signal or media failure).
    #[error("could not connect to the LiveKit server at {url}: {message}")]
    Failed {
        /// The server URL, without any password.
        url: String,
        /// The library's message (the token removed).
        message: String,
    },
    /// No answer within [`RoomOptions::timeout`](crate::RoomOptions::timeout).
    #[error(
        "connecting to the LiveKit server at {url} timed out after {after:?}; check that \
         LIVEKIT_URL is reachable, or raise RoomOptions::timeout"
    )]
    Timeout {
        /// The server URL, without any password.
        url: String,
        /// The time waited.
        after: Duration,
    },
}

/// `url` without a password (`wss://user:secret@host` → `wss://user:***@host`).
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return redact_query(url) };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{}", redact_query(tail))
}

fn redact_query(tail: &str) -> String {
    // An `access_token` in the query is a secret too.
    redact_access_tokens(tail, &['&', '#'])
}

/// `text` with the value of every `access_token=` replaced; a value ends at one of `ends` or
/// at the end.
fn redact_access_tokens(text: &str, ends: &[char]) -> String {
    const KEY: &str = "access_token=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(KEY) {
        let value = start + KEY.len();
        let end = rest[value..].find(ends).map_or(rest.len(), |i| value + i);
        out.push_str(&rest[..value]);
        out.push_str("***");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `message` (the library's error text) with every occurrence of `secret`, the passwords of
/// the URLs in it and every `access_token=` value replaced.
pub(crate) fn redact(message: &str, secret: &str) -> String {
    let message =
        if secret.len() < 8 { message.to_owned() } else { message.replace(secret, "<redacted>") };
    let words: Vec<String> = message
        .split(' ')
        .map(|word| if word.contains("://") { redact_url(word) } else { word.to_owned() })
        .collect();
    redact_access_tokens(&words.join(" "), &['&', '#', ' ', '"', '\'', ')', ',', '\n'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_and_tokens() {
        assert_eq!(redact_url("wss://u:pw@host:7880/rtc"), "wss://u:***@host:7880/rtc");
        assert_eq!(redact_url("ws://host:7880"), "ws://host:7880");
        assert_eq!(
            redact_url("ws://a:b@h/rtc?access_token=abc&x=1"),
            "ws://a:***@h/rtc?access_token=***&x=1"
        );
        assert_eq!(redact_url("ws://h/rtc?access_token=abc"), "ws://h/rtc?access_token=***");
        assert_eq!(redact("token eyJhbGciOi in it", "eyJhbGciOi"), "token <redacted> in it");
        assert_eq!(
            redact_url("ws://h/rtc?access_token=a&access_token=b"),
            "ws://h/rtc?access_token=***&access_token=***"
        );
    }

    #[test]
    fn library_messages_lose_url_passwords_and_access_tokens() {
        assert_eq!(
            redact("failed to connect to wss://u:pw@host:7880/rtc?x=1: refused", "long-token"),
            "failed to connect to wss://u:***@host:7880/rtc?x=1: refused"
        );
        assert_eq!(
            redact("GET /rtc?access_token=abc.def&auto=1 failed (access_token=xyz)", "zzzzzzzzzz"),
            "GET /rtc?access_token=***&auto=1 failed (access_token=***)"
        );
    }
}
