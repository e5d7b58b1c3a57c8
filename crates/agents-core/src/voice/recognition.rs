//! Audio recognition: the user's audio through VAD and STT to committed user turns.
//!
//! The VAD tells when the user speaks (user state, interruptions of the agent); the STT gives
//! the transcript. A turn ends `min_endpointing_delay` after the end of speech once a final
//! transcript is there (at most `max_endpointing_delay` after the end of speech, with what
//! was heard), and is committed as a reply to the user's input.
//!
//! An input read faster than real time (a WAV file with the console's `--fast`) runs on its
//! own timeline ([`InputClock::Audio`]): the endpointing delay is counted in the audio's
//! samples, and the input is held while the VAD catches up, while the final transcript of an
//! utterance recognized whole (a non-streaming STT) is awaited after the end of speech, and
//! while the agent replies, so that the file's turns
//! stay apart as they would in real time and its next sentence does not barge in on a reply
//! that would have finished.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::time::Instant;

use super::core::SessionCore;
use super::events::{
    AgentMetrics, EouMetrics, ErrorSource, SessionErrorEvent, SessionEvent, SttMetrics, UserState,
    VadMetrics,
};
use super::options::ReplyOptions;
use super::preemptive::Preemptive;
use crate::agent::{AgentContext, ModelSettings};
use crate::audio::AudioFrame;
use crate::stt::{SpeechEventKind, SttStream};
use crate::vad::{VadEventKind, VadStream};

/// The streams one recognition task reads.
pub(crate) struct Recognition {
    pub(crate) audio: BoxStream<'static, AudioFrame>,
    pub(crate) clock: InputClock,
    pub(crate) vad: Option<Box<dyn VadStream>>,
    pub(crate) stt: Box<dyn SttStream>,
    /// The STT streams by itself (it may need the audio after the end of speech to finalize),
    /// rather than recognizing the VAD's utterances through the stream adapter.
    pub(crate) stt_streams: bool,
}

/// The timeline turn-taking runs on, as the session's audio input comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum InputClock {
    /// The input comes in real time (a microphone, a file paced at real time): the wall clock.
    #[default]
    Wall,
    /// The input comes as fast as it is read (a file with `--fast`): the audio's own timeline.
    Audio,
}

/// How far the input may run ahead of what the VAD has processed, on the audio timeline.
const VAD_LOOKAHEAD: Duration = Duration::from_millis(200);

/// How long the input waits for a VAD that reports no progress before pushing a frame anyway.
const VAD_STALL: Duration = Duration::from_millis(500);

/// Where the audio timeline is ([`InputClock::Audio`]).
struct Timeline {
    /// The audio pushed.
    pushed: Duration,
    /// The audio the VAD has processed, from its events; `None` without a VAD.
    heard: Option<Duration>,
    /// Since when the input has waited for the VAD: its last event, or the last frame pushed.
    waiting_since: Instant,
    /// A reply to the last turn is in flight: the input waits until the session is idle.
    replying: bool,
}

impl Timeline {
    /// The VAD has processed `seconds` of audio.
    fn heard_up_to(&mut self, seconds: f64) {
        let heard = Duration::try_from_secs_f64(seconds).unwrap_or_default();
        self.heard = Some(self.heard.map_or(heard, |before| before.max(heard)));
        self.waiting_since = Instant::now();
    }

    /// Whether the input waits for the VAD to catch up; `Some(until)` when it does.
    fn vad_wait(&self) -> Option<Instant> {
        let heard = self.heard?;
        (self.pushed > heard + VAD_LOOKAHEAD).then_some(self.waiting_since + VAD_STALL)
    }
}

/// What is heard of the current user turn.
#[derive(Default)]
struct Turn {
    transcript: String,
    /// When the endpointing delay runs from (when the user last spoke, by the VAD, or when
    /// the STT said the speech ended), while the turn waits to be committed.
    speech_ended: Option<Instant>,
    /// Where the endpointing delay runs from on the audio timeline ([`InputClock::Audio`]).
    speech_ended_audio: Option<Duration>,
    /// When the user stopped speaking, for the metrics.
    ended_at: Option<Instant>,
    /// When the last final transcript came.
    final_at: Option<Instant>,
    speaking: bool,
}

