#!/usr/bin/env bash
# Builds everything in Release and runs every test (unit, CLI, Fortran cross-check).
# Usage: scripts/test.sh [--asan]   (--asan: the AddressSanitizer + UBSan build instead)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
[ "${1:-}" = "--asan" ] && preset=asan
scripts/setup.sh
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
