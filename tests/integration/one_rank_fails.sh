#!/usr/bin/env bash
# Issue 17, item 1: a failure on exactly one MPI rank ends every rank, within 60 s, with that
# rank's message and a non-zero exit status, never a hang. Each case starts one job in which a
# single rank (first or last) is given a bad input through mpiexec's MPMD form (A : B):
#   - a missing .npy initial field;
#   - an allocation failure (that rank's address space limited with ulimit -v);
#   - a damaged checkpoint to restart from;
#   - a rank killed (SIGKILL) mid-run: no agreement is possible, and the MPI runtime must end
#     the job (Open MPI aborts it when a process exits non-zero).
# Usage: one_rank_fails.sh MPIEXEC CALOR RANKS [--no-alloc]   (--no-alloc: under ASan, whose
# shadow memory cannot live under ulimit -v)
set -uo pipefail
mpiexec=$1 calor=$2 ranks=$3 alloc=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMP_WAIT_POLICY=PASSIVE
run=("$mpiexec" --oversubscribe --allow-run-as-root)
opts=(--no-progress --steps 20)
failures=0

# expect NAME PATTERN -- ARGS...: runs mpiexec ARGS; passes if it ends within 60 s with a status
# other than 0 and 3, and the output holds PATTERN exactly once.
expect() {
  local name=$1 pattern=$2
  shift 3
  local start=$SECONDS
  timeout 60 "${run[@]}" "$@" > out.txt 2>&1
  local status=$? took=$((SECONDS - start))
  local count
  count=$(grep -c -E "$pattern" out.txt)
  local want=${ONCE:-1}  # ONCE=0: the MPI runtime's own message, which it may repeat
  if [[ $status == 0 || $status == 3 || $status == 124 || $count == 0 ||
        ($want == 1 && $count != 1) ]]; then
    echo "FAIL $name (-n $ranks): exit $status after ${took} s, message seen $count times"
    sed 's/^/    /' out.txt | head -40
    failures=$((failures + 1))
  else
    echo "ok   $name (-n $ranks): exit $status after ${took} s: $(grep -m1 -E "$pattern" out.txt)"
  fi
}

# A checkpoint to restart from, a damaged copy, and a good initial field.
"${run[@]}" -n "$ranks" "$calor" run --n 48,64 "${opts[@]}" --checkpoint ck.h5 > /dev/null ||
  { echo "FAIL: could not write the checkpoint"; exit 1; }
head -c 4000 ck.h5 > bad.h5
"$calor" run --n 48,64 --steps 1 --no-progress --save-npy good.npy > /dev/null || exit 1
npy=(--set initial.type=npy)
last=$((ranks - 1))

expect "missing npy on the last rank" "rank $last of $ranks\): cannot read \.npy file 'missing\.npy'" -- \
  -n "$last" "$calor" run --n 48,64 "${opts[@]}" "${npy[@]}" --set initial.path=good.npy : \
  -n 1 "$calor" run --n 48,64 "${opts[@]}" "${npy[@]}" --set initial.path=missing.npy
expect "missing npy on rank 0" "rank 0 of $ranks\): cannot read \.npy file 'missing\.npy'" -- \
  -n 1 "$calor" run --n 48,64 "${opts[@]}" "${npy[@]}" --set initial.path=missing.npy : \
  -n "$last" "$calor" run --n 48,64 "${opts[@]}" "${npy[@]}" --set initial.path=good.npy
[[ $alloc == --no-alloc ]] ||
  expect "allocation failure on the last rank" "rank $last of $ranks\): out of memory: a field of" -- \
  -n "$last" "$calor" run --n 6000 "${opts[@]}" : \
  -n 1 sh -c "ulimit -v 400000; exec $calor run --n 6000 ${opts[*]}"
expect "damaged checkpoint on the last rank" "rank $last of $ranks\): checkpoint 'bad\.h5' is 4000 bytes, its seal says [0-9]+: truncated" -- \
  -n "$last" "$calor" run --n 48,64 --no-progress --steps 30 --restart ck.h5 : \
  -n 1 "$calor" run --n 48,64 --no-progress --steps 30 --restart bad.h5
expect "damaged checkpoint on rank 0" "rank 0 of $ranks\): checkpoint 'bad\.h5' is 4000 bytes, its seal says [0-9]+: truncated" -- \
  -n 1 "$calor" run --n 48,64 --no-progress --steps 30 --restart bad.h5 : \
  -n "$last" "$calor" run --n 48,64 --no-progress --steps 30 --restart ck.h5
ONCE=0 expect "the last rank killed mid-run" "exited with non-zero status|exited on signal" -- \
  -n "$last" "$calor" run --n 2000 --steps 100000 --no-progress : \
  -n 1 sh -c "$calor run --n 2000 --steps 100000 --no-progress & pid=\$!; sleep 2; kill -9 \$pid; wait \$pid"
exit $((failures > 0))
