//! How much memory a checkpoint needs in the worker, against what it can have.
//!
//! While a model loads, the worker's wasm memory holds the file (downloaded or read), whose bytes
//! are freed as its tensors are read (`crate::safetensors::read`), and each tensor's values are
//! freed as the kernels pack it (`crate::kernels::gpt2::Kernels::load`). The estimate
//! stays the bound it was before either: `file + 4 · parameters + capture(full context) +
//! headroom`, and wasm32 linear memory stops at 4 GiB whatever the machine has.

use super::progress::format_bytes;
use super::Known;
use crate::capture::full_context_bytes;
use crate::model::config::Gpt2Config;
use crate::safetensors::Header;

/// wasm32 addresses at most 4 GiB of linear memory.
pub const WASM32_MEMORY: u64 = 4 << 30;
/// The tokenizer, the code, the activations of one step: small next to the rest.
pub const HEADROOM: u64 = 128 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// The checkpoint file, held whole while it is read.
    pub file: u64,
    /// Every weight as f32.
    pub weights: u64,
    /// Attention rows of a full context: `4 · n_layer · n_head · n(n+1)/2` bytes.
    pub capture: u64,
}

impl Estimate {
    /// Everything at once with the headroom; `None` past u64 (no machine has that much).
    pub fn total(&self) -> Option<u64> {
        self.file.checked_add(self.weights)?.checked_add(self.capture)?.checked_add(HEADROOM)
    }

    /// From a validated config and the safetensors header (mask buffers are not weights).
    pub fn of_checkpoint(config: &Gpt2Config, header: &Header) -> Result<Estimate, String> {
        let params = header
            .tensors()
            .filter(|(name, _)| !(name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")))
            .try_fold(0u64, |sum, (_, t)| sum.checked_add(t.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64))?));
        let weights = params.and_then(|p| p.checked_mul(4)).ok_or_else(|| beyond_counting("its tensors hold"))?;
        let capture = full_context_bytes(config.n_layer as u64, config.n_head as u64, config.n_positions as u64)
            .ok_or_else(|| beyond_counting("the attention of a full context (n_layer × n_head × n_positions²) takes"))?;
        Ok(Estimate { file: header.file_len(), weights, capture })
    }

    /// For a published checkpoint before anything is downloaded: its file is F32.
    pub fn of_known(known: &Known) -> Result<Estimate, String> {
        let bytes = known.params.checked_mul(4).ok_or_else(|| beyond_counting("its weights take"))?;
        let capture = full_context_bytes(known.n_layer, known.n_head, known.n_positions).ok_or_else(|| beyond_counting("its attention takes"))?;
        Ok(Estimate { file: bytes, weights: bytes, capture })
    }

    /// `Ok` when the estimate fits in `available` bytes, else the reason in words.
    pub fn check(&self, available: u64) -> Result<(), String> {
        let needs = match self.total() {
            Some(total) if total <= available => return Ok(()),
            Some(total) => format!("about {}", format_bytes(total)),
            None => format!("more than {}", format_bytes(u64::MAX)),
        };
        let limit = if available >= WASM32_MEMORY { "wasm32 can address 4 GiB at most".to_string() } else { format!("this browser can give about {}", format_bytes(available)) };
        Err(format!(
            "This model needs {needs} of memory ({} file + {} of weights as f32 + {} for a full context's attention), and {limit}.",
            format_bytes(self.file),
            format_bytes(self.weights),
            format_bytes(self.capture)
        ))
    }
}

/// The refusal of a checkpoint whose sizes do not fit in 64 bits.
fn beyond_counting(what: &str) -> String {
    format!("This model cannot run anywhere: {what} more bytes than can be counted. Its config.json or model.safetensors is broken or made up; pick another model.")
}

/// Checks a checkpoint from its config and the first bytes of its weights file, before the rest
/// is read: the safetensors header is sane, and the model fits in `available` bytes. (Every
/// tensor's shape is checked against the config when the model is built.)
pub fn preflight(config: &Gpt2Config, start: &[u8], file_len: u64, available: u64) -> Result<(), String> {
    let header = Header::parse(start, file_len).map_err(|e| e.to_string())?;
    Estimate::of_checkpoint(config, &header)?.check(available)
}

