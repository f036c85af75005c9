# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Cloudflare Tunnel ingress rules: build them from the service description and check them.

Private to the collection (no API promise). Pure Python standard library, no Ansible import:
the ``cloudflared`` role's filters and the ``cloudflare_tunnel_config`` module (remote-managed
configuration) use this one file. The cloudflared test double under ``tests/doubles/`` shares no
code with it on purpose: it is a second, independent reading of cloudflared's behaviour, and
``tests/unit/test_ingress_differential.py`` checks that this file never accepts what it refuses.
Where this file is stricter than cloudflared on purpose, ``DELIBERATE_STRICTNESS`` says so.

Rules are in the form cloudflared reads (``config.yml``) and the API stores (remote config):
``{"hostname": ..., "path": ..., "service": ..., "originRequest": {...}}``, camelCase keys.

* ``origin_request_to_camel()`` turns the snake_case settings users write in YAML variables
  (``connect_timeout``, ``no_tls_verify``, ``access: {team_name, aud_tag}``) into cloudflared's keys.
* ``api_ingress()`` / ``origin_request_to_api()`` turn rules of either form into the API's (durations in
  whole seconds), so callers pass rules through unchanged (``build_ingress()``'s output included).
* ``build_ingress()`` makes one rule per service (``hostname -> service_url``), extra rules from
  ``paths``, per-rule ``originRequest``, the ``http_status:404`` rules that keep a service's local-only
  paths (n8n's ``/metrics``) off its public hostname, and the catch-all last rule.
* ``ingress_problems()`` / ``validate_ingress()`` list *every* problem (path regexes: ``_re2``), each naming the rule
  (``rule #2 (hostname 'a.example.com')``) and why it is wrong.
* ``config_problems()`` checks a whole ``config.yml`` document (ingress, originRequest,
  metrics, protocol, loglevel).

Two forms of the same rules: ``form="config"`` is cloudflared's ``config.yml`` (YAML; durations are
Go duration strings such as ``"30s"``: cloudflared's YAML decoder refuses a bare number) and
``form="api"`` is the remote configuration's JSON (durations are whole seconds: cloudflared's JSON
decoder refuses a string).
"""

from __future__ import annotations

import itertools
import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._re2 import regex_problem
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import N8N_METRICS_PATH
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import (
    duration_whole_seconds,
    go_duration_seconds,
    is_dns_label,
    is_port,
)

DEFAULT_CATCH_ALL = "http_status:404"

# Paths a kind of service answers on its 127.0.0.1 port for the host alone (kind -> the path), and
# the rule that answers them on the service's public hostname instead: n8n serves its Prometheus
# metrics on the port of its editor, which the tunnel publishes. n8n's web server (Express) routes
# case-insensitively and with an optional trailing slash ('/METRICS', '/metrics/'), so the regex
# ignores case and refuses every path that starts so; cloudflared matches it against the decoded
# path ('/%6detrics' is '/metrics'). The rule is there whether n8n's metrics are on or off (they are
# switched where n8n runs, which the tunnel's configuration cannot see): off, it costs nothing.
LOCAL_ONLY_PATHS = {"n8n": N8N_METRICS_PATH}
LOCAL_ONLY_SERVICE = "http_status:404"

# snake_case (what users write) -> cloudflared's camelCase key, for originRequest.
ORIGIN_REQUEST_KEYS = {
    "connect_timeout": "connectTimeout",
    "tls_timeout": "tlsTimeout",
    "tcp_keep_alive": "tcpKeepAlive",
    "no_happy_eyeballs": "noHappyEyeballs",
    "keep_alive_connections": "keepAliveConnections",
    "keep_alive_timeout": "keepAliveTimeout",
    "http_host_header": "httpHostHeader",
    "origin_server_name": "originServerName",
    "match_sni_to_host": "matchSNItoHost",
    "ca_pool": "caPool",
    "no_tls_verify": "noTLSVerify",
    "disable_chunked_encoding": "disableChunkedEncoding",
    "bastion_mode": "bastionMode",
    "proxy_address": "proxyAddress",
    "proxy_port": "proxyPort",
    "proxy_type": "proxyType",
    "http2_origin": "http2Origin",
    "access": "access",
}
ACCESS_KEYS = {"required": "required", "team_name": "teamName", "aud_tag": "audTag"}

# The type each originRequest value must have. Durations: see the module docstring (per form).
_DURATION_KEYS = ("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout")
_BOOL_KEYS = (
    "noHappyEyeballs",
    "matchSNItoHost",
    "noTLSVerify",
    "disableChunkedEncoding",
    "bastionMode",
    "http2Origin",
)
_STR_KEYS = ("httpHostHeader", "originServerName", "caPool", "proxyAddress", "proxyType")
_INT_KEYS = ("keepAliveConnections", "proxyPort")
SERVICE_SCHEMES = ("http", "https", "tcp", "ssh", "rdp", "smb", "unix", "unix+tls")
# Services cloudflared knows by name (ingress.go): both spellings of the hello world server.
SPECIAL_SERVICES = ("hello_world", "hello-world", "bastion", "socks-proxy")
# A hostname of "*" matches every host, like no hostname (cloudflared's Rule.Matches).
MATCH_ALL_HOSTNAMES = (None, "", "*")

# Where this validator refuses what cloudflared itself accepts, on purpose. Each entry: what, and
# why. The differential test asserts each one (a case cloudflared's double accepts and we refuse).
DELIBERATE_STRICTNESS = {
    "service scheme": "Only the schemes cloudflared can proxy to (http, https, tcp, ssh, rdp, smb, unix, unix+tls); "
    "cloudflared accepts any scheme at validation (ftp://...) and fails on the first request.",
    "service query or fragment": "cloudflared accepts 'http://host:1?x=1' and drops the query; a query in a service "
    "URL is a mistake.",
    "service port": "tcp/ssh/rdp/smb services need an explicit port; cloudflared guesses none for them.",
    "unknown keys": "Unknown keys in a rule, in originRequest or at the top of config.yml are errors: cloudflared "
    "only warns, so a typo (noTLSverify) would silently do nothing.",
    "hostname syntax": "Hostnames must be DNS names, with '*' only as a whole first label, and without a port.",
    "duplicate hostname and path": "A rule that repeats an earlier rule's hostname and path can never match.",
    "http_status code": "http_status takes exactly three ASCII digits (100-999); cloudflared also takes a sign or "
    "leading zeros ('+404', '0404').",
    "path regex": "Path regexes must compile both as Go RE2 (what cloudflared runs) and as Python re (what this "
    "validator can check): RE2-only syntax such as \\z, \\pL or [[:alpha:]] is refused.",
    "negative durations": "Durations must not be negative.",
    "rule types": "originRequest values must have cloudflared's types (booleans, integers, strings); cloudflared's "
    "YAML decoder converts a few spellings ('yes') that are refused here.",
}
PROTOCOLS = ("auto", "quic", "http2")
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
CONFIG_KEYS = frozenset(
    {
        "tunnel",
        "credentials-file",
        "ingress",
        "originRequest",
        "metrics",
        "loglevel",
        "transport-loglevel",
        "protocol",
        "warp-routing",
        "no-autoupdate",
        "edge-ip-version",
        "retries",
        "grace-period",
        "logfile",
    }
)

_HOSTPORT_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$")


class IngressError(ValueError):
    """Raised with every problem found; ``problems`` holds one message per problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------------------------
# snake_case -> camelCase
# --------------------------------------------------------------------------------------------


def origin_request_to_camel(settings, where="origin_request"):
    """Return ``settings`` with cloudflared's camelCase keys; snake_case or camelCase accepted.

    Unknown keys raise ``IngressError`` naming the key and the valid ones (a typo must not be
    silently ignored, as cloudflared itself would do).
    """
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise IngressError([f"{where} must be a mapping, got {type(settings).__name__}."])
    camel_keys = set(ORIGIN_REQUEST_KEYS.values())
    problems = []
    result = {}
    for key, value in settings.items():
        camel = ORIGIN_REQUEST_KEYS.get(key, key if key in camel_keys else None)
        if camel is None:
            problems.append(
                f"{where}: unknown setting {key!r}; valid settings: {', '.join(sorted(ORIGIN_REQUEST_KEYS))}."
            )
            continue
        if camel == "access" and isinstance(value, dict):
            access = {}
            for akey, avalue in value.items():
                acamel = ACCESS_KEYS.get(akey, akey if akey in ACCESS_KEYS.values() else None)
                if acamel is None:
                    problems.append(
                        f"{where}.access: unknown setting {akey!r}; valid settings: required, team_name, aud_tag."
                    )
                    continue
                access[acamel] = avalue
            value = access
        result[camel] = value
    if problems:
        raise IngressError(problems)
    return result


# --------------------------------------------------------------------------------------------
# The API form (remote-managed tunnels)
# --------------------------------------------------------------------------------------------


def origin_request_to_api(settings, where="origin_request"):
    """Settings in either form (snake_case or camelCase keys) -> the API form: camelCase keys,
    durations as whole seconds (``"1m30s"`` -> 90), ``access.audTag`` a list.

    A value that cannot be converted (a fraction of a second, a typo) is left as it is, for
    ``origin_request_problems(..., form="api")`` to name.
    """
    api = origin_request_to_camel(settings, where=where)
    for key in _DURATION_KEYS:
        if key in api:
            seconds = duration_whole_seconds(api[key])
            if seconds is not None:
                api[key] = seconds
    if isinstance(api.get("access"), dict) and isinstance(api["access"].get("audTag"), str):
        api["access"]["audTag"] = [api["access"]["audTag"]]
    return api


def api_ingress(rules, origin_request=None, catch_all=DEFAULT_CATCH_ALL):
    """Rules in either form -> ``(ingress, global originRequest)`` as the API stores them, validated.

    A rule is ``{hostname?, path?, service, origin_request or originRequest?}``: what
    ``build_ingress`` returns (config.yml's form) passes unchanged. The catch-all
    ``{service: catch_all}`` is appended when the last rule has a hostname or a path.
    ``origin_request`` None: no global setting is given (``None`` is returned for it).
    Raises ``IngressError`` with every problem.
    """
    problems = []
    ingress = []
    for index, rule in enumerate(rules):
        out = {}
        for key in ("hostname", "path"):
            if rule.get(key) not in (None, ""):
                out[key] = rule[key].strip().lower() if key == "hostname" else rule[key]
        out["service"] = (rule.get("service") or "").strip()
        settings = rule.get("origin_request")
        if settings is None:
            settings = rule.get("originRequest")
        try:
            origin = origin_request_to_api(settings, "rules[%d].origin_request" % index)
        except IngressError as exc:
            problems.extend(exc.problems)
            origin = {}
        if origin:
            out["originRequest"] = origin
        ingress.append(out)
    if catch_all and (not ingress or "hostname" in ingress[-1] or "path" in ingress[-1]):
        ingress.append({"service": catch_all})
    problems.extend(ingress_problems(ingress, form="api"))
    global_origin = None
    if origin_request is not None:
        try:
            global_origin = origin_request_to_api(origin_request, "origin_request")
            problems.extend(origin_request_problems(global_origin, "origin_request", form="api"))
        except IngressError as exc:
            problems.extend(exc.problems)
    if problems:
        raise IngressError(problems)
    return ingress, global_origin


# --------------------------------------------------------------------------------------------
# Building rules from the service description
# --------------------------------------------------------------------------------------------


def _rule(hostname, path, service, origin_request):
    rule = {"hostname": hostname}
    if path:
        rule["path"] = path
    rule["service"] = service
    if origin_request:
        rule["originRequest"] = origin_request
    return rule


def local_only_regex(path):
    """The ingress path regex that matches ``path`` as n8n's web server routes it: any case, and
    anything that starts with it (``/metrics`` -> ``(?i)^/metrics``)."""
    return "(?i)^" + re.escape(path)


def _case_variants(text):
    return {"".join(chars) for chars in itertools.product(*({c.lower(), c.upper()} for c in text))}


def _may_reach(pattern, path):
    """Whether a rule with the path regex ``pattern`` (None: every path) sends ``path`` as the origin's
    router reads it (any case, optional trailing slash) to its service."""
    if pattern in (None, ""):
        return True
    if not isinstance(pattern, str) or regex_problem(pattern):
        return True  # validation names the broken regex; here, assume the worst
    compiled = re.compile(pattern)
    return any(compiled.search(variant) for variant in _case_variants(path) | _case_variants(path + "/"))


def local_only_rule(service, own_rules):
    """The ``http_status:404`` rule for ``service``'s local-only path on its hostname (see
    ``LOCAL_ONLY_PATHS``), or None: its kind has none, or none of ``own_rules`` (the rules of its
    ``path`` and ``paths``, whatever service URL they name) can reach that path (a service published
    under another ``path`` only, such as ``^/webhook/``)."""
    path = LOCAL_ONLY_PATHS.get(service.get("kind"))
    if not path or not any(_may_reach(rule.get("path"), path) for rule in own_rules):
        return None
    return {"hostname": service["hostname"], "path": local_only_regex(path), "service": LOCAL_ONLY_SERVICE}


def build_ingress(services, extra_rules=None, catch_all=DEFAULT_CATCH_ALL, var_name="services"):
    """Return the ingress rules for ``services`` (as normalised by ``_service_model``).

    * one rule per service: ``hostname`` -> ``service_url`` (``path`` when the service has one);
    * one rule per entry of ``paths``: a string (a path regex sent to the same service) or a
      mapping ``{path, service_url?, origin_request?}``; its originRequest is the service's,
      updated with the entry's own;
    * before a service's rules, ``local_only_rule``: n8n's ``/metrics`` answers ``http_status:404``
      on its hostname (so no entry of its ``paths`` publishes it), and only the host's Prometheus reads it;
    * ``extra_rules`` (rules already in cloudflared's form) follow the service rules;
    * the catch-all rule ``{service: catch_all}`` comes last (``catch_all=None``: none is added, so
      the last of ``extra_rules`` must be one).

    Order: rules for exact hostnames before wildcard hostnames, and on each of them rules with a
    path before the rule without one, so a broader rule never hides a narrower one. The result
    is validated; ``IngressError`` lists every problem.
    """
    problems = []
    rules = []
    local_only = set()  # (hostname, path) of the local-only rules made so far
    for index, service in enumerate(services or []):
        where = f"{var_name}[{index}]"
        if not isinstance(service, dict):
            problems.append(f"{where} must be a mapping, got {type(service).__name__}.")
            continue
        if service.get("name"):
            where = f"{where} (name '{service['name']}')"
        hostname = service.get("hostname")
        url = service.get("service_url")
        if not hostname or not url:
            problems.append(f"{where}: needs 'hostname' and 'service_url' (normalize the services first).")
            continue
        try:
            origin = origin_request_to_camel(service.get("origin_request"), where=f"{where}.origin_request")
        except IngressError as exc:
            problems.extend(exc.problems)
            origin = {}
        own = []
        for pindex, entry in enumerate(service.get("paths") or []):
            pwhere = f"{where}.paths[{pindex}]"
            if isinstance(entry, str):
                entry = {"path": entry}
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
                problems.append(f"{pwhere} must be a path regex string or a mapping with a non-empty 'path'.")
                continue
            unknown = sorted(set(entry) - {"path", "service_url", "origin_request"})
            if unknown:
                problems.append(
                    f"{pwhere}: unknown key(s) {', '.join(unknown)}; valid: path, service_url, origin_request."
                )
            try:
                entry_origin = origin_request_to_camel(entry.get("origin_request"), where=f"{pwhere}.origin_request")
            except IngressError as exc:
                problems.extend(exc.problems)
                entry_origin = {}
            merged = dict(origin)
            merged.update(entry_origin)
            own.append(_rule(hostname, entry["path"], entry.get("service_url") or url, merged))
        own.append(_rule(hostname, service.get("path"), url, origin))
        # First on its hostname among the rules with a path (the sort below keeps their order).
        blocked = local_only_rule(service, own)
        if blocked and (blocked["hostname"], blocked["path"]) not in local_only:
            local_only.add((blocked["hostname"], blocked["path"]))
            rules.append(blocked)
        rules.extend(own)

    rules.sort(key=lambda r: (r["hostname"].startswith("*"), "path" not in r))
    for rule in extra_rules or []:
        rules.append(dict(rule) if isinstance(rule, dict) else rule)
    if catch_all is not None:
        rules.append({"service": catch_all})
    if problems:
        raise IngressError(problems)
    validate_ingress(rules)
    return rules


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _describe(index, rule):
    label = f"rule #{index + 1}"
    if isinstance(rule, dict):
        parts = []
        if rule.get("hostname") is not None:
            parts.append(f"hostname '{rule['hostname']}'")
        if rule.get("path") is not None:
            parts.append(f"path '{rule['path']}'")
        if not parts:
            parts.append(f"service '{rule.get('service')}'")
        label = f"{label} ({', '.join(parts)})"
    return label


def hostname_problem(hostname):
    """Return why ``hostname`` cannot be an ingress hostname, or ``None`` when it can."""
    if not isinstance(hostname, str) or not hostname:
        return f"the hostname must be a non-empty string, got {hostname!r}"
    if hostname == "*":
        return None
    if hostname.count("*") > 1 or ("*" in hostname and not hostname.startswith("*.")):
        return (
            f"wildcard misuse in '{hostname}': a hostname may hold one '*' and only as its whole first "
            "label, for example '*.example.com'"
        )
    if ":" in hostname:
        return f"'{hostname}' holds a port; hostnames in ingress rules cannot have one"
    labels = hostname[2:].split(".") if hostname.startswith("*.") else hostname.split(".")
    if hostname.startswith("*.") and len(labels) < 2:
        return f"the wildcard in '{hostname}' must be followed by a domain with at least two labels"
    if len(hostname) > 253 or not all(is_dns_label(label, underscore=True) for label in labels):
        return f"'{hostname}' is not a valid DNS name (labels of letters, digits and '-', separated by '.')"
    return None


def service_problem(service):
    """Return why ``service`` is not a valid ingress service, or ``None`` when it is."""
    if not isinstance(service, str) or not service:
        return f"the service must be a non-empty string such as 'http://127.0.0.1:8080', got {service!r}"
    if service in SPECIAL_SERVICES:
        return None
    if service.startswith("http_status:"):
        code = service[len("http_status:") :]
        if not re.fullmatch(r"[0-9]{3}", code) or not 100 <= int(code) <= 999:
            return f"bad service '{service}': http_status needs a 3-digit HTTP status code, e.g. 'http_status:404'"
        return None
    scheme, sep, rest = service.partition(":")
    if not sep or scheme not in SERVICE_SCHEMES:
        return (
            f"bad service URL '{service}': the scheme must be one of {', '.join(SERVICE_SCHEMES)} "
            f"(or the service http_status:NNN, {', '.join(SPECIAL_SERVICES)})"
        )
    if scheme in ("unix", "unix+tls"):
        if not rest.startswith("/") or rest.startswith("//"):
            return f"bad service URL '{service}': a unix socket service is 'unix:/absolute/path/to/socket'"
        return None
    if not rest.startswith("//"):
        return f"bad service URL '{service}': expected '{scheme}://HOST[:PORT]'"
    hostport, slash, path = rest[2:].partition("/")
    if "?" in hostport or "#" in hostport or "@" in hostport:
        return f"bad service URL '{service}': only '{scheme}://HOST[:PORT]' is allowed (no query, fragment or user)"
    match = _HOSTPORT_RE.match(hostport)
    if not hostport or not match:
        return f"bad service URL '{service}': '{hostport}' is not a host or host:port"
    if match.group(1) is not None and not is_port(int(match.group(1))):
        return f"bad service URL '{service}': port {match.group(1)} is outside 1-65535"
    if slash:
        # cloudflared refuses any path here, even a lone "/" (url.Path != "").
        return (
            f"bad service URL '{service}': ingress rules cannot send requests to a different path on the "
            "origin (the path stays the one the client asked for); drop '/" + path + "'"
        )
    if scheme in ("tcp", "ssh", "rdp", "smb") and match.group(1) is None:
        return f"bad service URL '{service}': {scheme}:// services need an explicit port"
    return None


def duration_problem(value, form="config"):
    """Why ``value`` is not an originRequest duration in ``form``, or ``None`` when it is one."""
    if form == "api":
        # cloudflared decodes the API's JSON with strconv.ParseInt: whole seconds, a JSON number.
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"must be whole seconds (a non-negative integer such as 30) in the API form, got {value!r}"
        return None
    # config.yml: yaml.v3 decodes time.Duration from a string only (a bare 30 is an unmarshal error).
    if not isinstance(value, str) or go_duration_seconds(value) is None:
        return f"must be a duration string such as '30s' or '1m30s' in config.yml, got {value!r}"
    return None


def origin_request_problems(settings, where, form="config"):
    """List what is wrong with one (camelCase) originRequest mapping in ``form`` (config or api)."""
    if settings is None:
        return []
    if not isinstance(settings, dict):
        return [f"{where}: originRequest must be a mapping, got {type(settings).__name__}."]
    problems = []
    valid = set(ORIGIN_REQUEST_KEYS.values())
    for key, value in settings.items():
        if key not in valid:
            problems.append(f"{where}: unknown originRequest setting {key!r}; valid: {', '.join(sorted(valid))}.")
        elif key in _DURATION_KEYS and (reason := duration_problem(value, form)):
            problems.append(f"{where}: originRequest.{key} {reason}.")
        elif key in _BOOL_KEYS and not isinstance(value, bool):
            problems.append(f"{where}: originRequest.{key} must be true or false, got {value!r}.")
        elif key in _STR_KEYS and not isinstance(value, str):
            problems.append(f"{where}: originRequest.{key} must be a string, got {value!r}.")
        elif key in _INT_KEYS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(f"{where}: originRequest.{key} must be a non-negative integer, got {value!r}.")
        elif key == "access":
            problems.extend(_access_problems(value, where))
    return problems


def _access_problems(access, where):
    if not isinstance(access, dict):
        return [f"{where}: originRequest.access must be a mapping (required, teamName, audTag)."]
    problems = []
    unknown = sorted(set(access) - set(ACCESS_KEYS.values()))
    if unknown:
        problems.append(f"{where}: unknown originRequest.access setting(s) {', '.join(unknown)}.")
    required = access.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"{where}: originRequest.access.required must be true or false, got {required!r}.")
    team = access.get("teamName")
    if team is not None and (not isinstance(team, str) or not team):
        problems.append(f"{where}: originRequest.access.teamName must be a non-empty string, got {team!r}.")
    aud = access.get("audTag", [])
    if not isinstance(aud, list) or not all(isinstance(tag, str) and tag for tag in aud):
        problems.append(f"{where}: originRequest.access.audTag must be a list of Access application AUD tags.")
    if required is True and (not team or not aud):
        problems.append(
            f"{where}: originRequest.access.required is true, so teamName (your Zero Trust team name) and "
            "audTag (the Access application's AUD tag list) must both be set."
        )
    return problems


def ingress_problems(rules, form="config"):
    """Return every problem in ``rules`` (a list of cloudflared ingress rules), [] when valid.

    ``form`` is ``config`` (config.yml) or ``api`` (the remote configuration): they differ in how
    durations are written (see the module docstring).
    """
    if isinstance(rules, dict):
        return ["ingress must be a list of rules ('- hostname: ...'), got a mapping."]
    if not isinstance(rules, list):
        return [f"ingress must be a list of rules, got {type(rules).__name__}."]
    if not rules:
        return ["the ingress list is empty: it needs at least the catch-all rule, e.g. '- service: http_status:404'."]
    problems = []
    seen = {}
    last = len(rules) - 1
    for index, rule in enumerate(rules):
        where = _describe(index, rule)
        if not isinstance(rule, dict):
            problems.append(f"{where}: a rule must be a mapping with at least 'service', got {type(rule).__name__}.")
            continue
        unknown = sorted(set(rule) - {"hostname", "path", "service", "originRequest"})
        if unknown:
            problems.append(
                f"{where}: unknown key(s) {', '.join(unknown)}; valid: hostname, path, service, originRequest."
            )
        hostname = rule.get("hostname")
        path = rule.get("path")
        if "service" not in rule:
            problems.append(f"{where}: 'service' is missing (for example 'http://127.0.0.1:8080').")
        else:
            reason = service_problem(rule["service"])
            if reason:
                problems.append(f"{where}: {reason}.")
        if hostname is not None:
            reason = hostname_problem(hostname)
            if reason:
                problems.append(f"{where}: {reason}.")
        if path is not None:
            if not isinstance(path, str) or not path:
                problems.append(f"{where}: 'path' must be a non-empty regular expression string, got {path!r}.")
            else:
                reason = regex_problem(path)
                if reason:
                    problems.append(f"{where}: {reason}.")
        problems.extend(origin_request_problems(rule.get("originRequest"), where, form))
        matches_all = hostname in MATCH_ALL_HOSTNAMES and path in (None, "")
        if index < last and matches_all:
            problems.append(
                f"{where}: this rule has no hostname and no path, so it matches every request and every rule "
                "after it is unreachable; only the last rule (the catch-all) may do that."
            )
        if index == last and not matches_all:
            problems.append(
                f"{where}: the last ingress rule must match all URLs (no hostname, no path): add a catch-all "
                "rule such as '- service: http_status:404' at the end."
            )
        if isinstance(hostname, str) and hostname and not matches_all:
            key = (hostname.lower(), path if isinstance(path, str) else None)
            if key in seen:
                problems.append(
                    f"{where}: duplicate hostname+path: {_describe(seen[key], rules[seen[key]])} already matches "
                    "the same hostname and path, so this rule would never be used."
                )
            else:
                seen[key] = index
    return problems


def validate_ingress(rules, form="config"):
    """Raise ``IngressError`` listing every problem of ``rules``; return ``rules`` when valid."""
    problems = ingress_problems(rules, form)
    if problems:
        raise IngressError(problems)
    return rules


def config_problems(config, form="config"):
    """Every problem of a whole cloudflared ``config.yml`` document (already parsed), or of the
    remote configuration's ``config`` object with ``form="api"``."""
    if not isinstance(config, dict):
        return [f"the configuration must be a mapping, got {type(config).__name__}."]
    problems = []
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        problems.append(f"unknown top-level key(s) {', '.join(unknown)}; valid: {', '.join(sorted(CONFIG_KEYS))}.")
    if "ingress" not in config:
        problems.append("the configuration has no 'ingress' rules.")
    else:
        problems.extend(ingress_problems(config["ingress"], form))
    problems.extend(origin_request_problems(config.get("originRequest"), "originRequest (global)", form))
    protocol = config.get("protocol", "auto")
    if protocol not in PROTOCOLS:
        problems.append(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}.")
    level = config.get("loglevel", "info")
    if level not in LOG_LEVELS:
        problems.append(f"loglevel must be one of {', '.join(LOG_LEVELS)}, got {level!r}.")
    metrics = config.get("metrics")
    if metrics is not None:
        match = _HOSTPORT_RE.match(metrics) if isinstance(metrics, str) else None
        if not match or match.group(1) is None or not is_port(int(match.group(1))):
            problems.append(f"metrics must be 'ADDRESS:PORT' such as '127.0.0.1:20241', got {metrics!r}.")
    return problems
