//! The bundled model is the published Silero VAD v6.2 file.
#![allow(clippy::unwrap_used)]

use sha2::{Digest, Sha256};

#[test]
fn bundled_model_is_silero_vad_v6_2() {
    let digest = Sha256::digest(agents_plugins_silero::BUNDLED_MODEL);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, agents_plugins_silero::BUNDLED_MODEL_SHA256);
    assert_eq!(hex, "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3");
    assert_eq!(agents_plugins_silero::BUNDLED_MODEL.len(), 2_327_524);
}

#[test]
fn the_model_licence_ships_beside_it() {
    let licence =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/LICENSE")).unwrap();
    assert!(licence.starts_with("MIT License"));
    assert!(licence.contains("Copyright (c) 2020-present Silero Team"));
}
