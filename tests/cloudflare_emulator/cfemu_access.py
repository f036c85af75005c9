# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Zero Trust Access endpoints of the Cloudflare API emulator: apps, policies, groups, service tokens, IdPs,
and the account's Zero Trust organization (read only)."""

from __future__ import annotations

import copy
import ipaddress
import urllib.parse

from cfemu_core import (
    GO_DURATION,
    ApiError,
    duration_seconds,
    new_uuid,
    now_iso,
    paginate,
    qbool,
    qget,
    random_hex,
    require_object,
    sha256,
)

PREFIX = "access.api.error.invalid_request: "
DECISIONS = ("allow", "deny", "non_identity", "bypass")
APP_TYPES = (
    "self_hosted",
    "saas",
    "ssh",
    "vnc",
    "rdp",
    "app_launcher",
    "warp",
    "biso",
    "bookmark",
    "dash_sso",
    "infrastructure",
    "mcp",
    "mcp_portal",
)
# rule kind -> required keys inside its object
RULE_KINDS = {
    "email": ("email",),
    "email_domain": ("domain",),
    "email_list": ("id",),
    "everyone": (),
    "geo": ("country_code",),
    "ip": ("ip",),
    "ip_list": ("id",),
    "group": ("id",),
    "service_token": ("token_id",),
    "any_valid_service_token": (),
    "login_method": ("id",),
    "auth_method": ("auth_method",),
    "certificate": (),
    "common_name": ("common_name",),
    "device_posture": ("integration_uid",),
    "github-organization": ("name", "identity_provider_id"),
    "gsuite": ("email", "identity_provider_id"),
    "azureAD": ("id", "identity_provider_id"),
    "okta": ("name", "identity_provider_id"),
    "saml": ("attribute_name", "attribute_value", "identity_provider_id"),
    "oidc": ("claim_name", "claim_value", "identity_provider_id"),
    "auth_context": ("id", "ac_id", "identity_provider_id"),
    "external_evaluation": ("evaluate_url", "keys_url"),
}
# Identity-based selectors (Cloudflare One docs, Access policies > Selectors: emails, emails ending in, login
# methods, authentication method, IdP groups, SAML group, OIDC claim, external evaluation). A Service Auth
# (`non_identity`) policy authenticates without an IdP login, so it cannot hold them in include or require.
IDENTITY_RULES = (
    "email",
    "email_domain",
    "email_list",
    "login_method",
    "auth_method",
    "github-organization",
    "gsuite",
    "azureAD",
    "okta",
    "saml",
    "oidc",
    "auth_context",
    "external_evaluation",
)
APP_DEFAULTS = {
    "session_duration": "24h",
    "allowed_idps": [],
    "auto_redirect_to_identity": False,
    "app_launcher_visible": True,
    "enable_binding_cookie": False,
    "http_only_cookie_attribute": True,
    "options_preflight_bypass": False,
    "skip_interstitial": False,
    "service_auth_401_redirect": False,
    "tags": [],
    "custom_deny_message": "",
    "custom_deny_url": "",
    "custom_non_identity_deny_url": "",
}
APP_BOOLS = (
    "auto_redirect_to_identity",
    "app_launcher_visible",
    "enable_binding_cookie",
    "http_only_cookie_attribute",
    "options_preflight_bypass",
    "skip_interstitial",
    "service_auth_401_redirect",
)


def invalid(message: str) -> ApiError:
    return ApiError(400, 12130, PREFIX + message)


def not_found(what: str) -> ApiError:
    return ApiError(404, 12130, f"access.api.error.not_found: {what} not found")


def conflict(message: str) -> ApiError:
    return ApiError(400, 12130, "access.api.error.conflict: " + message)


# --------------------------------------------------------------------------- scope helpers


def _scope(ctx) -> tuple[str, str]:
    """('accounts'|'zones', id) after checking the object exists; also returns the owning account id."""
    if "account" in ctx.params:
        ctx.store.account(ctx.params["account"], ctx.rel_path)
        return "accounts/" + ctx.params["account"], ctx.params["account"]
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    return "zones/" + zone["id"], zone["account"]["id"]


