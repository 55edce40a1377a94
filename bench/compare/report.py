"""report.md and the PNG plots from compare.py's results (the dict it writes as results.json).

    .venv/bin/python bench/compare/report.py out/compare     # redraw from results.json

Tables, as in the study: time; speed-up over the sequential Fortran program; parallel
efficiency. Columns: Seq (the program alone, no MPI) and each MPI rank count; rows: one per
approach and thread count. Plots in the style of the study's figures: time, speed-up and
efficiency against the process count (log axes where the values span decades), one line per
approach, and a bar chart of the sequential times.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import study

PLOTS = {"time": "time_vs_processes.png", "speedup": "speedup_vs_processes.png",
         "efficiency": "efficiency_vs_processes.png", "sequential": "sequential_times.png"}


# ----------------------------------------------------------------------------- helpers


def columns(results: dict) -> list[str]:
    return ["seq"] + [str(r) for r in results["case"]["ranks"]]


def header(column: str, cores: int) -> str:
    if column == "seq":
        return "Seq"
    p = int(column)
    text = f"{p} rank" + ("s" if p != 1 else "")
    return text + (" (oversubscribed)" if p > cores else "")


def fmt_seconds(t: float) -> str:
    if t >= 100:
        return f"{t:.0f}"
    if t >= 10:
        return f"{t:.1f}"
    if t >= 1:
        return f"{t:.2f}"
    return f"{t:.3g}"


def status_text(cell: dict | None) -> str | None:
    """What a cell shows instead of a number, or None if it has a number."""
    if cell is None:
        return "–"
    if cell["status"] == "WRONG":
        return "**WRONG**"
    if cell["status"] in ("failed", "timeout"):
        return cell["status"]
    if cell["status"] == "skipped":
        # A GPU row that could not run says why in short ("not run: no GPU"); Notes say more.
        note = cell.get("note") or ""
        return note.split(" (")[0] if note.startswith("not run") else "skipped"
    if cell["best"] is None:
        return "–"
    return None


def time_text(cell: dict | None) -> str:
    shown = status_text(cell)
    if shown:
        return shown
    text = fmt_seconds(cell["best"])
    if cell["spread"] is not None and len(cell["times"]) > 1:
        text += f" ±{100 * cell['spread']:.0f}%"
    if cell["extrapolated"]:
        text += " (extrapolated)"
    return text


def ratio_text(cell: dict | None, key: str, digits: int = 2) -> str:
    shown = status_text(cell)
    if shown:
        return shown
    value = cell[key]
    if value is None:
        return "–"
    text = f"{value:.{digits}f}" if abs(value) >= 0.1 else f"{value:.2g}"
    return text + (" (extrapolated)" if cell["extrapolated"] else "")


def best_cell(row: dict) -> dict | None:
    """The row's fastest verified cell."""
    ok = [c for c in row["cells"].values() if c["status"] == "ok" and c["best"]]
    return min(ok, key=lambda c: c["best"]) if ok else None


def check_text(row: dict) -> str:
    cells = [c for c in row["cells"].values() if c["status"] in ("ok", "WRONG")]
    if not cells:
        return "–"
    if any(c["status"] == "WRONG" for c in cells):
        return "**WRONG**"
    if all(c["bits_identical"] for c in cells):
        return "identical bits"
    worst = max(max(c["rel_errors"].values()) for c in cells)
    if worst == 0:
        return "same heat/L2/max, other bits differ"
    return f"within {worst:.0e} rel., bits differ"


def row_label(row: dict) -> str:
    return row["label"]


