#!/bin/bash
# Compiles DigitsCore's own sources with Embedded Swift for WebAssembly (wasm32, no OS), as the
# in-browser build does: the core must need nothing but the Swift standard library there (no
# Foundation, no threads, no Codable, no non-class existentials, typed throws only).
# Usage: scripts/check-embedded.sh [OUTPUT.o]   (default: a temporary file, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-}"
tmp=""
if [ -z "$out" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    out="$tmp/DigitsCore.o"
fi
# BLASGEMM.swift needs the system OpenBLAS (the OpenBLAS trait) and is not part of the core there.
sources=$(find Sources/DigitsCore -name '*.swift' ! -name 'BLASGEMM.swift' | sort)
swiftc -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -parse-as-library \
    -Xcc -msimd128 -O -module-name DigitsCore -c $sources -o "$out"
echo "DigitsCore compiles with Embedded Swift for wasm32 ($(wc -c < "$out") bytes of object code)"
