//! The session mirrored in the room: its state as `lk.agent.state`, and transcriptions on
//! `lk.transcription` — the user's under the user's identity, the agent's in step with the
//! audio the user hears (Python's `TranscriptSynchronizer`).
//!
//! The agent's words are released as the playout of its voice passes their end (the timings
//! its TTS gave, or for a TTS without word timings the session's estimate of them, on the
//! playout clock of the room's audio output), one text stream per segment, written word by
//! word and closed with `lk.transcription_final` when the segment ends. An interrupted
//! segment releases the words whose end had played by the interruption: the rule by which
//! the session keeps the heard words in its chat context, on the same clock
//! ([`PlaybackFinished::position`]) and the same timings, so the transcript and the history
//! agree. A reply with no audio (no TTS, or it failed) is sent whole when the session adds
//! it: each segment says which message it speaks, so a voiced speech the history does not
//! keep (a `say` not added to it) is never taken for another.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, watch};

use agents_rtc::{LocalParticipant, StreamTextOptions, TextStreamWriter};

use super::input::Linked;
use super::output::Playout;
use super::{
    ATTRIBUTE_AGENT_STATE, ATTRIBUTE_SEGMENT_ID, ATTRIBUTE_TRANSCRIBED_TRACK_ID,
    ATTRIBUTE_TRANSCRIPTION_FINAL, TOPIC_TRANSCRIPTION, session_of,
};
use crate::llm::{ChatItem, ChatRole};
use crate::types::TimedString;
use crate::voice::{AgentSession, AgentState, PlaybackFinished, SessionEvent};

/// What the mirror needs of the room.
pub(super) struct Mirror {
    pub(super) participant: LocalParticipant,
    /// The sid of the agent's voice track (`lk.transcribed_track_id` of its transcripts).
    pub(super) voice_track_sid: String,
    pub(super) linked: watch::Receiver<Option<Linked>>,
    pub(super) playout: mpsc::UnboundedReceiver<Playout>,
}

