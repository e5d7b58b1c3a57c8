//! Text input: `lk.chat` messages as the user's turns.

use tokio::sync::watch;

use super::session_of;
use crate::voice::{AgentSession, ReplyOptions};

/// Feeds `lk.chat` messages to the session as user input, interrupting its reply.
///
/// Each stream is read in a task of its own (owned here, aborted with this task), as Python
/// does: a stream whose trailer never comes (its sender left mid-message) holds up no other.
pub(super) async fn chat_input(
    mut sessions: watch::Receiver<Option<AgentSession>>,
    mut chat: agents_rtc::TextStreamReceiver,
) {
    let Some(session) = session_of(&mut sessions).await else { return };
    let mut reads = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            reader = chat.next() => {
                let Some(reader) = reader else { return };
                let session = session.clone();
                reads.spawn(async move {
                    let sender = reader.participant_identity().to_owned();
                    match reader.read_all().await {
                        Ok(text) if !text.trim().is_empty() => {
                            session.interrupt();
                            session.generate_reply(ReplyOptions::user_input(text));
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(
                            participant = %sender,
                            "an lk.chat message could not be read: {error}"
                        ),
                    }
                });
            }
            Some(_) = reads.join_next(), if !reads.is_empty() => {}
        }
    }
}
