//! `ffi.proto`: the envelopes of every request, response and event.

use super::*;

#[derive(Clone, PartialEq, prost::Message)]
pub struct FfiRequest {
    #[prost(
        oneof = "ffi_request::Message",
        tags = "3, 4, 5, 6, 7, 11, 16, 25, 26, 27, 28, 32, 57, 58, 60, 64, 65, 66, 83"
    )]
    pub message: Option<ffi_request::Message>,
}

pub mod ffi_request {
    use super::*;

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(message, tag = "3")]
        Connect(ConnectRequest),
        #[prost(message, tag = "4")]
        Disconnect(DisconnectRequest),
        #[prost(message, tag = "5")]
        PublishTrack(PublishTrackRequest),
        #[prost(message, tag = "6")]
        UnpublishTrack(UnpublishTrackRequest),
        #[prost(message, tag = "7")]
        PublishData(PublishDataRequest),
        #[prost(message, tag = "11")]
        SetLocalAttributes(SetLocalAttributesRequest),
        #[prost(message, tag = "16")]
        CreateAudioTrack(CreateAudioTrackRequest),
        #[prost(message, tag = "25")]
        NewAudioStream(NewAudioStreamRequest),
        #[prost(message, tag = "26")]
        NewAudioSource(NewAudioSourceRequest),
        #[prost(message, tag = "27")]
        CaptureAudioFrame(CaptureAudioFrameRequest),
        #[prost(message, tag = "28")]
        ClearAudioBuffer(ClearAudioBufferRequest),
        #[prost(message, tag = "32")]
        AudioStreamFromParticipant(AudioStreamFromParticipantRequest),
        #[prost(message, tag = "57")]
        TextReadIncremental(TextStreamReaderReadIncrementalRequest),
        #[prost(message, tag = "58")]
        TextReadAll(TextStreamReaderReadAllRequest),
        #[prost(message, tag = "60")]
        SendText(StreamSendTextRequest),
        #[prost(message, tag = "64")]
        TextStreamOpen(TextStreamOpenRequest),
        #[prost(message, tag = "65")]
        TextStreamWrite(TextStreamWriterWriteRequest),
        #[prost(message, tag = "66")]
        TextStreamClose(TextStreamWriterCloseRequest),
        #[prost(message, tag = "83")]
        ReadyForRoomEvent(ReadyForRoomEventRequest),
    }
}

#[derive(PartialEq, prost::Message)]
pub struct FfiResponse {
    #[prost(
        oneof = "ffi_response::Message",
        tags = "3, 4, 5, 6, 7, 11, 16, 25, 26, 27, 28, 31, 56, 57, 59, 63, 64, 65, 82"
    )]
    pub message: Option<ffi_response::Message>,
}

pub mod ffi_response {
    use super::*;

    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(message, tag = "3")]
        Connect(ConnectResponse),
        #[prost(message, tag = "4")]
        Disconnect(DisconnectResponse),
        #[prost(message, tag = "5")]
        PublishTrack(PublishTrackResponse),
        #[prost(message, tag = "6")]
        UnpublishTrack(UnpublishTrackResponse),
        #[prost(message, tag = "7")]
        PublishData(PublishDataResponse),
        #[prost(message, tag = "11")]
        SetLocalAttributes(SetLocalAttributesResponse),
        #[prost(message, tag = "16")]
        CreateAudioTrack(CreateAudioTrackResponse),
        #[prost(message, tag = "25")]
        NewAudioStream(NewAudioStreamResponse),
        #[prost(message, tag = "26")]
        NewAudioSource(NewAudioSourceResponse),
        #[prost(message, tag = "27")]
        CaptureAudioFrame(CaptureAudioFrameResponse),
        #[prost(message, tag = "28")]
        ClearAudioBuffer(ClearAudioBufferResponse),
        #[prost(message, tag = "31")]
        AudioStreamFromParticipant(AudioStreamFromParticipantResponse),
        #[prost(message, tag = "56")]
        TextReadIncremental(TextStreamReaderReadIncrementalResponse),
        #[prost(message, tag = "57")]
        TextReadAll(TextStreamReaderReadAllResponse),
        #[prost(message, tag = "59")]
        SendText(StreamSendTextResponse),
        #[prost(message, tag = "63")]
        TextStreamOpen(TextStreamOpenResponse),
        #[prost(message, tag = "64")]
        TextStreamWrite(TextStreamWriterWriteResponse),
        #[prost(message, tag = "65")]
        TextStreamClose(TextStreamWriterCloseResponse),
        #[prost(message, tag = "82")]
        ReadyForRoomEvent(ReadyForRoomEventResponse),
    }
}

#[derive(PartialEq, prost::Message)]
pub struct FfiEvent {
    #[prost(
        oneof = "ffi_event::Message",
        tags = "1, 4, 5, 7, 9, 10, 11, 13, 16, 20, 35, 36, 37, 38, 39, 40"
    )]
    pub message: Option<ffi_event::Message>,
}

pub mod ffi_event {
    use super::*;

    #[derive(PartialEq, prost::Oneof)]
    pub enum Message {
        #[prost(message, tag = "1")]
        RoomEvent(RoomEvent),
        #[prost(message, tag = "4")]
        AudioStreamEvent(AudioStreamEvent),
        #[prost(message, tag = "5")]
        Connect(ConnectCallback),
        #[prost(message, tag = "7")]
        Disconnect(DisconnectCallback),
        #[prost(message, tag = "9")]
        PublishTrack(PublishTrackCallback),
        #[prost(message, tag = "10")]
        UnpublishTrack(UnpublishTrackCallback),
        #[prost(message, tag = "11")]
        PublishData(PublishDataCallback),
        #[prost(message, tag = "13")]
        CaptureAudioFrame(CaptureAudioFrameCallback),
        #[prost(message, tag = "16")]
        SetLocalAttributes(SetLocalAttributesCallback),
        #[prost(message, tag = "20")]
        Panic(Panic),
        #[prost(message, tag = "35")]
        TextStreamReaderEvent(TextStreamReaderEvent),
        #[prost(message, tag = "36")]
        TextStreamReaderReadAll(TextStreamReaderReadAllCallback),
        #[prost(message, tag = "37")]
        TextStreamOpen(TextStreamOpenCallback),
        #[prost(message, tag = "38")]
        TextStreamWriterWrite(TextStreamWriterWriteCallback),
        #[prost(message, tag = "39")]
        TextStreamWriterClose(TextStreamWriterCloseCallback),
        #[prost(message, tag = "40")]
        SendText(StreamSendTextCallback),
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Panic {
    #[prost(string, required, tag = "1")]
    pub message: String,
}
