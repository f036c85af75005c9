# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Cloudflare API v4 client shared by the ``cloudflare_*`` modules.

PRIVATE: this file is an implementation detail of homelab.mcp_edge. Nothing in it is a public
API; it may change in any release without notice. Do not import it from outside the collection.

What lives here (and nowhere else):

* the common module options (``cloudflare_common_argument_spec``) and ``CloudflareModule``, which
  builds the ``AnsibleModule``, checks the credentials and turns typed errors into ``fail_json``;
* ``CloudflareClient``: one reused HTTP connection (standard library only), Bearer token or legacy
  e-mail + global key, retries with jittered back-off on 429 (honouring ``retry-after``), 5xx and
  dropped connections within a bounded total wait, one pagination helper, a request counter;
* typed errors carrying Cloudflare's codes, messages and nested ``error_chain``;
* retry safety for non-idempotent writes: a POST that failed in a way that may have been applied
  is never re-sent blindly; the caller gives a ``recover`` callable that looks the object up first;
* ``DifferenceTracker`` and ``changed_fields`` so "options left out leave existing values alone"
  is implemented once;
* zone and account resolution, tunnel helpers and the DNS planner (pure functions).

The token or key is only ever put in a request header; it is never part of a message, an
exception or a return value.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import random
import re
import ssl
import time
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

try:  # Only the module glue needs Ansible; the client and the planners are plain Python.
    from ansible.module_utils.basic import AnsibleModule, env_fallback

    HAS_ANSIBLE = True
except ImportError:  # pragma: no cover - exercised only outside Ansible
    AnsibleModule = None
    env_fallback = None
    HAS_ANSIBLE = False

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
USER_AGENT = "homelab.mcp_edge (Ansible collection)"
COLLECTION_NAME = "homelab.mcp_edge"

# Methods that can be re-sent after an ambiguous failure without changing the outcome.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"))
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 530))

# Cloudflare error codes the helpers react to.
CODE_TUNNEL_NAME_TAKEN = 1013
CODE_RECORD_EXISTS = 81057
CODE_IDENTICAL_RECORD = 81058
CODE_RECORD_MISSING = 81044
CONFLICT_CODES = frozenset((CODE_TUNNEL_NAME_TAKEN, CODE_RECORD_EXISTS, CODE_IDENTICAL_RECORD))


# ============================================================================================
# Errors
# ============================================================================================


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
        out = []

        def walk(items):
            for item in items or []:
                if isinstance(item, dict):
                    if item.get("code") is not None:
                        out.append(item.get("code"))
                    walk(item.get("error_chain"))

        walk(self.errors)
        return out

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


def _error_class(status, errors):
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


# ============================================================================================
# Module options and the AnsibleModule glue
# ============================================================================================


def cloudflare_common_argument_spec():
    """The options every cloudflare_* module takes (documented in the ``cloudflare`` fragment)."""
    return dict(
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_TOKEN"])),
        api_email=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_EMAIL"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_KEY"])),
        api_base_url=dict(
            type="str", default=DEFAULT_API_BASE_URL, fallback=(env_fallback, ["CLOUDFLARE_API_BASE_URL"])
        ),
        account_id=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_ACCOUNT_ID"])),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=8, fallback=(env_fallback, ["CLOUDFLARE_MAX_RETRIES"])),
        max_retry_wait=dict(type="int", default=120, fallback=(env_fallback, ["CLOUDFLARE_MAX_RETRY_WAIT"])),
    )


def check_credentials(params):
    """Return an error message when the auth options do not make a usable set, else None."""
    token = params.get("api_token")
    email_ = params.get("api_email")
    key = params.get("api_key")
    if token:
        return None  # a token wins over a key picked up from the environment
    if key and email_:
        return None
    if key and not email_:
        return "api_key (the legacy global API key) also needs api_email (or CLOUDFLARE_EMAIL)"
    return (
        "no Cloudflare credentials: set api_token (or the CLOUDFLARE_API_TOKEN environment variable), "
        "or api_email together with api_key (CLOUDFLARE_EMAIL / CLOUDFLARE_API_KEY)"
    )


class CloudflareModule:
    """Builds the AnsibleModule with the common options merged in and owns one client.

    ``run(func)`` calls ``func()`` and exits with its result dict; typed errors become a
    ``fail_json`` carrying Cloudflare's codes and messages, never a traceback or a credential.
    """

    def __init__(self, argument_spec, supports_check_mode=True, **kwargs):
        spec = cloudflare_common_argument_spec()
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        problem = check_credentials(self.params)
        if problem:
            self.module.fail_json(msg=problem)
        for name in ("timeout", "max_retries", "max_retry_wait"):
            if self.params.get(name) is not None and self.params[name] < 0:
                self.module.fail_json(msg="%s must be 0 or more, got %s" % (name, self.params[name]))
        self.client = CloudflareClient(self.params, check_mode=self.module.check_mode, warn=self.module.warn)

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    def fail(self, msg, **kwargs):
        kwargs.setdefault("api_requests", self.client.requests_made)
        self.module.fail_json(msg=msg, **kwargs)

    def run(self, func):
        """Call ``func()`` and exit with its result; typed errors become ``fail_json`` (no traceback)."""
        failure = None
        try:
            result = func()
        except CloudflareInputError as exc:
            failure = (str(exc), {})
        except CloudflareError as exc:
            failure = (str(exc), exc.to_result())
        finally:
            self.client.close()
        if failure is not None:
            # Outside the except block, so Ansible does not attach the Python traceback.
            self.fail(failure[0], exception=failure[0], **failure[1])
        result = dict(result or {})
        result.setdefault("changed", False)
        result["api_requests"] = self.client.requests_made
        self.module.exit_json(**result)


# ============================================================================================
# HTTP transport: one connection, reused
# ============================================================================================


class _TransportError(Exception):
    def __init__(self, message, sent):
        super().__init__(message)
        self.sent = sent  # True when the request may have reached the server