def _in_account(ctx, kind: str, account_id: str) -> list:
    return [o for o in ctx.store.data[kind] if o["_account"] == account_id]


def _find(ctx, kind: str, what: str) -> dict:
    scope, _unused = _scope(ctx)
    for obj in ctx.store.data[kind]:
        if obj["id"] == ctx.params["id"] and obj["_scope"] == scope:
            return obj
    raise not_found(what)


def _strip(obj: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def _check_duration(value, field: str, allow_forever: bool = False) -> str:
    if allow_forever and value == "forever":
        return value
    if not isinstance(value, str) or not GO_DURATION.match(value):
        raise invalid(f"{field} must be a duration like '24h' or '30m' (got {value!r})")
    return value


def _idps(ctx, account_id: str) -> list:
    """The identity providers (login methods) of an account: seeded with an `account_id`, or for every account."""
    return [i for i in ctx.store.data["identity_providers"] if i.get("_account") in (None, account_id)]


def _idp_ids(ctx, account_id: str) -> set:
    return {i["id"] for i in _idps(ctx, account_id)}


# --------------------------------------------------------------------------- rules


def validate_rules(ctx, account_id: str, rules, field: str, required: bool) -> list:
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        raise invalid(f"{field} must be a list of rule objects")
    if required and not rules:
        raise invalid(f"{field} must contain at least one rule")
    groups = {g["id"] for g in _in_account(ctx, "access_groups", account_id)}
    tokens = {t["id"] for t in _in_account(ctx, "service_tokens", account_id)}
    idps = _idp_ids(ctx, account_id)
    out = []
    for i, rule in enumerate(rules):
        where = f"{field}[{i}]"
        if not isinstance(rule, dict) or len(rule) != 1:
            raise invalid(f"{where} must be an object with exactly one key (the rule kind)")
        kind, value = next(iter(rule.items()))
        if kind not in RULE_KINDS:
            raise invalid(f"{where}: unknown rule kind '{kind}' (known: {', '.join(sorted(RULE_KINDS))})")
        if not isinstance(value, dict):
            raise invalid(f"{where}.{kind} must be an object")
        for key in RULE_KINDS[kind]:
            if value.get(key) in (None, ""):
                raise invalid(f"{where}.{kind}.{key} is required")
        if kind == "email" and "@" not in str(value["email"]):
            raise invalid(f"{where}.email.email '{value['email']}' is not an email address")
        if kind == "geo" and not (isinstance(value["country_code"], str) and len(value["country_code"]) == 2):
            raise invalid(f"{where}.geo.country_code must be a two-letter country code")
        if kind == "ip":
            try:
                ipaddress.ip_network(str(value["ip"]), strict=False)
            except ValueError:
                raise invalid(f"{where}.ip.ip '{value['ip']}' is not an IP address or CIDR") from None
        if kind == "group" and value["id"] not in groups:
            raise invalid(f"{where}: access group '{value['id']}' does not exist")
        if kind == "service_token" and value["token_id"] not in tokens:
            raise invalid(f"{where}: service token '{value['token_id']}' does not exist")
        if kind == "login_method" and value["id"] not in idps:
            raise invalid(f"{where}: identity provider '{value['id']}' does not exist")
        if "identity_provider_id" in RULE_KINDS[kind] and value["identity_provider_id"] not in idps:
            raise invalid(f"{where}: identity provider '{value['identity_provider_id']}' does not exist")
        out.append({kind: copy.deepcopy(value)})
    return out


# --------------------------------------------------------------------------- policies


def _app_count(ctx, policy_id: str) -> int:
    return sum(1 for a in ctx.store.data["access_apps"] if any(p["id"] == policy_id for p in a.get("policies", [])))


def policy_public(ctx, pol: dict) -> dict:
    out = _strip(pol)
    out["app_count"] = _app_count(ctx, pol["id"])
    out["reusable"] = True
    return out


def _validate_policy(ctx, account_id: str, body) -> dict:
    body = require_object(body)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name is required")
    if body.get("decision") not in DECISIONS:
        raise invalid(f"decision must be one of {', '.join(DECISIONS)}")
    out = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "app_count", "reusable", "created_at")}
    out["include"] = validate_rules(ctx, account_id, body.get("include"), "include", required=True)
    out["require"] = validate_rules(ctx, account_id, body.get("require"), "require", required=False)
    out["exclude"] = validate_rules(ctx, account_id, body.get("exclude"), "exclude", required=False)
    if out["decision"] == "non_identity":
        for field in ("include", "require"):
            for i, rule in enumerate(out[field]):
                kind = next(iter(rule))
                if kind in IDENTITY_RULES:
                    raise invalid(
                        f"{field}[{i}]: '{kind}' is an identity rule; a non_identity (Service Auth) policy "
                        "accepts only non-identity rules such as service_token or any_valid_service_token"
                    )
    if "session_duration" in body and body["session_duration"] is not None:
        _check_duration(body["session_duration"], "session_duration")
    for key in ("approval_required", "purpose_justification_required", "isolation_required"):
        out.setdefault(key, False)
        if not isinstance(out[key], bool):
            raise invalid(f"{key} must be true or false")
    out.setdefault("approval_groups", [])
    return out


