"""Prints the generation speed ratio table: LoRAKit (`lorakit bench generate --json`) vs transformers
(scripts/baselines/hf_generate.py), same model, prompt length, new tokens and threads.

Run: python3 scripts/baselines/compare_generate.py LORAKIT_JSON_FILE PEER_JSON_FILE
"""
import json
import sys


def last_json_line(path: str) -> dict:
    lines = [line for line in open(path, encoding="utf-8").read().splitlines() if line.strip().startswith("{")]
    return json.loads(lines[-1])


def main() -> None:
    ours, peer = last_json_line(sys.argv[1]), last_json_line(sys.argv[2])
    print(f"generation, {ours['threads']} threads, prompt {ours['prompt_tokens']}, new {ours['new_tokens']}")
    print(f"{'metric':<24}{'lorakit':>12}{'transformers':>14}{'ratio':>8}")
    for key, label in [("prefill_tokens_per_s", "prefill tokens/s"), ("decode_tokens_per_s", "decode tokens/s")]:
        print(f"{label:<24}{ours[key]:>12.1f}{peer[key]:>14.1f}{ours[key] / peer[key]:>7.2f}x")
    print(f"{'peak RSS MB':<24}{ours['peak_rss_mb']:>12.1f}{peer['peak_rss_mb']:>14.1f}"
          f"{ours['peak_rss_mb'] / peer['peak_rss_mb']:>7.2f}x")


if __name__ == "__main__":
    main()
