# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Small value rules the collection checks in several places, each with one owner here.

Private to the collection (no API promise). Pure Python standard library (and ``_errors``).

* Go durations (``time.ParseDuration``), as cloudflared and Cloudflare's API take them:
  ``go_duration_seconds("1m30s") == 90.0``; ``duration_whole_seconds("1m30s") == 90`` (the API form).
* TCP/UDP ports: ``is_port(443)``; an integer 1-65535 (``minimum=0`` for SRV), never a bool or a string.
* Loopback listen addresses (``127.0.0.1:9323``, ``[::1]:9323``): ``loopback_port()``.
* UUIDs (tunnel ids): ``UUID_RE`` / ``is_uuid()``.
* DNS names: ``is_dns_label()``, ``is_dns_name()``, ``normalise_name()`` (lower-case, no trailing dot,
  IDN to Punycode).
* Owner ids (the site that created an object): ``check_owner_id()``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError

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


def duration_whole_seconds(value):
    """Whole seconds of ``"90"`` or of a Go duration (``"1m30s"`` -> 90); ``None`` for anything else
    (not a string, a fraction of a second, not a duration)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    total = float(text) if re.fullmatch(r"[0-9]+", text) else go_duration_seconds(text)
    if total is None or not total.is_integer():
        return None
    return int(total)


def did_you_mean(name, known, cutoff=0.6):
    """`` (did you mean 'x'?)`` for the closest of ``known`` to ``name``, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


PORT_MAX = 65535


def is_port(value, minimum=1):
    """True for a TCP/UDP port number: an int (not a bool) from ``minimum`` (1) to 65535."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= PORT_MAX


_LISTEN_RE = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$")


def loopback_port(value):
    """The port of a loopback listen address ``IP:PORT`` (an IPv4 address of 127.0.0.0/8, or ``[::1]``),
    or None when ``value`` is anything else (a host name, another address, no port, a port out of range)."""
    match = _LISTEN_RE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        # IPv6 in brackets, IPv4 without (as Go's net.SplitHostPort and dockerd read them).
        address = ipaddress.IPv6Address(match.group(1)) if match.group(1) else ipaddress.IPv4Address(match.group(2))
    except ValueError:
        return None
    port = int(match.group(3))
    return port if address.is_loopback and is_port(port) else None


def loopback_address_problem(value, var_name, optional=True):
    """Why ``value`` (the variable ``var_name``) is not a loopback listen address (``loopback_port``), or None.

    ``optional``: an empty string (nothing listens) is valid too.
    """
    if (optional and value == "") or loopback_port(value) is not None:
        return None
    return (
        f"{var_name} must be a loopback address and port, such as '127.0.0.1:9323' or '[::1]:9323' (an IP address "
        f"of 127.0.0.0/8 or ::1, never a name or another address: nothing of the collection listens beyond the "
        f"host){' or empty for none' if optional else ''}, got {value!r}."
    )


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_uuid(value):
    """True for a UUID in its 8-4-4-4-12 hexadecimal form (either case), such as a tunnel id."""
    return isinstance(value, str) and bool(UUID_RE.match(value))


# A Cloudflare account (or zone) id: 32 lower-case hexadecimal digits.
_CLOUDFLARE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def is_cloudflare_id(value):
    """True for a Cloudflare account or zone id (32 lower-case hexadecimal digits)."""
    return isinstance(value, str) and bool(_CLOUDFLARE_ID_RE.match(value))


# One DNS label (RFC 1123): 1-63 letters, digits and '-', not starting or ending with '-'.
_DNS_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# The same, also allowing '_' (service labels such as _dmarc; cloudflared takes them in hostnames).
_DNS_LABEL_UNDERSCORE_RE = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
DNS_NAME_MAX = 253


def is_dns_label(value, underscore=False):
    """True for one DNS label; ``underscore`` also allows '_'."""
    pattern = _DNS_LABEL_UNDERSCORE_RE if underscore else _DNS_LABEL_RE
    return isinstance(value, str) and bool(pattern.match(value))


def is_dns_name(value, underscore=False):
    """True for a DNS name: at most 253 characters of valid labels separated by '.'."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= DNS_NAME_MAX
        and all(is_dns_label(label, underscore) for label in value.split("."))
    )


def normalise_name(name):
    """Lower-case, no trailing dot, IDN to Punycode."""
    if name is None:
        return None
    name = str(name).strip().rstrip(".").lower()
    if any(ord(c) > 127 for c in name):
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return name


_OWNER_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
OWNER_ID_MAX = 40


def check_owner_id(owner_id, option="owner_id", max_length=OWNER_ID_MAX):
    """Raise CloudflareInputError unless ``owner_id`` (None allowed) is 1..max_length letters, digits, '.', '_', '-'."""
    if owner_id is None:
        return
    if not (isinstance(owner_id, str) and _OWNER_RE.match(owner_id) and len(owner_id) <= max_length):
        raise CloudflareInputError(
            "must be 1-%d letters, digits, '.', '_' or '-', got %r" % (max_length, owner_id), option=option
        )
