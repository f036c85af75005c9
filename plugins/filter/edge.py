# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn the service description into the Cloudflare edge: DNS records, Access objects."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_application import check_access_owner_id
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_organization import is_team_name
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    RULE_OPTIONS,
    is_duration,
    policy_problems,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._alerting import (
    STATUS_WORDS,
    validate_emails,
    validate_webhook_url,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import IngressError, build_ingress
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    ServiceModelError,
    is_fqdn,
    normalize_services,
)

TOKEN_KEYS = frozenset({"name", "duration", "refresh_if_expires_within"})
_OBJECT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,99}$")
_PLAIN_PATH_RE = re.compile(r"^/?[A-Za-z0-9._~/-]+$")
TUNNEL_SUFFIX = ".cfargotunnel.com"


def _token_entries(tokens):
    """homelab_access_service_tokens entries as dicts (a plain string is a name)."""
    return [{"name": t} if isinstance(t, str) else t for t in tokens or []]


def _offline_resolver(token_names, problems):
    """A rule resolver for the preflight (no API): service tokens must be in the role's list; the names of
    groups and identity providers can only be checked against the account, by the module."""

    def resolve(kind, name, where):
        if kind == "service_token" and name not in token_names:
            problems.append(
                f"{where}: service token {name!r} is not in homelab_access_service_tokens "
                f"(listed: {', '.join(sorted(token_names)) or 'none'})."
            )
        return name

    return resolve


def edge_problems(services, domain, policies, tokens, settings=None):
    """Every problem in the edge description, each naming the variable and what would be valid."""
    settings = settings or {}
    problems = []
    try:
        normalized = normalize_services(services, domain)
    except ServiceModelError as exc:
        problems.extend(exc.problems)
        # Still check each entry's Access policies, so one run names every problem.
        normalized = [s for s in services if isinstance(s, dict) and isinstance(s.get("name"), str)]
        normalized = [dict(s, hostname=s["hostname"] if isinstance(s.get("hostname"), str) else "") for s in normalized]

    zone = (settings.get("zone") or domain or "").strip().lower().rstrip(".")
    zone_var = settings.get("zone_var", "cloudflare_edge_zone")
    if not is_fqdn(zone):
        problems.append(
            f"{zone_var} must be the Cloudflare zone the hostnames live in, such as 'example.com'; got {zone!r}."
        )

    tunnel = settings.get("tunnel_name")
    if not isinstance(tunnel, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", tunnel or ""):
        problems.append(
            "cloudflare_edge_tunnel_name (homelab_tunnel_name) must be 1-63 letters, digits, '.', '_' or '-'; "
            f"got {tunnel!r}."
        )
    mode = settings.get("tunnel_mode")
    if mode not in ("local", "remote"):
        problems.append(f"cloudflare_edge_tunnel_mode must be 'local' or 'remote', got {mode!r}.")

    # Service tokens.
    token_names = set()
    if not isinstance(tokens, list):
        problems.append(
            "homelab_access_service_tokens must be a list of names (or {name, duration} mappings), "
            f"got {type(tokens).__name__}."
        )
        tokens = []
    for i, entry in enumerate(tokens):
        where = f"homelab_access_service_tokens[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(f"{where} must be a token name or a mapping with 'name', got {entry!r}.")
            continue
        name = entry["name"]
        if not _OBJECT_NAME_RE.match(name):
            problems.append(f"{where}: name {name!r} must be 1-100 letters, digits, spaces or ._:@- characters.")
        if name in token_names:
            problems.append(f"{where}: the service token {name!r} is listed twice.")
        token_names.add(name)
        unknown = sorted(set(entry) - TOKEN_KEYS)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(TOKEN_KEYS))}.")
        duration = entry.get("duration")
        if duration is not None and not is_duration(duration, allow=("forever",)):
            problems.append(f"{where}: duration must be hours such as '8760h' or 'forever', got {duration!r}.")

    # Policies.
    if not isinstance(policies, dict):
        problems.append(
            "homelab_access_policies must be a mapping of policy name to {decision, include, ...}, "
            f"got {type(policies).__name__}."
        )
        policies = {}
    resolver = _offline_resolver(token_names, problems)
    for name, policy in policies.items():
        where = f"homelab_access_policies[{name!r}]"
        if not isinstance(name, str) or not _OBJECT_NAME_RE.match(name):
            problems.append(f"{where}: a policy name must be 1-100 letters, digits, spaces or ._:@- characters.")
        problems.extend(policy_problems(policy, where, resolver))

    # Each service: its Access policies and its place in the zone.
    for index, service in enumerate(normalized):
        where = f"homelab_services[{index}] (name '{service['name']}')"
        access = service.get("access")
        if not isinstance(access, list) or not access or not all(isinstance(a, str) for a in access):
            problems.append(
                f"{where}: 'access' must list at least one policy name from homelab_access_policies "
                f"({', '.join(sorted(map(str, policies))) or 'none defined'}); every hostname sits behind Access."
            )
            continue
        for name in access:
            if name not in policies:
                problems.append(
                    f"{where}: access policy {name!r} is not in homelab_access_policies "
                    f"(defined: {', '.join(sorted(map(str, policies))) or 'none'})."
                )
        if len(set(access)) != len(access):
            problems.append(f"{where}: 'access' lists a policy twice ({access}); each policy is linked once.")
        host = service.get("hostname") or ""
        if zone and host and host != zone and not host.endswith("." + zone):
            problems.append(f"{where}: hostname '{host}' is not inside the zone '{zone}' ({zone_var}).")
        if host.startswith("*."):
            problems.append(
                f"{where}: wildcard hostname '{host}' cannot get its own DNS record and Access application."
            )

    if settings.get("origin_access"):
        problems.extend(_origin_access_problems(normalized, policies, settings.get("team_name")))
    problems.extend(_site_problems(settings))
    if "tunnel_alerts" in settings:
        problems.extend(_tunnel_alert_problems(settings["tunnel_alerts"]))
    rotate = settings.get("rotate_tokens") or []
    if not isinstance(rotate, list) or not all(isinstance(n, str) for n in rotate):
        problems.append(f"cloudflare_edge_rotate_service_tokens must be a list of service token names, got {rotate!r}.")
    else:
        for name in rotate:
            if name not in token_names:
                problems.append(
                    f"cloudflare_edge_rotate_service_tokens: {name!r} is not in homelab_access_service_tokens "
                    f"(defined: {', '.join(sorted(token_names)) or 'none'})."
                )
    secrets_dir = settings.get("secrets_dir")
    if "secrets_dir" in settings and not (isinstance(secrets_dir, str) and secrets_dir.startswith("/")):
        problems.append(f"cloudflare_edge_secrets_dir must be an absolute path on the controller, got {secrets_dir!r}.")
    return problems


