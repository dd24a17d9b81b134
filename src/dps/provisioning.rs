//! The registration state machine, sans-I/O (quinn-style: `handle_*` in, `poll_*` out).
//!
//! A driver loops: `poll_step(now)` says what to do —
//! * `Send`: send this operation now (REST or MQTT, see `rest.rs` / `mqtt_topics.rs`), then feed
//!   the outcome to `handle_response` or `handle_transport_error`; until then `poll_step` answers
//!   `AwaitResponse` (the driver enforces `timeout_at_ms` and reports it as a transport timeout);
//! * `Wait`: call `poll_step` again at `until_ms`;
//! * `Done` / `Failed`: finished (every later call answers the same).
//!
//! `poll_event` drains progress events for the caller's `onStatus`. `abort` ends it at once.
//! Jitter for retries is an input of the outcome handlers: the core has no random source.

use std::collections::VecDeque;

use super::response::{parse_error, parse_operation, parse_retry_after, OperationStatus, RegistrationState};
use super::{DpsError, Policy, ServiceError};
use crate::retry::Jitter;

/// A request the driver must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `PUT .../register` or MQTT `iotdps-register`.
    Register,
    /// `GET .../operations/{id}` or MQTT `iotdps-get-operationstatus`.
    OperationStatus { operation_id: String },
}

/// A response as both transports deliver it: HTTP status (or the MQTT topic's `{status}`),
/// `Retry-After` (header, or topic `retry-after`) and the JSON body.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u16,
    pub retry_after: Option<&'a str>,
    pub body: &'a [u8],
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Network(String),
    /// No response within the step's `timeout_at_ms`.
    Timeout,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Send { operation: Operation, timeout_at_ms: u64 },
    AwaitResponse { timeout_at_ms: u64 },
    Wait { until_ms: u64 },
    Done(RegistrationState),
    Failed(DpsError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    Throttled,
    ServerError,
    Network,
    RequestTimeout,
}

/// Progress, for the caller's `onStatus`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A register request is being sent (`attempt` counts from 1).
    Registering {
        attempt: u32,
    },
    /// The service is assigning; the `poll`-th status request follows in `next_poll_ms`.
    Assigning {
        operation_id: String,
        poll: u32,
        next_poll_ms: u64,
    },
    /// A retriable failure; the same operation is retried in `delay_ms`.
    Retrying {
        retry: u32,
        delay_ms: u64,
        status: Option<u16>,
        reason: RetryReason,
    },
    Assigned {
        device_id: String,
        assigned_hub: String,
    },
}

// Design: exactly one of these at a time; `InFlight` is the only state that accepts an outcome,
// so a late or duplicated response (an MQTT redelivery, a fetch that lost a race with its
// timeout) is ignored instead of corrupting the sequence.
#[derive(Debug, Clone)]
enum State {
    NotStarted,
    Ready(Operation),
    InFlight { operation: Operation, timeout_at_ms: u64 },
    Waiting { until_ms: u64, then: Operation },
    Done(RegistrationState),
    Failed(DpsError),
}

#[derive(Debug, Clone)]
pub struct Provisioning {
    policy: Policy,
    state: State,
    deadline_ms: u64,
    /// Consecutive retriable failures; reset by any 2xx.
    retries: u32,
    /// The last retriable failure, which names the error when the retries or deadline run out.
    last_failure: Option<(RetryReason, ServiceError, String)>,
    registers: u32,
    polls: u32,
    events: VecDeque<Event>,
}

impl Provisioning {
    pub fn new(policy: Policy) -> Provisioning {
        Provisioning {
            policy,
            state: State::NotStarted,
            deadline_ms: u64::MAX,
            retries: 0,
            last_failure: None,
            registers: 0,
            polls: 0,
            events: VecDeque::new(),
        }
    }

