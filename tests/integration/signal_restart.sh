#!/usr/bin/env bash
# SIGTERM mid-run: calor finishes its chunk, writes a checkpoint, exits 75; the restarted run then
# ends bit for bit where an uninterrupted run ends.
# Usage: signal_restart.sh CALOR [MPIEXEC...]
set -euo pipefail
calor=$1
shift
launch=("$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args=(run --preset stencil --n 1500 --steps 4000 --backend simd --threads 1 --no-progress)
set +e
"${launch[@]}" "$calor" "${args[@]}" --checkpoint "$dir/c.h5" --save-npy "$dir/partial.npy" &
pid=$!
sleep 1.5
kill -TERM "$pid"
wait "$pid"
status=$?
set -e
[ "$status" -eq 75 ] || { echo "FAIL: exit status $status, expected 75"; exit 1; }
[ -f "$dir/c.h5" ] || { echo "FAIL: no checkpoint written"; exit 1; }
[ ! -f "$dir/partial.npy" ] || { echo "FAIL: an interrupted run wrote final output"; exit 1; }
"${launch[@]}" "$calor" "${args[@]}" --restart "$dir/c.h5" --save-npy "$dir/restarted.npy" > /dev/null
"${launch[@]}" "$calor" "${args[@]}" --save-npy "$dir/straight.npy" > /dev/null
cmp "$dir/restarted.npy" "$dir/straight.npy" || { echo "FAIL: restarted run differs"; exit 1; }
# The resume command as calor prints it: the problem comes from the checkpoint alone.
"${launch[@]}" "$calor" run --restart "$dir/c.h5" --backend simd --threads 1 --no-progress \
  --save-npy "$dir/resumed.npy" > /dev/null
cmp "$dir/resumed.npy" "$dir/straight.npy" || { echo "FAIL: run --restart alone differs"; exit 1; }
# At or past the last step there is nothing left to do, and calor says so.
msg=$("${launch[@]}" "$calor" run --restart "$dir/c.h5" --steps 10 --no-progress 2>&1 > /dev/null)
[[ $msg == *"nothing left to do: the checkpoint is at step"* ]] ||
  { echo "FAIL: no 'nothing left to do' for a checkpoint past --steps: $msg"; exit 1; }
echo "PASS: interrupted (status 75), restarted (with its flags, and with --restart alone), identical to the uninterrupted run"
