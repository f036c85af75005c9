# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Ingress path regexes: what both Go's RE2 (cloudflared) and Python's re accept.

Private to the collection (no API promise). Pure Python standard library. Used by ``_ingress``
(``ingress_problems`` checks every rule's ``path`` with ``regex_problem``).
"""

from __future__ import annotations

import re

# Syntax Python's re accepts and Go's RE2 (cloudflared's regexp package) refuses. Outside a
# character class: group prefixes and escapes; after a quantifier: a possessive '+'.
_RE2_REFUSED_GROUPS = {
    "(?=": "lookahead",
    "(?!": "negative lookahead",
    "(?<=": "lookbehind",
    "(?<!": "negative lookbehind",
    "(?>": "atomic group",
    "(?(": "conditional group",
    "(?#": "comment group",
    "(?P=": "named backreference",
}
_RE2_REFUSED_ESCAPES = {
    "Z": "\\Z (use $ without the m flag)",
    "G": "\\G",
    "g": "\\g backreference",
    "N": "\\N{...} named character",
    "u": "\\u (write \\x{...})",
    "U": "\\U (write \\x{...})",
}
_RE2 = "is not RE2 syntax (cloudflared)"
_RE2_FLAGS = set("imsU-")
_RE2_MAX_REPEAT = 1000


def regex_problem(pattern):
    """Why ``pattern`` cannot be an ingress path regex, or ``None`` when both Go RE2 and Python take it.

    cloudflared compiles paths with Go's regexp (RE2): no backreferences, lookarounds, possessive
    quantifiers, atomic or conditional groups, ``\\Z``, and repeat counts up to 1000. Python's re,
    which checks the rest, accepts all of those, so they are refused here by syntax first.
    """
    index = 0
    in_class = False
    class_first = 0  # where the current set's members start
    previous_quantifier = False
    while index < len(pattern):
        char = pattern[index]
        quantifier = False
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            following = pattern[index + 2 : index + 3]
            # RE2 reads \1-\7 as octal only when another octal digit follows; else a backreference.
            if escaped and escaped in "123456789" and not (following and following in "01234567"):
                return f"bad path regex '{pattern}': a backreference (\\{escaped}) {_RE2}"
            if in_class and escaped in ("b", "B"):
                return f"bad path regex '{pattern}': \\{escaped} inside a character class {_RE2}"
            if escaped in _RE2_REFUSED_ESCAPES:
                return f"bad path regex '{pattern}': {_RE2_REFUSED_ESCAPES[escaped]} {_RE2}"
            index += 2
            previous_quantifier = False
            continue
        if in_class:
            # Where Python warns of a future change ("possible set difference"...), it reads the
            # set differently from RE2: '--', '&&', '~~', '||' after the set's first member.
            if char in "-&~|" and pattern[index + 1 : index + 2] == char and index > class_first:
                return f"bad path regex '{pattern}': an ambiguous character class ('{char * 2}') {_RE2}"
            if char == "]":
                in_class = False
            index += 1
            continue
        if char == "[":
            # Python reads '[[' as a set holding '[', RE2 as a nested class ('[[:alpha:]]').
            if pattern[index + 1 : index + 2] == "[":
                return f"bad path regex '{pattern}': an ambiguous character class ('[[') {_RE2}"
            in_class = True
            # A ']' (after an optional '^') right at the start is a literal, not the end.
            index += 1
            if pattern[index : index + 1] == "^":
                index += 1
            class_first = index
            if pattern[index : index + 1] == "]":
                index += 1
            previous_quantifier = False
            continue
        if char == "(" and pattern[index + 1 : index + 2] == "?":
            for prefix, name in _RE2_REFUSED_GROUPS.items():
                if pattern.startswith(prefix, index):
                    return f"bad path regex '{pattern}': a {name} '{prefix}' {_RE2}"
            flags = re.match(r"\(\?([A-Za-z-]*)[:)]", pattern[index:])
            if flags and not set(flags.group(1)) <= _RE2_FLAGS:
                return f"bad path regex '{pattern}': RE2 (cloudflared) knows only the flags i, m, s and U"
        if char in "*+?":
            if char == "+" and previous_quantifier:
                return f"bad path regex '{pattern}': a possessive quantifier ('{pattern[index - 1]}+') {_RE2}"
            quantifier = char != "?" or not previous_quantifier
        if char == "{":
            counts = re.match(r"\{([0-9]*)(?:,([0-9]*))?\}", pattern[index:])
            if counts:
                if counts.group(1) == "":
                    # Python repeats 'a{,3}' 0-3 times; RE2 reads it as the literal text '{,3}'.
                    return f"bad path regex '{pattern}': write '{{0,{counts.group(2)}}}', not '{counts.group(0)}'"
                if any(n and int(n) > _RE2_MAX_REPEAT for n in counts.groups()):
                    return f"bad path regex '{pattern}': RE2 (cloudflared) allows repeat counts up to {_RE2_MAX_REPEAT}"
                index += counts.end()
                previous_quantifier = True
                continue
        previous_quantifier = quantifier
        index += 1
    # Last, so Python never sees (and warns about) a set the scan above already refused.
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad path regex '{pattern}': {exc}"
    except (TypeError, ValueError, RecursionError) as exc:  # pragma: no cover - re raises re.error
        return f"bad path regex '{pattern}': {exc}"
    return None
