//! The routing table behind the event callback: which channel each event goes to.
//!
//! The library calls one process-wide callback (`sys::on_event`) on its own threads. It
//! decodes the event and hands it to [`on_event`], which looks up its destination — the
//! waiter registered for an async id, or the channel of a room, an audio stream or a text
//! stream reader, by handle — and sends it without waiting (the channels are unbounded). The
//! lock is held only for the lookup and the send, never across user code or an `.await`.
//! An event nobody waits for is dropped, and with it every handle it owned.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use prost::Message as _;
use tokio::sync::{mpsc, oneshot};

use crate::proto::{
    AudioStreamEvent, FfiEvent, RoomEvent, TextStreamOpened, TextStreamReaderEvent, ffi_event,
    room_event,
};

/// What a waiter receives: the callback message, or the library's panic text.
pub(crate) type Reply = Result<ffi_event::Message, String>;

/// What a room's channel carries (moved once per event: its size does not matter).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum RoomMessage {
    /// An event of the room.
    Event(room_event::Message),
    /// The library panicked: the room is dead.
    Fatal(String),
}

#[derive(Default)]
struct Routes {
    waiters: HashMap<u64, oneshot::Sender<Reply>>,
    rooms: HashMap<u64, RoomRoute>,
    audio_streams: HashMap<u64, mpsc::UnboundedSender<AudioStreamEvent>>,
    text_readers: HashMap<u64, mpsc::UnboundedSender<TextStreamReaderEvent>>,
    /// Values kept alive until the callback of their async id arrives (a room's handle until
    /// the library has answered its disconnect).
    parked: HashMap<u64, Box<dyn std::any::Any + Send>>,
    fatal: Option<String>,
}

/// The callback of a connect nobody waits for any more (it timed out or was cancelled): the
/// library joined a room for no one, which must be left.
pub(crate) struct OrphanedConnect(pub(crate) crate::proto::ConnectCallback);

struct RoomRoute {
    events: mpsc::UnboundedSender<RoomMessage>,
    text_topics: HashMap<String, mpsc::UnboundedSender<TextStreamOpened>>,
}

/// The routing table. The library's callback uses [`dispatcher`]; tests make their own.
#[derive(Default)]
pub(crate) struct Dispatcher {
    routes: Mutex<Routes>,
}

static DISPATCHER: LazyLock<Dispatcher> = LazyLock::new(Dispatcher::default);

/// The process-wide dispatcher, the one the library's callback feeds.
pub(crate) fn dispatcher() -> &'static Dispatcher {
    &DISPATCHER
}

/// Async ids we choose (`request_async_id`), far above the library's own counter.
static NEXT_ASYNC_ID: AtomicU64 = AtomicU64::new(1 << 32);

/// A fresh async id for a request.
pub(crate) fn next_async_id() -> u64 {
    NEXT_ASYNC_ID.fetch_add(1, Ordering::Relaxed)
}

/// A message nobody took, dropped (its handles released) outside the lock.
type Undelivered = Option<Box<dyn std::any::Any + Send>>;

fn keep<T: Send + 'static>(value: T) -> Undelivered {
    Some(Box::new(value))
}

impl Dispatcher {
    fn lock(&self) -> MutexGuard<'_, Routes> {
        // A panic while the lock was held left the table consistent (every operation is a
        // single insert, remove or lookup): keep using it.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The library's panic text, once it has panicked.
    pub(crate) fn fatal(&self) -> Option<String> {
        self.lock().fatal.clone()
    }

    /// Registers the waiter for `async_id`'s callback; register before sending the request.
    pub(crate) fn register_waiter(&self, async_id: u64) -> oneshot::Receiver<Reply> {
        let (sender, receiver) = oneshot::channel();
        let mut routes = self.lock();
        match &routes.fatal {
            Some(message) => {
                let _ = sender.send(Err(message.clone()));
            }
            None => {
                routes.waiters.insert(async_id, sender);
            }
        }
        receiver
    }

    /// Forgets the waiter for `async_id` (its request failed, or its future was dropped).
    pub(crate) fn cancel_waiter(&self, async_id: u64) {
        self.lock().waiters.remove(&async_id);
    }

