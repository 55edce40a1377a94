#!/usr/bin/env bash
# The GPU check of issue 22, in two halves, because the device machine cannot build calor: it has
# nvcc and CMake but none of calor's Debian dependencies, and nothing can be installed there.
#
#   scripts/gpu-check.sh bundle   # here (Debian 12, CUDA 13): builds build-gpu/ with the cuda
#                                 # backend (CALOR_CUDA=ON, sm_80 + sm_90 + PTX) and packs .gpu/:
#                                 # calor, its unit tests, calor_gpu_bench, calor_gpu_variants,
#                                 # the shared libraries they load and the pinned NumPy's wheel
#                                 # for Python 3.12 (about 56 MB)
#   scripts/gpu-check.sh run      # on the device machine (the device tool, carry .gpu), about
#                                 # 4 minutes on an H200: writes $OUT/gpu-report.md
#   scripts/gpu-check.sh run quick  # the same without the comparison's GPU rows (the slowest
#                                 # step): to re-measure calor's own kernels on little device time
#
# The run: lists the device (calor info); runs the cuda tests on the device (every bit-for-bit
# case against the serial backend); runs the case study (4800^2, 500 steps) on cuda and on the
# CPU, comparing the final fields byte for byte and the heat (and, where the device machine has
# mpiexec, a smaller one on 2 ranks); times the steps against the device's own copy bandwidth
# (calor_gpu_bench) and where their time goes (calor_gpu_variants: launch shapes, rows per
# thread, face launches, in 2D and 3D); runs the comparison's GPU rows (bench/compare/compare.py
# --gpu-only) with the machine's python3 ($PYTHON to choose another), the pinned NumPy first.
# Without a GPU each step says so and the report says that nothing was measured.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

