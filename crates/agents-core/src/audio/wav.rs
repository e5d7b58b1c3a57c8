//! WAV files: read them into [`AudioFrame`]s, write frames to them.
//!
//! Reading accepts integer PCM of 8 to 32 bits and 32-bit float; everything becomes 16-bit
//! samples (higher resolutions are truncated, floats are scaled and clamped). Writing produces
//! 16-bit PCM.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{AudioError, AudioFrame};

/// A WAV file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file could not be opened, read, created or written.
    #[error("cannot access WAV file `{}` (check the path and its permissions)", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a well-formed WAV file.
    #[error("`{}` is not a valid WAV file: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file is a WAV file in a sample format this reader does not convert.
    #[error(
        "`{}` holds {format} samples, which cannot be read; convert it to 16-bit PCM \
         (e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`)",
        path.display()
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The sample format found, e.g. `64-bit float`.
        format: String,
    },
    /// The samples do not form valid audio (e.g. zero channels or a zero sample rate).
    #[error("`{}` does not hold valid audio", path.display())]
    Audio {
        /// The file.
        path: PathBuf,
        /// What is wrong with the audio.
        #[source]
        source: AudioError,
    },
    /// A frame given to a [`WavWriter`] does not have the file's format.
    #[error(
        "cannot write a frame of {found_rate} Hz × {found_channels} channel(s) to `{}`, which \
         holds {expected_rate} Hz × {expected_channels} channel(s); resample the frame or \
         write it to another file",
        path.display()
    )]
    FormatMismatch {
        /// The file.
        path: PathBuf,
        /// The file's sample rate.
        expected_rate: u32,
        /// The file's channel count.
        expected_channels: u16,
        /// The frame's sample rate.
        found_rate: u32,
        /// The frame's channel count.
        found_channels: u16,
    },
    /// [`write_wav`] was given no frames, so there is no format to write.
    #[error("no frames to write to `{}`; a WAV file needs at least one frame to know its format", path.display())]
    NoFrames {
        /// The file.
        path: PathBuf,
    },
}

impl WavError {
    fn from_hound(path: &Path, error: hound::Error) -> Self {
        let path = path.to_path_buf();
        match error {
            hound::Error::IoError(source) => Self::Io { path, source },
            hound::Error::FormatError(reason) => Self::Invalid { path, reason: reason.to_owned() },
            hound::Error::TooWide => {
                Self::Invalid { path, reason: "a sample is wider than its declared size".into() }
            }
            hound::Error::UnfinishedSample => {
                Self::Invalid { path, reason: "the data ends in the middle of a sample".into() }
            }
            hound::Error::InvalidSampleFormat => {
                Self::Invalid { path, reason: "the sample format is invalid".into() }
            }
            hound::Error::Unsupported => {
                Self::UnsupportedFormat { path, format: "an unsupported".into() }
            }
        }
    }
}

/// Reads the whole WAV file at `path` as one frame (interleaved when it has several channels).
///
/// ```no_run
/// let frame = agents_core::audio::read_wav("hello.wav")?;
/// println!("{} Hz, {:?}", frame.sample_rate(), frame.duration());
/// # Ok::<(), agents_core::audio::WavError>(())
/// ```
pub fn read_wav(path: impl AsRef<Path>) -> Result<AudioFrame, WavError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| WavError::Io { path: path.into(), source })?;
    read_wav_from(std::io::BufReader::new(file), path)
}

/// Reads a WAV file from `reader`; `name` names it in errors.
///
/// ```
/// use agents_core::audio::{AudioFrame, WavWriter, read_wav_from};
///
/// let path = std::env::temp_dir().join("agents_core_doc_read_wav_from.wav");
/// let frame = AudioFrame::new(vec![1, -1, 2, -2], 8_000, 1)?;
/// let mut writer = WavWriter::create(&path, 8_000, 1)?;
/// writer.write_frame(&frame)?;
/// writer.finalize()?;
///
/// let bytes = std::fs::read(&path).map_err(|e| agents_core::audio::WavError::Io { path: path.clone(), source: e })?;
/// assert_eq!(read_wav_from(bytes.as_slice(), "in memory")?, frame);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_wav_from(reader: impl Read, name: impl AsRef<Path>) -> Result<AudioFrame, WavError> {
    let path = name.as_ref();
    let reader = hound::WavReader::new(reader).map_err(|e| WavError::from_hound(path, e))?;
    let spec = reader.spec();
    let data = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WavError::from_hound(path, e))?,
        (hound::SampleFormat::Int, bits @ 1..=32) => reader
            .into_samples::<i32>()
            .map(|s| s.map(|s| int_to_i16(s, bits)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WavError::from_hound(path, e))?,
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .map(|s| s.map(float_to_i16))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WavError::from_hound(path, e))?,
        (format, bits) => {
            let kind = match format {
                hound::SampleFormat::Float => "float",
                hound::SampleFormat::Int => "integer",
            };
            return Err(WavError::UnsupportedFormat {
                path: path.into(),
                format: format!("{bits}-bit {kind}"),
            });
        }
    };
    AudioFrame::new(data, spec.sample_rate, spec.channels)
        .map_err(|source| WavError::Audio { path: path.into(), source })
}

/// Reads the WAV file at `path` and cuts it into frames of `frame_duration` (e.g. 10 or 20 ms);
/// the last frame may be shorter.
///
/// ```no_run
/// use std::time::Duration;
///
/// let frames = agents_core::audio::read_wav_frames("hello.wav", Duration::from_millis(20))?;
/// # Ok::<(), agents_core::audio::WavError>(())
/// ```
pub fn read_wav_frames(
    path: impl AsRef<Path>,
    frame_duration: Duration,
) -> Result<Vec<AudioFrame>, WavError> {
    let frame = read_wav(path)?;
    Ok(split_frame(&frame, frame_duration))
}

