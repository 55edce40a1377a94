#!/usr/bin/env bash
# Fuzzes the configuration parser (TOML + overrides) with libFuzzer, ASan and UBSan.
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60)
# Reads the hand-written seeds (tests/fuzz/seeds) and the kept corpus (tests/fuzz/corpus, a
# minimised set: `build-fuzz/config_fuzz -merge=1 tests/fuzz/corpus build-fuzz/corpus` after a
# long run keeps what it found); new inputs go to build-fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out"
# Only the sources the parser needs: no OpenMP, MPI or I/O. NDEBUG as in the shipped builds:
# toml++ 3.3 asserts on some invalid keys ("[*a]") that its release build rejects cleanly.
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DNDEBUG -DTOML_HEADER_ONLY=1 -Iinclude -I"$out" -Isrc \
  tests/fuzz/config_fuzz.cpp src/config/config.cpp src/model/problem.cpp src/model/boundary.cpp \
  src/config/keys.cpp src/field/field.cpp src/backends/machine.cpp \
  src/backends/names.cpp -o "$out/config_fuzz"
mkdir -p "$out/corpus"
# A crash leaves build-fuzz/crash-<hash> and a non-zero exit status.
"$out/config_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=5 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" tests/fuzz/corpus tests/fuzz/seeds > "$out/fuzz.log" 2>&1 ||
  { tail -40 "$out/fuzz.log"; echo "fuzz: FAILED (the input is in $out/)"; exit 1; }
tail -6 "$out/fuzz.log"
