//! The machine's microphone and speakers, through cpal (ALSA on Linux): listing them, the
//! microphone as a stream of 10 ms mono 24 kHz frames, and the speakers as an
//! [`AudioOutput`](crate::voice::AudioOutput).
//!
//! Each device runs in its native configuration (cpal's default for it); the console converts:
//! the microphone's channels are averaged and resampled to 24 kHz, the agent's audio is
//! resampled to the speakers' rate and copied to each of their channels. cpal's callbacks run on
//! cpal's threads and only touch a channel, a short-held lock and atomics.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use super::device_audio::{Capture, Level, Playout, level_dbfs};
use crate::audio::AudioFrame;

/// `Some($build::<T>(args))` with `T` the sample type of `$format`; `None` for a format that
/// cpal added and the console does not know.
macro_rules! by_sample_format {
    ($format:expr, $build:ident($($arg:expr),*)) => {
        match $format {
            SampleFormat::I8 => Some($build::<i8>($($arg),*)),
            SampleFormat::I16 => Some($build::<i16>($($arg),*)),
            SampleFormat::I32 => Some($build::<i32>($($arg),*)),
            SampleFormat::U8 => Some($build::<u8>($($arg),*)),
            SampleFormat::U16 => Some($build::<u16>($($arg),*)),
            SampleFormat::U32 => Some($build::<u32>($($arg),*)),
            SampleFormat::F32 => Some($build::<f32>($($arg),*)),
            SampleFormat::F64 => Some($build::<f64>($($arg),*)),
            _ => None,
        }
    };
}

/// Frames the microphone may run ahead of the session before frames are dropped (5 s).
const INPUT_QUEUE: usize = 500;

/// Whether a device is a microphone or speakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceKind {
    /// A microphone.
    Input,
    /// Speakers.
    Output,
}

impl DeviceKind {
    fn word(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Output => "output",
        }
    }

    fn option(self) -> &'static str {
        match self {
            Self::Input => "--input-device",
            Self::Output => "--output-device",
        }
    }

    /// What to do when this way has no device.
    fn advice(self) -> &'static str {
        match self {
            Self::Input => {
                "plug in a microphone, pick one with --input-device NAME (see --list-devices), \
                 or use `console --text` / `--input-file` (see \
                 docs/src/troubleshooting.md#audio-devices)"
            }
            Self::Output => {
                "plug in speakers or headphones, pick them with --output-device NAME (see \
                 --list-devices), or use `console --text` / `--input-file` with `--output-file` (see \
                 docs/src/troubleshooting.md#audio-devices)"
            }
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// Why the machine's audio devices could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The audio system (ALSA) could not be reached.
    #[error(
        "the audio system is not available ({0}): check that ALSA works (`aplay -l`), or use \
         `console --text` / `--input-file` (see docs/src/troubleshooting.md#audio-devices)"
    )]
    Host(String),
    /// No device of that direction.
    #[error("no {direction} device: {advice}", advice = .direction.advice())]
    NoDevice {
        /// Input or output.
        direction: DeviceKind,
    },
    /// No device has the name given.
    #[error(
        "no {direction} device named `{name}` (the {direction} devices: {known}): see \
         --list-devices",
        known = if .known.is_empty() { "none".to_owned() } else { .known.join(", ") }
    )]
    UnknownDevice {
        /// Input or output.
        direction: DeviceKind,
        /// The name asked for.
        name: String,
        /// The names there are.
        known: Vec<String>,
    },
    /// The device could not be opened or configured.
    #[error(
        "cannot open the {direction} device `{device}`: {message}: {advice}",
        advice = .direction.advice()
    )]
    Open {
        /// Input or output.
        direction: DeviceKind,
        /// The device.
        device: String,
        /// What the audio system said.
        message: String,
    },
    /// The device's sample format is not one the console converts.
    #[error(
        "the {direction} device `{device}` uses the sample format {format}, which the console \
         does not convert: pick another with {option} (see --list-devices)",
        option = .direction.option()
    )]
    UnsupportedFormat {
        /// Input or output.
        direction: DeviceKind,
        /// The device.
        device: String,
        /// Its format.
        format: String,
    },
    /// The stream stopped while the console ran (e.g. the device was unplugged).
    #[error("the {direction} device `{device}` stopped: {message}: {advice}", advice = .direction.advice())]
    Failed {
        /// Input or output.
        direction: DeviceKind,
        /// The device.
        device: String,
        /// What the audio system said.
        message: String,
    },
}

