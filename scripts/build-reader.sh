#!/usr/bin/env bash
# Rebuilds the shipped reader (issue 14) exactly: the `reader` preset (15 epochs, the last 4 undistorted), seed 1, trained on the
# first 55,000 MNIST training images (the last 5,000 held out), then calibrated on those 5,000
# (temperature and the certainty below which a reading is flagged). Same seed, same weights, on
# any thread count. Writes Sources/DigitsApp/Resources/reader/reader.safetensors (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-Sources/DigitsApp/Resources/reader/reader.safetensors}"
swift build -c release
.build/release/digits train --preset reader --validation 5000 --save "$out" --no-progress
.build/release/digits calibrate --model "$out" --validation 5000 --flag
