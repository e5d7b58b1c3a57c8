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
    fatal: Option<String>,
}

struct RoomRoute {
    events: mpsc::UnboundedSender<RoomMessage>,
    text_topics: HashMap<String, mpsc::UnboundedSender<TextStreamOpened>>,
}

static ROUTES: LazyLock<Mutex<Routes>> = LazyLock::new(Mutex::default);

/// Async ids we choose (`request_async_id`), far above the library's own counter.
static NEXT_ASYNC_ID: AtomicU64 = AtomicU64::new(1 << 32);

fn routes() -> MutexGuard<'static, Routes> {
    // A panic while the lock was held left the table consistent (every operation is a single
    // insert, remove or lookup): keep using it.
    ROUTES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh async id for a request.
pub(crate) fn next_async_id() -> u64 {
    NEXT_ASYNC_ID.fetch_add(1, Ordering::Relaxed)
}

/// The library's panic text, once it has panicked.
pub(crate) fn fatal() -> Option<String> {
    routes().fatal.clone()
}

/// Registers the waiter for `async_id`'s callback; register before sending the request.
pub(crate) fn register_waiter(async_id: u64) -> oneshot::Receiver<Reply> {
    let (sender, receiver) = oneshot::channel();
    let mut routes = routes();
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
pub(crate) fn cancel_waiter(async_id: u64) {
    routes().waiters.remove(&async_id);
}

/// Routes the events of room `handle` to `events`.
pub(crate) fn register_room(handle: u64, events: mpsc::UnboundedSender<RoomMessage>) {
    let mut routes = routes();
    if let Some(message) = &routes.fatal {
        let _ = events.send(RoomMessage::Fatal(message.clone()));
        return;
    }
    routes.rooms.insert(handle, RoomRoute { events, text_topics: HashMap::new() });
}

/// Stops routing room `handle`'s events.
pub(crate) fn unregister_room(handle: u64) {
    routes().rooms.remove(&handle);
}

/// Routes the text streams of room `room` on `topic` to `readers`; `false` when the topic
/// already has a receiver (or the room is gone).
pub(crate) fn register_text_topic(
    room: u64,
    topic: &str,
    readers: mpsc::UnboundedSender<TextStreamOpened>,
) -> bool {
    let mut routes = routes();
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
pub(crate) fn register_audio_stream(handle: u64, frames: mpsc::UnboundedSender<AudioStreamEvent>) {
    let mut routes = routes();
    if routes.fatal.is_none() {
        routes.audio_streams.insert(handle, frames);
    }
}

/// Stops routing audio stream `handle`.
pub(crate) fn unregister_audio_stream(handle: u64) {
    routes().audio_streams.remove(&handle);
}

/// Routes text stream reader `handle`'s chunks to `chunks`.
pub(crate) fn register_text_reader(
    handle: u64,
    chunks: mpsc::UnboundedSender<TextStreamReaderEvent>,
) {
    let mut routes = routes();
    if routes.fatal.is_none() {
        routes.text_readers.insert(handle, chunks);
    }
}

/// Stops routing text stream reader `handle`.
pub(crate) fn unregister_text_reader(handle: u64) {
    routes().text_readers.remove(&handle);
}

/// The callback's work: decode `bytes` as an `FfiEvent` and route it. Bytes that do not
/// decode are ignored (the library sends none; the fuzz target sends nothing else).
pub(crate) fn on_event(bytes: &[u8]) {
    let Ok(FfiEvent { message: Some(message) }) = FfiEvent::decode(bytes) else { return };
    let undelivered = route(message);
    // Dropped after the lock is released: dropping releases handles, and the library may
    // answer a release with another event on this thread.
    drop(undelivered);
}

/// A message nobody took, dropped (its handles released) outside the lock.
type Undelivered = Option<Box<dyn std::any::Any + Send>>;

fn keep<T: Send + 'static>(value: T) -> Undelivered {
    Some(Box::new(value))
}

fn route(message: ffi_event::Message) -> Undelivered {
    use ffi_event::Message as M;
    let async_id = match &message {
        M::RoomEvent(_) | M::AudioStreamEvent(_) | M::TextStreamReaderEvent(_) | M::Panic(_) => {
            None
        }
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
    let mut routes = routes();
    if let Some(async_id) = async_id {
        return match routes.waiters.remove(&async_id) {
            // A dropped receiver hands the message back.
            Some(waiter) => waiter.send(Ok(message)).err().and_then(keep),
            None => keep(message),
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
            match route.events.send(RoomMessage::Event(event)) {
                Ok(()) => None,
                Err(undelivered) => {
                    routes.rooms.remove(&room_handle);
                    keep(undelivered)
                }
            }
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
            routes.fatal = Some(message);
            keep((rooms, streams, readers))
        }
        other => keep(other),
    }
}
