//! `AudioFrame`: interleaved i16 PCM with its sample rate and channel count.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Invalid audio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// A frame needs a sample rate above zero.
    #[error("the sample rate must be above 0 Hz")]
    ZeroSampleRate,
    /// A frame needs at least one channel.
    #[error("an audio frame needs at least one channel")]
    ZeroChannels,
    /// The sample count is not a multiple of the channel count.
    #[error("{samples} interleaved samples cannot be split into {channels} channels")]
    RaggedChannels {
        /// Samples given.
        samples: usize,
        /// Channels declared.
        channels: u16,
    },
    /// Frames of different formats cannot be joined.
    #[error(
        "cannot join audio of {found_rate} Hz × {found_channels} channel(s) to audio of \
         {expected_rate} Hz × {expected_channels}; resample it first"
    )]
    FormatMismatch {
        /// The first frame's rate.
        expected_rate: u32,
        /// The first frame's channels.
        expected_channels: u16,
        /// The offending frame's rate.
        found_rate: u32,
        /// The offending frame's channels.
        found_channels: u16,
    },
    /// A slice outside the frame.
    #[error("samples {start}..{end} are outside a frame of {len} samples per channel")]
    OutOfRange {
        /// Requested start.
        start: usize,
        /// Requested end.
        end: usize,
        /// Samples per channel in the frame.
        len: usize,
    },
}

/// A frame of audio: interleaved signed 16-bit samples (Python's `rtc.AudioFrame`).
///
/// Cloning and [`slice`](Self::slice) are cheap: the samples are shared.
///
/// ```
/// use agents_core::audio::AudioFrame;
///
/// let frame = AudioFrame::new(vec![0, 1, 2, 3, 4, 5], 16_000, 2)?;
/// assert_eq!(frame.samples_per_channel(), 3);
/// let tail = frame.slice(1..3)?;
/// assert_eq!(tail.data(), &[2, 3, 4, 5]);
/// assert_eq!(frame.to_mono().data(), &[0, 2, 4]);
/// # Ok::<(), agents_core::audio::AudioError>(())
/// ```
#[derive(Clone)]
pub struct AudioFrame {
    samples: Arc<[i16]>,
    /// Offset of the first sample in `samples` (interleaved samples).
    start: usize,
    /// Interleaved samples in this frame.
    len: usize,
    sample_rate: u32,
    channels: u16,
}

impl fmt::Debug for AudioFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioFrame")
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("samples_per_channel", &self.samples_per_channel())
            .finish()
    }
}

impl PartialEq for AudioFrame {
    fn eq(&self, other: &Self) -> bool {
        self.sample_rate == other.sample_rate
            && self.channels == other.channels
            && self.data() == other.data()
    }
}

impl AudioFrame {
    /// A frame of `data` (interleaved when `channels > 1`).
    pub fn new(data: Vec<i16>, sample_rate: u32, channels: u16) -> Result<Self, AudioError> {
        if sample_rate == 0 {
            return Err(AudioError::ZeroSampleRate);
        }
        if channels == 0 {
            return Err(AudioError::ZeroChannels);
        }
        if !data.len().is_multiple_of(usize::from(channels)) {
            return Err(AudioError::RaggedChannels { samples: data.len(), channels });
        }
        let len = data.len();
        Ok(Self { samples: data.into(), start: 0, len, sample_rate, channels })
    }

    /// `samples_per_channel` of silence.
    pub fn silence(
        sample_rate: u32,
        channels: u16,
        samples_per_channel: usize,
    ) -> Result<Self, AudioError> {
        Self::new(vec![0; samples_per_channel * usize::from(channels)], sample_rate, channels)
    }

    /// The interleaved samples.
    pub fn data(&self) -> &[i16] {
        &self.samples[self.start..self.start + self.len]
    }

    /// Samples per second, per channel.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The number of channels.
    pub fn num_channels(&self) -> u16 {
        self.channels
    }

    /// Samples per channel.
    pub fn samples_per_channel(&self) -> usize {
        self.len / usize::from(self.channels)
    }

    /// Whether the frame holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How long the frame lasts.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples_per_channel() as f64 / f64::from(self.sample_rate))
    }

    /// The samples `range` (per channel) of this frame, sharing its memory.
    pub fn slice(&self, range: Range<usize>) -> Result<Self, AudioError> {
        let per_channel = self.samples_per_channel();
        if range.start > range.end || range.end > per_channel {
            return Err(AudioError::OutOfRange {
                start: range.start,
                end: range.end,
                len: per_channel,
            });
        }
        let channels = usize::from(self.channels);
        Ok(Self {
            samples: self.samples.clone(),
            start: self.start + range.start * channels,
            len: (range.end - range.start) * channels,
            sample_rate: self.sample_rate,
            channels: self.channels,
        })
    }

    /// The frames joined end to end; they must share a format. `None` for no frames.
    pub fn concat<'a>(
        frames: impl IntoIterator<Item = &'a AudioFrame>,
    ) -> Result<Option<Self>, AudioError> {
        let mut frames = frames.into_iter();
        let Some(first) = frames.next() else { return Ok(None) };
        let mut data = first.data().to_vec();
        for frame in frames {
            if frame.sample_rate != first.sample_rate || frame.channels != first.channels {
                return Err(AudioError::FormatMismatch {
                    expected_rate: first.sample_rate,
                    expected_channels: first.channels,
                    found_rate: frame.sample_rate,
                    found_channels: frame.channels,
                });
            }
            data.extend_from_slice(frame.data());
        }
        Self::new(data, first.sample_rate, first.channels).map(Some)
    }

    /// The frame down-mixed to one channel (the average of the channels); a mono frame is
    /// returned as is.
    pub fn to_mono(&self) -> Self {
        if self.channels == 1 {
            return self.clone();
        }
        let channels = usize::from(self.channels);
        let mono: Vec<i16> = self
            .data()
            .chunks_exact(channels)
            .map(|frame| {
                let sum: i32 = frame.iter().map(|&s| i32::from(s)).sum();
                // The average of i16 values fits in i16.
                i16::try_from(sum / channels as i32).unwrap_or(0)
            })
            .collect();
        Self {
            len: mono.len(),
            samples: mono.into(),
            start: 0,
            sample_rate: self.sample_rate,
            channels: 1,
        }
    }
}
