#!/usr/bin/env bash
# Checks Kiln's ONNX exports with ONNX's own checker (Debian's python3-onnx, installed with apt
# when missing): the op cases of the ONNX tests and an MLP, a CNN and a Transformer block are
# exported, then `onnx.checker.check_model(full_check=True)` and strict shape inference run on
# each. Not part of the test suite (which needs no Python): run it after changing the exporter.
# Usage: bash scripts/check-onnx.sh [folder]   (default: a temporary folder)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

KILN_APT_PACKAGES=(python3-onnx)
ensure_apt_packages
dir="${1:-$(mktemp -d)}"
cd "$KILN_ROOT"
log "exporting samples to $dir"
pnpm exec tsx --conditions=kiln-source scripts/onnx/export-samples.ts "$dir"
log "onnx.checker"
# Debian's python, not a pyenv or venv one that lacks the onnx module.
/usr/bin/python3 scripts/onnx/check.py "$dir"
