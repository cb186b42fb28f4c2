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

demo: build model
	$(BIN) --version
	$(BIN) bench kernels

# Tests run on the optimised build: the numeric tests run real model shapes.
test: setup
	$(SWIFT) build $(RELEASE) --build-tests
	$(BIN) pull smollm2-135m
	$(SWIFT) test $(RELEASE) --skip-build

THREADS ?= 2
PYTHON ?= .venv/bin/python

bench: build model
	$(BIN) bench kernels --json
	$(BIN) bench generate --json --threads $(THREADS) > .build/bench-generate.json
	$(PYTHON) scripts/baselines/hf_generate.py --threads $(THREADS) > .build/bench-generate-hf.json
	$(PYTHON) scripts/baselines/compare_generate.py .build/bench-generate.json .build/bench-generate-hf.json

clean:
	rm -rf .build
