//! The inference worker: loads a model (`load`, over `fetch`), then runs prompts one step at a time,
//! streaming each step to the page and yielding between steps so a Cancel or a newer Run is
//! seen. The page side of the conversation is in `ui::bridge`.

mod fetch;
mod load;
pub mod protocol;
mod runner;

pub use runner::start;
