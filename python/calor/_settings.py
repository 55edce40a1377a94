"""Keyword arguments to the engine's `key = value` overrides.

Each keyword becomes one or more (key, TOML value, origin) triples, which the engine's
load_config applies exactly as it applies `calor run --set KEY=VALUE`: same checks, same
messages. Nested dicts become dotted keys, so that boundary={"x": {"type": "dirichlet",
"value": 1.0}} sets boundary.x.type and boundary.x.value.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def toml_value(value: Any, where: str) -> str:
    """`value` written as TOML; TypeError naming `where` if TOML cannot express it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, os.PathLike):
        return _toml_string(os.fspath(value))
    if isinstance(value, Mapping):
        items = [f"{_toml_key(str(k))} = {toml_value(v, f'{where}[{k!r}]')}"
                 for k, v in value.items() if v is not None]
        return "{" + ", ".join(items) + "}"
    if hasattr(value, "tolist") and not isinstance(value, (bytes, bytearray)):
        return toml_value(value.tolist(), where)  # NumPy arrays and scalars
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return "[" + ", ".join(toml_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"{where}: cannot express a {type(value).__name__} as a setting; use a "
                    "number, string, bool, list or dict")


def overrides(settings: Mapping[str, Any], call: str) -> list[tuple[str, str, str]]:
    """(key, TOML value, origin) for each setting; None values are left out (the default)."""
    out: list[tuple[str, str, str]] = []

    def add(key: str, value: Any, origin: str) -> None:
        if value is None:
            return
        for part in key.split("."):
            if not _BARE_KEY.match(part):
                raise ValueError(f"{origin}: {key!r} is not a setting name; names are like "
                                 "'steps' or 'boundary.x_low' (see help(calor.Problem))")
        if isinstance(value, Mapping):
            for k, v in value.items():
                add(f"{key}.{k}", v, origin)
            return
        out.append((key, toml_value(value, f"{origin}, key '{key}'"), origin))

    for name, value in settings.items():
        add(name, value, f"{call}({name}=...)")
    return out
