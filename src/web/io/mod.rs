//! The plumbing under every export: typed reads of JS values (`js`), coded JS errors
//! (`error`), timers and bounded waits (`timer`), the WebSocket (`socket`) and `fetch`
//! (`fetch`), the turn loop drivers run on (`mailbox`), and the MQTT driver over a WebSocket
//! (`mqtt_driver`, with its one-shot replies in `oneshot`).

pub mod error;
pub mod fetch;
pub mod js;
pub mod mailbox;
pub mod mqtt_driver;
mod oneshot;
pub mod socket;
pub mod timer;
