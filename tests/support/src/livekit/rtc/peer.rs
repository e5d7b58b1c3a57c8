//! One webrtc-rs peer connection of a participant: its construction (Opus only, mDNS off) and
//! its events, turned into a channel the participant's task reads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

use super::error::RtcError;

/// The Opus payload type the server offers and answers with.
pub(crate) const OPUS_PAYLOAD_TYPE: u8 = 111;

/// What a peer connection reports.
pub(crate) enum PeerEvent {
    /// A remote track arrived.
    Track(Arc<dyn TrackRemote>),
    /// The remote side opened a data channel.
    DataChannel(Arc<dyn DataChannel>),
}

struct Handler {
    events: mpsc::UnboundedSender<PeerEvent>,
    gathering: watch::Sender<RTCIceGatheringState>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        let _ = self.events.send(PeerEvent::DataChannel(data_channel));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PeerEvent::Track(track));
    }
}

/// A peer connection and the state of its ICE gathering (clones share the connection).
#[derive(Clone)]
pub(crate) struct Peer {
    pub(crate) pc: Arc<dyn PeerConnection>,
    gathering: watch::Receiver<RTCIceGatheringState>,
}

/// The Opus codec the server negotiates.
pub(crate) fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

impl Peer {
    /// A peer connection bound to `udp_addr` (`0.0.0.0:0`: every non-loopback interface).
    pub(crate) async fn new(
        udp_addr: SocketAddr,
    ) -> Result<(Self, mpsc::UnboundedReceiver<PeerEvent>), RtcError> {
        let webrtc = |error: webrtc::error::Error| RtcError::WebRtc(error.to_string());
        let mut media_engine = MediaEngine::default();
        media_engine
            .register_codec(
                RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: OPUS_PAYLOAD_TYPE },
                RtpCodecKind::Audio,
            )
            .map_err(webrtc)?;
        let registry =
            register_default_interceptors(Registry::new(), &mut media_engine).map_err(webrtc)?;
        // Inside a test's network namespace joining the mDNS multicast group fails (ENODEV).
        let settings =
            SettingEngineBuilder::new().with_multicast_dns_mode(MulticastDnsMode::Disabled).build();
        let (events_tx, events) = mpsc::unbounded_channel();
        let (gathering_tx, gathering) = watch::channel(RTCIceGatheringState::New);
        let handler = Arc::new(Handler { events: events_tx, gathering: gathering_tx });
        let pc = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media_engine)
            .with_setting_engine(settings)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![udp_addr])
            .build()
            .await
            .map_err(webrtc)?;
        Ok((Self { pc: Arc::new(pc), gathering }, events))
    }

    /// Sets `description` as the local description and returns it complete, with the
    /// candidates (the server never trickles).
    pub(crate) async fn set_local_complete(
        &mut self,
        description: RTCSessionDescription,
    ) -> Result<RTCSessionDescription, RtcError> {
        self.pc
            .set_local_description(description)
            .await
            .map_err(|e| RtcError::WebRtc(e.to_string()))?;
        let gathered = self.gathering.wait_for(|state| *state == RTCIceGatheringState::Complete);
        match tokio::time::timeout(Duration::from_secs(10), gathered).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => {
                return Err(RtcError::WebRtc("ICE gathering did not complete within 10 s".into()));
            }
        }
        self.pc
            .local_description()
            .await
            .ok_or_else(|| RtcError::WebRtc("no local description after setting it".into()))
    }
}
