//! The messages of the gateway's STT (`/v1/stt`) and TTS (`/v1/tts`) WebSockets: JSON text
//! frames tagged by `type`, audio as base64 `pcm_s16le` mono.
//!
//! Messages of a type this crate does not know parse as `Unknown` (and are ignored by the
//! clients); a frame that is not JSON, or a known type with fields of the wrong shape, is a
//! [`ProtocolError`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A frame from the gateway that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed gateway message: {reason}")]
#[non_exhaustive]
pub struct ProtocolError {
    /// What is wrong with it.
    pub reason: String,
}

/// Parses a text frame of the STT endpoint.
pub fn parse_stt_message(text: &str) -> Result<SttServerMessage, ProtocolError> {
    serde_json::from_str(text).map_err(|error| ProtocolError { reason: error.to_string() })
}

/// Parses a text frame of the TTS endpoint.
pub fn parse_tts_message(text: &str) -> Result<TtsServerMessage, ProtocolError> {
    serde_json::from_str(text).map_err(|error| ProtocolError { reason: error.to_string() })
}

/// The retry settings the gateway applies to its own provider connections (`connection`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionSettings {
    /// Seconds.
    pub timeout: f64,
    /// Retries.
    pub retries: u32,
}

impl ConnectionSettings {
    /// From a timeout and a retry count.
    pub fn new(timeout: std::time::Duration, retries: u32) -> Self {
        Self { timeout: timeout.as_secs_f64(), retries }
    }
}

/// A model the gateway falls back to when the main one fails (it runs the fallback itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FallbackModel {
    /// The model, `provider/model`.
    pub model: String,
    /// The voice (TTS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// The provider's options for it; `null` when none.
    #[serde(default)]
    pub extra: Option<Map<String, Value>>,
}

impl FallbackModel {
    /// `model` with no voice nor options.
    pub fn new(model: impl Into<String>) -> Self {
        Self { model: model.into(), voice: None, extra: None }
    }

    /// Sets the voice (TTS).
    pub fn with_voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// Adds one provider option.
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.get_or_insert_with(Map::new).insert(key.into(), value.into());
        self
    }
}

/// The fallback models of a `session.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fallback {
    /// In order of preference.
    pub models: Vec<FallbackModel>,
}

/// The audio settings of an STT session (`settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SttSessionSettings {
    /// The input sample rate, in Hz, as a string (`"16000"`).
    pub sample_rate: String,
    /// Always `pcm_s16le`.
    pub encoding: String,
    /// The provider's options (keyterms included).
    pub extra: Map<String, Value>,
    /// The language, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The options a `session.update` changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SttUpdateSettings {
    /// A new model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A new language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// New provider options (keyterms included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
}

/// A message to the STT endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum SttClientMessage {
    /// The first message of a connection.
    #[serde(rename = "session.create")]
    SessionCreate {
        /// Audio and provider settings.
        settings: SttSessionSettings,
        /// The model; absent for `auto`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// Fallback models.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<Fallback>,
        /// The gateway's own retry settings.
        connection: ConnectionSettings,
    },
    /// 50 ms of audio.
    #[serde(rename = "input_audio")]
    InputAudio {
        /// Base64 of `pcm_s16le` mono samples.
        audio: String,
    },
    /// Transcribe what was sent so far.
    #[serde(rename = "session.finalize")]
    Finalize,
    /// New options mid-stream.
    #[serde(rename = "session.update")]
    Update {
        /// What changes.
        settings: SttUpdateSettings,
    },
    /// The end of the session.
    #[serde(rename = "session.close")]
    Close,
}

/// One recognized word.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptWord {
    /// The word.
    #[serde(default)]
    pub word: String,
    /// Seconds from the start of the session's audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub start: f64,
    /// Seconds from the start of the session's audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub end: f64,
    /// From 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The speaker.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub speaker_id: Option<String>,
}

/// An interim, preflight or final transcript.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transcript {
    /// The text.
    #[serde(default, deserialize_with = "string_or_null")]
    pub transcript: String,
    /// The language detected or set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Seconds from the start of the session's audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Seconds of audio the transcript covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// From 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The speaker.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub speaker_id: Option<String>,
    /// The provider's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Word timings.
    #[serde(default, deserialize_with = "vec_or_null")]
    pub words: Vec<TranscriptWord>,
    /// Provider-specific fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// An `error` message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorMessage {
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The gateway's code: an HTTP status as a number, or a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
}