def list_policies(ctx):
    _unused, account_id = _scope(ctx)
    items = [policy_public(ctx, p) for p in _in_account(ctx, "access_policies", account_id)]
    chunk, info = paginate(items, ctx.query, default=25, minimum=1, maximum=1000)
    return 200, chunk, info


def get_policy(ctx):
    return 200, policy_public(ctx, _find(ctx, "access_policies", "policy")), None


def create_policy(ctx):
    scope, account_id = _scope(ctx)
    pol = _validate_policy(ctx, account_id, ctx.body)
    now = now_iso()
    pol.update({"id": new_uuid(), "created_at": now, "updated_at": now, "_scope": scope, "_account": account_id})
    ctx.store.data["access_policies"].append(pol)
    return 201, policy_public(ctx, pol), None


def put_policy(ctx):
    pol = _find(ctx, "access_policies", "policy")
    new = _validate_policy(ctx, pol["_account"], ctx.body)
    keep = {k: pol[k] for k in ("id", "created_at", "_scope", "_account")}
    pol.clear()
    pol.update(new)
    pol.update(keep)
    pol["updated_at"] = now_iso()
    return 200, policy_public(ctx, pol), None


def delete_policy(ctx):
    pol = _find(ctx, "access_policies", "policy")
    used = _app_count(ctx, pol["id"])
    if used:
        raise conflict(
            f"policy '{pol['name']}' is in use by {used} application(s); remove it from those applications first"
        )
    ctx.store.data["access_policies"].remove(pol)
    return 202, {"id": pol["id"]}, None


# --------------------------------------------------------------------------- applications


def _host_in_zones(host: str, zones: list) -> bool:
    host = host.lower()
    if host.startswith("*."):
        host = host[2:]
    return any(host == z["name"] or host.endswith("." + z["name"]) for z in zones)


