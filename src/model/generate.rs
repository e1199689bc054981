//! Choosing the next token from logits: greedy, or sampling with temperature, top-k, top-p and
//! an explicit seed. The arithmetic is f64 with `libm`'s `exp`, so the same logits and seed
//! give the same tokens natively and in wasm.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingSettings {
    /// Divides the logits; > 0. Below 1 sharpens, above 1 flattens.
    pub temperature: f32,
    /// Keep only the `k` most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p`; 1 keeps all.
    pub top_p: f32,
    pub seed: u64,
}

impl SamplingSettings {
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::Prompt(format!("temperature must be a number above 0, not {}", self.temperature)));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::Prompt(format!("top-p must be in (0, 1], not {}", self.top_p)));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Decoding {
    Greedy,
    Sample(SamplingSettings),
}

/// Most tokens one run may ask to generate (the settings' field, and a link's).
pub const MAX_NEW_TOKENS: usize = 1024;

/// How to continue the prompt. The sampling settings are kept while greedy so a switch back
/// restores them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerationSettings {
    pub new_tokens: usize,
    pub sample: bool,
    pub sampling: SamplingSettings,
    /// Put `<|endoftext|>` before the prompt as a BOS token (transformers adds none for GPT-2).
    pub bos: bool,
}

impl Default for GenerationSettings {
    fn default() -> Self {
        GenerationSettings { new_tokens: 16, sample: true, sampling: SamplingSettings { temperature: 0.8, top_k: 40, top_p: 0.95, seed: 42 }, bos: false }
    }
}

impl GenerationSettings {
    pub fn decoding(&self) -> Decoding {
        if self.sample { Decoding::Sample(self.sampling) } else { Decoding::Greedy }
    }
}

/// Picks tokens one after another, carrying its random stream between picks.
#[derive(Debug, Clone)]
pub struct Sampler {
    decoding: Decoding,
    rng: Rng,
}

/// The index of the largest logit; the first one on ties, as `torch.argmax`.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Refuses logits that are not all finite numbers: no token can be chosen from them.
fn finite(logits: &[f32]) -> Result<()> {
    match logits.iter().filter(|x| !x.is_finite()).count() {
        0 if !logits.is_empty() => Ok(()),
        0 => Err(Error::Generation("there are no logits to choose the next token from".into())),
        bad => Err(Error::Generation(format!(
            "{bad} of the {} logits are NaN or infinite, so no next token can be chosen: the model's weights are broken (see the warnings its loading gave)",
            logits.len()
        ))),
    }
}

/// The probability of each candidate after temperature, top-k and top-p, most likely first
/// (ties by lower id). The probabilities sum to 1. Refuses logits that are not all finite.
pub fn candidates(logits: &[f32], settings: &SamplingSettings) -> Result<Vec<(u32, f64)>> {
    finite(logits)?;
    let mut order: Vec<u32> = (0..logits.len() as u32).collect();
    order.sort_by(|&a, &b| logits[b as usize].total_cmp(&logits[a as usize]).then(a.cmp(&b)));
    if settings.top_k > 0 {
        order.truncate(settings.top_k);
    }
    let t = settings.temperature as f64;
    let max = logits[order[0] as usize] as f64 / t;
    let weights: Vec<f64> = order.iter().map(|&i| libm::exp(logits[i as usize] as f64 / t - max)).collect();
    let total: f64 = weights.iter().sum();
    let mut kept = Vec::with_capacity(order.len());
    let mut cumulative = 0.0;
    for (&id, w) in order.iter().zip(weights) {
        let p = w / total;
        kept.push((id, p));
        cumulative += p;
        if cumulative >= settings.top_p as f64 {
            break;
        }
    }
    let kept_total: f64 = kept.iter().map(|(_, p)| p).sum();
    Ok(kept.iter().map(|&(id, p)| (id, p / kept_total)).collect())
}

impl Sampler {
    pub fn new(decoding: Decoding) -> Result<Self> {
        let seed = match &decoding {
            Decoding::Greedy => 0,
            Decoding::Sample(settings) => {
                settings.validate()?;
                settings.seed
            }
        };
        Ok(Sampler { decoding, rng: Rng::seeded(seed) })
    }

