#!/usr/bin/env bash
# examples/slurm/calor.sbatch under fake `srun` and `scontrol`: a run signalled near its time limit
# checkpoints, exits 75 and is requeued; the requeued job restarts from the checkpoint; the final
# answer is bit for bit that of one uninterrupted run.
#   attempt 1: SIGUSR1 to calor itself (what `#SBATCH --signal=USR1@120` does)
#   attempt 2: SIGUSR1 to the batch shell, which must forward it (what `--signal=B:USR1@120` does)
#   attempt 3: runs to the end
# Usage: slurm_requeue.sh CALOR [STEPS]
#   STEPS: the job's steps (default 12000: 5-6 s in a Release build on the AMD EPYC VM; a
#   sanitizer build, about 20x slower, passes fewer so that the whole test stays within its limits)
set -uo pipefail
[ $# -eq 1 ] || [ $# -eq 2 ] || { echo "usage: $0 CALOR [STEPS]" >&2; exit 2; }
steps=${2:-12000}
calor=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sbatch_script=$(cd "$(dirname "$0")/../../examples/slurm" && pwd)/calor.sbatch
[ -x "$calor" ] || { echo "FAIL: no calor binary at $1"; exit 1; }
[ -f "$sbatch_script" ] || { echo "FAIL: no $sbatch_script"; exit 1; }

dir=$(mktemp -d)
started=()
cleanup() {
  for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; for f in "$dir"/attempt*.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done; exit 1; }
check() { echo "  ok: $*"; }

# ---- fake SLURM: srun records the task's PID and becomes it; scontrol records its arguments ----
mkdir "$dir/bin"
cat > "$dir/bin/srun" <<EOF
#!/usr/bin/env bash
echo \$\$ > "$dir/task.pid"
exec "\$@"
EOF
cat > "$dir/bin/scontrol" <<EOF
#!/usr/bin/env bash
echo "\$*" >> "$dir/scontrol.log"
EOF
chmod +x "$dir/bin/srun" "$dir/bin/scontrol"

# Nothing from a real SLURM allocation (CI may run inside one) or from the caller may leak in.
# shellcheck disable=SC2046  # one name per word, on purpose
unset $(compgen -e | grep '^SLURM_') CALOR CONFIG CKPT CKPT_EVERY MAX_REQUEUES 2>/dev/null
export PATH="$dir/bin:$PATH" SLURM_JOB_ID=42 CALOR="$calor" CONFIG="$dir/job.toml" \
       CKPT="$dir/job.ckpt.h5" CKPT_EVERY=100000

# Seconds of work on one thread: long enough to interrupt twice, a second into each attempt
# (4000 steps, 2 s, no longer were once the tiled strips stepped in place), short enough for CI.
cat > "$dir/job.toml" <<EOF
preset = "stencil"
n = 1500
steps = $steps
threads = 1
EOF
: > "$dir/scontrol.log"

# Wait up to $2 seconds for PID $1 to end; its status lands in $status.
wait_for() {
  local end=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "still running after $2 s"
    sleep 0.1
  done
  wait "$1"
  status=$?
}

# Start attempt $1 of the batch script in the background; wait until calor has been running
# for a second. Sets $shell_pid and $task_pid.
start_attempt() {
  rm -f "$dir/task.pid"
  SLURM_RESTART_COUNT=$(($1 - 1)) bash "$sbatch_script" --save-npy "$dir/final.npy" \
    > "$dir/attempt$1.log" 2>&1 &
  shell_pid=$!
  started+=("$shell_pid")
  local end=$((SECONDS + 10))
  while [ ! -s "$dir/task.pid" ]; do
    [ $SECONDS -lt $end ] || fail "attempt $1: srun never ran"
    sleep 0.05
  done
  task_pid=$(cat "$dir/task.pid")
  started+=("$task_pid")
  sleep 1
  kill -0 "$task_pid" 2>/dev/null || fail "attempt $1: calor ended within 1 s; make job.toml bigger"
}

echo "attempt 1: SIGUSR1 to calor"
start_attempt 1
kill -USR1 "$task_pid"
wait_for "$shell_pid" 30
[ "$status" -eq 0 ] || fail "attempt 1: batch script exited $status, expected 0 after requeuing"
check "batch script exited 0"
grep -q "interrupted at step" "$dir/attempt1.log" || fail "attempt 1: calor did not report the interruption"
check "calor reported: $(grep -o 'interrupted at step [0-9]* of [0-9]*' "$dir/attempt1.log")"
[ "$(cat "$dir/scontrol.log")" = "requeue 42" ] || fail "scontrol log is '$(cat "$dir/scontrol.log")', expected 'requeue 42'"
check "scontrol requeue 42"
[ -f "$CKPT" ] || fail "attempt 1: no checkpoint at $CKPT"
check "checkpoint written"
[ ! -e "$dir/final.npy" ] || fail "attempt 1: an interrupted run wrote its final output"
check "no final output from the interrupted run"
! grep '^calor.sbatch: job' "$dir/attempt1.log" | grep -q -- "--restart" || fail "attempt 1 passed --restart without a checkpoint"
check "first attempt ran without --restart"

echo "attempt 2 (requeued): SIGUSR1 to the batch shell, forwarded to calor"
start_attempt 2
kill -USR1 "$shell_pid"
wait_for "$shell_pid" 30
[ "$status" -eq 0 ] || fail "attempt 2: batch script exited $status, expected 0 after requeuing"
check "batch script exited 0"
grep '^calor.sbatch: job' "$dir/attempt2.log" | grep -q -- "--restart $CKPT" || fail "attempt 2: not started with --restart"
from=$(grep -o 'restarted from .* at step [0-9]*' "$dir/attempt2.log" | grep -o '[0-9]*$')
to=$(grep -o 'interrupted at step [0-9]*' "$dir/attempt2.log" | grep -o '[0-9]*$')
[ -n "$from" ] || fail "attempt 2: calor did not report a restart"
[ -n "$to" ] || fail "attempt 2: the forwarded signal did not interrupt calor"
[ "$to" -gt "$from" ] || fail "attempt 2: no progress (restarted at $from, stopped at $to)"
check "restarted at step $from, interrupted at step $to"
[ "$(tr '\n' ';' < "$dir/scontrol.log")" = "requeue 42;requeue 42;" ] || fail "scontrol log: $(cat "$dir/scontrol.log")"
check "scontrol requeue 42 again"

echo "attempt 3 (requeued): runs to the end"
SLURM_RESTART_COUNT=2 bash "$sbatch_script" --save-npy "$dir/final.npy" > "$dir/attempt3.log" 2>&1 &
shell_pid=$!
started+=("$shell_pid")
wait_for "$shell_pid" 60
[ "$status" -eq 0 ] || fail "attempt 3: batch script exited $status, expected 0"
check "batch script exited 0"
from=$(grep -o 'restarted from .* at step [0-9]*' "$dir/attempt3.log" | grep -o '[0-9]*$')
[ "$from" = "$to" ] || fail "attempt 3: restarted at step '$from', expected $to"
check "restarted at step $from"
[ "$(wc -l < "$dir/scontrol.log")" -eq 2 ] || fail "a finished run was requeued"
check "not requeued"
[ -f "$dir/final.npy" ] || fail "attempt 3: no final field written"

echo "the same run in one go"
"$calor" run "$dir/job.toml" --save-npy "$dir/straight.npy" --no-progress > "$dir/straight.log" 2>&1 \
  || { cat "$dir/straight.log"; fail "the uninterrupted run failed"; }
summary() { grep -E '^  (steps|heat|min|max|l2) ' "$1"; }
[ "$(summary "$dir/attempt3.log")" = "$(summary "$dir/straight.log")" ] \
  || fail "summaries differ:$(diff <(summary "$dir/attempt3.log") <(summary "$dir/straight.log"))"
check "summary identical: $(summary "$dir/straight.log" | grep heat | tr -s ' ')"
cmp -s "$dir/final.npy" "$dir/straight.npy" || fail "final fields differ"
check "final field bit-identical"

echo "PASS: requeued twice (signal to calor, then to the batch shell), restarted, identical to the uninterrupted run"
