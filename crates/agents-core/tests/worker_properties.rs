//! Property tests of what reaches the worker from outside the process: the LiveKit server's
//! binary frames, the job-host channel's lines, and the URLs it is given. Whatever arrives,
//! nothing panics, what is well formed is read exactly, and no secret is shown.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use agents_core::worker::__fuzz::{
    MAX_HOST_LINE, agent_url, encode_server_message, host_lines, redact, server_frame,
};
use livekit_protocol::{AvailabilityRequest, Job, JobAssignment, ParticipantInfo, server_message};
use proptest::prelude::*;

fn job(
    (id, agent_name, metadata, room, identity): (String, String, String, String, Option<String>),
) -> Job {
    Job {
        id,
        agent_name,
        metadata,
        room: Some(livekit_protocol::Room { name: room, ..Default::default() }),
        participant: identity.map(|identity| ParticipantInfo { identity, ..Default::default() }),
        ..Default::default()
    }
}

fn any_job() -> impl Strategy<Value = Job> {
    (".{0,16}", ".{0,16}", ".{0,64}", ".{0,16}", proptest::option::of(".{0,16}")).prop_map(job)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_from_the_server_decode_or_are_refused_without_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512)
    ) {
        if let Ok(Some(frame)) = server_frame(&bytes) {
            let _ = format!("{frame:?}");
            prop_assert_eq!(frame.job.is_some(), frame.raw_job.is_some());
        }
    }

    #[test]
    fn an_offered_or_assigned_job_is_read_field_for_field(job in any_job(), assigned in any::<bool>()) {
        let message = if assigned {
            server_message::Message::Assignment(JobAssignment { job: Some(job.clone()), ..Default::default() })
        } else {
            server_message::Message::Availability(AvailabilityRequest { job: Some(job.clone()), ..Default::default() })
        };
        let frame = server_frame(&encode_server_message(message)).unwrap().unwrap();
        prop_assert_eq!(frame.kind, if assigned { "assignment" } else { "availability" });
        let info = frame.job.unwrap();
        prop_assert_eq!(&info.id, &job.id);
        prop_assert_eq!(&info.agent_name, &job.agent_name);
        prop_assert_eq!(&info.metadata, &job.metadata);
        prop_assert_eq!(&info.room_name, &job.room.unwrap().name);
        prop_assert_eq!(info.participant_identity, job.participant.map(|p| p.identity));
    }

    #[test]
    fn a_frame_cut_short_never_panics(job in any_job(), cut in any::<prop::sample::Index>()) {
        let bytes = encode_server_message(server_message::Message::Availability(
            AvailabilityRequest { job: Some(job), ..Default::default() },
        ));
        let _ = server_frame(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn host_channel_lines_are_read_whole_however_the_bytes_arrive(
        lines in prop::collection::vec("[^\r\n]{0,40}", 0..8),
        crlf in any::<bool>(),
        step in 1usize..64,
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let text: String = lines.iter().map(|line| format!("{line}{newline}")).collect();
        let (read, error) = host_lines(text.as_bytes(), MAX_HOST_LINE, step);
        prop_assert_eq!(error, None);
        let read: Vec<String> = read.into_iter().map(|line| line.line).collect();
        prop_assert_eq!(read, lines);
    }

    #[test]
    fn any_bytes_on_the_host_channel_give_bounded_lines_or_an_error(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        max in 1usize..64,
        step in 1usize..32,
    ) {
        let (lines, _error) = host_lines(&bytes, max, step);
        for line in &lines {
            prop_assert!(line.line.len() <= max && !line.line.contains('\n'), "{:?}", line.line);
        }
    }

    #[test]
    fn a_line_over_the_limit_ends_the_channel_after_the_lines_before_it(
        before in prop::collection::vec("[a-z]{0,8}", 0..4),
        max in 1usize..64,
        extra in 1usize..64,
    ) {
        let mut text: String = before.iter().map(|line| format!("{line}\n")).collect();
        text.push_str(&"x".repeat(max + extra));
        text.push_str("\nafter\n");
        let (lines, error) = host_lines(text.as_bytes(), max.max(8), 7);
        if max + extra > max.max(8) {
            let error = error.expect("an error");
            prop_assert!(error.contains("more than"), "{}", error);
            let read: Vec<String> = lines.into_iter().map(|line| line.line).collect();
            prop_assert_eq!(read, before);
        }
    }

    #[test]
    fn a_start_message_never_shows_its_token(token in "TOK[A-Z0-9]{8}", id in "[a-z0-9_]{0,12}") {
        let line = serde_json::json!({
            "type": "start", "id": id, "agent_name": "", "metadata": "", "room_name": "r",
            "room_sid": "", "dispatch_id": "", "participant_identity": null,
            "url": format!("wss://user:{token}@host?access_token={token}"), "token": token,
            "identity": "agent",
        })
        .to_string();
        let (lines, error) = host_lines(format!("{line}\n").as_bytes(), MAX_HOST_LINE, 16);
        prop_assert_eq!(error, None);
        let shown = lines[0].to_host.clone().expect("a start message");
        prop_assert!(!shown.contains(&token), "{}", shown);
    }

    #[test]
    fn a_livekit_url_never_shows_its_password_or_the_worker_token(
        scheme in "(http|https|ws|wss|ftp|HTTPS|)",
        host in "[a-z][a-z0-9.-]{0,20}",
        port in proptest::option::of(any::<u16>()),
        path in "(/[a-z]{0,6}){0,3}/?",
        password in "PW[A-Z0-9@:/]{6}",
        token in "TOK[A-Z0-9]{8}",
        noise in ".{0,12}",
    ) {
        let port = port.map(|port| format!(":{port}")).unwrap_or_default();
        for url in [
            format!("{scheme}://user:{password}@{host}{port}{path}"),
            format!("{scheme}://{host}{port}{path}?secret={password}"),
            format!("{scheme}://{host}{port}{path}#{password}{noise}"),
            format!("{scheme}://{host}{port}{path}{noise}"),
            format!("user:{password}@{host}{port}{path}"),
            format!("{noise}{scheme}:/user:{password}@{host}"),
        ] {
            let shown = match agent_url(&url, Some(&token)) {
                Ok((debug, shown)) => format!("{debug} {shown}"),
                Err(error) => error,
            };
            for secret in [&password, &token] {
                prop_assert!(!shown.contains(secret.as_str()), "{} shows {}: {}", url, secret, shown);
            }
            if url.contains("://") {
                prop_assert!(!redact(&url).contains(&password), "{}", url);
            }
        }
    }
}

/// Found by the `worker_url` fuzz target: a `://` after the credentials is no scheme, and
/// the text before it (the password) was shown as if it were one.
#[test]
fn text_before_a_late_scheme_separator_is_not_shown_as_a_scheme() {
    let url = "x:PASSWORD@hostwss://y@host";
    assert_eq!(redact(url), "<redacted>@host");
    let error = agent_url(url, None).unwrap_err();
    assert!(!error.contains("PASSWORD"), "{error}");
}
