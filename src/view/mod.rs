//! View models: what the page draws, computed from a capture by pure functions.

pub mod colour;
pub mod heatmap;
pub mod state;
pub mod stream;
