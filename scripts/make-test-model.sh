#!/usr/bin/env bash
# Trains the project's best model (the cnn-best preset) and stores it as the test fixture that
# Tests/DigitsAppTests/RealisticHandwritingTests.swift reads, so the tests need no training.
set -euo pipefail
cd "$(dirname "$0")/.."
swift run -c release digits train --preset cnn-best --no-progress \
    --save Tests/DigitsAppTests/Fixtures/best-model.safetensors
