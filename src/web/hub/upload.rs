//! `IotHubClient.uploadFile`: IoT Hub file upload through `fetch` (docs/file-upload.md). The
//! requests, URLs, block plan and error reading are the core's (`hub::files`); this reads the
//! caller's data in blocks without copying it into wasm memory, and drives the three steps.
//!
//! Design: the data is read as JS values only — `Blob.slice`, `Uint8Array.subarray`, or chunks
//! of a `ReadableStream` gathered into block-sized `Uint8Array`s — so a 20 MB upload never
//! passes through the wasm heap. Each request is bounded by `requestTimeoutMs` and the caller's
//! `signal`. Whatever goes wrong after the hub handed out the SAS, the hub is told (`isSuccess:
//! false`) before the Promise rejects, so it frees the upload slot (10 per device).

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::IotHubClient;
use crate::hub::{
    blob_url, block_list_xml, block_query, hub_error, notification_request, parse_sas_response, sas_request, single_put,
    storage_error, HubRequest, Identity, DEFAULT_BLOCK_SIZE, MAX_BLOCKS, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE,
};
use crate::web::hub::open::{token, OpenFailure};
use crate::web::hub::options::Credential;
use crate::web::io::error::{js_error, to_js};
use crate::web::io::fetch::{fetch_with, header, request_init, FetchFailure};
use crate::web::io::js::{
    arg_options, arg_str, call_method, get, get_f64, get_fn, invalid_argument, message_of, now_ms_u64 as now, object, opt_fn, set, whole_number,
};
use crate::web::io::timer::{race, Raced, Signal};

#[wasm_bindgen(typescript_custom_section)]
const TS_UPLOAD: &'static str = r#"
/** Options of `uploadFile`. */
export interface UploadFileOptions {
  /** Called after each block is stored (and once for a single write): bytes so far, and the total when known. */
  onProgress?: (progress: { loaded: number; total: number | null }) => void;
  /** Aborts the upload (`ABORTED`); the hub is told it failed. */
  signal?: AbortSignal;
  /** Bytes per Put Block (default 4 MiB, 64 KiB to 100 MiB); data of known size up to one block goes in one Put Blob. */
  blockSize?: number;
  /** How long each request may take (default 120000 ms); then `TIMEOUT`. */
  requestTimeoutMs?: number;
}
/** What `uploadFile` resolves with. `url` has no SAS: it names the blob, it does not grant access. */
export interface UploadFileResult { blobName: string; url: string; etag: string | null; size: number }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "UploadFileOptions")]
    pub type UploadFileOptions;
    #[wasm_bindgen(typescript_type = "Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>")]
    pub type UploadData;
    #[wasm_bindgen(typescript_type = "Promise<UploadFileResult>")]
    pub type PromiseUpload;
}

/// The caller's data, read one block at a time as JS values.
enum Source {
    Bytes(Uint8Array),
    Blob(JsValue),
    Stream { reader: JsValue, carry: Option<Uint8Array>, done: bool },
}

impl Source {
    fn from_js(v: &JsValue) -> Result<Source, JsValue> {
        if v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v) {
            return Ok(Source::Bytes(Uint8Array::new(v)));
        }
        if get_fn(v, "slice").is_some() && get_fn(v, "arrayBuffer").is_some() && get_f64(v, "size").is_some() {
            return Ok(Source::Blob(v.clone()));
        }
        if get_fn(v, "getReader").is_some() {
            return Ok(Source::Stream { reader: call_method(v, "getReader", &[]), carry: None, done: false });
        }
        Err(invalid_argument("data", "a Blob, an ArrayBuffer, a typed array or a ReadableStream"))
    }

    fn size(&self) -> Option<usize> {
        match self {
            Source::Bytes(b) => Some(b.length() as usize),
            Source::Blob(b) => get_f64(b, "size").map(|s| s as usize),
            Source::Stream { .. } => None,
        }
    }

    /// The next block (a fetch body) and its length; `None` at the end. A stream's reads are
    /// bounded like requests (`timeout_ms`, `signal`): a stream that never yields fails, not hangs.
    async fn next(&mut self, offset: usize, block: usize, timeout_ms: f64, signal: Option<&Signal>) -> Result<Option<(JsValue, usize)>, JsValue> {
        match self {
            Source::Bytes(b) => {
                let end = (offset + block).min(b.length() as usize);
                Ok((offset < end).then(|| (b.subarray(offset as u32, end as u32).into(), end - offset)))
            }
            Source::Blob(b) => {
                let size = get_f64(b, "size").unwrap_or(0.0) as usize;
                let end = (offset + block).min(size);
                let part = call_method(b, "slice", &[JsValue::from_f64(offset as f64), JsValue::from_f64(end as f64)]);
                Ok((offset < end).then_some((part, end - offset)))
            }
            Source::Stream { reader, carry, done } => {
                let buf = Uint8Array::new_with_length(block as u32);
                let mut filled = 0usize;
                while filled < block {
                    let chunk = match carry.take() {
                        Some(c) => c,
                        None if *done => break,
                        None => {
                            let read = JsFuture::from(Promise::resolve(&call_method(reader, "read", &[])));
                            let r = match race(read, timeout_ms, signal).await {
                                Raced::Done(r) => r?,
                                Raced::Timeout => return Err(fetch_error(FetchFailure::Timeout)),
                                Raced::Aborted => return Err(fetch_error(FetchFailure::Aborted)),
                            };
                            if get(&r, "done").is_truthy() {
                                *done = true;
                                break;
                            }
                            let v = get(&r, "value");
                            if !(v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(&v)) {
                                return Err(invalid_argument("data", "a ReadableStream of Uint8Array chunks"));
                            }
                            Uint8Array::new(&v)
                        }
                    };
                    let take = (chunk.length() as usize).min(block - filled);
                    buf.set(&chunk.subarray(0, take as u32), filled as u32);
                    filled += take;
                    if take < chunk.length() as usize {
                        *carry = Some(chunk.subarray(take as u32, chunk.length()));
                    }
                }
                Ok((filled > 0).then(|| (buf.subarray(0, filled as u32).into(), filled)))
            }
        }
    }
}

