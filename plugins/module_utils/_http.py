# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The HTTP transport of the Cloudflare client, on ``requests``.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.

One ``requests.Session`` per module run: keep-alive (one connection reused for every call),
proxies from the standard environment variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``,
credentials in the proxy URL included), the CA bundle (the file named by ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` when set, else the system's store as Python's ``ssl`` finds it, ``SSL_CERT_FILE``
included, else ``requests``' own), and ``validate_certs``. No retries here: the client decides.

``Transport.request()`` tells the client whether a failed request may have reached the server:
a failure to connect (refused, DNS, connect timeout, to the API host or to the proxy, or a refused
certificate) means it was not sent; any other failure (dropped connection, read timeout, other TLS
errors) means it may have been applied, so a non-idempotent write is not re-sent blindly.

``requests`` runs on the controller (the modules run there); ``HAS_REQUESTS`` and
``REQUESTS_IMPORT_ERROR`` let ``CloudflareModule`` fail with ``missing_required_lib("requests")``.
"""

from __future__ import annotations

import os
import ssl
import traceback
import warnings
from urllib.parse import urlsplit

from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError

try:
    import requests
    from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning, NewConnectionError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only without requests
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"


class TransportError(Exception):
    def __init__(self, message, sent):
        super().__init__(message)
        self.sent = sent  # True when the request may have reached the server


def _no_auth(request):
    """Keeps requests from replacing the Authorization header with ~/.netrc credentials."""
    return request


def _system_ca():
    """The system's CA store as ``ssl.create_default_context()`` loads it (a file or a directory), or True
    (``requests``' own bundle) when there is none."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile and os.path.isfile(paths.cafile):
        return paths.cafile
    if paths.capath and os.path.isdir(paths.capath):
        return paths.capath
    return True


def _cause(exc):
    """The innermost error behind a requests exception, through urllib3's wrappers (``MaxRetryError.reason``,
    ``ProxyError.original_error``, an exception as first argument)."""
    cause = exc
    for _unused in range(8):
        inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException):
            inner = getattr(cause, "original_error", None)
        if not isinstance(inner, BaseException):
            inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        if inner is None:
            break
        cause = inner
    return cause


def _not_sent(exc):
    """Whether ``exc`` (a requests exception) surely happened before the request could reach the server:
    the connection (to the API host or to the proxy) could not be made, or the server's certificate was
    refused. Anything else (a dropped connection, a read timeout, other TLS errors) may come after."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(_cause(exc), (NewConnectionError, ConnectTimeoutError, ssl.SSLCertVerificationError))


class Transport:
    """HTTP(S) to the API host over one ``requests.Session``."""

    def __init__(self, base_url, timeout=30, validate_certs=True):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CloudflareInputError(
                "must be an http:// or https:// URL such as %s, got %r" % (DEFAULT_API_BASE_URL, base_url),
                option="api_base_url",
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.validate_certs = validate_certs
        self._session = None

    def _open(self):
        session = requests.Session()
        session.auth = _no_auth
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, when set, still win: requests reads them per request.
        session.verify = _system_ca()
        return session

    def close(self):
        if self._session is not None:
            try:
                self._session.close()
            except Exception:  # noqa: S110 - closing a broken socket must not hide the real error
                pass
            self._session = None

    def request(self, method, path_and_query, body, headers):
        """Send one request; return ``(status, headers with lower-case names, body bytes)``."""
        if self._session is None:
            self._session = self._open()
        try:
            with warnings.catch_warnings():
                if not self.validate_certs:  # asked for: no warning on every request
                    warnings.simplefilter("ignore", InsecureRequestWarning)
                resp = self._session.request(
                    method,
                    self.base_url + path_and_query,
                    data=body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    # False here, not on the session: a CA bundle variable would override the session's.
                    verify=None if self.validate_certs else False,
                )
                data = resp.content
        except requests.exceptions.RequestException as exc:
            self.close()
            raise TransportError("%s: %s" % (type(exc).__name__, exc), not _not_sent(exc)) from None
        return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, data
