//! View models: what the page draws, computed from a capture by pure functions.

pub mod colour;
pub mod export;
pub mod heatmap;
pub mod lines;
pub mod positions;
pub mod state;
pub mod stream;
pub mod words;
