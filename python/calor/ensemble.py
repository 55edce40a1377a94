"""Many runs at once: a parameter sweep, an uncertainty study, a class of thirty students.

    import calor.ensemble as ens
    members = ens.sweep(dict(preset="stencil", steps=200), n=[240, 480], energy=[1.0, 2.0])
    table = ens.run(members)          # a pandas DataFrame, one row per member

Each member is a dict of calor.Problem keyword settings. It is built and run on a worker from
that plain dict: nothing native is pickled, and the engine releases the GIL while it steps. A
member that fails (a bad setting, a blow-up) gets its error in its row; the others go on.
Fields are written to one HDF5 file per member on request (output_dir=...); only the summary
travels back.

The engine is dask.distributed (a LocalCluster sized so that members x threads never exceed
the cores, unless `scheduler` names another): `scheduler="tcp://host:port"` or a
distributed.Client runs the same sweep on a cluster, e.g. one that dask-jobqueue starts on SLURM:

    from dask_jobqueue import SLURMCluster
    from distributed import Client
    cluster = SLURMCluster(cores=8, memory="16GB", walltime="01:00:00")
    cluster.scale(jobs=4)
    table = ens.run(members, scheduler=Client(cluster), threads=8)

Any concurrent.futures.Executor works too (ProcessPoolExecutor, mpi4py's MPIPoolExecutor).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from concurrent.futures import Executor
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

__all__ = ["sweep", "run", "run_member"]


def sweep(base: Optional[Mapping[str, Any]] = None, **axes: Sequence[Any]) -> list[dict]:
    """The members of a sweep: `base` with every combination of the `axes` values, the last
    axis varying fastest. sweep({"steps": 50}, alpha=[0.5, 1.0], n=[64, 128]) gives 4 members."""
    base = dict(base or {})
    names = list(axes)
    for name in names:
        if isinstance(axes[name], (str, bytes)) or not isinstance(axes[name], Iterable):
            raise TypeError(f"sweep: {name}= needs a list of values, got {axes[name]!r}")
    return [{**base, **dict(zip(names, values))}
            for values in itertools.product(*(list(axes[n]) for n in names))]


def run_member(index: int, settings: Mapping[str, Any], threads: int = 1,
               output_dir: Optional[str] = None) -> dict:
    """Runs one member where it is called (a worker) and returns its row: the settings, the
    statistics, the step reached, the wall time, and status "ok" or "failed" with the error."""
    import calor  # on the worker

    row: dict[str, Any] = {"member": index, **{k: _plain(v) for k, v in settings.items()}}
    start = time.perf_counter()
    try:
        kwargs = dict(settings)
        if output_dir is not None:
            path = os.path.join(os.fspath(output_dir), f"member_{index:05d}.h5")
            kwargs["output"] = {**dict(kwargs.get("output") or {}), "path": path}
            row["file"] = path
        sim = calor.Simulation(calor.Problem(**kwargs), threads=threads, overwrite=True)
        sim.run(progress=False)
        st = sim.stats()
        row.update(heat=st.heat, min=st.min, max=st.max, l2=st.l2, reached=sim.step_count,
                   status="ok", error="")
    except Exception as e:  # a member's failure is its row's, never the sweep's
        row.update(heat=float("nan"), min=float("nan"), max=float("nan"), l2=float("nan"),
                   reached=0, status="failed", error=f"{type(e).__name__}: {e}")
    row["seconds"] = time.perf_counter() - start
    return row


def _plain(v: Any) -> Any:
    """A setting as a table cell: lists and dicts as their text."""
    return v if isinstance(v, (int, float, str, bool)) or v is None else repr(v)


def run(members: Sequence[Mapping[str, Any]], *, scheduler: Union[None, str, Any] = None,
        threads: int = 1, output_dir: Union[None, str, "os.PathLike[str]"] = None,
        progress: bool = True, retries: int = 2):
    """Runs every member and returns a pandas DataFrame, one row per member in order.

    scheduler: None starts a dask LocalCluster of cores // threads single-threaded workers (so
    that members x threads never oversubscribe the machine) and closes it after; a
    "tcp://host:port" address or a distributed.Client uses that cluster; a
    concurrent.futures.Executor runs the members on it. threads: engine threads per member.
    output_dir: write each member's final field to output_dir/member_NNNNN.h5. retries: how
    often dask resubmits a member whose worker died (a member's own error is not retried).
    progress: a bar across members (tqdm's when it is installed, else a line on stderr).
    """
    import pandas as pd

    members = [dict(m) for m in members]
    if output_dir is not None:
        output_dir = os.fspath(output_dir)
        os.makedirs(output_dir, exist_ok=True)
    if isinstance(scheduler, Executor):
        rows = _on_executor(scheduler, members, threads, output_dir, progress)
    else:
        rows = _on_dask(scheduler, members, threads, output_dir, progress, retries)
    return pd.DataFrame(sorted(rows, key=lambda r: r["member"]))


def _collect(futures: list, members: list, progress: bool, as_completed) -> list:
    """The rows as members finish; a member whose worker died past its retries (a crash in
    native code, the kernel's OOM killer) gets a failed row, so the others are kept."""
    index = {id(f): i for i, f in enumerate(futures)}
    rows = []
    bar = _Progress(len(futures)) if progress else None
    for f in as_completed(futures):
        try:
            rows.append(f.result())
        except Exception as e:
            i = index[id(f)]
            rows.append({"member": i, **{k: _plain(v) for k, v in members[i].items()},
                         "heat": float("nan"), "min": float("nan"), "max": float("nan"),
                         "l2": float("nan"), "reached": 0, "status": "failed",
                         "error": f"its worker died: {type(e).__name__}: {e}", "seconds": 0.0})
        if bar is not None:
            bar.update(rows[-1]["status"] != "ok")
    if bar is not None:
        bar.close()
    return rows


class _Progress:
    """A progress bar across members: tqdm's (which also draws in notebooks) when tqdm is
    installed, else one line on stderr redrawn in place, with the failures and an estimate of
    the time left."""

    def __init__(self, total: int):
        self.total, self.done, self.failed = total, 0, 0
        self.start = time.perf_counter()
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.tqdm = None
        else:
            self.tqdm = tqdm(total=total, desc="calor.ensemble", unit="member")
        self._draw()

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        if self.tqdm is not None:
            self.tqdm.update(1)
            self.tqdm.set_postfix(failed=self.failed, refresh=False)
        self._draw()

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.total:
            print(file=sys.stderr, flush=True)

    def line(self) -> str:
        """The text bar: [#####.....] 5/10 members, 1 failed, 3.2 s, about 3 s left."""
        width = 20
        filled = width * self.done // self.total if self.total else width
        elapsed = time.perf_counter() - self.start
        text = (f"calor.ensemble [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} members")
        if self.failed:
            text += f", {self.failed} failed"
        text += f", {elapsed:.1f} s"
        if 0 < self.done < self.total:
            text += f", about {elapsed / self.done * (self.total - self.done):.0f} s left"
        return text

    def _draw(self) -> None:
        if self.tqdm is None and self.total:
            print("\r" + self.line(), end="", file=sys.stderr, flush=True)


def _cores() -> int:
    """The cores this process may run on (its affinity mask: a batch job's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _on_executor(executor: Executor, members: list, threads: int, output_dir: Optional[str],
                 progress: bool) -> list:
    from concurrent.futures import as_completed

    futures = [executor.submit(run_member, i, m, threads, output_dir)
               for i, m in enumerate(members)]
    return _collect(futures, members, progress, as_completed)


def _on_dask(scheduler: Any, members: list, threads: int, output_dir: Optional[str],
             progress: bool, retries: int) -> list:
    from distributed import Client, LocalCluster, as_completed

    own_cluster = None
    if scheduler is None:
        workers = max(1, _cores() // max(1, threads))
        own_cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        client = Client(own_cluster)
    elif isinstance(scheduler, str):
        client = Client(scheduler)
    else:
        client = scheduler
    try:
        # pure=False: equal settings are still separate members.
        futures = [client.submit(run_member, i, m, threads, output_dir, retries=retries,
                                 pure=False) for i, m in enumerate(members)]
        return _collect(futures, members, progress, as_completed)
    finally:
        if own_cluster is not None or isinstance(scheduler, str):
            client.close()
        if own_cluster is not None:
            own_cluster.close()
