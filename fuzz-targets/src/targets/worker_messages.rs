//! Fuzzes the worker's decoding of the LiveKit server's binary frames (protobuf
//! `ServerMessage`s): any bytes decode or are refused, never a panic; a job offered or
//! assigned is read field for field.

use agents_core::worker::__fuzz::{encode_server_message, server_frame};
use livekit_protocol::{AvailabilityRequest, Job, JobAssignment, server_message};

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let Ok(Some(frame)) = server_frame(data) else { return };
    let _ = format!("{frame:?}");
    match (&frame.job, &frame.raw_job) {
        (Some(info), Some(job)) => {
            assert_eq!(info.id, job.id);
            assert_eq!(info.metadata, job.metadata);
            assert_eq!(info.room_name, job.room.clone().unwrap_or_default().name);
        }
        (None, None) => {}
        (info, job) => panic!("the job read {info:?} for {job:?}"),
    }
}

/// Seeds: an offer and an assignment of a job with a room, metadata and a participant.
pub fn seeds() -> Vec<Vec<u8>> {
    let job = Job {
        id: "AJ_1".into(),
        metadata: "{\"a\":1}".into(),
        agent_name: "agent".into(),
        room: Some(livekit_protocol::Room { name: "room".into(), ..Default::default() }),
        participant: Some(livekit_protocol::ParticipantInfo {
            identity: "user".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    vec![
        encode_server_message(server_message::Message::Availability(AvailabilityRequest {
            job: Some(job.clone()),
            ..Default::default()
        })),
        encode_server_message(server_message::Message::Assignment(JobAssignment {
            job: Some(job),
            url: Some("wss://host".into()),
            token: "token".into(),
        })),
    ]
}