    /// The next token from `logits`; refused when they are not all finite numbers.
    pub fn pick(&mut self, logits: &[f32]) -> Result<u32> {
        match &self.decoding {
            Decoding::Greedy => finite(logits).map(|()| argmax(logits)),
            Decoding::Sample(settings) => {
                let candidates = candidates(logits, settings)?;
                let u = self.rng.next_f64();
                let mut cumulative = 0.0;
                for &(id, p) in &candidates {
                    cumulative += p;
                    if u < cumulative {
                        return Ok(id);
                    }
                }
                Ok(candidates.last().expect("at least one candidate").0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(temperature: f32, top_k: usize, top_p: f32) -> SamplingSettings {
        SamplingSettings { temperature, top_k, top_p, seed: 1 }
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[0.0, 3.0, 1.0, 3.0]), 1);
    }

    #[test]
    fn candidates_follow_the_definitions() {
        let logits = [0.0f32, 2f32.ln(), 3f32.ln(), 4f32.ln()]; // softmax = [1, 2, 3, 4] / 10
        let all = candidates(&logits, &settings(1.0, 0, 1.0)).unwrap();
        let ids: Vec<u32> = all.iter().map(|c| c.0).collect();
        assert_eq!(ids, [3, 2, 1, 0]);
        for ((_, p), want) in all.iter().zip([0.4, 0.3, 0.2, 0.1]) {
            assert!((p - want).abs() < 1e-6);
        }
        // top-k 2 renormalises 4:3
        let top2 = candidates(&logits, &settings(1.0, 2, 1.0)).unwrap();
        assert_eq!(top2.len(), 2);
        assert!((top2[0].1 - 4.0 / 7.0).abs() < 1e-6);
        // top-p 0.6: 0.4 is not enough, 0.4 + 0.3 reaches it
        let nucleus = candidates(&logits, &settings(1.0, 0, 0.6)).unwrap();
        assert_eq!(nucleus.iter().map(|c| c.0).collect::<Vec<_>>(), [3, 2]);
        // temperature 0.5 squares the odds: [1, 4, 9, 16] / 30
        let sharp = candidates(&logits, &settings(0.5, 0, 1.0)).unwrap();
        assert!((sharp[0].1 - 16.0 / 30.0).abs() < 1e-6);
    }

    #[test]
    fn sampling_is_reproducible_and_follows_the_distribution() {
        let logits = [0.0f32, 2f32.ln(), 3f32.ln(), 4f32.ln()];
        let draw = |seed| {
            let mut s = Sampler::new(Decoding::Sample(SamplingSettings { seed, ..settings(1.0, 0, 1.0) })).unwrap();
            (0..4000).map(|_| s.pick(&logits).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
        let picks = draw(42);
        for (id, want) in [(0u32, 0.1), (3, 0.4)] {
            let share = picks.iter().filter(|&&p| p == id).count() as f64 / picks.len() as f64;
            assert!((share - want).abs() < 0.03, "token {id}: {share}");
        }
    }

    #[test]
    fn logits_that_are_not_numbers_are_refused_not_picked_from() {
        let greedy = Decoding::Greedy;
        let sampled = Decoding::Sample(settings(1.0, 0, 1.0));
        for logits in [vec![f32::NAN; 4], vec![0.0, f32::NAN, 1.0, 2.0], vec![0.0, f32::INFINITY, 1.0, 2.0], vec![]] {
            for decoding in [greedy, sampled] {
                let e = Sampler::new(decoding).unwrap().pick(&logits).unwrap_err();
                assert!(matches!(e, Error::Generation(_)), "{logits:?}: {e}");
                assert!(e.to_string().starts_with("generation: "), "{e}");
            }
        }
        let e = candidates(&[f32::NAN; 3], &settings(1.0, 0, 1.0)).unwrap_err();
        assert_eq!(e.to_string(), "generation: 3 of the 3 logits are NaN or infinite, so no next token can be chosen: the model's weights are broken (see the warnings its loading gave)");
    }

    #[test]
    fn bad_settings_are_refused() {
        for bad in [settings(0.0, 0, 1.0), settings(f32::NAN, 0, 1.0), settings(1.0, 0, 0.0), settings(1.0, 0, 1.5)] {
            assert!(Sampler::new(Decoding::Sample(bad)).is_err(), "{bad:?}");
        }
    }
}
