"""Peer baseline: PEFT LoRA training speed on SmolLM2-135M-Instruct, fp32 (PyTorch CPU).

Run: .venv/bin/python scripts/baselines/peft_train.py --threads 2 [--steps 5] [--rank 16] [--alpha 32]
         [--batch 4] [--seq 256] [--targets all-linear]

Setup (same as `lorakit bench train`): base weights from the GGUF dequantized to fp32 and frozen; LoRA r=16
alpha=32 on all linear layers (q,k,v,o,gate,up,down), dropout 0; batch 4 × 256 random token ids (seed 0,
ids in [3, vocab)), labels = inputs (causal LM loss over all positions); AdamW lr 1e-4 on the LoRA weights.
The first step is a warm-up and is excluded from the timings.
Prints one JSON line on stdout:
  {"peer":"peft","train_tokens_per_s":…,"s_per_step":…,"peak_rss_mb":…,"threads":…, …}
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
from common import load_model, set_threads, versions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5, help="total steps; the first is a warm-up (not timed)")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--targets", default="all-linear", help="'all-linear' or comma list, e.g. q_proj,v_proj")
    args = ap.parse_args()
    if args.steps < 2:
        sys.exit("error: --steps must be >= 2 (the first step is a warm-up)")
    set_threads(args.threads)
    from peft import LoraConfig, get_peft_model

    base = load_model()
    targets = args.targets if args.targets == "all-linear" else args.targets.split(",")
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0,
                                            target_modules=targets, task_type="CAUSAL_LM"))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4)
    g = torch.Generator().manual_seed(0)
    batch = torch.randint(3, model.config.vocab_size, (args.batch, args.seq), generator=g)

    times, losses = [], []
    for step in range(args.steps):
        t = time.perf_counter()
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
        losses.append(loss.detach().item())
        print(f"step {step}: loss {losses[-1]:.4f}, {times[-1]:.2f} s", file=sys.stderr)
    s_per_step = sum(times[1:]) / len(times[1:])
    print(json.dumps({
        "peer": "peft",
        "train_tokens_per_s": round(args.batch * args.seq / s_per_step, 1),
        "s_per_step": round(s_per_step, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": args.threads,
        "timed_steps": len(times) - 1,
        "rank": args.rank, "alpha": args.alpha, "targets": args.targets,
        "batch": args.batch, "seq": args.seq,
        "trainable_params": sum(p.numel() for p in trainable),
        "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
        "dtype": "float32",
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),  # > threads means the numbers are depressed
        "versions": versions(),
    }))


if __name__ == "__main__":
    main()
