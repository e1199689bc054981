//! Analyses of a forward pass, as pure functions: the matrix a view shows (one head, or an
//! aggregate of heads and layers), the roles heads play, the model's predictions and surprisal,
//! and the repeated random sequence that tests for induction heads; and (`lens`, `probe`)
//! the questions that need a forward pass of their own.

pub mod aggregate;
pub mod lens;
pub mod pattern;
pub mod predict;
pub mod probe;
pub mod repeat;
pub mod roles;
