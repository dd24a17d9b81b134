//! `MqttDriver` against an in-process fake WebSocket, in Node: what no JS test can see, because
//! the JS facades race every driver future against their own timeouts.
#![cfg(target_arch = "wasm32")]

use azure_iot_wasm::mqtt::{MqttError, QoS, SessionOptions};
use azure_iot_wasm::web::io::mqtt_driver::MqttDriver;
use azure_iot_wasm::web::io::socket::SocketFactory;
use azure_iot_wasm::web::io::timer::within;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;
use wasm_bindgen_test::*;

/// A `createWebSocket` whose socket is already open, answers CONNECT with CONNACK 0, and
/// closes (code 1006) instead of acknowledging the first QoS 1 PUBLISH.
fn dropping_factory() -> JsValue {
    let make = Function::new_no_args(
        "return () => {
           const listeners = {};
           const emit = (k, ev) => { for (const f of [...(listeners[k] ?? [])]) f(ev); };
           const s = {
             readyState: 1,
             addEventListener(k, f) { (listeners[k] ??= []).push(f); },
             removeEventListener(k, f) { listeners[k] = (listeners[k] ?? []).filter((g) => g !== f); },
             close() { if (s.readyState !== 3) { s.readyState = 3; emit('close', { code: 1000, reason: '' }); } },
             send(d) {
               const t = d[0];
               if (t === 0x10) emit('message', { data: new Uint8Array([0x20, 2, 0, 0]).buffer });
               else if (t === 0x32) { s.readyState = 3; emit('close', { code: 1006, reason: '' }); }
             },
           };
           return s;
         };",
    );
    let options = Object::new();
    Reflect::set(&options, &"createWebSocket".into(), &make.call0(&JsValue::NULL).unwrap()).unwrap();
    options.into()
}

#[wasm_bindgen_test]
async fn a_publish_dropped_with_its_connection_is_rejected_when_resend_is_off() {
    let opts = SessionOptions { client_id: "d".into(), resend_on_reconnect: false, ..Default::default() };
    let driver = MqttDriver::new(opts, SocketFactory::from_options(&dropping_factory()).unwrap());
    assert_eq!(driver.connect("wss://fake").await, Ok(false));
    let sent = driver.publish("t", b"x", QoS::AtLeastOnce, false);
    let promise: Promise = future_to_promise(async move {
        Ok(JsValue::from_str(sent.await.err().map(|e| e.code()).unwrap_or("resolved")))
    });
    // Before poll_discarded was drained this never settled.
    let got = within(&promise, 2000.0).await.expect("the publish settles").unwrap();
    assert_eq!(got.as_string().as_deref(), Some(MqttError::ConnectionLost { code: None, reason: String::new() }.code()));
    driver.close();
}