impl ErrorMessage {
    /// The code when it is an HTTP status (a number from 100 to 599, or such a string).
    pub fn status(&self) -> Option<u16> {
        let status = match self.code.as_ref()? {
            Value::Number(number) => u16::try_from(number.as_u64()?).ok()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        (100..600).contains(&status).then_some(status)
    }

    /// The message and code as one line.
    pub fn describe(&self) -> String {
        let message = self.message.as_deref().unwrap_or("no message");
        match &self.code {
            Some(Value::String(code)) => format!("{message} ({code})"),
            Some(code) if !code.is_null() => format!("{message} (code {code})"),
            _ => message.to_owned(),
        }
    }
}

/// A message from the STT endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum SttServerMessage {
    /// The session is open.
    #[serde(rename = "session.created")]
    SessionCreated,
    /// The provider heard speech start.
    #[serde(rename = "start_of_speech")]
    StartOfSpeech,
    /// A transcript that may change.
    #[serde(rename = "interim_transcript")]
    InterimTranscript(Transcript),
    /// A transcript stable enough to prepare a reply on.
    #[serde(rename = "preflight_transcript")]
    PreflightTranscript(Transcript),
    /// The final transcript of a segment.
    #[serde(rename = "final_transcript")]
    FinalTranscript(Transcript),
    /// The `session.finalize` was handled (finals may still follow).
    #[serde(rename = "session.finalized")]
    SessionFinalized,
    /// The gateway closed the session.
    #[serde(rename = "session.closed")]
    SessionClosed,
    /// Something failed.
    #[serde(rename = "error")]
    Error(ErrorMessage),
    /// A type this crate does not know.
    #[serde(other)]
    Unknown,
}

/// The voice settings of one `input_transcript`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GenerationConfig {
    /// The voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A message to the TTS endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum TtsClientMessage {
    /// The first message of a connection; its fields are at the top level.
    #[serde(rename = "session.create")]
    SessionCreate {
        /// The output sample rate, as a string (`"24000"`).
        sample_rate: String,
        /// Always `pcm_s16le`.
        encoding: String,
        /// The provider's options.
        extra: Map<String, Value>,
        /// The voice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        voice: Option<String>,
        /// The model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// The language.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// Fallback models.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<Fallback>,
        /// The gateway's own retry settings.
        connection: ConnectionSettings,
    },
    /// One sentence to speak (with a trailing space).
    #[serde(rename = "input_transcript")]
    InputTranscript {
        /// The sentence.
        transcript: String,
        /// Voice, model and language.
        generation_config: GenerationConfig,
        /// The provider's options.
        extra: Map<String, Value>,
    },
    /// The end of this synthesis' text.
    #[serde(rename = "session.flush")]
    Flush,
    /// The end of the session.
    #[serde(rename = "session.close")]
    Close,
}

/// A word spoken, with its time in the synthesis' audio.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlignedWord {
    /// The word.
    #[serde(default)]
    pub word: String,
    /// Seconds from the start of the synthesis' audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub start: f64,
    /// Seconds from the start of the synthesis' audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub end: f64,
}

/// A character spoken, with its time in the synthesis' audio.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlignedChar {
    /// The character (a string, as the gateway sends it).
    #[serde(default, rename = "char")]
    pub character: String,
    /// Seconds from the start of the synthesis' audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub start: f64,
    /// Seconds from the start of the synthesis' audio.
    #[serde(default, deserialize_with = "number_or_null")]
    pub end: f64,
}

/// A message from the TTS endpoint. Every one may carry the gateway's `session_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum TtsServerMessage {
    /// The session is open.
    #[serde(rename = "session.created")]
    SessionCreated {
        /// The gateway's session id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
    /// Audio of the synthesis.
    #[serde(rename = "output_audio")]
    OutputAudio {
        /// Base64 of `pcm_s16le` mono samples.
        audio: String,
        /// The gateway's session id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
    /// Word or character timings.
    #[serde(rename = "output_alignment")]
    OutputAlignment {
        /// Word timings.
        #[serde(default, deserialize_with = "vec_or_null", skip_serializing_if = "Vec::is_empty")]
        words: Vec<AlignedWord>,
        /// Character timings.
        #[serde(default, deserialize_with = "vec_or_null", skip_serializing_if = "Vec::is_empty")]
        chars: Vec<AlignedChar>,
        /// The gateway's session id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
    /// The synthesis is complete.
    #[serde(rename = "done")]
    Done {
        /// The gateway's session id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
    /// Something failed.
    #[serde(rename = "error")]
    Error {
        /// What.
        #[serde(flatten)]
        error: ErrorMessage,
        /// The gateway's session id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
    },
    /// A type this crate does not know.
    #[serde(other)]
    Unknown,
}

impl TtsServerMessage {
    /// The gateway's session id, when the message has one.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Self::SessionCreated { session_id }
            | Self::OutputAudio { session_id, .. }
            | Self::OutputAlignment { session_id, .. }
            | Self::Done { session_id }
            | Self::Error { session_id, .. } => session_id.as_deref(),
            Self::Unknown => None,
        }
    }
}

fn number_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(0.0))
}

