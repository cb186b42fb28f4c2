#!/usr/bin/env python3
"""Smoke test of `lorakit serve` with the official `openai` package: list the models, then stream a chat
completion from an adapter and check it arrives in several chunks with a finish reason.

    lorakit serve --adapter-dir ADAPTERS --port 8000 &
    python scripts/clients/openai_smoke.py --base-url http://127.0.0.1:8000/v1 --model ADAPTER_NAME

Exit code 0 on success, 1 with a one-line reason otherwise.
"""
import argparse
import sys

try:
    from openai import OpenAI
except ImportError:
    sys.exit("error: the openai package is missing; pip install openai (scripts/setup_python.sh)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--model", help="an adapter name (default: the first adapter /v1/models lists)")
    parser.add_argument("--api-key", default="none", help="the server's --api-key, if any")
    parser.add_argument("--max-tokens", type=int, default=24)
    args = parser.parse_args()

    client = OpenAI(base_url=args.base_url, api_key=args.api_key, timeout=120)
    models = client.models.list().data
    adapters = [m.id for m in models if getattr(m, "parent", None)]
    model = args.model or (adapters[0] if adapters else models[0].id)
    print(f"models: {[m.id for m in models]}; streaming from {model!r}")

    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=args.max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
                print(choice.delta.content, end="", flush=True)
            if choice.finish_reason:
                finish = choice.finish_reason
    print()
    if len(pieces) < 2 or finish not in ("stop", "length") or usage is None:
        print(f"error: expected several chunks, a finish reason and usage; got {len(pieces)} chunks, "
              f"finish {finish!r}, usage {usage}", file=sys.stderr)
        return 1
    print(f"ok: {len(pieces)} chunks, finish_reason={finish}, usage={usage.model_dump()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
