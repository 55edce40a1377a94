"""Runs several approaches on one case and prints a Markdown table of their time loops
(best of --repeat runs), checking on the way that every final field has the same bits.

    .venv/bin/python bench/approaches/compare.py --n 480 --steps 50 --repeat 3
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import approaches
from case import ENERGY, summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=480)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--energy", type=float, default=ENERGY)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="for the threaded approaches")
    p.add_argument("--approaches", nargs="+", default=list(approaches.APPROACHES),
                   choices=list(approaches.APPROACHES), metavar="NAME")
    args = p.parse_args(argv)

    print(f"n = {args.n}, {args.steps} steps, best of {args.repeat}\n")
    print("| approach | threads | seconds | MLUP/s | vs numpy | compile s | heat |")
    print("|---|---|---|---|---|---|---|")
    first, rows, same = None, [], True
    for name in args.approaches:
        approach = approaches.get(name)
        threads = args.threads if approach.threaded else 1
        results = [approach.run(args.n, args.steps, args.energy, threads)
                   for _ in range(args.repeat)]
        field = results[0]["field"]
        if first is None:
            first = field
        same = same and np.array_equal(field.view(np.uint64), first.view(np.uint64))
        rows.append((name, threads, min(r["seconds"] for r in results),
                     results[0]["compile_seconds"], summary(field)["heat"]))
    numpy_seconds = {name: s for name, _, s, _, _ in rows}.get("numpy")
    for name, threads, seconds, compile_seconds, heat in rows:
        mlups = args.n * args.n * args.steps / seconds / 1e6
        ratio = f"{numpy_seconds / seconds:.2f}x" if numpy_seconds else "-"
        print(f"| {name} | {threads} | {seconds:.4f} | {mlups:.1f} | {ratio} | "
              f"{compile_seconds:.3f} | {heat!r} |")
    print(f"\nall final fields identical bit for bit: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
