"""Argument types for every command line of batchtui: numbers in bounds, said plainly.

argparse would name the type function in its message ("invalid _refresh value"); these say what
the flag wants and what it got, on one line, and refuse nan and infinities. No imports of the
rest of batchtui, so the simulator's command line may use them too.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
from collections.abc import Callable


def _bounds(lo: float, hi: float | None, *, above: bool, below: bool, unit: str) -> str:
    lo_text, hi_text = _num(lo), _num(hi) if hi is not None else ""
    if hi is None:
        return f"more than {lo_text}{unit}" if above else f"{lo_text} or more{unit}"
    if not above and not below:
        return f"from {lo_text} to {hi_text}{unit}"
    low = f"more than {lo_text}" if above else f"at least {lo_text}"
    high = f"less than {hi_text}" if below else f"at most {hi_text}"
    return f"{low} and {high}{unit}"


def _num(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def seconds(
    flag: str, lo: float, hi: float | None = None, *, above: bool = False, below: bool = False
) -> Callable[[str], float]:
    """A number of seconds from ``lo`` to ``hi`` (``above``/``below``: the bound itself refused)."""

    def parse(value: str) -> float:
        try:
            n = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} wants a number of seconds, not {value!r}") from None
        ok = math.isfinite(n) and (n > lo if above else n >= lo)
        if ok and hi is not None:
            ok = n < hi if below else n <= hi
        if not ok:
            bounds = _bounds(lo, hi, above=above, below=below, unit=" seconds")
            raise argparse.ArgumentTypeError(f"{flag} must be {bounds}, not {value}")
        return n

    return parse


def whole(flag: str, lo: int, hi: int | None = None, *, what: str = "a whole number") -> Callable[[str], int]:
    """A whole number from ``lo`` to ``hi``."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} wants {what}, not {value!r}") from None
        if n < lo or (hi is not None and n > hi):
            raise argparse.ArgumentTypeError(
                f"{flag} must be {_bounds(lo, hi, above=False, below=False, unit='')}, not {n}"
            )
        return n

    return parse


def is_loopback(host: str) -> bool:
    """Whether a --host binds only this machine (servers refuse others unless told)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
