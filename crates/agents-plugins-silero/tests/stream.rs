//! The stream's behaviour: flush, live options, rates, many streams on one engine, errors.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use agents_core::audio::AudioFrame;
use agents_core::vad::{VadEvent, VadEventKind};
use agents_plugins_silero::{LoadError, OptionsError, Vad, VadOptions};
use futures::StreamExt;

fn segments(events: &[VadEvent]) -> Vec<(VadEventKind, u64)> {
    events
        .iter()
        .filter(|e| e.kind != VadEventKind::InferenceDone)
        .map(|e| (e.kind, e.samples_index))
        .collect()
}

#[test]
fn silence_gives_one_event_per_window_and_no_speech() {
    let vad = common::load(VadOptions::default());
    let silence = AudioFrame::silence(16_000, 1, 16_000).unwrap();
    let events = common::run(&vad, &silence, 10);
    assert_eq!(events.len(), 16_000 / 512);
    assert!(events.iter().all(|e| e.kind == VadEventKind::InferenceDone && !e.speaking));
    assert!(events.iter().all(|e| e.probability < 0.01));
    assert_eq!(events.last().unwrap().samples_index, 31 * 512);
    assert!(events.iter().all(|e| e.inference_duration > Duration::ZERO));
}

#[test]
fn flush_processes_what_was_pushed_then_starts_over() {
    let vad = common::load(VadOptions::default());
    let audio = common::read_wav("speech_16k.wav");
    let alone = common::run(&vad, &audio, 10);

    let mut stream = vad.stream();
    stream.push_frame(&audio);
    stream.flush();
    stream.push_frame(&audio);
    stream.end_input();
    let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
    // The first copy is processed in full (its last partial window is dropped by the flush),
    // then the second starts from scratch: the same events twice.
    assert_eq!(events.len(), 2 * alone.len());
    let (first, second) = events.split_at(alone.len());
    for half in [first, second] {
        for (a, b) in half.iter().zip(&alone) {
            assert_eq!(
                (a.kind, a.samples_index, a.probability),
                (b.kind, b.samples_index, b.probability)
            );
        }
    }
}

#[test]
fn vad_update_options_reaches_live_streams() {
    let vad = common::load(VadOptions::default());
    let audio = common::read_wav("speech_16k.wav");
    let mut stream = vad.stream();
    let mut options = vad.options();
    options.min_silence_duration = Duration::from_secs(10);
    vad.update_options(options.clone()).unwrap();
    assert_eq!(vad.options(), options);
    stream.push_frame(&audio);
    stream.end_input();
    let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
    // With 10 s of silence needed, the two utterances are one that never ends.
    assert_eq!(segments(&events).len(), 1);
    assert_eq!(segments(&events)[0].0, VadEventKind::StartOfSpeech);

    let bad = VadOptions { sample_rate: 8_000, ..options.clone() };
    assert_eq!(
        vad.update_options(bad),
        Err(OptionsError::SampleRateChange { from: 16_000, to: 8_000 })
    );
    let bad = VadOptions { activation_threshold: 2.0, ..options };
    assert!(matches!(vad.update_options(bad), Err(OptionsError::Threshold { .. })));
}

#[test]
fn stream_update_options_applies_to_that_stream() {
    let vad = common::load(VadOptions::default());
    let audio = common::read_wav("speech_16k.wav");
    let mut stream = vad.stream();
    stream
        .update_options(VadOptions { activation_threshold: 1.0, ..VadOptions::default() })
        .unwrap();
    assert_eq!(stream.options().activation_threshold, 1.0);
    stream.push_frame(&audio);
    stream.end_input();
    let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
    assert!(segments(&events).is_empty(), "nothing reaches a probability of 1.0");
    // The other streams keep the VAD's options.
    assert_eq!(segments(&common::run(&vad, &audio, 10)).len(), 4);
}

#[test]
fn the_8k_model_finds_the_same_utterances() {
    let vad = common::load(VadOptions { sample_rate: 8_000, ..VadOptions::default() });
    assert!((vad.update_interval() - 0.032).abs() < 1e-12);
    let events = common::run(&vad, &common::read_wav("speech_16k.wav"), 10);
    let found = segments(&events);
    assert_eq!(found.len(), 4);
    // samples_index is at the model's rate: 256 per window.
    assert!(found.iter().all(|(_, index)| index % 256 == 0));
    let at_16k = [17_920u64, 56_832, 76_288, 114_176];
    for ((_, index), expected) in found.iter().zip(at_16k) {
        let seconds = *index as f64 / 8_000.0;
        let expected = expected as f64 / 16_000.0;
        assert!((seconds - expected).abs() <= 0.2, "{seconds} vs {expected}");
    }
}

