#!/usr/bin/env python3
"""Writes a GPT-2-small-shaped checkpoint with random weights (12 layers x 12 heads, 768 wide,
1024 positions, 50257 tokens; f32, about 500 MB, or f16 with --dtype f16) for the benchmarks:
config.json, model.safetensors in Hugging Face's layout, and GPT-2's tokenizer.json (the bundled
model's).

Standard library only. Weights are N(0, 0.02) (GPT-2's initialiser) drawn once into a block of a
prime length and repeated with a different offset per tensor; LayerNorm weights are 1 and biases
0, so activations stay in a real model's range.

    python3 bench/gpt2_small.py --out target/bench/gpt2-small-app [--dtype f16]
"""
import argparse
import json
import random
import shutil
import struct
from pathlib import Path

CONFIG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
    "vocab_size": 50257, "n_positions": 1024, "n_ctx": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
    "n_inner": None, "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256,
    "initializer_range": 0.02, "tie_word_embeddings": True,
}
BLOCK = 1_000_003  # a prime: rows of every width see the block at shifting offsets


def shapes(c):
    v, p, d, i = c["vocab_size"], c["n_positions"], c["n_embd"], 4 * c["n_embd"]
    yield "wte.weight", [v, d]
    yield "wpe.weight", [p, d]
    for l in range(c["n_layer"]):
        for name, shape in [("ln_1.weight", [d]), ("ln_1.bias", [d]), ("attn.c_attn.weight", [d, 3 * d]), ("attn.c_attn.bias", [3 * d]),
                            ("attn.c_proj.weight", [d, d]), ("attn.c_proj.bias", [d]), ("ln_2.weight", [d]), ("ln_2.bias", [d]),
                            ("mlp.c_fc.weight", [d, i]), ("mlp.c_fc.bias", [i]), ("mlp.c_proj.weight", [i, d]), ("mlp.c_proj.bias", [d])]:
            yield f"h.{l}.{name}", shape
    yield "ln_f.weight", [d]
    yield "ln_f.bias", [d]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    args = parser.parse_args()
    out, code = args.out, {"f32": "f", "f16": "e"}[args.dtype]
    width = struct.calcsize(code)
    weights = out / "model.safetensors"
    if weights.exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    block = struct.pack(f"<{BLOCK}{code}", *(rng.gauss(0.0, 0.02) for _ in range(BLOCK))) * 2
    tensors = list(shapes(CONFIG))
    header, offset = {}, 0
    for name, shape in tensors:
        size = width
        for s in shape:
            size *= s
        header[name] = {"dtype": args.dtype.upper(), "shape": shape, "data_offset_start": offset, "data_offsets": [offset, offset + size]}
        offset += size
    for entry in header.values():
        del entry["data_offset_start"]
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = weights.with_suffix(".part")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for k, (name, shape) in enumerate(tensors):
            count = 1
            for s in shape:
                count *= s
            if ".ln_" in name or name.startswith("ln_"):
                f.write(struct.pack(f"<{code}", 1.0 if name.endswith("weight") else 0.0) * count)
                continue
            if name.endswith(".bias"):
                f.write(bytes(width * count))
                continue
            start = (k * 7919) % BLOCK
            remaining = count
            while remaining:
                take = min(remaining, BLOCK)
                f.write(block[width * start:width * (start + take)])
                remaining -= take
                start = (start + take) % BLOCK
    tmp.rename(weights)
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2))
    shutil.copy(Path(__file__).resolve().parent.parent / "public/models/mini/tokenizer.json", out / "tokenizer.json")


if __name__ == "__main__":
    main()
