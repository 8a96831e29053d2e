#!/usr/bin/env bash
# Sets up a fresh machine (Node 20 + npm is all it needs), builds, runs the eager tour
# (docs/examples/eager-basics.ts), then the main job (docs/examples/main-job.ts, a few seconds):
# trains the digits MLP eagerly, compiles the training step and goes on (printing the speedup),
# checks test accuracy (fails below 95%), saves out/model.kiln and out/model.onnx, and checks that
# a separate runtime-only process loading out/model.kiln predicts what the trained model predicts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
kiln_setup

log "pnpm run demo"
pnpm run demo

log "the main job: train, compile, save, deploy (docs/examples/main-job.ts → out/)"
pnpm exec tsx --conditions=kiln-source docs/examples/main-job.ts out
