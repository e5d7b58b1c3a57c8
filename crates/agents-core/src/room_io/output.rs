//! The agent's voice in the room: a published track fed from the session's audio output,
//! with the playout clock the agent's transcript is synchronized to.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{Notify, mpsc};

use agents_rtc::{AudioSource, LocalAudioTrack};

use crate::audio::{AudioFrame, Resampler};
use crate::types::TimedString;
use crate::voice::{AudioOutput, PlaybackFinished};

/// The output a room gives its session before room IO is attached. Until room IO plugs its
/// voice track in, the agent's audio waits (as Python's room output waits for its track):
/// a greeting started before `ctx.connect()` is heard once the room is joined, not dropped.
/// A clear (an interruption) releases the waiting audio, dropped; so does
/// [`release`](Self::release) (the job ends without a room) for good.
#[derive(Default)]
pub(crate) struct DeferredOutput {
    target: std::sync::OnceLock<Arc<dyn AudioOutput>>,
    /// No room will come: audio is dropped.
    released: std::sync::atomic::AtomicBool,
    /// Plugged, cleared or released.
    wake: Notify,
    /// Cleared before the target was plugged: the segment's playout ends interrupted.
    cleared: std::sync::atomic::AtomicBool,
    /// Segment starts and words given before the target was plugged (they come before their
    /// frames): forwarded in order when it is, dropped with the waiting audio on a clear or
    /// the release.
    pending_words: Mutex<Vec<Pending>>,
}

/// What waits for the target besides audio.
enum Pending {
    Segment(String),
    Words(Vec<TimedString>),
}

impl DeferredOutput {
    pub(super) fn plug(&self, output: Arc<dyn AudioOutput>) {
        let _ = self.target.set(output);
        drop(self.forward_pending_words());
        self.wake.notify_waiters();
    }

    /// Forwards the segment starts and words that waited for the target, in order (under
    /// the lock, so those given meanwhile come after them).
    fn forward_pending_words(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        let mut pending = self.pending_words.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(target) = self.target.get() {
            for waiting in pending.drain(..) {
                match waiting {
                    Pending::Segment(item_id) => target.begin_segment(&item_id),
                    Pending::Words(words) => target.capture_words(&words),
                }
            }
        }
        pending
    }

    /// No room will be attached (the job ends): waiting and later audio is dropped.
    pub(crate) fn release(&self) {
        self.released.store(true, std::sync::atomic::Ordering::Release);
        self.pending_words.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.wake.notify_waiters();
    }

    fn is_released(&self) -> bool {
        self.released.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The target, once plugged; `None` when a clear or the release came first.
    async fn target(&self) -> Option<&Arc<dyn AudioOutput>> {
        if self.target.get().is_none() && !self.is_released() {
            let wake = self.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            if self.target.get().is_none() && !self.is_released() {
                wake.await;
            }
        }
        self.target.get()
    }
}

#[async_trait]
impl AudioOutput for DeferredOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        if let Some(target) = self.target().await {
            target.capture_frame(frame).await;
        }
    }

    fn flush(&self) {
        if let Some(target) = self.target.get() {
            target.flush();
        }
    }

    fn clear_buffer(&self) {
        match self.target.get() {
            Some(target) => target.clear_buffer(),
            None => {
                self.pending_words.lock().unwrap_or_else(PoisonError::into_inner).clear();
                self.cleared.store(true, std::sync::atomic::Ordering::Release);
                self.wake.notify_waiters();
            }
        }
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        match self.target.get() {
            Some(target) => target.wait_for_playout().await,
            // Nothing was played; the segment ends here, cut short if it was cleared.
            None => PlaybackFinished::new(
                Duration::ZERO,
                self.cleared.swap(false, std::sync::atomic::Ordering::AcqRel),
            ),
        }
    }

    fn capture_words(&self, words: &[TimedString]) {
        let mut pending = self.forward_pending_words();
        match self.target.get() {
            Some(target) => target.capture_words(words),
            None if self.is_released() => {}
            None => pending.push(Pending::Words(words.to_vec())),
        }
    }

    fn begin_segment(&self, item_id: &str) {
        let mut pending = self.forward_pending_words();
        match self.target.get() {
            Some(target) => target.begin_segment(item_id),
            None if self.is_released() => {}
            None => pending.push(Pending::Segment(item_id.to_owned())),
        }
    }
}

