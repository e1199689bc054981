//! The page's state: signals for the model, the settings, the current run and the view, and the
//! one place where worker messages change them.

use leptos::prelude::*;
use reactive_stores::{Patch, Store};

use crate::model::generate::GenerationSettings;
use crate::tokenizer::Token;
use crate::analysis::probe::Question;
use crate::ui::answers::Analyses;
use crate::ui::bridge::Bridge;
use crate::ui::hub_state::HubState;
use crate::ui::views::Views;
use crate::view::state::{ViewState, ViewStateStoreFields};
use crate::views::query::{Look, Query, Reply, Slot};
use crate::model::generate::Decoding;
use crate::worker::VIEWS;
use crate::worker::protocol::{Finish, FromViews, FromWorker, ModelInfo, PositionMaps, RunRequest, ToViews, ToWorker};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    Loading(String),
    Ready(ModelInfo),
    Failed(String),
}

/// Workers started in a row without the model getting ready before the page gives up.
const MAX_RESTARTS: u32 = 3;

/// One run as it streams in. Its attention is with the views worker; the page knows its tokens
/// and how far the model has read.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub id: u32,
    pub prompt: String,
    pub generation: GenerationSettings,
    /// Tokens asked for (the link's ids when replaying one).
    pub wanted: usize,
    /// The prompt's tokens (they come before the model reads them), then each generated one.
    pub tokens: Vec<Token>,
    pub prompt_len: usize,
    /// Positions read so far: their rows are with the views worker.
    pub read: usize,
    pub finish: Option<Finish>,
    pub error: Option<String>,
    pub prompt_millis: f64,
    pub step_millis: f64,
    /// When Run was pressed (`performance.now()`), and how long from then until the last map of
    /// the finished run was drawn: what the user waited.
    pub started: f64,
    pub waited: Option<f64>,
}

impl RunData {
    /// Ids of the first `n` tokens.
    pub fn ids(&self, n: usize) -> Vec<u32> {
        self.tokens[..n].iter().map(|t| t.id).collect()
    }

    /// Ids generated so far.
    pub fn generated(&self) -> Vec<u32> {
        self.tokens[self.prompt_len..].iter().map(|t| t.id).collect()
    }

    pub fn steps(&self) -> usize {
        self.tokens.len() - self.prompt_len
    }

    pub fn running(&self) -> bool {
        self.finish.is_none() && self.error.is_none()
    }

    /// Whether the whole prompt is read.
    pub fn prompt_read(&self) -> bool {
        self.read >= self.prompt_len && self.prompt_len > 0
    }
}

/// Milliseconds since the page opened.
pub fn now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Every signal the components share, and the actions on them.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub model: RwSignal<ModelStatus>,
    pub prompt: RwSignal<String>,
    pub generation: RwSignal<GenerationSettings>,
    pub run: RwSignal<Option<RunData>>,
    /// The second prompt of the compare view, read alone (no generation).
    pub compare: RwSignal<Option<RunData>>,
    /// The model's position encodings as similarity maps, once loaded.
    pub positions: RwSignal<Option<PositionMaps>>,
    /// What the page shows: a store, so a component subscribes to the fields it reads; change it
    /// with [`Ctx::edit`], which notifies only the fields that changed.
    pub view: Store<ViewState>,
    /// Positions shown at the view's step: a memo, so what depends on it alone is not redrawn
    /// by every other change to the view (a click on a token, say).
    shown: Memo<usize>,
    /// The token under the pointer, which shades the stream while no token is pinned.
    pub hover: RwSignal<Option<usize>>,
    /// A message about a link that could not be read whole, or the clipboard.
    pub notice: RwSignal<Option<String>>,
    pub playing: RwSignal<bool>,
    /// The model panel: picker, download, errors, stored models.
    pub hub: HubState,
    /// Answers of the analyses that need a forward pass of their own.
    pub analyses: Analyses,
    /// Queries to the views worker, which keeps the captures, and its replies.
    pub views: Views,
    bridge: StoredValue<Option<Bridge>, LocalStorage>,
    /// Whether the inference worker says it is listening: it is connected to the views worker
    /// once both do.
    listening: StoredValue<bool>,
    /// Runs asked while the workers were not connected (a views worker restarting), sent once
    /// they are: the rows of a run sent earlier would go to a port nobody reads.
    held: StoredValue<Vec<RunRequest>>,
    next_id: StoredValue<u32>,
    /// Workers started since the model was last ready: a worker that dies on start is not
    /// restarted for ever.
    restarts: StoredValue<u32>,
}