/// What one upload needs, taken from the client when it starts.
struct Upload {
    credential: Credential,
    identity: Identity,
    rest: String,
    ttl: u64,
    timeout_ms: f64,
    signal: Option<Signal>,
}

fn fetch_error(f: FetchFailure) -> JsValue {
    match f {
        FetchFailure::Aborted => js_error("ABORTED", "upload aborted"),
        FetchFailure::Timeout => js_error("TIMEOUT", "no answer in time"),
        // A browser reports a CORS refusal as a plain network error (README: file upload).
        FetchFailure::Network(m) => js_error("NETWORK", &m),
    }
}

/// A failed blob write: storage's status when it answered (the hub's notification carries it,
/// docs/file-upload.md §3), and the error the caller gets.
struct WriteFailure {
    status: Option<u16>,
    error: JsValue,
}

impl From<JsValue> for WriteFailure {
    fn from(error: JsValue) -> WriteFailure {
        WriteFailure { status: None, error }
    }
}

impl Upload {
    /// One POST to the hub: (status, `iothub-errorcode`, body). The notification is sent
    /// without the caller's signal (`abortable: false`): an aborted upload is still reported.
    async fn hub(&self, req: &HubRequest, abortable: bool) -> Result<(u16, Option<String>, String), JsValue> {
        // A token per call, not per upload: a long upload may outlive the first one.
        let expiry = now() / 1000 + self.ttl;
        let sas = token(&self.credential, &self.identity, expiry, self.timeout_ms).await.map_err(|e| match e {
            OpenFailure::Token(why) => js_error("TOKEN_PROVIDER_FAILED", &format!("getToken failed: {why}")),
            OpenFailure::Socket(e) => to_js(&e),
        })?;
        let i = request_init("POST", &[("content-type", "application/json"), ("authorization", &sas)], &JsValue::from_str(&req.body));
        let (res, status, body) =
            fetch_with(None, &format!("{}{}", self.rest, req.path), &i, self.timeout_ms, self.signal.as_ref().filter(|_| abortable))
                .await
                .map_err(fetch_error)?;
        Ok((status, header(&res, "iothub-errorcode"), body))
    }

    /// One write to storage: its ETag on 201, else storage's error.
    async fn put(&self, url: &str, headers: &[(&str, &str)], body: &JsValue) -> Result<Option<String>, WriteFailure> {
        let (res, status, _) =
            fetch_with(None, url, &request_init("PUT", headers, body), self.timeout_ms, self.signal.as_ref()).await.map_err(fetch_error)?;
        if status != 201 {
            let error = to_js(&storage_error(status, header(&res, "x-ms-error-code").as_deref()));
            return Err(WriteFailure { status: Some(status), error });
        }
        Ok(header(&res, "etag"))
    }

    /// The blob write: one Put Blob, or Put Block per block then Put Block List.
    async fn write(&self, url: &str, src: &mut Source, block: usize, progress: &Option<Function>) -> Result<(Option<String>, usize), WriteFailure> {
        let total = src.size();
        let report = |loaded: usize| {
            if let Some(f) = progress {
                let p = object();
                set(&p, "loaded", &JsValue::from_f64(loaded as f64));
                set(&p, "total", &total.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64)));
                // A throwing progress callback must not break the upload.
                let _ = f.call1(&JsValue::UNDEFINED, &p);
            }
        };
        if single_put(total, block) {
            let body = match src.next(0, block, self.timeout_ms, self.signal.as_ref()).await? {
                Some((b, _)) => b,
                None => Uint8Array::new_with_length(0).into(),
            };
            let etag = self.put(url, &[("x-ms-blob-type", "BlockBlob")], &body).await?;
            let n = total.unwrap_or(0);
            report(n);
            return Ok((etag, n));
        }
        let (mut offset, mut count) = (0usize, 0usize);
        while let Some((body, len)) = src.next(offset, block, self.timeout_ms, self.signal.as_ref()).await? {
            if count == MAX_BLOCKS {
                return Err(js_error("INVALID_ARGUMENT", "more than 50,000 blocks: choose a larger blockSize").into());
            }
            self.put(&format!("{url}{}", block_query(count)), &[], &body).await?;
            offset += len;
            count += 1;
            report(offset);
        }
        let list = JsValue::from_str(&block_list_xml(count));
        let etag = self.put(&format!("{url}&comp=blocklist"), &[("content-type", "application/xml")], &list).await?;
        Ok((etag, offset))
    }
}