/// The audio pushed to the VAD on the wall clock, to place its events in time.
///
/// A VAD decides on whole windows (Silero: 32 ms at 16 kHz) of resampled audio (the
/// resampler holds back its look-ahead) and may run them on another thread: its end of speech
/// is read after audio past the silence it reports has been pushed. Its event's `timestamp`
/// (the audio it has processed, on the input's timeline) tells how much: the user last spoke
/// `silence_duration` before the processed audio's end, which is `pushed − timestamp` before
/// the last frame pushed, and that frame was pushed as it came, in real time.
#[derive(Debug, Default)]
struct VadFed {
    /// The audio pushed.
    pushed: Duration,
    /// When the last frame was pushed.
    at: Option<Instant>,
}

impl VadFed {
    /// A frame of `duration` was pushed now.
    fn pushed(&mut self, duration: Duration) {
        self.pushed += duration;
        self.at = Some(Instant::now());
    }

    /// When the user last spoke, by an end of speech read at `now` after `silence` of silence
    /// ending at the VAD's `timestamp` (seconds of audio processed).
    ///
    /// A VAD whose `timestamp` does not count the audio pushed (0, more than was pushed, or
    /// more than [`MAX_UNPROCESSED`] behind it: one that restarted its clock or dropped
    /// frames) is taken as having processed all of it, as when its event is read.
    fn last_spoke(&self, timestamp: f64, silence: Duration, now: Instant) -> Instant {
        let processed = Duration::try_from_secs_f64(timestamp).unwrap_or_default();
        let (anchor, unprocessed) = match self.at {
            // Half a microsecond of rounding (the timestamp is a float sum of windows).
            Some(at)
                if !processed.is_zero()
                    && processed <= self.pushed + ROUNDING
                    && self.pushed.saturating_sub(processed) <= MAX_UNPROCESSED =>
            {
                (at, self.pushed.saturating_sub(processed))
            }
            _ => (now, Duration::ZERO),
        };
        anchor.checked_sub(silence + unprocessed).unwrap_or(anchor)
    }
}

/// Tolerance between a VAD's float `timestamp` and the audio pushed.
const ROUNDING: Duration = Duration::from_micros(1);

/// The most audio a VAD may be behind what was pushed for its timestamp to be trusted (a
/// window, a frame and a few inferences' backlog are tens of milliseconds); beyond it the
/// speech's end would be placed so far back that the endpointing delay would be skipped.
const MAX_UNPROCESSED: Duration = Duration::from_millis(500);

/// VAD inference counts between two reports (about one second of audio at 32 ms a window).
const VAD_REPORT_EVERY: u32 = 31;