/// Cuts `frame` into frames of `duration` each (at least one sample per channel), sharing its
/// memory; the last one may be shorter. An empty frame gives no frames.
///
/// ```
/// use std::time::Duration;
/// use agents_core::audio::{AudioFrame, split_frame};
///
/// let second = AudioFrame::silence(16_000, 1, 16_000)?;
/// let frames = split_frame(&second, Duration::from_millis(20));
/// assert_eq!(frames.len(), 50);
/// assert_eq!(frames[0].samples_per_channel(), 320);
/// # Ok::<(), agents_core::audio::AudioError>(())
/// ```
pub fn split_frame(frame: &AudioFrame, duration: Duration) -> Vec<AudioFrame> {
    let total = frame.samples_per_channel();
    let per_frame = (duration.as_secs_f64() * f64::from(frame.sample_rate())).round() as usize;
    let per_frame = per_frame.max(1);
    (0..total)
        .step_by(per_frame)
        .filter_map(|start| frame.slice(start..(start + per_frame).min(total)).ok())
        .collect()
}

/// Writes `frames` (all of the first frame's format) to a 16-bit PCM WAV file at `path`.
pub fn write_wav<'a>(
    path: impl AsRef<Path>,
    frames: impl IntoIterator<Item = &'a AudioFrame>,
) -> Result<(), WavError> {
    let path = path.as_ref();
    let mut frames = frames.into_iter().peekable();
    let Some(first) = frames.peek() else {
        return Err(WavError::NoFrames { path: path.into() });
    };
    let mut writer = WavWriter::create(path, first.sample_rate(), first.num_channels())?;
    for frame in frames {
        writer.write_frame(frame)?;
    }
    writer.finalize()
}

/// Writes frames of one format to a 16-bit PCM WAV file.
///
/// Call [`finalize`](Self::finalize) when done: it writes the header's lengths and reports
/// errors. Dropping the writer finalizes it too, but silently.
///
/// ```
/// use agents_core::audio::{AudioFrame, WavWriter, read_wav};
///
/// let path = std::env::temp_dir().join("agents_core_doc_wav_writer.wav");
/// let mut writer = WavWriter::create(&path, 16_000, 1)?;
/// writer.write_frame(&AudioFrame::new(vec![0, 100, -100], 16_000, 1)?)?;
/// writer.write_frame(&AudioFrame::new(vec![7], 16_000, 1)?)?;
/// writer.finalize()?;
/// assert_eq!(read_wav(&path)?.data(), &[0, 100, -100, 7]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WavWriter {
    path: PathBuf,
    sample_rate: u32,
    channels: u16,
    inner: hound::WavWriter<BufWriter<File>>,
}

impl std::fmt::Debug for WavWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("path", &self.path)
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl WavWriter {
    /// Creates (or truncates) the file at `path` for audio of `sample_rate` × `channels`.
    pub fn create(
        path: impl AsRef<Path>,
        sample_rate: u32,
        channels: u16,
    ) -> Result<Self, WavError> {
        let path = path.as_ref();
        if sample_rate == 0 {
            return Err(WavError::Audio { path: path.into(), source: AudioError::ZeroSampleRate });
        }
        if channels == 0 {
            return Err(WavError::Audio { path: path.into(), source: AudioError::ZeroChannels });
        }
        let spec = hound::WavSpec {
            channels,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let inner =
            hound::WavWriter::create(path, spec).map_err(|e| WavError::from_hound(path, e))?;
        Ok(Self { path: path.into(), sample_rate, channels, inner })
    }

    /// Appends `frame`, which must have the file's sample rate and channel count.
    pub fn write_frame(&mut self, frame: &AudioFrame) -> Result<(), WavError> {
        if frame.sample_rate() != self.sample_rate || frame.num_channels() != self.channels {
            return Err(WavError::FormatMismatch {
                path: self.path.clone(),
                expected_rate: self.sample_rate,
                expected_channels: self.channels,
                found_rate: frame.sample_rate(),
                found_channels: frame.num_channels(),
            });
        }
        let mut samples = self.inner.get_i16_writer(frame.data().len() as u32);
        for &sample in frame.data() {
            samples.write_sample(sample);
        }
        samples.flush().map_err(|e| WavError::from_hound(&self.path, e))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finishes the file: writes the header's lengths and flushes it to disk.
    pub fn finalize(self) -> Result<(), WavError> {
        let path = self.path;
        self.inner.finalize().map_err(|e| WavError::from_hound(&path, e))
    }
}

/// An integer sample of `bits` bits as 16 bits (truncated, or shifted up).
fn int_to_i16(sample: i32, bits: u16) -> i16 {
    let value = if bits >= 16 { sample >> (bits - 16) } else { sample << (16 - bits) };
    // In range after the shift; clamp in case the file holds over-wide values.
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// A float sample in [-1, 1] as 16 bits, clamped.
fn float_to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    (sample * 32_768.0).round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_sample_widths() {
        assert_eq!(int_to_i16(0x7F_FFFF, 24), i16::MAX);
        assert_eq!(int_to_i16(-0x80_0000, 24), i16::MIN);
        assert_eq!(int_to_i16(i32::MIN, 32), i16::MIN);
        assert_eq!(int_to_i16(-128, 8), i16::MIN);
        assert_eq!(float_to_i16(1.0), i16::MAX);
        assert_eq!(float_to_i16(-1.0), i16::MIN);
        assert_eq!(float_to_i16(0.5), 16_384);
        assert_eq!(float_to_i16(f32::NAN), 0);
    }
}
