# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The Zero Trust Access rule language (private: no API promise). Pure: no API call, no Ansible.

* the friendly rule form (``email: a@b``, ``service_token: NAME`` ...) and its translation to the
  API form (``{"email": {"email": "a@b"}}``, ``{"service_token": {"token_id": UUID}}``), with
  validation that names the option, the rule and what would be valid; names are turned into ids
  by a ``resolver(kind, name, where)`` the caller gives (``_access.AccessDirectory.resolve`` in the
  modules, an offline check in the ``edge_problems`` filter);
* which rules a decision allows (``decision_problem``) and every problem of a whole policy
  (``policy_problems``, the role's preflight);
* normalisation of rules and durations so that what the API answers compares equal to what was
  asked for (idempotence).

The API plumbing (name lookups, writes) is in ``_access``; the per-kind managers in ``_access_<kind>``.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import go_duration_seconds, is_dns_name


class AccessError(CloudflareInputError):
    """Bad input or an unresolvable reference; the message names the option and is shown as is."""


# kind -> label used in messages (the API paths are in _access.KIND_PATHS)
KIND_LABELS = {
    "service_token": "service token",
    "group": "Access group",
    "identity_provider": "identity provider",
    "policy": "reusable Access policy",
    "application": "Access application",
    "tag": "Access tag",
}


def kind_label(kind):
    return KIND_LABELS[kind]


# --------------------------------------------------------------------------------------------
# Policies: the words and keys
# --------------------------------------------------------------------------------------------

DECISIONS = ("allow", "deny", "non_identity", "bypass")
RULE_OPTIONS = ("include", "require", "exclude")
POLICY_SETTINGS = (
    "session_duration",
    "approval_required",
    "purpose_justification_required",
    "purpose_justification_prompt",
)
POLICY_KEYS = frozenset(("decision", *RULE_OPTIONS, *POLICY_SETTINGS))
# The module options holding rule lists (documented once, by the access_rules doc fragment).
RULE_OPTIONS_SPEC = {option: dict(type="list", elements="dict") for option in RULE_OPTIONS}

# --------------------------------------------------------------------------------------------
# Value validation
# --------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
_AUTH_METHOD_RE = re.compile(r"^[a-z]{2,16}$")
# Also accept a day suffix ("30d") where we parse durations ourselves (never sent to the API).
_DAYS_RE = re.compile(r"^(\d+)d$")

# Common AMR values Cloudflare passes through (RFC 8176); any lower-case word is accepted.
AUTH_METHOD_EXAMPLES = ("mfa", "hwk", "swk", "otp", "sms", "pwd")


def _is_text(value):
    return isinstance(value, str)


def validate_email(value, where):
    if not _is_text(value) or not _EMAIL_RE.match(value.strip()):
        raise AccessError("%s: %r is not an email address (expected user@example.com)" % (where, value))
    return value.strip()


def _is_domain(text):
    """A DNS name of at least two labels whose last label (the TLD) has two characters or more."""
    return is_dns_name(text) and "." in text and len(text.rsplit(".", 1)[1]) >= 2


def validate_domain(value, where):
    text = value.strip() if _is_text(value) else value
    if _is_text(text) and text.startswith("@"):
        raise AccessError("%s: %r: give the domain without '@' (e.g. %r)" % (where, value, text[1:]))
    if not _is_text(text) or not _is_domain(text):
        raise AccessError("%s: %r is not a domain name (expected e.g. example.com)" % (where, value))
    return text.lower()


def validate_country(value, where):
    if not _is_text(value) or not _COUNTRY_RE.match(value.strip()):
        raise AccessError(
            "%s: %r is not a country code (expected a two-letter ISO 3166-1 alpha-2 code such as US or DE)"
            % (where, value)
        )
    return value.strip().upper()


def validate_cidr(value, where):
    if not _is_text(value) or not value.strip():
        raise AccessError("%s: %r is not an IP address or CIDR range (expected e.g. 192.0.2.0/24)" % (where, value))
    text = value.strip()
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AccessError(
            "%s: %r is not an IP address or CIDR range (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.7)"
            % (where, value)
        ) from None
    raise AccessError("%s: %r has host bits set; did you mean %s?" % (where, value, network))


def validate_auth_method(value, where):
    if not _is_text(value) or not _AUTH_METHOD_RE.match(value.strip()):
        raise AccessError(
            "%s: %r is not an authentication method reference (expected a lower-case AMR value such as %s)"
            % (where, value, ", ".join(AUTH_METHOD_EXAMPLES))
        )
    return value.strip()


def validate_text(value, where):
    if not _is_text(value) or not value.strip():
        raise AccessError("%s: expected a non-empty string, got %r" % (where, value))
    return value.strip()


def is_duration(value, allow=()):
    """A Go duration as Cloudflare takes it (``24h``, ``30m``, ``1h30m``), or one of the words in ``allow``."""
    if not _is_text(value):
        return False
    text = value.strip()
    return text in allow or go_duration_seconds(text) is not None


def validate_duration(value, where, allow=()):
    """A Go-style duration such as ``24h`` or ``30m`` (or one of the literal words in ``allow``)."""
    if not is_duration(value, allow):
        extra = "" if not allow else " or %s" % " / ".join(repr(a) for a in allow)
        raise AccessError("%s: %r is not a duration (expected e.g. 24h, 30m or 1h30m%s)" % (where, value, extra))
    return value.strip()


def duration_seconds(value):
    """Seconds in a Go-style duration (``1h30m`` -> 5400.0), or ``30d`` days; None when not a duration."""
    if not _is_text(value):
        return None
    text = value.strip()
    days = _DAYS_RE.match(text)
    if days:
        return int(days.group(1)) * 86400.0
    return go_duration_seconds(text)


def durations_equal(a, b):
    """``24h`` equals ``1440m``; non-durations (``forever``) compare as text."""
    if a == b:
        return True
    sa, sb = duration_seconds(a), duration_seconds(b)
    if sa is None or sb is None:
        return False
    return abs(sa - sb) < 1e-6


# --------------------------------------------------------------------------------------------
# Rules: friendly form -> API form
# --------------------------------------------------------------------------------------------

# Friendly keys whose value is one scalar (or a list of them, expanded into one rule each):
# key -> (field inside the API object, validator or reference kind)
_SCALAR_RULES = {
    "email": ("email", validate_email),
    "email_domain": ("domain", validate_domain),
    "geo": ("country_code", validate_country),
    "ip": ("ip", validate_cidr),
    "auth_method": ("auth_method", validate_auth_method),
    "email_list": ("id", validate_text),
    "ip_list": ("id", validate_text),
    "common_name": ("common_name", validate_text),
    "service_token": ("token_id", "service_token"),
    "group": ("id", "group"),
    "login_method": ("id", "identity_provider"),
}
# Friendly keys that take `true` (API form: an empty object).
_FLAG_RULES = ("everyone", "any_valid_service_token", "certificate")
_GITHUB_KEYS = ("github-organization", "github_organization")

FRIENDLY_RULE_KEYS = tuple(sorted(list(_SCALAR_RULES) + list(_FLAG_RULES) + ["github-organization"]))

# Rule types that identify a person through a login (Cloudflare One, Access policy selectors). A
# Service Auth policy (decision non_identity) admits without any login, so Cloudflare refuses them
# in its include and require lists.
IDENTITY_RULE_TYPES = (
    "email",
    "email_domain",
    "email_list",
    "login_method",
    "auth_method",
    "github-organization",
    "github_organization",
    "gsuite",
    "azureAD",
    "okta",
    "saml",
    "oidc",
    "auth_context",
    "external_evaluation",
)


def decision_problem(decision, rules_by_option):
    """Why the rules cannot go with ``decision`` (friendly or API form), or None when they can.

    ``rules_by_option`` maps include/require/exclude to their rule lists.
    """
    if decision != "non_identity":
        return None
    for option in ("include", "require"):
        for index, rule in enumerate(rules_by_option.get(option) or []):
            key = next(iter(rule)) if isinstance(rule, dict) and len(rule) == 1 else None
            if key in IDENTITY_RULE_TYPES:
                return (
                    "%s[%d]: a non_identity (Service Auth) policy admits without a login, so it cannot match by %s; "
                    "use decision 'allow' for people and 'non_identity' for service tokens" % (option, index, key)
                )
    return None


def _rule_key(rule, where):
    if not isinstance(rule, dict):
        raise AccessError(
            "%s must be a mapping with exactly one rule type, such as 'email: me@example.com' (a mapping with one "
            "key), got %r" % (where, rule)
        )
    if len(rule) != 1:
        raise AccessError(
            "%s must be a mapping with exactly one rule type (email, service_token, ...): a rule has exactly one key, "
            "got %s (use one list entry per rule)" % (where, ", ".join(sorted(str(k) for k in rule)) or "none")
        )
    return next(iter(rule.items()))


def translate_rules(rules, option, resolver=None):
    """Translate a list of friendly or raw rules into the API form.

    ``option`` names the list in messages (``include``, ``policies.owner.require`` ...).
    ``resolver(kind, value, where)`` returns the id for a name (see ``AccessDirectory.resolve``);
    it is only called for friendly references. Returns a new list; raises ``AccessError``.
    """
    if rules is None:
        return None
    if not isinstance(rules, list):
        raise AccessError("%s: expected a list of rules, got %r" % (option, rules))
    result = []
    for index, rule in enumerate(rules):
        result.extend(_translate_rule(rule, "%s[%d]" % (option, index), resolver))
    return result


def rule_problems(rules, option, resolver=None):
    """Every problem of a list of rules (each rule checked, not just up to the first bad one); [] when valid."""
    problems = []
    for index, rule in enumerate(rules):
        try:
            _translate_rule(rule, "%s[%d]" % (option, index), resolver)
        except AccessError as exc:
            problems.append(str(exc))
    return problems


def _resolve(resolver, kind, value, where):
    if resolver is None:
        raise AccessError("%s: cannot resolve %s names here" % (where, kind_label(kind)))
    return resolver(kind, value, where)


def _translate_rule(rule, where, resolver):
    key, value = _rule_key(rule, where)
    where_key = "%s.%s" % (where, key)
    if key in _FLAG_RULES:
        if value is True or value == {}:
            return [{key: {}}]
        raise AccessError(
            "%s: expected 'true' (or the API form {}), got %r; to stop matching, remove the rule" % (where_key, value)
        )
    if key in _GITHUB_KEYS:
        return [_translate_github(value, where_key, resolver)]
    if key in _SCALAR_RULES:
        field, check = _SCALAR_RULES[key]
        if isinstance(value, dict):
            return [{key: _translate_raw(key, field, value, check, where_key)}]
        values = value if isinstance(value, list) else [value]
        if not values:
            raise AccessError("%s: expected a value or a non-empty list of values, got []" % where_key)
        out = []
        for item in values:
            if isinstance(check, str):
                if not _is_text(item) or not item.strip():
                    raise AccessError(
                        "%s: expected the name (or id) of a %s, got %r" % (where_key, kind_label(check), item)
                    )
                out.append({key: {field: _resolve(resolver, check, item.strip(), where_key)}})
            else:
                out.append({key: {field: check(item, where_key)}})
        return out
    if isinstance(value, dict):
        # Any other rule type in the API form (azureAD, okta, saml, device_posture ...): passed through.
        return [{key: dict(value)}]
    raise AccessError(
        "%s: unknown rule type %r; friendly rule types are %s (any other rule type is accepted in the API form, "
        "e.g. {%s: {...}})" % (where, key, ", ".join(FRIENDLY_RULE_KEYS), key)
    )


def _translate_raw(key, field, value, check, where):
    """The API form of a known rule type: check the field that matters, keep the rest."""
    if field not in value:
        raise AccessError(
            "%s: the API form of a %s rule is {%s: {%s: ...}}, got keys %s"
            % (where, key, key, field, ", ".join(sorted(value)) or "none")
        )
    out = dict(value)
    validate = validate_text if isinstance(check, str) else check
    out[field] = validate(value[field], "%s.%s" % (where, field))
    return out


def _translate_github(value, where, resolver):
    if not isinstance(value, dict) or not value.get("name"):
        raise AccessError(
            "%s: expected {name: ORG, team: TEAM (optional), identity_provider: NAME or identity_provider_id: ID}, "
            "got %r" % (where, value)
        )
    allowed = {"name", "team", "identity_provider", "identity_provider_id"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise AccessError(
            "%s: unknown key(s) %s; valid keys are %s" % (where, ", ".join(unknown), ", ".join(sorted(allowed)))
        )
    out = {"name": validate_text(value["name"], where + ".name")}
    if value.get("team") is not None:
        out["team"] = validate_text(value["team"], where + ".team")
    idp = value.get("identity_provider_id")
    if value.get("identity_provider") is not None:
        name = validate_text(value["identity_provider"], where)
        idp = _resolve(resolver, "identity_provider", name, where + ".identity_provider")
    if idp is None:
        raise AccessError("%s: identity_provider (a name) or identity_provider_id is required" % where)
    out["identity_provider_id"] = idp
    return {"github-organization": out}


# --------------------------------------------------------------------------------------------
# A whole policy, as the role describes it (homelab_access_policies)
# --------------------------------------------------------------------------------------------


def policy_problems(policy, where, resolver=None):
    """Every problem of one policy description ``{decision, include, require, exclude, settings}``.

    ``where`` names the policy in messages; ``resolver`` checks names (see ``translate_rules``).
    Returns a list of messages, empty when the policy can be created as described.
    """
    if not isinstance(policy, dict):
        return ["%s must be a mapping with 'decision' and 'include', got %s." % (where, type(policy).__name__)]
    problems = []
    unknown = sorted(str(k) for k in set(policy) - POLICY_KEYS)
    if unknown:
        problems.append(
            "%s: unknown key(s) %s; valid: %s." % (where, ", ".join(unknown), ", ".join(sorted(POLICY_KEYS)))
        )
    if policy.get("decision") not in DECISIONS:
        problems.append(
            "%s: 'decision' must be one of %s, got %r." % (where, ", ".join(DECISIONS), policy.get("decision"))
        )
    if not isinstance(policy.get("include"), list) or not policy["include"]:
        problems.append("%s: 'include' must be a non-empty list of rules, such as [{email: me@example.com}]." % where)
    for option in RULE_OPTIONS:
        rules = policy.get(option)
        if rules is None:
            continue
        if not isinstance(rules, list):
            problems.append("%s: '%s' must be a list of rules, got %s." % (where, option, type(rules).__name__))
            continue
        problems.extend(rule_problems(rules, "%s.%s" % (where, option), resolver))
    problem = decision_problem(policy.get("decision"), policy)
    if problem:
        problems.append("%s.%s." % (where, problem))
    duration = policy.get("session_duration")
    if duration is not None and not is_duration(duration):
        problems.append("%s: session_duration must be a duration such as '24h' or '30m', got %r." % (where, duration))
    return problems


# --------------------------------------------------------------------------------------------
# Rules: comparison
# --------------------------------------------------------------------------------------------

# The fields of each known rule type that matter when comparing (the API may add others).
_COMPARE_FIELDS = {
    "email": ("email",),
    "email_domain": ("domain",),
    "geo": ("country_code",),
    "ip": ("ip",),
    "auth_method": ("auth_method",),
    "email_list": ("id",),
    "ip_list": ("id",),
    "common_name": ("common_name",),
    "service_token": ("token_id",),
    "group": ("id",),
    "login_method": ("id",),
    "everyone": (),
    "any_valid_service_token": (),
    "certificate": (),
    "github-organization": ("name", "team", "identity_provider_id"),
}


def _normalise_network(value):
    if not _is_text(value):
        return value
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return value


def _lower(value):
    return value.strip().lower() if _is_text(value) else value


def _upper(value):
    return value.strip().upper() if _is_text(value) else value


# Per-field normalisation used for comparison only.
_FIELD_NORMALISERS = {
    ("email", "email"): _lower,
    ("email_domain", "domain"): _lower,
    ("geo", "country_code"): _upper,
    ("ip", "ip"): _normalise_network,
}


def normalize_rule(rule):
    """The comparable form of one API-form rule: known fields only, normalised; unknown types minus nulls."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return rule
    key, inner = next(iter(rule.items()))
    if not isinstance(inner, dict):
        inner = {}
    fields = _COMPARE_FIELDS.get(key)
    if fields is None:
        return {key: {k: v for k, v in inner.items() if v is not None}}
    out = {}
    for field in fields:
        v = inner.get(field)
        if v is None or v == "":
            continue
        normaliser = _FIELD_NORMALISERS.get((key, field))
        out[field] = normaliser(v) if normaliser else v
    return {key: out}


def normalize_rules(rules):
    return [normalize_rule(r) for r in (rules or [])]


def rules_equal(desired, actual):
    """Cloudflare keeps the order of rules, so lists compare in order."""
    return normalize_rules(desired) == normalize_rules(actual)


def rules_comparators(options=RULE_OPTIONS):
    """``changed_fields`` comparators for rule lists (in order, normalised)."""
    return {option: (lambda have, want: rules_equal(want, have)) for option in options}
