# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Typed errors of the Cloudflare modules.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.
Pure Python standard library.

* ``CloudflareError`` and its subclasses: an API call failed; they carry Cloudflare's codes,
  messages and nested ``error_chain`` (``error_class()`` picks the subclass for an answer);
* ``CloudflareInputError``: bad module input, naming the offending option;
  ``CloudflareOwnershipError``: an object exists but is not this owner's to change.
"""

from __future__ import annotations

# Cloudflare error codes the helpers react to.
CODE_TUNNEL_NAME_TAKEN = 1013
CODE_RECORD_EXISTS = 81057
CODE_IDENTICAL_RECORD = 81058
CODE_RECORD_MISSING = 81044
CONFLICT_CODES = frozenset((CODE_TUNNEL_NAME_TAKEN, CODE_RECORD_EXISTS, CODE_IDENTICAL_RECORD))


class CloudflareError(Exception):
    """An API call failed. ``errors`` is Cloudflare's list of ``{code, message, error_chain}``."""

    def __init__(self, message, status=None, errors=None, method=None, path=None, attempts=1):
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = list(errors or [])
        self.method = method
        self.path = path
        self.attempts = attempts

    @property
    def codes(self):
        """Top-level error codes, in order."""
        return [e.get("code") for e in self.errors if isinstance(e, dict) and e.get("code") is not None]

    @property
    def all_codes(self):
        """Every code including those nested in ``error_chain``."""
        return error_codes(self.errors)

    def has_code(self, *codes):
        return any(c in codes for c in self.all_codes)

    def __str__(self):
        where = ""
        if self.method and self.path:
            where = " on %s %s" % (self.method, self.path)
        status = " (HTTP %s)" % self.status if self.status else ""
        text = "%s%s%s" % (self.message, status, where)
        details = format_error_list(self.errors)
        if details:
            text += ": " + details
        if self.attempts and self.attempts > 1:
            text += " [after %d attempts]" % self.attempts
        return text

    def to_result(self):
        """Fields for ``fail_json`` (no secret can be in them: they come from the answer body)."""
        return {"status": self.status, "errors": self.errors, "error_codes": self.all_codes}


class CloudflareAuthError(CloudflareError):
    """401/403: the credentials are wrong or lack a permission."""


class CloudflareNotFoundError(CloudflareError):
    """404 or a 'does not exist' code."""


class CloudflareConflictError(CloudflareError):
    """409 or a conflict code (1013, 81057, 81058 ...)."""


class CloudflareConnectionError(CloudflareError):
    """The connection failed or was dropped; no (complete) answer was read."""


class CloudflareRetryError(CloudflareError):
    """The retry budget ran out on 429/5xx/connection errors."""


class CloudflareAmbiguousWriteError(CloudflareError):
    """A non-idempotent write failed in a way that may or may not have been applied.

    Raised instead of re-sending the write when the caller gave no ``recover`` callable; the
    caller must look at the current state before trying again.
    """


class CloudflareInputError(ValueError):
    """Bad module input found by a helper. ``option`` names the offending option path."""

    def __init__(self, message, option=None):
        super().__init__(message)
        self.option = option

    def __str__(self):
        msg = self.args[0] if self.args else ""
        if self.option and not msg.startswith((self.option + ":", self.option + ".", self.option + "[")):
            return "%s: %s" % (self.option, msg)
        return msg


class CloudflareOwnershipError(CloudflareInputError):
    """An object with a wanted name exists but was not created by this owner (site), and adopting it
    was not asked for. The message names the object (kind, name, id) and the ``adopt`` option."""


def error_codes(errors):
    """Every code of Cloudflare's error list ``errors``, those nested in ``error_chain`` included, in order."""
    out = []

    def walk(items):
        for item in items or []:
            if isinstance(item, dict):
                if item.get("code") is not None:
                    out.append(item.get("code"))
                walk(item.get("error_chain"))

    walk(errors)
    return out


def format_error_list(errors):
    """``[1004] DNS Validation Error (caused by: [9005] Bad content)`` for each error, '; '-joined."""
    parts = []
    for err in errors or []:
        if not isinstance(err, dict):
            parts.append(str(err))
            continue
        text = "[%s] %s" % (err.get("code", "?"), err.get("message", "")) if err.get("code") is not None else ""
        if not text:
            text = str(err.get("message", ""))
        chain = err.get("error_chain")
        if chain:
            text += " (caused by: %s)" % format_error_list(chain)
        parts.append(text)
    return "; ".join(p for p in parts if p)


def error_class(status, errors):
    """The ``CloudflareError`` subclass for an answer's HTTP status and error list."""
    codes = set()
    for e in errors or []:
        if isinstance(e, dict):
            codes.add(e.get("code"))
    if status in (401, 403):
        return CloudflareAuthError
    if status == 409 or codes & CONFLICT_CODES:
        return CloudflareConflictError
    if status == 404 or CODE_RECORD_MISSING in codes:
        return CloudflareNotFoundError
    return CloudflareError