def _origin_access_problems(services, policies, team):
    """With origin access on: the team name, if given, is one; no service is reached through a bypass policy."""
    problems = []
    # Empty: read from the account's Zero Trust organization at run time.
    if team not in (None, "") and not is_team_name(team):
        problems.append(
            "cloudflare_edge_team_name must be your Zero Trust team name (the '<team>' of "
            f"<team>.cloudflareaccess.com), or empty to read it from the account; got {team!r}."
        )
    for index, service in enumerate(services):
        access = service.get("access")
        for name in access if isinstance(access, list) else []:
            policy = policies.get(name) if isinstance(name, str) else None
            if isinstance(policy, dict) and policy.get("decision") == "bypass":
                problems.append(
                    f"homelab_services[{index}] (name '{service['name']}'): access policy {name!r} is a bypass "
                    "policy: Access lets the requests it matches through without an Access token, and cloudflared "
                    "refuses every request without one while cloudflare_edge_origin_access is on (the default). "
                    "Drop the bypass policy from this service, or set cloudflare_edge_origin_access: false "
                    "(Access at the edge alone then guards every hostname)."
                )
    return problems


ADOPT_KINDS = ("dns", "tunnel", "applications", "policies", "service_tokens", "notifications")
ALERT_VAR = "cloudflare_edge_tunnel_alerts"
ALERT_KEYS = ("emails", "webhooks", "statuses")
ALERT_STATUSES = tuple(STATUS_WORDS)  # healthy, degraded, down
WEBHOOK_KEYS = ("name", "url", "secret")


