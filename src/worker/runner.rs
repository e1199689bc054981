//! The inference worker's event loop: messages in, model work, messages out.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use web_sys::MessageEvent;

use crate::analysis::probe::{self, Answer};
use crate::checkpoint::Checkpoint;
use crate::inspect;
use crate::model::embedding::sinusoidal_encoding;
use crate::session::{Generation, Next, Session, Stop};
use crate::view::positions::{SIDE, similarity};
use crate::worker::fetch::{Abort, Partial};
use crate::worker::load::{self, Control, LoadError};
use crate::tokenizer::Token;
use crate::views::query::Slot;
use crate::worker::protocol::{Finish, FromWorker, LoadRequest, ModelInfo, PositionMaps, Rows, RunRequest, ToViews, ToWorker};
use crate::worker::scope::{listen, now, post, post_with, yield_now};

#[derive(Default)]
struct State {
    checkpoint: Option<Rc<Checkpoint>>,
    /// The newest run asked for; older runs stop at their next step.
    latest: u32,
    cancelled: bool,
    /// A run asked for before the model was ready.
    pending: Option<RunRequest>,
    /// The loaded model.
    model: Option<ModelInfo>,
    /// The newest load asked for: a Cancel or a newer load aborts it.
    load: Option<Abort>,
    /// A download a failed load stopped part-way, which Retry resumes.
    partial: Option<Partial>,
    /// The port to the views worker, where the attention rows go.
    views: Option<web_sys::MessagePort>,
}

impl State {
    fn interruption(&self, run: u32) -> Option<Finish> {
        if self.latest != run {
            Some(Finish::Superseded)
        } else if self.cancelled {
            Some(Finish::Stopped(Stop::Cancelled))
        } else {
            None
        }
    }
}

/// Sends `message` to the views worker (nothing before the page connects it).
fn to_views(state: &Rc<RefCell<State>>, message: &ToViews) {
    let Some(port) = state.borrow().views.clone() else { return };
    post_with(message, |value| port.post_message(value));
}

/// Hands a run's rows to the views worker: it begins in `slot` with `tokens`, then `rows`.
fn begin(state: &Rc<RefCell<State>>, checkpoint: &Checkpoint, slot: Slot, run: u32, reserve: usize, tokens: Vec<Token>) {
    let c = checkpoint.config();
    to_views(state, &ToViews::Begin { slot, run, n_layer: c.n_layer, n_head: c.n_head, n_positions: c.n_positions, reserve, tokens });
}

/// Runs one request to its end: the rows of every position go to the views worker, and the page
/// hears how far the run has got.
async fn run(state: &Rc<RefCell<State>>, checkpoint: &Checkpoint, request: &RunRequest) -> Result<Finish, String> {
    let (model, tokenizer) = (&checkpoint.model, &checkpoint.tokenizer);
    let (run, slot) = (request.run, request.slot);
    let mut generation = Generation::new(request.decoding, request.new_tokens, request.forced.clone()).map_err(|e| e.to_string())?;
    let mut ids = tokenizer.encode(&request.prompt).map_err(|e| e.to_string())?;
    if request.bos {
        ids.insert(0, model.config.eos_token_id); // `<|endoftext|>` as BOS
    }
    let started = now();
    // This worker keeps no capture: the views worker records the rows it is sent.
    let mut session = Session::open(model, &ids, false).map_err(|e| e.to_string())?;
    let tokens = tokenizer.tokens(&ids);
    let reserve = ids.len().saturating_add(request.new_tokens).min(model.config.n_positions);
    begin(state, checkpoint, slot, run, reserve, tokens.clone());
    post(&FromWorker::Prompt { run, tokens });
    while let Some(pass) = session.read_prompt(model) {
        let positions = pass.first + pass.positions();
        to_views(state, &ToViews::Rows { slot, run, rows: Rows::of_pass(&pass), token: None });
        post(&FromWorker::Read { run, positions, millis: now() - started });
        yield_now().await;
        if let Some(finish) = state.borrow().interruption(run) {
            return Ok(finish);
        }
    }
    loop {
        yield_now().await;
        let interruption = state.borrow().interruption(run);
        let started = now();
        match generation.step(model, &mut session, interruption.is_some()).map_err(|e| e.to_string())? {
            Next::Token(id, pass) => {
                let token = tokenizer.tokens(&[id]).remove(0);
                to_views(state, &ToViews::Rows { slot, run, rows: Rows::of_pass(&pass), token: Some(token.clone()) });
                post(&FromWorker::Step { run, token, millis: now() - started });
            }
            Next::Stopped(Stop::Cancelled) => return Ok(interruption.expect("only an interruption cancels")), // or supersedes
            Next::Stopped(stop) => return Ok(Finish::Stopped(stop)),
        }
    }
}

/// The answer to an analysis: an ablated run's capture goes to the views worker (as run `id` of
/// the ablation slot), the rest to the page.
fn answer(state: &Rc<RefCell<State>>, checkpoint: &Checkpoint, id: u32, ids: &[u32], question: &probe::Question) -> Result<Answer, String> {
    let answer = probe::answer(checkpoint, ids, question).map_err(|e| e.to_string())?;
    if let Answer::Ablated { capture, .. } = &answer {
        begin(state, checkpoint, Slot::Ablated, id, ids.len(), checkpoint.tokenizer.tokens(ids));
        to_views(state, &ToViews::Rows { slot: Slot::Ablated, run: id, rows: Rows::of_capture(capture), token: None });
    }
    Ok(answer)
}

