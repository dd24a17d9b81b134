//! The auth vectors and bad-input cases through the JS facade, in headless Chromium.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

include!("web/auth_cases.rs");