def machine_lines(results: dict) -> list[str]:
    m = results["machine"]
    bw = results["bandwidth"]
    v = m["versions"]
    gib = (m["memory_bytes"] or 0) / 2**30
    lines = [
        f"- CPU: {m['cpu_model']}, {m['cores']} cores available to this run "
        f"({m['logical_cpus']} logical CPUs, {m['physical_cores']} physical cores), last-level "
        f"cache {m['last_level_cache_bytes'] >> 20} MiB, {gib:.0f} GiB memory; {m['platform']}",
        "- Copy bandwidth (the roofline): " + ", ".join(
            f"{t} thread{'s' if t != '1' else ''}: {x['gbs']:.2f} GB/s"
            for t, x in bw["by_threads"].items()) + f" — measured with {bw['how']}",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
    ]
    during = m.get("load_average_during")
    load = (f"- Load average (1 min): {m['load_average_at_start']:.2f} at the start"
            + (f", {during[0]:.2f}–{during[1]:.2f} while measuring" if during else "")
            + (f", {m['load_average_at_end']:.2f} at the end" if m.get("load_average_at_end")
               is not None else ""))
    load += " (this includes the study's own processes)."
    lines.append(load)
    foreign = m.get("foreign_cores")
    if foreign:
        text = (f"- Other processes' CPU use while measuring (/proc/stat busy time minus this "
                f"harness's own): {foreign['mean']:.2f} cores on average, {foreign['max']:.2f} "
                f"at most, above 0.25 cores in {foreign['cells_above_0.25']} of "
                f"{foreign['cells']} measurements")
        if foreign["max"] > 0.25:
            text += (f". **The machine was shared**: other work (e.g. concurrent builds) ran "
                     f"beside this study on its {m['cores']} cores, so the timings of those "
                     "measurements (column foreign_cores of results.csv), above all the "
                     "multi-thread and multi-rank ones, carry that noise.")
        else:
            text += ": the machine was otherwise quiet."
        lines.append(text)
    elif during and during[1] > 0.5 + m["cores"]:
        lines.append("- **The machine was shared**: the load average exceeded what this "
                     "study's own processes account for.")
    for update in results.get("updates", []):
        foreign = update.get("foreign_cores_max")
        lines.append(f"- Re-measured on {update['at']} (`compare.py --update`): rows "
                     f"{', '.join(update['rows'])}"
                     + (f"; other processes used at most {foreign:.2f} cores meanwhile"
                        if foreign is not None else "") + ".")
    return lines


# ----------------------------------------------------------------------------- markdown


