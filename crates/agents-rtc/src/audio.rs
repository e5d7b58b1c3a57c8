//! Audio in and out of a room: [`AudioFrame`], [`AudioSource`] (what a local track plays)
//! and [`AudioStream`] (the PCM of a remote track).

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::client::{self, check, unexpected};
use crate::dispatch;
use crate::error::RtcError;
use crate::participant::RemoteParticipant;
use crate::proto::{
    self, FfiOwnedHandle, audio_stream_event, ffi_event, ffi_request, ffi_response,
};
use crate::sys;
use crate::track::{RemoteTrack, TrackSource};

/// Interleaved 16-bit PCM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudioFrame {
    /// The samples, interleaved by channel.
    pub data: Vec<i16>,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub num_channels: u32,
    /// Samples per channel (`data.len() / num_channels`).
    pub samples_per_channel: u32,
}

impl AudioFrame {
    /// A frame of `data`, interleaved over `num_channels`.
    pub fn new(data: Vec<i16>, sample_rate: u32, num_channels: u32) -> Self {
        let samples_per_channel = data.len() / num_channels.max(1) as usize;
        Self {
            data,
            sample_rate,
            num_channels,
            samples_per_channel: u32::try_from(samples_per_channel).unwrap_or(u32::MAX),
        }
    }

    /// The frame's length in seconds.
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(
            f64::from(self.samples_per_channel) / f64::from(self.sample_rate.max(1)),
        )
    }
}

/// Options of [`AudioSource::new`], with Python's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudioSourceOptions {
    /// How much audio the source buffers ahead of real time: [`AudioSource::capture_frame`]
    /// waits while the buffer is full (Python's `queue_size_ms`, 1000).
    pub queue_size_ms: u32,
    /// WebRTC's echo cancellation on this source (off).
    pub echo_cancellation: bool,
    /// WebRTC's noise suppression on this source (off).
    pub noise_suppression: bool,
    /// WebRTC's automatic gain control on this source (off).
    pub auto_gain_control: bool,
}

impl Default for AudioSourceOptions {
    fn default() -> Self {
        Self {
            queue_size_ms: 1000,
            echo_cancellation: false,
            noise_suppression: false,
            auto_gain_control: false,
        }
    }
}

/// A source of PCM for a local audio track (Python's `rtc.AudioSource`).
///
/// Clones share the source.
#[derive(Debug, Clone)]
pub struct AudioSource {
    inner: Arc<SourceInner>,
}

#[derive(Debug)]
struct SourceInner {
    handle: FfiOwnedHandle,
    sample_rate: u32,
    num_channels: u32,
}

impl AudioSource {
    /// A source of `sample_rate` Hz, `num_channels` channels.
    pub fn new(
        sample_rate: u32,
        num_channels: u32,
        options: AudioSourceOptions,
    ) -> Result<Self, RtcError> {
        if sample_rate == 0 || num_channels == 0 {
            return Err(RtcError::InvalidArgument {
                what: "audio source format",
                problem: format!(
                    "{sample_rate} Hz, {num_channels} channels: both must be above 0 \
                     (e.g. 48000 Hz, 1 channel)"
                ),
            });
        }
        let message = ffi_request::Message::NewAudioSource(proto::NewAudioSourceRequest {
            r#type: proto::AudioSourceType::AudioSourceNative as i32,
            options: Some(proto::AudioSourceOptions {
                echo_cancellation: options.echo_cancellation,
                noise_suppression: options.noise_suppression,
                auto_gain_control: options.auto_gain_control,
            }),
            sample_rate: Some(sample_rate),
            num_channels: Some(num_channels),
            queue_size_ms: Some(options.queue_size_ms),
        });
        match client::request("new_audio_source", message)? {
            ffi_response::Message::NewAudioSource(response) => Ok(Self {
                inner: Arc::new(SourceInner {
                    handle: response.source.handle,
                    sample_rate,
                    num_channels,
                }),
            }),
            _ => Err(unexpected("new_audio_source")),
        }
    }

    /// The source's sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.inner.sample_rate
    }

    /// The source's channel count.
    pub fn num_channels(&self) -> u32 {
        self.inner.num_channels
    }

    pub(crate) fn handle_id(&self) -> u64 {
        self.inner.handle.id
    }

    /// Queues `frame` for playout. Waits while the source's buffer is full (back-pressure):
    /// it returns once the frame is in the buffer. The frame must have the source's format.
    pub async fn capture_frame(&self, frame: &AudioFrame) -> Result<(), RtcError> {
        if frame.sample_rate != self.inner.sample_rate
            || frame.num_channels != self.inner.num_channels
        {
            return Err(RtcError::InvalidArgument {
                what: "audio frame",
                problem: format!(
                    "{} Hz, {} channels, but the source takes {} Hz, {} channels: resample first",
                    frame.sample_rate,
                    frame.num_channels,
                    self.inner.sample_rate,
                    self.inner.num_channels
                ),
            });
        }
        let expected = frame.samples_per_channel as usize * frame.num_channels as usize;
        if frame.data.len() != expected {
            return Err(RtcError::InvalidArgument {
                what: "audio frame",
                problem: format!(
                    "{} samples, but {} per channel × {} channels is {expected}",
                    frame.data.len(),
                    frame.samples_per_channel,
                    frame.num_channels
                ),
            });
        }
        if frame.data.is_empty() {
            return Ok(());
        }
        if let Some(message) = dispatch::dispatcher().fatal() {
            return Err(RtcError::Fatal { message });
        }
        let library = client::library()?;
        let waiter = client::Waiter::new("capture_audio_frame");
        let response = sys::capture_audio_frame(
            library,
            self.inner.handle.id,
            &frame.data,
            frame.sample_rate,
            frame.num_channels,
            waiter.async_id(),
        );
        match client::answer("capture_audio_frame", response)? {
            ffi_response::Message::CaptureAudioFrame(_) => {}
            _ => return Err(unexpected("capture_audio_frame")),
        }
        match waiter.wait().await? {
            ffi_event::Message::CaptureAudioFrame(callback) => {
                check("capture_audio_frame", callback.error)
            }
            _ => Err(unexpected("capture_audio_frame")),
        }
    }

    /// Drops the audio buffered and not played yet (on interruption).
    pub fn clear_queue(&self) -> Result<(), RtcError> {
        let message = ffi_request::Message::ClearAudioBuffer(proto::ClearAudioBufferRequest {
            source_handle: self.inner.handle.id,
        });
        match client::request("clear_audio_buffer", message)? {
            ffi_response::Message::ClearAudioBuffer(_) => Ok(()),
            _ => Err(unexpected("clear_audio_buffer")),
        }
    }
}