#[test]
fn frames_at_another_rate_are_dropped() {
    let vad = common::load(VadOptions::default());
    let mut stream = vad.stream();
    stream.push_frame(&AudioFrame::silence(16_000, 1, 1_024).unwrap());
    stream.push_frame(&AudioFrame::silence(48_000, 1, 48_000).unwrap());
    stream.push_frame(&AudioFrame::silence(16_000, 1, 1_024).unwrap());
    stream.end_input();
    let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
    assert_eq!(events.len(), 4);
}

#[test]
fn many_streams_share_one_engine() {
    let vad = common::load(VadOptions::default());
    let audio = common::read_wav("speech_48k.wav");
    let alone = common::run(&vad, &audio, 10);
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let vad = vad.clone();
            let audio = audio.clone();
            std::thread::spawn(move || common::run(&vad, &audio, 20))
        })
        .collect();
    for handle in handles {
        let events = handle.join().unwrap();
        assert_eq!(events.len(), alone.len());
        for (a, b) in events.iter().zip(&alone) {
            assert_eq!(
                (a.kind, a.samples_index, a.probability),
                (b.kind, b.samples_index, b.probability)
            );
        }
    }
}

#[test]
fn streams_work_as_trait_objects() {
    let vad: Box<dyn agents_core::vad::Vad> = Box::new(common::load(VadOptions::default()));
    assert!((vad.update_interval() - 0.032).abs() < 1e-12);
    let mut stream = vad.stream();
    stream.push_frame(&common::read_wav("speech_16k.wav"));
    stream.end_input();
    let events: Vec<VadEvent> = futures::executor::block_on(stream.collect());
    assert_eq!(segments(&events).len(), 4);
    assert!(Vad::runtime_library().is_some());
}

#[test]
fn events_arrive_while_audio_is_still_coming() {
    // On a real executor, events come as windows complete, without end_input.
    let vad = common::load(VadOptions::default());
    let audio = common::read_wav("speech_16k.wav");
    let mut stream = vad.stream();
    futures::executor::block_on(async {
        stream.push_frame(&audio.slice(0..16_000).unwrap());
        for _ in 0..31 {
            let event = stream.next().await.unwrap();
            assert_eq!(event.kind, VadEventKind::InferenceDone);
        }
        // 31 windows use 15,872 samples: the rest waits for more audio.
        stream.push_frame(&audio.slice(16_000..16_640).unwrap());
        let event = stream.next().await.unwrap();
        assert_eq!(event.samples_index, 32 * 512);
    });
}

#[test]
fn invalid_options_and_model_files_are_typed_errors() {
    let err = Vad::load_with(VadOptions { sample_rate: 44_100, ..VadOptions::default() });
    assert!(matches!(err, Err(LoadError::Options(OptionsError::UnsupportedSampleRate { .. }))));

    let missing = common::data("no_such_model.onnx");
    let err = Vad::load_from_file(&missing, VadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::ModelFile { .. }), "{err}");
    assert!(err.to_string().contains("no_such_model.onnx"));

    let not_a_model = common::data("reference.json");
    let err = Vad::load_from_file(&not_a_model, VadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::Session { .. }), "{err}");

    let err = Vad::load_from_file(common::data(""), VadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::ModelFile { .. }), "{err}");
}

#[test]
fn a_model_file_loads_like_the_bundled_one() {
    let path = std::env::temp_dir().join(format!("silero-{}.onnx", std::process::id()));
    std::fs::write(&path, agents_plugins_silero::BUNDLED_MODEL).unwrap();
    let vad = Vad::load_from_file(&path, VadOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let audio = common::read_wav("speech_16k.wav");
    let from_file = common::run(&vad, &audio, 10);
    let bundled = common::run(&common::load(VadOptions::default()), &audio, 10);
    assert_eq!(segments(&from_file), segments(&bundled));
}