def _validate_app(ctx, scope: str, account_id: str, body, app_id: str | None) -> dict:
    body = require_object(body)
    out = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "aud", "created_at", "updated_at")}
    if body.get("type") not in APP_TYPES:
        raise invalid(f"type is required and must be one of {', '.join(APP_TYPES)}")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid("name is required")
    for key, default in APP_DEFAULTS.items():
        out.setdefault(key, copy.deepcopy(default))
    for key in APP_BOOLS:
        if not isinstance(out[key], bool):
            raise invalid(f"{key} must be true or false")
    _check_duration(out["session_duration"], "session_duration")
    if not isinstance(out["tags"], list) or not all(isinstance(t, str) for t in out["tags"]):
        raise invalid("tags must be a list of strings")
    known_tags = {t["name"] for t in _in_account(ctx, "access_tags", account_id)}
    if any(t not in known_tags for t in out["tags"]):
        raise invalid("tags contain a tag that does not exist, tags must be created before assigning to an application")
    idps = _idp_ids(ctx, account_id)
    if not isinstance(out["allowed_idps"], list):
        raise invalid("allowed_idps must be a list of identity provider ids")
    for idp in out["allowed_idps"]:
        if idp not in idps:
            raise invalid(f"allowed_idps: identity provider '{idp}' does not exist")
    if body["type"] == "self_hosted":
        dests = body.get("destinations")
        domain = body.get("domain")
        if dests is None:
            if not isinstance(domain, str) or not domain:
                raise invalid("domain (or destinations) is required for self_hosted applications")
            dests = [{"type": "public", "uri": domain}]
        if not isinstance(dests, list) or not dests:
            raise invalid("destinations must be a non-empty list")
        for i, dest in enumerate(dests):
            if not isinstance(dest, dict) or dest.get("type", "public") not in ("public", "private"):
                raise invalid(f"destinations[{i}] must be an object with type public or private")
            if dest.get("type", "public") == "public" and not isinstance(dest.get("uri"), str):
                raise invalid(f"destinations[{i}].uri is required for public destinations")
        public = [d["uri"] for d in dests if d.get("type", "public") == "public"]
        if not domain:
            domain = public[0] if public else ""
        if scope.startswith("zones/"):
            zones = [ctx.store.zone(scope.split("/", 1)[1], ctx.rel_path)]
        else:
            zones = [z for z in ctx.store.data["zones"] if z["account"]["id"] == account_id]
        for uri in [*public, domain]:
            host = uri.split("/", 1)[0]
            if not host or " " in uri or not _host_in_zones(host, zones):
                raise invalid(f"domain '{uri}' does not belong to a zone of this {scope.split('/')[0][:-1]}")
        for other in _in_account(ctx, "access_apps", account_id):
            if other["id"] != app_id and other.get("domain", "").lower() == domain.lower():
                raise conflict(f"an application with domain '{domain}' already exists")
        out["domain"] = domain
        out["destinations"] = [{"type": d.get("type", "public"), **d} for d in dests]
    policies = body.get("policies") or []
    if not isinstance(policies, list):
        raise invalid("policies must be a list of policy ids or {id, precedence} objects")
    known = {p["id"] for p in _in_account(ctx, "access_policies", account_id)}
    refs = []
    for i, ref in enumerate(policies):
        if isinstance(ref, str):
            ref = {"id": ref}
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            raise invalid(f"policies[{i}] must be a policy id or an object with an id")
        if ref["id"] not in known:
            raise invalid(f"policies[{i}]: reusable policy '{ref['id']}' does not exist")
        prec = ref.get("precedence", i + 1)
        if isinstance(prec, bool) or not isinstance(prec, int) or prec < 1:
            raise invalid(f"policies[{i}].precedence must be a positive integer")
        refs.append({"id": ref["id"], "precedence": prec})
    if len({r["precedence"] for r in refs}) != len(refs):
        raise invalid("policies: each policy needs a distinct precedence")
    out["policies"] = refs
    return out


def app_public(ctx, app: dict) -> dict:
    out = _strip(app)
    by_id = {p["id"]: p for p in ctx.store.data["access_policies"]}
    expanded = []
    for ref in sorted(app.get("policies", []), key=lambda r: r["precedence"]):
        pol = by_id.get(ref["id"])
        if pol is not None:
            # An application's policies[] item: the policy plus its precedence, without the reusable-policy
            # listing fields app_count and reusable (SDK 4.x SelfHostedApplicationPolicy).
            full = _strip(pol)
            full["precedence"] = ref["precedence"]
            expanded.append(full)
    out["policies"] = expanded
    return out


def list_apps(ctx):
    scope, _unused = _scope(ctx)
    q = ctx.query
    exact = bool(qbool(q, "exact"))
    apps = [a for a in ctx.store.data["access_apps"] if a["_scope"] == scope]
    for field in ("name", "domain", "aud"):
        want = qget(q, field)
        if want is None:
            continue
        want = want.lower()
        if exact or field == "aud":
            apps = [a for a in apps if str(a.get(field, "")).lower() == want]
        else:
            apps = [a for a in apps if want in str(a.get(field, "")).lower()]
    search = qget(q, "search")
    if search:
        search = search.lower()
        apps = [a for a in apps if search in a["name"].lower() or search in a.get("domain", "").lower()]
    chunk, info = paginate(apps, q, default=25, minimum=1, maximum=1000)
    return 200, [app_public(ctx, a) for a in chunk], info