/// What the playout of the agent's voice tells the transcript synchronizer.
#[derive(Debug)]
pub(super) enum Playout {
    /// A segment speaking the message `String` (its item id) begins.
    Segment(String),
    /// A segment's first frame was queued: its audio plays from `Instant` on.
    Started(Instant),
    /// Words the segment speaks, timed from its start.
    Words(Vec<TimedString>),
    /// The segment ended: played out, or cleared (interrupted).
    Ended(PlaybackFinished),
}

/// The agent's voice, published as a track: frames go to the source's queue (which waits
/// while it is full), a clear empties it.
pub(super) struct RoomAudioOutput {
    source: AudioSource,
    /// Kept so the published track lives as long as the output.
    _track: LocalAudioTrack,
    state: Mutex<Segment>,
    cleared: Notify,
    playout: mpsc::UnboundedSender<Playout>,
}

/// The segment being played.
#[derive(Default)]
struct Segment {
    /// When its first frame was queued.
    started: Option<Instant>,
    /// How much audio it has.
    queued: Duration,
    cleared: bool,
    /// What the resampler held back at the segment's end, to queue before its playout ends.
    tail: Vec<i16>,
    /// The segment's audio at the source's rate.
    converter: Converter,
}

/// The session's audio as mono at the source's rate, one segment at a time. A resampler
/// holds back its look-ahead (about 1 ms): the segment's end pushes it out
/// ([`finish`](Self::finish)), so the last words of a reply are neither lost nor played at the
/// start of the next one, and an interruption drops it ([`clear`](Self::clear)).
#[derive(Default)]
struct Converter {
    resampler: Option<Resampler>,
}

impl Converter {
    /// `frame` as mono at `rate`, less what the resampler holds back.
    fn convert(&mut self, frame: &AudioFrame, rate: u32) -> Vec<i16> {
        let mono = frame.to_mono();
        if mono.sample_rate() == rate {
            return mono.data().to_vec();
        }
        let resampler = match self.resampler.take() {
            Some(resampler)
                if resampler.input_rate() == mono.sample_rate()
                    && resampler.output_rate() == rate =>
            {
                resampler
            }
            _ => match Resampler::new(mono.sample_rate(), rate) {
                Ok(resampler) => resampler,
                Err(error) => {
                    tracing::warn!("the agent's audio cannot be resampled: {error}");
                    return Vec::new();
                }
            },
        };
        let mut out = Vec::new();
        self.resampler.insert(resampler).process_i16(mono.data(), &mut out);
        to_i16(out)
    }

    /// The segment ended: what the resampler held back.
    fn finish(&mut self) -> Vec<i16> {
        let mut out = Vec::new();
        if let Some(resampler) = self.resampler.as_mut() {
            // Flushing also resets it for the next segment.
            resampler.flush(&mut out);
        }
        to_i16(out)
    }

    /// The segment was cut short: what the resampler held back is dropped.
    fn clear(&mut self) {
        if let Some(resampler) = self.resampler.as_mut() {
            resampler.reset();
        }
    }
}

fn to_i16(samples: Vec<f32>) -> Vec<i16> {
    samples.into_iter().map(|s| s.round().clamp(-32768.0, 32767.0) as i16).collect()
}

impl RoomAudioOutput {
    pub(super) fn new(
        source: AudioSource,
        track: LocalAudioTrack,
        playout: mpsc::UnboundedSender<Playout>,
    ) -> Self {
        Self {
            source,
            _track: track,
            state: Mutex::new(Segment::default()),
            cleared: Notify::new(),
            playout,
        }
    }

    fn segment(&self) -> std::sync::MutexGuard<'_, Segment> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `frame` as mono at the source's rate.
    fn convert(&self, frame: &AudioFrame) -> Vec<i16> {
        let rate = self.source.sample_rate();
        self.segment().converter.convert(frame, rate)
    }

    /// Queues `samples` (at the source's rate) on the source.
    async fn publish(&self, samples: Vec<i16>) {
        let frame = agents_rtc::AudioFrame::new(samples, self.source.sample_rate(), 1);
        if let Err(error) = self.source.capture_frame(&frame).await {
            tracing::warn!("the agent's audio could not be published: {error}");
        }
    }
}

