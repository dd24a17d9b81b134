//! Azure IoT device client for browsers and edge runtimes.
//!
//! The crate is split into a sans-I/O core that compiles and is tested natively, and a thin
//! wasm32-only facade (`web`) that binds the JS globals (`fetch`, `WebSocket`, `setTimeout`,
//! `Date.now`) and drives the core. The core never reads a clock, a random source or the
//! network: `now` and jitter come in, bytes, requests, deadlines and events come out.

pub mod auth;
pub mod dps;
pub mod hub;
pub mod json;
pub mod mqtt;
pub mod query;
pub mod retry;
pub mod text;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
