//! The MQTT 3.1.1 wire codec: encoders for what a client sends, a streaming decoder for what
//! a server sends, and the topic rules both rely on.

mod decode;
mod encode;
mod topic;

pub use decode::{decode, Decoder};
pub use encode::{
    encode_connect, encode_disconnect, encode_pingreq, encode_puback, encode_publish,
    encode_subscribe, encode_unsubscribe, publish_len,
};
pub use topic::{validate_filter, validate_topic_name};

/// The largest remaining length the 4-byte varint can carry (MQTT 3.1.1 §2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;
