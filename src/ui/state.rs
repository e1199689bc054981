//! The page's state: signals for the model, the settings, the current run and the view, and the
//! one place where worker messages change them.

use leptos::prelude::*;

use crate::capture::Capture;
use crate::permalink::Generation;
use crate::tokenizer::Token;
use crate::ui::analysis::Analyses;
use crate::ui::bridge::Bridge;
use crate::ui::models::HubState;
use crate::view::state::ViewState;
use crate::model::generate::Decoding;
use crate::worker::protocol::{Finish, FromWorker, ModelInfo, PositionMaps, Rows, RunRequest, ToWorker};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    Loading(String),
    Ready(ModelInfo),
    Failed(String),
}

/// Workers started in a row without the model getting ready before the page gives up.
const MAX_RESTARTS: u32 = 3;

/// One run as it streams in.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub id: u32,
    pub prompt: String,
    pub generation: Generation,
    /// Tokens asked for (the link's ids when replaying one).
    pub wanted: usize,
    pub tokens: Vec<Token>,
    pub prompt_len: usize,
    /// `(n_layer, n_head, n_positions)` of the model it runs on; the context decides how its
    /// capture is kept.
    pub dims: (usize, usize, usize),
    /// Positions of the prompt, once its first rows arrive.
    pub prompt_total: usize,
    /// Empty until the prompt's first rows arrive; it holds every position read so far.
    pub capture: Option<Capture>,
    pub finish: Option<Finish>,
    pub error: Option<String>,
    pub prompt_millis: f64,
    pub step_millis: f64,
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

    /// Records one position's rows, making room at the first for the whole run: the prompt's
    /// positions and the tokens asked for after it.
    fn append(&mut self, rows: &Rows) {
        let (n_layer, n_head, n_positions) = self.dims;
        let capture = self.capture.get_or_insert_with(|| {
            let mut capture = Capture::for_app(n_layer, n_head, n_positions);
            capture.reserve_positions(n_positions.min(self.prompt_total.saturating_add(self.wanted)));
            capture
        });
        // The worker sends positions in order; anything else is not this run's next position.
        if rows.position == capture.len() {
            capture.append_position(&rows.weights.to_vec(), &rows.value_norms);
        }
    }
}

/// Every signal the components share, and the actions on them.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub model: RwSignal<ModelStatus>,
    pub prompt: RwSignal<String>,
    pub generation: RwSignal<Generation>,
    pub run: RwSignal<Option<RunData>>,
    /// The second prompt of the compare view, read alone (no generation).
    pub compare: RwSignal<Option<RunData>>,
    /// The model's position encodings as similarity maps, once loaded.
    pub positions: RwSignal<Option<PositionMaps>>,
    pub view: RwSignal<ViewState>,
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
    bridge: StoredValue<Option<Bridge>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// Workers started since the model was last ready: a worker that dies on start is not
    /// restarted for ever.
    restarts: StoredValue<u32>,
}

impl Ctx {
    pub fn new() -> Ctx {
        let (run, view) = (RwSignal::new(None::<RunData>), RwSignal::new(ViewState::default()));
        let ctx = Ctx {
            model: RwSignal::new(ModelStatus::Loading("starting the worker".into())),
            prompt: RwSignal::new(String::new()),
            generation: RwSignal::new(Generation::default()),
            run,
            compare: RwSignal::new(None),
            positions: RwSignal::new(None),
            view,
            shown: Memo::new(move |_| {
                let step = view.with(|v| v.step);
                run.with(|run| run.as_ref().map_or(0, |r| ViewState::visible_at(step, r.prompt_len, r.tokens.len())))
            }),
            hover: RwSignal::new(None),
            notice: RwSignal::new(None),
            playing: RwSignal::new(false),
            hub: HubState::new(),
            analyses: Analyses::new(),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(0),
            restarts: StoredValue::new(0),
        };
        ctx.spawn_worker();
        ctx
    }

    /// Starts the inference worker (dropping the previous one ends it).
    fn spawn_worker(&self) {
        let ctx = *self;
        self.bridge.set_value(None);
        self.worker_starting();
        match Bridge::spawn(move |message| ctx.receive(message), move |error| ctx.worker_failed(error)) {
            Ok(bridge) => self.bridge.set_value(Some(bridge)),
            Err(error) => self.model.set(ModelStatus::Failed(error)),
        }
    }

