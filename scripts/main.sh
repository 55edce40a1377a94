#!/usr/bin/env bash
# The main job: install what is missing, build in Release, run the reference case study
# (N=4800, 500 steps) and print its verification value, time and throughput.
# Extra arguments go to `calor run`, e.g. scripts/main.sh --n 2400 --json
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release
exec build/bin/calor run --preset stencil "$@"
