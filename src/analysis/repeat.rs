//! The induction test of Olsson et al. (2022, "In-context Learning and Induction Heads"): a
//! sequence of random tokens repeated twice. In the second half nothing but the first half tells
//! the model what comes next, so a head that attends from each token to the token after its
//! earlier copy is doing induction; [`crate::analysis::roles::Role::Induction`] scores it.

use crate::rng::Rng;

/// Ids the random tokens are drawn from: ordinary words and word pieces of the GPT-2
/// vocabulary, as in TransformerLens's induction demo (`randint(1000, 10000)`).
pub const VOCAB_RANGE: std::ops::Range<u32> = 1000..10000;

/// `half` distinct random ids drawn with `seed`, then the same ids again: `2 * half` ids.
/// Distinct, so each token of the second half has exactly one earlier copy.
pub fn repeated_random(half: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::seeded(seed);
    let span = (VOCAB_RANGE.end - VOCAB_RANGE.start) as u64;
    let mut ids: Vec<u32> = Vec::with_capacity(2 * half);
    while ids.len() < half.min(span as usize) {
        let id = VOCAB_RANGE.start + (rng.next_u64() % span) as u32;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.extend_from_within(..);
    ids
}
