"""Runs the stencil case with one approach and prints one JSON object: name, n, steps, energy,
threads, ranks, dims, seconds (time loop only), compile_seconds, heat, l2, max, mlups.

    .venv/bin/python bench/approaches/run_approach.py --approach numba --n 480 --steps 50
"""

from __future__ import annotations

import sys

import approaches


def main(argv: list[str] | None = None) -> int:
    args = approaches.parser(__doc__.splitlines()[0]).parse_args(argv)
    approach = approaches.get(args.approach)
    if args.threads != 1 and not approach.threaded:
        print(f"run_approach: {args.approach} runs on one thread; --threads must be 1",
              file=sys.stderr)
        return 2
    approaches.report(args, approach.run(args.n, args.steps, args.energy, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
