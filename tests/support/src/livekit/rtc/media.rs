//! PCM ⇄ Opus RTP for server-side participants: 48 kHz mono, 20 ms frames.

use bytes::Bytes;
use rtc::rtp;

use super::error::RtcError;
use super::peer::OPUS_PAYLOAD_TYPE;

/// The sample rate of all PCM the server-side participants publish and capture.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples per 20 ms frame at [`SAMPLE_RATE`].
pub(crate) const FRAME_SAMPLES: usize = 960;

/// Linear-interpolation resampling of mono PCM (enough for test speech and tones).
pub(crate) fn resample(pcm: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || pcm.is_empty() {
        return pcm.to_vec();
    }
    let out_len = (pcm.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..out_len)
        .map(|i| {
            let position = i as f64 * step;
            let index = position as usize;
            let fraction = position - index as f64;
            let a = f64::from(pcm[index.min(pcm.len() - 1)]);
            let b = f64::from(pcm[(index + 1).min(pcm.len() - 1)]);
            (a + (b - a) * fraction).round() as i16
        })
        .collect()
}

/// Encodes 20 ms PCM frames into RTP packets of one stream. The RTP clock follows the wall
/// clock, as a real sender's does: a pause between two publications shows as a timestamp gap.
pub(crate) struct Packetizer {
    encoder: opus::Encoder,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    started: Option<std::time::Instant>,
}

impl Packetizer {
    pub(crate) fn new(ssrc: u32) -> Result<Self, RtcError> {
        let encoder =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(|e| RtcError::Opus(e.to_string()))?;
        Ok(Self { encoder, ssrc, sequence: 0, timestamp: 0, started: None })
    }

    /// Moves the RTP clock to the wall clock (never back): call it when a new stretch of audio
    /// starts, so that the pause before it shows as a timestamp gap. Within a stretch the
    /// timestamps are contiguous whatever the pacing.
    pub(crate) fn resync(&mut self) {
        let started = *self.started.get_or_insert_with(std::time::Instant::now);
        // Whole frames of wall-clock time since the first packet.
        let frames = (started.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE)) as u64
            / FRAME_SAMPLES as u64;
        let wall = (frames * FRAME_SAMPLES as u64) as u32;
        if wall > self.timestamp {
            self.timestamp = wall;
        }
    }

    /// One RTP packet for a frame of [`FRAME_SAMPLES`] samples (shorter frames are padded with
    /// silence).
    pub(crate) fn packet(&mut self, frame: &[i16]) -> Result<rtp::Packet, RtcError> {
        let mut padded = [0_i16; FRAME_SAMPLES];
        let n = frame.len().min(FRAME_SAMPLES);
        padded[..n].copy_from_slice(&frame[..n]);
        let mut out = [0_u8; 1500];
        let len =
            self.encoder.encode(&padded, &mut out).map_err(|e| RtcError::Opus(e.to_string()))?;
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker: self.sequence == 0,
                payload_type: OPUS_PAYLOAD_TYPE,
                sequence_number: self.sequence,
                timestamp: self.timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(&out[..len]),
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        Ok(packet)
    }
}

/// Decodes the RTP packets of one stream into PCM on the sender's timeline: lost packets are
/// concealed, and a timestamp gap without lost packets (a pause, or DTX) becomes silence.
pub(crate) struct Depacketizer {
    decoder: opus::Decoder,
    last_sequence: Option<u16>,
    /// The RTP timestamp the next sample would have.
    next_timestamp: Option<u32>,
    /// The length of the last decoded frame: what a lost packet is concealed with.
    last_frame: usize,
}

impl Depacketizer {
    pub(crate) fn new() -> Result<Self, RtcError> {
        let decoder = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
            .map_err(|e| RtcError::Opus(e.to_string()))?;
        Ok(Self { decoder, last_sequence: None, next_timestamp: None, last_frame: FRAME_SAMPLES })
    }

    /// Appends the PCM of `packet` to `out`, after the concealment of up to five packets lost
    /// before it and the silence of a timestamp gap (up to 10 s).
    pub(crate) fn decode(
        &mut self,
        packet: &rtp::Packet,
        out: &mut Vec<i16>,
    ) -> Result<(), RtcError> {
        let sequence = packet.header.sequence_number;
        if let Some(last) = self.last_sequence {
            let gap = sequence.wrapping_sub(last);
            if gap == 0 || gap > u16::MAX / 2 {
                return Ok(()); // a duplicate or a late packet
            }
            let start = out.len();
            for _ in 1..gap.min(6) {
                self.decode_into(&[], out)?;
            }
            if let Some(next) = self.next_timestamp {
                let missing = packet.header.timestamp.wrapping_sub(next) as usize;
                let concealed = out.len() - start;
                if missing > concealed && missing <= 10 * SAMPLE_RATE as usize {
                    out.resize(out.len() + missing - concealed, 0);
                }
            }
        }
        self.last_sequence = Some(sequence);
        if packet.payload.is_empty() {
            return Ok(());
        }
        let before = out.len();
        self.decode_into(&packet.payload, out)?;
        self.next_timestamp =
            Some(packet.header.timestamp.wrapping_add((out.len() - before) as u32));
        Ok(())
    }

    fn decode_into(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), RtcError> {
        let mut pcm = [0_i16; 5760]; // 120 ms, Opus's longest frame
        // Concealment fills the whole buffer it is given: give it one frame's length.
        let buffer = if payload.is_empty() { &mut pcm[..self.last_frame] } else { &mut pcm[..] };
        let n = self
            .decoder
            .decode(payload, buffer, false)
            .map_err(|e| RtcError::Opus(e.to_string()))?;
        if !payload.is_empty() {
            self.last_frame = n;
        }
        out.extend_from_slice(&pcm[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn resampling_keeps_the_duration() {
        let pcm = vec![100_i16; 22_050];
        let out = resample(&pcm, 22_050, 48_000);
        assert_eq!(out.len(), 48_000);
        assert!(out.iter().all(|&s| s == 100));
    }

    #[test]
    fn a_pause_between_packets_becomes_silence_on_the_timeline() {
        let mut packetizer = Packetizer::new(7).unwrap();
        let mut depacketizer = Depacketizer::new().unwrap();
        let tone: Vec<i16> =
            (0..FRAME_SAMPLES).map(|i| if i % 20 < 10 { 5000 } else { -5000 }).collect();
        let first = packetizer.packet(&tone).unwrap();
        let mut second = packetizer.packet(&tone).unwrap();
        // Sent 500 ms later with no packet in between (a pause; DTX looks the same).
        second.header.timestamp = first.header.timestamp.wrapping_add(24_000);
        let mut out = Vec::new();
        depacketizer.decode(&first, &mut out).unwrap();
        depacketizer.decode(&second, &mut out).unwrap();
        assert_eq!(out.len(), 24_000 + FRAME_SAMPLES);
        assert!(out[FRAME_SAMPLES..24_000].iter().all(|&s| s == 0));
    }

    #[test]
    fn a_lost_packet_is_concealed_not_skipped() {
        let mut packetizer = Packetizer::new(7).unwrap();
        let mut depacketizer = Depacketizer::new().unwrap();
        let frame = vec![0_i16; FRAME_SAMPLES];
        let packets: Vec<_> = (0..3).map(|_| packetizer.packet(&frame).unwrap()).collect();
        let mut out = Vec::new();
        depacketizer.decode(&packets[0], &mut out).unwrap();
        depacketizer.decode(&packets[2], &mut out).unwrap();
        assert_eq!(out.len(), 3 * FRAME_SAMPLES);
    }
}
