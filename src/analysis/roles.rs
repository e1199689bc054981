//! What each head does, as scores in `[0, 1]`: how much of its attention goes where a known
//! kind of head would put it, plus how spread out its attention is.
//!
//! Each role is a detection pattern `P[q][k]` (1 where that kind of head attends), scored as in
//! TransformerLens's head detector (`compute_head_attention_similarity_score` with the "mul"
//! measure): the attention mass on the pattern, `Σ A ⊙ P / Σ A`. The sums run only over the
//! queries for which the pattern marks at least one key: a query with no earlier duplicate
//! cannot show duplicate-token behaviour, and query 0, which sees only itself, shows nothing
//! at all, so neither dilutes the score. On a random sequence repeated twice this makes the
//! induction score exactly Olsson et al.'s (2022, "In-context Learning and Induction Heads"):
//! the mean attention from each token of the second half to the token after its first occurrence.

use serde::{Deserialize, Serialize};

use crate::analysis::pattern::Pattern;
use crate::capture::Capture;

/// The kinds of head scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Attends to the token just before: `k = q - 1` (TransformerLens `previous_token_head`).
    Previous,
    /// Attends to the first token, the "attention sink" (Xiao et al. 2023): `k = 0`.
    First,
    /// Attends to itself: `k = q`.
    Current,
    /// Attends to earlier copies of its own token: `ids[k] = ids[q]`, `k < q`
    /// (TransformerLens `duplicate_token_head`).
    Duplicate,
    /// Attends to the token after an earlier copy of its own token: `ids[k - 1] = ids[q]`,
    /// `k ≤ q` (Olsson et al. 2022; TransformerLens `induction_head`).
    Induction,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Previous, Role::First, Role::Current, Role::Duplicate, Role::Induction];

    pub fn name(self) -> &'static str {
        match self {
            Role::Previous => "previous",
            Role::First => "first",
            Role::Current => "current",
            Role::Duplicate => "duplicate",
            Role::Induction => "induction",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether this role's detection pattern marks key `k` for query `q` of `ids`.
    pub fn marks(self, ids: &[u32], q: usize, k: usize) -> bool {
        k <= q
            && match self {
                Role::Previous => k + 1 == q,
                Role::First => k == 0 && q > 0,
                Role::Current => k == q && q > 0,
                Role::Duplicate => k < q && ids[k] == ids[q],
                Role::Induction => k >= 1 && ids[k - 1] == ids[q],
            }
    }
}

/// The share of attention on the keys `role` marks, averaged over the queries it marks any key
/// for; `None` when it marks none (no repeated token, say).
pub fn score(pattern: &Pattern, ids: &[u32], role: Role) -> Option<f32> {
    let (mut on_pattern, mut total) = (0.0f64, 0.0f64);
    for q in 0..pattern.len() {
        let row = pattern.row(q);
        let marked: f64 = (0..=q).filter(|&k| role.marks(ids, q, k)).map(|k| row[k] as f64).sum();
        if (0..=q).any(|k| role.marks(ids, q, k)) {
            on_pattern += marked;
            total += row.iter().map(|&w| w as f64).sum::<f64>();
        }
    }
    (total > 0.0).then(|| (on_pattern / total) as f32)
}

/// The mean entropy of the rows, in bits, over queries `1..` (query 0 has one key and no
/// choice): 0 for a head that always looks at one token, `log2(q + 1)` for one that spreads
/// evenly over all it sees.
pub fn entropy(pattern: &Pattern) -> Option<f32> {
    let rows = 1..pattern.len();
    if rows.is_empty() {
        return None;
    }
    let count = rows.len();
    let total: f64 = rows.map(|q| pattern.row(q).iter().filter(|&&w| w > 0.0).map(|&w| -(w as f64) * (w as f64).log2()).sum::<f64>()).sum();
    Some((total / count as f64) as f32)
}