bundle() {
  set -e
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCALOR_CUDA=ON -DCALOR_WERROR=ON \
    -DCALOR_NATIVE=OFF > /dev/null
  cmake --build build-gpu --target calor_cli calor_unit_tests calor_gpu_bench calor_gpu_variants
  rm -rf .gpu && mkdir -p .gpu/bin .gpu/libexec .gpu/lib .gpu/wheels
  cp build-gpu/bin/calor build-gpu/bin/calor_unit_tests build-gpu/bin/calor_gpu_bench \
     build-gpu/bin/calor_gpu_variants .gpu/libexec/
  strip .gpu/libexec/*
  # Every shared library they load but the C library's own and the driver's (the device
  # machine's are newer and must be used).
  ldd .gpu/libexec/* | awk '/=> \//{print $3}' | sort -u |
    grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libcuda)\.so' |
    while read -r lib; do cp -L "$lib" .gpu/lib/; done
  # Each binary behind a wrapper that points it, and only it, at those libraries: the device's
  # own programs (its python3 with CuPy and PyTorch) keep theirs. CALOR_GPU_BUNDLE (set by
  # 'run') finds the bundle from a copy of a wrapper too (compare.py runs a copy of calor).
  for b in .gpu/libexec/*; do
    printf '#!/bin/sh\nb=${CALOR_GPU_BUNDLE:-$(dirname "$(readlink -f "$0")")/..}\nLD_LIBRARY_PATH="$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$b/libexec/%s" "$@"\n' \
      "$(basename "$b")" > ".gpu/bin/$(basename "$b")"
    chmod +x ".gpu/bin/$(basename "$b")"
  done
  # The device image's numba-cuda fails to import under its NumPy 2.5 (np.row_stack is gone);
  # our pinned NumPy, for its Python 3.12, goes along and is put first for the comparison.
  local numpy; numpy=$(grep -m1 '^numpy==' requirements.txt)
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    -d .gpu/wheels "$numpy" || echo "gpu-check: $numpy for Python 3.12 not fetched" >&2
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  echo "gpu-check: .gpu/ is $(du -sh .gpu | cut -f1); on the device: scripts/gpu-check.sh run" \
       "(carry .gpu)"
}

# Runs a step, its output into the report under a heading; never stops the script.
step() {
  local title=$1; shift
  echo "== $title" >&2
  { echo; echo "### $title"; echo; echo '```'; "$@" 2>&1 | tail -150; echo "exit status ${PIPESTATUS[0]}"; echo '```'; } >> "$report"
}

case_study() {
  local tmp; tmp=$(mktemp -d)
  .gpu/bin/calor run --preset stencil --backend cuda --no-progress --json --save-npy "$tmp/cuda.npy" || return
  .gpu/bin/calor run --preset stencil --backend tiled --no-progress --json --save-npy "$tmp/cpu.npy" || return
  if cmp -s "$tmp/cuda.npy" "$tmp/cpu.npy"; then
    echo "final fields: identical bytes (cuda and tiled, which is serial's bits)"
  else
    echo "final fields: DIFFER (cmp: $(cmp "$tmp/cuda.npy" "$tmp/cpu.npy" | head -1))"
    return 1
  fi
}

# Two ranks on the device(s), the layers exchanged through MPI (staged in pinned host memory, or
# direct where calor info says MPI is CUDA-aware), against the CPU's bytes. Needs an mpiexec of
# the bundle's Open MPI major version on the device machine; says so where there is none. The
# exchange path without MPI (LoopbackHalo) is in the device tests above.
case_study_mpi() {
  command -v mpiexec > /dev/null || { echo "not run: no mpiexec on the device machine"; return 0; }
  local tmp; tmp=$(mktemp -d)
  mpiexec --allow-run-as-root --oversubscribe -n 2 .gpu/bin/calor run --preset stencil --n 1200 \
    --steps 100 --backend cuda --no-progress --save-npy "$tmp/cuda.npy" || return
  .gpu/bin/calor run --preset stencil --n 1200 --steps 100 --backend serial --no-progress \
    --save-npy "$tmp/cpu.npy" || return
  if cmp -s "$tmp/cuda.npy" "$tmp/cpu.npy"; then
    echo "final fields: identical bytes (cuda on 2 ranks, serial on 1)"
  else
    echo "final fields: DIFFER"
    return 1
  fi
}

compare_gpu_rows() {
  local site=/tmp/calor-gpu-site
  if ls .gpu/wheels/*.whl > /dev/null 2>&1 &&
     "${PYTHON:-python3}" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
       --upgrade --target "$site" .gpu/wheels/*.whl; then
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    echo "with $(basename .gpu/wheels/*.whl) first on the path"
  fi
  "${PYTHON:-python3}" bench/compare/compare.py --gpu-only --calor .gpu/bin/calor --size 4800 --steps 500 \
    --repeat 3 --no-plots --timeout 300 --out "${OUT:-/tmp}/compare-gpu" || return
  cat "${OUT:-/tmp}/compare-gpu/report.md"
}

run() {
  [ -x .gpu/bin/calor ] || { echo "gpu-check: no .gpu/ bundle: run 'scripts/gpu-check.sh bundle' here and carry .gpu" >&2; exit 2; }
  export CALOR_GPU_BUNDLE="$PWD/.gpu"
  report="${OUT:-/tmp}/gpu-report.md"
  { echo "# calor GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo; echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"; } > "$report"
  step "nvidia-smi" nvidia-smi -L
  step "calor info" .gpu/bin/calor info
  step "cuda tests on the device (bit for bit against serial)" \
    .gpu/bin/calor_unit_tests --gtest_filter='Cuda*:Field.*'
  step "case study, cuda against the CPU, byte for byte" case_study
  step "case study on 2 MPI ranks, cuda against the CPU, byte for byte" case_study_mpi
  step "the steps against the device copy bandwidth" .gpu/bin/calor_gpu_bench 4800 500
  step "where a step's time goes: launch shapes, rows per thread, face launches" \
    .gpu/bin/calor_gpu_variants 4800 500 512 100
  if [ "${1:-}" = quick ]; then
    echo "(quick: the comparison's GPU rows not run)" >> "$report"
  else
    step "the comparison's GPU rows" compare_gpu_rows
  fi
  echo "gpu-check: report in $report" >&2
  cat "$report"
}

case $mode in
  bundle) bundle ;;
  run) run "${2:-}" ;;
  *) echo "usage: scripts/gpu-check.sh bundle|run [quick] (see the top of this file)" >&2; exit 2 ;;
esac
