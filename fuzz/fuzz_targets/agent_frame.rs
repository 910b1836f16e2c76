//! The session agent's wire format on arbitrary bytes: `read_frame` (as the agent reads a
//! request, and as a client reads a reply), then the JSON decoding of an `Envelope` and a
//! `Reply` and of the bodies a client decodes (`secret_from_wire` and friends, and a `set`'s
//! `WireUpdate`). Never panics, never reads past a frame's announced length, and whatever
//! decodes re-encodes to the same JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretctl_core::agent::{
    Envelope, FrameError, MAX_REQUEST, Reply, Request, WireSummary, folders_from_wire,
    masked_from_wire, read_frame, secret_from_wire, secret_to_wire, summary_from_wire,
    summary_to_wire,
};

/// A client reads replies of up to 256 MiB; announcing that much would make every execution
/// allocate it, so the reply path is fuzzed with a smaller limit (the code path is the same).
const REPLY_LIMIT: usize = 1 << 20;

fn check_frame(mut input: &[u8], limit: usize) -> Option<Vec<u8>> {
    let total = input.len();
    let result = read_frame(&mut input, limit);
    let consumed = total - input.len();
    match result {
        Ok(body) => {
            assert!(body.len() <= limit);
            assert_eq!(consumed, 4 + body.len(), "a frame reads exactly its length");
            Some(body.to_vec())
        }
        Err(FrameError::TooLarge(n)) => {
            assert!(n > limit);
            assert_eq!(consumed, 4, "an oversized frame is refused before its body");
            None
        }
        Err(FrameError::Truncated) => None,
        Err(err) => panic!("unexpected frame error from a byte slice: {err}"),
    }
}

fn check_envelope(body: &[u8]) {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(body) else {
        return;
    };
    let value = serde_json::to_value(&envelope).expect("an envelope serialises");
    let again: Envelope = serde_json::from_value(value.clone()).expect("an envelope decodes");
    assert_eq!(
        serde_json::to_value(&again).expect("an envelope serialises"),
        value
    );
    if let Request::Set { update, .. } = envelope.request {
        let _ = update.into_update();
    }
}

fn check_reply(body: &[u8]) {
    let Ok(reply) = serde_json::from_slice::<Reply>(body) else {
        return;
    };
    // A listing as clients decode it: typed, straight from the raw body.
    if let Ok(items) = serde_json::from_str::<Vec<WireSummary>>(reply.body.get()) {
        for item in items {
            if let Some(summary) = item.into_summary() {
                let wire = summary_to_wire(&summary);
                let again = summary_from_wire(wire.clone()).expect("a re-encoded summary decodes");
                assert_eq!(summary_to_wire(&again), wire);
            }
        }
    }
    let Some(body) = reply.decode::<serde_json::Value>() else {
        return;
    };
    if let Some(secret) = secret_from_wire(body.clone()) {
        let wire = secret_to_wire(&secret);
        let again = secret_from_wire(wire.clone()).expect("a re-encoded secret decodes");
        assert_eq!(secret_to_wire(&again), wire);
    }
    if let Some(summary) = summary_from_wire(body.clone()) {
        let wire = summary_to_wire(&summary);
        let again = summary_from_wire(wire.clone()).expect("a re-encoded summary decodes");
        assert_eq!(summary_to_wire(&again), wire);
    }
    let _ = masked_from_wire(body.clone());
    let _ = folders_from_wire(body.clone());
    if let serde_json::Value::Array(items) = body {
        for item in items {
            let _ = secret_from_wire(item.clone());
            let _ = summary_from_wire(item);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(body) = check_frame(data, MAX_REQUEST) {
        check_envelope(&body);
    }
    if let Some(body) = check_frame(data, REPLY_LIMIT) {
        check_reply(&body);
    }
    // Unframed too, so the JSON decoders are reached without the fuzzer finding a length first.
    check_envelope(data);
    check_reply(data);
});