/// Runs recognition until the audio and both streams end; commits every finished turn.
pub(super) async fn run(core: &Arc<SessionCore>, recognition: Recognition) {
    let Recognition { mut audio, clock, mut vad, mut stt, stt_streams } = recognition;
    let options = core.options.clone();
    let mut timeline = (clock == InputClock::Audio).then(|| Timeline {
        pushed: Duration::ZERO,
        heard: vad.is_some().then_some(Duration::ZERO),
        waiting_since: Instant::now(),
        replying: false,
    });
    let mut turn = Turn::default();
    let mut audio_done = false;
    let mut vad_done = vad.is_none();
    let mut stt_done = false;
    let mut vad_inferences = 0u32;
    let mut vad_inference_time = Duration::ZERO;
    // The audio pushed to the VAD, and when its last frame was pushed: where the VAD's own
    // timeline (its events' `timestamp`) meets the wall clock.
    let mut vad_fed = VadFed::default();
    loop {
        let heard_something = !turn.transcript.trim().is_empty();
        // On the audio timeline, a turn with a transcript ends once enough audio has come
        // after the end of speech (or the audio has ended).
        if let (Some(timeline), Some(ended)) = (timeline.as_mut(), turn.speech_ended_audio)
            && heard_something
            && (audio_done || timeline.pushed >= ended + options.min_endpointing_delay)
        {
            commit(core, &mut turn);
            timeline.replying = true;
            continue;
        }
        let deadline = turn.speech_ended.and_then(|ended| {
            if !heard_something {
                Some(ended + options.max_endpointing_delay)
            } else if timeline.is_none() {
                Some(ended + options.min_endpointing_delay)
            } else {
                None
            }
        });
        if audio_done && vad_done && stt_done && deadline.is_none() {
            break;
        }
        // A deadline already passed (a zero delay) commits now, not at the timer's next tick.
        if deadline.is_some_and(|deadline| deadline <= Instant::now()) {
            commit(core, &mut turn);
            continue;
        }
        let far = Instant::now() + Duration::from_secs(3600);
        // On the audio timeline, the input waits for the VAD to catch up, for the final
        // transcript of speech that ended, and for the reply to the last turn.
        let vad_wait = timeline.as_ref().filter(|_| !vad_done).and_then(Timeline::vad_wait);
        // (Only an utterance the adapter recognizes is whole at the end of speech: a streaming
        // STT may need the audio after it to finalize, so it is not held for.)
        let awaiting_final =
            !stt_streams && turn.speech_ended.is_some() && !heard_something && !stt_done;
        let replying = timeline.as_ref().is_some_and(|timeline| timeline.replying);
        let held = timeline.is_some() && (vad_wait.is_some() || awaiting_final || replying);
        tokio::select! {
            frame = audio.next(), if !audio_done && !held => match frame {
                Some(frame) => {
                    if let Some(timeline) = timeline.as_mut() {
                        timeline.pushed += frame.duration();
                        timeline.waiting_since = Instant::now();
                    }
                    if let Some(vad) = vad.as_mut() {
                        vad.push_frame(&frame);
                        vad_fed.pushed(frame.duration());
                    }
                    stt.push_frame(&frame);
                }
                None => {
                    audio_done = true;
                    if let Some(vad) = vad.as_mut() {
                        vad.end_input();
                    }
                    stt.end_input();
                }
            },
            event = next_vad(&mut vad), if !vad_done => match event {
                Some(event) => match event.kind {
                    VadEventKind::StartOfSpeech => {
                        turn.speaking = true;
                        turn.speech_ended = None;
                        turn.speech_ended_audio = None;
                        core.cancel_preemptive();
                        core.set_user_state(UserState::Speaking);
                    }
                    VadEventKind::InferenceDone => {
                        if let Some(timeline) = timeline.as_mut() {
                            timeline.heard_up_to(event.timestamp);
                        }
                        vad_inferences += 1;
                        vad_inference_time += event.inference_duration;
                        if vad_inferences >= VAD_REPORT_EVERY {
                            core.emit(SessionEvent::MetricsCollected {
                                metrics: AgentMetrics::Vad(VadMetrics {
                                    inference_count: vad_inferences,
                                    inference_duration_total: vad_inference_time,
                                }),
                            });
                            vad_inferences = 0;
                            vad_inference_time = Duration::ZERO;
                        }
                        let long_enough =
                            event.speech_duration >= options.min_interruption_duration.as_secs_f64();
                        if turn.speaking && long_enough && options.allow_interruptions {
                            core.interrupt_for_user();
                        }
                    }
                    VadEventKind::EndOfSpeech => {
                        turn.speaking = false;
                        // The VAD ends speech once `silence_duration` of silence has passed:
                        // the user last spoke that long ago, and the endpointing delay counts
                        // from then (Python's `last_speaking_time`), not from this event.
                        // Only on the wall clock: on the audio timeline (`--fast`) the VAD
                        // runs ahead of real time, and its silence is audio time.
                        let silence = Duration::try_from_secs_f64(event.silence_duration)
                            .unwrap_or_default();
                        let now = Instant::now();
                        turn.speech_ended = Some(if timeline.is_none() {
                            vad_fed.last_spoke(event.timestamp, silence, now)
                        } else {
                            now
                        });
                        turn.speech_ended_audio = timeline.as_ref().map(|timeline| {
                            timeline.heard.unwrap_or(timeline.pushed).min(timeline.pushed)
                        });
                        turn.ended_at = turn.speech_ended;
                        core.set_user_state(UserState::Listening);
                        // The transcript may already be final: the reply may start already.
                        if !turn.transcript.trim().is_empty() {
                            start_preemptive(core, turn.transcript.trim());
                        }
                    }
                },
                None => vad_done = true,
            },
            event = stt.next(), if !stt_done => match event {
                Some(Ok(event)) => {
                    let pushed = timeline.as_ref().map(|timeline| timeline.pushed);
                    on_speech_event(core, &mut turn, vad.is_some(), event, pushed);
                }
                Some(Err(error)) => {
                    let error = crate::api_error::error_chain(&error);
                    core.report_error(SessionErrorEvent::Other(error.into()), ErrorSource::Stt);
                    stt_done = true;
                }
                None => stt_done = true,
            },
            () = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                commit(core, &mut turn);
            }
            // The VAD reports no progress: the input goes on all the same.
            () = tokio::time::sleep_until(vad_wait.unwrap_or(far)), if vad_wait.is_some() => {
                if let Some(timeline) = timeline.as_mut() {
                    timeline.heard = Some(timeline.pushed);
                    timeline.waiting_since = Instant::now();
                }
            }
            () = core.wait_for_idle(), if replying => {
                if let Some(timeline) = timeline.as_mut() {
                    timeline.replying = false;
                }
            }
        }
    }
}

