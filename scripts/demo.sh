#!/usr/bin/env bash
# Sets up a fresh machine (Node 20 + npm is all it needs), builds, runs the eager demo
# (docs/examples/eager-basics.ts), then trains an MLP on the handwritten digits
# (docs/examples/digits-mlp.ts: 40 epochs, about 10 s; it fails below 95% test accuracy).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
kiln_setup

log "pnpm run demo"
pnpm run demo

log "training an MLP on the digits (docs/examples/digits-mlp.ts)"
pnpm exec tsx --conditions=kiln-source docs/examples/digits-mlp.ts