/// What the worker may use: wasm32's 4 GiB, or less when the browser reports less memory
/// (`navigator.deviceMemory`, in GiB).
pub fn available(device_memory_gib: Option<f64>) -> u64 {
    match device_memory_gib {
        Some(gib) if gib.is_finite() && gib > 0.0 => WASM32_MEMORY.min((gib * (1u64 << 30) as f64) as u64),
        _ => WASM32_MEMORY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::KNOWN;

    #[test]
    fn a_full_context_capture_matches_the_readme() {
        // README: 302 MB for a full 1024-token context of GPT-2 small.
        assert_eq!(full_context_bytes(12, 12, 1024), Some(302_284_800));
        assert_eq!(full_context_bytes(4, 4, 256), Some(64 * 256 * 257 / 2));
    }

    #[test]
    fn gpt2_up_to_medium_fits_and_large_and_xl_are_refused() {
        let verdicts: Vec<(&str, bool)> = KNOWN.iter().map(|k| (k.repo, Estimate::of_known(k).unwrap().check(WASM32_MEMORY).is_ok())).collect();
        assert_eq!(
            verdicts,
            [
                ("distilbert/distilgpt2", true),
                ("openai-community/gpt2", true),
                ("openai-community/gpt2-medium", true),
                ("openai-community/gpt2-large", false),
                ("openai-community/gpt2-xl", false),
            ]
        );
        let large = Estimate::of_known(&KNOWN[3]).unwrap();
        assert_eq!(large.weights, 3_096_120_320);
        let why = large.check(WASM32_MEMORY).unwrap_err();
        assert!(why.contains("wasm32 can address 4 GiB"), "{why}");
        assert!(why.contains("3.1 GB of weights"), "{why}");
    }

    #[test]
    fn sizes_past_64_bits_are_refused_not_wrapped() {
        let why = Estimate { file: u64::MAX, weights: 4, capture: 0 }.check(u64::MAX).unwrap_err();
        assert!(why.starts_with("This model needs more than 18.4 EB of memory (18.4 EB file + 4 B of weights"), "{why}");
        let mut config = Gpt2Config::from_json(br#"{"vocab_size": 10, "n_positions": 4, "n_embd": 2, "n_layer": 1, "n_head": 1}"#).unwrap();
        (config.n_positions, config.n_layer, config.n_head) = (16_505_437, 16_928, 2);
        let file = crate::safetensors::write_f32(&[("wte.weight", vec![10, 1], &[0.0; 10])]);
        let header = Header::parse(&file, file.len() as u64).unwrap();
        let why = Estimate::of_checkpoint(&config, &header).unwrap_err();
        assert!(why.contains("the attention of a full context (n_layer × n_head × n_positions²) takes more bytes than can be counted"), "{why}");
    }

    #[test]
    fn a_small_device_lowers_the_limit() {
        assert_eq!(available(None), WASM32_MEMORY);
        assert_eq!(available(Some(8.0)), WASM32_MEMORY);
        assert_eq!(available(Some(2.0)), 2 << 30);
        assert_eq!(available(Some(f64::NAN)), WASM32_MEMORY);
        let small = Estimate::of_known(&KNOWN[1]).unwrap();
        assert!(small.check(available(Some(2.0))).is_ok());
        let medium = Estimate::of_known(&KNOWN[2]).unwrap();
        let why = medium.check(available(Some(2.0))).unwrap_err();
        assert!(why.contains("this browser can give about 2.1 GB"), "{why}");
    }

    #[test]
    fn checkpoint_estimates_count_weights_not_mask_buffers() {
        let config = Gpt2Config::from_json(br#"{"vocab_size": 10, "n_positions": 4, "n_embd": 2, "n_layer": 1, "n_head": 1}"#).unwrap();
        let file = crate::safetensors::write_f32(&[
            ("wte.weight", vec![10, 2], &[0.0; 20]),
            ("h.0.attn.bias", vec![1, 1, 4, 4], &[0.0; 16]),
            ("ln_f.weight", vec![2], &[0.0; 2]),
        ]);
        let header = Header::parse(&file, file.len() as u64).unwrap();
        let estimate = Estimate::of_checkpoint(&config, &header).unwrap();
        assert_eq!(estimate, Estimate { file: file.len() as u64, weights: 4 * 22, capture: 4 * 10 });
    }
}
