"""Runs LoRAKit's benchmarks and the Python peers' on the same model and thread count, in one go, and prints the
ratio table (`make bench`). Speeds are compared only as ratios measured in the same run on the same machine.

Usage: python3 scripts/bench.py [--threads N] [--dtypes fp32,bf16] [--python .venv/bin/python] [--json out.json]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
LORAKIT = ROOT / ".build" / "release" / "lorakit"


def run_json(cmd):
    print("$ " + " ".join(map(str, cmd)), file=sys.stderr)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def print_table(title, dtypes, peer, rows):
    """One Markdown table: a column per LoRAKit dtype, the peer, and each dtype's ratio to the peer."""
    head = " | ".join(f"LoRAKit {d}" for d in dtypes) + f" | {peer} | " + " | ".join(f"{d} ratio" for d in dtypes)
    print(f"| {title} | {head} |")
    print("|---|" + "---:|" * (2 * len(dtypes) + 1))
    for label, values, theirs in rows:
        cells = " | ".join(f"{v:.1f}" for v in values) + f" | {theirs:.1f} | " + " | ".join(f"{v / theirs:.2f}x" for v in values)
        print(f"| {label} | {cells} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--json", help="also write all results to this file")
    parser.add_argument("--dtypes", default="fp32,bf16", help="LoRAKit weight dtypes to measure (comma-separated)")
    parser.add_argument("--skip-train", action="store_true", help="skip the training benchmark (lorakit vs PEFT)")
    args = parser.parse_args()
    dtypes = [d for d in args.dtypes.split(",") if d]

    results = {"threads": args.threads, "load_average_before": os.getloadavg()}
    results["kernels"] = run_json([LORAKIT, "bench", "kernels", "--json", "--threads", str(args.threads)])
    rows = []
    generate_available = subprocess.run([LORAKIT, "bench", "generate", "--help"], capture_output=True).returncode == 0
    if generate_available:
        ours = {d: run_json([LORAKIT, "bench", "generate", "--json", "--threads", str(args.threads), "--dtype", d])
                for d in dtypes}
        results["generate"] = ours
        if pathlib.Path(args.python).exists():
            peer = run_json([args.python, ROOT / "scripts" / "baselines" / "hf_generate.py", "--threads", str(args.threads)])
            results["generate_peer"] = peer
            for key, label in [("prefill_tokens_per_s", "prefill tokens/s (512)"),
                               ("decode_tokens_per_s", "decode tokens/s (128)"),
                               ("peak_rss_mb", "peak RSS MB")]:
                if key in peer and all(key in ours[d] for d in dtypes):
                    rows.append((label, [ours[d][key] for d in dtypes], peer[key]))
        else:
            print(f"skipping the transformers peer: {args.python} not found (run scripts/setup_python.sh)", file=sys.stderr)
    train_rows = []
    if not args.skip_train:
        ours = {d: run_json([LORAKIT, "bench", "train", "--json", "--threads", str(args.threads), "--dtype", d])
                for d in dtypes}
        results["train"] = ours
        if pathlib.Path(args.python).exists():
            peer = run_json([args.python, ROOT / "scripts" / "baselines" / "peft_train.py", "--threads", str(args.threads)])
            results["train_peer"] = peer
            for key, label in [("train_tokens_per_s", "train tokens/s (4 x 256, r=16 all-linear)"),
                               ("peak_rss_mb", "train peak RSS MB")]:
                train_rows.append((label, [ours[d][key] for d in dtypes], peer[key]))
    results["load_average_after"] = os.getloadavg()
    if train_rows:
        print_table("training", dtypes, "PEFT fp32", train_rows)
        print()
    if rows:
        print_table("generation", dtypes, "transformers fp32", rows)
        print(f"\nthreads {args.threads}; load average (1, 5, 15 min) before {results['load_average_before']}, "
              f"after {results['load_average_after']}")
    bf16 = [m for m in results["kernels"]["measurements"] if m["kernel"].startswith(("bf16 GEMM", "decode "))]
    if bf16:
        print("\n| kernel | shape | threads | value | vs |")
        print("|---|---|---:|---:|---|")
        for m in bf16:
            vs = f"{m['ratio']:.2f}x {m['reference']}" if m.get("ratio") else ""
            print(f"| {m['kernel']} | {m['shape']} | {m['threads']} | {m['value']:.1f} {m['unit']} | {vs} |")
    if not rows and not bf16:
        print(json.dumps(results["kernels"], indent=1))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
