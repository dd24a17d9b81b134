//! The MQTT layer's error type: what the codec, the session and the transport driver report.
//! Each variant has a stable `code()` that the JS facade puts on the thrown `Error`.

use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttError {
    /// A received packet breaks MQTT 3.1.1; the string says how.
    Protocol(&'static str),
    /// An inbound PUBLISH with QoS 2: IoT Hub never sends one and closes the connection on
    /// one (protocol.md §5.3), so this client supports QoS 0 and 1 only.
    UnsupportedQos,
    /// A packet over the size limit: received (the session's `max_packet_size`) or to be sent
    /// (MQTT's 268,435,455-byte remaining length).
    PacketTooLarge,
    /// A topic name or filter that MQTT 3.1.1 forbids; the string says why.
    InvalidTopic(&'static str),
    /// A caller-supplied value that cannot go on the wire; the string says which.
    InvalidArgument(&'static str),
    /// The operation needs an accepted connection (CONNACK 0) and there is none.
    NotConnected,
    /// The in-flight window and the send queue are full, or no packet id is free.
    QueueFull,
    /// The server refused the CONNECT with this CONNACK return code (1–5). IoT Hub always
    /// answers 5 on a failed CONNECT (protocol.md §5.1).
    ConnectionRefused(u8),
    /// No CONNACK (or no WebSocket open) within the connect timeout.
    ConnectTimeout,
    /// No PINGRESP within the ping timeout.
    KeepAliveTimeout,
    /// The transport closed after it had opened (WebSocket close code, when one was given).
    ConnectionLost { code: Option<u16>, reason: String },
    /// The transport could not be opened (bad URL, refused, TLS or handshake failure).
    SocketError(String),
    /// The connection was closed by this side (`close()`/`end()`).
    Closed,
}

impl MqttError {
    /// Stable, documented code for programs to match on.
    pub fn code(&self) -> &'static str {
        match self {
            MqttError::Protocol(_) | MqttError::UnsupportedQos => "PROTOCOL_ERROR",
            MqttError::PacketTooLarge => "PACKET_TOO_LARGE",
            MqttError::InvalidTopic(_) => "INVALID_TOPIC",
            MqttError::InvalidArgument(_) => "INVALID_ARGUMENT",
            MqttError::NotConnected => "NOT_CONNECTED",
            MqttError::QueueFull => "QUEUE_FULL",
            MqttError::ConnectionRefused(4 | 5) => "NOT_AUTHORIZED",
            MqttError::ConnectionRefused(_) => "CONNECTION_REFUSED",
            MqttError::ConnectTimeout => "CONNECT_TIMEOUT",
            MqttError::KeepAliveTimeout => "KEEPALIVE_TIMEOUT",
            MqttError::ConnectionLost { .. } => "CONNECTION_LOST",
            MqttError::SocketError(_) => "SOCKET_ERROR",
            MqttError::Closed => "CLOSED",
        }
    }

    /// A number worth copying onto the JS error as `status`: the CONNACK return code or the
    /// WebSocket close code.
    pub fn status(&self) -> Option<u16> {
        match self {
            MqttError::ConnectionRefused(rc) => Some(u16::from(*rc)),
            MqttError::ConnectionLost { code, .. } => *code,
            _ => None,
        }
    }
}

impl fmt::Display for MqttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MqttError::Protocol(why) => write!(f, "mqtt protocol error: {why}"),
            MqttError::UnsupportedQos => f.write_str("mqtt protocol error: inbound qos 2 is not supported"),
            MqttError::PacketTooLarge => f.write_str("mqtt packet too large"),
            MqttError::InvalidTopic(why) => write!(f, "invalid topic: {why}"),
            MqttError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            MqttError::NotConnected => f.write_str("not connected"),
            MqttError::QueueFull => f.write_str("send queue full"),
            MqttError::ConnectionRefused(rc) => {
                let why = match rc {
                    1 => "unacceptable protocol version",
                    2 => "identifier rejected",
                    3 => "server unavailable",
                    4 => "bad user name or password",
                    5 => "not authorized",
                    _ => "unknown return code",
                };
                write!(f, "connection refused ({rc}: {why})")
            }
            MqttError::ConnectTimeout => f.write_str("connect timed out"),
            MqttError::KeepAliveTimeout => f.write_str("no ping response: connection presumed dead"),
            MqttError::ConnectionLost { code: Some(c), reason } if !reason.is_empty() => {
                write!(f, "connection lost (close code {c}: {reason})")
            }
            MqttError::ConnectionLost { code: Some(c), .. } => write!(f, "connection lost (close code {c})"),
            MqttError::ConnectionLost { .. } => f.write_str("connection lost"),
            MqttError::SocketError(why) => write!(f, "websocket error: {why}"),
            MqttError::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for MqttError {}
