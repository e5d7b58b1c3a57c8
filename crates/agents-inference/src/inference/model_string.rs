//! Model strings of the gateway's speech models: `provider/model[:suffix]`, where the part after
//! the last `:` is the STT's language or the TTS's voice.

/// An STT model string taken apart (`deepgram/nova-3:en`, `auto`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SttModelString {
    /// The model (`deepgram/nova-3`); `None` for `auto` (the gateway picks one per language)
    /// or an empty string.
    pub model: Option<String>,
    /// The language after the last `:` (`en`), if any.
    pub language: Option<String>,
}

impl SttModelString {
    /// Parses `provider/model[:language]` or `auto`.
    ///
    /// ```
    /// use agents_inference::inference::SttModelString;
    ///
    /// let parsed = SttModelString::parse("deepgram/nova-3:en");
    /// assert_eq!(parsed.model.as_deref(), Some("deepgram/nova-3"));
    /// assert_eq!(parsed.language.as_deref(), Some("en"));
    /// assert_eq!(SttModelString::parse("auto:fr").model, None);
    /// ```
    pub fn parse(model: &str) -> Self {
        let (model, language) = split(model);
        let model = (!model.is_empty() && model != "auto").then(|| model.to_owned());
        Self { model, language: language.map(str::to_owned) }
    }
}

/// A TTS model string taken apart (`cartesia/sonic-3:<voice>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TtsModelString {
    /// The model (`cartesia/sonic-3`), or a bare provider for its default model (`cartesia`).
    pub model: String,
    /// The voice after the last `:`, if any.
    pub voice: Option<String>,
}

impl TtsModelString {
    /// Parses `provider/model[:voice]`.
    ///
    /// ```
    /// use agents_inference::inference::TtsModelString;
    ///
    /// let parsed = TtsModelString::parse("inworld/inworld-tts-1:Ashley");
    /// assert_eq!(parsed.model, "inworld/inworld-tts-1");
    /// assert_eq!(parsed.voice.as_deref(), Some("Ashley"));
    /// ```
    pub fn parse(model: &str) -> Self {
        let (model, voice) = split(model);
        Self { model: model.to_owned(), voice: voice.map(str::to_owned) }
    }
}

/// Which gateway model a model string names (its grammar differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelKind {
    /// Speech-to-text: `provider/model[:language]` or `auto[:language]`.
    Stt,
    /// LLM: `provider/model`, sent verbatim.
    Llm,
    /// Text-to-speech: `provider/model[:voice]` or a bare `provider[:voice]`.
    Tts,
}

impl ModelKind {
    /// The grammar of this kind's model strings, with an example.
    pub fn grammar(self) -> &'static str {
        match self {
            Self::Stt => {
                "`provider/model[:language]` (e.g. `deepgram/nova-3:en`) or `auto[:language]`"
            }
            Self::Llm => "`provider/model` (e.g. `openai/gpt-4.1-mini`)",
            Self::Tts => {
                "`provider/model[:voice]` (e.g. `cartesia/sonic-3:<voice id>`) or `provider[:voice]`"
            }
        }
    }
}

