//! [`FakeStt`]: an STT that hears scripted transcripts.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;

use super::events::Events;
use super::lock;
use super::vad::{Change, Detector, FakeVad};
use crate::audio::AudioFrame;
use crate::stt::{
    SpeechData, SpeechEvent, SpeechEventKind, Stt, SttCapabilities, SttError, SttOptions, SttStream,
};

/// A speech-to-text model that hears scripted transcripts, one per utterance, in order.
/// Clones share the script and the record of what was heard.
///
/// * [`FakeStt::new`] does not stream: the session cuts the audio into utterances with its VAD
///   (it needs one) and each utterance is recognized as the next transcript, after
///   [`with_delay`](Self::with_delay).
/// * [`FakeStt::streaming`] streams, as LiveKit Inference's STT does: it finds the utterances
///   itself by loudness (as [`FakeVad`] does) and reports start of speech, an interim
///   transcript (the first word), the final transcript and end of speech.
///
/// An utterance after the last transcript fails with a
/// [`Configuration`](crate::ApiErrorKind::Configuration) error saying so (a streaming STT's
/// stream ends with it). [`utterances`](Self::utterances) and [`peaks`](Self::peaks) tell what
/// audio reached it: each utterance's length and loudest sample.
#[derive(Debug, Clone)]
pub struct FakeStt {
    inner: Arc<Mutex<Heard>>,
    streaming: bool,
    delay: Duration,
    vad: FakeVad,
}

#[derive(Debug, Default)]
struct Heard {
    transcripts: VecDeque<String>,
    utterances: Vec<Duration>,
    peaks: Vec<u16>,
}

impl Heard {
    /// The next transcript, for the utterance `frames`.
    fn next(&mut self, frames: &[AudioFrame]) -> Result<String, SttError> {
        let duration: Duration = frames.iter().map(AudioFrame::duration).sum();
        let peak = frames.iter().flat_map(|frame| frame.data()).map(|s| s.unsigned_abs()).max();
        self.utterances.push(duration);
        self.peaks.push(peak.unwrap_or(0));
        self.transcripts.pop_front().ok_or_else(|| {
            SttError::configuration(format!(
                "FakeStt has no transcript left for utterance {} ({} ms of audio): script one \
                 more",
                self.utterances.len(),
                duration.as_millis()
            ))
        })
    }
}

impl FakeStt {
    /// A non-streaming STT hearing `transcripts`, one per utterance.
    pub fn new<I>(transcripts: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let heard = Heard {
            transcripts: transcripts.into_iter().map(Into::into).collect(),
            utterances: Vec::new(),
            peaks: Vec::new(),
        };
        Self {
            inner: Arc::new(Mutex::new(heard)),
            streaming: false,
            delay: Duration::ZERO,
            vad: FakeVad::new(),
        }
    }

    /// A streaming STT hearing `transcripts`, one per utterance it finds by loudness.
    pub fn streaming<I>(transcripts: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self { streaming: true, ..Self::new(transcripts) }
    }

    /// Sets how long a (non-streaming) recognition takes.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sets how a streaming STT finds utterances.
    pub fn with_vad(mut self, vad: FakeVad) -> Self {
        self.vad = vad;
        self
    }

    /// The length of each utterance heard so far (the audio given to the STT for it).
    pub fn utterances(&self) -> Vec<Duration> {
        lock(&self.inner).utterances.clone()
    }

    /// The loudest sample (its absolute value) of each utterance heard so far: whether the
    /// audio reached the STT at the level it was spoken, through the session's resamplers.
    pub fn peaks(&self) -> Vec<u16> {
        lock(&self.inner).peaks.clone()
    }

    /// How many transcripts are left.
    pub fn remaining(&self) -> usize {
        lock(&self.inner).transcripts.len()
    }
}

#[async_trait::async_trait]
impl Stt for FakeStt {
    fn model(&self) -> &str {
        "fake"
    }

    fn provider(&self) -> &str {
        "agents-core testing"
    }

    fn capabilities(&self) -> SttCapabilities {
        SttCapabilities::new(self.streaming, self.streaming)
    }

    async fn recognize(
        &self,
        frames: &[AudioFrame],
        options: &SttOptions,
    ) -> Result<SpeechEvent, SttError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let text = lock(&self.inner).next(frames)?;
        Ok(final_transcript(text, options))
    }

    fn stream(&self, options: &SttOptions) -> Box<dyn SttStream> {
        Box::new(FakeSttStream {
            heard: self.inner.clone(),
            detector: self.vad.detector(),
            options: options.clone(),
            events: Events::default(),
        })
    }
}

/// A final transcript of `text`, in the options' language.
fn final_transcript(text: String, options: &SttOptions) -> SpeechEvent {
    let language = options.language.clone().unwrap_or_else(|| "en".to_owned());
    SpeechEvent::new(SpeechEventKind::FinalTranscript)
        .with_alternative(SpeechData::new(text).with_language(language).with_confidence(1.0))
}

