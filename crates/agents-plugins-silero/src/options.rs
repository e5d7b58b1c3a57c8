//! `VadOptions`: the Python plugin's `VAD.load(...)` parameters, with its defaults.

use std::time::Duration;

use crate::error::OptionsError;
use crate::model::Geometry;

/// How the VAD turns probabilities into speech segments (Python's `VAD.load(...)` arguments).
///
/// `Default` gives the Python plugin's defaults.
///
/// ```
/// use std::time::Duration;
/// use agents_plugins_silero::VadOptions;
///
/// let options = VadOptions { min_silence_duration: Duration::from_millis(300), ..Default::default() };
/// assert_eq!(options.activation_threshold, 0.5);
/// assert!((options.effective_deactivation_threshold() - 0.35).abs() < 1e-12);
/// options.validate()?;
/// # Ok::<(), agents_plugins_silero::OptionsError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VadOptions {
    /// Speech must last this long before `StartOfSpeech` (default 50 ms).
    pub min_speech_duration: Duration,
    /// Silence must last this long, while speaking, before `EndOfSpeech` (default 550 ms).
    pub min_silence_duration: Duration,
    /// Audio kept from before the speech started, included in the speech frames (default 500 ms).
    pub prefix_padding_duration: Duration,
    /// At most this much speech (plus the padding) is buffered; more is dropped with a warning
    /// (default 60 s).
    pub max_buffered_speech: Duration,
    /// A probability at or above this is speech (default 0.5).
    pub activation_threshold: f64,
    /// While speaking, a probability above this still counts as speech. `None` (the default)
    /// means `max(activation_threshold − 0.15, 0.01)`.
    pub deactivation_threshold: Option<f64>,
    /// The model's rate: 16000 (default) or 8000 Hz. Input of any rate is resampled to it.
    pub sample_rate: u32,
}

impl Default for VadOptions {
    fn default() -> Self {
        Self {
            min_speech_duration: Duration::from_millis(50),
            min_silence_duration: Duration::from_millis(550),
            prefix_padding_duration: Duration::from_millis(500),
            max_buffered_speech: Duration::from_secs(60),
            activation_threshold: 0.5,
            deactivation_threshold: None,
            sample_rate: 16_000,
        }
    }
}

impl VadOptions {
    /// The deactivation threshold in force: the one set, or `max(activation − 0.15, 0.01)`.
    pub fn effective_deactivation_threshold(&self) -> f64 {
        self.deactivation_threshold.unwrap_or((self.activation_threshold - 0.15).max(0.01))
    }

    /// Checks the sample rate and the thresholds.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if Geometry::for_rate(self.sample_rate).is_none() {
            return Err(OptionsError::UnsupportedSampleRate { rate: self.sample_rate });
        }
        check_threshold("activation_threshold", self.activation_threshold)?;
        if let Some(value) = self.deactivation_threshold {
            check_threshold("deactivation_threshold", value)?;
        }
        Ok(())
    }

    /// The options as the state machine uses them (seconds as `f64`, as Python does).
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            min_speech: self.min_speech_duration.as_secs_f64(),
            min_silence: self.min_silence_duration.as_secs_f64(),
            prefix_padding: self.prefix_padding_duration.as_secs_f64(),
            max_buffered: self.max_buffered_speech.as_secs_f64(),
            activation: self.activation_threshold,
            deactivation: self.effective_deactivation_threshold(),
        }
    }
}

fn check_threshold(name: &'static str, value: f64) -> Result<(), OptionsError> {
    if value > 0.0 && value <= 1.0 { Ok(()) } else { Err(OptionsError::Threshold { name, value }) }
}

/// Validated options in the state machine's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    pub(crate) min_speech: f64,
    pub(crate) min_silence: f64,
    pub(crate) prefix_padding: f64,
    pub(crate) max_buffered: f64,
    pub(crate) activation: f64,
    pub(crate) deactivation: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_python_s() {
        let o = VadOptions::default();
        let s = o.settings();
        assert_eq!(s.min_speech, 0.05);
        assert_eq!(s.min_silence, 0.55);
        assert_eq!(s.prefix_padding, 0.5);
        assert_eq!(s.max_buffered, 60.0);
        assert_eq!(s.activation, 0.5);
        // Python computes `max(0.5 - 0.15, 0.01)` in f64, the same way.
        assert_eq!(s.deactivation, 0.5 - 0.15);
        assert_eq!(o.sample_rate, 16_000);
        assert_eq!(o.validate(), Ok(()));
    }

    #[test]
    fn deactivation_has_a_floor() {
        let o = VadOptions { activation_threshold: 0.1, ..Default::default() };
        assert_eq!(o.effective_deactivation_threshold(), 0.01);
        let o = VadOptions { deactivation_threshold: Some(0.2), ..Default::default() };
        assert_eq!(o.effective_deactivation_threshold(), 0.2);
    }

    #[test]
    fn invalid_options_are_typed_errors() {
        let o = VadOptions { sample_rate: 44_100, ..Default::default() };
        assert_eq!(o.validate(), Err(OptionsError::UnsupportedSampleRate { rate: 44_100 }));
        assert!(VadOptions { sample_rate: 8_000, ..Default::default() }.validate().is_ok());
        let o = VadOptions { activation_threshold: 0.0, ..Default::default() };
        assert!(matches!(
            o.validate(),
            Err(OptionsError::Threshold { name: "activation_threshold", .. })
        ));
        let o = VadOptions { deactivation_threshold: Some(-0.1), ..Default::default() };
        assert!(matches!(
            o.validate(),
            Err(OptionsError::Threshold { name: "deactivation_threshold", .. })
        ));
        let o = VadOptions { activation_threshold: f64::NAN, ..Default::default() };
        assert!(o.validate().is_err());
        let message = VadOptions { sample_rate: 22_050, ..Default::default() }
            .validate()
            .map_err(|e| e.to_string());
        assert!(message.is_err_and(|m| m.contains("8000 or 16000")));
    }
}
