//! Hook points, as in TransformerLens's `HookedTransformer`: every activation worth reading
//! passes through a named point on its way through the model, and whatever looks inside the
//! model (the attention capture, ablation, the logit lens, "inside one head") is a [`Hooks`]
//! implementation attached to those points rather than an argument of `forward`. A forward pass
//! with no hooks (`&mut ()`) computes nothing beyond the model itself.
//!
//! Each method receives the activation and returns what flows on: a hook that only reads returns
//! it unchanged (a burn tensor clone shares its buffer), one that edits (ablation) returns the
//! edited one. The names are TransformerLens's; `T` is the new positions of this pass, `Tk` every
//! position attended to (cached ones included), `H` heads, `D` the head width, `C` `n_embd`.

use burn::tensor::{Tensor, TensorData};

pub trait Hooks {
    /// `blocks.{layer}.hook_resid_pre`: the residual stream entering the block, `[T, C]`.
    fn resid_pre(&mut self, _layer: usize, x: Tensor<2>) -> Tensor<2> {
        x
    }
    /// `blocks.{layer}.attn.hook_q`: the new positions' queries, `[H, T, D]`.
    fn q(&mut self, _layer: usize, q: Tensor<3>) -> Tensor<3> {
        q
    }
    /// `blocks.{layer}.attn.hook_k`: the new positions' keys, `[H, T, D]`, before the cache
    /// holds them.
    fn k(&mut self, _layer: usize, k: Tensor<3>) -> Tensor<3> {
        k
    }
    /// `blocks.{layer}.attn.hook_v`: the new positions' values, `[H, T, D]`.
    fn v(&mut self, _layer: usize, v: Tensor<3>) -> Tensor<3> {
        v
    }
    /// `blocks.{layer}.attn.hook_pattern`: the attention weights `[H, T, Tk]`, rows summing to 1.
    fn pattern(&mut self, _layer: usize, pattern: Tensor<3>) -> Tensor<3> {
        pattern
    }
    /// `blocks.{layer}.attn.hook_z`: each head's output before `c_proj`, `[H, T, D]`.
    fn z(&mut self, _layer: usize, z: Tensor<3>) -> Tensor<3> {
        z
    }
    /// `blocks.{layer}.hook_resid_post`: the residual stream leaving the block, `[T, C]`.
    fn resid_post(&mut self, _layer: usize, x: Tensor<2>) -> Tensor<2> {
        x
    }
}

/// No hooks: the plain model.
impl Hooks for () {}

/// Two hooks at once: at every point the first, then the second on what the first returned.
impl<A: Hooks, B: Hooks> Hooks for (A, B) {
    fn resid_pre(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
        self.1.resid_pre(layer, self.0.resid_pre(layer, x))
    }
    fn q(&mut self, layer: usize, q: Tensor<3>) -> Tensor<3> {
        self.1.q(layer, self.0.q(layer, q))
    }
    fn k(&mut self, layer: usize, k: Tensor<3>) -> Tensor<3> {
        self.1.k(layer, self.0.k(layer, k))
    }
    fn v(&mut self, layer: usize, v: Tensor<3>) -> Tensor<3> {
        self.1.v(layer, self.0.v(layer, v))
    }
    fn pattern(&mut self, layer: usize, pattern: Tensor<3>) -> Tensor<3> {
        self.1.pattern(layer, self.0.pattern(layer, pattern))
    }
    fn z(&mut self, layer: usize, z: Tensor<3>) -> Tensor<3> {
        self.1.z(layer, self.0.z(layer, z))
    }
    fn resid_post(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
        self.1.resid_post(layer, self.0.resid_post(layer, x))
    }
}

/// Zero ablation: the listed `(layer, head)`s' outputs `z` are set to zero before `c_proj`.
#[derive(Debug, Clone, Default)]
pub struct Ablate {
    pub heads: Vec<(usize, usize)>,
}

impl Hooks for Ablate {
    fn z(&mut self, layer: usize, z: Tensor<3>) -> Tensor<3> {
        let [h, _, _] = z.dims();
        if !self.heads.iter().any(|&(l, _)| l == layer) {
            return z;
        }
        let keep: Vec<f32> = (0..h).map(|head| if self.heads.contains(&(layer, head)) { 0.0 } else { 1.0 }).collect();
        let keep = Tensor::<1>::from_data(TensorData::new(keep, [h]), &z.device()).reshape([h, 1, 1]); // [H, 1, 1]
        z * keep // [H, T, D]
    }
}

/// The attention capture: every layer's pattern `[H, T, Tk]`, in layer order.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    pub layers: Vec<Tensor<3>>,
}

impl Hooks for Patterns {
    fn pattern(&mut self, _layer: usize, pattern: Tensor<3>) -> Tensor<3> {
        self.layers.push(pattern.clone());
        pattern
    }
}

/// `‖v‖` of each new position in each head, per layer `[H, T]`: how much a position can move
/// the heads that attend to it (the value-weighted view).
#[derive(Debug, Clone, Default)]
pub struct ValueNorms {
    pub layers: Vec<Tensor<2>>,
}

