//! The auth vectors and bad-input cases through the JS facade, in Node.
#![cfg(target_arch = "wasm32")]

include!("web/auth_cases.rs");
