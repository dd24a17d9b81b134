//! DPS over MQTT under simulated time, with no I/O: `Provisioning` decides, `MqttExchange`
//! numbers and matches `$rid`s, an `mqtt::Session` makes the bytes, and a scripted DPS (this
//! file) answers them. The loop in `Dps::run` is what the wasm driver does with a WebSocket.

mod hub_rig;

use azure_iot_wasm::dps::mqtt_exchange::{MqttExchange, Reply};
use azure_iot_wasm::dps::{Policy, Provisioning, Registration, Response, Step, TransportError};
use azure_iot_wasm::mqtt::{Event, MqttError, Session};
use azure_iot_wasm::retry::Jitter;
use hub_rig::{parse, server_publish, Out};

const ASSIGNED: &str = r#"{"operationId":"op-1","status":"assigned","registrationState":{"registrationId":"dev-1","assignedHub":"hub.example","deviceId":"dev-1","status":"assigned","substatus":"initialAssignment"}}"#;
const ASSIGNING: &str = r#"{"operationId":"op-1","status":"assigning"}"#;

/// The client side (machine, exchange, session) and what the scripted DPS saw and will say.
struct Dps {
    now: u64,
    machine: Provisioning,
    exchange: MqttExchange,
    session: Session,
    registration: Registration,
    connected: bool,
    /// Every PUBLISH the client made: (topic, payload).
    published: Vec<(String, Vec<u8>)>,
    /// CONNACK return code the server answers with.
    connack: u8,
    /// How the server answers the n-th publish (0-based): raw packets to send back.
    answers: Vec<Vec<Vec<u8>>>,
    /// Outcome waiting to be fed to the machine.
    outcome: Option<Result<Reply, String>>,
}

fn connack(rc: u8) -> Vec<u8> {
    vec![0x20, 2, 0, rc]
}

fn suback(pkid: u16, granted: u8) -> Vec<u8> {
    let id = pkid.to_be_bytes();
    vec![0x90, 3, id[0], id[1], granted]
}

fn response(status: u16, rid: &str, retry_after: Option<u32>, body: &str) -> Vec<u8> {
    let mut topic = format!("$dps/registrations/res/{status}/?$rid={rid}");
    if let Some(s) = retry_after {
        topic.push_str(&format!("&retry-after={s}"));
    }
    server_publish(&topic, body.as_bytes(), None)
}

impl Dps {
    fn new() -> Dps {
        let registration = Registration::new("0ne00000A0A", "dev-1").unwrap();
        let mut policy = Policy::default();
        policy.min_poll_ms = 1000;
        Dps {
            now: 1_000_000,
            machine: Provisioning::new(policy),
            exchange: MqttExchange::new(),
            session: Session::new(MqttExchange::session_options(&registration, "2019-03-31")),
            registration,
            connected: false,
            published: Vec::new(),
            connack: 0,
            answers: Vec::new(),
            outcome: None,
        }
    }

    /// The server's side of whatever the client wrote.
    fn serve(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            for p in parse(&bytes) {
                let reply = match p {
                    Out::Connect { .. } => vec![connack(self.connack)],
                    Out::Subscribe { pkid, filters } => {
                        assert_eq!(filters, vec!["$dps/registrations/res/#".to_string()]);
                        vec![suback(pkid, 1)]
                    }
                    Out::Publish { topic, payload, .. } => {
                        self.published.push((topic, payload));
                        let n = self.published.len() - 1;
                        self.answers.get(n).cloned().unwrap_or_default()
                    }
                    _ => vec![],
                };
                for r in reply {
                    self.session.handle_bytes(self.now, &r);
                }
            }
        }
    }

    /// Session events, as the driver reads them.
    fn events(&mut self) {
        self.serve();
        while let Some(ev) = self.session.poll_event() {
            match ev {
                Event::Connected { .. } => {
                    self.session.subscribe(self.now, &MqttExchange::subscription()).unwrap();
                }
                Event::SubAck { results, .. } => {
                    MqttExchange::subscribed(&results).unwrap();
                    self.connected = true;
                }
                Event::Publish(p) => {
                    if let Some(r) = self.exchange.accept(&p.topic, &p.payload) {
                        self.outcome = Some(Ok(r));
                    }
                }
                Event::Dead(e) => {
                    self.session.handle_disconnected(self.now);
                    self.connected = false;
                    self.outcome = Some(self.exchange.connect_failed(&e));
                }
                _ => {}
            }
            self.serve();
        }
    }

    /// Runs the machine to its end, advancing simulated time through its waits.
    fn run(&mut self) -> Step {
        for _ in 0..50 {
            match self.machine.poll_step(self.now) {
                Step::Send { operation, .. } => {
                    if !self.connected {
                        self.session.set_password(Some("SharedAccessSignature sr=x&sig=y&se=1".into()));
                        self.session.handle_connected(self.now);
                        self.events();
                    }
                    if self.connected {
                        let (topic, payload) = self.exchange.request(&operation, &self.registration);
                        self.session.publish(self.now, &topic, &payload, azure_iot_wasm::mqtt::QoS::AtLeastOnce, false).unwrap();
                        self.events();
                    }
                    match self.outcome.take() {
                        Some(Ok(r)) => {
                            let retry_after = r.retry_after.as_deref();
                            let res = Response { status: r.status, retry_after, body: &r.body };
                            self.machine.handle_response(self.now, Jitter::Fraction(0.0), res);
                        }
                        Some(Err(m)) => {
                            self.machine.handle_transport_error(self.now, Jitter::Fraction(0.0), TransportError::Network(m));
                        }
                        None => {
                            // No answer: the driver's request timer fires.
                            self.exchange.forget();
                            self.now += 30_000;
                            self.machine.handle_transport_error(self.now, Jitter::Fraction(0.0), TransportError::Timeout);
                        }
                    }
                }
                Step::Wait { until_ms } => self.now = until_ms,
                step @ (Step::Done(_) | Step::Failed(_)) => return step,
                Step::AwaitResponse { .. } => unreachable!("the loop always feeds an outcome"),
            }
        }
        panic!("provisioning did not finish");
    }
}

