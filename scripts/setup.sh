#!/usr/bin/env bash
# Installs what LoRAKit needs to build and run on a fresh machine: a BLAS library.
# Linux (Debian/Ubuntu): OpenBLAS from apt. macOS: Accelerate ships with the system; nothing to do.
set -euo pipefail
if [ "$(uname -s)" = "Darwin" ]; then exit 0; fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH; install Swift 6.1 or newer from swift.org" >&2
    exit 1
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
    echo "installing libopenblas-dev (BLAS for matrix products)…"
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev >/dev/null
fi