impl Hooks for ValueNorms {
    fn v(&mut self, _layer: usize, v: Tensor<3>) -> Tensor<3> {
        self.layers.push(v.clone().powi_scalar(2).sum_dim(2).sqrt().squeeze_dim::<2>(2)); // [H, T]
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::f32_values;
    use crate::model::gpt2::{Gpt2, KvCache};
    use crate::model::{config::Gpt2Config, loader::load_gpt2};
    use burn::tensor::Device;

    fn model() -> Gpt2 {
        let config = Gpt2Config::from_json(br#"{"vocab_size": 11, "n_positions": 8, "n_embd": 8, "n_layer": 2, "n_head": 2}"#).unwrap();
        let file = crate::synthetic::file(&crate::synthetic::tensors(&config, "transformer.", 1.0));
        load_gpt2(&config, file, &Device::default()).unwrap().model
    }

    fn logits(model: &Gpt2, hooks: &mut dyn Hooks) -> Vec<f32> {
        f32_values(model.logits(model.forward(&[1, 4, 2, 7], &mut KvCache::default(), hooks)))
    }

    /// Reads every point, keeps clones, changes nothing.
    #[derive(Default)]
    struct Reader {
        seen: Vec<String>,
    }

    impl Hooks for Reader {
        fn resid_pre(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
            self.seen.push(format!("{layer}.resid_pre {:?}", x.dims()));
            x
        }
        fn q(&mut self, layer: usize, q: Tensor<3>) -> Tensor<3> {
            self.seen.push(format!("{layer}.q {:?}", q.dims()));
            q
        }
        fn k(&mut self, layer: usize, k: Tensor<3>) -> Tensor<3> {
            self.seen.push(format!("{layer}.k {:?}", k.dims()));
            k
        }
        fn v(&mut self, layer: usize, v: Tensor<3>) -> Tensor<3> {
            self.seen.push(format!("{layer}.v {:?}", v.dims()));
            v
        }
        fn pattern(&mut self, layer: usize, pattern: Tensor<3>) -> Tensor<3> {
            self.seen.push(format!("{layer}.pattern {:?}", pattern.dims()));
            pattern
        }
        fn z(&mut self, layer: usize, z: Tensor<3>) -> Tensor<3> {
            self.seen.push(format!("{layer}.z {:?}", z.dims()));
            z
        }
        fn resid_post(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
            self.seen.push(format!("{layer}.resid_post {:?}", x.dims()));
            x
        }
    }

    #[test]
    fn every_point_is_reached_in_order_and_reading_changes_nothing() {
        let model = model();
        let mut reader = Reader::default();
        let hooked = logits(&model, &mut reader);
        assert_eq!(hooked, logits(&model, &mut ()));
        let layer = |l| ["resid_pre [4, 8]", "q [2, 4, 4]", "k [2, 4, 4]", "v [2, 4, 4]", "pattern [2, 4, 4]", "z [2, 4, 4]", "resid_post [4, 8]"].map(|p| format!("{l}.{p}"));
        assert_eq!(reader.seen, [layer(0), layer(1)].concat());
    }

    #[test]
    fn the_capture_sees_each_layers_pattern_with_rows_summing_to_one() {
        let model = model();
        let mut patterns = Patterns::default();
        logits(&model, &mut patterns);
        assert_eq!(patterns.layers.len(), 2);
        for pattern in patterns.layers {
            assert_eq!(pattern.dims(), [2, 4, 4]);
            let values = f32_values(pattern);
            for (i, row) in values.chunks(4).enumerate() {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{row:?}");
                assert!(row[i % 4 + 1..].iter().all(|&w| w == 0.0), "row {i} looks ahead: {row:?}");
            }
        }
    }

    #[test]
    fn ablating_a_head_zeroes_its_output_and_changes_the_logits() {
        let model = model();
        let intact = logits(&model, &mut ());
        assert_ne!(logits(&model, &mut Ablate { heads: vec![(1, 0)] }), intact);
        assert_eq!(logits(&model, &mut Ablate { heads: vec![] }), intact);
        // what flows on from the z hook of layer 1 is zero in head 0, untouched in head 1
        struct Z(Vec<f32>);
        impl Hooks for Z {
            fn z(&mut self, layer: usize, z: Tensor<3>) -> Tensor<3> {
                if layer == 1 {
                    self.0 = f32_values(z.clone());
                }
                z
            }
        }
        let mut seen = (Ablate { heads: vec![(1, 0)] }, Z(Vec::new()));
        logits(&model, &mut seen);
        let mut plain = Z(Vec::new());
        logits(&model, &mut plain);
        let (ablated, plain) = (seen.1.0, plain.0);
        assert!(ablated[..16].iter().all(|&x| x == 0.0) && plain[..16].iter().any(|&x| x != 0.0));
        assert_eq!(ablated[16..], plain[16..]);
    }

    #[test]
    fn value_norms_are_the_norms_of_v() {
        let model = model();
        struct V(Vec<Vec<f32>>);
        impl Hooks for V {
            fn v(&mut self, _layer: usize, v: Tensor<3>) -> Tensor<3> {
                self.0.push(f32_values(v.clone()));
                v
            }
        }
        let mut hooks = (ValueNorms::default(), V(Vec::new()));
        logits(&model, &mut hooks);
        for (norms, v) in hooks.0.layers.into_iter().zip(hooks.1.0) {
            assert_eq!(norms.dims(), [2, 4]);
            let want: Vec<f32> = v.chunks(4).map(|row| row.iter().map(|x| x * x).sum::<f32>().sqrt()).collect();
            for (a, b) in f32_values(norms).iter().zip(want) {
                assert!((a - b).abs() < 1e-5);
            }
        }
    }
}
