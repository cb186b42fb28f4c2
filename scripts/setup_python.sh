#!/usr/bin/env bash
# Creates .venv with the Python peers used ONLY for reference fixtures and side-by-side benchmarks:
# CPU PyTorch, transformers, peft, gguf, tokenizers, safetensors, openai. `make test` does not need it.
# PyPI's default torch wheel is a large CUDA build; a local CPU wheel is used when the machine has one,
# otherwise the CPU index is tried: pip install torch --index-url https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
wheel=$(find / -name 'torch-*cpu*.whl' -not -path '/proc/*' 2>/dev/null | head -n 1 || true)
if [ -n "$wheel" ]; then .venv/bin/pip install -q "$wheel"; else .venv/bin/pip install -q torch; fi
.venv/bin/pip install -q transformers peft gguf tokenizers safetensors openai numpy
echo "python peers ready in .venv"