class _Transport:
    """A single keep-alive HTTP(S) connection to the API host (standard library only)."""

    def __init__(self, base_url, timeout=30, validate_certs=True):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CloudflareInputError(
                "must be an http:// or https:// URL such as %s, got %r" % (DEFAULT_API_BASE_URL, base_url),
                option="api_base_url",
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self.validate_certs = validate_certs
        self._conn = None
        self._absolute = False

    def _proxy(self):
        if proxy_bypass(self.host):
            return None
        proxy = getproxies().get(self.scheme)
        if not proxy:
            return None
        p = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        return p.hostname, p.port or 3128

    def _connect(self):
        proxy = self._proxy()
        if self.scheme == "https":
            ctx = ssl.create_default_context()
            if not self.validate_certs:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if proxy:
                conn = http.client.HTTPSConnection(proxy[0], proxy[1], timeout=self.timeout, context=ctx)
                conn.set_tunnel(self.host, self.port)
            else:
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=ctx)
            self._absolute = False
        else:
            if proxy:
                conn = http.client.HTTPConnection(proxy[0], proxy[1], timeout=self.timeout)
                self._absolute = True
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self._absolute = False
        return conn

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: S110 - closing a broken socket must not hide the real error
                pass
            self._conn = None

    def request(self, method, path_and_query, body, headers):
        target = self.base_path + path_and_query
        if self._absolute:
            target = "%s://%s:%s%s" % (self.scheme, self.host, self.port, target)
        sent = False
        try:
            if self._conn is None:
                self._conn = self._connect()
            if self._conn.sock is None:
                self._conn.connect()  # a failure here means nothing was sent
            self._conn.putrequest(method, target, skip_accept_encoding=True)
            for k, v in headers.items():
                self._conn.putheader(k, v)
            if body is not None:
                self._conn.putheader("Content-Length", str(len(body)))
            sent = True
            self._conn.endheaders(body)
            resp = self._conn.getresponse()
            data = resp.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise _TransportError("%s: %s" % (type(exc).__name__, exc), sent) from None
        resp_headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        return resp.status, resp_headers, data


# ============================================================================================
# The client
# ============================================================================================


