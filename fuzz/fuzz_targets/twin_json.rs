//! Twin JSON on arbitrary input: a GET answer and desired patches (each parsed by
//! `crate::json`) through `DesiredTracker`, and twin answers through `TwinRequests`, never
//! panic, and delivered patches come out in rising `$version` order.
#![no_main]

use azure_iot_wasm::hub::{classify, DesiredTracker, Inbound, TwinRequestKind, TwinRequests};
use azure_iot_wasm::json::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut desired = DesiredTracker::new();
    let mut last = None;
    let mut check = |updates: Vec<azure_iot_wasm::hub::DesiredUpdate>| {
        for u in updates {
            if let (Some(a), Some(b)) = (last, u.version) {
                assert!(b > a, "version {b} delivered after {a}");
            }
            last = u.version.or(last);
        }
    };
    // Pieces separated by NUL: the first is the twin GET answer, the rest desired patches
    // whose first byte picks the topic's `$version`.
    let mut pieces = data.split(|&b| b == 0);
    if let Some(twin) = pieces.next().and_then(Value::parse) {
        check(desired.handle_twin(&twin));
    }
    for p in pieces {
        let Some((&v, body)) = p.split_first() else { continue };
        if let Some(patch) = Value::parse(body) {
            check(desired.handle_patch((v % 4 != 0).then_some(i64::from(v)), patch));
        }
    }

    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::Get, Vec::new(), 0, ());
    reqs.start(TwinRequestKind::PatchReported, data.to_vec(), 0, ());
    let topic = format!("$iothub/twin/res/{}/?$rid=1&$version={}", 200 + data.len() % 300, data.len());
    if let Some(Inbound::TwinResponse(r)) = classify(&topic) {
        let _ = reqs.handle_response(&r, data);
    }
});
