//! Fuzzes the job-host channel (JSON lines over loopback TCP between the worker and its job
//! hosts): any bytes, read in any piece size, give lines within the limit or an error, never
//! a panic; a start message's `Debug` never shows its room token.

use agents_core::worker::__fuzz::host_lines;

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let [max, step, bytes @ ..] = data else { return };
    let max = usize::from(*max) * 4 + 1;
    let step = usize::from(*step % 32) + 1;
    let (lines, _error) = host_lines(bytes, max, step);
    for line in &lines {
        assert!(line.line.len() <= max && !line.line.contains('\n'), "{:?}", line.line);
        if let Some(shown) = &line.to_host
            && let Ok(message) = serde_json::from_str::<serde_json::Value>(&line.line)
            && let Some(token) = message.get("token").and_then(|token| token.as_str())
            && token.len() >= 8
        {
            assert!(!shown.contains(token), "{shown}");
        }
    }
}

/// Seeds: a start, a terminate, a ready and a status line.
pub fn seeds() -> Vec<Vec<u8>> {
    let lines = concat!(
        r#"{"type":"start","id":"AJ_1","agent_name":"","metadata":"","room_name":"r","room_sid":"","dispatch_id":"","participant_identity":null,"url":"wss://h","token":"the-room-jwt","identity":"agent"}"#,
        "\n",
        r#"{"type":"terminate","id":"AJ_1","reason":"bye"}"#,
        "\r\n",
        r#"{"type":"ready"}"#,
        "\n",
        r#"{"type":"status","id":"AJ_1","status":"failed","error":"x"}"#,
        "\n",
    );
    vec![[&[255u8, 7][..], lines.as_bytes()].concat()]
}