def _parse_retry_after(value):
    """Seconds from a ``retry-after`` header (delta-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class CloudflareClient:
    """Cloudflare API v4 over one reused connection.

    ``params`` is a module's params dict (or an ``AnsibleModule``/``CloudflareModule``).
    ``get/post/put/patch/delete`` return the envelope's ``result``; ``paginate`` returns every item.
    """

    backoff_base = 0.5  # seconds; full jitter on base * 2**n
    backoff_cap = 8.0
    retry_after_cap = 60.0  # never sleep longer than this for one retry-after

    def __init__(self, params, check_mode=False, warn=None, sleep=None, transport=None, rng=None):
        if hasattr(params, "params") and not isinstance(params, dict):
            if check_mode is False and hasattr(params, "check_mode"):
                check_mode = params.check_mode
            params = params.params
        self.params = params
        self.check_mode = bool(check_mode)
        self._warn = warn
        self._sleep = sleep or time.sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        base_url = params.get("api_base_url") or DEFAULT_API_BASE_URL
        self.transport = transport or _Transport(
            base_url, timeout=params.get("timeout") or 30, validate_certs=params.get("validate_certs", True)
        )
        self.max_retries = params.get("max_retries")
        if self.max_retries is None:
            self.max_retries = 8
        self.max_retry_wait = params.get("max_retry_wait")
        if self.max_retry_wait is None:
            self.max_retry_wait = 120
        self.requests_made = 0
        self.retries_made = 0
        self.waited = 0.0
        self._zones = {}
        self._zones_by_id = {}
        self._account_id = params.get("account_id") or None

    # ---------------------------------------------------------------- plumbing

    def close(self):
        self.transport.close()

    def warn(self, msg):
        if self._warn:
            self._warn(msg)

    def _headers(self, has_body):
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if has_body:
            headers["Content-Type"] = "application/json"
        token = self.params.get("api_token")
        if token:
            headers["Authorization"] = "Bearer %s" % token
        elif self.params.get("api_key"):
            headers["X-Auth-Email"] = self.params.get("api_email") or ""
            headers["X-Auth-Key"] = self.params.get("api_key")
        return headers

    @staticmethod
    def build_path(path, params=None):
        if not path.startswith("/"):
            path = "/" + path
        if params:
            items = []
            for k, v in params.items():
                if v is None:
                    continue
                if isinstance(v, bool):
                    v = "true" if v else "false"
                items.append((k, v))
            if items:
                path += "?" + urlencode(items)
        return path

    def backoff_delay(self, retry_number):
        """Full-jitter exponential back-off for the n-th retry (1-based)."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** max(0, retry_number - 1)))
        return self._rng.uniform(0, ceiling)

    def wait_before_retry(self, retry_number, retry_after=None, error=None):
        """Sleep before retry ``retry_number``; raise ``error`` when the budget is exhausted."""
        if retry_number > self.max_retries:
            raise _budget_error(error, "gave up after %d retries" % self.max_retries)
        if retry_after is not None:
            delay = min(retry_after, self.retry_after_cap)
        else:
            delay = self.backoff_delay(retry_number)
        if self.waited + delay > self.max_retry_wait:
            raise _budget_error(error, "gave up: retrying would exceed max_retry_wait=%ss" % self.max_retry_wait)
        self.retries_made += 1
        if delay > 0:
            self._sleep(delay)
            self.waited += delay

    @staticmethod
    def _decode(status, data):
        if not data:
            return {}
        try:
            body = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            snippet = data[:200].decode("utf-8", "replace").strip()
            return {"success": False, "errors": [{"code": 0, "message": "non-JSON answer: %s" % snippet}]}
        if not isinstance(body, dict):
            return {"success": 200 <= status < 300, "result": body}
        return body

    # ---------------------------------------------------------------- requests

    def request(self, method, path, params=None, json_body=None, recover=None, idempotent=None, raw=False):
        """Send one API call with retries; return ``result`` (or the envelope when ``raw``).

        ``idempotent`` defaults to the method's nature (POST is not). When a non-idempotent call
        fails in a way that may have been applied (5xx, dropped connection after sending), it is
        re-sent only after ``recover()`` returned None (= not applied); a non-None answer from
        ``recover`` is taken as the call's result. Without ``recover`` such a failure raises
        ``CloudflareAmbiguousWriteError``. A conflict (409/1013/81057/81058) on a re-sent create
        also goes through ``recover``.
        """
        method = method.upper()
        if self.check_mode and method not in ("GET", "HEAD"):
            # Safety net: check mode is decided in the write helpers, which never get here.
            raise CloudflareError("internal error: %s %s attempted in check mode" % (method, path))
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        full_path = self.build_path(path, params)
        body = None
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        headers = self._headers(body is not None)
        attempt = 0
        resent = False
        while True:
            attempt += 1
            self.requests_made += 1
            retry_after = None
            try:
                status, resp_headers, data = self.transport.request(method, full_path, body, headers)
            except _TransportError as exc:
                error = CloudflareConnectionError(
                    "connection to the Cloudflare API failed (%s)" % exc, method=method, path=path, attempts=attempt
                )
                ambiguous = exc.sent and not idempotent
            else:
                envelope = self._decode(status, data)
                ok = 200 <= status < 300 and envelope.get("success", True) is not False
                if ok:
                    return envelope if raw else envelope.get("result")
                errors = envelope.get("errors") or []
                if not errors:
                    errors = [{"code": status, "message": http.client.responses.get(status, "HTTP error")}]
                if method == "DELETE" and resent and status == 404:
                    # The first DELETE went through before its answer was lost.
                    return {"success": True, "result": None} if raw else None
                cls = _error_class(status, errors)
                error = cls("Cloudflare API request failed", status=status, errors=errors, method=method, path=path)
                error.attempts = attempt
                if resent and recover is not None and cls is CloudflareConflictError:
                    found = recover()
                    if found is not None:
                        return found
                if status not in RETRY_STATUSES:
                    raise error
                if status == 429:
                    retry_after = _parse_retry_after(resp_headers.get("retry-after"))
                    ambiguous = False  # rejected before it was processed
                else:
                    ambiguous = not idempotent
            if ambiguous:
                if recover is None:
                    raise CloudflareAmbiguousWriteError(
                        "a %s may or may not have been applied (%s); not re-sending it blindly"
                        % (method, error.message if error.status is None else "HTTP %s" % error.status),
                        status=error.status,
                        errors=error.errors,
                        method=method,
                        path=path,
                        attempts=attempt,
                    )
                self.wait_before_retry(attempt, retry_after, error)
                found = recover()
                if found is not None:
                    return found
                resent = True
                continue
            self.wait_before_retry(attempt, retry_after, error)
            resent = True

    def get(self, path, params=None, **kwargs):
        return self.request("GET", path, params=params, **kwargs)

    def post(self, path, json=None, params=None, **kwargs):
        return self.request("POST", path, params=params, json_body=json, **kwargs)

    def put(self, path, json=None, params=None, **kwargs):
        return self.request("PUT", path, params=params, json_body=json, **kwargs)

    def patch(self, path, json=None, params=None, **kwargs):
        return self.request("PATCH", path, params=params, json_body=json, **kwargs)

    def delete(self, path, params=None, json=None, **kwargs):
        return self.request("DELETE", path, params=params, json_body=json, **kwargs)

    def paginate(self, path, params=None, per_page=100, max_pages=10000):
        """Every item of a list endpoint.

        Stops on an empty page, or when ``page >= total_pages``, or when a page holds fewer items
        than the ``per_page`` the server says it used; whichever comes first. An endpoint that
        answers a non-list ``result`` is returned as is.
        """
        items = []
        page = 1
        while page <= max_pages:
            query = dict(params or {})
            query["page"] = page
            if per_page:
                query["per_page"] = per_page
            envelope = self.request("GET", path, params=query, raw=True)
            result = envelope.get("result")
            if result is None:
                break
            if not isinstance(result, list):
                return result
            items.extend(result)
            if not result:
                break
            info = envelope.get("result_info") or {}
            total_pages = _int_or_none(info.get("total_pages"))
            if total_pages is not None:
                if page >= total_pages:
                    break
            else:
                server_per_page = _int_or_none(info.get("per_page"))
                if server_per_page and len(result) < server_per_page:
                    break
                total_count = _int_or_none(info.get("total_count"))
                if total_count is not None and len(items) >= total_count:
                    break
            page += 1
        return items

    # ---------------------------------------------------------------- zones and accounts

    def find_zone(self, name):
        """The zone dict for ``name`` (one ``GET /zones?name=`` per task, cached)."""
        key = normalise_name(name)
        if not key:
            raise CloudflareInputError("a zone name is required", option="zone")
        if key in self._zones:
            return self._zones[key]
        params = {"name": key}
        if self._account_id:
            params["account.id"] = self._account_id
        found = self.get("/zones", params=params) or []
        matches = [z for z in found if normalise_name(z.get("name")) == key]
        if len(matches) > 1 and self._account_id:
            matches = [z for z in matches if (z.get("account") or {}).get("id") == self._account_id] or matches
        if not matches:
            raise CloudflareNotFoundError(
                "zone %r not found: it does not exist or the credentials cannot read it "
                "(the token needs Zone:Read on it)" % key,
                status=404,
            )
        zone = matches[0]
        self._remember_zone(zone)
        return zone

    def get_zone(self, zone_id):
        if zone_id in self._zones_by_id:
            return self._zones_by_id[zone_id]
        zone = self.get("/zones/%s" % quote(zone_id, safe=""))
        self._remember_zone(zone)
        return zone

    def _remember_zone(self, zone):
        if isinstance(zone, dict):
            self._zones[normalise_name(zone.get("name"))] = zone
            if zone.get("id"):
                self._zones_by_id[zone["id"]] = zone

    def resolve_zone(self, zone=None, zone_id=None):
        if zone_id:
            return self.get_zone(zone_id)
        if zone:
            return self.find_zone(zone)
        raise CloudflareInputError("one of zone or zone_id is required", option="zone")

    def resolve_account_id(self, zone=None):
        """``account_id`` option, else the account of ``zone``, else the only account the token sees."""
        if self._account_id:
            return self._account_id
        if zone:
            z = self.find_zone(zone)
            account = (z.get("account") or {}).get("id")
            if account:
                self._account_id = account
                return account
        try:
            accounts = self.paginate("/accounts", per_page=50)
        except CloudflareError:
            accounts = []
        if isinstance(accounts, list) and len(accounts) == 1 and accounts[0].get("id"):
            self._account_id = accounts[0]["id"]
            return self._account_id
        raise CloudflareInputError(
            "account_id is required (or CLOUDFLARE_ACCOUNT_ID, or a zone to take the account from): "
            "the credentials see %s account(s)" % (len(accounts) if isinstance(accounts, list) else "no"),
            option="account_id",
        )


def _budget_error(error, why):
    if error is None:
        return CloudflareRetryError("Cloudflare API request failed: %s" % why)
    cls = CloudflareRetryError
    new = cls(
        "%s; %s" % (error.message, why),
        status=error.status,
        errors=error.errors,
        method=error.method,
        path=error.path,
        attempts=error.attempts,
    )
    return new


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ============================================================================================
# Differences
# ============================================================================================


class DifferenceTracker:
    """Records each difference once; feeds ``changed`` and Ansible's ``diff`` output."""

    def __init__(self):
        self._items = []
        self._paths = set()

    def add(self, path, before, after):
        if path in self._paths:
            return
        self._paths.add(path)
        self._items.append((path, before, after))

    @property
    def has_differences(self):
        return bool(self._items)

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    @property
    def paths(self):
        return [p for p, _b, _a in self._items]

    def get_before(self):
        return {p: b for p, b, _a in self._items}

    def get_after(self):
        return {p: a for p, _b, a in self._items}

    def diff(self, before_header=None, after_header=None):
        out = {"before": self.get_before(), "after": self.get_after()}
        if before_header:
            out["before_header"] = before_header
        if after_header:
            out["after_header"] = after_header
        return out


