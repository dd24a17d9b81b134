//! Connection strings on arbitrary text: `ConnectionString::parse` never panics, and what it
//! accepts names a host and a device, the pieces `IotHubClient` needs.
#![no_main]

use azure_iot_wasm::hub::ConnectionString;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cs) = ConnectionString::parse(&text) {
        assert!(!cs.host_name.is_empty());
        assert!(!cs.device_id.is_empty());
        let _ = cs.connect_host();
    }
});