#[async_trait]
impl AudioOutput for RoomAudioOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        if frame.duration().is_zero() {
            return;
        }
        // A frame shorter than the resampler's look-ahead comes out with the next one (or the
        // segment's tail): its time is counted now all the same, or the playout would end
        // before its audio.
        let samples = self.convert(&frame);
        {
            let mut segment = self.segment();
            if segment.started.is_none() {
                let now = Instant::now();
                segment.started = Some(now);
                let _ = self.playout.send(Playout::Started(now));
            }
            segment.queued += frame.duration();
        }
        if !samples.is_empty() {
            self.publish(samples).await;
        }
    }

    fn flush(&self) {
        // The resampler's look-ahead is pushed out by `wait_for_playout`, which may await
        // the source; its duration is already in `queued` (the input's).
        let mut segment = self.segment();
        let tail = segment.converter.finish();
        if !tail.is_empty() {
            segment.tail = tail;
        }
    }

    fn clear_buffer(&self) {
        if let Err(error) = self.source.clear_queue() {
            tracing::warn!("the agent's queued audio could not be cleared: {error}");
        }
        {
            let mut segment = self.segment();
            segment.cleared = true;
            segment.tail.clear();
            segment.converter.clear();
        }
        self.cleared.notify_waiters();
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        // The source plays its queue in real time from the first frame: the segment ends
        // when its audio has had the time to play, or when it is cleared.
        let tail = {
            let mut segment = self.segment();
            let tail = std::mem::take(&mut segment.tail);
            if !tail.is_empty() && segment.started.is_none() {
                // A segment shorter than the look-ahead starts with its tail.
                let now = Instant::now();
                segment.started = Some(now);
                let _ = self.playout.send(Playout::Started(now));
            }
            tail
        };
        if !tail.is_empty() {
            self.publish(tail).await;
        }
        let cleared = self.cleared.notified();
        let end = {
            let segment = self.segment();
            if segment.cleared {
                None
            } else {
                segment.started.map(|started| started + segment.queued)
            }
        };
        if let Some(end) = end {
            tokio::select! {
                () = tokio::time::sleep_until(end.into()) => {}
                () = cleared => {}
            }
        }
        let mut segment = self.segment();
        let played = segment.started.map_or(Duration::ZERO, |started| started.elapsed());
        let played = played.min(segment.queued);
        // A clear after the last frame played cut nothing short.
        let interrupted = segment.cleared && played < segment.queued;
        let finished = PlaybackFinished::new(played, interrupted);
        *segment =
            Segment { converter: std::mem::take(&mut segment.converter), ..Segment::default() };
        // Sent under the lock, so the next segment's start comes after this end.
        let _ = self.playout.send(Playout::Ended(finished));
        finished
    }

    fn capture_words(&self, words: &[TimedString]) {
        let _ = self.playout.send(Playout::Words(words.to_vec()));
    }

    fn begin_segment(&self, item_id: &str) {
        let _ = self.playout.send(Playout::Segment(item_id.to_owned()));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod deferred_output_tests {
    use super::*;
    use crate::testing::{FakeAudioOutput, tone};

    #[tokio::test]
    async fn audio_before_the_room_waits_for_it_and_a_clear_releases_it() {
        let deferred = Arc::new(DeferredOutput::default());
        let frame = tone(Duration::from_millis(20), 440.0, 24_000).remove(0);

        // Captured before room IO plugs in: the frame waits …
        let waiting = tokio::spawn({
            let deferred = deferred.clone();
            let frame = frame.clone();
            async move { deferred.capture_frame(frame).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the greeting must wait for the room, not be dropped");
        // … and plays once it does.
        let target = Arc::new(FakeAudioOutput::instant());
        deferred.plug(target.clone());
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(target.frames().len(), 1);

        // Without a room, a clear (an interruption) releases the waiting audio, dropped; a
        // release (the job ends unconnected) drops what waits and what comes after.
        let unplugged = Arc::new(DeferredOutput::default());
        let capture = |frame: AudioFrame| {
            let unplugged = unplugged.clone();
            tokio::spawn(async move { unplugged.capture_frame(frame).await })
        };
        let waiting = capture(frame.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        unplugged.clear_buffer();
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        let waiting = capture(frame.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        unplugged.release();
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(5), capture(frame)).await.unwrap().unwrap();
    }

    /// Records the words it is given.
    #[derive(Default)]
    struct Words(Mutex<Vec<String>>);

    #[async_trait]
    impl AudioOutput for Words {
        async fn capture_frame(&self, _frame: AudioFrame) {}
        fn flush(&self) {}
        fn clear_buffer(&self) {}
        async fn wait_for_playout(&self) -> PlaybackFinished {
            PlaybackFinished::new(Duration::ZERO, false)
        }
        fn capture_words(&self, words: &[TimedString]) {
            self.0.lock().unwrap().extend(words.iter().map(|word| word.text.clone()));
        }
        fn begin_segment(&self, item_id: &str) {
            self.0.lock().unwrap().push(format!("[{item_id}]"));
        }
    }

    fn timed(text: &str) -> TimedString {
        TimedString { text: text.to_owned(), ..TimedString::default() }
    }

    #[test]
    fn words_given_before_the_room_are_forwarded_when_it_comes_and_dropped_on_a_clear() {
        let deferred = DeferredOutput::default();
        deferred.begin_segment("item_1");
        deferred.capture_words(&[timed("Hello"), timed("there")]);
        let target = Arc::new(Words::default());
        deferred.plug(target.clone());
        deferred.capture_words(&[timed("friend")]);
        deferred.begin_segment("item_2");
        // In order: the segment's start (which message it speaks) before its words.
        assert_eq!(*target.0.lock().unwrap(), ["[item_1]", "Hello", "there", "friend", "[item_2]"]);

        let cleared = DeferredOutput::default();
        cleared.begin_segment("item_3");
        cleared.capture_words(&[timed("Interrupted")]);
        cleared.clear_buffer();
        let target = Arc::new(Words::default());
        cleared.plug(target.clone());
        assert!(target.0.lock().unwrap().is_empty());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod converter_tests {
    use super::*;

    fn frames(rate: u32, millis: u32, value: i16) -> Vec<AudioFrame> {
        let per_frame = (rate / 100) as usize;
        (0..millis / 10)
            .map(|_| AudioFrame::new(vec![value; per_frame], rate, 1).unwrap())
            .collect()
    }

    #[test]
    fn a_resampled_segment_comes_out_whole_at_its_end() {
        let mut converter = Converter::default();
        let mut out = Vec::new();
        for frame in frames(16_000, 300, 8_000) {
            out.extend(converter.convert(&frame, 24_000));
        }
        let held_back = 300 * 24 - out.len();
        assert!(held_back > 0, "a resampler holds back its look-ahead");
        out.extend(converter.finish());
        assert_eq!(out.len(), 300 * 24, "300 ms at 24 kHz, the look-ahead included");
        // The end is the segment's own audio, not silence or the next segment's.
        // (It fades towards the silence taken to follow the end, half way at the very end.)
        assert!(out[out.len() - held_back..].iter().all(|&s| s > 3_000), "{out:?}");
        // The next segment starts fresh: no leftover of this one before its first sample
        // (a resampler's ringing at the step from silence stays far below it).
        let next: Vec<i16> =
            frames(16_000, 100, -8_000).iter().flat_map(|f| converter.convert(f, 24_000)).collect();
        assert!(next.iter().all(|&s| s < 1_000), "{next:?}");
    }

    #[test]
    fn an_interrupted_segment_leaves_nothing_for_the_next() {
        let mut converter = Converter::default();
        for frame in frames(16_000, 100, 8_000) {
            converter.convert(&frame, 24_000);
        }
        converter.clear();
        assert!(converter.finish().is_empty());
        let next: Vec<i16> =
            frames(16_000, 100, -8_000).iter().flat_map(|f| converter.convert(f, 24_000)).collect();
        assert!(next.iter().all(|&s| s < 1_000), "{next:?}");
    }

    #[test]
    fn audio_at_the_source_rate_passes_through() {
        let mut converter = Converter::default();
        let out: Vec<i16> =
            frames(24_000, 50, 1_234).iter().flat_map(|f| converter.convert(f, 24_000)).collect();
        assert_eq!(out, vec![1_234; 50 * 24]);
        assert!(converter.finish().is_empty());
    }
}