    /// Keeps `value` until the callback of `async_id` arrives (or the library panics).
    pub(crate) fn park(&self, async_id: u64, value: Box<dyn std::any::Any + Send>) {
        let mut routes = self.lock();
        if routes.fatal.is_some() {
            drop(routes);
            drop(value);
            return;
        }
        routes.parked.insert(async_id, value);
    }

    /// Drops what was parked under `async_id` (its callback will not come).
    pub(crate) fn unpark(&self, async_id: u64) {
        let parked = self.lock().parked.remove(&async_id);
        drop(parked);
    }

    /// Routes the events of room `handle` to `events`.
    pub(crate) fn register_room(&self, handle: u64, events: mpsc::UnboundedSender<RoomMessage>) {
        let mut routes = self.lock();
        if let Some(message) = &routes.fatal {
            let _ = events.send(RoomMessage::Fatal(message.clone()));
            return;
        }
        routes.rooms.insert(handle, RoomRoute { events, text_topics: HashMap::new() });
    }

    /// Stops routing room `handle`'s events.
    pub(crate) fn unregister_room(&self, handle: u64) {
        self.lock().rooms.remove(&handle);
    }

    /// Routes the text streams of room `room` on `topic` to `readers`; `false` when the topic
    /// already has a receiver (or the room is gone).
    pub(crate) fn register_text_topic(
        &self,
        room: u64,
        topic: &str,
        readers: mpsc::UnboundedSender<TextStreamOpened>,
    ) -> bool {
        let mut routes = self.lock();
        let Some(route) = routes.rooms.get_mut(&room) else { return false };
        match route.text_topics.get(topic) {
            Some(existing) if !existing.is_closed() => false,
            _ => {
                route.text_topics.insert(topic.to_owned(), readers);
                true
            }
        }
    }

    /// Routes audio stream `handle`'s frames to `frames`.
    pub(crate) fn register_audio_stream(
        &self,
        handle: u64,
        frames: mpsc::UnboundedSender<AudioStreamEvent>,
    ) {
        let mut routes = self.lock();
        if routes.fatal.is_none() {
            routes.audio_streams.insert(handle, frames);
        }
    }

    /// Stops routing audio stream `handle`.
    pub(crate) fn unregister_audio_stream(&self, handle: u64) {
        self.lock().audio_streams.remove(&handle);
    }

    /// Routes text stream reader `handle`'s chunks to `chunks`.
    pub(crate) fn register_text_reader(
        &self,
        handle: u64,
        chunks: mpsc::UnboundedSender<TextStreamReaderEvent>,
    ) {
        let mut routes = self.lock();
        if routes.fatal.is_none() {
            routes.text_readers.insert(handle, chunks);
        }
    }

    /// Stops routing text stream reader `handle`.
    pub(crate) fn unregister_text_reader(&self, handle: u64) {
        self.lock().text_readers.remove(&handle);
    }

    /// The callback's work: decode `bytes` as an `FfiEvent` and route it. Bytes that do not
    /// decode are ignored (the library sends none; the fuzz target sends nothing else).
    pub(crate) fn on_event(&self, bytes: &[u8]) {
        let Ok(FfiEvent { message: Some(message) }) = FfiEvent::decode(bytes) else { return };
        let undelivered = self.route(message);
        // Dropped after the lock is released: dropping releases handles, and the library may
        // answer a release with another event on this thread.
        if let Some(undelivered) = undelivered
            && let Ok(orphan) = undelivered.downcast::<OrphanedConnect>()
        {
            crate::room::leave_orphaned(orphan.0);
        }
    }