impl Ctx {
    pub fn new() -> Ctx {
        let (run, view) = (RwSignal::new(None::<RunData>), Store::new(ViewState::default()));
        let ctx = Ctx {
            model: RwSignal::new(ModelStatus::Loading("starting the worker".into())),
            prompt: RwSignal::new(String::new()),
            generation: RwSignal::new(GenerationSettings::default()),
            run,
            compare: RwSignal::new(None),
            positions: RwSignal::new(None),
            view,
            shown: Memo::new(move |_| {
                let step = view.step().get();
                run.with(|run| run.as_ref().map_or(0, |r| ViewState::visible_at(step, r.prompt_len, r.tokens.len()).min(r.read)))
            }),
            hover: RwSignal::new(None),
            notice: RwSignal::new(None),
            playing: RwSignal::new(false),
            hub: HubState::new(),
            analyses: Analyses::new(),
            views: Views::new(),
            bridge: StoredValue::new_local(None),
            listening: StoredValue::new(false),
            held: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(0),
            restarts: StoredValue::new(0),
        };
        ctx.spawn_views();
        ctx.spawn_worker();
        ctx
    }

    /// Starts the views worker (dropping the previous one ends it, and the captures it held).
    fn spawn_views(&self) {
        let ctx = *self;
        self.views.set_bridge(None);
        self.views.clear();
        match Bridge::spawn(VIEWS, 1, move |message| ctx.receive_views(message), move |error| ctx.views_failed(error)) {
            Ok(bridge) => self.views.set_bridge(Some(bridge)),
            Err(error) => self.model.set(ModelStatus::Failed(error)),
        }
    }

    /// Starts the inference worker (dropping the previous one ends it) and gives it a port to
    /// the views worker.
    fn spawn_worker(&self) {
        let ctx = *self;
        self.bridge.set_value(None);
        self.worker_starting();
        self.listening.set_value(false);
        match Bridge::spawn("inference", crate::ui::bridge::inference_threads(), move |message| ctx.receive(message), move |error| ctx.worker_failed(error)) {
            Ok(bridge) => self.bridge.set_value(Some(bridge)),
            Err(error) => self.model.set(ModelStatus::Failed(error)),
        }
    }

    /// Whether both workers listen, and so have a channel between them.
    fn connected(&self) -> bool {
        self.listening.get_value() && self.views.listening()
    }

    /// A new channel between the two workers, replacing any older one, once both listen (a
    /// message sent to a worker before it listens is lost); then the runs held for it.
    fn connect(&self) {
        if !self.connected() {
            return;
        }
        let Ok(channel) = web_sys::MessageChannel::new() else { return };
        let (to_views, from_inference) = (channel.port1(), channel.port2());
        self.views.send(&ToViews::Connect { port: from_inference.clone() }, Some(&from_inference));
        self.bridge.with_value(|bridge| {
            if let Some(bridge) = bridge {
                bridge.send_port(&ToWorker::Connect { port: to_views.clone() }, &to_views);
            }
        });
        for request in self.held.try_update_value(std::mem::take).unwrap_or_default() {
            self.send(&ToWorker::Run(request));
        }
    }

    /// The views worker died (out of memory, most likely): a new one starts, and the run shown
    /// has to be read again, since its capture died with the worker; a run in progress stops.
    fn views_failed(&self, error: String) {
        let error = format!("The worker that draws the maps stopped ({error}); it may have run out of memory. A new one was started: press Run to read the prompt again.");
        for slot in [self.run, self.compare] {
            if let Some(id) = slot.with_untracked(|r| r.as_ref().filter(|r| r.running()).map(|r| r.id)) {
                self.send(&ToWorker::Cancel { run: id });
                self.update_id(id, |run| run.error = Some(error.clone()));
            }
        }
        self.notice.set(Some(error));
        let ctx = *self;
        leptos::task::spawn_local(async move { ctx.spawn_views() });
    }

    /// Applies one reply of the views worker: an export is saved, anything else kept for its
    /// consumer; replies to queries since replaced are dropped.
    fn receive_views(&self, message: FromViews) {
        let (query, reply) = match message {
            FromViews::Started => {
                self.views.started();
                return self.connect();
            }
            FromViews::Answer { query, reply } => (query, *reply),
        };
        if !self.views.is_asked(&query) {
            return;
        }
        match (&query, reply) {
            (&Query::Export { png, .. }, Ok(Reply::Export { svg, name })) => crate::ui::export::save_maps(&name, &svg, png, self.notice),
            (Query::Export { .. }, Ok(_)) => {}
            (Query::Export { .. }, Err(error)) => self.notice.set(Some(format!("The maps could not be exported: {error}"))),
            (_, reply) => self.views.accept(query, reply),
        }
    }