def _tunnel_alert_problems(alerts):
    """Cloudflare's tunnel health alert: where it goes (e-mail addresses, webhooks) and on which statuses.

    Messages never hold a webhook's secret."""
    if alerts in (None, {}):
        return []
    if not isinstance(alerts, dict):
        return [f"{ALERT_VAR} must be a mapping with {', '.join(ALERT_KEYS)} (or empty: no alert), got {alerts!r}."]
    takes = ", ".join(ALERT_KEYS)
    problems = [f"{ALERT_VAR}: unknown key {key!r}; it takes {takes}." for key in alerts if key not in ALERT_KEYS]
    emails = alerts.get("emails", [])
    if not isinstance(emails, list):
        problems.append(f"{ALERT_VAR}.emails must be a list of e-mail addresses, got {emails!r}.")
    else:
        try:
            validate_emails(emails, option=f"{ALERT_VAR}.emails")
        except CloudflareInputError as exc:
            problems.append(f"{exc}.")
    webhooks = alerts.get("webhooks", [])
    if not isinstance(webhooks, list):
        kind = type(webhooks).__name__
        problems.append(f"{ALERT_VAR}.webhooks must be a list of {{name, url, secret}}, got a {kind}.")
        webhooks = []
    seen = set()
    for index, hook in enumerate(webhooks):
        where = f"{ALERT_VAR}.webhooks[{index}]"
        if not isinstance(hook, dict):
            problems.append(f"{where} must be a mapping {{name, url, secret}}, got a {type(hook).__name__}.")
            continue
        unknown = sorted(str(k) for k in hook if k not in WEBHOOK_KEYS)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; a webhook takes {', '.join(WEBHOOK_KEYS)}.")
        name = hook.get("name")
        if not isinstance(name, str) or not _OBJECT_NAME_RE.match(name):
            problems.append(f"{where}: 'name' must be 1-100 letters, digits, spaces or ._:@-, got {name!r}.")
        elif name in seen:
            problems.append(f"{where}: the name {name!r} is used twice.")
        seen.add(name)
        try:
            validate_webhook_url(hook.get("url"), option=f"{where}.url")
        except CloudflareInputError as exc:
            problems.append(f"{exc}.")
        if "secret" in hook and not isinstance(hook["secret"], str):
            problems.append(f"{where}: 'secret' must be a string (keep it in the vault).")
    statuses = alerts.get("statuses", list(ALERT_STATUSES))
    if not isinstance(statuses, list) or not statuses or not all(s in ALERT_STATUSES for s in statuses):
        problems.append(
            f"{ALERT_VAR}.statuses must be a non-empty list of the tunnel statuses to alert on, among "
            f"{', '.join(ALERT_STATUSES)}, got {statuses!r}."
        )
    return problems


def _site_ok(site):
    """The site goes into DNS comments and the applications' Access tag "mcp_edge <site>" (the shorter limit)."""
    if not isinstance(site, str) or not site:
        return False
    try:
        check_access_owner_id(site)
    except CloudflareInputError:
        return False
    return True


def _site_problems(settings):
    """The site id and the adopt list, when the role passes them."""
    problems = []
    if "site" in settings:
        site = settings.get("site")
        if not _site_ok(site):
            problems.append(
                "cloudflare_edge_site (homelab_site, by default the tunnel name) must be 1-26 letters, digits, '.', "
                "'_' or '-': it marks this site's objects in the account (DNS comments, the Access tag "
                f"'mcp_edge <site>', at most 35 characters); got {site!r}. Set homelab_site."
            )
    if "adopt" in settings:
        adopt = settings.get("adopt")
        if not isinstance(adopt, list) or not all(a in ADOPT_KINDS for a in adopt):
            problems.append(
                f"cloudflare_edge_adopt must be a list of the kinds to take over, among {', '.join(ADOPT_KINDS)}; "
                f"got {adopt!r}."
            )
    return problems


def edge_dns_records(services, tunnel_id):
    """One proxied CNAME per service hostname, pointing at the tunnel."""
    target = f"{tunnel_id}{TUNNEL_SUFFIX}"
    records, seen = [], set()
    for service in services:
        host = service["hostname"]
        if host in seen:
            continue
        seen.add(host)
        records.append({"type": "CNAME", "name": host, "content": target, "proxied": True, "ttl": 1})
    return records


def _app_domain(service):
    path = service.get("path")
    if path and _PLAIN_PATH_RE.match(path):
        return f"{service['hostname']}/{path.strip('/')}"
    return service["hostname"]


