//! Fuzzes what the LiveKit Inference gateway sends the STT and TTS clients: any text frame
//! parses into a message or a `ProtocolError`, never a panic, and what parses can be
//! inspected and serialized back.

use agents_inference::inference::protocol::{
    SttServerMessage, TtsServerMessage, parse_stt_message, parse_tts_message,
};

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_stt_message(text) {
        Ok(SttServerMessage::Error(error)) => {
            let _ = (error.status(), error.describe());
        }
        Ok(message) => {
            let back = serde_json::to_string(&message).expect("a parsed message serializes");
            assert_eq!(parse_stt_message(&back).ok(), Some(message), "round trip of {text}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    match parse_tts_message(text) {
        Ok(TtsServerMessage::Error { error, .. }) => {
            let _ = (error.status(), error.describe());
        }
        Ok(message) => {
            let _ = message.session_id();
            let back = serde_json::to_string(&message).expect("a parsed message serializes");
            assert_eq!(parse_tts_message(&back).ok(), Some(message), "round trip of {text}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}