def markdown(results: dict, plots: list[str]) -> str:
    c = results["case"]
    m = results["machine"]
    cores = m["cores"]
    cols = columns(results)
    rows = results["rows"]
    out = [
        "# The comparison study on this machine",
        "",
        *(["> **Quick run (N = " + str(c["n"]) + f", {c['steps']} steps): these timings are not "
           "meaningful.** At this size every field fits in the cache and start-up costs "
           "dominate; the run only shows that every approach works and agrees with the "
           "reference. Run without --quick for the study's figures.", ""] if c["quick"] else []),
        f"2D heat diffusion, 5-point stencil, N = {c['n']}, {c['steps']} steps "
        f"({c['updates']:.4g} cell updates), best of {c['repeat']}"
        + (" — **quick run (reduced size)**" if c["quick"] else "") + ". Generated "
        f"{results['created']} by `{results['command']}` in {results['elapsed_seconds']:.0f} s.",
        "",
        *machine_lines(results),
        f"- Reference: {results['reference']['source']}: heat {results['reference']['heat']!r}, "
        f"L2 {results['reference']['l2']!r}, max {results['reference']['max']!r}. Every "
        f"measurement's final field is checked against it: heat, L2 and max within "
        f"{results['tolerance']:g} relative, else **WRONG**; 'identical bits' means the whole "
        "field is the reference's bit for bit.",
        f"- Fortran program: {results['fortran']}"
        + (f"; under MPI: {results['fortran_mpi']}" if results.get("fortran_mpi")
           and not results["fortran_mpi"].startswith("not requested") else "") + ".",
        "- Times: the programs' own wall time of the time loop, after setup and JIT (JIT/build "
        "reported apart); best of the repetitions, ± the spread (worst − best) / best. "
        "Sequential rows run with one thread enforced (OMP_NUM_THREADS=NUMBA_NUM_THREADS=1); "
        "MPI columns run one thread per rank. "
        f"Ranks above {cores} are oversubscribed on this machine's {cores} cores.",
        "",
        "## 1. Time (seconds)",
        "",
        "| approach | threads | " + " | ".join(header(x, cores) for x in cols)
        + " | best MLUP/s | roofline | JIT/build s | lines | check |",
        "|---|---|" + "---|" * len(cols) + "---|---|---|---|---|",
    ]
    for row in rows:
        best = best_cell(row)
        seq = row["cells"].get("seq")
        jit = (f"{seq['compile_seconds']:.2f}" if seq and seq.get("compile_seconds") is not None
               else "–")
        mlups = f"{best['mlups']:.0f}" if best and best["mlups"] else "–"
        roof = f"{100 * best['roofline']:.0f}%" if best and best["roofline"] else "–"
        if best and best["extrapolated"]:
            mlups += " (extrapolated)"
        out.append(f"| {row_label(row)} | {row['threads']} | "
                   + " | ".join(time_text(row["cells"].get(x)) for x in cols)
                   + f" | {mlups} | {roof} | {jit} | {row.get('lines') or '–'} | "
                   f"{check_text(row)} |")
    out += [
        "",
        "lines: lines of code (not blank, not comments) of the approach's kernel and, with "
        "MPI columns, of the MPI driver it shares with the others: the study weighed effort "
        "against speed. calor's row counts what its user writes.",
        "",
        "best MLUP/s: N²·steps / time of the row's fastest verified cell; roofline: that "
        "MLUP/s × 16 B per update / the copy bandwidth at the same number of cores (above 100% "
        "means the backend reuses cells in cache across steps: temporal blocking). A GPU row's "
        "roofline is the device's own copy bandwidth instead (see GPU rows).",
        "",
        *gpu_section(results),
        "## 2. Speed-up over the sequential Fortran program",
        "",
        "| approach | threads | " + " | ".join(header(x, cores) for x in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for row in rows:
        out.append(f"| {row_label(row)} | {row['threads']} | "
                   + " | ".join(ratio_text(row["cells"].get(x), "speedup") for x in cols) + " |")
    out += [
        "",
        "## 3. Parallel efficiency",
        "",
        "T(the same approach, one thread, no MPI) / (ranks × threads × T). Oversubscribed "
        "columns share cores, so their efficiency is bounded by cores / (ranks × threads).",
        "",
        "| approach | threads | " + " | ".join(header(x, cores) for x in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for row in rows:
        out.append(f"| {row_label(row)} | {row['threads']} | "
                   + " | ".join(ratio_text(row["cells"].get(x), "efficiency") for x in cols)
                   + " |")
    out += ["", *ratios_section(results), "", *study_section(results)]
    if plots:
        out += ["", "## Plots", ""]
        for name in plots:
            out.append(f"![{name[:-4].replace('_', ' ')}]({name})")
            out.append("")
    notes = [(row, col, cell) for row in rows for col, cell in row["cells"].items()
             if cell.get("note")]
    if notes:
        out += ["", "## Notes", ""]
        for row, col, cell in notes:
            out.append(f"- {row_label(row)} @{row['threads']} thread(s), "
                       f"{header(col, cores)}: {cell['status']}: {cell['note']}")
    return "\n".join(out) + "\n"


def gpu_section(results: dict) -> list[str]:
    """The GPU rows beside the device's copy bandwidth: kernel, time loop and end-to-end
    times, or why a row did not run; [] when no GPU row was planned."""
    rows = [r for r in results["rows"] if r["kind"] == "gpu"]
    if not rows:
        return []
    device = results.get("gpu_bandwidth") or {"measured": False, "why": "not recorded"}
    out = ["## GPU rows", "",
           "GPU copy bandwidth (the GPU rows' roofline): "
           + (f"{device['gbs']:.1f} GB/s on {device['device']} — {device['how']}."
              if device["measured"] else f"not measured: {device['why']}."), "",
           "Seconds, best of the repetitions. kernel: the kernels alone; loop: the time loop "
           "(table 1's time); end to end: the loop plus copying the fields to the device and "
           "back. roofline: the kernels' MLUP/s × 16 B per update / the device copy bandwidth. "
           "numba-cuda-hostloop is the published study's GPU version: each step it copies the "
           "field to the host, adds the energy there in a Python loop and copies it back, and "
           "those copies, not the kernel, made up most of the study's GPU time.", "",
           "| approach | kernel | loop | end to end | kernel MLUP/s | roofline | how |",
           "|---|---|---|---|---|---|---|"]
    for row in rows:
        cell = row["cells"]["seq"]
        shown = status_text(cell)
        if shown:
            out.append(f"| {row_label(row)} | {shown} | – | – | – | – | {row['about']} |")
            continue
        kernel, whole = cell.get("kernel_best"), cell.get("end_to_end_best")
        roof = cell.get("kernel_roofline")
        mlups = cell["n"] * cell["n"] * cell["steps"] / kernel / 1e6 if kernel else None
        out.append(f"| {row_label(row)} | {fmt_seconds(kernel) if kernel else '–'} | "
                   f"{time_text(cell)} | {fmt_seconds(whole) if whole else '–'} | "
                   f"{f'{mlups:.0f}' if mlups else '–'} | "
                   f"{f'{100 * roof:.0f}%' if roof else '–'} | {row['about']} |")
    return out + [""]


def _pick(rows: list[dict], predicate, column: str) -> dict | None:
    """The fastest verified cell in `column` among the rows that satisfy predicate."""
    found = [(r, r["cells"][column]) for r in rows if predicate(r) and column in r["cells"]
             and r["cells"][column]["status"] == "ok" and r["cells"][column]["best"]]
    if not found:
        return None
    row, cell = min(found, key=lambda rc: rc[1]["best"])
    return {"row": row, "cell": cell}


def comparisons(results: dict) -> list[dict]:
    """calor's best against the Fortran program and the modern peers, like for like."""
    rows = results["rows"]
    calor = (lambda r: r["kind"] == "calor")
    out = []
    anywhere = [b for b in (_pick(rows, calor, col) for col in columns(results)) if b]
    if anywhere:
        mine = min(anywhere, key=lambda b: b["cell"]["best"])
        peers = [("Fortran, sequential", _pick(rows, lambda r: r["kind"] == "fortran", "seq"))]
        for family in ("devito", "pystencils"):
            found = [b for b in (_pick(rows, lambda r, f=family: r["approach"].startswith(f),
                                       col) for col in columns(results)) if b]
            if found:
                peers.append((f"{family}'s best anywhere",
                              min(found, key=lambda b: b["cell"]["best"])))
        for label, peer in peers:
            if peer:
                out.append({"where": "best anywhere", "calor": mine, "peer_label": label,
                            "peer": peer})
    thread_counts = sorted({r["threads"] for r in rows})
    for t in thread_counts:
        mine = _pick(rows, lambda r: calor(r) and r["threads"] == t, "seq")
        if not mine:
            continue
        where = f"{t} thread{'s' if t > 1 else ''}, one process"
        peers = [("Fortran, sequential", _pick(rows, lambda r: r["kind"] == "fortran", "seq"))]
        for name in ("devito", "devito-openmp", "pystencils", "pystencils-openmp", "numba",
                     "numba-parallel", "cython", "f2py", "numpy"):
            peers.append((name, _pick(rows, lambda r, n=name: r["approach"] == n
                                      and r["threads"] == t, "seq")))
        for label, peer in peers:
            if peer:
                out.append({"where": where, "calor": mine, "peer_label": label, "peer": peer})
    for p in results["case"]["ranks"]:
        mine = _pick(rows, calor, str(p))
        if not mine:
            continue
        where = f"{p} MPI rank{'s' if p > 1 else ''}, 1 thread each"
        peer = _pick(rows, lambda r: r["kind"] == "fortran", str(p))
        if peer:
            out.append({"where": where, "calor": mine, "peer_label": "Fortran, MPI",
                        "peer": peer})
        for name in ("devito", "pystencils", "numba", "cython", "f2py", "numpy"):
            peer = _pick(rows, lambda r, n=name: r["approach"] == n, str(p))
            if peer:
                out.append({"where": where, "calor": mine, "peer_label": name, "peer": peer})
    return out


def where_text(pick: dict) -> str:
    """'calor tiled, 1 thread, 2 ranks' for a picked row and cell."""
    row, cell = pick["row"], pick["cell"]
    label = row["label"].split(" (MPI")[0]
    text = f"{label}, {row['threads']} thread{'s' if row['threads'] > 1 else ''}"
    if cell["ranks"]:
        text += f", {cell['ranks']} rank{'s' if cell['ranks'] > 1 else ''}"
    return text


def ratios_section(results: dict) -> list[str]:
    found = comparisons(results)
    if not found:
        return []
    out = ["## calor against the others, like for like", "",
           "Ratio = the other's time / calor's best time at the same threads or ranks "
           "(above 1: calor is faster).", "",
           "| where | calor's best | time | vs | their time | ratio |", "|---|---|---|---|---|---|"]
    for f in found:
        mine, peer = f["calor"], f["peer"]
        out.append(f"| {f['where']} | {where_text(mine)} | "
                   f"{fmt_seconds(mine['cell']['best'])} | {f['peer_label']}"
                   + (f" ({where_text(peer)})" if f["where"] == "best anywhere"
                      and not f["peer_label"].startswith("Fortran") else "") + " | "
                   f"{fmt_seconds(peer['cell']['best'])} | "
                   f"{peer['cell']['best'] / mine['cell']['best']:.2f}x |")
    return out


def study_section(results: dict) -> list[str]:
    cols = study.COLUMNS
    out = ["## The published study (Santos Dumont), for reference", "",
           "Seconds, N = 4800, 500 steps, as published (speed-up over its sequential F90 in "
           "parentheses).", "",
           "| approach | " + " | ".join("Seq" if c == "seq" else str(c) for c in cols) + " |",
           "|---|" + "---|" * len(cols)]
    ups = study.speedups()
    for name, times in study.TIMES.items():
        out.append(f"| {name} | " + " | ".join(f"{t:g} ({u:.1f}x)" for t, u in
                                               zip(times, ups[name])) + " |")
    c = results["case"]
    if c["n"] == 4800 and c["steps"] == 500:
        by_approach = {r["approach"]: r for r in results["rows"] if r["threads"] == 1}
        out += ["", "This machine's sequential times beside the published ones:", "",
                "| published | published Seq | here | here Seq | here / published |",
                "|---|---|---|---|---|"]
        for name, mine in study.OURS.items():
            for ours in mine:
                row = by_approach.get(ours)
                cell = row["cells"].get("seq") if row else None
                if cell and cell["status"] == "ok" and cell["best"]:
                    here = cell["best"]
                    out.append(f"| {name} | {study.TIMES[name][0]:g} | {row['label']} | "
                               f"{time_text(cell)} | {here / study.TIMES[name][0]:.2f} |")
    return out


# ----------------------------------------------------------------------------- plots


def _series(results: dict) -> list[dict]:
    """Lines to plot: each row with MPI cells (x = ranks), and each threaded approach's rows
    joined across thread counts (x = threads, dotted)."""
    rows = results["rows"]
    lines = []
    for row in rows:
        points = [(int(col), cell) for col, cell in row["cells"].items() if col != "seq"]
        if points:
            lines.append({"label": row["label"].split(" (MPI")[0] + " (MPI)", "style": "-",
                          "marker": "o", "family": (row["kind"], row["approach"]),
                          "points": sorted(points, key=lambda p: p[0])})
    by_approach: dict[str, list] = {}
    for row in rows:
        by_approach.setdefault((row["kind"], row["approach"]), []).append(row)
    for (kind, approach), group in by_approach.items():
        if len(group) < 2:
            continue
        points = [(r["threads"], r["cells"]["seq"]) for r in group]
        label = (f"calor {approach}" if kind == "calor" else approach) + " (threads)"
        lines.append({"label": label, "style": ":", "marker": "s",
                      "family": (kind, approach.replace("-openmp", "").replace("-parallel", "")),
                      "points": sorted(points, key=lambda p: p[0])})
    # One colour per approach family, the same for its MPI and its threads line.
    families = list(dict.fromkeys(line["family"] for line in lines))
    for line in lines:
        line["color"] = families.index(line["family"])
    return lines


def family_color(kind: str) -> str:
    """Bar colour of a row in the sequential chart."""
    return {"fortran": "0.25", "calor": "C1", "gpu": "C2"}.get(kind, "C0")


def plot(out: Path, results: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    cores = results["machine"]["cores"]
    c = results["case"]
    title = f"N = {c['n']}, {c['steps']} steps — {results['machine']['cpu_model']}, {cores} cores"
    lines = _series(results)
    fortran = next((r for r in results["rows"] if r["kind"] == "fortran"), None)
    f_seq = fortran["cells"]["seq"] if fortran else None
    f_best = f_seq["best"] if f_seq and f_seq["status"] == "ok" else None
    xs = sorted({x for line in lines for x, _ in line["points"]} | {1})
    written = []

    def axes(ylabel: str, logy: bool):
        fig, ax = plt.subplots(figsize=(11, 5.5))
        ax.set_xscale("log", base=2)
        if logy:
            ax.set_yscale("log")
            plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
            ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.set_xlabel("processes (solid: MPI ranks, 1 thread each; dotted: threads of one "
                      "process)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        if xs and max(xs) > cores:
            ax.axvspan(cores * 1.15, max(xs) * 1.3, color="0.85", alpha=0.5,
                       label=f"oversubscribed (> {cores} cores)")
        return fig, ax

    def draw(ax, key: str) -> None:
        for line in lines:
            good = [(x, cell[key]) for x, cell in line["points"]
                    if cell["status"] == "ok" and cell.get(key)]
            wrong = [x for x, cell in line["points"] if cell["status"] == "WRONG"]
            k = line["color"]
            color = (plt.get_cmap("tab10")(k) if k < 10
                     else plt.get_cmap("Dark2")((k - 10) % 8))
            if good:
                ax.plot([p[0] for p in good], [p[1] for p in good], line["style"],
                        marker=line["marker"], color=color, label=line["label"])
            for x in wrong:
                ax.annotate("WRONG", (x, ax.get_ylim()[0]), color="red", fontsize=7)

    def save(fig, ax, name: str) -> None:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(name)

    fig, ax = axes("time (s)", True)
    draw(ax, "best")
    if f_best:
        ax.axhline(f_best, color="black", linestyle="--", linewidth=1,
                   label=f"Fortran sequential ({fmt_seconds(f_best)} s)")
    save(fig, ax, PLOTS["time"])

    fig, ax = axes("speed-up over sequential Fortran", True)
    draw(ax, "speedup")
    if f_best:
        ax.plot(xs, xs, "--", color="black", linewidth=1, label="ideal (Fortran × processes)")
    save(fig, ax, PLOTS["speedup"])

    fig, ax = axes("parallel efficiency", False)
    draw(ax, "efficiency")
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="ideal")
    ax.set_ylim(bottom=0)
    save(fig, ax, PLOTS["efficiency"])

    # Bar chart of the sequential (one thread, no MPI) times.
    bars = [(r["label"].split(" (MPI")[0], r["cells"]["seq"], r["kind"])
            for r in results["rows"] if r["threads"] == 1 and "seq" in r["cells"]]
    bars = [(label, cell, kind) for label, cell, kind in bars
            if cell["status"] in ("ok", "WRONG") and cell["best"]]
    if bars:
        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(bars) + 1.5))
        labels = [label for label, _, _ in bars]
        values = [cell["best"] for _, cell, _ in bars]
        colors = ["red" if cell["status"] == "WRONG" else
                  ("0.7" if cell["extrapolated"] else family_color(kind))
                  for _, cell, kind in bars]
        hatches = ["//" if cell["extrapolated"] else "" for _, cell, _ in bars]
        ys = range(len(bars))
        drawn = ax.barh(list(ys), values, color=colors)
        for bar, hatch in zip(drawn, hatches):
            bar.set_hatch(hatch)
        for y, (label, cell, _) in zip(ys, bars):
            text = fmt_seconds(cell["best"]) + " s"
            if cell["extrapolated"]:
                text += " (extrapolated)"
            if cell["status"] == "WRONG":
                text += " WRONG"
            ax.text(cell["best"] * 1.05, y, text, va="center", fontsize=8)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlim(right=max(values) * 8)
        ax.set_xlabel("time (s), one thread, no MPI")
        ax.set_title("Sequential times — " + title, fontsize=9)
        from matplotlib.patches import Patch  # the legend explains the bar colours
        legend = [Patch(color=family_color("fortran"), label="Fortran (the reference program)"),
                  Patch(color=family_color("calor"), label="calor"),
                  Patch(color=family_color("registry"), label="Python approaches and peers"),
                  Patch(color=family_color("gpu"), label="GPU approaches (one GPU)"),
                  Patch(facecolor="0.7", hatch="//", label="extrapolated from fewer steps"),
                  Patch(color="red", label="WRONG: differs from the reference")]
        ax.legend(handles=legend, fontsize=7, loc="lower right")
        ax.grid(True, axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / PLOTS["sequential"], dpi=110)
        plt.close(fig)
        written.append(PLOTS["sequential"])
    return written


def write(out: Path, results: dict, plots: bool = True) -> None:
    """report.md (and the plots) into out."""
    drawn = plot(out, results) if plots else []
    (out / "report.md").write_text(markdown(results, drawn))


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out/compare")
    write(folder, json.loads((folder / "results.json").read_text()))
    print(f"wrote {folder}/report.md and plots")
