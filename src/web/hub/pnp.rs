//! `IotHubClient`'s IoT Plug and Play calls (docs/pnp.md): writable-property handlers, reported
//! properties of a component, and component commands. The engine decides what to answer and
//! builds every patch (`hub::engine_pnp`); this only checks arguments and registers handlers.

use wasm_bindgen::prelude::*;

use super::{rejected, IotHubClient, PromiseNumber};
use crate::hub::{command_method_name, valid_dtdl_name};
use crate::web::hub::message::js_to_json;
use crate::web::io::js::{arg_fn, arg_options, arg_str, invalid_argument, now_ms_u64 as now, opt_str};

#[wasm_bindgen(typescript_custom_section)]
const TS_PNP: &'static str = r#"
/** Where a writable property or reported patch lives: a component of the model, or the root. */
export interface ComponentOptions { component?: string }
/** What a writable-property handler is told besides the desired value. */
export interface WritablePropertyChange { name: string; component?: string; version: number }
/** A Plug and Play command call (`component*commandName` on the wire). */
export interface CommandRequest { component?: string; commandName: string; requestId: string; payload: unknown }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ComponentOptions")]
    pub type ComponentOptions;
    #[wasm_bindgen(typescript_type = "(value: unknown, change: WritablePropertyChange) => unknown | Promise<unknown>")]
    pub type WritablePropertyHandler;
    #[wasm_bindgen(typescript_type = "(request: CommandRequest) => unknown | Promise<unknown>")]
    pub type CommandHandler;
}

/// `options.component`: absent, or a DTDL name (the engine checks its form).
fn component_of(options: Option<ComponentOptions>) -> Result<Option<String>, JsValue> {
    let o = arg_options(&options.map(JsValue::from).unwrap_or_default(), "options")?;
    opt_str(&o, "component")
}

/// Checked here, not only by the engine, so that a bad name is thrown at once.
fn check_names(component: Option<&str>, name: &str, component_arg: &str) -> Result<(), JsValue> {
    const DTDL: &str = "a DTDL name (a letter, then letters, digits or _)";
    if !valid_dtdl_name(name) {
        return Err(invalid_argument("name", DTDL));
    }
    if !component.is_none_or(valid_dtdl_name) {
        return Err(invalid_argument(component_arg, DTDL));
    }
    Ok(())
}

#[wasm_bindgen]
impl IotHubClient {
    /// Handles writable property `name` (of `options.component`): the handler gets each desired
    /// value, including the current one at start-up and changes made while offline, and returns
    /// the value it accepted (nothing: the desired one). It is acknowledged
    /// `{value, ac: 200, av: <desired $version>}`. To refuse, throw `{status, message, value?}`
    /// (e.g. 400): acknowledged with that `ac`, `ad: message`, and `value` or the desired one.
    #[wasm_bindgen(js_name = onWritableProperty)]
    pub fn on_writable_property(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        handler: &WritablePropertyHandler,
        options: Option<ComponentOptions>,
    ) -> Result<(), JsValue> {
        let (name, f, component) = (arg_str(&name, "name")?, arg_fn(handler, "handler")?, component_of(options)?);
        check_names(component.as_deref(), &name, "options.component")?;
        self.inner.post(move |i, _| {
            i.handlers.writables.retain(|(c, n, _)| !(*c == component && *n == name));
            i.handlers.writables.push((component.clone(), name.clone(), f));
            let _ = i.engine.listen_writable(component.as_deref(), &name);
        });
        Ok(())
    }

    /// Patches reported properties of `options.component` (wrapped as `{c: {"__t": "c", …}}`),
    /// or of the root; resolves with the new reported `$version`.
    #[wasm_bindgen(js_name = reportProperties)]
    pub fn report_properties(&self, patch: JsValue, options: Option<ComponentOptions>) -> PromiseNumber {
        if !patch.is_object() || js_sys::Array::is_array(&patch) {
            return rejected(invalid_argument("patch", "an object")).unchecked_into();
        }
        match component_of(options).and_then(|c| Ok((c, js_to_json(&patch)?))) {
            Ok((component, bytes)) => {
                self.start(move |i| i.engine.report_properties(now(), component.as_deref(), &bytes)).unchecked_into()
            }
            Err(e) => rejected(e).unchecked_into(),
        }
    }

    /// Handles command `name` of `component` (`null`: the root). The handler gets
    /// `{component, commandName, requestId, payload}` and returns the response payload (status
    /// 200); if it throws, the status is the thrown `status` (else 500) with `{message}`.
    #[wasm_bindgen(js_name = onCommand)]
    pub fn on_command(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null")] component: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        handler: &CommandHandler,
    ) -> Result<(), JsValue> {
        let component = if component.is_null() || component.is_undefined() {
            None
        } else {
            Some(arg_str(&component, "component")?)
        };
        let (name, f) = (arg_str(&name, "name")?, arg_fn(handler, "handler")?);
        check_names(component.as_deref(), &name, "component")?;
        let method = command_method_name(component.as_deref(), &name);
        self.inner.post(move |i, _| {
            i.engine.listen_method(&method);
            i.handlers.methods.retain(|(n, ..)| *n != method);
            i.handlers.methods.push((method, f, true));
        });
        Ok(())
    }
}