/// Ends the user's turn: its transcript becomes a reply to it.
fn commit(core: &Arc<SessionCore>, turn: &mut Turn) {
    let transcript = std::mem::take(&mut turn.transcript);
    turn.speech_ended = None;
    turn.speech_ended_audio = None;
    let ended_at = turn.ended_at.take();
    let final_at = turn.final_at.take();
    let transcript = transcript.trim();
    if !transcript.is_empty() {
        if let Some(ended_at) = ended_at {
            core.emit(SessionEvent::MetricsCollected {
                metrics: AgentMetrics::EndOfUtterance(EouMetrics {
                    end_of_utterance_delay: ended_at.elapsed(),
                    transcription_delay: final_at
                        .map_or(Duration::ZERO, |at| at.saturating_duration_since(ended_at)),
                }),
            });
        }
        let mut options = ReplyOptions::user_input(transcript);
        options.end_of_speech = ended_at;
        core.generate_reply(options);
    }
}

/// Starts the LLM on `transcript` before the end of the turn, if preemptive generation is on;
/// replaces (cancels) an earlier preemptive request.
fn start_preemptive(core: &Arc<SessionCore>, transcript: &str) {
    if !core.options.preemptive_generation || core.llm.is_none() {
        return;
    }
    let Some(agent) = core.current_agent() else { return };
    let ctx = AgentContext { session: core.session(), agent: agent.clone() };
    let tools = core.offered_tools(&agent);
    // A panic in the agent's `llm_node` must not end the recognition: the user would no
    // longer be heard. The reply is generated at the end of the turn instead.
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Preemptive::start(agent, tools, transcript.to_owned(), |request, tools| {
            ctx.agent().hooks().llm_node(&ctx, request, tools, &ModelSettings::default())
        })
    }));
    match started {
        Ok(preemptive) => core.set_preemptive(preemptive),
        Err(_) => core.report_error(
            SessionErrorEvent::Other(
                format!(
                    "the agent `{}`'s llm_node panicked during preemptive generation",
                    ctx.agent().id()
                )
                .into(),
            ),
            ErrorSource::Hook,
        ),
    }
}

