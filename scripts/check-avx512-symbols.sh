#!/usr/bin/env bash
# Checks that the AVX-512 kernel module (Sources/DigitsAVX512Kernels, the one module compiled for
# x86-64-v4) defines no code that another module could end up calling: every function it defines
# must carry its own module's name. A generic of the standard library (or of another module)
# specialised here would be a weak symbol the linker may pick for everyone, and then a machine
# without AVX-512 would stop on an illegal instruction outside the kernels.
#
#   scripts/check-avx512-symbols.sh [BUILD-DIR]      (default: .build/release; CI also checks .build/debug,
#                                                    which the test binary links)
# (Mach-O symbol names carry a leading underscore; ELF's do not.)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-.build/release}/DigitsAVX512Kernels.build"
[[ "$(uname -m)" == x86_64 ]] || { echo "check-avx512-symbols: not x86-64, no AVX-512 module"; exit 0; }
shopt -s nullglob
objects=("$dir"/*.o)
((${#objects[@]})) || { echo "check-avx512-symbols: no object files in $dir (build first)" >&2; exit 1; }
# Defined symbols of every kind but local ones (lower-case types other than w/v are local).
foreign=$(nm --defined-only "${objects[@]}" | awk 'NF == 3 && $2 ~ /^[A-Zwv]$/ { print $3 }' |
    grep -v -e '^_\{0,1\}\$s19DigitsAVX512Kernels' -e '^_\{0,1\}__swift_reflection_version$' || true)
if [[ -n "$foreign" ]]; then
    echo "check-avx512-symbols: DigitsAVX512Kernels defines symbols outside its own name space:" >&2
    echo "$foreign" | head -20 >&2
    exit 1
fi
echo "check-avx512-symbols: DigitsAVX512Kernels defines only its own symbols (${#objects[@]} object files)"
