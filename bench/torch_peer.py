"""The PyTorch peer of benches/native.rs: Hugging Face transformers' GPT2LMHeadModel, PyTorch eager
(no torch.compile), on the same checkpoint files, the same cases and the same number of threads.
Prints its own timings, then the table of headlight / PyTorch ratios, and writes both as JSON.

Capture on: the eager attention with output_attentions=True (the only way transformers returns the
weights). Capture off: the default scaled_dot_product_attention, the fastest transformers has.
Both compute logits for the last position only (logits_to_keep=1), as headlight does.
"""

import argparse
import json
import platform
import statistics
import time

import torch
import transformers
from transformers import GPT2LMHeadModel

LENGTHS = [16, 64, 256, 1024]
GENERATED = 64
GENERATION_PROMPT = 16


def median_ms(repeats, f):
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def generation_ms(model, prompt):
    out = model(prompt, use_cache=True, logits_to_keep=1)
    start = time.perf_counter()
    for _ in range(GENERATED):
        step = out.logits[:, -1].argmax(-1, keepdim=True)
        out = model(step, past_key_values=out.past_key_values, use_cache=True, logits_to_keep=1)
    return (time.perf_counter() - start) * 1e3 / GENERATED


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, help="folder with config.json and model.safetensors")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ours", required=True, help="headlight.json written by benches/native.rs")
    parser.add_argument("--out", required=True, help="where to write the combined JSON")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(2019)
    models = {
        True: GPT2LMHeadModel.from_pretrained(args.dir, attn_implementation="eager").eval(),
        False: GPT2LMHeadModel.from_pretrained(args.dir, attn_implementation="sdpa").eval(),
    }
    ids = torch.randint(0, models[False].config.vocab_size, (1, 1024))

    print(f"PyTorch {torch.__version__} eager, transformers {transformers.__version__}, threads: {args.threads}")
    cases = []
    with torch.inference_mode():
        for n in LENGTHS:
            for capture in (False, True):
                repeats = min(args.repeats, 3) if n >= 1024 else args.repeats
                ms = median_ms(repeats, lambda: models[capture](ids[:, :n], output_attentions=capture, logits_to_keep=1))
                cases.append({"case": "forward", "tokens": n, "capture": capture, "ms": ms})
        ms = generation_ms(models[False], ids[:, :GENERATION_PROMPT])
        cases.append({"case": "generate", "tokens": GENERATED, "capture": False, "ms": ms})

    with open(args.ours) as f:
        ours = json.load(f)
    peer = {(c["case"], c["tokens"], c["capture"]): c["ms"] for c in cases}
    print(f"{'case':<10} {'tokens':>7} {'capture':>8} {'headlight ms':>13} {'PyTorch ms':>11} {'ratio':>7}")
    rows = []
    for c in ours["cases"]:
        key = (c["case"], c["tokens"], c["capture"])
        ratio = c["ms"] / peer[key]
        unit = "  per token" if c["case"] == "generate" else ""
        print(f"{c['case']:<10} {c['tokens']:>7} {str(c['capture']).lower():>8} {c['ms']:>13.1f} {peer[key]:>11.1f} {ratio:>7.2f}{unit}")
        rows.append({**c, "pytorch_ms": peer[key], "ratio": ratio})
    print("ratio = headlight / PyTorch: below 1 means headlight is faster.")

    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "threads": args.threads,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version()},
        "headlight_load_ms": ours.get("load_ms"),
        "cases": rows,
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
