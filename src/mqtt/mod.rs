//! MQTT 3.1.1 client core, sans-I/O: the codec (`codec`), the session state machine
//! (`Session`), and a plain client's connection lifecycle over it (`client::ClientEngine`:
//! open deadline, epochs, which operation each packet id answers). Hand-written rather than a
//! crate for bundle size; QoS 0 and 1 only, as IoT Hub and DPS need (protocol.md §3, §5.3).
//! The WebSocket transport lives in `web::io`.
//!
//! Quick use (the transport supplies `now` in ms and moves the bytes):
//! ```
//! use azure_iot_wasm::mqtt::{Session, SessionOptions, QoS, Event};
//! let mut s = Session::new(SessionOptions { client_id: "dev1".into(), ..Default::default() });
//! s.handle_connected(0);                     // transport open: CONNECT queued
//! let connect = s.poll_transmit().unwrap();  // send it
//! assert_eq!(connect[0], 0x10);
//! s.handle_bytes(5, &[0x20, 0x02, 0x00, 0x00]); // CONNACK accepted
//! assert_eq!(s.poll_event(), Some(Event::Connected { session_present: false }));
//! let pkid = s.publish(6, "devices/dev1/messages/events/", b"{}", QoS::AtLeastOnce, false).unwrap();
//! assert_eq!(pkid, Some(1));
//! ```

pub mod client;
pub mod codec;
mod error;
mod packet;
mod session;

pub use error::MqttError;
pub use packet::{Connect, Incoming, Publish, QoS, SubAckReturn};
pub use session::{Event, Session, SessionOptions, State};