    /// Runs the prompt box with the current settings; `forced` ids replay a link's text. The
    /// view (and its step) stays as it is.
    pub fn start_run(&self, forced: Vec<u32>) {
        let generation = self.generation.get_untracked();
        let wanted = if forced.is_empty() { generation.new_tokens } else { forced.len() };
        self.playing.set(false);
        self.launch(Slot::Main, self.prompt.get_untracked(), generation, wanted, forced);
    }

    /// Reads the compare view's second prompt (no generation). It supersedes a run still in
    /// progress, so the compare view asks only once the main run is done.
    pub fn start_compare(&self, prompt: String) {
        let generation = GenerationSettings { new_tokens: 0, sample: false, ..GenerationSettings::default() };
        self.launch(Slot::Compare, prompt, generation, 0, Vec::new());
    }

    /// Starts a run in `slot` (the main run's, or the compared prompt's).
    fn launch(&self, slot: Slot, prompt: String, generation: GenerationSettings, wanted: usize, forced: Vec<u32>) {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let request = RunRequest { run: id, slot, prompt: prompt.clone(), new_tokens: wanted, decoding: generation.decoding(), forced, bos: generation.bos };
        let signal = if slot == Slot::Compare { self.compare } else { self.run };
        signal.set(Some(RunData {
            id,
            prompt,
            generation,
            wanted,
            tokens: Vec::new(),
            prompt_len: 0,
            read: 0,
            finish: None,
            error: None,
            prompt_millis: 0.0,
            step_millis: 0.0,
            started: now(),
            waited: None,
        }));
        if self.connected() {
            self.send(&ToWorker::Run(request));
        } else {
            self.held.update_value(|held| {
                held.retain(|older| older.slot != slot);
                held.push(request);
            });
        }
    }

    /// Asks the worker for the shown run in the CLI's JSON schema; it arrives as `Exported`.
    pub fn export_json(&self) {
        let Some((prompt, generated, decoding)) = self.run.with_untracked(|r| r.as_ref().map(|r| (r.prompt.clone(), r.generated(), r.generation.decoding()))) else { return };
        let decoding = if generated.is_empty() { Decoding::Greedy } else { decoding };
        self.send(&ToWorker::Export { prompt, generated, decoding });
    }

    pub fn cancel(&self) {
        // `with`, not `get`: the run is not copied.
        if let Some(id) = self.run.with_untracked(|r| r.as_ref().filter(|r| r.running()).map(|r| r.id)) {
            self.send(&ToWorker::Cancel { run: id });
        }
    }

    /// Asks the inference worker about `ids`, unless that question is answered or on its way.
    pub fn ask(&self, ids: Vec<u32>, question: Question) {
        if let Some(message) = self.analyses.ask(ids, question) {
            self.send(&message);
        }
    }

    pub(crate) fn send(&self, message: &ToWorker) {
        self.bridge.with_value(|bridge| {
            if let Some(bridge) = bridge {
                bridge.send(message);
            }
        });
    }

    /// The worker died (a panic, running out of memory): the run in progress fails with the
    /// reason, a new worker starts, and the prompt, settings and view stay as they are.
    fn worker_failed(&self, error: String) {
        let restarts = self.restarts.get_value();
        if restarts >= MAX_RESTARTS {
            let error = format!("The inference worker stopped again ({error}) after {restarts} restarts. Reload the page to start it again.");
            return self.model.set(ModelStatus::Failed(error));
        }
        self.restarts.set_value(restarts + 1);
        let error = format!("The inference worker stopped ({error}); if the run was long it may have run out of memory. A new worker was started: your prompt and view are kept, press Run to try again.");
        self.update_run(|run| {
            if run.running() {
                run.error = Some(error.clone());
            }
        });
        self.notice.set(Some(error));
        self.model.set(ModelStatus::Loading("restarting the worker".into()));
        // Not from inside the dying worker's own error handler.
        let ctx = *self;
        leptos::task::spawn_local(async move { ctx.spawn_worker() });
    }