def get_app(ctx):
    return 200, app_public(ctx, _find(ctx, "access_apps", "application")), None


def create_app(ctx):
    scope, account_id = _scope(ctx)
    app = _validate_app(ctx, scope, account_id, ctx.body, None)
    now = now_iso()
    app.update(
        {
            "id": new_uuid(),
            "aud": random_hex(32),
            "created_at": now,
            "updated_at": now,
            "_scope": scope,
            "_account": account_id,
        }
    )
    ctx.store.data["access_apps"].append(app)
    return 201, app_public(ctx, app), None


def put_app(ctx):
    app = _find(ctx, "access_apps", "application")
    new = _validate_app(ctx, app["_scope"], app["_account"], ctx.body, app["id"])
    keep = {k: app[k] for k in ("id", "aud", "created_at", "_scope", "_account")}
    app.clear()
    app.update(new)
    app.update(keep)
    app["updated_at"] = now_iso()
    return 200, app_public(ctx, app), None


def delete_app(ctx):
    app = _find(ctx, "access_apps", "application")
    ctx.store.data["access_apps"].remove(app)
    return 202, {"id": app["id"]}, None


# --------------------------------------------------------------------------- groups


def _validate_group(ctx, account_id: str, body, group_id: str | None) -> dict:
    body = require_object(body)
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid("name is required")
    out = {"name": body["name"], "is_default": bool(body.get("is_default", False))}
    out["include"] = validate_rules(ctx, account_id, body.get("include"), "include", required=True)
    out["require"] = validate_rules(ctx, account_id, body.get("require"), "require", required=False)
    out["exclude"] = validate_rules(ctx, account_id, body.get("exclude"), "exclude", required=False)
    if group_id and any({"group": {"id": group_id}} == r for k in ("include", "require", "exclude") for r in out[k]):
        raise invalid("a group cannot reference itself")
    return out


def list_groups(ctx):
    scope, _unused = _scope(ctx)
    groups = [g for g in ctx.store.data["access_groups"] if g["_scope"] == scope]
    name = qget(ctx.query, "name")
    if name is not None:
        groups = [g for g in groups if g["name"] == name]
    chunk, info = paginate(groups, ctx.query, default=25, minimum=1, maximum=1000)
    return 200, [_strip(g) for g in chunk], info


def get_group(ctx):
    return 200, _strip(_find(ctx, "access_groups", "group")), None


def create_group(ctx):
    scope, account_id = _scope(ctx)
    grp = _validate_group(ctx, account_id, ctx.body, None)
    now = now_iso()
    grp.update({"id": new_uuid(), "created_at": now, "updated_at": now, "_scope": scope, "_account": account_id})
    ctx.store.data["access_groups"].append(grp)
    return 201, _strip(grp), None


def put_group(ctx):
    grp = _find(ctx, "access_groups", "group")
    new = _validate_group(ctx, grp["_account"], ctx.body, grp["id"])
    grp.update(new)
    grp["updated_at"] = now_iso()
    return 200, _strip(grp), None


def delete_group(ctx):
    grp = _find(ctx, "access_groups", "group")
    for kind in ("access_policies", "access_groups"):
        for obj in ctx.store.data[kind]:
            rules = [r for key in ("include", "require", "exclude") for r in obj.get(key, [])]
            if any(isinstance(r.get("group"), dict) and r["group"].get("id") == grp["id"] for r in rules):
                raise conflict(f"group '{grp['name']}' is used by '{obj['name']}'; remove that reference first")
    ctx.store.data["access_groups"].remove(grp)
    return 202, {"id": grp["id"]}, None


# --------------------------------------------------------------------------- service tokens


SECRET_ANSWER_FIELDS = ("id", "name", "client_id", "created_at", "updated_at", "duration")


def token_public(tok: dict) -> dict:
    return _strip(tok)


def token_with_secret(tok: dict, secret: str) -> dict:
    """Create and rotate answers: the ServiceTokenCreateResponse/RotateResponse schema (no expires_at,
    no last_seen_at; read the token to see its expiry) plus the one-time client_secret."""
    out = {k: copy.deepcopy(tok[k]) for k in SECRET_ANSWER_FIELDS}
    out["client_secret"] = secret
    return out


