//! Audio: frames of interleaved 16-bit PCM, and a streaming resampler.

mod frame;
mod resample;

pub use frame::{AudioError, AudioFrame};
pub use resample::{MAX_PHASES, ResampleError, Resampler};

mod wav;

pub use wav::{
    WavError, WavWriter, read_wav, read_wav_frames, read_wav_from, split_frame, write_wav,
};
