//! Fuzzes the room client's event callback: any bytes liblivekit_ffi could pass it decode
//! into an event and are routed, or are ignored — never a panic — and every handle a
//! decoded event owns is released (the counters balance).

/// One run over `data`: panics when a property does not hold.
pub fn run(data: &[u8]) {
    let before = agents_rtc::handle_stats();
    agents_rtc::fuzzing::dispatch_event(data);
    let after = agents_rtc::handle_stats();
    assert_eq!(after.live(), before.live(), "a handle of {data:?} leaked");
}