/// One head's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadRoles {
    pub layer: usize,
    pub head: usize,
    /// Mean row entropy in bits.
    pub entropy: Option<f32>,
    /// One score per [`Role::ALL`], in that order.
    pub scores: Vec<Option<f32>>,
}

impl HeadRoles {
    pub fn of(pattern: &Pattern, ids: &[u32], layer: usize, head: usize) -> Self {
        HeadRoles { layer, head, entropy: entropy(pattern), scores: Role::ALL.iter().map(|&r| score(pattern, ids, r)).collect() }
    }

    pub fn score(&self, role: Role) -> Option<f32> {
        self.scores[Role::ALL.iter().position(|&r| r == role).expect("every role is in ALL")]
    }

    /// The role with the highest score (the first on ties), and that score.
    pub fn strongest(&self) -> Option<(Role, f32)> {
        Role::ALL.iter().zip(&self.scores).filter_map(|(&r, s)| s.map(|s| (r, s))).fold(None, |best, (r, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((r, s)),
        })
    }
}

/// The scores of every head, layer by layer, head by head. `patterns[l][h]` is head `h` of
/// layer `l` over the positions of `ids`.
pub fn head_roles(patterns: &[Vec<Pattern>], ids: &[u32]) -> Vec<HeadRoles> {
    patterns
        .iter()
        .enumerate()
        .flat_map(|(l, heads)| heads.iter().enumerate().map(move |(h, p)| HeadRoles::of(p, ids, l, h)))
        .collect()
}

/// Every head's scores over the first `ids.len()` positions of a capture.
pub fn roles_of(capture: &Capture, ids: &[u32]) -> Vec<HeadRoles> {
    let patterns: Vec<Vec<Pattern>> = (0..capture.n_layer()).map(|l| Pattern::of_layer(capture, l, ids.len())).collect();
    head_roles(&patterns, ids)
}

/// An induction score from which a head is shown first: at least this share of its attention,
/// where the run repeats itself, goes to the token after the earlier copy.
pub const SHOWCASE_INDUCTION: f32 = 0.3;

/// The head most worth opening first on a run, and the role that makes it so: the strongest
/// induction head where one shows ([`SHOWCASE_INDUCTION`]), else the strongest previous-token
/// head; `None` when no head has either score.
pub fn showcase(roles: &[HeadRoles]) -> Option<(&HeadRoles, Role)> {
    let best = |role: Role| {
        roles.iter().filter_map(|r| Some((r, r.score(role)?))).fold(None, |best: Option<(&HeadRoles, f32)>, (r, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((r, s)),
        })
    };
    match best(Role::Induction) {
        Some((head, score)) if score >= SHOWCASE_INDUCTION => Some((head, Role::Induction)),
        _ => best(Role::Previous).map(|(head, _)| (head, Role::Previous)),
    }
}

/// How a role table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    /// Layer, then head.
    Position,
    /// Highest score of this role first; heads without a score last.
    Role(Role),
    /// Lowest entropy (most focused) first.
    Entropy,
}

impl SortBy {
    pub fn name(self) -> &'static str {
        match self {
            SortBy::Position => "position",
            SortBy::Role(r) => r.name(),
            SortBy::Entropy => "entropy",
        }
    }

    pub fn from_name(name: &str) -> Option<SortBy> {
        match name {
            "position" => Some(SortBy::Position),
            "entropy" => Some(SortBy::Entropy),
            _ => Role::from_name(name).map(SortBy::Role),
        }
    }
}

/// Sorts a role table in place; ties keep layer-then-head order.
pub fn sort(roles: &mut [HeadRoles], by: SortBy) {
    let key = |r: &HeadRoles| match by {
        SortBy::Position => 0.0,
        SortBy::Role(role) => -r.score(role).unwrap_or(f32::NEG_INFINITY),
        SortBy::Entropy => r.entropy.unwrap_or(f32::INFINITY),
    };
    roles.sort_by(|a, b| key(a).total_cmp(&key(b)).then((a.layer, a.head).cmp(&(b.layer, b.head))));
}