/// Waits for the session, then mirrors it in the room until it closes.
pub(super) async fn publish_session(
    mut mirror: Mirror,
    mut sessions: watch::Receiver<Option<AgentSession>>,
) {
    let Some(session) = session_of(&mut sessions).await else { return };
    let mut events = session.subscribe();
    let mut user = UserTranscripts::default();
    let mut agent = AgentTranscript::new(mirror.voice_track_sid.clone());
    // The state it reached before this task subscribed (subscribed first, so none is lost).
    set_agent_state(&mirror.participant, session.agent_state()).await;
    // The output is dropped when the session does not speak (it has no TTS).
    let mut playing = true;
    loop {
        let next_word = agent.next_release();
        tokio::select! {
            // The playout first: a segment's end is known before the message it commits.
            biased;
            playout = mirror.playout.recv(), if playing => match playout {
                Some(playout) => agent.on_playout(&mirror.participant, playout).await,
                None => playing = false,
            },
            () = sleep_until(next_word) => agent.release(&mirror.participant, Instant::now()).await,
            event = events.recv() => match event {
                Ok(SessionEvent::AgentStateChanged { new_state, .. }) => {
                    set_agent_state(&mirror.participant, new_state).await;
                }
                Ok(SessionEvent::UserInputTranscribed { transcript, is_final }) => {
                    let linked = mirror.linked.borrow().clone();
                    user.send(&mirror.participant, linked.as_ref(), &transcript, is_final).await;
                }
                Ok(SessionEvent::ConversationItemAdded { item: ChatItem::Message(message) })
                    if message.role == ChatRole::Assistant =>
                {
                    agent.on_message(&mirror.participant, &message.id, &message.text()).await;
                }
                Ok(SessionEvent::Close { .. }) | Err(broadcast::error::RecvError::Closed) => {
                    agent.close(&mirror.participant).await;
                    return;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!("room IO missed {missed} session events");
                }
            },
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn set_agent_state(participant: &LocalParticipant, state: AgentState) {
    let state = agent_state_name(state);
    let attributes = HashMap::from([(ATTRIBUTE_AGENT_STATE.to_owned(), state.to_owned())]);
    if let Err(error) = participant.set_attributes(attributes).await {
        tracing::warn!("lk.agent.state could not be set: {error}");
    }
}

fn agent_state_name(state: AgentState) -> &'static str {
    match state {
        AgentState::Initializing => "initializing",
        AgentState::Listening => "listening",
        AgentState::Thinking => "thinking",
        AgentState::Speaking => "speaking",
    }
}

/// A fresh segment id (`SG_…`), unique in the process.
fn segment_id(kind: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("SG_{kind}_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn final_attribute(is_final: bool) -> &'static str {
    if is_final { "true" } else { "false" }
}

/// The user's transcripts: each interim and the final one of a segment sent whole, under the
/// linked participant's identity, with its microphone track's sid (as Python does).
#[derive(Default)]
struct UserTranscripts {
    segment: Option<String>,
}

impl UserTranscripts {
    async fn send(
        &mut self,
        participant: &LocalParticipant,
        linked: Option<&Linked>,
        transcript: &str,
        is_final: bool,
    ) {
        let segment = self.segment.get_or_insert_with(|| segment_id("user")).clone();
        if is_final {
            self.segment = None;
        }
        let mut options = StreamTextOptions::topic(TOPIC_TRANSCRIPTION)
            .attribute(ATTRIBUTE_TRANSCRIPTION_FINAL, final_attribute(is_final))
            .attribute(ATTRIBUTE_SEGMENT_ID, segment);
        if let Some(linked) = linked {
            options = options.on_behalf_of(linked.identity.clone());
            if let Some(track_sid) = &linked.track_sid {
                options = options.attribute(ATTRIBUTE_TRANSCRIBED_TRACK_ID, track_sid.clone());
            }
        }
        if let Err(error) = participant.send_text(transcript, &options).await {
            tracing::warn!("the user's transcript could not be published: {error}");
        }
    }
}

/// The agent's transcript of the segment being played, released as it is heard.
struct AgentTranscript {
    voice_track_sid: String,
    /// When the segment's audio started playing.
    started: Option<Instant>,
    /// Its words, released as they are heard.
    words: Timeline,
    /// The open stream, once a word was released.
    writer: Option<TextStreamWriter>,
    segment: String,
    /// The message the segment speaks (its item id).
    item: Option<String>,
    /// The messages whose words were shown (the last few: a message not added to the history
    /// leaves its id here until it is pushed out). Their messages need no more.
    voiced: VecDeque<String>,
}

/// How many voiced messages are remembered until the session adds them (it adds each right
/// after its segment ends).
const VOICED_KEPT: usize = 16;

impl AgentTranscript {
    fn new(voice_track_sid: String) -> Self {
        Self {
            voice_track_sid,
            started: None,
            words: Timeline::default(),
            writer: None,
            segment: segment_id("agent"),
            item: None,
            voiced: VecDeque::new(),
        }
    }

    /// When the next word is due, if the segment is playing.
    fn next_release(&self) -> Option<Instant> {
        Some(self.started? + self.words.next_due()?)
    }

    async fn on_playout(&mut self, participant: &LocalParticipant, playout: Playout) {
        match playout {
            Playout::Segment(item) => self.item = Some(item),
            Playout::Started(at) => self.started = Some(at),
            Playout::Words(words) => self.words.add(words),
            Playout::Ended(finished) => self.end(participant, finished).await,
        }
    }

    /// Sends the words whose end has played by `now`.
    async fn release(&mut self, participant: &LocalParticipant, now: Instant) {
        let Some(started) = self.started else { return };
        let position = now.saturating_duration_since(started);
        self.release_through(participant, position).await;
    }

    async fn release_through(&mut self, participant: &LocalParticipant, position: Duration) {
        let text = self.words.take_through(position);
        if text.is_empty() {
            return;
        }
        if self.writer.is_none() {
            let options = StreamTextOptions::topic(TOPIC_TRANSCRIPTION)
                .attribute(ATTRIBUTE_TRANSCRIPTION_FINAL, "false")
                .attribute(ATTRIBUTE_SEGMENT_ID, self.segment.clone())
                .attribute(ATTRIBUTE_TRANSCRIBED_TRACK_ID, self.voice_track_sid.clone());
            match participant.stream_text(&options).await {
                Ok(writer) => self.writer = Some(writer),
                Err(error) => {
                    tracing::warn!("the agent's transcript could not be published: {error}");
                    return;
                }
            }
        }
        if let Some(writer) = &self.writer
            && let Err(error) = writer.write(&text).await
        {
            tracing::warn!("the agent's transcript could not be published: {error}");
        }
    }

    /// The segment ended: its heard words are sent, its stream closed as final.
    async fn end(&mut self, participant: &LocalParticipant, finished: PlaybackFinished) {
        if self.started.is_some() {
            // All its audio played (not cut short): all the words given with it were heard,
            // even those an estimate timed past its end (the session's history keeps them too).
            let heard = if finished.interrupted { finished.position } else { Duration::MAX };
            self.release_through(participant, heard).await;
        }
        let item = self.item.take();
        if let Some(item) = item
            && self.writer.is_some()
        {
            if self.voiced.len() == VOICED_KEPT {
                self.voiced.pop_front();
            }
            self.voiced.push_back(item);
        }
        self.close(participant).await;
        self.started = None;
        self.words = Timeline::default();
        self.segment = segment_id("agent");
    }

    /// Closes the open stream, as final.
    async fn close(&mut self, _participant: &LocalParticipant) {
        let Some(writer) = self.writer.take() else { return };
        let attributes = HashMap::from([
            (ATTRIBUTE_TRANSCRIPTION_FINAL.to_owned(), "true".to_owned()),
            (ATTRIBUTE_TRANSCRIBED_TRACK_ID.to_owned(), self.voice_track_sid.clone()),
        ]);
        if let Err(error) = writer.close(attributes).await {
            tracing::warn!("the agent's transcript could not be closed: {error}");
        }
    }

    /// The session added the agent's message `item`: shown already if its segment was
    /// voiced, else sent whole now (a reply with no audio).
    async fn on_message(&mut self, participant: &LocalParticipant, item: &str, text: &str) {
        if let Some(at) = self.voiced.iter().position(|voiced| voiced == item) {
            self.voiced.remove(at);
            return;
        }
        if text.trim().is_empty() {
            return;
        }
        let options = StreamTextOptions::topic(TOPIC_TRANSCRIPTION)
            .attribute(ATTRIBUTE_TRANSCRIPTION_FINAL, "true")
            .attribute(ATTRIBUTE_SEGMENT_ID, segment_id("agent"));
        if let Err(error) = participant.send_text(text, &options).await {
            tracing::warn!("the agent's transcript could not be published: {error}");
        }
    }
}

/// A segment's words on its playout clock, released in order of their end.
#[derive(Debug, Default)]
struct Timeline {
    words: Vec<TimedString>,
    /// How many are released.
    released: usize,
    /// Whether the text released so far ends with whitespace (`None`: nothing released;
    /// trailing whitespace is held back, so it is `Some(false)` once a word is out).
    tail_is_space: Option<bool>,
}

impl Timeline {
    fn add(&mut self, words: Vec<TimedString>) {
        self.words.extend(words);
        // Kept in order of their end (a TTS may time a segment's words out of order).
        self.words[self.released..].sort_by(|a, b| a.end_time.total_cmp(&b.end_time));
    }

    /// When the next word is due, from the start of the segment.
    fn next_due(&self) -> Option<Duration> {
        self.words.get(self.released).map(|word| seconds(word.end_time))
    }

    /// The text of the words not released yet that end by `position`, spaced as a
    /// transcript reads (words given without their spaces are joined by one).
    fn take_through(&mut self, position: Duration) -> String {
        let mut text = String::new();
        while let Some(word) = self.words.get(self.released) {
            if seconds(word.end_time) > position {
                break;
            }
            self.released += 1;
            if word.text.trim().is_empty() {
                continue;
            }
            if self.tail_is_space == Some(false) && !word.text.starts_with(char::is_whitespace) {
                text.push(' ');
            }
            // A word's trailing space is held back until the next word comes, so a
            // transcript never ends with one (it reads as the message does).
            text.push_str(word.text.trim_end());
            self.tail_is_space = Some(false);
        }
        text
    }
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start: f64, end: f64) -> TimedString {
        TimedString::new(text, start, end)
    }

    #[test]
    fn words_are_released_once_their_end_has_played() {
        let mut timeline = Timeline::default();
        timeline.add(vec![word("Hi ", 0.0, 0.06), word("there, ", 0.06, 0.2)]);
        timeline.add(vec![word("friend.", 0.2, 0.34)]);
        assert_eq!(timeline.next_due(), Some(Duration::from_millis(60)));
        assert_eq!(timeline.take_through(Duration::from_millis(59)), "");
        // A word's trailing space comes with the next word: the text never ends with one.
        assert_eq!(timeline.take_through(Duration::from_millis(60)), "Hi");
        assert_eq!(timeline.take_through(Duration::from_millis(300)), " there,");
        assert_eq!(timeline.next_due(), Some(Duration::from_millis(340)));
        // Interrupted at 0.3 s: "friend." was not heard, and is never released.
        assert_eq!(timeline.take_through(Duration::from_millis(300)), "");
    }

    #[test]
    fn words_given_without_spaces_are_joined_by_one() {
        let mut timeline = Timeline::default();
        timeline.add(vec![word("Hello", 0.0, 0.1), word(" ", 0.1, 0.1), word("world", 0.1, 0.2)]);
        timeline.add(vec![word("again.", 0.3, 0.4), word("Bye", 0.2, 0.25)]);
        assert_eq!(timeline.take_through(Duration::from_millis(100)), "Hello");
        // Released across calls, still spaced; out-of-order timings released by their end.
        assert_eq!(timeline.take_through(Duration::from_secs(1)), " world Bye again.");
    }
}
