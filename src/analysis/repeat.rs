//! The induction test of Olsson et al. (2022, "In-context Learning and Induction Heads"): a
//! sequence of random tokens repeated twice. In the second half nothing but the first half tells
//! the model what comes next, so a head that attends from each token to the token after its
//! earlier copy is doing induction; [`crate::analysis::roles::Role::Induction`] scores it.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Where the random tokens come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pool {
    /// Any token of the vocabulary but the end-of-text token, as TransformerLens's
    /// `generate_repeated_tokens` draws them. A small model has never seen most of them.
    #[default]
    Vocabulary,
    /// The distinct tokens of the prompt: tokens the model reads every day, in a random order.
    Prompt,
}

impl Pool {
    pub const ALL: [Pool; 2] = [Pool::Vocabulary, Pool::Prompt];

    pub fn name(self) -> &'static str {
        match self {
            Pool::Vocabulary => "vocabulary",
            Pool::Prompt => "prompt",
        }
    }

    pub fn from_name(name: &str) -> Option<Pool> {
        Pool::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The distinct ids this pool draws from, in ascending order: the vocabulary of
    /// `vocab_size`, or the distinct ids of `prompt`; never `eos`, which would end the text.
    pub fn candidates(self, vocab_size: usize, eos: u32, prompt: &[u32]) -> Vec<u32> {
        let mut ids: Vec<u32> = match self {
            Pool::Vocabulary => (0..vocab_size as u32).collect(),
            Pool::Prompt => prompt.to_vec(),
        };
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|&id| id != eos && (id as usize) < vocab_size);
        ids
    }
}

/// `half` distinct ids drawn with `seed` from `candidates` (distinct ids; at most all of them),
/// then the same ids again. Distinct, so each token of the second half has exactly one earlier
/// copy.
pub fn repeated_random(candidates: &[u32], half: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::seeded(seed);
    let mut pool = candidates.to_vec();
    let half = half.min(pool.len());
    // the first `half` steps of a Fisher-Yates shuffle
    for i in 0..half {
        let j = i + (rng.next_u64() % (pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(half);
    pool.extend_from_within(..);
    pool
}