/// A model string that cannot be sent to the gateway: it is empty, holds whitespace or control
/// characters, or has an empty provider or model around its `/`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid model string `{model}`: {reason}; expected {}", .kind.grammar())]
#[non_exhaustive]
pub struct ModelStringError {
    /// What the string was for.
    pub kind: ModelKind,
    /// The string as given.
    pub model: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks that `model` fits the grammar of `kind` (see [`ModelKind::grammar`]).
///
/// ```
/// use agents_inference::inference::{ModelKind, check_model_string};
///
/// assert!(check_model_string(ModelKind::Stt, "deepgram/nova-3:en").is_ok());
/// assert!(check_model_string(ModelKind::Tts, "cartesia").is_ok());
/// let error = check_model_string(ModelKind::Llm, "openai/").unwrap_err();
/// assert!(error.to_string().contains("`provider/model`"));
/// ```
pub fn check_model_string(kind: ModelKind, model: &str) -> Result<(), ModelStringError> {
    let fail = |reason| Err(ModelStringError { kind, model: model.to_owned(), reason });
    let trimmed = model.trim();
    if trimmed.is_empty() {
        return fail("it is empty");
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains whitespace or a control character");
    }
    let head = match kind {
        ModelKind::Llm => trimmed,
        ModelKind::Stt | ModelKind::Tts => split(trimmed).0,
    };
    if head.is_empty() {
        return fail("nothing comes before the `:`");
    }
    if head.split('/').any(str::is_empty) {
        return fail("the provider or the model around a `/` is empty");
    }
    Ok(())
}

/// `model` cut at its last `:`; an empty suffix counts as none.
fn split(model: &str) -> (&str, Option<&str>) {
    let model = model.trim();
    match model.rsplit_once(':') {
        Some((head, tail)) => (head, (!tail.is_empty()).then_some(tail)),
        None => (model, None),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn examples() {
        assert_eq!(
            SttModelString::parse("deepgram/nova-3-general"),
            SttModelString { model: Some("deepgram/nova-3-general".into()), language: None }
        );
        assert_eq!(SttModelString::parse("auto"), SttModelString { model: None, language: None });
        assert_eq!(
            SttModelString::parse("deepgram/nova-3:"),
            SttModelString { model: Some("deepgram/nova-3".into()), language: None }
        );
        assert_eq!(TtsModelString::parse("cartesia").voice, None);
        assert_eq!(
            TtsModelString::parse("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc"),
            TtsModelString {
                model: "cartesia/sonic-3".into(),
                voice: Some("9626c31c-bec5-4cca-baa8-f8ba9e84c8bc".into())
            }
        );
    }

    #[test]
    fn malformed_strings_name_the_problem_and_the_grammar() {
        for (kind, model, reason) in [
            (ModelKind::Stt, "", "it is empty"),
            (ModelKind::Stt, "  ", "it is empty"),
            (ModelKind::Stt, ":en", "nothing comes before the `:`"),
            (ModelKind::Stt, "deepgram/nova 3", "it contains whitespace or a control character"),
            (ModelKind::Tts, "/sonic-3:voice", "the provider or the model around a `/` is empty"),
            (ModelKind::Llm, "openai/", "the provider or the model around a `/` is empty"),
            (ModelKind::Llm, "openai//gpt", "the provider or the model around a `/` is empty"),
        ] {
            let error = check_model_string(kind, model).expect_err(model);
            assert_eq!(error.reason, reason, "{model:?}");
            assert!(error.to_string().contains(kind.grammar()), "{error}");
        }
        for (kind, model) in [
            (ModelKind::Stt, "auto"),
            (ModelKind::Stt, "auto:fr"),
            (ModelKind::Stt, "deepgram/nova-3:"),
            (ModelKind::Stt, " deepgram/flux-general-en "),
            (ModelKind::Tts, "cartesia"),
            (ModelKind::Tts, "inworld/inworld-tts-1:Ashley"),
            (ModelKind::Llm, "deepseek-ai/deepseek-v3"),
            (ModelKind::Llm, "gpt-4.1-mini"),
        ] {
            assert_eq!(check_model_string(kind, model), Ok(()), "{model:?}");
        }
    }

    proptest! {
        #[test]
        fn well_formed_strings_pass_the_check(
            model in "[a-z]{1,10}(/[a-z0-9.-]{1,20})?(:[A-Za-z0-9_-]{1,36})?",
        ) {
            prop_assert_eq!(check_model_string(ModelKind::Stt, &model), Ok(()));
            prop_assert_eq!(check_model_string(ModelKind::Tts, &model), Ok(()));
        }

        #[test]
        fn model_and_suffix_round_trip(
            model in "[a-z]{1,10}(/[a-z0-9.-]{1,20})?(:[a-z]{1,3})?",
            suffix in proptest::option::of("[A-Za-z0-9_-]{1,36}"),
        ) {
            let text = match &suffix {
                Some(suffix) => format!("{model}:{suffix}"),
                None => model.clone(),
            };
            let tts = TtsModelString::parse(&text);
            let stt = SttModelString::parse(&text);
            match &suffix {
                Some(suffix) => {
                    prop_assert_eq!(&tts.model, &model);
                    prop_assert_eq!(tts.voice.as_deref(), Some(suffix.as_str()));
                    prop_assert_eq!(stt.language.as_deref(), Some(suffix.as_str()));
                }
                None => {
                    // Rebuilding the string from its parts gives it back.
                    let rebuilt = match &tts.voice {
                        Some(voice) => format!("{}:{voice}", tts.model),
                        None => tts.model.clone(),
                    };
                    prop_assert_eq!(rebuilt, text);
                }
            }
            prop_assert_eq!(stt.model.is_none(), tts.model == "auto" || tts.model.is_empty());
        }

        #[test]
        fn any_string_parses_without_panicking(text in any::<String>()) {
            let tts = TtsModelString::parse(&text);
            prop_assert!(tts.voice.as_deref().is_none_or(|voice| !voice.contains(':')));
            let _ = SttModelString::parse(&text);
            for kind in [ModelKind::Stt, ModelKind::Llm, ModelKind::Tts] {
                let _ = check_model_string(kind, &text);
            }
        }
    }
}