fn string_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A speaker id sent as a string or a number.
fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Id>::deserialize(deserializer)?.map(|id| match id {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn stt_session_create_has_the_documented_shape() {
        let message = SttClientMessage::SessionCreate {
            settings: SttSessionSettings {
                sample_rate: "16000".into(),
                encoding: "pcm_s16le".into(),
                extra: Map::new(),
                language: Some("en".into()),
            },
            model: Some("deepgram/nova-3".into()),
            fallback: None,
            connection: ConnectionSettings { timeout: 10.0, retries: 3 },
        };
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({"type":"session.create",
                   "settings":{"sample_rate":"16000","encoding":"pcm_s16le","extra":{},"language":"en"},
                   "model":"deepgram/nova-3","connection":{"timeout":10.0,"retries":3}})
        );
        assert_eq!(
            serde_json::to_value(SttClientMessage::Finalize).unwrap(),
            json!({"type":"session.finalize"})
        );
    }

    #[test]
    fn server_messages_parse_leniently() {
        let parsed = parse_stt_message(
            r#"{"type":"final_transcript","transcript":"hi","speaker_id":2,"words":null,
               "start":0.5,"duration":1.0,"session_id":"x"}"#,
        )
        .unwrap();
        let SttServerMessage::FinalTranscript(transcript) = parsed else { panic!("{parsed:?}") };
        assert_eq!(transcript.speaker_id.as_deref(), Some("2"));
        assert_eq!(transcript.start, Some(0.5));
        assert_eq!(
            parse_stt_message(r#"{"type":"session.created","session_id":"s"}"#).unwrap(),
            SttServerMessage::SessionCreated
        );
        assert_eq!(
            parse_stt_message(r#"{"type":"novel","x":1}"#).unwrap(),
            SttServerMessage::Unknown
        );
        assert!(parse_stt_message("{not json").is_err());
        assert!(parse_stt_message(r#"{"no":"type"}"#).is_err());
        let done = parse_tts_message(r#"{"type":"done","session_id":"S1"}"#).unwrap();
        assert_eq!(done.session_id(), Some("S1"));
        let error = parse_tts_message(r#"{"type":"error","message":"quota","code":429}"#).unwrap();
        let TtsServerMessage::Error { error, .. } = error else { panic!() };
        assert_eq!(error.status(), Some(429));
        assert_eq!(error.describe(), "quota (code 429)");
    }

    fn text() -> impl Strategy<Value = String> + Clone {
        "[ -~éü\\\\\"\n]{0,12}"
    }

    fn extra() -> impl Strategy<Value = Map<String, Value>> {
        proptest::collection::vec((text(), any::<i32>()), 0..3)
            .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
    }

    fn seconds() -> impl Strategy<Value = f64> {
        (0u32..100_000).prop_map(|ms| f64::from(ms) / 1000.0)
    }

    fn transcript() -> impl Strategy<Value = Transcript> {
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(seconds()),
            proptest::option::of(seconds()),
            proptest::option::of(text()),
            proptest::collection::vec((text(), seconds(), seconds()), 0..3),
        )
            .prop_map(|(transcript, language, start, duration, speaker_id, words)| {
                Transcript {
                    transcript,
                    language,
                    start,
                    duration,
                    confidence: None,
                    speaker_id,
                    request_id: None,
                    words: words
                        .into_iter()
                        .map(|(word, start, end)| TranscriptWord {
                            word,
                            start,
                            end,
                            ..Default::default()
                        })
                        .collect(),
                    extra: None,
                }
            })
    }

    fn stt_server() -> impl Strategy<Value = SttServerMessage> {
        prop_oneof![
            Just(SttServerMessage::SessionCreated),
            Just(SttServerMessage::StartOfSpeech),
            transcript().prop_map(SttServerMessage::InterimTranscript),
            transcript().prop_map(SttServerMessage::PreflightTranscript),
            transcript().prop_map(SttServerMessage::FinalTranscript),
            Just(SttServerMessage::SessionFinalized),
            Just(SttServerMessage::SessionClosed),
            (proptest::option::of(text()), proptest::option::of(100u16..600)).prop_map(
                |(message, code)| SttServerMessage::Error(ErrorMessage {
                    message,
                    code: code.map(Value::from)
                })
            ),
        ]
    }

    fn stt_client() -> impl Strategy<Value = SttClientMessage> {
        prop_oneof![
            (text(), extra(), proptest::option::of(text()), proptest::option::of(text()), 0u32..5)
                .prop_map(|(rate, extra, language, model, retries)| {
                    SttClientMessage::SessionCreate {
                        settings: SttSessionSettings {
                            sample_rate: rate,
                            encoding: "pcm_s16le".into(),
                            extra,
                            language,
                        },
                        model,
                        fallback: Some(Fallback { models: vec![FallbackModel::new("a/b")] }),
                        connection: ConnectionSettings { timeout: 1.5, retries },
                    }
                }),
            "[A-Za-z0-9+/=]{0,40}".prop_map(|audio| SttClientMessage::InputAudio { audio }),
            Just(SttClientMessage::Finalize),
            (proptest::option::of(text()), proptest::option::of(extra())).prop_map(
                |(language, extra)| SttClientMessage::Update {
                    settings: SttUpdateSettings { model: None, language, extra }
                }
            ),
            Just(SttClientMessage::Close),
        ]
    }

    fn tts_server() -> impl Strategy<Value = TtsServerMessage> {
        let id = || proptest::option::of(text());
        prop_oneof![
            id().prop_map(|session_id| TtsServerMessage::SessionCreated { session_id }),
            ("[A-Za-z0-9+/=]{0,40}", id()).prop_map(|(audio, session_id)| {
                TtsServerMessage::OutputAudio { audio, session_id }
            }),
            (proptest::collection::vec((text(), seconds(), seconds()), 0..3), id()).prop_map(
                |(words, session_id)| TtsServerMessage::OutputAlignment {
                    words: words
                        .into_iter()
                        .map(|(word, start, end)| AlignedWord { word, start, end })
                        .collect(),
                    chars: Vec::new(),
                    session_id,
                }
            ),
            id().prop_map(|session_id| TtsServerMessage::Done { session_id }),
            (proptest::option::of(text()), id()).prop_map(|(message, session_id)| {
                TtsServerMessage::Error {
                    error: ErrorMessage { message, code: Some(Value::from("quota")) },
                    session_id,
                }
            }),
        ]
    }

    fn tts_client() -> impl Strategy<Value = TtsClientMessage> {
        prop_oneof![
            (extra(), proptest::option::of(text()), proptest::option::of(text())).prop_map(
                |(extra, voice, language)| TtsClientMessage::SessionCreate {
                    sample_rate: "24000".into(),
                    encoding: "pcm_s16le".into(),
                    extra,
                    voice,
                    model: Some("cartesia/sonic-3".into()),
                    language,
                    fallback: None,
                    connection: ConnectionSettings { timeout: 10.0, retries: 3 },
                }
            ),
            (text(), proptest::option::of(text()), extra()).prop_map(
                |(transcript, voice, extra)| {
                    TtsClientMessage::InputTranscript {
                        transcript,
                        generation_config: GenerationConfig { voice, model: None, language: None },
                        extra,
                    }
                }
            ),
            Just(TtsClientMessage::Flush),
            Just(TtsClientMessage::Close),
        ]
    }

    proptest! {
        #[test]
        fn stt_server_messages_round_trip(message in stt_server()) {
            let text = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(parse_stt_message(&text).unwrap(), message);
        }

        #[test]
        fn stt_client_messages_round_trip(message in stt_client()) {
            let text = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(serde_json::from_str::<SttClientMessage>(&text).unwrap(), message);
        }

        #[test]
        fn tts_server_messages_round_trip(message in tts_server()) {
            let text = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(parse_tts_message(&text).unwrap(), message);
        }

        #[test]
        fn tts_client_messages_round_trip(message in tts_client()) {
            let text = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(serde_json::from_str::<TtsClientMessage>(&text).unwrap(), message);
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(text in any::<String>()) {
            let _ = parse_stt_message(&text);
            let _ = parse_tts_message(&text);
        }
    }
}
