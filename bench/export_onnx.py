"""Exports the benchmark checkpoint to ONNX for onnxruntime-web, the browser peer.

GPT-2 written as a plain torch function of the checkpoint's own tensors, with the KV cache as
inputs and outputs (past_k/past_v, [n_layer, n_head, past, head_dim]), so the peer can read a
prompt and generate token by token as headlight does. Two graphs: `gpt2.onnx` (logits at the
last position and the cache) and `gpt2-attn.onnx` (also every attention pattern, the peer of
headlight's capture). Before exporting, its logits are checked against transformers'
GPT2LMHeadModel on the same files, so the peer computes the same model.
"""

import argparse
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel


class Gpt2(torch.nn.Module):
    def __init__(self, weights, n_layer, n_head, eps, attentions):
        super().__init__()
        self.n_layer, self.n_head, self.eps, self.attentions = n_layer, n_head, eps, attentions
        for name, value in weights.items():
            self.register_buffer(name.removeprefix("transformer.").replace(".", "_"), value.float())

    def w(self, name):
        return getattr(self, name.replace(".", "_"))

    def ln(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.w(f"{name}.weight"), self.w(f"{name}.bias"), self.eps)

    def forward(self, ids, past_k, past_v):
        t, p = ids.shape[0], past_k.shape[2]
        x = self.w("wte.weight")[ids] + self.w("wpe.weight")[p : p + t]  # [T, C]
        c = x.shape[1]
        d = c // self.n_head
        keys = torch.arange(p + t)
        allowed = keys[None, :] <= torch.arange(t)[:, None] + p  # [T, P+T] causal mask
        present_k, present_v, patterns = [], [], []
        for l in range(self.n_layer):
            h = self.ln(x, f"h.{l}.ln_1")
            qkv = h @ self.w(f"h.{l}.attn.c_attn.weight") + self.w(f"h.{l}.attn.c_attn.bias")  # [T, 3C]
            q, k, v = (z.reshape(t, self.n_head, d).transpose(0, 1) for z in qkv.split(c, dim=1))  # [H, T, D]
            k = torch.cat([past_k[l], k], dim=1)  # [H, P+T, D]
            v = torch.cat([past_v[l], v], dim=1)
            scores = (q @ k.transpose(1, 2)) / math.sqrt(d)  # [H, T, P+T]
            weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
            a = (weights @ v).transpose(0, 1).reshape(t, c)  # [T, C]
            x = x + a @ self.w(f"h.{l}.attn.c_proj.weight") + self.w(f"h.{l}.attn.c_proj.bias")
            h = self.ln(x, f"h.{l}.ln_2")
            h = F.gelu(h @ self.w(f"h.{l}.mlp.c_fc.weight") + self.w(f"h.{l}.mlp.c_fc.bias"), approximate="tanh")
            x = x + h @ self.w(f"h.{l}.mlp.c_proj.weight") + self.w(f"h.{l}.mlp.c_proj.bias")
            present_k.append(k)
            present_v.append(v)
            patterns.append(weights)
        logits = self.ln(x[-1:], "ln_f") @ self.w("wte.weight").T  # [1, V]
        outputs = (logits, torch.stack(present_k), torch.stack(present_v))
        return outputs + (torch.stack(patterns),) if self.attentions else outputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, help="folder with config.json and model.safetensors")
    args = parser.parse_args()
    # in f32, as the peer computes, whatever the file stores (transformers would keep f16 as f16)
    reference = GPT2LMHeadModel.from_pretrained(args.dir, dtype=torch.float32).eval()
    cfg = reference.config
    weights = load_file(os.path.join(args.dir, "model.safetensors"))
    d = cfg.n_embd // cfg.n_head
    ids = torch.arange(7) * 1000 % cfg.vocab_size
    empty = torch.zeros(cfg.n_layer, cfg.n_head, 0, d)
    with torch.inference_mode():
        expected = reference(ids[None]).logits[0, -1]
        got = Gpt2(weights, cfg.n_layer, cfg.n_head, cfg.layer_norm_epsilon, False)(ids, empty, empty)[0][0]
    err = (expected - got).abs().max().item()
    assert err < 1e-3, f"the ONNX peer's GPT-2 differs from transformers by {err}"
    print(f"peer GPT-2 matches transformers' logits within {err:.2e}")

    past = torch.export.Dim("past", min=0, max=cfg.n_positions)
    seq = torch.export.Dim("seq", min=1, max=cfg.n_positions)
    example = (ids, torch.zeros(cfg.n_layer, cfg.n_head, 3, d), torch.zeros(cfg.n_layer, cfg.n_head, 3, d))
    for attentions, name in ((False, "gpt2.onnx"), (True, "gpt2-attn.onnx")):
        model = Gpt2(weights, cfg.n_layer, cfg.n_head, cfg.layer_norm_epsilon, attentions).eval()
        names = ["logits", "present_k", "present_v"] + (["attentions"] if attentions else [])
        torch.onnx.export(
            model,
            example,
            os.path.join(args.dir, name),
            input_names=["ids", "past_k", "past_v"],
            output_names=names,
            dynamic_shapes=({0: seq}, {2: past}, {2: past}),
            dynamo=True,
            external_data=False,
        )
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
