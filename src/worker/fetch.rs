//! The worker's network and storage: whole small files, the first bytes of a big one, a big one
//! streamed with progress and resumed after a dropped connection, and the Cache API where
//! complete, validated files are kept. Every request of a load carries its [`Abort`], so a
//! Cancel stops the transfer in flight at once.

use std::cell::{Cell, RefCell};

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Cache, Headers, ReadableStreamDefaultReader, Request, RequestCache, RequestInit, Response, ResponseInit};

use crate::hub::progress::{Meter, Progress, format_bytes};
use crate::hub::{CACHE_NAME, DEFAULT_HUB, SIZE_HEADER};
use crate::hub::transfer::{Answer, Head, Transfer};
use crate::worker::scope::{js_error, now, scope, sleep};

/// Progress is posted at most this often.
const PROGRESS_EVERY_MS: f64 = 100.0;
/// A server that has not begun to answer a request after this long, or that sends nothing more
/// of an answer's body for this long, is given up on (unless a test waits less: [`patience`]).
pub const PATIENCE_S: u32 = 30;

thread_local! {
    /// How long the newest load or plan waits on a silent server, in seconds.
    static PATIENCE: Cell<u32> = const { Cell::new(PATIENCE_S) };
    /// The Hub base URL of the newest load or plan: with the worker's own origin, where it may
    /// fetch from ([`crate::hub::may_fetch`]).
    static HUB: RefCell<String> = RefCell::new(DEFAULT_HUB.into());
}

/// Holds the worker's requests to `hub` (and its CDN, when it is the Hub) and its own origin.
pub fn allow(hub: &str) {
    HUB.with(|h| *h.borrow_mut() = hub.to_string());
}

/// How long the worker waits on a silent server: [`PATIENCE_S`], or `seconds` (1 to 300), which
/// the page passes only from a test's override (`localStorage["headlight.patience"]`).
pub fn patience(seconds: Option<u32>) {
    PATIENCE.with(|p| p.set(seconds.map_or(PATIENCE_S, |s| s.clamp(1, 300))));
}

fn patience_s() -> u32 {
    PATIENCE.with(Cell::get)
}

/// `promise`'s value, or `None` when the worker's [`patience`] runs out first (an answer or a
/// read result is never `undefined`, the timer's value).
async fn within_patience(promise: &js_sys::Promise) -> Result<Option<JsValue>, JsValue> {
    let mut timeout = None;
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        timeout = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, patience_s() as i32 * 1000).ok();
    });
    let first = JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(promise, &timer))).await;
    if let Some(timeout) = timeout {
        scope().clear_timeout_with_handle(timeout);
    }
    Ok(Some(first?).filter(|v| !v.is_undefined()))
}

fn location(part: &str) -> String {
    let location = Reflect::get(&scope(), &"location".into()).unwrap_or_default();
    Reflect::get(&location, &part.into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
}

/// `Err` unless the worker may fetch `url` (relative to the worker's own script).
fn allowed(url: &str) -> Result<(), Failure> {
    let origin_of = |url: &str| web_sys::Url::new_with_base(url, &location("href")).map(|u| u.origin()).map_err(|e| Failure::Failed(js_error(e)));
    let hub = HUB.with(|h| h.borrow().clone());
    let origin = origin_of(url)?;
    if crate::hub::may_fetch(&origin, &origin_of(&hub)?, &location("origin")) {
        return Ok(());
    }
    Err(Failure::Failed(format!(
        "it would come from {origin}, which is neither {} nor this site: headlight fetches models from nowhere else",
        crate::hub::host_name(&hub)
    )))
}

/// Why a fetch did not give the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The server answered 404.
    NotFound,
    /// The user cancelled, or a newer load replaced this one.
    Cancelled,
    /// The server did not begin to answer in time: not asked again by itself.
    NoAnswer,
    /// The server began to answer, then sent nothing more of the body for the worker's
    /// [`patience`] (`received` bytes of `total`): the request was aborted, and is not made again
    /// by itself.
    Stalled { received: u64, total: Option<u64> },
    /// Anything else, in words.
    Failed(String),
}

impl Failure {
    pub fn describe(self, file: &str) -> String {
        match self {
            Failure::NotFound => format!("{file}: not found (404)"),
            Failure::Cancelled => format!("{file}: cancelled"),
            Failure::NoAnswer => format!("{file}: the server did not answer within {} s: it may be down or overloaded", patience_s()),
            Failure::Stalled { received, total } => {
                let after = match (received, total) {
                    (0, _) => "its answer began".to_string(),
                    (received, Some(total)) => format!("{} of {}", format_bytes(received), format_bytes(total)),
                    (received, None) => format_bytes(received),
                };
                format!("{file}: the server stopped sending after {after}, and sent nothing more for {} s: it may be overloaded, or the connection is lost. Nothing was stored; press Retry to try again", patience_s())
            }
            Failure::Failed(why) => format!("{file}: {why}"),
        }
    }
}