async fn next_vad(vad: &mut Option<Box<dyn VadStream>>) -> Option<crate::vad::VadEvent> {
    match vad.as_mut() {
        Some(vad) => vad.next().await,
        None => std::future::pending().await,
    }
}

fn on_speech_event(
    core: &Arc<SessionCore>,
    turn: &mut Turn,
    has_vad: bool,
    event: crate::stt::SpeechEvent,
    pushed: Option<Duration>,
) {
    let text =
        event.alternatives.first().map(|best| best.text.trim().to_owned()).unwrap_or_default();
    match event.kind {
        SpeechEventKind::InterimTranscript | SpeechEventKind::PreflightTranscript
            if !text.is_empty() =>
        {
            core.emit(SessionEvent::UserInputTranscribed { transcript: text, is_final: false });
        }
        SpeechEventKind::FinalTranscript => {
            if text.is_empty() {
                return;
            }
            if !turn.transcript.is_empty() {
                turn.transcript.push(' ');
            }
            turn.transcript.push_str(&text);
            turn.final_at = Some(Instant::now());
            core.emit(SessionEvent::UserInputTranscribed { transcript: text, is_final: true });
            // A final transcript after the end of speech: the reply may start already. On the
            // wall clock the endpointing delay still counts from the end of speech (as in
            // Python): a transcript later than the delay ends the turn at once. On the audio
            // timeline it runs from here, where the input was held for the transcript.
            if !turn.speaking && turn.speech_ended.is_some() {
                // Without a VAD, the STT's final transcript is the last sign of speech: the
                // delay runs from it (Python's `last_speaking_time` from the STT).
                if !has_vad {
                    turn.speech_ended = Some(Instant::now());
                }
                turn.speech_ended_audio = pushed;
                start_preemptive(core, turn.transcript.trim());
            }
        }
        SpeechEventKind::RecognitionUsage => {
            if let Some(usage) = event.usage {
                core.emit(SessionEvent::MetricsCollected {
                    metrics: AgentMetrics::Stt(SttMetrics {
                        request_id: event.request_id,
                        duration: usage.request_duration.unwrap_or_default(),
                        audio_duration: usage.audio_duration,
                        streamed: usage.request_duration.is_none(),
                    }),
                });
            }
        }
        // Without a VAD, the STT says when speech starts and ends.
        SpeechEventKind::StartOfSpeech if !has_vad => {
            turn.speaking = true;
            turn.speech_ended = None;
            turn.speech_ended_audio = None;
            core.set_user_state(UserState::Speaking);
        }
        SpeechEventKind::EndOfSpeech if !has_vad => {
            turn.speaking = false;
            turn.speech_ended = Some(Instant::now());
            turn.speech_ended_audio = pushed;
            turn.ended_at = turn.speech_ended;
            core.set_user_state(UserState::Listening);
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod vad_fed_tests {
    use super::*;

    #[test]
    fn the_end_of_speech_is_counted_back_from_the_audio_the_vad_processed() {
        let mut fed = VadFed::default();
        for _ in 0..100 {
            fed.pushed(Duration::from_millis(10));
        }
        let at = fed.at.unwrap();
        let now = at + Duration::from_millis(5);
        let silence = Duration::from_millis(200);
        // 1 s pushed, 0.96875 s processed: the user spoke 200 + 31.25 ms before the last push.
        let spoke = fed.last_spoke(0.968_75, silence, now);
        assert_eq!(at - spoke, Duration::from_micros(231_250));
        // A VAD whose clock is far behind (it restarted, or dropped frames) is not trusted
        // to skip the endpointing delay: counted from when its event is read.
        assert_eq!(fed.last_spoke(0.2, silence, now), now - silence);
        // Nor one ahead of the audio pushed, or without a timestamp.
        assert_eq!(fed.last_spoke(1.5, silence, now), now - silence);
        assert_eq!(fed.last_spoke(0.0, silence, now), now - silence);
    }
}
