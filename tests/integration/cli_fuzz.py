#!/usr/bin/env python3
"""Command-line fuzz test (issue 17): a few hundred generated bad invocations of `calor`.

Each invocation runs in an empty directory. It passes when calor ends by itself (no signal, no
hang) with exit status 0, 1 or 2 (never 3, "internal error"), a failure says "calor: error" or
shows the usage, and it leaves no temporary file behind; a refused invocation (exit 2) leaves
no file at all. The invocations are generated from a fixed seed, so a failure reproduces:
    tests/integration/cli_fuzz.py CALOR [COUNT] [SEED]
Only the standard library: it runs before any Python environment exists.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

BAD_NUMBERS = ["-1", "0", "-0", "nan", "NaN", "inf", "-inf", "1e400", "1e-400", "abc", "",
               " ", "1.5", "0x10", "9223372036854775807", "9223372036854775808",
               "-9223372036854775808", "4294967296", "1,2,3,4", ",", "1,", ",1", "[1,2]", "{}",
               "\"1\"", "é", "\u00a0", "1" * 400, "--", "-", "true", "1e18", "3000000000"]
BAD_WORDS = ["", "x", "none", "SERIAL", "auto ", "cuda", "séquentiel", "../", "a" * 5000,
             "tiled,threads", "\\", "'", "\"", "#", "=", "[", "{"]
BAD_PATHS = ["", ".", "..", "/", "/nonexistent/dir/out.h5", "dir/", "exists_dir",
             "exists_dir/", "/proc/self/mem", "/dev/null", "x" * 5000, "out.h5",
             "out.xmf", "README.h5", "a\nb.h5"]
USERS_FILE = b"a user's file, not HDF5\n"
# Values too large for a quick run, but valid: never given to --steps (a run of 2**63 steps is
# not a hang).
BIG = {"9223372036854775807", "4294967296", "1e18", "3000000000"}
NUM_FLAGS = ["--n", "--steps", "--energy", "--dim", "--dt", "--alpha", "--h", "--threads",
             "--tile-depth", "--tile-width", "--output-every", "--png-every", "--checkpoint-every",
             "--check-every"]
WORD_FLAGS = ["--preset", "--form", "--backend", "--method", "--spectral-mode"]
PATH_FLAGS = ["--save-npy", "--output", "--png", "--checkpoint", "--restart"]
SET_KEYS = ["n", "steps", "boundary.all", "boundary.x_low", "initial.type", "initial.path",
            "sources", "output.path", "a.b.c", "", "=", "dim", "method", "backend",
            "boundary.x_low.type", "initial"]
SWITCHES = ["--json", "--no-progress", "--allow-unstable", "--force", "--overwrite", "--help"]


def invocation(rng):
    """A small run made bad in one to three places, or a bad render/info/bench/top level."""
    kind = rng.random()
    if kind < 0.12:
        return ["render", rng.choice(BAD_PATHS + ["README.md", "cfg.toml"])] + rng.choice(
            [[], ["--dataset", rng.choice(BAD_WORDS + BAD_NUMBERS)],
             ["--slice", rng.choice(BAD_NUMBERS)], ["-o", rng.choice(BAD_PATHS)]])
    if kind < 0.17:
        return rng.choice([["info", "--bogus"], ["bench"], ["bench", "nodes"], ["frobnicate"],
                           [], ["--stepz", "10"], ["run", "--stepz", "10"], ["-x"],
                           ["run", "cfg.toml", "extra.toml"], ["run", "missing.toml"],
                           ["run", "exists_dir"], ["bench", "node", "--sizes", "x"],
                           ["sweep", "cfg.toml"], ["sweep", "missing.toml"], ["sweep"],
                           ["sweep", "README.h5"], ["completion"], ["completion", "fish"],
                           ["man", "--bogus"], ["--version", "x"],
                           ["run", "--restart", "README.h5"], ["run", "--n", "8", "--png-range", "3,1"],
                           ["run", "--n", "8", "--png-log", "--png-range", "0,1", "--png", "f"]])
    args = ["run", "--n", "8", "--steps", "3", "--no-progress"]
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.35:
            flag = rng.choice(NUM_FLAGS)
            args += [flag, rng.choice([v for v in BAD_NUMBERS if flag != "--steps" or v not in BIG])]
        elif r < 0.5:
            args += [rng.choice(WORD_FLAGS), rng.choice(BAD_WORDS)]
        elif r < 0.7:
            args += [rng.choice(PATH_FLAGS), rng.choice(BAD_PATHS)]
        elif r < 0.85:
            values = [v for v in BAD_NUMBERS + BAD_WORDS if v not in BIG]
            args += ["--set", rng.choice(SET_KEYS) + "=" + rng.choice(values)]
        elif r < 0.93:
            args += ["cfg.toml"]
        else:
            args += [rng.choice(SWITCHES), rng.choice(NUM_FLAGS)]  # a flag missing its value
    return args


def prepare(work):
    """The directory each invocation starts in: a config file, a directory, a README."""
    with open(os.path.join(work, "cfg.toml"), "w") as f:
        f.write("dim = 2\nn = [9, 7]\nsteps = 2\n[initial]\ntype = \"npy\"\n")
    os.mkdir(os.path.join(work, "exists_dir"))
    with open(os.path.join(work, "README.h5"), "wb") as f:
        f.write(USERS_FILE)
    return set(os.listdir(work)) | {"exists_dir/"}


def listing(work):
    names = set(os.listdir(work))
    names |= {"exists_dir/" + n for n in os.listdir(os.path.join(work, "exists_dir"))}
    return names | {"exists_dir/"} if os.path.isdir(os.path.join(work, "exists_dir")) else names


def check(calor, args, work, before):
    """'' if the invocation behaved, else what went wrong."""
    try:
        p = subprocess.run([calor] + args, cwd=work, capture_output=True, timeout=60,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
    except subprocess.TimeoutExpired:
        return "did not end within 60 s"
    err = p.stderr.decode("utf-8", "replace")
    files = listing(work) - before
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}"
    if p.returncode not in (0, 1, 2):
        return f"exit status {p.returncode}"
    if "internal error" in err:
        return "an internal error"
    if p.returncode != 0 and "calor: error" not in err and "Usage:" not in err + p.stdout.decode(
            "utf-8", "replace"):
        return "no message"
    leftovers = [f for f in files if f.endswith(".tmp")]
    if leftovers:
        return f"left temporary files {sorted(leftovers)}"
    if p.returncode == 2 and files:
        return f"refused, but left files {sorted(files)}"
    readme = os.path.join(work, "README.h5")
    if not os.path.exists(readme) or open(readme, "rb").read() != USERS_FILE:
        return "replaced the user's README.h5"
    return ""


def main():
    calor = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 17
    rng = random.Random(seed)
    failures = []
    for i in range(count):
        args = invocation(rng)
        work = tempfile.mkdtemp(prefix="calor_cli_fuzz_")
        try:
            before = prepare(work)
            problem = check(calor, args, work, before)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if problem:
            failures.append((i, args, problem))
            print(f"FAIL #{i}: {problem}: calor {' '.join(repr(a) for a in args)}"[:400])
    print(f"{count} invocations (seed {seed}): {count - len(failures)} behaved, "
          f"{len(failures)} did not")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
