//! The wasm32-only facade: the only module that touches JS. It binds the globals (`fetch`,
//! `WebSocket`, `setTimeout`, `Date.now`) without going through `window`, so the same module
//! runs in a page, a worker, Node, Deno and workerd, and it turns core errors into thrown JS
//! `Error`s that carry a stable `code`.

pub mod auth;
pub mod error;
pub mod hub_client;
pub mod hub_driver;
pub mod hub_message;
pub mod hub_options;
pub mod hub_socket;
pub mod js;
mod mailbox;
pub mod mqtt_client;
pub mod mqtt_driver;
mod mqtt_oneshot;
pub mod mqtt_socket;
pub mod provision;
pub mod provision_io;
pub mod provision_mqtt;
pub mod provision_options;
pub mod timer;
