#!/usr/bin/env bash
# Builds everything and runs every test: C++ unit, CLI, MPI (1-7 ranks) and Fortran cross-checks
# through CTest, then the Python tests (the comparison study's approaches) with pytest.
# Usage: scripts/test.sh [--asan]   (--asan: the C++ tests in the ASan + UBSan build instead)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
[ "${1:-}" = "--asan" ] && preset=asan
scripts/setup.sh --python
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  .venv/bin/python -m pytest -q bench/approaches/tests
fi