/// The devices of one direction, the default first.
fn names(host: &cpal::Host, direction: DeviceKind) -> Result<Vec<(String, String)>, DeviceError> {
    let devices = host.devices().map_err(|error| DeviceError::Host(error.to_string()))?;
    let mut listed = Vec::new();
    for device in devices {
        let fits = match direction {
            DeviceKind::Input => device.supports_input(),
            DeviceKind::Output => device.supports_output(),
        };
        if fits {
            listed.push((device_name(&device), description(&device)));
        }
    }
    Ok(listed)
}

/// The device's name, as `--input-device` and `--output-device` take it.
fn device_name(device: &cpal::Device) -> String {
    match device.id() {
        Ok(id) => id.id().to_owned(),
        Err(_) => description(device),
    }
}

fn description(device: &cpal::Device) -> String {
    device.description().map(|d| d.name().to_owned()).unwrap_or_default()
}

fn default_device(host: &cpal::Host, direction: DeviceKind) -> Option<cpal::Device> {
    match direction {
        DeviceKind::Input => host.default_input_device(),
        DeviceKind::Output => host.default_output_device(),
    }
}

/// Writes the input and output devices to `out`, the defaults marked with `*`.
pub fn list_devices(mut out: impl Write) -> Result<(), crate::cli::ConsoleError> {
    let host = cpal::default_host();
    let mut text = String::new();
    for direction in [DeviceKind::Input, DeviceKind::Output] {
        let default = default_device(&host, direction).map(|device| device_name(&device));
        let mut listed = names(&host, direction)?;
        if let Some(default) = &default
            && !listed.iter().any(|(name, _)| name == default)
        {
            listed.insert(0, (default.clone(), "the system's default".to_owned()));
        }
        let title = match direction {
            DeviceKind::Input => "Input devices (--input-device NAME; * the default):",
            DeviceKind::Output => "Output devices (--output-device NAME; * the default):",
        };
        text.push_str(title);
        text.push('\n');
        if listed.is_empty() {
            text.push_str("  (none)\n");
        }
        for (name, about) in listed {
            let mark = if default.as_ref() == Some(&name) { '*' } else { ' ' };
            if about.is_empty() || about == name {
                text.push_str(&format!("{mark} {name}\n"));
            } else {
                text.push_str(&format!("{mark} {name}  ({about})\n"));
            }
        }
    }
    out.write_all(text.as_bytes()).map_err(crate::cli::ConsoleError::Output)
}

/// The device named `name` (its name or its description), or the default.
fn find(
    host: &cpal::Host,
    direction: DeviceKind,
    name: Option<&str>,
) -> Result<cpal::Device, DeviceError> {
    let Some(name) = name else {
        return default_device(host, direction).ok_or(DeviceError::NoDevice { direction });
    };
    if let Some(device) = default_device(host, direction)
        && device_name(&device) == name
    {
        return Ok(device);
    }
    let devices = host.devices().map_err(|error| DeviceError::Host(error.to_string()))?;
    let mut known: Vec<String> =
        default_device(host, direction).map(|device| device_name(&device)).into_iter().collect();
    for device in devices {
        let fits = match direction {
            DeviceKind::Input => device.supports_input(),
            DeviceKind::Output => device.supports_output(),
        };
        if !fits {
            continue;
        }
        if device_name(&device) == name || description(&device) == name {
            return Ok(device);
        }
        let listed = device_name(&device);
        if !known.contains(&listed) {
            known.push(listed);
        }
    }
    Err(DeviceError::UnknownDevice { direction, name: name.to_owned(), known })
}

/// Stream errors, from cpal's threads to the console.
pub(crate) type Failures = mpsc::UnboundedSender<DeviceError>;

/// The error callback of a stream: xruns are logged, anything else stops the console.
fn on_error(
    direction: DeviceKind,
    device: String,
    failures: Failures,
    playout: Option<Arc<Playout>>,
) -> impl FnMut(cpal::Error) + Send + 'static {
    move |error| {
        if error.kind() == cpal::ErrorKind::Xrun {
            tracing::debug!("{direction} device `{device}`: {error}");
            return;
        }
        if let Some(playout) = &playout {
            playout.fail();
        }
        let _ = failures.send(DeviceError::Failed {
            direction,
            device: device.clone(),
            message: error.to_string(),
        });
    }
}

/// The microphone, running.
pub(crate) struct Microphone {
    _stream: cpal::Stream,
    /// The device's name.
    pub(crate) name: String,
}