    /// Applies one worker message; messages of superseded runs are dropped.
    fn receive(&self, message: FromWorker) {
        match message {
            FromWorker::Loading { what } => self.model.set(ModelStatus::Loading(what)),
            FromWorker::Ready { model, warnings } => {
                for warning in warnings {
                    web_sys::console::warn_1(&warning.into());
                }
                self.restarts.set_value(0);
                self.analyses.clear();
                let replaced = self.model_ready(&model);
                self.model.set(ModelStatus::Ready(model));
                if replaced && self.run.with_untracked(Option::is_some) {
                    self.start_run(Vec::new());
                }
            }
            FromWorker::Started => {
                // its threads first: they start while the model loads
                self.bridge.with_value(|bridge| {
                    if let Some(bridge) = bridge.as_ref().filter(|b| b.threads() > 1) {
                        bridge.send(&ToWorker::Threads { count: bridge.threads() });
                    }
                });
                self.receive_hub(FromWorker::Started);
                self.listening.set_value(true);
                self.connect();
            }
            message @ (FromWorker::Plan { .. }
            | FromWorker::PlanFailed { .. }
            | FromWorker::Progress(_)
            | FromWorker::LoadFailed { .. }
            | FromWorker::LoadCancelled { .. }) => self.receive_hub(message),
            FromWorker::Positions(maps) => self.positions.set(Some(maps)),
            FromWorker::Exported { json: Ok(json) } => crate::ui::export::save("headlight-capture.json", "application/json", &json, self.notice),
            FromWorker::Exported { json: Err(error) } => self.notice.set(Some(format!("The capture could not be exported: {error}"))),
            FromWorker::Prompt { run, tokens } => self.update_id(run, |r| {
                r.prompt_len = tokens.len();
                r.tokens = tokens;
            }),
            FromWorker::Read { run, positions, millis } => self.update_id(run, |r| {
                r.read = positions;
                r.prompt_millis = millis;
            }),
            FromWorker::Step { run, token, millis } => self.update_id(run, |r| {
                r.tokens.push(token);
                r.read += 1;
                r.step_millis += millis;
            }),
            FromWorker::Done { run, finish } => self.update_id(run, |r| r.finish = Some(finish)),
            FromWorker::Failed { run, error } => self.update_id(run, |r| r.error = Some(error)),
            FromWorker::Answer { id, answer } => self.analyses.receive(id, answer),
        }
    }

    /// Changes the run (main or compare) whose id is `id`; a superseded run's id matches none.
    fn update_id(&self, id: u32, change: impl FnOnce(&mut RunData)) {
        let slot = [self.run, self.compare].into_iter().find(|slot| slot.with_untracked(|r| r.as_ref().is_some_and(|r| r.id == id)));
        if let Some(slot) = slot {
            slot.update(|run| {
                if let Some(run) = run {
                    change(run);
                }
            });
        }
    }

    fn update_run(&self, change: impl FnOnce(&mut RunData)) {
        self.run.update(|run| {
            if let Some(run) = run {
                change(run);
            }
        });
    }

    /// The look of the view with `n` positions shown (`Look::of`), read field by field: what asks
    /// with it subscribes to the fields a look holds, not to the panel, the step or the sort.
    pub fn look(&self, n: usize) -> Look {
        let v = self.view;
        let (mode, layer, head, source, hide_sink, words, scale) = (v.mode().get(), v.layer().get(), v.head().get(), v.source().get(), v.hide_sink().get(), v.words().get(), v.scale().get());
        let (selected, key, pan) = (v.selected().get(), v.key().get(), v.pan().get());
        Look::of(&ViewState { mode, layer, head, source, hide_sink, words, scale, selected, key, pan, ..ViewState::default() }, n)
    }

    /// The look of the view's matrix alone (`Look::matrix`), read from the four fields it holds.
    pub fn matrix_look(&self) -> Look {
        let v = self.view;
        Look::matrix(&ViewState { layer: v.layer().get(), head: v.head().get(), source: v.source().get(), hide_sink: v.hide_sink().get(), ..ViewState::default() })
    }

    /// Changes the view: `change` edits a copy, and only the fields it changed notify their
    /// readers.
    pub fn edit(&self, change: impl FnOnce(&mut ViewState)) {
        let mut next = self.view.get_untracked();
        change(&mut next);
        self.view.patch(next);
    }

    /// Positions shown at the view's step.
    pub fn visible(&self) -> usize {
        self.shown.get()
    }

    /// The token the stream is shaded by: the hovered one, else the pinned one.
    pub fn focus(&self) -> Option<usize> {
        self.hover.get().or_else(|| self.view.selected().get())
    }
}
