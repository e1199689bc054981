//! What the model expects next: the most likely tokens with their probabilities, and how
//! surprised it was by the token that came (surprisal, `-log2 p`, in bits).

use serde::{Deserialize, Serialize};

/// `softmax(logits)`, computed in f64 after subtracting the largest logit.
pub fn probabilities(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exps: Vec<f64> = logits.iter().map(|&x| libm::exp(x as f64 - max)).collect();
    let total: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / total).collect()
}

/// The `k` most likely ids with their probabilities, most likely first (ties by lower id).
pub fn top_k(probabilities: &[f64], k: usize) -> Vec<(u32, f32)> {
    let mut order: Vec<u32> = (0..probabilities.len() as u32).collect();
    let k = k.min(order.len());
    if k == 0 {
        return Vec::new();
    }
    let by_probability = |a: &u32, b: &u32| probabilities[*b as usize].total_cmp(&probabilities[*a as usize]).then(a.cmp(b));
    order.select_nth_unstable_by(k - 1, by_probability);
    order.truncate(k);
    order.sort_by(by_probability);
    order.into_iter().map(|id| (id, probabilities[id as usize] as f32)).collect()
}

/// Surprisal in bits of an event of probability `p`.
pub fn surprisal_bits(p: f64) -> f32 {
    -(p.log2()) as f32
}

/// A token the model considered, with the probability it gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: u32,
    /// The token as the page shows it (whitespace made visible).
    pub label: String,
    pub p: f32,
}

/// The model's expectation at one position, and what came next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Most likely next tokens, most likely first.
    pub top: Vec<Candidate>,
    /// The token at the next position with the probability the model gave it; `None` at the
    /// last position.
    pub next: Option<Candidate>,
}

impl Prediction {
    /// From the logits at one position; `next` is the id that followed it, if any; `label`
    /// names an id.
    pub fn from_logits(logits: &[f32], next: Option<u32>, k: usize, label: &impl Fn(u32) -> String) -> Self {
        let p = probabilities(logits);
        let candidate = |(id, p): (u32, f32)| Candidate { id, label: label(id), p };
        Prediction {
            top: top_k(&p, k).into_iter().map(candidate).collect(),
            next: next.map(|id| candidate((id, p[id as usize] as f32))),
        }
    }

    /// `-log2 p` of the token that came next, in bits.
    pub fn surprisal(&self) -> Option<f32> {
        self.next.as_ref().map(|c| surprisal_bits(c.p as f64))
    }
}