/// A stream of a streaming [`FakeStt`].
struct FakeSttStream {
    heard: Arc<Mutex<Heard>>,
    detector: Detector,
    options: SttOptions,
    events: Events<Result<SpeechEvent, SttError>>,
}

impl FakeSttStream {
    /// The utterance ended: its transcript, end of speech and usage.
    fn finish_utterance(&mut self) {
        let frames = std::mem::take(&mut self.detector.utterance);
        let duration: Duration = frames.iter().map(AudioFrame::duration).sum();
        let transcript = lock(&self.heard).next(&frames);
        match transcript {
            Ok(text) => {
                self.events.push(Ok(final_transcript(text, &self.options)));
                self.events.push(Ok(SpeechEvent::new(SpeechEventKind::EndOfSpeech)));
                self.events.push(Ok(SpeechEvent::recognition_usage(duration)));
            }
            Err(error) => {
                self.events.push(Err(error));
                self.events.end();
            }
        }
    }
}

impl Stream for FakeSttStream {
    type Item = Result<SpeechEvent, SttError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next(cx)
    }
}

impl SttStream for FakeSttStream {
    fn push_frame(&mut self, frame: &AudioFrame) {
        if self.events.is_ended() {
            return;
        }
        match self.detector.push(frame) {
            Change::Started => {
                self.events.push(Ok(SpeechEvent::new(SpeechEventKind::StartOfSpeech)));
                let first_word = lock(&self.heard)
                    .transcripts
                    .front()
                    .and_then(|text| text.split_whitespace().next().map(str::to_owned));
                if let Some(word) = first_word {
                    self.events.push(Ok(SpeechEvent::new(SpeechEventKind::InterimTranscript)
                        .with_alternative(SpeechData::new(word))));
                }
            }
            Change::Ended => self.finish_utterance(),
            Change::None => {}
        }
    }

    fn flush(&mut self) {
        if self.detector.speaking {
            self.detector.speaking = false;
            self.finish_utterance();
        }
    }

    fn end_input(&mut self) {
        self.flush();
        self.events.end();
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::testing::{silence, tone};

    #[tokio::test]
    async fn recognize_hears_the_transcripts_in_order_then_says_none_is_left() {
        let stt = FakeStt::new(["hello", "print to the console"]);
        let frames = tone(Duration::from_millis(50), 440.0, 16_000);
        let first = stt.recognize(&frames, &SttOptions::default()).await;
        assert_eq!(first.map(|event| event.text().to_owned()).ok().as_deref(), Some("hello"));
        let second = stt.recognize(&frames, &SttOptions::default()).await;
        assert_eq!(
            second.ok().map(|e| e.text().to_owned()).as_deref(),
            Some("print to the console")
        );
        let third = stt.recognize(&frames, &SttOptions::default()).await;
        let message = third.err().map(|error| error.to_string()).unwrap_or_default();
        assert!(message.contains("no transcript left for utterance 3 (50 ms"), "{message}");
        assert_eq!(stt.utterances(), [Duration::from_millis(50); 3]);
        let loudest = frames.iter().flat_map(|f| f.data()).map(|s| s.unsigned_abs()).max();
        assert_eq!(stt.peaks(), [loudest.unwrap_or_default(); 3]);
        assert!(stt.peaks()[0] > 1_000, "a tone, not silence: {:?}", stt.peaks());
    }

    #[tokio::test]
    async fn a_stream_finds_utterances_by_loudness() {
        let stt = FakeStt::streaming(["one two", "three"]);
        let mut stream = stt.stream(&SttOptions::default().with_language("fr"));
        let audio = tone(Duration::from_millis(200), 300.0, 24_000)
            .into_iter()
            .chain(silence(Duration::from_millis(300), 24_000))
            .chain(tone(Duration::from_millis(100), 300.0, 24_000));
        for frame in audio {
            stream.push_frame(&frame);
        }
        stream.end_input();
        let events: Vec<SpeechEvent> =
            stream.map(|event| event.ok()).filter_map(|e| async { e }).collect().await;
        let seen: Vec<(SpeechEventKind, String)> =
            events.iter().map(|event| (event.kind, event.text().to_owned())).collect();
        use SpeechEventKind::*;
        let expected = [
            (StartOfSpeech, ""),
            (InterimTranscript, "one"),
            (FinalTranscript, "one two"),
            (EndOfSpeech, ""),
            (RecognitionUsage, ""),
            (StartOfSpeech, ""),
            (InterimTranscript, "three"),
            (FinalTranscript, "three"),
            (EndOfSpeech, ""),
            (RecognitionUsage, ""),
        ];
        let expected: Vec<(SpeechEventKind, String)> =
            expected.iter().map(|(kind, text)| (*kind, (*text).to_owned())).collect();
        assert_eq!(seen, expected);
        assert_eq!(events[2].alternatives[0].language, "fr");
        assert_eq!(stt.utterances(), [Duration::from_millis(400), Duration::from_millis(100)]);
        let peaks = stt.peaks();
        assert!(peaks.len() == 2 && peaks.iter().all(|peak| *peak > 1_000), "{peaks:?}");
    }
}