def _expiry(duration: str) -> str:
    if duration == "forever":
        return "9999-12-31T23:59:59.000000Z"
    return now_iso(duration_seconds(duration))


def list_service_tokens(ctx):
    scope, _unused = _scope(ctx)
    toks = [t for t in ctx.store.data["service_tokens"] if t["_scope"] == scope]
    name = qget(ctx.query, "name")
    if name is not None:
        toks = [t for t in toks if t["name"] == name]
    chunk, info = paginate(toks, ctx.query, default=25, minimum=1, maximum=1000)
    return 200, [token_public(t) for t in chunk], info


def get_service_token(ctx):
    return 200, token_public(_find(ctx, "service_tokens", "service token")), None


def create_service_token(ctx):
    scope, account_id = _scope(ctx)
    body = require_object(ctx.body)
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid("name is required")
    duration = _check_duration(body.get("duration", "8760h"), "duration", allow_forever=True)
    secret = random_hex(32)
    now = now_iso()
    tok = {
        "id": new_uuid(),
        "name": body["name"],
        "client_id": random_hex(16) + ".access",
        "created_at": now,
        "updated_at": now,
        "expires_at": _expiry(duration),
        "duration": duration,
        "last_seen_at": None,
        "_client_secret_sha256": sha256(secret),
        "_scope": scope,
        "_account": account_id,
    }
    ctx.store.data["service_tokens"].append(tok)
    return 201, token_with_secret(tok, secret), None


def put_service_token(ctx):
    tok = _find(ctx, "service_tokens", "service token")
    body = require_object(ctx.body)
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise invalid("name must be a non-empty string")
        tok["name"] = body["name"]
    if "duration" in body:
        tok["duration"] = _check_duration(body["duration"], "duration", allow_forever=True)
    tok["updated_at"] = now_iso()
    return 200, token_public(tok), None


def rotate_service_token(ctx):
    tok = _find(ctx, "service_tokens", "service token")
    secret = random_hex(32)
    tok["_client_secret_sha256"] = sha256(secret)
    tok["updated_at"] = now_iso()
    return 200, token_with_secret(tok, secret), None


def refresh_service_token(ctx):
    tok = _find(ctx, "service_tokens", "service token")
    tok["expires_at"] = _expiry(tok["duration"])
    tok["updated_at"] = now_iso()
    return 200, token_public(tok), None


def delete_service_token(ctx):
    tok = _find(ctx, "service_tokens", "service token")
    ctx.store.data["service_tokens"].remove(tok)
    return 200, token_public(tok), None


# --------------------------------------------------------------------------- identity providers


def list_idps(ctx):
    _unused, account_id = _scope(ctx)
    chunk, info = paginate(_idps(ctx, account_id), ctx.query, default=25, minimum=1, maximum=1000)
    return 200, [_strip(i) for i in chunk], info


def get_idp(ctx):
    _unused, account_id = _scope(ctx)
    for idp in _idps(ctx, account_id):
        if idp["id"] == ctx.params["id"]:
            return 200, _strip(idp), None
    raise not_found("identity provider")


# --------------------------------------------------------------------------- tags

# Access tags are account-wide objects addressed by name (`/access/tags/{tag_name}`); applications list
# them in `tags`, and an application naming a tag that does not exist is refused (see the facts page).
# Cloudflare's dashboard takes names of up to 35 characters.
TAG_NAME_MAX = 35


def _tag_name(ctx) -> str:
    return urllib.parse.unquote(ctx.params["name"])


def _tags(ctx) -> list:
    _unused, account_id = _scope(ctx)
    return _in_account(ctx, "access_tags", account_id)


def _tag_app_count(ctx, account_id: str, name: str) -> int:
    return sum(1 for a in _in_account(ctx, "access_apps", account_id) if name in (a.get("tags") or []))


def tag_public(ctx, tag: dict) -> dict:
    out = _strip(tag)
    out["app_count"] = _tag_app_count(ctx, tag["_account"], tag["name"])
    return out