    fn route(&self, message: ffi_event::Message) -> Undelivered {
        use ffi_event::Message as M;
        let async_id = match &message {
            M::RoomEvent(_)
            | M::AudioStreamEvent(_)
            | M::TextStreamReaderEvent(_)
            | M::Panic(_) => None,
            M::Connect(e) => Some(e.async_id),
            M::Disconnect(e) => Some(e.async_id),
            M::PublishTrack(e) => Some(e.async_id),
            M::UnpublishTrack(e) => Some(e.async_id),
            M::PublishData(e) => Some(e.async_id),
            M::CaptureAudioFrame(e) => Some(e.async_id),
            M::SetLocalAttributes(e) => Some(e.async_id),
            M::TextStreamReaderReadAll(e) => Some(e.async_id),
            M::TextStreamOpen(e) => Some(e.async_id),
            M::TextStreamWriterWrite(e) => Some(e.async_id),
            M::TextStreamWriterClose(e) => Some(e.async_id),
            M::SendText(e) => Some(e.async_id),
        };
        let mut routes = self.lock();
        if let Some(async_id) = async_id {
            return match routes.waiters.remove(&async_id) {
                // A dropped receiver hands the message back.
                Some(waiter) => match waiter.send(Ok(message)) {
                    Ok(()) => None,
                    Err(Ok(M::Connect(callback))) => keep(OrphanedConnect(callback)),
                    Err(other) => keep(other),
                },
                None => match message {
                    M::Connect(callback) => keep(OrphanedConnect(callback)),
                    message => keep((message, routes.parked.remove(&async_id))),
                },
            };
        }
        match message {
            M::RoomEvent(RoomEvent { room_handle, message: Some(event) }) => {
                let Some(route) = routes.rooms.get(&room_handle) else { return keep(event) };
                if let room_event::Message::TextStreamOpened(opened) = event {
                    // A topic nobody receives: the reader is dropped, as Python ignores it.
                    return match route.text_topics.get(&opened.reader.info.topic) {
                        Some(readers) => readers.send(opened).err().and_then(keep),
                        None => keep(opened),
                    };
                }
                // Nobody reading the room's events (its `RoomEvents` dropped) is no reason to
                // stop routing its text streams: the route stays until the room is dropped.
                route.events.send(RoomMessage::Event(event)).err().and_then(keep)
            }
            M::AudioStreamEvent(event) => {
                let handle = event.stream_handle;
                let Some(frames) = routes.audio_streams.get(&handle) else { return keep(event) };
                frames.send(event).err().and_then(|undelivered| {
                    routes.audio_streams.remove(&handle);
                    keep(undelivered)
                })
            }
            M::TextStreamReaderEvent(event) => {
                let handle = event.reader_handle;
                let Some(chunks) = routes.text_readers.get(&handle) else { return keep(event) };
                chunks.send(event).err().and_then(|undelivered| {
                    routes.text_readers.remove(&handle);
                    keep(undelivered)
                })
            }
            M::Panic(panic) => {
                let message = panic.message;
                for (_, waiter) in routes.waiters.drain() {
                    let _ = waiter.send(Err(message.clone()));
                }
                let rooms: Vec<_> = routes.rooms.drain().map(|(_, room)| room).collect();
                for room in &rooms {
                    let _ = room.events.send(RoomMessage::Fatal(message.clone()));
                }
                // Their streams end: the senders are dropped (outside the lock, with the rest).
                let streams = std::mem::take(&mut routes.audio_streams);
                let readers = std::mem::take(&mut routes.text_readers);
                let parked = std::mem::take(&mut routes.parked);
                routes.fatal = Some(message);
                keep((rooms, streams, readers, parked))
            }
            other => keep(other),
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use std::sync::Mutex;

    use prost::Message as _;

    use super::*;
    use crate::proto::{self, FfiOwnedHandle, handle_stats};

    /// Tests that count handles run one at a time (the counters are process-wide).
    static COUNTING: Mutex<()> = Mutex::new(());

    /// `message` as the library would send it. The message's own handles are forgotten
    /// (they are the library's until decoded).
    fn bytes(message: ffi_event::Message) -> Vec<u8> {
        let event = FfiEvent { message: Some(message) };
        let encoded = event.encode_to_vec();
        std::mem::forget(event);
        encoded
    }

    fn handle(id: u64) -> FfiOwnedHandle {
        FfiOwnedHandle { id }
    }

    fn room_event(room_handle: u64, message: room_event::Message) -> Vec<u8> {
        bytes(ffi_event::Message::RoomEvent(RoomEvent { room_handle, message: Some(message) }))
    }

    fn track_subscribed(room: u64, id: u64) -> Vec<u8> {
        room_event(
            room,
            room_event::Message::TrackSubscribed(proto::TrackSubscribed {
                participant_identity: "user".into(),
                track: proto::OwnedTrack { handle: handle(id), info: proto::TrackInfo::default() },
            }),
        )
    }

    #[test]
    fn a_parked_handle_lives_until_the_callback_of_its_async_id() {
        struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dispatcher = Dispatcher::default();
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        dispatcher.park(41, Box::new(Flag(dropped.clone())));
        dispatcher.on_event(&bytes(ffi_event::Message::Disconnect(proto::DisconnectCallback {
            async_id: 40,
        })));
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst), "released too early");
        dispatcher.on_event(&bytes(ffi_event::Message::Disconnect(proto::DisconnectCallback {
            async_id: 41,
        })));
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "kept after its callback");
    }

    #[test]
    fn a_connect_callback_nobody_waits_for_is_an_orphan_to_leave() {
        let dispatcher = Dispatcher::default();
        let orphan = dispatcher.route(ffi_event::Message::Connect(proto::ConnectCallback {
            async_id: 9,
            message: Some(proto::connect_callback::Message::Error("late".into())),
        }));
        match orphan.map(|orphan| orphan.downcast::<OrphanedConnect>()) {
            Some(Ok(orphan)) => assert_eq!(orphan.0.async_id, 9),
            _ => panic!("a late connect callback must be left, not dropped"),
        }
    }

    #[tokio::test]
    async fn a_callback_reaches_the_waiter_of_its_async_id_only() {
        let dispatcher = Dispatcher::default();
        let mine = dispatcher.register_waiter(7);
        let other = dispatcher.register_waiter(8);
        dispatcher.on_event(&bytes(ffi_event::Message::Connect(proto::ConnectCallback {
            async_id: 7,
            message: Some(proto::connect_callback::Message::Error("refused".into())),
        })));
        match mine.await {
            Ok(Ok(ffi_event::Message::Connect(callback))) => assert_eq!(
                callback.message,
                Some(proto::connect_callback::Message::Error("refused".into()))
            ),
            other => panic!("expected the connect callback, got {other:?}"),
        }
        dispatcher.cancel_waiter(8);
        assert!(other.await.is_err(), "a cancelled waiter's channel closes");
    }

    #[tokio::test]
    async fn room_events_go_to_their_room_by_handle() {
        let dispatcher = Dispatcher::default();
        let (sender, mut events) = mpsc::unbounded_channel();
        dispatcher.register_room(5, sender);
        let left = |room| {
            room_event(
                room,
                room_event::Message::ParticipantDisconnected(proto::ParticipantDisconnected {
                    participant_identity: "user".into(),
                    disconnect_reason: proto::DisconnectReason::SignalClose as i32,
                }),
            )
        };
        dispatcher.on_event(&left(6));
        dispatcher.on_event(&left(5));
        match events.try_recv() {
            Ok(RoomMessage::Event(room_event::Message::ParticipantDisconnected(e))) => {
                assert_eq!(e.participant_identity, "user");
                assert_eq!(e.disconnect_reason, proto::DisconnectReason::SignalClose as i32);
            }
            other => panic!("expected the room's event, got {other:?}"),
        }
        assert!(events.try_recv().is_err(), "room 6's event went elsewhere");
    }

    #[tokio::test]
    async fn text_streams_go_to_the_receiver_of_their_topic() {
        let _counting = COUNTING.lock().unwrap_or_else(PoisonError::into_inner);
        let dispatcher = Dispatcher::default();
        let (sender, _events) = mpsc::unbounded_channel();
        dispatcher.register_room(1, sender);
        let (chat_sender, mut chat) = mpsc::unbounded_channel();
        assert!(dispatcher.register_text_topic(1, "lk.chat", chat_sender.clone()));
        assert!(!dispatcher.register_text_topic(1, "lk.chat", chat_sender), "one per topic");
        let opened = |topic: &str, id| {
            room_event(
                1,
                room_event::Message::TextStreamOpened(proto::TextStreamOpened {
                    reader: proto::OwnedTextStreamReader {
                        handle: handle(id),
                        info: proto::TextStreamInfo { topic: topic.into(), ..Default::default() },
                    },
                    participant_identity: "user".into(),
                }),
            )
        };
        let before = handle_stats();
        dispatcher.on_event(&opened("lk.other", 11));
        dispatcher.on_event(&opened("lk.chat", 12));
        let after = handle_stats();
        assert_eq!(after.received - before.received, 2);
        assert_eq!(after.released - before.released, 1, "the unreceived topic's reader");
        let reader = chat.try_recv().expect("the lk.chat stream");
        assert_eq!(reader.reader.handle.id, 12);
        drop(reader);
        assert_eq!(handle_stats().live(), before.live());
    }

    #[test]
    fn undeliverable_events_release_every_handle_they_own() {
        let _counting = COUNTING.lock().unwrap_or_else(PoisonError::into_inner);
        let dispatcher = Dispatcher::default();
        let before = handle_stats();
        // No room 3, a closed room 4, no waiter for async id 9.
        dispatcher.on_event(&track_subscribed(3, 21));
        let (sender, events) = mpsc::unbounded_channel();
        dispatcher.register_room(4, sender);
        drop(events);
        dispatcher.on_event(&track_subscribed(4, 22));
        // The room's route outlives its dropped event receiver (text streams still go).
        assert!(dispatcher.lock().rooms.contains_key(&4));
        dispatcher.on_event(&bytes(ffi_event::Message::PublishTrack(
            proto::PublishTrackCallback {
                async_id: 9,
                message: Some(proto::publish_track_callback::Message::Publication(
                    proto::OwnedTrackPublication { handle: handle(23), info: Default::default() },
                )),
            },
        )));
        // A repeated handle field: the first id is released, not overwritten.
        let mut doubled = track_subscribed(3, 24);
        doubled.extend_from_slice(&track_subscribed(3, 25));
        dispatcher.on_event(&doubled);
        let after = handle_stats();
        assert_eq!(after.received - before.received, 5);
        assert_eq!(after.released - before.released, 5);
        assert_eq!(after.rejected, before.rejected);
    }

    #[tokio::test]
    async fn the_library_panic_is_fatal_to_every_room_and_request() {
        let dispatcher = Dispatcher::default();
        let (sender, mut events) = mpsc::unbounded_channel();
        dispatcher.register_room(1, sender);
        let waiter = dispatcher.register_waiter(3);
        let (frames_sender, mut frames) = mpsc::unbounded_channel();
        dispatcher.register_audio_stream(2, frames_sender);
        let text = "called `Option::unwrap()` on a `None` value";
        dispatcher
            .on_event(&bytes(ffi_event::Message::Panic(proto::Panic { message: text.into() })));
        match events.try_recv() {
            Ok(RoomMessage::Fatal(message)) => assert_eq!(message, text),
            other => panic!("expected the fatal error, got {other:?}"),
        }
        match waiter.await {
            Ok(Err(message)) => assert_eq!(message, text),
            other => panic!("expected the waiter to fail, got {other:?}"),
        }
        assert!(frames.recv().await.is_none(), "streams end");
        assert_eq!(dispatcher.fatal().as_deref(), Some(text));
        match dispatcher.register_waiter(4).await {
            Ok(Err(message)) => assert_eq!(message, text),
            other => panic!("a later request fails at once, got {other:?}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let _counting = COUNTING.lock().unwrap_or_else(PoisonError::into_inner);
        let dispatcher = Dispatcher::default();
        let (sender, _events) = mpsc::unbounded_channel();
        dispatcher.register_room(1, sender);
        let valid = track_subscribed(1, 0);
        // Every prefix and every single-byte change of a valid event, then pseudo-random bytes.
        for end in 0..=valid.len() {
            dispatcher.on_event(&valid[..end]);
        }
        for at in 0..valid.len() {
            for value in [0x00, 0x08, 0x0a, 0x7f, 0x80, 0xff] {
                let mut changed = valid.clone();
                changed[at] = value;
                dispatcher.on_event(&changed);
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let len = (state % 64) as usize;
            let mut noise = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                noise.push(state as u8);
            }
            dispatcher.on_event(&noise);
        }
    }
}
