#!/usr/bin/env bash
# Builds Wasm/digits.wasm: DigitsCore's own sources, DigitsVision's digit preparation and the
# exports in Wasm/Sources, compiled with Embedded Swift for wasm32 (no SDK: the toolchain's
# swiftc, clang and wasm-ld), with the small C runtime of Wasm/Runtime (allocator, mem*, math).
#
#   scripts/build-wasm.sh [OUTPUT]      # default Wasm/digits.wasm
#
# The build is deterministic: the same sources and toolchain give the same bytes (.ci/run checks
# the committed module this way). Set SWIFTC to use another toolchain's swiftc.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-Wasm/digits.wasm}
swiftc=${SWIFTC:-$(command -v swiftc)}
bin=$(dirname "$(readlink -f "$swiftc")")
clang=$bin/clang
wasm_ld=$bin/wasm-ld
build=.build-wasm
mkdir -p "$build"

# The sources, in a fixed order.
# BLASGEMM.swift needs the system OpenBLAS (a package trait): not part of the module.
core=$(find Sources/DigitsCore -name '*.swift' ! -name 'BLASGEMM.swift' | LC_ALL=C sort)
# DigitPreparation and what it needs (stdlib-only; its file reading compiles out under Embedded).
vision="Sources/DigitsVision/DigitPreparation.swift Sources/DigitsVision/InkAnalysis.swift
        Sources/DigitsVision/Resampling.swift Sources/DigitsVision/PixelRect.swift
        Sources/DigitsVision/Image.swift Sources/DigitsVision/ImageError.swift"
exports=$(find Wasm/Sources -name '*.swift' | LC_ALL=C sort)

# 128-bit SIMD (-msimd128): the kernels' SIMD8/SIMD16 vectors become pairs and quads of f32x4.
# WebAssembly has no fused multiply-add in its baseline SIMD (relaxed SIMD's is optional and
# not bit-reproducible), so DIGITS_NO_FMA multiplies and adds separately: otherwise every lane
# of a fused multiply-add would be a call to fmaf.
"$swiftc" -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded \
    -enable-experimental-feature Extern -wmo -parse-as-library -O \
    -Xcc -msimd128 -Xcc -mbulk-memory -Xfrontend -disable-stack-protector -D DIGITS_NO_FMA \
    -module-name Digits $core $vision $exports -c -o "$build/digits.o"

for c in Wasm/Runtime/*.c; do
    "$clang" --target=wasm32-unknown-unknown -O2 -msimd128 -mbulk-memory -ffreestanding -nostdlib \
        -Wall -Wextra -Werror -c "$c" -o "$build/$(basename "$c" .c).o"
done

# String comparison and hashing in the standard library need its Unicode tables.
unicode=$bin/../lib/swift/embedded/wasm32-unknown-none-wasm/libswiftUnicodeDataTables.a

# Export the @_cdecl functions (digits_*) and the memory; nothing is imported.
exports_flags=$("$bin/llvm-nm" --defined-only "$build/digits.o" "$build/runtime.o" | awk '$2 == "T" && $3 ~ /^digits_/ { print "--export=" $3 }' | LC_ALL=C sort -u)
"$wasm_ld" --no-entry --gc-sections --strip-all -z stack-size=1048576 $exports_flags \
    "$build/digits.o" "$build"/runtime.o "$build"/math.o "$unicode" -o "$out"

echo "$out: $(wc -c < "$out") bytes"
