# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Cloudflare API v4 client shared by the ``cloudflare_*`` modules.

PRIVATE: this file is an implementation detail of homelab.mcp_edge. Nothing in it is a public
API; it may change in any release without notice. Do not import it from outside the collection.

What lives here (and nowhere else):

* the common module options (``cloudflare_common_argument_spec``) and ``CloudflareModule``, which
  builds the ``AnsibleModule``, checks the credentials, runs a manager (``_diff.Manager``) and
  turns typed errors (``_errors``) into ``fail_json`` (a refused credential first says why, in
  ``_permissions``'s words);
* ``CloudflareClient``: Bearer token or legacy e-mail + global key, retries with jittered back-off
  on 429 (honouring ``retry-after``), 5xx and dropped connections within a bounded total wait, one
  pagination helper, a request counter, zone and account resolution; the HTTP itself is
  ``_http.Transport`` (one reused ``requests`` session);
* retry safety for non-idempotent writes: a POST that failed in a way that may have been applied
  is never re-sent blindly; the caller gives a ``recover`` callable that looks the object up first;
* ``api_path()``, the one way to build an API path from its segments.

Elsewhere: DNS records in ``_dns`` / ``_dns_records``, tunnels in ``_tunnel``, ingress rules in
``_ingress``, value rules (durations, UUIDs, ports, DNS names, owner ids) in ``_values``.

The token or key is only ever put in a request header; it is never part of a message, an
exception or a return value.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import time
from urllib.parse import quote, urlencode

from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareAmbiguousWriteError,
    CloudflareConflictError,
    CloudflareConnectionError,
    CloudflareError,
    CloudflareInputError,
    CloudflareNotFoundError,
    CloudflareRetryError,
    error_class,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._http import (
    DEFAULT_API_BASE_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    Transport,
    TransportError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._permissions import (
    explain_auth_error,
    is_account_token,
    is_auth_error,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import normalise_name

try:  # Only the module glue needs Ansible; the client and the planners are plain Python.
    from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

    HAS_ANSIBLE = True
except ImportError:  # pragma: no cover - exercised only outside Ansible
    AnsibleModule = None
    env_fallback = None
    missing_required_lib = None
    HAS_ANSIBLE = False

USER_AGENT = "homelab.mcp_edge (Ansible collection)"

# Methods that can be re-sent after an ambiguous failure without changing the outcome.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"))
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 530))


def api_path(*segments):
    """``/accounts/<id>/cfd_tunnel/<id>/token`` from its segments: each one quoted, None or '' skipped."""
    return "/" + "/".join(quote(str(s), safe="") for s in segments if s not in (None, ""))


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


def zone_argument_spec():
    """``zone`` / ``zone_id``, for the modules that work in one zone (documented in ``cloudflare.zone``)."""
    return dict(zone=dict(type="str"), zone_id=dict(type="str"))


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

    ``run(SomeManager)`` runs ``SomeManager(self).run()`` (see ``_diff.Manager``); ``run(func)``
    calls ``func()``. Either way it exits with the result dict; typed errors become a ``fail_json``
    carrying Cloudflare's codes and messages, never a traceback or a credential.
    """

    def __init__(self, argument_spec, supports_check_mode=True, **kwargs):
        spec = cloudflare_common_argument_spec()
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
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

    def failure_message(self, exc):
        """Why a call failed: for a refusal of the credentials, what is wrong and where to fix it
        (``_permissions.explain_auth_error``), then Cloudflare's own words; else Cloudflare's words."""
        if is_auth_error(exc.status, exc.errors):
            why = explain_auth_error(
                exc.status,
                exc.errors,
                exc.method,
                exc.path,
                account_token=is_account_token(self.params.get("api_token")),
            )
            if why:
                return "%s Cloudflare answered: %s" % (why, exc)
        return str(exc)

    def run(self, func):
        """Run a ``Manager`` subclass (or call ``func()``) and exit with its result; typed errors
        become ``fail_json`` (no traceback)."""
        failure = None
        try:
            result = func(self).run() if isinstance(func, type) and issubclass(func, Manager) else func()
        except CloudflareInputError as exc:
            failure = (str(exc), {})
        except CloudflareError as exc:
            failure = (self.failure_message(exc), exc.to_result())
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
    """Cloudflare API v4 over one reused connection (``_http.Transport``).

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
        self.transport = transport or Transport(
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
            except TransportError as exc:
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
                cls = error_class(status, errors)
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
        zone = self.get(api_path("zones", zone_id))
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