def _find_tag(ctx, name: str) -> dict:
    for tag in _tags(ctx):
        if tag["name"] == name:
            return tag
    raise not_found("tag")


def list_tags(ctx):
    chunk, info = paginate(_tags(ctx), ctx.query, default=25, minimum=1, maximum=1000)
    return 200, [tag_public(ctx, t) for t in chunk], info


def get_tag(ctx):
    return 200, tag_public(ctx, _find_tag(ctx, _tag_name(ctx))), None


def create_tag(ctx):
    _unused, account_id = _scope(ctx)
    body = require_object(ctx.body)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name is required")
    if len(name) > TAG_NAME_MAX:
        raise invalid(f"name must be at most {TAG_NAME_MAX} characters")
    if any(t["name"] == name for t in _tags(ctx)):
        raise conflict(f"a tag named '{name}' already exists")
    now = now_iso()
    tag = {"name": name, "created_at": now, "updated_at": now, "_account": account_id}
    ctx.store.data["access_tags"].append(tag)
    return 201, tag_public(ctx, tag), None


def delete_tag(ctx):
    tag = _find_tag(ctx, _tag_name(ctx))
    used = _tag_app_count(ctx, tag["_account"], tag["name"])
    if used:
        raise conflict(f"tag '{tag['name']}' is used by {used} application(s); remove it from them first")
    ctx.store.data["access_tags"].remove(tag)
    return 202, {"name": tag["name"]}, None


# --------------------------------------------------------------------------- the Zero Trust organization


def get_organization(ctx):
    """One object, not a list. An account without an organization: 404 (the real answer is unverified)."""
    _unused, account_id = _scope(ctx)
    for org in ctx.store.data["access_organizations"]:
        if org["_account"] == account_id:
            return 200, _strip(org), None
    raise not_found("organization")


def _routes() -> list:
    routes = [("GET", "/accounts/{account}/access/organizations", get_organization, "access_org:read")]
    for base in ("/accounts/{account}/access", "/zones/{zone}/access"):
        for name, group, lst, get, create, put, delete in (
            ("apps", "access_apps", list_apps, get_app, create_app, put_app, delete_app),
            ("groups", "access_org", list_groups, get_group, create_group, put_group, delete_group),
            (
                "service_tokens",
                "access_service_tokens",
                list_service_tokens,
                get_service_token,
                create_service_token,
                put_service_token,
                delete_service_token,
            ),
        ):
            routes += [
                ("GET", f"{base}/{name}", lst, f"{group}:read"),
                ("POST", f"{base}/{name}", create, f"{group}:edit"),
                ("GET", f"{base}/{name}/{{id}}", get, f"{group}:read"),
                ("PUT", f"{base}/{name}/{{id}}", put, f"{group}:edit"),
                ("DELETE", f"{base}/{name}/{{id}}", delete, f"{group}:edit"),
            ]
        routes += [
            ("POST", f"{base}/service_tokens/{{id}}/rotate", rotate_service_token, "access_service_tokens:edit"),
            ("POST", f"{base}/service_tokens/{{id}}/refresh", refresh_service_token, "access_service_tokens:edit"),
            ("GET", f"{base}/identity_providers", list_idps, "access_org:read"),
            ("GET", f"{base}/identity_providers/{{id}}", get_idp, "access_org:read"),
        ]
    base = "/accounts/{account}/access/tags"
    routes += [
        ("GET", base, list_tags, "access_apps:read"),
        ("POST", base, create_tag, "access_apps:edit"),
        ("GET", base + "/{name}", get_tag, "access_apps:read"),
        ("DELETE", base + "/{name}", delete_tag, "access_apps:edit"),
    ]
    base = "/accounts/{account}/access/policies"
    routes += [
        ("GET", base, list_policies, "access_apps:read"),
        ("POST", base, create_policy, "access_apps:edit"),
        ("GET", base + "/{id}", get_policy, "access_apps:read"),
        ("PUT", base + "/{id}", put_policy, "access_apps:edit"),
        ("DELETE", base + "/{id}", delete_policy, "access_apps:edit"),
    ]
    return routes


ROUTES = _routes()
