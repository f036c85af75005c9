# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Small value rules the collection checks in several places, each with one owner here.

Private to the collection (no API promise). Pure Python standard library.

* Go durations (``time.ParseDuration``), as cloudflared and Cloudflare's API take them:
  ``go_duration_seconds("1m30s") == 90.0``.
* TCP/UDP ports: ``is_port(443)``; an integer 1-65535, never a bool or a string.
"""

from __future__ import annotations

import re

# One term of a Go duration: a number with digits before or after an optional dot, then a unit.
# Go accepts both the micro sign (U+00B5) and the Greek mu (U+03BC) in "µs".
_GO_DURATION_TERM = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_GO_DURATION_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def go_duration_seconds(value, allow_negative=False):
    """Seconds in a Go duration string (``"1h30m"`` -> 5400.0), or ``None`` when Go would refuse it.

    Follows ``time.ParseDuration``: an optional sign, then one or more number+unit terms with no
    spaces (``"0"`` alone is also valid). Only ASCII digits count. Negative durations are refused
    unless ``allow_negative`` (nothing the collection writes may be negative).
    """
    if not isinstance(value, str) or not value:
        return None
    text = value
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        return None
    total = 0.0
    position = 0
    while position < len(text):
        match = _GO_DURATION_TERM.match(text, position)
        if not match:
            return None
        total += float(match.group(1)) * _GO_DURATION_UNIT_SECONDS[match.group(2)]
        position = match.end()
    if sign < 0 and total and not allow_negative:
        return None
    return sign * total


def is_port(value):
    """True for a TCP/UDP port number: an int (not a bool) from 1 to 65535."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
