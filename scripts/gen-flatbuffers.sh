#!/usr/bin/env bash
# Regenerates the TypeScript for the .kiln FlatBuffers schema:
#   packages/serializer/schema/kiln.fbs → packages/serializer/src/generated/
# flatc (Debian's flatbuffers-compiler) is installed with apt when missing. Its output imports
# relative modules without an extension, which NodeNext resolution rejects (TS2835), so every
# relative import gets `.js` appended.
#
# Usage: bash scripts/gen-flatbuffers.sh           regenerate in place
#        bash scripts/gen-flatbuffers.sh --check   exit 1 if regenerating would change anything
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

FLATC_VERSION="2.0.8" # the version the committed code was generated with
SCHEMA="$KILN_ROOT/packages/serializer/schema/kiln.fbs"
TARGET="$KILN_ROOT/packages/serializer/src/generated"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v flatc >/dev/null; then
  if ((check)); then
    echo "error: flatc is not installed; run 'bash scripts/gen-flatbuffers.sh' (installs flatbuffers-compiler with apt) or scripts/test.sh" >&2
    exit 1
  fi
  KILN_APT_PACKAGES=(flatbuffers-compiler)
  ensure_apt_packages
fi

found="$(flatc --version | awk '{print $NF}')"
if [[ "$found" != "$FLATC_VERSION" ]]; then
  echo "error: flatc $found found, but src/generated/ is made with flatc $FLATC_VERSION (Debian bookworm's flatbuffers-compiler); other versions emit different code" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flatc --ts -o "$work/out" "$SCHEMA"
# Relative imports need explicit extensions under NodeNext.
find "$work/out" -name '*.ts' -print0 | xargs -0 sed -E -i "s#(from '\.{1,2}/[^']*)'#\1.js'#"

if ((check)); then
  if ! diff -r "$work/out" "$TARGET" >"$work/diff" 2>&1; then
    echo "error: packages/serializer/src/generated/ is out of date with schema/kiln.fbs; run 'bash scripts/gen-flatbuffers.sh' and commit the result:" >&2
    head -n 40 "$work/diff" >&2
    exit 1
  fi
  echo "packages/serializer/src/generated/ is up to date with schema/kiln.fbs"
  exit 0
fi

rm -rf "$TARGET"
mkdir -p "$(dirname "$TARGET")"
cp -r "$work/out" "$TARGET"
echo "regenerated $(find "$TARGET" -name '*.ts' | wc -l) files in packages/serializer/src/generated/"
