"""What calling calor from Python costs, measured (not asserted).

1. sim.step(1) on a 1x1 grid from Python against Solver::step(1) timed inside C++ (the same
   binary, so the difference is the Python call: argument conversion, GIL release, the signal
   check and the chunk bookkeeping).
2. The case study through calor.Simulation.run() against `calor run --json` (the command line's
   own stepping time), alternating the two so that a noisy machine hits both alike.

Usage (from the repository root, after `.venv/bin/pip install .`):
    .venv/bin/python python/benchmarks/overhead.py                   # N=4800, 500 steps, 3 rounds
    .venv/bin/python python/benchmarks/overhead.py --n 1200 --rounds 5 --cli build/bin/calor
Prints one JSON object at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import calor

ROOT = Path(__file__).resolve().parents[2]


def step_overhead(backend: str, calls: int, rounds: int) -> dict:
    """Seconds per step(1) call from Python and from C++ on a 1x1 grid, interleaved."""
    problem = calor.Problem(preset="none", dim=2, n=1, steps=1)
    sim = calor.Simulation(problem, backend=backend)
    step = sim.step
    py, cpp = [], []
    sim._time_step_in_cpp(calls)  # warm up
    for _ in range(rounds):
        cpp.append(sim._time_step_in_cpp(calls))
        t0 = time.perf_counter()
        for _ in range(calls):
            step(1)
        py.append((time.perf_counter() - t0) / calls)
    best_py, best_cpp = min(py), min(cpp)
    return {"backend": sim.backend, "threads": sim.threads, "calls": calls,
            "python_ns": best_py * 1e9, "cpp_ns": best_cpp * 1e9,
            "overhead_ns": (best_py - best_cpp) * 1e9,
            "python_ns_median": statistics.median(py) * 1e9,
            "cpp_ns_median": statistics.median(cpp) * 1e9}


def case_study(cli: Path, n: int, steps: int, rounds: int, threads: int) -> dict:
    """Stepping seconds of the case study: calor run --json against Simulation.run()."""
    problem = calor.presets.stencil(n=n, steps=steps, threads=threads)
    rows = []
    for _ in range(rounds):
        out = subprocess.run([str(cli), "run", "--preset", "stencil", "--n", str(n), "--steps",
                              str(steps), "--threads", str(threads), "--json", "--no-progress"],
                             capture_output=True, text=True, check=True)
        record = json.loads(out.stdout)
        sim = calor.Simulation(problem)
        seconds = sim.run(progress=False)
        stats = sim.stats()
        assert (stats.heat, stats.l2) == (record["heat"], record["l2"]), "different results"
        rows.append({"cli_s": record["seconds"], "python_s": seconds,
                     "ratio": seconds / record["seconds"], "cli_backend": record["backend"],
                     "python_backend": sim.backend})
    ratios = [r["ratio"] for r in rows]
    return {"n": n, "steps": steps, "threads": threads, "rounds": rows,
            "best_cli_s": min(r["cli_s"] for r in rows),
            "best_python_s": min(r["python_s"] for r in rows),
            "median_ratio": statistics.median(ratios),
            "overhead_percent_of_bests": 100 * (min(r["python_s"] for r in rows)
                                                / min(r["cli_s"] for r in rows) - 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=4800)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for both (0 = the default; 1 is steadier on a busy machine)")
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--cli", type=Path, default=ROOT / "build" / "bin" / "calor")
    args = ap.parse_args()

    result = {"calor": calor.__version__, "flags": calor.build_flags,
              "step_overhead": [step_overhead(b, args.calls, 5) for b in ("serial", "auto")]}
    for r in result["step_overhead"]:
        print(f"step(1) on 1x1, {r['backend']} ({r['threads']} threads): Python "
              f"{r['python_ns']:.0f} ns, C++ {r['cpp_ns']:.0f} ns, the call adds "
              f"{r['overhead_ns']:.0f} ns", file=sys.stderr)
    if args.cli.is_file():
        cs = case_study(args.cli, args.n, args.steps, args.rounds, args.threads)
        result["case_study"] = cs
        for r in cs["rounds"]:
            print(f"case study N={args.n}, {args.steps} steps, threads={args.threads}: CLI {r['cli_s']:.3f} s "
                  f"({r['cli_backend']}), Python {r['python_s']:.3f} s ({r['python_backend']}),"
                  f" ratio {r['ratio']:.4f}", file=sys.stderr)
        print(f"median ratio {cs['median_ratio']:.4f}; best Python vs best CLI "
              f"{cs['overhead_percent_of_bests']:+.2f}%", file=sys.stderr)
    else:
        print(f"no command line at {args.cli}: case study skipped", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
