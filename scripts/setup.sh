#!/usr/bin/env bash
# Installs what calor needs on Debian 12 (run as root), skipping what is already there.
# Usage: scripts/setup.sh [--test] [--python] [--all]
#   (none)    what the main job needs: the compilers, CMake, MPI, HDF5, libpng, FFTW, toml++,
#             CLI11 and GoogleTest (the build's tests are built with it)
#   --test    also what the tests use: gfortran (the Fortran cross-check), clang (fuzzing),
#             clang-format, Google Benchmark, ParaView (the XDMF test) and Python's headers
#   --python  also creates .venv (python3 -m venv) with the pinned requirements.txt
#   --all     both of the above
set -euo pipefail
cd "$(dirname "$0")/.."

test_tools=false python_env=false
for arg in "$@"; do
  case $arg in
    --test) test_tools=true ;;
    --python) python_env=true ;;
    --all) test_tools=true python_env=true ;;
    *) echo "setup: unknown option '$arg' (use --test, --python or --all)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libgtest-dev openmpi-bin libopenmpi-dev
  libhdf5-mpi-dev libpng-dev zlib1g-dev libfftw3-dev libfftw3-mpi-dev
)
if $test_tools; then
  packages+=(gfortran libbenchmark-dev clang clang-format libclang-rt-14-dev
             paraview python3-paraview)
fi
if $test_tools || $python_env; then
  packages+=(python3 python3-venv python3-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if $python_env; then
  # Rebuilt only when requirements.txt changes (its hash is stamped into the environment).
  want=$(cat requirements.txt bench/compare/requirements-devito.txt | sha256sum | cut -d' ' -f1)
  have=$(cat .venv/.requirements.sha256 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    echo "setup: creating .venv from requirements.txt"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -r requirements.txt
    # Devito without its declared pins (see the file): its dependencies are in requirements.txt.
    .venv/bin/pip install --quiet --no-deps -r bench/compare/requirements-devito.txt
    echo "$want" > .venv/.requirements.sha256
  fi
fi
