//! The model panel's state (part of `Ctx`): what waits for the user's yes, what is checked or
//! loading, what failed, and what the worker holds. The panel and its actions are `ui::models`.

use leptos::prelude::*;

use crate::hub::progress::Progress;
use crate::hub::{LocalFile, ModelSource};
use crate::worker::protocol::{LoadRequest, ModelInfo, ToWorker};

/// A Hub model waiting for the user's yes, and what it will download: each file and its size
/// once the Hub was asked (the user pressed Load), `None` for a link's model, about which
/// nothing leaves the browser before the yes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub source: ModelSource,
    pub files: Option<Vec<(String, Option<u64>)>>,
}

/// What Retry asks for again: a Hub model's sizes, or a load.
#[derive(Debug, Clone)]
pub(crate) enum Ask {
    Plan(ModelSource),
    Load(LoadRequest),
}

/// The model panel's signals, part of `Ctx`.
#[derive(Clone, Copy)]
pub struct HubState {
    pub plan: RwSignal<Option<Plan>>,
    /// A source whose sizes the Hub is being asked for.
    pub checking: RwSignal<Option<ModelSource>>,
    /// A load was sent to the worker and has not ended yet (Cancel stops it).
    pub loading: RwSignal<bool>,
    pub progress: RwSignal<Option<Progress>>,
    /// Why the last plan or load failed.
    pub error: RwSignal<Option<String>>,
    /// A link made with local files: the files to pick again.
    pub local_wanted: RwSignal<Option<Vec<LocalFile>>>,
    /// The model the worker holds; it stays when a later load fails or is cancelled, and goes
    /// with a worker that stopped.
    pub loaded: RwSignal<Option<ModelInfo>>,
    /// Bumped when the stored models change, so the cache panel reads them again.
    pub stored: RwSignal<u32>,
    /// What the user asked for last: Retry asks for it again.
    pub(crate) last: StoredValue<Option<Ask>, LocalStorage>,
    /// The load sent to the worker last: the one a `Ready` answers.
    pub(crate) sent: StoredValue<Option<LoadRequest>, LocalStorage>,
    /// The load that gave the model now loaded: a restarted worker loads it again (never a
    /// later load that failed or was cancelled, which would download without asking).
    pub(crate) current: StoredValue<Option<LoadRequest>, LocalStorage>,
    /// Workers started so far: every one after the first is a restart.
    pub(crate) workers: StoredValue<u32>,
    pub(crate) started: StoredValue<bool>,
    pub(crate) queued: StoredValue<Vec<ToWorker>, LocalStorage>,
}

impl HubState {
    pub fn new() -> HubState {
        HubState {
            plan: RwSignal::new(None),
            checking: RwSignal::new(None),
            loading: RwSignal::new(false),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            local_wanted: RwSignal::new(None),
            loaded: RwSignal::new(None),
            stored: RwSignal::new(0),
            last: StoredValue::new_local(None),
            sent: StoredValue::new_local(None),
            current: StoredValue::new_local(None),
            workers: StoredValue::new(0),
            started: StoredValue::new(false),
            queued: StoredValue::new_local(Vec::new()),
        }
    }
}

