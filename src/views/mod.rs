//! The views worker's side of the app: it owns every capture the page shows and answers the
//! page's small queries with view models sized to what is drawn, so the page's thread only
//! draws. Pure, and tested natively; `worker::views` is its event loop.
//!
//! Rows flow from the inference worker straight to the views worker ([`store::Store::add`]), one
//! position at a time; the page learns only how far the run has got. A query about positions
//! not arrived yet waits for them, so the maps keep answering from what is captured while the
//! model still reads or generates.

mod maps;
pub mod query;
mod recorded;
pub mod store;
