"""Checks that the demo task is learnable: base vs PEFT-LoRA-trained exact match on data/demo.

Run: .venv/bin/python scripts/data/check_demo_peft.py [--targets all-linear] [--lr 2e-3] [--threads 1]   (see --help)

1. Exact match of SmolLM2-135M-Instruct (fp32, common.load_model) on the first --eval test examples: greedy
   generation after the chat template's generation prompt, answer = decoded tokens up to <|im_end|>,
   whitespace-trimmed, compared with the reference assistant message.
2. PEFT LoRA training on train.jsonl (seeded shuffle, right-padded batches, loss on the assistant answer and
   its <|im_end|> only), AdamW, constant learning rate after a short warm-up; stops after --steps or --max-seconds.
3. The same exact match with the trained adapter. Prints one JSON object with the figures and the settings.

This is the reference figure for docs/training.md; LoRAKit's `lorakit eval` measures the same thing.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from common import EOS_ID, REPO_ROOT, encode, greedy, load_model, load_tokenizer, set_threads, versions  # noqa: E402


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def prompt_ids(tok, messages: list[dict]) -> list[int]:
    text = tok.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    return encode(tok, text)


def encode_example(tok, messages: list[dict]) -> tuple[list[int], list[int]]:
    """(input ids, labels): labels are -100 on the prompt, the answer's ids then <|im_end|>."""
    prompt = prompt_ids(tok, messages)
    answer = encode(tok, messages[-1]["content"]) + [EOS_ID]
    return prompt + answer, [-100] * len(prompt) + answer


def exact_match(model, tok, examples: list[dict], max_new: int = 16) -> tuple[float, list[dict]]:
    rows = []
    for ex in examples:
        new, _ = greedy(model, prompt_ids(tok, ex["messages"]), max_new)
        if new and new[-1] == EOS_ID:
            new = new[:-1]
        got = tok.decode(new).strip()
        rows.append({"expected": ex["messages"][-1]["content"], "got": got})
    hits = sum(r["got"] == r["expected"] for r in rows)
    return hits / len(rows), rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=REPO_ROOT / "data" / "demo")
    p.add_argument("--eval", type=int, default=50, help="test examples to score")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=16)
    p.add_argument("--targets", default="q_proj,v_proj")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-base", action="store_true")
    args = p.parse_args()

    set_threads(args.threads)
    torch.manual_seed(args.seed)
    tok = load_tokenizer()
    model = load_model()
    test = read_jsonl(args.data / "test.jsonl")[: args.eval]
    train = read_jsonl(args.data / "train.jsonl")

    result: dict = {"settings": vars(args) | {"data": str(args.data)}, "versions": versions()}
    if not args.skip_base:
        t = time.time()
        acc, rows = exact_match(model, tok, test)
        result["base"] = {"accuracy": acc, "seconds": round(time.time() - t, 1), "samples": rows[:5]}
        print(json.dumps(result["base"]), file=sys.stderr)

    from peft import LoraConfig, get_peft_model
    targets = args.targets if args.targets == "all-linear" else args.targets.split(",")
    peft_model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0,
                                                  target_modules=targets))
    params = [q for q in peft_model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    warmup = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
    encoded = [encode_example(tok, ex["messages"]) for ex in train]
    order = list(range(len(encoded)))
    rng = random.Random(args.seed)
    peft_model.train()
    t0, tokens, step, losses, position = time.time(), 0, 0, [], len(order)
    while step < args.steps and time.time() - t0 < args.max_seconds:
        if position + args.batch > len(order):
            rng.shuffle(order)
            position = 0
        batch = [encoded[i] for i in order[position:position + args.batch]]
        position += args.batch
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([x + [EOS_ID] * (width - len(x)) for x, _ in batch])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
        loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        tokens += int(mask.sum())
        step += 1
        losses.append(round(loss.item(), 4))
        if step % 10 == 0:
            print(f"step {step} loss {sum(losses[-10:]) / 10:.4f} {tokens / (time.time() - t0):.0f} tok/s",
                  file=sys.stderr)
    seconds = time.time() - t0
    peft_model.eval()
    acc, rows = exact_match(peft_model, tok, test)
    result["trained"] = {"accuracy": acc, "steps": step, "examples_seen": step * args.batch, "train_tokens": tokens,
                         "seconds": round(seconds, 1), "tokens_per_second": round(tokens / seconds, 1),
                         "first_losses": losses[:5], "last_losses": losses[-5:],
                         "mismatches": [r for r in rows if r["got"] != r["expected"]][:5]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