/// Opens the input device `name` (or the default): the frames it hears, 10 ms mono at
/// 24 kHz, and its level in `level` (silence while `level` is muted).
pub(crate) fn open_input(
    name: Option<&str>,
    level: Arc<Level>,
    failures: Failures,
) -> Result<(Microphone, BoxStream<'static, AudioFrame>), DeviceError> {
    let direction = DeviceKind::Input;
    let host = cpal::default_host();
    let device = find(&host, direction, name)?;
    let device_id = device_name(&device);
    let open_error = |error: cpal::Error| DeviceError::Open {
        direction,
        device: device_id.clone(),
        message: error.to_string(),
    };
    let config = device.default_input_config().map_err(open_error)?;
    let capture = Capture::new(config.sample_rate(), config.channels()).map_err(|error| {
        DeviceError::Open { direction, device: device_id.clone(), message: error.to_string() }
    })?;
    tracing::info!(
        "microphone: `{device_id}`, {} Hz, {} channel(s), {}",
        config.sample_rate(),
        config.channels(),
        config.sample_format()
    );
    let (sender, receiver) = mpsc::channel(INPUT_QUEUE);
    let sink = InputSink { capture, level, sender, dropped: Arc::new(AtomicU64::new(0)) };
    let errors = on_error(direction, device_id.clone(), failures, None);
    let stream_config = config.config();
    let format = config.sample_format();
    let Some(stream) =
        by_sample_format!(format, build_input(&device, &stream_config, sink, errors))
    else {
        return Err(DeviceError::UnsupportedFormat {
            direction,
            device: device_id,
            format: format.to_string(),
        });
    };
    let stream = stream.map_err(open_error)?;
    stream.play().map_err(open_error)?;
    let frames = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|frame| (frame, receiver))
    })
    .boxed();
    Ok((Microphone { _stream: stream, name: device_id }, frames))
}

/// What the input callback owns.
struct InputSink {
    capture: Capture,
    level: Arc<Level>,
    sender: mpsc::Sender<AudioFrame>,
    dropped: Arc<AtomicU64>,
}

impl InputSink {
    fn push(&mut self, samples: &[f32]) {
        let Self { capture, level, sender, dropped } = self;
        capture.push(samples, |frame| {
            let frame = if level.is_muted() {
                AudioFrame::silence(frame.sample_rate(), 1, frame.samples_per_channel())
                    .unwrap_or(frame)
            } else {
                level.record(level_dbfs(frame.data()));
                frame
            };
            // Never block cpal's thread: a session that falls 5 s behind loses frames.
            if sender.try_send(frame).is_err() && !sender.is_closed() {
                let count = dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if count.is_power_of_two() {
                    tracing::warn!("the session is behind the microphone: {count} frames dropped");
                }
            }
        });
    }
}

fn build_input<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut sink: InputSink,
    errors: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let mut scratch: Vec<f32> = Vec::new();
    device.build_input_stream::<T, _, _>(
        *config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            scratch.clear();
            scratch.extend(data.iter().map(|&sample| sample.to_sample::<f32>()));
            sink.push(&scratch);
        },
        errors,
        None,
    )
}

/// The speakers, running.
pub(crate) struct Speakers {
    _stream: cpal::Stream,
    /// The device's name.
    pub(crate) name: String,
    /// What they play.
    pub(crate) playout: Arc<Playout>,
}

/// Opens the output device `name` (or the default); the agent's audio goes into the
/// returned [`Speakers::playout`].
pub(crate) fn open_output(name: Option<&str>, failures: Failures) -> Result<Speakers, DeviceError> {
    let direction = DeviceKind::Output;
    let host = cpal::default_host();
    let device = find(&host, direction, name)?;
    let device_id = device_name(&device);
    let open_error = |error: cpal::Error| DeviceError::Open {
        direction,
        device: device_id.clone(),
        message: error.to_string(),
    };
    let config = device.default_output_config().map_err(open_error)?;
    tracing::info!(
        "speakers: `{device_id}`, {} Hz, {} channel(s), {}",
        config.sample_rate(),
        config.channels(),
        config.sample_format()
    );
    let playout = Arc::new(Playout::new(config.sample_rate()));
    let errors = on_error(direction, device_id.clone(), failures, Some(playout.clone()));
    let stream_config = config.config();
    let source = playout.clone();
    let format = config.sample_format();
    let Some(stream) =
        by_sample_format!(format, build_output(&device, &stream_config, source, errors))
    else {
        return Err(DeviceError::UnsupportedFormat {
            direction,
            device: device_id,
            format: format.to_string(),
        });
    };
    let stream = stream.map_err(open_error)?;
    stream.play().map_err(open_error)?;
    Ok(Speakers { _stream: stream, name: device_id, playout })
}

fn build_output<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    playout: Arc<Playout>,
    errors: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels.max(1));
    let mut mono: Vec<f32> = Vec::new();
    device.build_output_stream::<T, _, _>(
        *config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            mono.resize(data.len() / channels, 0.0);
            playout.fill(&mut mono);
            for (frame, &sample) in data.chunks_exact_mut(channels).zip(&mono) {
                frame.fill(T::from_sample(sample));
            }
        },
        errors,
        None,
    )
}