def normalise(value):
    """A comparable form: dict keys sorted, ``None`` values dropped from dicts, strings stripped."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def changed_fields(current, desired, tracker=None, prefix="", comparators=None):
    """Compare the options the user gave (non-None in ``desired``) with ``current``.

    Options left out (None) are never compared: they leave existing values alone. Returns the
    dict of fields to send; each difference is recorded in ``tracker`` under ``prefix + key``.
    ``comparators`` maps a key to ``f(current_value, desired_value) -> bool equal``.
    """
    current = current or {}
    changes = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key)
        cmp = (comparators or {}).get(key)
        equal = cmp(have, want) if cmp else normalise(have) == normalise(want)
        if not equal:
            changes[key] = want
            if tracker is not None:
                tracker.add(prefix + key, have, want)
    return changes


# ============================================================================================
# Names
# ============================================================================================


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


def record_fqdn(name, zone_name):
    """``@`` or '' -> apex; relative names get the zone appended; FQDNs kept (lower-case)."""
    zone_name = normalise_name(zone_name)
    name = normalise_name(name if name is not None else "@")
    if name in ("", "@"):
        return zone_name
    if name == zone_name or name.endswith("." + zone_name):
        return name
    return "%s.%s" % (name, zone_name)


# ============================================================================================
# Tunnels
# ============================================================================================


def tunnel_path(account_id, tunnel_id=None, suffix=None):
    path = "/accounts/%s/cfd_tunnel" % quote(account_id, safe="")
    if tunnel_id:
        path += "/" + quote(tunnel_id, safe="")
    if suffix:
        path += "/" + suffix
    return path


def generate_tunnel_secret():
    """Base64 of 32 random bytes, as cloudflared generates it."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def check_tunnel_secret(secret):
    """Raise CloudflareInputError unless ``secret`` is base64 of at least 32 bytes."""
    try:
        raw = base64.b64decode(secret, validate=True)
    except (ValueError, TypeError):
        raise CloudflareInputError(
            "must be base64 of at least 32 random bytes (for example the output of `openssl rand -base64 32`); "
            "the value given is not valid base64",
            option="tunnel_secret",
        ) from None
    if len(raw) < 32:
        raise CloudflareInputError(
            "must be base64 of at least 32 random bytes; the value given decodes to %d bytes" % len(raw),
            option="tunnel_secret",
        )


# Cloudflare's tunnel API has no field for labels (create takes name, config_src and tunnel_secret;
# the answer's metadata cannot be set), so the owner (the site) of a tunnel this collection creates is
# recorded in its secret: the random bytes, then a 16-byte HMAC-SHA256 tag of them keyed by the owner
# id. It is a label, like the DNS comment, not a lock: anyone who can read the tunnel's token can
# compute it. The random part keeps its full strength.
TUNNEL_MARK_BYTES = 16
_TUNNEL_MARK_KEY = b"homelab.mcp_edge tunnel owner "


def _tunnel_mark(owner_id, raw):
    key = _TUNNEL_MARK_KEY + owner_id.encode("utf-8")
    return hmac.new(key, raw, hashlib.sha256).digest()[:TUNNEL_MARK_BYTES]


def _secret_bytes(secret):
    try:
        return base64.b64decode(secret or "", validate=True)
    except (ValueError, TypeError):
        return b""


def mark_tunnel_secret(secret, owner_id):
    """``secret`` (base64) followed by the owner's tag, as base64: the secret a tunnel of ``owner_id`` gets."""
    raw = _secret_bytes(secret)
    return base64.b64encode(raw + _tunnel_mark(owner_id, raw)).decode("ascii")


def tunnel_secret_owned(secret, owner_id):
    """Whether ``secret`` (base64) ends with ``owner_id``'s tag over the bytes before it."""
    raw = _secret_bytes(secret)
    if len(raw) < 32 + TUNNEL_MARK_BYTES:
        return False
    body, tag = raw[:-TUNNEL_MARK_BYTES], raw[-TUNNEL_MARK_BYTES:]
    return hmac.compare_digest(tag, _tunnel_mark(owner_id, body))


def unmarked_tunnel_secret(secret, owner_id):
    """The secret without ``owner_id``'s tag (as given to ``mark_tunnel_secret``); unchanged when unmarked."""
    if not tunnel_secret_owned(secret, owner_id):
        return secret
    return base64.b64encode(_secret_bytes(secret)[:-TUNNEL_MARK_BYTES]).decode("ascii")


def find_tunnel(client, account_id, name):
    """The live (not deleted) tunnel called ``name``, or None."""
    items = client.paginate(tunnel_path(account_id), params={"name": name, "is_deleted": "false"}, per_page=50)
    for t in items or []:
        if t.get("name") == name and not t.get("deleted_at"):
            return t
    return None


def create_tunnel(client, account_id, name, config_src, secret):
    """POST a tunnel; a retried create that meets 'name taken' re-reads the tunnel by name."""
    body = {"name": name, "config_src": config_src, "tunnel_secret": secret}
    return client.post(tunnel_path(account_id), json=body, recover=lambda: find_tunnel(client, account_id, name))