def _prefixed_rules(rules, names_prefix):
    """Rules with each friendly ``service_token`` name given the site's name prefix (API-form rules kept)."""
    if not names_prefix or not isinstance(rules, list):
        return rules
    out = []
    for rule in rules:
        if isinstance(rule, dict) and len(rule) == 1 and "service_token" in rule:
            value = rule["service_token"]
            if isinstance(value, str):
                rule = {"service_token": f"{names_prefix}{value}"}
            elif isinstance(value, list):
                rule = {"service_token": [f"{names_prefix}{v}" if isinstance(v, str) else v for v in value]}
        out.append(rule)
    return out


def edge_access_config(
    services,
    policies,
    tokens,
    prefix,
    app_settings=None,
    state="present",
    rotate=None,
    names_prefix="",
    adopt=None,
):
    """The options of cloudflare_access_config for the services (one application per service).

    With ``state='absent'`` every object is named for deletion instead. Tokens named in ``rotate``
    get a new secret. Policies and service tokens are named ``<names_prefix><name>`` in Cloudflare
    (the site's prefix), each with its bare name as ``former_name`` (release 0.2 used it); the kinds in
    ``adopt`` (applications, policies, service_tokens) take over same-name objects this site did not make.
    """
    adopt = set(adopt or [])
    if state == "absent":
        return {
            key: [
                dict({k: v for k, v in item.items() if k in ("name", "adopt", "former_name")}, state="absent")
                for item in items
            ]
            for key, items in edge_access_config(
                services, policies, tokens, prefix, names_prefix=names_prefix, adopt=adopt
            ).items()
        }
    app_settings = {k: v for k, v in (app_settings or {}).items() if v is not None}

    def named(item, name, kind):
        item["name"] = f"{names_prefix}{name}"
        if names_prefix:
            item["former_name"] = name
        if kind in adopt:
            item["adopt"] = True
        return item

    policy_list = []
    for name, policy in sorted(policies.items()):
        item = {k: v for k, v in policy.items() if v is not None}
        for key in RULE_OPTIONS:
            if key in item:
                item[key] = _prefixed_rules(item[key], names_prefix)
        policy_list.append(named(item, name, "policies"))
    applications = []
    for service in services:
        app = {
            "name": f"{prefix}{service['name']}",
            "domain": _app_domain(service),
            "policies": list(service["access"]),
        }
        app.update(app_settings)
        app.update(service.get("access_application") or {})
        app["policies"] = [f"{names_prefix}{p}" if p in policies else p for p in app.get("policies") or []]
        if "applications" in adopt:
            app["adopt"] = True
        applications.append(app)
    rotate = set(rotate or [])
    token_list = [
        named(dict(t, rotate=t["name"] in rotate), t["name"], "service_tokens") for t in _token_entries(tokens)
    ]
    return {"service_tokens": token_list, "policies": policy_list, "applications": applications}


def edge_origin_access(services, applications, prefix, team_name, check_mode=False):
    """Services with originRequest.access set, so cloudflared refuses requests without a valid Access token.

    Every service gets it (each one has an Access application). A service whose application has no aud
    tag fails, rather than being routed unchecked; in check mode, before the application exists, the
    aud tag is a placeholder that names it (nothing is written in check mode).
    """
    if not is_team_name(team_name):
        raise AnsibleFilterError(
            f"edge_origin_access: the team name must be a Zero Trust team name such as 'myteam', got {team_name!r}."
        )
    out = []
    for service in services:
        name = f"{prefix}{service['name']}"
        aud = (applications.get(name) or {}).get("aud")
        if not aud:
            if not check_mode:
                raise AnsibleFilterError(
                    f"edge_origin_access: the Access application {name!r} of service {service['name']!r} has no aud "
                    "tag, so cloudflared could not check its Access token; the service is not routed unchecked."
                )
            aud = f"(aud of the Access application '{name}', once it exists)"
        service = dict(service)
        origin = dict(service.get("origin_request") or {})
        origin["access"] = {"required": True, "teamName": team_name, "audTag": [aud]}
        service["origin_request"] = origin
        out.append(service)
    return out


def edge_tunnel_rules(services):
    """The ingress of a remote-managed tunnel: cloudflared's rules (catch-all last), which
    cloudflare_tunnel_config takes unchanged (``_ingress`` owns both forms)."""
    try:
        return build_ingress(services)
    except IngressError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {
            "edge_problems": edge_problems,
            "edge_dns_records": edge_dns_records,
            "edge_access_config": edge_access_config,
            "edge_origin_access": edge_origin_access,
            "edge_tunnel_rules": edge_tunnel_rules,
        }
