"""Progress bars for Simulation.run(): tqdm when it is installed, else a plain text bar that
works in a terminal and in Jupyter, or a line every few seconds in a log."""

from __future__ import annotations

import math
import sys
import time
from typing import Callable, Optional, TextIO

Callback = Callable[[int, int, float], None]


def _interactive(stream: TextIO) -> bool:
    """A terminal or a Jupyter cell, where a carriage return redraws the line."""
    if type(stream).__module__.startswith("ipykernel"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class TextBar:
    """[#########...........]  45%  225/500 steps  1.2 s, 1.5 s left"""

    width = 30
    log_interval = 5.0  # seconds between lines when the output is a log

    def __init__(self, total: int, initial: int = 0, stream: Optional[TextIO] = None) -> None:
        self.total, self.initial = total, initial
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = _interactive(self.stream)
        self.last_log = -math.inf
        self.t0 = time.monotonic()
        self.drawn_length = 0

    def update(self, step: int, total: int, seconds: float) -> None:
        done = min(step, total) / total if total > 0 else 1.0
        rate = (step - self.initial) / seconds if seconds > 0 else 0.0
        left = f", {(total - step) / rate:.1f} s left" if 0 < rate and step < total else ""
        text = f"{100 * done:3.0f}%  {step}/{total} steps  {seconds:.1f} s{left}"
        if self.interactive:
            filled = int(round(self.width * done))
            bar = "#" * filled + "." * (self.width - filled)
            line = f"calor [{bar}] {text}"
            # Pad over what a longer line before it left on the screen.
            self.stream.write("\r" + line.ljust(self.drawn_length))
            self.drawn_length = len(line)
        elif time.monotonic() - self.last_log >= self.log_interval or step >= total:
            self.last_log = time.monotonic()
            self.stream.write(f"calor: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn_length:
            self.stream.write("\n")
            self.stream.flush()


class TqdmBar:
    """tqdm.auto's bar: a widget in Jupyter (with ipywidgets), text in a terminal."""

    def __init__(self, tqdm_class, total: int, initial: int) -> None:
        self.bar = tqdm_class(total=total, initial=initial, unit="step", desc="calor")

    def update(self, step: int, total: int, seconds: float) -> None:
        self.bar.update(step - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def make_bar(total: int, initial: int = 0):
    """A bar with update(step, total, seconds) and close()."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return TextBar(total, initial)
    return TqdmBar(tqdm, total, initial)
