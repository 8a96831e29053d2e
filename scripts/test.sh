#!/usr/bin/env bash
# Sets up a fresh machine (Node 20 + npm is all it needs), builds, typechecks everything
# including tests, and runs the whole test suite. Usage: bash scripts/test.sh [vitest args…]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
kiln_setup

log "typecheck (tsc -p tsconfig.json: sources, tests, benchmarks, scripts, examples)"
pnpm exec tsc -p tsconfig.json

log "API reference (typedoc → docs/api; doc-comment warnings fail)"
pnpm run docs:api

log "vitest run"
pnpm exec vitest run "$@"