    /// Runs the prompt box with the current settings; `forced` ids replay a link's text. The
    /// view (and its step) stays as it is.
    pub fn start_run(&self, forced: Vec<u32>) {
        let generation = self.generation.get_untracked();
        let wanted = if forced.is_empty() { generation.new_tokens } else { forced.len() };
        self.playing.set(false);
        self.launch(self.run, self.prompt.get_untracked(), generation, wanted, forced);
    }

    /// Reads the compare view's second prompt (no generation). It supersedes a run still in
    /// progress, so the compare view asks only once the main run is done.
    pub fn start_compare(&self, prompt: String) {
        let generation = Generation { new_tokens: 0, sample: false, ..Generation::default() };
        self.launch(self.compare, prompt, generation, 0, Vec::new());
    }

    /// Starts a run whose messages fill `slot`.
    fn launch(&self, slot: RwSignal<Option<RunData>>, prompt: String, generation: Generation, wanted: usize, forced: Vec<u32>) {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let request = RunRequest { run: id, prompt: prompt.clone(), new_tokens: wanted, decoding: generation.decoding(), forced, bos: generation.bos };
        slot.set(Some(RunData {
            id,
            prompt,
            generation,
            wanted,
            tokens: Vec::new(),
            prompt_len: 0,
            dims: self.model.with_untracked(|m| match m {
                ModelStatus::Ready(info) => (info.n_layer, info.n_head, info.n_positions),
                _ => (0, 0, 0),
            }),
            prompt_total: 0,
            capture: None,
            finish: None,
            error: None,
            prompt_millis: 0.0,
            step_millis: 0.0,
        }));
        self.send(&ToWorker::Run(request));
    }

    /// Asks the worker for the shown run in the CLI's JSON schema; it arrives as `Exported`.
    pub fn export_json(&self) {
        let Some((prompt, generated, decoding)) = self.run.with_untracked(|r| r.as_ref().map(|r| (r.prompt.clone(), r.generated(), r.generation.decoding()))) else { return };
        let decoding = if generated.is_empty() { Decoding::Greedy } else { decoding };
        self.send(&ToWorker::Export { prompt, generated, decoding });
    }

    pub fn cancel(&self) {
        // `with`, not `get`: a copy of the run would copy its capture.
        if let Some(id) = self.run.with_untracked(|r| r.as_ref().filter(|r| r.running()).map(|r| r.id)) {
            self.send(&ToWorker::Cancel { run: id });
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
            message @ (FromWorker::Started
            | FromWorker::Plan { .. }
            | FromWorker::PlanFailed { .. }
            | FromWorker::Progress(_)
            | FromWorker::LoadFailed { .. }
            | FromWorker::LoadCancelled { .. }) => self.receive_hub(message),
            FromWorker::Positions(maps) => self.positions.set(Some(maps)),
            FromWorker::Exported { json: Ok(json) } => crate::ui::export::save("headlight-capture.json", "application/json", &json, self.notice),
            FromWorker::Exported { json: Err(error) } => self.notice.set(Some(format!("The capture could not be exported: {error}"))),
            FromWorker::PromptRows { run, of, rows } => self.update_id(run, |r| {
                r.prompt_total = of;
                rows.iter().for_each(|rows| r.append(rows));
            }),
            FromWorker::Prompt { run, tokens, millis } => self.update_id(run, |r| {
                r.prompt_len = tokens.len();
                r.tokens = tokens;
                r.prompt_millis = millis;
            }),
            FromWorker::Step { run, token, rows, millis } => self.update_id(run, |r| {
                r.tokens.push(token);
                r.append(&rows);
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

    /// Positions shown at the view's step.
    pub fn visible(&self) -> usize {
        self.shown.get()
    }

    /// The token the stream is shaded by: the hovered one, else the pinned one.
    pub fn focus(&self) -> Option<usize> {
        self.hover.get().or_else(|| self.view.with(|v| v.selected))
    }
}