    /// The overall deadline (ms), once started.
    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_) | State::Failed(_))
    }

    /// What to do now; see the module comment. Call again after acting on the answer.
    pub fn poll_step(&mut self, now_ms: u64) -> Step {
        if let State::NotStarted = self.state {
            self.deadline_ms = now_ms.saturating_add(self.policy.timeout_ms);
            self.state = State::Ready(Operation::Register);
        }
        if let State::Waiting { until_ms, then } = &self.state {
            if now_ms < *until_ms {
                return Step::Wait { until_ms: *until_ms };
            }
            self.state = State::Ready(then.clone());
        }
        match &self.state {
            State::Ready(op) => {
                if now_ms >= self.deadline_ms {
                    self.give_up();
                    return self.poll_step(now_ms);
                }
                let operation = op.clone();
                if operation == Operation::Register {
                    self.registers += 1;
                    self.events.push_back(Event::Registering { attempt: self.registers });
                }
                let timeout_at_ms = now_ms.saturating_add(self.policy.request_timeout_ms).min(self.deadline_ms);
                self.state = State::InFlight { operation: operation.clone(), timeout_at_ms };
                Step::Send { operation, timeout_at_ms }
            }
            State::InFlight { timeout_at_ms, .. } => Step::AwaitResponse { timeout_at_ms: *timeout_at_ms },
            State::Done(r) => Step::Done(r.clone()),
            State::Failed(e) => Step::Failed(e.clone()),
            // Handled above.
            State::NotStarted | State::Waiting { .. } => Step::Wait { until_ms: now_ms },
        }
    }

    /// The next progress event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Ends the registration with `Aborted`, unless it already finished.
    pub fn abort(&mut self) {
        if !self.is_finished() {
            self.state = State::Failed(DpsError::Aborted);
        }
    }

    /// Feeds the response to the request of the last `Send`. Returns false (and changes nothing)
    /// when no request is in flight.
    pub fn handle_response(&mut self, now_ms: u64, jitter: Jitter, response: Response<'_>) -> bool {
        let operation = match &self.state {
            State::InFlight { operation, .. } => operation.clone(),
            _ => return false,
        };
        let status = response.status;
        let retry_after_ms = response.retry_after.and_then(parse_retry_after);
        match status {
            200..=299 => self.handle_success(now_ms, operation, retry_after_ms, response.body),
            429 => {
                let e = parse_error(status, response.body);
                self.retry(now_ms, jitter, operation, RetryReason::Throttled, e, retry_after_ms)
            }
            500..=599 => {
                let e = parse_error(status, response.body);
                self.retry(now_ms, jitter, operation, RetryReason::ServerError, e, retry_after_ms)
            }
            // Protocol §1.6: 401/403/404 call for a new registration, 400 for a fixed request;
            // none of them heals by retrying the same request.
            400 => self.fail(DpsError::BadRequest(parse_error(status, response.body))),
            401 | 403 => self.fail(DpsError::Unauthorized(parse_error(status, response.body))),
            404 => self.fail(DpsError::NotFound(parse_error(status, response.body))),
            _ => self.fail(DpsError::Rejected(parse_error(status, response.body))),
        }
        true
    }

    /// Reports that the request of the last `Send` got no response. Returns false when no
    /// request is in flight.
    pub fn handle_transport_error(&mut self, now_ms: u64, jitter: Jitter, error: TransportError) -> bool {
        let operation = match &self.state {
            State::InFlight { operation, .. } => operation.clone(),
            _ => return false,
        };
        let (reason, message) = match error {
            TransportError::Network(m) => (RetryReason::Network, m),
            TransportError::Timeout => (RetryReason::RequestTimeout, "request timed out".to_string()),
        };
        self.last_failure = Some((reason, ServiceError::default(), message));
        self.retry_after_failure(now_ms, jitter, operation, None);
        true
    }

    fn handle_success(&mut self, now_ms: u64, operation: Operation, retry_after_ms: Option<u64>, body: &[u8]) {
        self.retries = 0;
        self.last_failure = None;
        let parsed = match parse_operation(body) {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        let state = parsed.registration_state.unwrap_or_default();
        match parsed.status {
            OperationStatus::Assigned => {
                let device_id = state.device_id.clone().filter(|s| !s.is_empty());
                let hub = state.assigned_hub.clone().filter(|s| !s.is_empty());
                match (device_id, hub) {
                    (Some(device_id), Some(assigned_hub)) => {
                        self.events.push_back(Event::Assigned { device_id, assigned_hub });
                        self.state = State::Done(state);
                    }
                    _ => self.fail(DpsError::BadResponse("assigned without deviceId and assignedHub".into())),
                }
            }
            OperationStatus::Failed => self.fail(DpsError::AssignmentFailed(ServiceError {
                status: Some(200),
                error_code: state.error_code,
                tracking_id: None,
                message: state.error_message,
            })),
            OperationStatus::Disabled => self.fail(DpsError::Disabled(ServiceError {
                status: Some(200),
                error_code: state.error_code,
                tracking_id: None,
                message: state.error_message,
            })),
            // `unassigned` should not occur for symmetric keys (§1.5); waiting is the safe reading.
            OperationStatus::Assigning | OperationStatus::Unassigned => {
                let operation_id = match (parsed.operation_id, operation) {
                    (Some(id), _) => id,
                    (None, Operation::OperationStatus { operation_id }) => operation_id,
                    (None, Operation::Register) => {
                        return self.fail(DpsError::BadResponse("assigning without an operationId".into()))
                    }
                };
                let delay = self.policy.poll_delay_ms(retry_after_ms);
                let until_ms = now_ms.saturating_add(delay);
                if until_ms >= self.deadline_ms {
                    return self.fail(DpsError::Timeout);
                }
                self.polls += 1;
                self.events.push_back(Event::Assigning {
                    operation_id: operation_id.clone(),
                    poll: self.polls,
                    next_poll_ms: delay,
                });
                self.state = State::Waiting { until_ms, then: Operation::OperationStatus { operation_id } };
            }
            OperationStatus::Other(s) => self.fail(DpsError::BadResponse(format!("unknown status '{s}'"))),
        }
    }

    fn retry(
        &mut self,
        now_ms: u64,
        jitter: Jitter,
        operation: Operation,
        reason: RetryReason,
        error: ServiceError,
        retry_after_ms: Option<u64>,
    ) {
        self.last_failure = Some((reason, error, String::new()));
        self.retry_after_failure(now_ms, jitter, operation, retry_after_ms);
    }

    /// Schedules the same operation again after backoff (never sooner than a clamped
    /// `Retry-After`), or gives up when the retries or the deadline run out.
    fn retry_after_failure(&mut self, now_ms: u64, jitter: Jitter, operation: Operation, retry_after_ms: Option<u64>) {
        self.retries += 1;
        if self.retries > self.policy.max_retries || now_ms >= self.deadline_ms {
            return self.give_up();
        }
        let (reason, status) = match &self.last_failure {
            Some((r, e, _)) => (*r, e.status),
            None => (RetryReason::Network, None),
        };
        let floor = match reason {
            RetryReason::Throttled => self.policy.throttle_floor_ms,
            _ => self.policy.retry_floor_ms,
        };
        let mut delay = self.policy.backoff.delay_ms(self.retries, floor, jitter);
        if let Some(ra) = retry_after_ms {
            delay = delay.max(self.policy.poll_delay_ms(Some(ra)));
        }
        let until_ms = now_ms.saturating_add(delay);
        if until_ms >= self.deadline_ms {
            return self.give_up();
        }
        self.events.push_back(Event::Retrying { retry: self.retries, delay_ms: delay, status, reason });
        self.state = State::Waiting { until_ms, then: operation };
    }

    /// Fails with the error that names the last retriable failure.
    fn give_up(&mut self) {
        let err = match self.last_failure.take() {
            Some((RetryReason::Throttled, e, _)) => DpsError::ThrottledGaveUp(e),
            Some((RetryReason::ServerError, e, _)) => DpsError::ServerErrorGaveUp(e),
            Some((RetryReason::Network, _, m)) => DpsError::Network(m),
            Some((RetryReason::RequestTimeout, _, _)) | None => DpsError::Timeout,
        };
        self.fail(err);
    }

    fn fail(&mut self, e: DpsError) {
        self.state = State::Failed(e);
    }
}