async fn run(u: Upload, blob_name: String, mut src: Source, block: usize, progress: Option<Function>) -> Result<JsValue, JsValue> {
    // 1. The SAS URI (docs/file-upload.md §1).
    let (status, code, body) = u.hub(&sas_request(&u.identity, &blob_name).map_err(|e| to_js(&e))?, true).await?;
    let sas = parse_sas_response(status, code.as_deref(), body.as_bytes()).map_err(|e| to_js(&e))?;
    let url = blob_url(&sas, u.rest.starts_with("https:"));
    // 2. The blob (§2); 3. the notification, whatever happened (§3).
    let written = u.write(&url, &mut src, block, &progress).await;
    let (ok, status, description) = match &written {
        Ok(_) => (true, 201, "uploaded".to_string()),
        Err(f) => (false, f.status.map_or(-1, i64::from), message_of(&f.error, "upload failed")),
    };
    let req = notification_request(&u.identity, &sas.correlation_id, ok, status, &description).map_err(|e| to_js(&e))?;
    let notified = u.hub(&req, false).await.and_then(|(status, code, body)| match status {
        200..=299 => Ok(()),
        _ => Err(to_js(&hub_error(status, code.as_deref(), body.as_bytes()))),
    });
    let (etag, size) = written.map_err(|f| f.error)?;
    notified?;
    let r = object();
    set(&r, "blobName", &JsValue::from_str(&sas.blob_name));
    set(&r, "url", &JsValue::from_str(url.split('?').next().unwrap_or(&url)));
    set(&r, "etag", &etag.map_or(JsValue::NULL, |e| JsValue::from_str(&e)));
    set(&r, "size", &JsValue::from_f64(size as f64));
    Ok(r)
}

#[wasm_bindgen]
impl IotHubClient {
    /// Uploads `data` to the blob `blobName` of the hub's storage (as `{deviceId}/{blobName}`):
    /// the hub hands out a SAS URI, the data goes straight to storage (in blocks past
    /// `blockSize`, with `onProgress`), and the hub is told the outcome, failures included.
    /// Resolves with `{blobName, url, etag, size}`. Errors: `FILE_UPLOAD_FAILED` (the hub
    /// refused; `status`, `errorCode`, `trackingId`), `STORAGE_FAILED` (storage refused;
    /// `status`, `errorCode`), `NETWORK`, `TIMEOUT`, `ABORTED`, `INVALID_ARGUMENT`, `CLOSED`.
    #[wasm_bindgen(js_name = uploadFile)]
    pub fn upload_file(
        &self,
        #[wasm_bindgen(js_name = blobName, unchecked_param_type = "string")] blob_name: JsValue,
        data: &UploadData,
        options: Option<UploadFileOptions>,
    ) -> PromiseUpload {
        let started = (|| {
            let name = arg_str(&blob_name, "blobName")?;
            let src = Source::from_js(data.as_ref())?;
            let o = arg_options(&options.map(JsValue::from).unwrap_or_default(), "options")?;
            let progress = opt_fn(&o, "onProgress")?;
            let signal = Signal::from_option(get(&o, "signal")).map_err(|why| invalid_argument("options.signal", why))?;
            let block = whole_number(&o, "blockSize", MIN_BLOCK_SIZE as u64, MAX_BLOCK_SIZE as u64)?.map_or(DEFAULT_BLOCK_SIZE, |n| n as usize);
            let timeout_ms = whole_number(&o, "requestTimeoutMs", 100, 3_600_000)?.unwrap_or(120_000) as f64;
            let i = self.inner.peek().ok_or_else(|| js_error("BUSY", "the client is busy"))?;
            if i.engine.is_closed() {
                return Err(js_error("CLOSED", "client closed"));
            }
            let u = Upload {
                credential: i.credential.clone(),
                identity: i.engine.identity().clone(),
                rest: i.rest_url.clone(),
                ttl: i.token_ttl_secs,
                timeout_ms,
                signal,
            };
            Ok((u, name, src, block, progress))
        })();
        match started {
            Ok((u, name, src, block, progress)) => future_to_promise(run(u, name, src, block, progress)).unchecked_into(),
            Err(e) => Promise::reject(&e).unchecked_into(),
        }
    }
}
