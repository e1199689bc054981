//! The two workers, one wasm binary started twice. The inference worker loads a model (`load`,
//! over `fetch`), then runs prompts one step at a time, sending each position's attention rows to
//! the views worker and its progress to the page, and yielding between steps so a Cancel or a
//! newer Run is seen. The views worker (`views`) keeps the captures and answers the page's
//! queries. The page side of the conversation is in `ui::bridge`.

mod fetch;
mod load;
#[cfg(feature = "threads")]
pub mod pool;
pub mod protocol;
mod runner;
mod scope;
mod tick;
mod views;

/// The name the page gives the views worker when it starts it.
pub const VIEWS: &str = "views";

/// The worker's entry point: the views worker or the inference worker, by the name it was given.
pub fn start() {
    if scope::scope().name() == VIEWS { views::start() } else { runner::start() }
}

/// Runs the kernels on `count` threads where this build has threads (the `threads` feature);
/// the others run on one, whatever they are asked.
fn start_threads(count: usize) {
    #[cfg(feature = "threads")]
    if let Err(error) = pool::start(count, "./headlight-pool.js", false) {
        web_sys::console::error_1(&format!("headlight worker: {error}; the model runs on one thread").into());
    }
    #[cfg(not(feature = "threads"))]
    let _ = count;
}

/// The threads the kernels run on now.
fn threads() -> usize {
    #[cfg(feature = "threads")]
    return pool::running();
    #[cfg(not(feature = "threads"))]
    1
}
