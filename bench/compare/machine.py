"""What the comparison ran on: CPU, cores, caches, memory, load, tool and library versions, and
the measured copy bandwidth that the roofline column is set against.

Copy bandwidth is measured here, from Python, by timing ``numpy.copyto`` of one float64 array
into another, both well beyond the last-level cache (8x LLC, at least 64 MiB; 4x in quick
mode), counting 16 bytes per element (one read, one write: exactly one stencil update's
traffic, as calor::measure_copy_bandwidth counts), best of 7. The multi-thread figure splits
the arrays into one contiguous slice per Python thread, released together by a barrier; NumPy
releases the GIL while it copies, so the slices are copied concurrently. numpy.copyto is
glibc's memcpy: on the development machine it matches calor's streaming-store copy on one
thread and reaches about 0.7 of it on two. (--bandwidth calor parses
``calor bench node --quick`` instead, which times calor's own streaming-store copy loop.)
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

#: Python packages whose versions are recorded (distribution names).
PACKAGES = ["numpy", "numba", "cython", "devito", "pystencils", "mpi4py", "sympy", "matplotlib",
            "numba-cuda", "cupy-cuda13x", "pycuda"]


def cores() -> int:
    """CPUs this process may run on (the affinity mask), which is what MPI and OpenMP get."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The "model name" line of /proc/cpuinfo (or platform.processor())."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo."""
    try:
        pairs, physical = set(), "0"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical = value.strip()
            elif key == "core id":
                pairs.add((physical, value.strip()))
        return len(pairs) or None
    except OSError:
        return None


def last_level_cache_bytes() -> int:
    """Size of the highest cache level of CPU 0 from sysfs (32 MiB if unknown)."""
    best = 0
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        match = re.fullmatch(r"(\d+)([KMG]?)", text)
        if match:
            scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)]
            best = max(best, int(match.group(1)) * scale)
    return best or 32 << 20


def memory_bytes() -> int | None:
    """MemTotal from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _first_line(command: list[str]) -> str | None:
    """The first non-empty line a command prints, or None if it cannot run."""
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in (done.stdout + done.stderr).splitlines():
        if line.strip():
            return line.strip()
    return None


def versions(calor: Path | None) -> dict:
    """Compiler, MPI and library versions; None for what is not there."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["gfortran"] = _first_line(["gfortran", "--version"])
    found["gcc"] = _first_line(["gcc", "--version"])
    found["open_mpi"] = _first_line(["mpiexec", "--version"])
    found["calor"] = None
    if calor is not None and calor.exists():
        try:
            info = subprocess.run([str(calor), "info"], capture_output=True, text=True,
                                  timeout=60).stdout
            lines = [line.strip() for line in info.splitlines()]
            found["calor"] = "; ".join(line for line in lines
                                       if line.startswith(("calor ", "compiler", "build")))
        except (OSError, subprocess.SubprocessError):
            pass
    return found


def numpy_copy_bandwidth(nbytes: int, threads: int, reps: int = 7) -> dict:
    """GB/s of numpy.copyto of nbytes into another array on `threads` Python threads, 16 B per
    element, best of reps; with the spread (worst - best) / best. The threads are started once
    and released together by a barrier each repetition, so that only the copies are timed; the
    destination is written once beforehand, so that no page is first touched while timed."""
    n = max(nbytes // 8, threads)
    src = np.arange(n, dtype=np.float64)
    dst = np.empty(n)
    dst.fill(1.0)
    edges = np.linspace(0, n, threads + 1).astype(np.int64)
    slices = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
    barrier = threading.Barrier(threads + 1)

    def copy(part: slice) -> None:
        for _ in range(reps):
            barrier.wait()
            np.copyto(dst[part], src[part])
            barrier.wait()

    workers = [threading.Thread(target=copy, args=(part,)) for part in slices]
    for worker in workers:
        worker.start()
    times = []
    for _ in range(reps):
        barrier.wait()
        start = time.perf_counter()
        barrier.wait()
        times.append(time.perf_counter() - start)
    for worker in workers:
        worker.join()
    best = min(times)
    return {"gbs": 16 * n / best / 1e9, "spread": (max(times) - best) / best, "threads": threads,
            "bytes_per_array": 8 * n, "repetitions": reps}


def cpu_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have been busy (user, nice, system, irq,
    softirq, steal of /proc/stat), summed over CPUs; None where there is no /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its waited-for descendants (MPI ranks included)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def calor_copy_bandwidth(calor: Path) -> dict[int, dict]:
    """Parses `calor bench node --quick`: {threads: {"gbs": streaming-store copy GB/s, ...}}."""
    done = subprocess.run([str(calor), "bench", "node", "--quick"], capture_output=True,
                          text=True, timeout=1800, check=True)
    found = {}
    for match in re.finditer(r"^\s*(\d+) threads?\s*:\s*([\d.]+) GB/s with streaming stores"
                             r" \(spread (\d+)%\)", done.stdout, re.MULTILINE):
        found[int(match.group(1))] = {"gbs": float(match.group(2)),
                                      "spread": float(match.group(3)) / 100,
                                      "threads": int(match.group(1))}
    if not found:
        raise RuntimeError("could not find the copy bandwidth in `calor bench node --quick`:\n"
                           + done.stdout[-2000:])
    return found


def bandwidth(method: str, threads: int, quick: bool, calor: Path | None) -> dict:
    """{"method": ..., "by_threads": {"1": {...}, str(threads): {...}}}: the copy bandwidth at
    one thread and at `threads` threads."""
    counts = sorted({1, threads})
    if method == "calor":
        if calor is None or not calor.exists():
            raise RuntimeError("--bandwidth calor needs the calor binary (--calor PATH)")
        measured = calor_copy_bandwidth(calor)
        by_threads = {str(t): measured.get(t) or measured[max(measured)] for t in counts}
        how = "calor bench node --quick: calor's streaming-store copy loop, 16 B per element"
    else:
        llc = last_level_cache_bytes()
        nbytes = max((4 if quick else 8) * llc, 64 << 20)
        by_threads = {str(t): numpy_copy_bandwidth(nbytes, t) for t in counts}
        how = (f"numpy.copyto of a {nbytes >> 20} MiB float64 array (one contiguous slice per "
               "Python thread, GIL released, threads released together), 16 B per element, "
               "best of 7")
    return {"method": method, "how": how, "by_threads": by_threads}


def describe(calor: Path | None) -> dict:
    """Everything about the machine except the bandwidth."""
    return {
        "cpu_model": cpu_model(),
        "cores": cores(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": physical_cores(),
        "last_level_cache_bytes": last_level_cache_bytes(),
        "memory_bytes": memory_bytes(),
        "platform": platform.platform(),
        "python_executable": sys.executable,
        "versions": versions(calor),
        "load_average_at_start": load_average(),
    }
