"""Writes data/demo/{train,valid,test}.jsonl: the demo task "write an ISO date as a long British date".

Run: python3 scripts/data/make_demo_dataset.py [--out data/demo] [--seed 0]   (standard library only)

Each example is one chat turn in the `messages` format:
  user:      one of a few phrasings of "Write 2024-03-05 as a long date."
  assistant: "5 March 2024"   (day without a leading zero, English month name, four-digit year; nothing else)

SmolLM2-135M-Instruct does not answer in this exact shape (it writes "March 5, 2024", adds prose, or
gets the month wrong), so exact match of the assistant answer is a crisp task metric; a small LoRA learns
the mapping in a few minutes. docs/training.md has the measured figures.

Determinism: one `random.Random(seed)`; dates are drawn without replacement from 1950-01-01..2049-12-31,
so the three splits never share a date. Same seed, same bytes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLITS = {"train": 1000, "valid": 100, "test": 100}
FIRST_DAY = dt.date(1950, 1, 1)
LAST_DAY = dt.date(2049, 12, 31)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
# Phrasings of the request; every split uses all of them, so the metric tests the mapping, not the wording.
PROMPTS = [
    "Write {iso} as a long date.",
    "Write the date {iso} in long form.",
    "How do you write {iso} as a long date?",
    "Long date for {iso}?",
]


def long_date(day: dt.date) -> str:
    """2024-03-05 -> "5 March 2024"."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def example(day: dt.date, rng: random.Random) -> dict:
    prompt = rng.choice(PROMPTS).format(iso=day.isoformat())
    return {"messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": long_date(day)}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "demo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    span = (LAST_DAY - FIRST_DAY).days + 1
    offsets = rng.sample(range(span), sum(SPLITS.values()))
    args.out.mkdir(parents=True, exist_ok=True)
    start = 0
    for split, count in SPLITS.items():
        days = [FIRST_DAY + dt.timedelta(days=o) for o in offsets[start:start + count]]
        start += count
        lines = [json.dumps(example(day, rng), ensure_ascii=False) for day in days]
        (args.out / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
        print(f"{args.out / f'{split}.jsonl'}: {count} examples")


if __name__ == "__main__":
    main()
