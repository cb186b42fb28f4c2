# LoRAKit: the two commands of the README are `make demo` and `make test`.
SWIFT ?= swift
LORAKIT_HOME ?= $(HOME)/.cache/lorakit
export LORAKIT_HOME
RELEASE = -c release
BIN = .build/release/lorakit

.PHONY: setup build model demo test bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build $(RELEASE) --product lorakit

model:
	@bash scripts/fetch_model.sh

demo: build model
	$(BIN) --version
	$(BIN) bench kernels

# Tests run on the optimised build: the numeric tests run real model shapes.
test: setup model
	$(SWIFT) build $(RELEASE) --build-tests -Xswiftc -enable-testing
	$(SWIFT) test $(RELEASE) -Xswiftc -enable-testing --skip-build

bench: build model
	$(BIN) bench kernels --json

clean:
	rm -rf .build
