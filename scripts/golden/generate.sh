#!/usr/bin/env bash
# Regenerates every golden file from PyTorch. Needs Debian's python3-torch (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  apt-get update -q && apt-get install -y -q python3-torch python3-numpy
fi
for f in scripts/golden/gen_*.py; do /usr/bin/python3 "$f"; done
