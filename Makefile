# LoRAKit: the two commands of the README are `make demo` and `make test`.
SWIFT ?= swift
LORAKIT_HOME ?= $(HOME)/.cache/lorakit
export LORAKIT_HOME
# One optimised build serves the demo, the benchmarks and the tests (tests use @testable imports).
RELEASE = -c release -Xswiftc -enable-testing
BIN = .build/release/lorakit

.PHONY: setup build model demo test bench serve-adapters clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(RELEASE) --product lorakit

model: build
	$(BIN) pull smollm2-135m

# The demo: the base model fails a task, a few minutes of LoRA training on 2 cores teach it, eval shows before/after.
DEMO_RUN ?= runs/demo
DEMO_PROMPT = "Write 2024-03-05 as a long date."
demo: build model
	$(BIN) --version
	@echo "== 1. the base model on the demo task (ISO date -> long British date), 40 test examples"
	$(BIN) generate --model smollm2-135m --chat --prompt $(DEMO_PROMPT) --temperature 0 --max-tokens 16
	$(BIN) eval --model smollm2-135m --data data/demo --limit 40
	@echo "== 2. fine-tune a LoRA adapter on data/demo (PEFT format, checkpoints, metrics, loss curve)"
	rm -rf $(DEMO_RUN)
	$(BIN) train --model smollm2-135m --data data/demo --out $(DEMO_RUN) --iters 60 --batch-size 8 --lr 1e-3 \
	    --warmup 6 --targets all-linear --val-every 20 --val-batches 2 --save-every 30
	@echo "== 3. the same test with the adapter"
	$(BIN) generate --model smollm2-135m --chat --prompt $(DEMO_PROMPT) --temperature 0 --max-tokens 16 \
	    --adapter $(DEMO_RUN)/adapter
	$(BIN) eval --model smollm2-135m --data data/demo --limit 40 --adapter $(DEMO_RUN)/adapter
	@echo "== loss curve: $(DEMO_RUN)/loss.svg   metrics: $(DEMO_RUN)/metrics.jsonl"

# Tests run on the optimised build: the numeric tests run real model shapes.
test: setup
	$(SWIFT) build $(RELEASE) --build-tests
	$(BIN) pull smollm2-135m
	$(SWIFT) test $(RELEASE) --skip-build

# Our benchmarks and the Python peers' (scripts/setup_python.sh installs them in .venv), side by side.
bench: build model
	python3 scripts/bench.py

# Eight real adapters to serve and to measure serving with (`lorakit bench serve --adapter-dir runs/serve-adapters`,
# docs/serve.md#measuring): lorakit train's defaults (rank 8, alpha 16) on every linear layer, 8 steps on data/demo,
# one seed each. About 20 s an adapter on 2 cores.
SERVE_ADAPTERS ?= runs/serve-adapters
serve-adapters: build model
	rm -rf $(SERVE_ADAPTERS) $(SERVE_ADAPTERS).runs
	mkdir -p $(SERVE_ADAPTERS)
	for i in 1 2 3 4 5 6 7 8; do \
	  $(BIN) train --model smollm2-135m --data data/demo --out $(SERVE_ADAPTERS).runs/a$$i --iters 8 --batch-size 4 \
	    --lr 1e-3 --targets all-linear --seed $$i > /dev/null && \
	  cp -r $(SERVE_ADAPTERS).runs/a$$i/adapter $(SERVE_ADAPTERS)/a$$i || exit 1; \
	done
	rm -rf $(SERVE_ADAPTERS).runs
	ls $(SERVE_ADAPTERS)

clean:
	rm -rf .build