#[test]
fn register_then_poll_after_retry_after_each_with_a_fresh_rid_ends_assigned() {
    let mut d = Dps::new();
    d.answers = vec![vec![response(202, "1", Some(3), ASSIGNING)], vec![response(200, "2", None, ASSIGNED)]];
    let start = d.now;
    let Step::Done(state) = d.run() else { panic!("not assigned") };
    assert_eq!(state.assigned_hub.as_deref(), Some("hub.example"));
    assert_eq!(d.published[0].0, "$dps/registrations/PUT/iotdps-register/?$rid=1");
    assert_eq!(String::from_utf8_lossy(&d.published[0].1), r#"{"registrationId":"dev-1"}"#);
    assert_eq!(d.published[1].0, "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=op-1");
    assert!(d.published[1].1.is_empty());
    // The poll went out after the topic's retry-after of 3 s, not before.
    assert_eq!(d.now - start, 3000);
}

#[test]
fn a_response_with_an_earlier_rid_is_dropped_and_the_request_times_out_then_retries() {
    let mut d = Dps::new();
    // The register goes unanswered; when the retry (rid 2) goes out, DPS first sends the late
    // answer to rid 1 (stale: dropped), then the real one.
    d.answers = vec![
        vec![],
        vec![response(202, "1", Some(2), ASSIGNING), response(200, "2", None, ASSIGNED)],
    ];
    let Step::Done(state) = d.run() else { panic!("not assigned") };
    assert_eq!(state.device_id.as_deref(), Some("dev-1"));
    assert_eq!(d.published.len(), 2);
    assert_eq!(d.published[1].0, "$dps/registrations/PUT/iotdps-register/?$rid=2");
}

#[test]
fn a_response_without_a_rid_or_on_another_topic_is_not_an_answer() {
    let reg = Registration::new("s", "dev-1").unwrap();
    let mut x = MqttExchange::new();
    let (topic, _) = x.request(&azure_iot_wasm::dps::Operation::Register, &reg);
    assert!(topic.ends_with("?$rid=1"));
    assert_eq!(x.accept("$dps/registrations/res/200/", b"{}"), None);
    assert_eq!(x.accept("devices/dev-1/messages/devicebound/", b"{}"), None);
    assert_eq!(x.accept("$dps/registrations/res/200/?$rid=2", b"{}"), None);
    let r = x.accept("$dps/registrations/res/429/?retry-after=5&$rid=1", b"{}").unwrap();
    assert_eq!((r.status, r.retry_after.as_deref()), (429, Some("5")));
    // Answered once: a duplicate of the same answer is dropped.
    assert_eq!(x.accept("$dps/registrations/res/429/?retry-after=5&$rid=1", b"{}"), None);
}

#[test]
fn connack_refused_with_code_5_fails_as_dps_unauthorized_without_a_retry() {
    let mut d = Dps::new();
    d.connack = 5;
    let Step::Failed(e) = d.run() else { panic!("not failed") };
    assert_eq!(e.code(), "DPS_UNAUTHORIZED");
    assert!(d.published.is_empty());
}

#[test]
fn connack_refused_with_code_3_is_a_network_failure_that_is_retried() {
    let mut x = MqttExchange::new();
    assert_eq!(x.connect_failed(&MqttError::ConnectionRefused(3)).map(|_| ()), Err(MqttError::ConnectionRefused(3).to_string()));
    let r = x.connect_failed(&MqttError::ConnectionRefused(4)).unwrap();
    assert_eq!(r.status, 401);
}

#[test]
fn the_session_is_clean_and_never_resends_an_old_request() {
    let reg = Registration::new("0ne00000A0A", "dev-1").unwrap();
    let o = MqttExchange::session_options(&reg, "2019-03-31");
    assert!(o.clean_session);
    assert!(!o.resend_on_reconnect);
    assert_eq!(o.client_id, "dev-1");
    let user = o.username.unwrap();
    assert!(user.starts_with("0ne00000A0A/registrations/dev-1/api-version=2019-03-31&ClientVersion=azure-iot-wasm%2F"), "{user}");
}

#[test]
fn a_refused_subscription_is_a_failure() {
    assert!(MqttExchange::subscribed(&[None]).is_err());
    assert!(MqttExchange::subscribed(&[]).is_err());
    assert!(MqttExchange::subscribed(&[Some(1)]).is_ok());
}
