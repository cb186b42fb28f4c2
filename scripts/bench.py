"""Runs LoRAKit's benchmarks and the Python peers' on the same model and thread count, in one go, and prints the
ratio table (`make bench`). Speeds are compared only as ratios measured in the same run on the same machine.

Usage: python3 scripts/bench.py [--threads N] [--python .venv/bin/python] [--json out.json]
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--json", help="also write all results to this file")
    args = parser.parse_args()

    results = {"threads": args.threads}
    results["kernels"] = run_json([LORAKIT, "bench", "kernels", "--json", "--threads", str(args.threads)])
    rows = []
    generate_available = subprocess.run([LORAKIT, "bench", "generate", "--help"], capture_output=True).returncode == 0
    if generate_available:
        ours = run_json([LORAKIT, "bench", "generate", "--json", "--threads", str(args.threads)])
        results["generate"] = ours
        if pathlib.Path(args.python).exists():
            peer = run_json([args.python, ROOT / "scripts" / "baselines" / "hf_generate.py", "--threads", str(args.threads)])
            results["generate_peer"] = peer
            for key, label in [("prefill_tokens_per_s", "prefill tokens/s (512)"),
                               ("decode_tokens_per_s", "decode tokens/s (128)"),
                               ("peak_rss_mb", "peak RSS MB")]:
                if key in ours and key in peer:
                    rows.append((label, ours[key], peer[key], ours[key] / peer[key]))
        else:
            print(f"skipping the transformers peer: {args.python} not found (run scripts/setup_python.sh)", file=sys.stderr)
    if rows:
        print("| benchmark | LoRAKit | transformers fp32 | ratio |")
        print("|---|---:|---:|---:|")
        for label, a, b, r in rows:
            print(f"| {label} | {a:.1f} | {b:.1f} | {r:.2f}x |")
    print(json.dumps(results["kernels"], indent=1) if not rows else "")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
