# SPDX-License-Identifier: GPL-3.0-or-later
"""The path-regex check against RE2 itself (the google-re2 wheel, a test-only oracle).

cloudflared compiles ingress paths with Go's regexp, an RE2 engine. The collection cannot ship an
RE2 binding, so `regex_problem` refuses by syntax what RE2 refuses; this test holds it to the real
engine: whatever the collection accepts, RE2 must compile (the collection may refuse more).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

re2 = pytest.importorskip("re2", reason="google-re2 is pinned in requirements-dev.txt")

from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import regex_problem  # noqa: E402

TOKENS = [
    "a", "b", "/", "-", ".", "^", "$", "|", "*", "+", "?", "{2}", "{1,3}", "{,3}", "{2,}", "{1001}",
    "(", ")", "(?:", "(?i)", "(?s)", "(?x)", "(?a)", "(?U)", "(?P<n>", "(?<n>", "(?P=n)", "(?=", "(?!",
    "(?<=", "(?<!", "(?>", "(?#", "(?(1)", "[", "]", "[^", "[]", "\\d", "\\w", "\\s", "\\b", "\\A",
    "\\Z", "\\z", "\\1", "\\2", "\\0", "\\8", "\\u0041", "\\x41", "\\x{41}", "\\n", "\\.", "\\/",
    "\\pL", "[[:alpha:]]", "\\Q", "\\E", "\\G", "\\g<1>",
]  # fmt: skip


def _re2_compiles(pattern):
    try:
        re2.compile(pattern)
    except Exception:  # re2 raises its own error type
        return False
    return True


def _python_compiles(pattern):
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join))
def test_never_accepts_what_re2_refuses(pattern):
    if regex_problem(pattern) is None:
        assert _re2_compiles(pattern), f"accepted {pattern!r}, which RE2 refuses"


@pytest.mark.parametrize("pattern", [t for t in TOKENS if _python_compiles(t) and _re2_compiles(t)])
def test_single_tokens_both_engines_take_are_accepted_unless_listed(pattern):
    # The deliberate refusals of syntax both engines compile: '{,3}' means a repeat in Python but
    # literal text in RE2, so the two would match different paths.
    if pattern in ("{,3}", "[[:alpha:]]"):
        assert regex_problem(pattern)
    else:
        assert regex_problem(pattern) is None, pattern