fn start_run(state: Rc<RefCell<State>>, request: RunRequest) {
    spawn_local(async move {
        // Let queued messages (a newer Run, a Cancel) arrive before the prompt's forward pass.
        yield_now().await;
        if let Some(finish) = state.borrow().interruption(request.run) {
            post(&FromWorker::Done { run: request.run, finish });
            return;
        }
        let Some(checkpoint) = state.borrow().checkpoint.clone() else { return };
        let message = match run(&state, &checkpoint, &request).await {
            Ok(finish) => FromWorker::Done { run: request.run, finish },
            Err(error) => FromWorker::Failed { run: request.run, error },
        };
        post(&message);
    });
}

/// The learned `wpe` and the sinusoidal encoding of its size, as similarity maps.
fn position_maps(checkpoint: &Checkpoint) -> PositionMaps {
    let (n_positions, n_embd) = (checkpoint.config().n_positions, checkpoint.config().n_embd);
    let wpe = checkpoint.model.wpe(); // [n_positions, n_embd]
    PositionMaps {
        n_positions,
        n_embd,
        learned: similarity(wpe, n_embd, SIDE),
        sinusoidal: similarity(&sinusoidal_encoding(n_positions, n_embd), n_embd, SIDE),
    }
}

fn on_message(state: &Rc<RefCell<State>>, event: MessageEvent) {
    let message: ToWorker = match serde_wasm_bindgen::from_value(event.data()) {
        Ok(message) => message,
        Err(e) => return web_sys::console::error_1(&format!("headlight worker: unreadable message: {e}").into()),
    };
    match message {
        ToWorker::Connect { port } => state.borrow_mut().views = Some(port),
        ToWorker::Threads { count } => super::start_threads(count),
        ToWorker::Run(request) => {
            let mut s = state.borrow_mut();
            s.latest = request.run;
            s.cancelled = false;
            if s.checkpoint.is_some() {
                drop(s);
                start_run(state.clone(), request);
            } else {
                s.pending = Some(request);
            }
        }
        ToWorker::Cancel { run } => {
            let mut s = state.borrow_mut();
            if s.latest == run {
                s.cancelled = true;
            }
        }
        ToWorker::Export { prompt, generated, decoding } => {
            let Some(checkpoint) = state.borrow().checkpoint.clone() else {
                return post(&FromWorker::Exported { json: Err("the model is not loaded yet".into()) });
            };
            let name = state.borrow().model.as_ref().map_or(String::new(), |m| m.name.clone());
            let json = inspect::replay(&checkpoint, &name, &prompt, &generated, decoding)
                .map_err(|e| e.to_string())
                .and_then(|inspection| serde_json::to_string(&inspection).map_err(|e| e.to_string()));
            post(&FromWorker::Exported { json });
        }
        ToWorker::Analyse { id, ids, question } => {
            let Some(checkpoint) = state.borrow().checkpoint.clone() else {
                return post(&FromWorker::Answer { id, answer: Err("the model is not loaded yet".into()) });
            };
            let state = state.clone();
            spawn_local(async move {
                yield_now().await;
                post(&FromWorker::Answer { id, answer: answer(&state, &checkpoint, id, &ids, &question) });
            });
        }
        ToWorker::Plan(request) => spawn_local(async move { post(&load::plan(&request).await) }),
        ToWorker::Load(request) => start_load(state.clone(), request),
        ToWorker::CancelLoad => {
            // The load's requests stop at once and it posts nothing more, so this answer is the
            // page's last word about it; the model that was there stays.
            let s = state.borrow();
            if let Some(load) = &s.load {
                load.abort();
            }
            post(&FromWorker::LoadCancelled { model: s.model.clone() });
        }
    }
}

/// Loads a model; once it is built it replaces the current one, and a run asked for meanwhile
/// starts. A newer load or a Cancel aborts this one.
fn start_load(state: Rc<RefCell<State>>, request: LoadRequest) {
    let abort = Abort::new();
    if let Some(older) = state.borrow_mut().load.replace(abort.clone()) {
        older.abort();
    }
    spawn_local(async move {
        let partial = |keep: Option<Partial>| std::mem::replace(&mut state.borrow_mut().partial, keep);
        let loaded = load::load(&request, &Control { abort: &abort, partial: &partial }).await;
        if abort.aborted() {
            return; // answered by the Cancel, or superseded by a newer load
        }
        match loaded {
            Ok((checkpoint, source)) => {
                let c = checkpoint.config();
                // packed now, the file gone: a 16-bit checkpoint's blocks stay 16-bit
                let weights = checkpoint.model.precision().into();
                let model = ModelInfo { name: source.label(), source, n_layer: c.n_layer, n_head: c.n_head, n_positions: c.n_positions, kernels: crate::kernels::Isa::best().name().into(), weights, threads: super::threads() };
                let warnings = checkpoint.warnings.clone();
                let positions = position_maps(&checkpoint);
                {
                    let mut s = state.borrow_mut();
                    s.checkpoint = Some(Rc::new(checkpoint));
                    s.model = Some(model.clone());
                }
                post(&FromWorker::Ready { model, warnings });
                post(&FromWorker::Positions(positions));
                let pending = state.borrow_mut().pending.take();
                if let Some(request) = pending {
                    start_run(state.clone(), request);
                }
            }
            Err(LoadError::Failed(error)) => post(&FromWorker::LoadFailed { error }),
            Err(LoadError::Cancelled) => {}
        }
    });
}

/// The worker's entry point: listens for messages, and says so; the page then asks for a model.
pub fn start() {
    console_error_panic_hook::set_once();
    let state = Rc::new(RefCell::new(State::default()));
    listen(move |event| on_message(&state, event));
    post(&FromWorker::Started);
}