/// Options of an [`AudioStream`], with Python's defaults: 48 kHz mono, the library's frame
/// size (10 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudioStreamOptions {
    /// The frames' sample rate; the library resamples (48000).
    pub sample_rate: u32,
    /// The frames' channels; the library remixes (1).
    pub num_channels: u32,
    /// The frames' length in milliseconds; `None` for the library's (10 ms).
    pub frame_size_ms: Option<u32>,
    /// How many frames the library queues before dropping the oldest; `None` for its
    /// default.
    pub queue_size_frames: Option<u32>,
}

impl Default for AudioStreamOptions {
    fn default() -> Self {
        Self { sample_rate: 48_000, num_channels: 1, frame_size_ms: None, queue_size_frames: None }
    }
}

/// The PCM of a remote audio track (Python's `rtc.AudioStream`).
#[derive(Debug)]
pub struct AudioStream {
    handle: FfiOwnedHandle,
    frames: mpsc::UnboundedReceiver<proto::AudioStreamEvent>,
}

impl AudioStream {
    /// The frames of `track`.
    pub fn from_track(track: &RemoteTrack, options: AudioStreamOptions) -> Result<Self, RtcError> {
        let message = ffi_request::Message::NewAudioStream(proto::NewAudioStreamRequest {
            track_handle: track.handle_id(),
            r#type: proto::AudioStreamType::AudioStreamNative as i32,
            sample_rate: Some(options.sample_rate),
            num_channels: Some(options.num_channels),
            frame_size_ms: options.frame_size_ms,
            queue_size_frames: options.queue_size_frames,
        });
        Self::open("new_audio_stream", message, |response| match response {
            ffi_response::Message::NewAudioStream(response) => Some(response.stream),
            _ => None,
        })
    }

    /// The frames of `participant`'s track from `source` (e.g. the microphone), following
    /// the participant as it unpublishes and republishes it.
    pub fn from_participant(
        participant: &RemoteParticipant,
        source: TrackSource,
        options: AudioStreamOptions,
    ) -> Result<Self, RtcError> {
        let message = ffi_request::Message::AudioStreamFromParticipant(
            proto::AudioStreamFromParticipantRequest {
                participant_handle: participant.handle_id(),
                r#type: proto::AudioStreamType::AudioStreamNative as i32,
                track_source: Some(source.to_proto() as i32),
                sample_rate: Some(options.sample_rate),
                num_channels: Some(options.num_channels),
                frame_size_ms: options.frame_size_ms,
                queue_size_frames: options.queue_size_frames,
            },
        );
        Self::open("audio_stream_from_participant", message, |response| match response {
            ffi_response::Message::AudioStreamFromParticipant(response) => Some(response.stream),
            _ => None,
        })
    }

    fn open(
        name: &'static str,
        message: ffi_request::Message,
        stream: impl FnOnce(ffi_response::Message) -> Option<proto::OwnedAudioStream>,
    ) -> Result<Self, RtcError> {
        let response = client::request(name, message)?;
        let owned = stream(response).ok_or_else(|| unexpected(name))?;
        let (sender, frames) = mpsc::unbounded_channel();
        // Frames the library sends before this line (a few milliseconds' worth at most) have
        // no route yet and are dropped.
        dispatch::dispatcher().register_audio_stream(owned.handle.id, sender);
        Ok(Self { handle: owned.handle, frames })
    }

    /// The next frame; `None` once the track ended (or the room closed).
    pub async fn next(&mut self) -> Option<AudioFrame> {
        loop {
            let event = self.frames.recv().await?;
            match event.message {
                Some(audio_stream_event::Message::FrameReceived(received)) => {
                    let frame = received.frame;
                    let data = sys::read_samples(&frame.handle, &frame.info);
                    // The library's buffer is released here, once copied.
                    drop(frame.handle);
                    return Some(AudioFrame {
                        data,
                        sample_rate: frame.info.sample_rate,
                        num_channels: frame.info.num_channels,
                        samples_per_channel: frame.info.samples_per_channel,
                    });
                }
                Some(audio_stream_event::Message::Eos(_)) => {
                    self.frames.close();
                    return None;
                }
                None => continue,
            }
        }
    }
}

impl Drop for AudioStream {
    fn drop(&mut self) {
        dispatch::dispatcher().unregister_audio_stream(self.handle.id);
    }
}
