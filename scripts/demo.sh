#!/usr/bin/env bash
# Sets up a fresh machine (Node 20 + npm is all it needs), builds, and runs the eager demo
# (docs/examples/eager-basics.ts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
kiln_setup

log "pnpm run demo"
pnpm run demo
