//! Seed inputs of the targets whose module predates the harness: well-formed inputs the
//! harness mutates (cargo-fuzz finds its own from an empty corpus).

fn all(inputs: &[&[u8]]) -> Vec<Vec<u8>> {
    inputs.iter().map(|input| input.to_vec()).collect()
}

/// Chunk events: a mode byte (even: NUL-separated text events), then the events.
pub fn chat_chunks() -> Vec<Vec<u8>> {
    all(&[
        b"\x00{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\x00{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\x00[DONE]",
        b"\x01\x06\x02\x01\x03\x04\x05\x06\x07\x00",
        b"\x00\x01{\"message\":\"overloaded\"}",
    ])
}

/// Keyboard bytes: a cut, then text, control keys and escape sequences.
pub fn console_keys() -> Vec<Vec<u8>> {
    all(&[b"\x03hello\nworld\r\n\x1b[A\x7f\x04", b"\x00caf\xc3\xa9\n\x03\x1b"])
}

/// `.env` lines (a NUL stands for a secret).
pub fn env_file() -> Vec<Vec<u8>> {
    all(&[b"# c\nA=1\nexport B=\"two \x00\"\nC='x'\nbad line \x00\nD=\"open\n"])
}

/// Gateway messages.
pub fn inference_messages() -> Vec<Vec<u8>> {
    all(&[
        br#"{"type":"final_transcript","session_id":"s","data":{"text":"hi","language":"en","confidence":0.9,"start_time":0,"end_time":1}}"#,
        br#"{"type":"output_audio","session_id":"s","audio":"AAAA"}"#,
        br#"{"type":"error","message":"quota","code":429}"#,
        br#"{"type":"done","session_id":"s"}"#,
    ])
}

/// A clock (4 bytes), then a `Retry-After` value.
pub fn retry_after() -> Vec<Vec<u8>> {
    all(&[b"\x00\x00\x00\x6012", b"\x00\x00\x00\x60Wed, 21 Oct 2015 07:28:00 GMT"])
}

/// A bound, a step, then an event stream.
pub fn sse_parser() -> Vec<Vec<u8>> {
    all(&[b"\x10\x03event: error\ndata: {\"a\":1}\n\n: comment\r\ndata: x\ndata: y\r\n\r\nid: 1\nretry: 5\n\n"])
}

/// Tool-call arguments.
pub fn tool_arguments() -> Vec<Vec<u8>> {
    all(&[
        br#"{"items":[{"sku":"a","quantity":2,"note":null}],"express":true,"coupon":["x"],"address":null}"#,
        br#""{\"items\":[]}""#,
        br#"{"items":[{"sku":"b"}],"coupon":"null"}"#,
    ])
}

/// A 16-bit mono WAV of four samples, and a stereo float one.
pub fn wav_read() -> Vec<Vec<u8>> {
    fn wav(format: u16, channels: u16, bits: u16, data: &[u8]) -> Vec<u8> {
        let rate: u32 = 16_000;
        let align = channels * bits / 8;
        let mut out = b"RIFF".to_vec();
        out.extend(u32::try_from(36 + data.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend(b"WAVEfmt ");
        out.extend(16u32.to_le_bytes());
        out.extend(format.to_le_bytes());
        out.extend(channels.to_le_bytes());
        out.extend(rate.to_le_bytes());
        out.extend((rate * u32::from(align)).to_le_bytes());
        out.extend(align.to_le_bytes());
        out.extend(bits.to_le_bytes());
        out.extend(b"data");
        out.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend(data);
        out
    }
    vec![wav(1, 1, 16, &[0, 0, 255, 127, 0, 128, 1, 0]), wav(3, 2, 32, &[0; 16])]
}
