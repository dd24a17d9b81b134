//! Device Provisioning Service core, sans-I/O: requests, responses and the next-step policy.
//!
//! * `registration` / `endpoint`: what is registered and where (protocol §1.1, §1.4, §3);
//! * `rest`: the `PUT .../register` and `GET .../operations/{id}` requests (§1.1, §1.3);
//! * `mqtt_topics`: the DPS MQTT username, topics and response-topic parser (§3);
//! * `mqtt_exchange`: DPS over MQTT as requests and answers: session settings, `$rid`
//!   matching, a refused CONNECT read as 401 (§3);
//! * `response`: every response shape of §1.5–§1.6, and `Retry-After`;
//! * `provisioning`: the state machine that decides send / poll after N ms / retry / done / fail
//!   under a `Policy` (§1.7), driven by `now` and jitter passed in;
//! * `tokens`: when a SAS token can be reused (§2.5).

mod endpoint;
mod error;
pub mod mqtt_exchange;
pub mod mqtt_topics;
mod policy;
mod provisioning;
mod registration;
mod response;
pub mod rest;
pub mod tokens;

pub use endpoint::{Endpoint, DEFAULT_ENDPOINT, WEBSOCKET_PATH};
pub use error::{DpsError, ServiceError};
pub use policy::Policy;
pub use provisioning::{Event, Operation, Provisioning, Response, RetryReason, Step, TransportError};
pub use registration::{Registration, DEFAULT_API_VERSION, DEFAULT_MQTT_API_VERSION};
pub use response::{
    parse_error, parse_operation, parse_retry_after, OperationResponse, OperationStatus, RegistrationState,
};