/// One load's stop switch: once aborted, its fetches and the reads of their bodies fail at
/// once (the browser drops the connection), and every later request fails before it is sent.
#[derive(Clone)]
pub struct Abort(AbortController);

impl Abort {
    pub fn new() -> Abort {
        Abort(AbortController::new().expect("every browser that runs wasm has AbortController"))
    }

    pub fn abort(&self) {
        self.0.abort();
    }

    pub fn aborted(&self) -> bool {
        self.0.signal().aborted()
    }

    /// Why a fetch or a read failed: `Cancelled` once aborted, whatever the browser said.
    fn failure(&self, why: String) -> Failure {
        if self.aborted() { Failure::Cancelled } else { Failure::Failed(why) }
    }
}

/// A download stopped part-way, kept so that Retry resumes it.
pub struct Partial {
    pub url: String,
    pub bytes: Vec<u8>,
    pub transfer: Transfer,
}

/// A request's answer, once its headers came, and the request's own stop switch.
async fn request(url: &str, method: &str, range: Option<&str>, abort: &Abort) -> Result<(Response, Abort), Failure> {
    send(url, method, range, RequestCache::Default, abort)?.response(abort).await
}

/// Sends a request now; the browser carries it on while the worker does other work. It stops
/// with the load's [`Abort`], or its own once the server is too slow to answer.
fn send(url: &str, method: &str, range: Option<&str>, cache: RequestCache, abort: &Abort) -> Result<Started, Failure> {
    allowed(url)?;
    let own = Abort::new();
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(cache);
    init.set_signal(Some(&AbortSignal::any(&js_sys::Array::of2(&abort.0.signal(), &own.0.signal()))));
    if let Some(range) = range {
        let headers = Headers::new().map_err(|e| Failure::Failed(js_error(e)))?;
        headers.set("Range", range).map_err(|e| Failure::Failed(js_error(e)))?;
        init.set_headers(&headers);
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(|e| Failure::Failed(js_error(e)))?;
    Ok(Started { response: scope().fetch_with_request(&request), own })
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

fn status_failure(response: &Response) -> Failure {
    match Transfer::default().answer(&Head { status: response.status(), ..Head::default() }) {
        _ if response.status() == 404 => Failure::NotFound,
        Err(why) => Failure::Failed(why),
        Ok(_) => Failure::Failed(format!("the server answered {}", response.status())),
    }
}

/// A file whose URL names its content (a version in it): taken from the browser's HTTP cache
/// whenever it is there, without asking the server again. The request goes out at once; its
/// bytes are read with [`Started::bytes`], so the worker can do other work meanwhile.
pub fn immutable(url: &str, abort: &Abort) -> Result<Started, Failure> {
    send(url, "GET", None, RequestCache::ForceCache, abort)
}

/// A request already sent: the promise of its response, and its own stop switch.
pub struct Started {
    response: js_sys::Promise,
    own: Abort,
}

impl Started {
    /// The response, once the server begins to answer, and the request's own stop switch;
    /// given up on after the worker's [`patience`].
    async fn response(self, abort: &Abort) -> Result<(Response, Abort), Failure> {
        let first = within_patience(&self.response)
            .await
            .map_err(|e| abort.failure(format!("the request failed ({}): offline, blocked, or the server is down", js_error(e))))?;
        let Some(first) = first else {
            self.own.abort();
            return Err(Failure::NoAnswer);
        };
        let response: Response = first.unchecked_into();
        // A redirect is followed before the worker sees it: its body is never read.
        if let Err(why) = allowed(&response.url()) {
            self.own.abort();
            return Err(why);
        }
        Ok((response, self.own))
    }

    /// The whole body.
    pub async fn bytes(self, abort: &Abort) -> Result<Vec<u8>, Failure> {
        let (response, own) = self.response(abort).await?;
        body(response, own, abort).await
    }
}

/// A response's whole body, or why not.
async fn body(response: Response, own: Abort, abort: &Abort) -> Result<Vec<u8>, Failure> {
    if !response.ok() {
        return Err(status_failure(&response));
    }
    let total = header(&response, "content-length").and_then(|l| l.parse().ok());
    let body = Body::of(&response, own)?;
    let mut bytes = Vec::new();
    loop {
        match body.next().await {
            Ok(Some(chunk)) => append(&mut bytes, &chunk),
            Ok(None) => return Ok(bytes),
            Err(Stop::Silent) => return Err(Failure::Stalled { received: bytes.len() as u64, total }),
            Err(Stop::Dropped(why)) => return Err(abort.failure(format!("the connection dropped ({why})"))),
        }
    }
}

fn append(bytes: &mut Vec<u8>, chunk: &Uint8Array) {
    let start = bytes.len();
    bytes.resize(start + chunk.length() as usize, 0);
    chunk.copy_to(&mut bytes[start..]);
}

/// A file's size without its body (`HEAD`), `None` when the server does not say.
pub async fn size(url: &str, abort: &Abort) -> Result<Option<u64>, Failure> {
    let (response, _) = request(url, "HEAD", None, abort).await?;
    if !response.ok() {
        return Err(status_failure(&response));
    }
    Ok(header(&response, "content-length").and_then(|l| l.parse().ok()))
}

/// The first `n` bytes of a file and its whole length, with a Range request (a server that
/// ignores Range sends the whole file, of which only the start is read).
pub async fn start(url: &str, n: usize, abort: &Abort) -> Result<(Vec<u8>, u64), Failure> {
    let (response, own) = request(url, "GET", Some(&format!("bytes=0-{}", n.saturating_sub(1))), abort).await?;
    let length = match response.status() {
        206 => header(&response, "content-range").and_then(|r| crate::hub::transfer::parse_content_range(&r)).and_then(|(_, _, total)| total),
        200 => header(&response, "content-length").and_then(|l| l.parse().ok()),
        _ => return Err(status_failure(&response)),
    };
    // A cross-origin CDN may not expose Content-Range; Content-Length of a HEAD is always readable.
    let length = match length {
        Some(length) => length,
        None => size(url, abort).await?.ok_or_else(|| Failure::Failed("the server does not say how long the file is".into()))?,
    };
    let body = Body::of(&response, own)?;
    let mut bytes = Vec::with_capacity(n);
    while bytes.len() < n {
        match body.next().await {
            Ok(Some(chunk)) => append(&mut bytes, &chunk),
            Ok(None) => break,
            Err(Stop::Silent) => return Err(Failure::Stalled { received: bytes.len() as u64, total: Some(length) }),
            Err(Stop::Dropped(why)) => return Err(abort.failure(why)),
        }
    }
    body.stop();
    bytes.truncate(n);
    Ok((bytes, length))
}

/// An answer's body, read piece by piece, and its request's own stop switch.
struct Body {
    reader: ReadableStreamDefaultReader,
    own: Abort,
}

/// Why the next piece of a body did not come.
enum Stop {
    /// The server sent nothing for the worker's [`patience`]; the request was aborted.
    Silent,
    /// The connection dropped (or the load was aborted), in words.
    Dropped(String),
}

impl Body {
    fn of(response: &Response, own: Abort) -> Result<Body, Failure> {
        let body = response.body().ok_or_else(|| Failure::Failed("the answer has no body".into()))?;
        Ok(Body { reader: body.get_reader().unchecked_into(), own })
    }

    /// The next piece, `None` at the end. A server that sends nothing for the worker's
    /// [`patience`] has its request aborted (the browser drops the connection).
    async fn next(&self) -> Result<Option<Uint8Array>, Stop> {
        let Some(result) = within_patience(&self.reader.read()).await.map_err(|e| Stop::Dropped(js_error(e)))? else {
            self.own.abort();
            return Err(Stop::Silent);
        };
        let field = |name: &str| Reflect::get(&result, &name.into()).map_err(|e| Stop::Dropped(js_error(e)));
        if field("done")?.as_bool().unwrap_or(true) {
            return Ok(None);
        }
        Ok(Some(field("value")?.unchecked_into()))
    }

    /// Reads no more of it.
    fn stop(&self) {
        let _ = self.reader.cancel();
    }
}

/// Downloads a file whole as `fresh` bounds it (its length when known, a limit), posting
/// progress, resuming a dropped connection with Range up to
/// [`crate::hub::transfer::MAX_RETRIES`] times (from `resume` when a kept partial download is
/// for this URL). On failure, a Cancel included, the bytes received so far come back for a
/// later Retry, unless the file changed on the server (they would be spliced with another).
pub async fn download(
    url: &str,
    file: &str,
    fresh: Transfer,
    resume: Option<Partial>,
    abort: &Abort,
    report: &dyn Fn(Progress),
) -> Result<Vec<u8>, (Failure, Option<Partial>)> {
    let (mut bytes, mut transfer) = match resume.filter(|p| p.url == url) {
        Some(p) => (p.bytes, Transfer { retries: 0, ..p.transfer }),
        None => (Vec::new(), fresh),
    };
    let mut meter = Meter::default();
    let mut last_report = 0.0;
    let progress = |transfer: &Transfer, meter: &Meter, retry: Option<String>| Progress {
        file: file.to_string(),
        received: transfer.received,
        total: transfer.total,
        speed: meter.speed(),
        retry,
    };
    let keep = |bytes: Vec<u8>, transfer: Transfer| (!bytes.is_empty()).then(|| Partial { url: url.to_string(), bytes, transfer });
    loop {
        // One request: a fresh start, or a resumption from `received`.
        let dropped = match request(url, "GET", transfer.range().as_deref(), abort).await {
            Err(Failure::Failed(why)) => why,
            Err(other) => return Err((other, keep(bytes, transfer))),
            Ok((response, own)) => {
                let head = Head {
                    status: response.status(),
                    content_length: header(&response, "content-length").and_then(|l| l.parse().ok()),
                    content_range: None,
                    etag: None,
                };
                let (range, etag) = (header(&response, "content-range"), header(&response, "etag"));
                let head = Head { content_range: range.as_deref(), etag: etag.as_deref(), ..head };
                match transfer.answer(&head) {
                    Ok(Answer::Restart) => bytes.clear(),
                    Ok(Answer::Continue) => {}
                    Err(_) if head.status == 404 => return Err((Failure::NotFound, None)),
                    Err(why) if head.status == 200 || head.status == 206 => return Err((Failure::Failed(why), None)),
                    Err(why) => return Err((Failure::Failed(why), keep(bytes, transfer))),
                }
                // a length this machine cannot address is never reserved (it is held to its limit,
                // or to the length the memory estimate let through, before it gets here)
                if let Some(total) = transfer.total.and_then(|t| usize::try_from(t).ok()) {
                    bytes.reserve(total.saturating_sub(bytes.len()));
                }
                let body = Body::of(&response, own).map_err(|f| (f, None))?;
                let mut dropped = None;
                loop {
                    match body.next().await {
                        Ok(Some(chunk)) => {
                            append(&mut bytes, &chunk);
                            if let Err(why) = transfer.add(chunk.length() as u64) {
                                body.stop();
                                return Err((Failure::Failed(why), None));
                            }
                            let t = now();
                            meter.record(t, transfer.received);
                            if t - last_report >= PROGRESS_EVERY_MS {
                                last_report = t;
                                report(progress(&transfer, &meter, None));
                            }
                        }
                        Ok(None) => break,
                        Err(_) if abort.aborted() => return Err((Failure::Cancelled, keep(bytes, transfer))),
                        // A silent server is not asked again by itself: Retry resumes from here.
                        Err(Stop::Silent) => return Err((Failure::Stalled { received: transfer.received, total: transfer.total }, keep(bytes, transfer))),
                        Err(Stop::Dropped(why)) => {
                            dropped = Some(why);
                            break;
                        }
                    }
                }
                match dropped {
                    None if transfer.complete() => {
                        report(progress(&transfer, &meter, None));
                        return Ok(bytes);
                    }
                    None => format!("the connection closed after {} of {} bytes", transfer.received, transfer.total.unwrap_or(0)),
                    Some(why) => format!("the connection dropped ({why})"),
                }
            }
        };
        if !transfer.may_retry() {
            let resumes = if transfer.received > 0 { format!(". Retry resumes from byte {}", transfer.received) } else { String::new() };
            let why = format!("{dropped}; gave up after {} tries{resumes}", crate::hub::transfer::MAX_RETRIES);
            return Err((Failure::Failed(why), keep(bytes, transfer)));
        }
        let wait = transfer.backoff_seconds();
        let note = format!("connection lost; resuming in {wait} s (try {} of {})", transfer.retries, crate::hub::transfer::MAX_RETRIES);
        report(progress(&transfer, &meter, Some(note)));
        sleep(wait as f64 * 1000.0).await;
        if abort.aborted() {
            return Err((Failure::Cancelled, keep(bytes, transfer)));
        }
    }
}

/// The worker's cache of complete checkpoints.
pub async fn cache() -> Result<Cache, String> {
    let storage = scope().caches().map_err(|e| format!("the Cache API is not available here ({})", js_error(e)))?;
    Ok(JsFuture::from(storage.open(CACHE_NAME)).await.map_err(js_error)?.unchecked_into())
}

/// A stored file, or `None`.
pub async fn cached(cache: &Cache, url: &str) -> Option<Vec<u8>> {
    let found = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let response: Response = found.dyn_into().ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Stores a complete, validated file under its URL (`body`: its bytes, copied out of wasm memory).
pub async fn store(cache: &Cache, url: &str, body: &Uint8Array) -> Result<(), String> {
    let headers = Headers::new().map_err(js_error)?;
    headers.set(SIZE_HEADER, &body.length().to_string()).map_err(js_error)?;
    headers.set("content-type", "application/octet-stream").map_err(js_error)?;
    let init = ResponseInit::new();
    init.set_headers_headers(&headers);
    let response = Response::new_with_opt_buffer_source_and_init(Some(body.as_ref()), &init).map_err(js_error)?;
    JsFuture::from(cache.put_with_str(url, &response)).await.map_err(|e| format!("cannot store {url} ({})", js_error(e)))?;
    Ok(())
}
