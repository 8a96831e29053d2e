#!/usr/bin/env bash
# Sets up a fresh machine (Node 20 + npm is all it needs), builds, runs the eager tour
# (docs/examples/eager-basics.ts), then the main job (docs/examples/main-job.ts, a few seconds on
# the CPU): trains the digits MLP eagerly with fit (progress bar, out/metrics.jsonl), compiles the
# training step and goes on (printing the speedup), checks test accuracy (fails below 95%), saves
# out/model.kiln and out/model.onnx, checks that a separate runtime-only process loading
# out/model.kiln predicts what the trained model predicts, and draws out/training.svg and
# out/graph.svg.
#
# Usage: bash scripts/demo.sh [-- ] [DIR] [--backend cpu|webgpu|auto]
#   Arguments (after an optional `--`) go to the main job: the output folder (default out) and the
#   backend. auto (the default) trains on WebGPU when a hardware adapter exists and on the CPU
#   otherwise; a software adapter (lavapipe, SwiftShader) only with --backend webgpu. The main
#   job's first line says which backend it chose and why. KILN_DEMO_BACKEND=webgpu does the same
#   as --backend webgpu; KILN_DEMO_EAGER_EPOCHS / KILN_DEMO_COMPILED_EPOCHS shorten the run.
#   Example: bash scripts/demo.sh -- --backend webgpu
set -euo pipefail
if [[ "${1:-}" == "--" ]]; then shift; fi
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
kiln_setup

log "pnpm run demo"
pnpm run demo

log "the main job: train, compile, save, deploy (docs/examples/main-job.ts → out/)"
args=("$@")
# The output folder first (default out), then the options.
if [[ ${#args[@]} -eq 0 || "${args[0]}" == --* ]]; then args=(out "${args[@]}"); fi
pnpm exec tsx --conditions=kiln-source docs/examples/main-job.ts "${args[@]}"
