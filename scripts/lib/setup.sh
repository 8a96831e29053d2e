# Shared setup for scripts/test.sh and scripts/demo.sh: sourced, not run.
# Takes a fresh Debian machine with only Node 20 + npm to a built workspace.
# Every step is idempotent, so running it on a set-up machine costs a few seconds.

KILN_PNPM_VERSION=12.21.0
KILN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TURBO_TELEMETRY_DISABLED=1
# onnxruntime-node's postinstall downloads from a host CI cannot reach; its CPU binaries ship in the
# npm package (and pnpm-workspace.yaml's allowBuilds keeps the script from running anyway).
export ONNXRUNTIME_NODE_INSTALL=skip

log() { printf '\n==> %s\n' "$*" >&2; }

# System packages (apt): an issue that needs one (flatc, mesa-vulkan-drivers, chromium…) adds it
# to KILN_APT_PACKAGES, and this installs whatever is missing.
# flatbuffers-compiler: packages/serializer/test/generated.test.ts checks the committed flatc output.
# chromium: scripts/test/browser-page.test.ts drives docs/examples/browser/ in it (headless, with
# playwright-core; never `playwright install`, which downloads a browser).
KILN_APT_PACKAGES=(flatbuffers-compiler chromium)
ensure_apt_packages() {
  ((${#KILN_APT_PACKAGES[@]} == 0)) && return 0
  local missing=() pkg
  for pkg in "${KILN_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "apt-get install ${missing[*]}"
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

# Packages that must come from bookworm-backports: Dawn (the `webgpu` npm package) rejects
# bookworm's own Mesa 22.3 lavapipe; Mesa 25 from backports works (../shared/TOOLCHAIN.md).
# mesa-vulkan-drivers: lavapipe, the software Vulkan adapter the WebGPU suite runs on in CI.
KILN_APT_BACKPORTS_PACKAGES=(mesa-vulkan-drivers)
KILN_BACKPORTS_SOURCE=/etc/apt/sources.list.d/kiln-bookworm-backports.sources

# Adds the bookworm-backports deb822 source unless apt already knows the suite. Returns 0 when
# the source was added (apt needs an update), 1 when it was already there.
ensure_backports_source() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 1
  fi
  log "adding the bookworm-backports apt source ($KILN_BACKPORTS_SOURCE)"
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
    "${sudo[@]}" tee "$KILN_BACKPORTS_SOURCE" >/dev/null
  return 0
}

# A package counts as present only in the backports version: bookworm's own is too old, and a
# machine that already has it must still be upgraded.
ensure_backports_packages() {
  ((${#KILN_APT_BACKPORTS_PACKAGES[@]} == 0)) && return 0
  local missing=() pkg
  for pkg in "${KILN_APT_BACKPORTS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null | grep -q 'install ok installed .*bpo' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ ! -r /etc/debian_version ]] || ! grep -q '^12' /etc/debian_version; then
    echo "warning: ${missing[*]} come from Debian bookworm-backports and this is not Debian 12; install a Mesa >= 24 Vulkan driver (lavapipe) yourself to run the WebGPU tests" >&2
    return 0
  fi
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  ensure_backports_source || true
  log "apt-get install -t bookworm-backports ${missing[*]}"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends -t bookworm-backports "${missing[@]}"
}

ensure_node() {
  if ! command -v node >/dev/null; then
    echo "error: node is not installed; Kiln needs Node >= 20 with npm" >&2
    exit 1
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((major < 20)); then
    echo "error: Node $(node --version) found; Kiln needs Node >= 20" >&2
    exit 1
  fi
}

ensure_pnpm() {
  if [[ "$(pnpm --version 2>/dev/null || true)" == "$KILN_PNPM_VERSION" ]]; then
    return 0
  fi
  # corepack cannot verify pnpm's registry metadata on these machines, so install with npm.
  log "installing pnpm@$KILN_PNPM_VERSION with npm"
  local prefix
  prefix="$(npm prefix -g)"
  if ! npm install -g "pnpm@$KILN_PNPM_VERSION"; then
    # No write access to npm's global prefix: install under the user's cache instead.
    prefix="${XDG_CACHE_HOME:-$HOME/.cache}/kiln-tools"
    npm install -g --prefix "$prefix" "pnpm@$KILN_PNPM_VERSION"
  fi
  # Put the fresh pnpm first, even where npm's global bin is not on PATH or an older pnpm is.
  export PATH="$prefix/bin:$PATH"
  hash -r
  local got
  got="$(pnpm --version)"
  if [[ "$got" != "$KILN_PNPM_VERSION" ]]; then
    echo "error: wanted pnpm $KILN_PNPM_VERSION, but 'pnpm' on PATH ($(command -v pnpm)) is $got" >&2
    exit 1
  fi
}

install_and_build() {
  cd "$KILN_ROOT"
  log "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile
  log "pnpm run build"
  pnpm run build
}

kiln_setup() {
  ensure_apt_packages
  ensure_backports_packages
  ensure_node
  ensure_pnpm
  install_and_build
}
