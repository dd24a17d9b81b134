//! The wasm32-only facade: the only module that touches JS. It binds the globals (`fetch`,
//! `WebSocket`, `setTimeout`, `Date.now`) without going through `window`, so the same module
//! runs in a page, a worker, Node, Deno and workerd, and it turns core errors into thrown JS
//! `Error`s that carry a stable `code`.
//!
//! By role:
//! * `io/`: the plumbing every export shares: JS values and errors, timers, the WebSocket and
//!   `fetch`, the turn loop, and the MQTT driver;
//! * one room per export: `keys` (`deriveDeviceKey`, `generateSasToken`), `provision/`
//!   (`provision`), `hub/` (`IotHubClient` and its driver), `mqtt_client` (`MqttClient`).
//!
//! Dependencies point one way: the exports use `io/`, never each other, and `io/` uses none of
//! them.

pub mod hub;
pub mod io;
pub mod keys;
pub mod mqtt_client;
pub mod provision;
