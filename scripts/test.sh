#!/usr/bin/env bash
# Builds everything and runs every test: C++ unit, CLI, MPI (1-7 ranks) and Fortran cross-checks
# through CTest; then builds the Python module (pip install .) and runs the Python tests with
# pytest: the module, the comparison study's approaches, the comparison driver, and the FFT peers.
# Usage: scripts/test.sh [--asan]   (--asan: the C++ tests in the ASan + UBSan build instead)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=release
[ "${1:-}" = "--asan" ] && preset=asan
scripts/setup.sh --test --python
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  # The module is compiled in build-py/ (kept between runs, so a rebuild is incremental).
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    .venv/bin/pip install --quiet --no-build-isolation .
  .venv/bin/python -m pytest -q tests/python bench/approaches/tests bench/compare/tests bench/fft/tests
fi
