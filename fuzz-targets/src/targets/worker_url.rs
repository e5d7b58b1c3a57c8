//! Fuzzes the worker's handling of a LiveKit URL (`LIVEKIT_URL`, an assignment's URL) and its
//! worker token: any text gives the `/agent` URL or a typed error, never a panic, and neither
//! shows the token or a password.

use agents_core::worker::__fuzz::{agent_url, redact};

const TOKEN: &str = "TOKEN-SECRET-42";
const PASSWORD: &str = "PASSWORD-SECRET-7";

/// One run over `data` (a NUL byte stands for the password): panics when a property does
/// not hold.
pub fn run(data: &[u8]) {
    let url = String::from_utf8_lossy(data).replace('\0', PASSWORD);
    let shown = match agent_url(&url, Some(TOKEN)) {
        Ok((debug, shown)) => format!("{debug} {shown}"),
        Err(error) => error,
    };
    assert!(!shown.contains(TOKEN), "{shown}");
    // A password is what comes before an `@`, after the scheme if there is one (unless the
    // same text is also in the host part, which is shown).
    if let Some((userinfo, host)) =
        url.split(['?', '#']).next().unwrap_or_default().rsplit_once('@')
        && credentials(userinfo).contains(PASSWORD)
        && !host.contains(PASSWORD)
    {
        assert!(!shown.contains(PASSWORD), "{url} shows its password: {shown}");
        assert!(!redact(&url).contains(PASSWORD), "{url}");
    }
}

/// What comes before the last `@` without the scheme, if it starts with one.
fn credentials(userinfo: &str) -> &str {
    match userinfo.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            rest
        }
        _ => userinfo,
    }
}

/// Seeds: the URL forms the worker accepts and a few it refuses.
pub fn seeds() -> Vec<Vec<u8>> {
    [
        "wss://my.livekit.cloud",
        "http://127.0.0.1:7880/base/",
        "https://user:\0@host:443/x?access_token=\0#\0",
        "user:\0@host",
        "ftp://x",
        "wss://[::1]:7880",
    ]
    .iter()
    .map(|url| url.as_bytes().to_vec())
    .collect()
}
