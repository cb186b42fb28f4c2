"""Peer baseline: transformers fp32 generation speed on SmolLM2-135M-Instruct (the GGUF, dequantized).

Run: .venv/bin/python scripts/baselines/hf_generate.py --threads 2 [--prompt-tokens 512] [--new-tokens 128]
         [--adapter DIR]   (DIR: a PEFT adapter, applied unmerged, e.g. Tests/Fixtures/peft/lora_qv)

Measures, after one warm-up pass:
  prefill: one forward over a `--prompt-tokens` prompt (real English text, repeated), best of `--repeats`
  decode:  `--new-tokens` greedy steps with the KV cache, one token per forward, no EOS stop (manual loop)
  peak RSS: ru_maxrss of this process (includes loading, i.e. GGUF dequantization to fp32)
Prints one JSON line on stdout:
  {"peer":"transformers","prefill_tokens_per_s":…,"decode_tokens_per_s":…,"peak_rss_mb":…,"threads":…, …}
Progress and warnings go to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from common import encode, load_model, load_tokenizer, set_threads, versions  # noqa: E402

TEXT = ("The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after "
        "the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. ")


def prompt_ids(tok, n: int) -> list[int]:
    ids: list[int] = []
    while len(ids) < n:
        ids += encode(tok, TEXT)
    return ids[:n]


@torch.inference_mode()
def prefill(model, ids: list[int]):
    out = model(torch.tensor([ids]), use_cache=True)
    return out.past_key_values, out.logits[0, -1]


@torch.inference_mode()
def decode(model, past, logits, n: int) -> list[int]:
    new = []
    for _ in range(n):
        nxt = int(torch.argmax(logits))
        new.append(nxt)
        out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1]
    return new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2, help="prefill timings to take the best of")
    ap.add_argument("--adapter", type=Path, help="PEFT adapter dir, applied unmerged")
    args = ap.parse_args()
    set_threads(args.threads)
    tok, model = load_tokenizer(), load_model()
    if args.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, args.adapter).eval()
    ids = prompt_ids(tok, args.prompt_tokens)

    decode(model, *prefill(model, ids[:16]), 4)  # warm-up
    prefill_s = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        past, logits = prefill(model, ids)
        prefill_s.append(time.perf_counter() - t)
    t = time.perf_counter()
    new = decode(model, past, logits, args.new_tokens)
    decode_s = time.perf_counter() - t
    print(f"continuation: {tok.decode(new[:24])!r}…", file=sys.stderr)

    print(json.dumps({
        "peer": "transformers",
        "prefill_tokens_per_s": round(args.prompt_tokens / min(prefill_s), 1),
        "decode_tokens_per_s": round(args.new_tokens / decode_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": args.threads,
        "prompt_tokens": args.prompt_tokens,
        "new_tokens": args.new_tokens,
        "dtype": "float32",
        "adapter": str(args.adapter) if args.adapter else None,
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),  # > threads means the numbers are depressed
        "versions": versions(),
    }))


if __name__ == "__main__":
    main()
