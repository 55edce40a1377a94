#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer, ASan, UBSan; clang) and runs them.
# Usage: tests/fuzz/run.sh [TARGET|all] [SECONDS]    (default: all, 60 s each)
#        tests/fuzz/run.sh --build                   (build only)
# TARGET is config, npy, checkpoint or snapshot. Each reads its hand-written seeds
# (tests/fuzz/seeds/TARGET) and its kept corpus (tests/fuzz/corpus/TARGET, when there is one);
# new inputs go to build-fuzz/corpus/TARGET. After a long run, keep what it found with
#   build-fuzz/TARGET_fuzz -merge=1 tests/fuzz/corpus/TARGET build-fuzz/corpus/TARGET
# A crash leaves build-fuzz/TARGET-crash-<hash> (the input) and a non-zero exit status; libhdf5's
# crashes in the isolated reader's child are contained and move to build-fuzz/isolated/.
# CTest runs each target for 10 s in the ASan build (labels: fuzz); run longer by hand:
#   tests/fuzz/run.sh all 3600
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-fuzz
cxx=${CALOR_FUZZ_CXX:-$(command -v clang++-19 || command -v clang++)}
cc=${cxx/clang++/clang}
build() {
  # One build at a time: CTest may start several targets together.
  exec 9> "$out/.lock"
  flock 9
  [[ -f $out/build.ninja ]] ||
    cmake -S tests/fuzz -B "$out" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_BUILD_TYPE= > "$out/configure.log" 2>&1 ||
    { cat "$out/configure.log"; exit 1; }
  cmake --build "$out" -j "${CALOR_FUZZ_JOBS:-2}"
  flock -u 9
}

# The readers open untrusted HDF5 in a forked child (src/output/isolated.cpp): libhdf5 may crash
# there on a malformed file, the parent turns that into a calor::Error, and the fuzzer goes on.
# A child's crash still leaves a TARGET-crash-* file (libFuzzer's handler runs in the child). Each
# newer than MARKER is replayed: one whose report reaches calor's code before libhdf5's is a
# calor bug and fails the run; the others (libhdf5's own, contained) move to $out/isolated/.
triage_children() {
  local target=$1 marker=$2 f top
  mkdir -p "$out/isolated"
  while IFS= read -r f; do
    top=$("$out/${target}_fuzz" "$f" 2>&1 | grep -m1 -oE ' in (calor::|H5[A-Za-z0-9_]+ )' || true)
    if [[ $top == *calor::* ]]; then
      "$out/${target}_fuzz" "$f" 2>&1 | grep -E '^(SUMMARY|    #[0-9]+ )' | head -30
      echo "fuzz $target: FAILED: a crash in calor's code in the isolated reader (input: $f)"
      exit 1
    fi
    mv "$f" "$out/isolated/"
  done < <(find "$out" -maxdepth 1 -name "$target-crash-*" -newer "$marker")
}

# fuzz TARGET SECONDS MAX_LEN
fuzz() {
  local target=$1 seconds=$2 max_len=$3
  local corpus=$out/corpus/$target
  local marker=$out/.started-$target
  touch "$marker"
  mkdir -p "$corpus"
  local dirs=("$corpus" "tests/fuzz/seeds/$target")
  [[ -d tests/fuzz/corpus/$target ]] && dirs+=("tests/fuzz/corpus/$target")
  echo "== fuzz $target: $seconds s"
  "$out/${target}_fuzz" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$target-" "${dirs[@]}" \
    > "$out/$target.log" 2>&1 ||
    { tail -40 "$out/$target.log"; echo "fuzz $target: FAILED (the input is in $out/)"; exit 1; }
  triage_children "$target" "$marker"
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$out/$target.log" | tail -3 || true
}

mkdir -p "$out"
what=${1:-all}
seconds=${2:-60}
build
case $what in
  --build) ;;
  config) fuzz config "$seconds" 4096 ;;
  npy) fuzz npy "$seconds" 4096 ;;
  checkpoint) fuzz checkpoint "$seconds" 16384 ;;
  snapshot) fuzz snapshot "$seconds" 16384 ;;
  all) for t in config npy checkpoint snapshot; do "$0" "$t" "$seconds"; done ;;
  *) echo "unknown fuzz target '$what': use config, npy, checkpoint, snapshot or all" >&2; exit 2 ;;
esac