def decode_tunnel_token(token):
    """``{"a": account_tag, "t": tunnel_id, "s": secret}`` from a tunnel token."""
    if not token:
        return {}
    text = token.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        data = json.loads(base64.b64decode(padded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        try:
            data = json.loads(base64.urlsafe_b64decode(padded).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
    return data if isinstance(data, dict) else {}


def encode_tunnel_token(account_tag, tunnel_id, secret):
    raw = json.dumps({"a": account_tag, "t": tunnel_id, "s": secret}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def tunnel_credentials(account_tag, tunnel_id, secret, endpoint=""):
    """The dict cloudflared reads from ``<tunnel-id>.json``."""
    return {"AccountTag": account_tag, "TunnelSecret": secret, "TunnelID": tunnel_id, "Endpoint": endpoint}


# ============================================================================================
# DNS records: validation, normalisation and the set planner (pure functions)
# ============================================================================================

DNS_TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS", "PTR", "HTTPS", "SVCB")
DATA_TYPES = frozenset(("SRV", "CAA", "HTTPS", "SVCB"))
PROXIABLE_TYPES = frozenset(("A", "AAAA", "CNAME"))
HOSTNAME_CONTENT_TYPES = frozenset(("CNAME", "NS", "PTR", "MX"))
# Types that default to solo=true: one record per (type, name) is the overwhelmingly common case.
SOLO_DEFAULT_TYPES = frozenset(("A", "AAAA", "CNAME"))
DATA_KEYS = {
    "SRV": ("priority", "weight", "port", "target"),
    "CAA": ("flags", "tag", "value"),
    "HTTPS": ("priority", "target", "value"),
    "SVCB": ("priority", "target", "value"),
}
CAA_TAGS = ("issue", "issuewild", "iodef")
RECORD_FIELDS = ("type", "name", "content", "data", "ttl", "proxied", "comment", "tags", "priority", "settings")
MARKER_PREFIX = "managed-by: " + COLLECTION_NAME
TAG_NAME = "managed-by"
_MARKER_RE = re.compile(r"managed-by: homelab\.mcp_edge(?: ([A-Za-z0-9_.\-]+))?")
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


def ownership_marker(ownership, owner_id=None):
    """The comment fragment (ownership=comment) or tag (ownership=tag) marking our records."""
    if ownership == "comment":
        return MARKER_PREFIX + (" " + owner_id if owner_id else "")
    if ownership == "tag":
        return "%s:%s" % (TAG_NAME, COLLECTION_NAME + ("." + owner_id if owner_id else ""))
    return None


def is_owned(record, ownership, owner_id=None):
    if ownership == "comment":
        m = _MARKER_RE.search(record.get("comment") or "")
        return bool(m) and (m.group(1) or None) == (owner_id or None)
    if ownership == "tag":
        return ownership_marker("tag", owner_id) in (record.get("tags") or [])
    return False


def record_owner(record, ownership):
    """The owner id a record's marker names (``""`` for the bare marker), or None when it carries none."""
    if ownership == "comment":
        m = _MARKER_RE.search(record.get("comment") or "")
        return (m.group(1) or "") if m else None
    if ownership == "tag":
        bare = ownership_marker("tag")
        for tag in record.get("tags") or []:
            if tag == bare:
                return ""
            if tag.startswith(bare + "."):
                return tag[len(bare) + 1 :]
    return None


def foreign_reason(owner, owner_id):
    """Why a record whose marker names ``owner`` (see ``record_owner``) is not ``owner_id``'s, in words."""
    if owner is None:
        return "it carries no ownership marker"
    if owner == "":
        return "its marker names no owner"
    return "its marker names the owner %r" % owner


def describe_record(record):
    """``CNAME time.example.com (id abc)`` for messages."""
    return "%s %s (id %s)" % (record.get("type"), record.get("name"), record.get("id") or "?")


def split_marked_comment(comment):
    """(user part, has marker) of a comment that may carry our marker."""
    if not comment:
        return None, False
    m = _MARKER_RE.search(comment)
    if not m:
        return comment, False
    user = (comment[: m.start()] + comment[m.end() :]).strip().strip(";").strip()
    return user or None, True


def mark_comment(user_comment, marker):
    return "%s; %s" % (user_comment, marker) if user_comment else marker


def _norm_hostname(value):
    return normalise_name(value) if value is not None else None


def _unquote_txt(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"' and value.count('"') == 2:
        return value[1:-1]
    return value


def normalise_content(rtype, content):
    if content is None:
        return None
    content = str(content).strip()
    if rtype in ("A", "AAAA"):
        try:
            return ipaddress.ip_address(content).compressed
        except ValueError:
            return content
    if rtype in HOSTNAME_CONTENT_TYPES:
        return _norm_hostname(content)
    if rtype == "TXT":
        return _unquote_txt(content)
    return content


def normalise_data(rtype, data):
    if not data:
        return None
    out = {}
    for k, v in data.items():
        if v is None:
            continue
        if k in ("priority", "weight", "port", "flags"):
            try:
                v = int(v)
            except (TypeError, ValueError):
                pass
        elif k == "target" and isinstance(v, str):
            v = _norm_hostname(v) or "."
        elif isinstance(v, str):
            v = v.strip()
        out[k] = v
    return out


def record_identity(rec):
    """What identifies a record among several of the same (type, name)."""
    rtype = rec["type"]
    if rtype in DATA_TYPES:
        data = normalise_data(rtype, rec.get("data")) or {}
        if rtype == "SRV":
            return (data.get("target"), data.get("port"))
        if rtype == "CAA":
            return (data.get("tag"), data.get("value"))
        return (data.get("priority"), data.get("target"))
    return normalise_content(rtype, rec.get("content"))


# A DNS record tag: "name:value", the name of letters, digits, '-' and '_' (Cloudflare's schema).
_TAG_RE = re.compile(r"^[A-Za-z0-9_-]+:")


def validate_record(spec, zone_name, where="", require_value=True):
    """Check one desired record; return it normalised (``name`` as FQDN, ``type`` upper-case).

    ``where`` prefixes option names in messages (``records[3].``). Raises CloudflareInputError.
    """
    rec = {k: spec.get(k) for k in RECORD_FIELDS}
    rtype = str(rec.get("type") or "").upper()
    if rtype not in DNS_TYPES:
        raise CloudflareInputError(
            "must be one of %s, got %r" % (", ".join(DNS_TYPES), spec.get("type")), option=where + "type"
        )
    rec["type"] = rtype
    name = rec.get("name")
    if name is None or str(name).strip() == "":
        raise CloudflareInputError(
            "is required: a name relative to the zone, '@' for the apex, or a FQDN inside %s" % zone_name,
            option=where + "name",
        )
    zone_norm = normalise_name(zone_name)
    if str(name).strip().endswith(".") and str(name).strip() != ".":
        fqdn = normalise_name(name)  # a trailing dot makes the name absolute
        if not (fqdn == zone_norm or fqdn.endswith("." + zone_norm)):
            raise CloudflareInputError(
                "%r is outside the zone %s (a name ending in '.' is absolute)" % (name, zone_name),
                option=where + "name",
            )
    else:
        fqdn = record_fqdn(name, zone_name)
    if "*" in fqdn and not (fqdn.startswith("*.") and "*" not in fqdn[2:]):
        raise CloudflareInputError(
            "a wildcard is only valid as the leftmost label ('*.sub.%s'), got %r" % (zone_name, name),
            option=where + "name",
        )
    rec["name"] = fqdn
    ttl = rec.get("ttl")
    if ttl is not None and ttl != 1 and not 60 <= int(ttl) <= 86400:
        raise CloudflareInputError("must be 1 (automatic) or 60..86400 seconds, got %s" % ttl, option=where + "ttl")
    if rec.get("proxied") and rtype not in PROXIABLE_TYPES:
        raise CloudflareInputError(
            "only A, AAAA and CNAME records can be proxied, not %s" % rtype, option=where + "proxied"
        )
    if rec.get("priority") is not None and rtype != "MX":
        raise CloudflareInputError(
            "applies to MX records only; SRV, HTTPS and SVCB take it inside data", option=where + "priority"
        )
    if rec.get("tags") is not None:
        for tag in rec["tags"]:
            if not isinstance(tag, str) or not _TAG_RE.match(tag):
                raise CloudflareInputError(
                    "each tag must look like 'name:value' with a name of letters, digits, '-' and '_', got %r" % (tag,),
                    option=where + "tags",
                )
    settings = rec.get("settings") or {}
    if isinstance(settings, dict) and settings.get("flatten_cname") and rec.get("proxied"):
        # A proxied CNAME is already answered with Cloudflare's addresses; Cloudflare refuses both.
        raise CloudflareInputError(
            "settings.flatten_cname cannot be combined with proxied: true (a proxied record is never flattened)",
            option=where + "settings",
        )
    if rtype in DATA_TYPES:
        if rec.get("content") is not None and rec.get("data") is None:
            raise CloudflareInputError(
                "%s records take data (keys %s), not content" % (rtype, ", ".join(DATA_KEYS[rtype])),
                option=where + "content",
            )
        data = rec.get("data")
        if data is None:
            if require_value:
                raise CloudflareInputError(
                    "is required for %s records, with keys %s" % (rtype, ", ".join(DATA_KEYS[rtype])),
                    option=where + "data",
                )
        else:
            if not isinstance(data, dict):
                raise CloudflareInputError("must be a dict with keys %s" % ", ".join(DATA_KEYS[rtype]), where + "data")
            unknown = sorted(set(data) - set(DATA_KEYS[rtype]))
            if unknown:
                raise CloudflareInputError(
                    "unknown key(s) %s for %s; valid: %s" % (", ".join(unknown), rtype, ", ".join(DATA_KEYS[rtype])),
                    option=where + "data",
                )
            missing = [k for k in DATA_KEYS[rtype] if k != "value" and data.get(k) is None]
            if rtype in ("HTTPS", "SVCB"):
                missing = [k for k in ("priority", "target") if data.get(k) is None]
            if missing:
                raise CloudflareInputError(
                    "missing key(s) %s for %s" % (", ".join(missing), rtype), option=where + "data"
                )
            if rtype == "CAA" and data.get("tag") not in CAA_TAGS:
                raise CloudflareInputError(
                    "CAA tag must be one of %s, got %r" % (", ".join(CAA_TAGS), data.get("tag")),
                    option=where + "data.tag",
                )
            if rtype == "SRV" and not 0 <= int(data.get("port")) <= 65535:
                raise CloudflareInputError("must be 0..65535", option=where + "data.port")
            rec["data"] = normalise_data(rtype, data)
    else:
        if rec.get("data") is not None:
            raise CloudflareInputError(
                "only SRV, CAA, HTTPS and SVCB records take data; %s takes content" % rtype, option=where + "data"
            )
        content = rec.get("content")
        if content is None or str(content).strip() == "":
            if require_value:
                raise CloudflareInputError("is required for %s records" % rtype, option=where + "content")
        else:
            content = str(content).strip()
            if rtype == "A":
                try:
                    ipaddress.IPv4Address(content)
                except ValueError:
                    raise CloudflareInputError(
                        "must be an IPv4 address for an A record, got %r" % content, option=where + "content"
                    ) from None
            elif rtype == "AAAA":
                try:
                    ipaddress.IPv6Address(content)
                except ValueError:
                    raise CloudflareInputError(
                        "must be an IPv6 address for an AAAA record, got %r" % content, option=where + "content"
                    ) from None
            rec["content"] = content
        if rtype == "MX" and rec.get("priority") is None and require_value:
            rec["priority"] = None  # left to the API default on create (0) unless given
    return rec


def _comment_equal(have, want):
    return (have or None) == (want or None)


def _tags_equal(have, want):
    return sorted(have or []) == sorted(want or [])


def record_changes(current, desired, tracker=None, prefix=""):
    """Fields of ``desired`` (a validated record) that differ from ``current`` (an API record).

    Left-out options (None) are not compared. ``ttl`` is not compared on proxied records (the API
    answers 1 for them whatever was sent).
    """
    rtype = desired["type"]
    changes = {}

    def diff(key, have, want):
        changes[key] = want
        if tracker is not None:
            tracker.add(prefix + key, have, want)

    if rtype in DATA_TYPES:
        if desired.get("data") is not None:
            have = normalise_data(rtype, current.get("data")) or {}
            want = desired["data"]
            if any(have.get(k) != v for k, v in want.items()):
                diff("data", current.get("data"), want)
    elif desired.get("content") is not None:
        if normalise_content(rtype, current.get("content")) != normalise_content(rtype, desired["content"]):
            diff("content", current.get("content"), desired["content"])
    if desired.get("proxied") is not None and bool(current.get("proxied")) != bool(desired["proxied"]):
        diff("proxied", bool(current.get("proxied")), desired["proxied"])
    proxied_after = desired["proxied"] if desired.get("proxied") is not None else bool(current.get("proxied"))
    if desired.get("ttl") is not None and not proxied_after and current.get("ttl") != desired["ttl"]:
        diff("ttl", current.get("ttl"), desired["ttl"])
    if desired.get("comment") is not None and not _comment_equal(current.get("comment"), desired["comment"]):
        diff("comment", current.get("comment"), desired["comment"])
    if desired.get("tags") is not None and not _tags_equal(current.get("tags"), desired["tags"]):
        diff("tags", current.get("tags") or [], desired["tags"])
    if desired.get("priority") is not None and current.get("priority") != desired["priority"]:
        diff("priority", current.get("priority"), desired["priority"])
    if desired.get("settings") is not None:
        have = current.get("settings") or {}
        if any(have.get(k) != v for k, v in desired["settings"].items() if v is not None):
            merged = dict(have)
            merged.update({k: v for k, v in desired["settings"].items() if v is not None})
            diff("settings", have, merged)
    return changes


def record_create_body(desired):
    """The POST body for a validated desired record (left-out options stay out)."""
    body = {"type": desired["type"], "name": desired["name"]}
    for key in ("content", "data", "ttl", "proxied", "comment", "tags", "priority", "settings"):
        if desired.get(key) is not None:
            body[key] = desired[key]
    if "ttl" not in body:
        body["ttl"] = 1
    return body


def record_view(rec):
    """A compact, stable form of a record for diff output."""
    rtype = rec.get("type")
    out = {"type": rtype, "name": rec.get("name")}
    if rtype in DATA_TYPES and rec.get("data"):
        out["data"] = normalise_data(rtype, rec.get("data"))
    else:
        out["content"] = rec.get("content")
    for key in ("ttl", "proxied", "priority"):
        if rec.get(key) is not None:
            out[key] = rec.get(key)
    if rec.get("comment"):
        out["comment"] = rec.get("comment")
    if rec.get("tags"):
        out["tags"] = sorted(rec.get("tags"))
    if rec.get("id"):
        out["id"] = rec["id"]
    return out


def _view_sort_key(view):
    return (view.get("name") or "", view.get("type") or "", json.dumps(view.get("content") or view.get("data") or ""))


def _apply(current, changes):
    after = dict(current)
    after.update(changes)
    if after.get("proxied"):
        after["ttl"] = 1
    return after


# What each plan allows for DNS records (Cloudflare's DNS limits): comment length, tags, changes
# in one batch request, and records in a zone. Free zones created from 2024-09-01 hold 200
# records, older Free zones 1,000; every paid plan 3,500.
_FREE_QUOTA_CUTOFF = "2024-09-01"
PLAN_DNS_LIMITS = {
    "free": {"comment": 100, "tags": False, "batch": 200, "records": 1000},
    "paid": {"comment": 500, "tags": True, "batch": 3500, "records": 3500},
}


def dns_plan_limits(zone):
    """The DNS limits of ``zone``'s plan, with the plan's name: ``{"plan", "comment", "tags", "batch", "records"}``."""
    plan = zone.get("plan") or {}
    legacy = (plan.get("legacy_id") or "free").lower()
    limits = dict(PLAN_DNS_LIMITS["free" if legacy == "free" else "paid"])
    if legacy == "free" and (zone.get("created_on") or "") >= _FREE_QUOTA_CUTOFF:
        limits["records"] = 200
    limits["plan"] = plan.get("name") or legacy
    return limits


def dns_limit_problems(zone, written, records_after=None, batch_size=None):
    """Every way ``written`` (record bodies as they would be sent) breaks the zone's plan, checked
    before any write. ``records_after``: the zone's record count once the change is applied."""
    limits = dns_plan_limits(zone)
    where_zone = "zone %s (%s)" % (zone.get("name"), limits["plan"])
    problems = []
    for body in written:
        label = "%s %s" % (body.get("type"), body.get("name"))
        comment = body.get("comment") or ""
        if len(comment) > limits["comment"]:
            marker = _MARKER_RE.search(comment)
            extra = ""
            if marker:
                # The marker and its "; " separator: what the user's own comment cannot use.
                taken = len(comment) - len(split_marked_comment(comment)[0])
                extra = "; the ownership marker %r takes %d of them, so the comment you give may have at most %d" % (
                    marker.group(0),
                    taken,
                    limits["comment"] - taken,
                )
            problems.append(
                "%s: the comment is %d characters, %s allows %d%s"
                % (label, len(comment), where_zone, limits["comment"], extra)
            )
        if body.get("tags") and not limits["tags"]:
            problems.append(
                "%s: %s allows no DNS record tags (%s); use comment, or ownership=comment"
                % (label, where_zone, ", ".join(body["tags"]))
            )
    if records_after is not None and records_after > limits["records"]:
        problems.append(
            "%s holds at most %d DNS records; this change would leave %d"
            % (where_zone, limits["records"], records_after)
        )
    if batch_size is not None and batch_size > limits["batch"]:
        problems.append(
            "batch_size %d: %s allows at most %d changes in one batch request"
            % (batch_size, where_zone, limits["batch"])
        )
    return problems


class DnsPlan:
    """What a desired set means for a zone: creates, updates, deletes, unchanged."""

    def __init__(self):
        self.creates = []  # POST bodies
        self.updates = []  # (current record, patch body without id)
        self.deletes = []  # current records
        self.unchanged = []  # current records

    @property
    def changed(self):
        return bool(self.creates or self.updates or self.deletes)

    def counts(self):
        return {
            "created": len(self.creates),
            "updated": len(self.updates),
            "deleted": len(self.deletes),
            "unchanged": len(self.unchanged),
        }

    def operations(self):
        """Flat ordered list: all deletes, then patches, then posts (the batch endpoint's order)."""
        ops = [("deletes", {"id": r["id"]}) for r in self.deletes]
        for cur, patch in self.updates:
            body = {"id": cur["id"]}
            body.update(patch)
            ops.append(("patches", body))
        ops.extend(("posts", body) for body in self.creates)
        return ops

    def batches(self, batch_size=200):
        """Batch request bodies of at most ``batch_size`` changes each, in order."""
        ops = self.operations()
        out = []
        for start in range(0, len(ops), max(1, batch_size)):
            body = {}
            for kind, item in ops[start : start + batch_size]:
                body.setdefault(kind, []).append(item)
            out.append(body)
        return out

    def diff(self):
        before = [record_view(r) for r in self.unchanged]
        after = [record_view(r) for r in self.unchanged]
        for cur, patch in self.updates:
            before.append(record_view(cur))
            after.append(record_view(_apply(cur, patch)))
        before.extend(record_view(r) for r in self.deletes)
        after.extend(record_view(b) for b in self.creates)
        # A mapping, not a bare list: Ansible's callbacks render only text or mappings as a diff.
        return {
            "before": {"records": sorted(before, key=_view_sort_key)},
            "after": {"records": sorted(after, key=_view_sort_key)},
        }

    def written(self):
        """Every record body this plan would send (creates, and updates as they would end up)."""
        return list(self.creates) + [_apply(cur, patch) for cur, patch in self.updates]

    def changes(self):
        """Per-record summary for the module's return value."""
        return {
            "created": sorted((record_view(b) for b in self.creates), key=_view_sort_key),
            "updated": sorted(
                ({"before": record_view(c), "after": record_view(_apply(c, p))} for c, p in self.updates),
                key=lambda x: _view_sort_key(x["before"]),
            ),
            "deleted": sorted((record_view(r) for r in self.deletes), key=_view_sort_key),
        }


def plan_dns_records(current, desired, ownership="comment", owner_id=None, purge=False, adopt=False):
    """Pure planner: existing records + validated desired records -> ``DnsPlan``.

    * a desired record matches an existing one of the same (type, name) and identity (content, or
      the identifying part of ``data``); a match is updated in place when a given option differs;
    * an unmatched desired record takes over an unmatched existing record of the same (type, name)
      when that record is ours (ownership marker), or, for A/AAAA/CNAME (one per name is the norm),
      when it is not: the record changes in place instead of a second one being added;
    * otherwise it is created;
    * with ``ownership`` comment/tag, a record that is not ours (no marker, or another owner's) is
      never matched or taken over silently: unless ``adopt``, every such record is collected and
      ``CloudflareOwnershipError`` names them all before anything is planned; with ``adopt`` it is
      taken over and gets our marker;
    * ``state: absent`` entries delete every matching record (all of the (type, name) when neither
      content nor data is given);
    * ``purge`` deletes records that carry our ownership marker and were not matched; a record
      without the marker is never purged;
    * with ``ownership`` comment/tag every record we write carries the marker; a user ``comment``
      is kept next to it.
    """
    marker = ownership_marker(ownership, owner_id) if ownership in ("comment", "tag") else None
    groups = {}
    for rec in current:
        key = (rec.get("type"), normalise_name(rec.get("name")))
        groups.setdefault(key, []).append(rec)
    claimed = set()
    plan = DnsPlan()
    seen = {}
    foreign = []  # records not ours that a wanted record would have to take over
    present = [d for d in desired if d.get("state", "present") != "absent"]
    absent = [d for d in desired if d.get("state", "present") == "absent"]

    def ours(rec):
        return marker is None or is_owned(rec, ownership, owner_id)

    for idx, d in enumerate(present):
        ident = (d["type"], d["name"], json.dumps(record_identity(d), sort_keys=True, default=str))
        if ident in seen:
            raise CloudflareInputError(
                "duplicate of records[%d] (same type, name and %s)"
                % (seen[ident], "data" if d["type"] in DATA_TYPES else "content"),
                option="records[%d]" % d.get("_index", idx),
            )
        seen[ident] = d.get("_index", idx)

    def with_marker(d, cur=None):
        d = dict(d)
        if ownership == "comment":
            if d.get("comment") is not None:
                user = split_marked_comment(d["comment"])[0]
            elif cur is not None:
                user = split_marked_comment(cur.get("comment"))[0]
            else:
                user = None
            d["comment"] = mark_comment(user, marker)
        elif ownership == "tag":
            tags = list(d["tags"]) if d.get("tags") is not None else list((cur or {}).get("tags") or [])
            if cur is not None and not is_owned(cur, ownership, owner_id):
                # Adopted: another owner's tag goes, ours comes.
                tags = [t for t in tags if record_owner({"tags": [t]}, "tag") is None]
            if marker not in tags:
                tags.append(marker)
            d["tags"] = tags
        return d

    def take(d, rec):
        claimed.add(id(rec))
        changes = record_changes(rec, with_marker(d, rec))
        if changes:
            plan.updates.append((rec, changes))
        else:
            plan.unchanged.append(rec)

    # Pass 1: exact identity matches (ours first).
    pending = []
    for d in present:
        group = groups.get((d["type"], d["name"]), [])
        ident = record_identity(d)
        matches = [r for r in group if id(r) not in claimed and record_identity(r) == ident]
        match = next((r for r in matches if ours(r)), None)
        if match is None and matches:
            match = matches[0]
            if not adopt:
                claimed.add(id(match))
                foreign.append(match)
                continue
        if match is None:
            pending.append(d)
            continue
        take(d, match)
    # Pass 2: take over an unmatched record of the same (type, name), else create.
    for d in pending:
        group = groups.get((d["type"], d["name"]), [])
        candidates = [r for r in group if id(r) not in claimed]
        takeover = next((r for r in candidates if marker and ours(r)), None)
        if takeover is None and d["type"] in SOLO_DEFAULT_TYPES and candidates:
            takeover = candidates[0]
            if not ours(takeover) and not adopt:
                claimed.add(id(takeover))
                foreign.append(takeover)
                continue
        if takeover is not None:
            take(d, takeover)
        else:
            plan.creates.append(record_create_body(with_marker(d)))
    if foreign:
        raise CloudflareOwnershipError(
            "%d existing record(s) have a type and name this task wants, but were not created by %s: %s. "
            "Nothing was changed. If they are yours to manage here, set adopt: true (they then get this owner's "
            "marker and are managed, and purged, like records this task created); otherwise delete them or "
            "choose other names."
            % (
                len(foreign),
                "owner %r" % owner_id if owner_id else "this collection without an owner id",
                "; ".join(
                    "%s: %s" % (describe_record(r), foreign_reason(record_owner(r, ownership), owner_id))
                    for r in foreign
                ),
            )
        )
    # Explicit deletions.
    for d in absent:
        group = groups.get((d["type"], d["name"]), [])
        has_value = d.get("content") is not None or d.get("data") is not None
        for r in group:
            if id(r) in claimed:
                continue
            if has_value and record_identity(r) != record_identity(d):
                continue
            claimed.add(id(r))
            plan.deletes.append(r)
    # Purge: only records carrying our marker.
    if purge and marker:
        for r in current:
            if id(r) not in claimed and is_owned(r, ownership, owner_id):
                claimed.add(id(r))
                plan.deletes.append(r)
    return plan


def dns_records_path(zone_id, record_id=None, suffix=None):
    path = "/zones/%s/dns_records" % quote(zone_id, safe="")
    if record_id:
        path += "/" + quote(record_id, safe="")
    if suffix:
        path += "/" + suffix
    return path


DNS_LIST_PER_PAGE = 5000


def list_dns_records(client, zone_id, params=None):
    return client.paginate(dns_records_path(zone_id), params=params, per_page=DNS_LIST_PER_PAGE)


def find_dns_records(client, zone_id, rtype, fqdn):
    """Records of one (type, name): one GET (the API's ``name`` filter is an exact match)."""
    return client.paginate(dns_records_path(zone_id), params={"type": rtype, "name": fqdn}, per_page=100)


def create_dns_record(client, zone_id, body):
    """POST one record; after an ambiguous failure, re-read (type, name) before re-sending."""

    def recover():
        ident = record_identity(body)
        for rec in find_dns_records(client, zone_id, body["type"], body["name"]):
            if record_identity(rec) == ident:
                return rec
        return None

    return client.post(dns_records_path(zone_id), json=body, recover=recover)


def apply_dns_batches(client, zone_id, plan, batch_size, replan):
    """Apply ``plan`` through the batch endpoint in chunks of ``batch_size``.

    Each batch is one transaction. When a batch fails in a way that may have been applied (5xx,
    dropped connection), nothing is re-sent blindly: ``replan()`` re-lists the zone and recomputes
    the remaining changes, which then continue. Bounded by the client's retry budget.
    Returns the number of batch requests that succeeded.
    """
    batches = plan.batches(batch_size)
    recoveries = 0
    done = 0
    i = 0
    while i < len(batches):
        try:
            client.post(dns_records_path(zone_id, suffix="batch"), json=batches[i])
        except CloudflareAmbiguousWriteError as exc:
            recoveries += 1
            client.wait_before_retry(recoveries, None, exc)
            batches = replan().batches(batch_size)
            i = 0
            continue
        done += 1
        i += 1
    return done
