# LoRAKit: the two commands of the README are `make demo` and `make test`.
SWIFT ?= swift
LORAKIT_HOME ?= $(HOME)/.cache/lorakit
export LORAKIT_HOME
# One optimised build serves the demo, the benchmarks and the tests (tests use @testable imports).
RELEASE = -c release -Xswiftc -enable-testing
BIN = .build/release/lorakit

.PHONY: setup build model demo test bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(RELEASE) --product lorakit

model: build
	$(BIN) pull smollm2-135m

# Until `lorakit train` lands, the demo runs what exists: the base model, a PEFT adapter on it, the kernels' speed.
PROMPT = "Name a colour of the sky."
demo: build model
	$(BIN) --version
	@echo "== base model"
	$(BIN) generate --model smollm2-135m --chat --prompt $(PROMPT) --temperature 0 --max-tokens 24
	@echo "== with a DoRA adapter made by Hugging Face PEFT"
	$(BIN) inspect Tests/Fixtures/peft/dora_qkvo
	$(BIN) generate --model smollm2-135m --chat --prompt $(PROMPT) --temperature 0 --max-tokens 24 \
	    --adapter Tests/Fixtures/peft/dora_qkvo
	@echo "== kernels"
	$(BIN) bench kernels --only gemm

# Tests run on the optimised build: the numeric tests run real model shapes.
test: setup
	$(SWIFT) build $(RELEASE) --build-tests
	$(BIN) pull smollm2-135m
	$(SWIFT) test $(RELEASE) --skip-build

# Our benchmarks and the Python peers' (scripts/setup_python.sh installs them in .venv), side by side.
bench: build model
	python3 scripts/bench.py

clean:
	rm -rf .build
