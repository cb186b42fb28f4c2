#!/usr/bin/env python3
"""Load test of `lorakit serve` on 127.0.0.1: N concurrent clients over M adapters, bounded in requests and time.

Each client sends chat completions (streaming or not) for adapter i % M in turn until --requests are done or
--seconds have passed. Reports throughput (requests/s, generated tokens/s), latency p50/p99, time to first token
for streams, and the error count; exit code 1 if any request failed.

    lorakit serve --adapter-dir ADAPTERS --port 8000 &
    python scripts/load/load_test.py --clients 8 --requests 64 --seconds 120
"""
import argparse
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse


def percentile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def request(url, body, api_key, timeout):
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=timeout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--adapters", type=int, default=0, help="use the first M adapters /v1/models lists (0: all)")
    p.add_argument("--requests", type=int, default=64, help="total requests (bound)")
    p.add_argument("--seconds", type=float, default=120, help="wall-time bound")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--api-key", default="")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args()

    host = urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("error: the load test only targets 127.0.0.1 (got %s)" % host)
    if not (1 <= args.clients <= 64 and 1 <= args.requests <= 10000 and 0 < args.seconds <= 3600):
        sys.exit("error: keep --clients in 1..64, --requests in 1..10000, --seconds in (0, 3600]")

    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with urllib.request.urlopen(urllib.request.Request(args.url + "/v1/models", headers=headers), timeout=10) as r:
        models = json.load(r)["data"]
    adapters = [m["id"] for m in models if m.get("parent")]
    if args.adapters:
        adapters = adapters[: args.adapters]
    if not adapters:
        adapters = [models[0]["id"]]

    lock = threading.Lock()
    issued = [0]
    latencies, ttfts, errors, tokens = [], [], [], [0]
    deadline = time.monotonic() + args.seconds
    prompts = ["Tell me about the sea.", "Write a haiku about mountains.", "What is 17 times 3?",
               "Name three colors.", "Describe a cat in one sentence."]

    def client(index):
        while True:
            with lock:
                if issued[0] >= args.requests or time.monotonic() >= deadline:
                    return
                n = issued[0]
                issued[0] += 1
            model = adapters[n % len(adapters)]
            stream = n % 2 == 0
            body = {"model": model, "messages": [{"role": "user", "content": prompts[n % len(prompts)]}],
                    "max_tokens": args.max_tokens, "temperature": 0.7, "seed": n, "stream": stream}
            if stream:
                body["stream_options"] = {"include_usage": True}
            start = time.monotonic()
            try:
                with request(args.url + "/v1/chat/completions", body, args.api_key,
                             timeout=max(1.0, deadline - start + 60)) as r:
                    if stream:
                        first, used = None, 0
                        for line in r:
                            line = line.decode().strip()
                            if not line.startswith("data: ") or line == "data: [DONE]":
                                continue
                            chunk = json.loads(line[6:])
                            if first is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                                first = time.monotonic() - start
                            if chunk.get("usage"):
                                used = chunk["usage"]["completion_tokens"]
                        with lock:
                            if first is not None:
                                ttfts.append(first)
                            tokens[0] += used
                    else:
                        used = json.load(r)["usage"]["completion_tokens"]
                        with lock:
                            tokens[0] += used
                with lock:
                    latencies.append(time.monotonic() - start)
            except (urllib.error.URLError, OSError, ValueError, KeyError) as e:
                with lock:
                    errors.append(f"{model}: {e}")

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    report = {
        "clients": args.clients, "adapters": len(adapters), "requests": len(latencies) + len(errors),
        "errors": len(errors), "seconds": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 2), "generated_tokens_per_s": round(tokens[0] / wall, 1),
        "latency_p50_s": round(percentile(latencies, 50), 3), "latency_p99_s": round(percentile(latencies, 99), 3),
        "ttft_p50_s": round(percentile(ttfts, 50), 3), "ttft_p99_s": round(percentile(ttfts, 99), 3),
        "latency_mean_s": round(statistics.mean(latencies), 3) if latencies else 0.0,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:24} {value}")
    for e in errors[:5]:
        print("error:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
