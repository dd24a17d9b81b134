//! The wasm32-only facade: the only module that touches JS. It binds the globals (`fetch`,
//! `WebSocket`, `setTimeout`, `Date.now`) without going through `window`, so the same module
//! runs in a page, a worker, Node, Deno and workerd, and it turns core errors into thrown JS
//! `Error`s that carry a stable `code`.

pub mod auth;
pub mod error;
pub mod js;
pub mod timer;
