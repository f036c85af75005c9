# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Zero Trust Access helpers shared by the ``cloudflare_access_*`` modules (private: no API promise).

What lives here:

* the friendly rule form (``email: a@b``, ``service_token: NAME`` ...) and its translation to the
  API form (``{"email": {"email": "a@b"}}``, ``{"service_token": {"token_id": UUID}}``), with
  validation that names the option, the rule and what would be valid;
* normalisation of rules and durations so that what the API answers compares equal to what was
  asked for (idempotence);
* ``AccessDirectory``: reads each Access resource kind at most once per task and resolves names
  (or ids) to ids, failing with the names that exist.

Everything above the ``AccessDirectory`` class is pure and has no dependency on the HTTP client.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import time
from urllib.parse import quote

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    CloudflareError,
    CloudflareInputError,
    CloudflareNotFoundError,
    changed_fields,
    check_owner_id,
)

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class AccessError(CloudflareInputError):
    """Bad input or an unresolvable reference; the message names the option and is shown as is."""


# --------------------------------------------------------------------------------------------
# Resource kinds
# --------------------------------------------------------------------------------------------

# kind -> (path below /accounts/{account}/access, label used in messages)
KINDS = {
    "service_token": ("service_tokens", "service token"),
    "group": ("groups", "Access group"),
    "identity_provider": ("identity_providers", "identity provider"),
    "policy": ("policies", "reusable Access policy"),
    "application": ("apps", "Access application"),
    "tag": ("tags", "Access tag"),
}


def kind_path(kind):
    return KINDS[kind][0]


def kind_label(kind):
    return KINDS[kind][1]


# --------------------------------------------------------------------------------------------
# Ownership of applications: an Access tag per site
# --------------------------------------------------------------------------------------------

# Access applications have no hidden label field; their tags (account-wide Access tag objects, shown as
# filters in the App Launcher) are the one place to record which site made them.
OWNER_TAG_PREFIX = "mcp_edge "
# Cloudflare's dashboard allows Access tag names of up to 35 characters.
OWNER_TAG_MAX = 35
OWNER_ID_MAX = OWNER_TAG_MAX - len(OWNER_TAG_PREFIX)


def owner_tag(owner_id):
    """The Access tag that marks the applications of ``owner_id`` (None without an owner)."""
    return OWNER_TAG_PREFIX + owner_id if owner_id else None


def check_access_owner_id(owner_id, option="owner_id"):
    check_owner_id(owner_id, option=option, max_length=OWNER_ID_MAX)


def app_owner_tags(app):
    """The owner tags (of any site) an application carries."""
    return [t for t in (app or {}).get("tags") or [] if isinstance(t, str) and t.startswith(OWNER_TAG_PREFIX)]


def app_owned(app, owner_id):
    """Whether ``app`` carries ``owner_id``'s tag (always True without an owner id)."""
    return not owner_id or owner_tag(owner_id) in ((app or {}).get("tags") or [])


def foreign_app_reason(app):
    others = app_owner_tags(app)
    if others:
        return "it carries %s, another site's tag" % ", ".join(repr(t) for t in others)
    tags = (app or {}).get("tags") or []
    return "its tags: %s" % ", ".join(repr(t) for t in tags) if tags else "it has no tags"


def describe_app(app):
    return "Access application %r (id %s, domain %s)" % (app.get("name"), app.get("id"), app.get("domain"))


def owned_tags(tags, owner_id):
    """``tags`` with ``owner_id``'s tag and without any other site's."""
    tag = owner_tag(owner_id)
    out = [t for t in tags or [] if not (isinstance(t, str) and t.startswith(OWNER_TAG_PREFIX))]
    out.append(tag)
    return out


# --------------------------------------------------------------------------------------------
# Value validation
# --------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z0-9-]{2,63}(?<!-)$", re.IGNORECASE)
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
_AUTH_METHOD_RE = re.compile(r"^[a-z]{2,16}$")
# Go-style durations, as Cloudflare takes them: "24h", "30m", "1h30m", "720h".
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
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


def validate_domain(value, where):
    text = value.strip() if _is_text(value) else value
    if _is_text(text) and text.startswith("@"):
        raise AccessError("%s: %r: give the domain without '@' (e.g. %r)" % (where, value, text[1:]))
    if not _is_text(text) or not _DOMAIN_RE.match(text):
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


def validate_duration(value, where, allow=()):
    """A Go-style duration such as ``24h`` or ``30m`` (or one of the literal words in ``allow``)."""
    if _is_text(value) and value.strip() in allow:
        return value.strip()
    if not _is_text(value) or not _DURATION_RE.match(value.strip()):
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
    if not _DURATION_RE.match(text):
        return None
    return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART_RE.findall(text))


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


# Per-field normalisation used for comparison only.
_FIELD_NORMALISERS = {
    ("email", "email"): lambda v: v.strip().lower() if _is_text(v) else v,
    ("email_domain", "domain"): lambda v: v.strip().lower() if _is_text(v) else v,
    ("geo", "country_code"): lambda v: v.strip().upper() if _is_text(v) else v,
    ("ip", "ip"): _normalise_network,
}


def _rule_key(rule, where):
    if not isinstance(rule, dict):
        raise AccessError(
            "%s: each rule is a mapping with one key such as 'email: me@example.com', got %r" % (where, rule)
        )
    if len(rule) != 1:
        raise AccessError(
            "%s: each rule has exactly one key, got %s (use one list entry per rule)"
            % (where, ", ".join(sorted(str(k) for k in rule)) or "none")
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
        where = "%s[%d]" % (option, index)
        result.extend(_translate_rule(rule, where, resolver))
    return result


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
                if resolver is None:
                    raise AccessError("%s: cannot resolve %s names here" % (where_key, kind_label(check)))
                if not _is_text(item) or not item.strip():
                    raise AccessError(
                        "%s: expected the name (or id) of a %s, got %r" % (where_key, kind_label(check), item)
                    )
                out.append({key: {field: resolver(check, item.strip(), where_key)}})
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
    if isinstance(check, str):
        out[field] = validate_text(value[field], "%s.%s" % (where, field))
    else:
        out[field] = check(value[field], "%s.%s" % (where, field))
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
        if resolver is None:
            raise AccessError("%s: cannot resolve identity provider names here" % where)
        idp = resolver(
            "identity_provider", validate_text(value["identity_provider"], where), where + ".identity_provider"
        )
    if idp is None:
        raise AccessError("%s: identity_provider (a name) or identity_provider_id is required" % where)
    out["identity_provider_id"] = idp
    return {"github-organization": out}


# --------------------------------------------------------------------------------------------
# Rules: comparison
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Name resolution
# --------------------------------------------------------------------------------------------

# Fields of a write's answer that must not outlive the call in any cache.
_SECRET_FIELDS = ("client_secret",)


class AccessDirectory:
    """Reads each Access resource kind at most once and resolves names to ids.

    ``loader(kind)`` returns the full list of objects of that kind (one paginated listing); it is
    called at most once per kind for the life of the directory. Writes keep a loaded listing
    current (``remember``, ``drop``) instead of reading it again.
    """

    def __init__(self, loader, lenient=False, warn=None):
        self._loader = loader
        self._cache = {}
        # In check mode an earlier task of the same run may only have pretended to create the object
        # a name refers to: an unknown name is then a warning and a placeholder, not an error.
        self.lenient = lenient
        self._warn = warn

    def list(self, kind):
        if kind not in self._cache:
            self._cache[kind] = list(self._loader(kind) or [])
        return self._cache[kind]

    def loaded(self, kind):
        return kind in self._cache

    def forget(self, kind):
        self._cache.pop(kind, None)

    def remember(self, kind, obj):
        """Put a created or replaced object into a loaded listing, so the next lookup needs no new read.

        Secrets in a write's answer (a new service token's ``client_secret``) are not kept. An answer
        without an id cannot be placed: the kind is then listed again when next needed.
        """
        if kind not in self._cache:
            return
        if not isinstance(obj, dict) or not obj.get("id"):
            self.forget(kind)
            return
        kept = {k: v for k, v in obj.items() if k not in _SECRET_FIELDS}
        items = [o for o in self._cache[kind] if o.get("id") != kept["id"]]
        items.append(kept)
        self._cache[kind] = items

    def drop(self, kind, obj_id):
        """Take a deleted object out of a loaded listing."""
        if kind in self._cache:
            self._cache[kind] = [o for o in self._cache[kind] if o.get("id") != obj_id]

    def by_name(self, kind, name):
        """Every object of ``kind`` named ``name`` (exact match)."""
        return [o for o in self.list(kind) if o.get("name") == name]

    def find_one(self, kind, name, where=None):
        """The object named ``name``, None when there is none; an error when the name is ambiguous."""
        found = self.by_name(kind, name)
        if len(found) > 1:
            raise AccessError(
                "%s%d %ss are named %r (ids %s); rename them or refer to one by id"
                % (
                    "%s: " % where if where else "",
                    len(found),
                    kind_label(kind),
                    name,
                    ", ".join(o.get("id", "?") for o in found),
                )
            )
        return found[0] if found else None

    def resolve(self, kind, value, where):
        """The id of the object of ``kind`` whose name (or else id) is ``value``."""
        obj = self.find_one(kind, value, where)
        if obj is not None:
            return obj["id"]
        for o in self.list(kind):
            if o.get("id") == value:
                return value
        names = sorted({o.get("name") for o in self.list(kind) if o.get("name")})
        if self.lenient:
            if self._warn:
                self._warn(
                    "%s: no %s named %r exists; check mode assumes an earlier task creates it "
                    "(a real run fails if it does not exist then)" % (where, kind_label(kind), value)
                )
            return "(id of %s %s)" % (kind_label(kind), value)
        raise AccessError(
            "%s: no %s named %r; existing: %s"
            % (where, kind_label(kind), value, ", ".join(repr(n) for n in names) if names else "none")
        )

    def resolve_many(self, kind, values, option):
        if values is None:
            return None
        return [self.resolve(kind, v, "%s[%d]" % (option, i)) for i, v in enumerate(values)]


def translate_rule_options(params, directory, options=("include", "require", "exclude"), prefix=""):
    """Translate the rule lists in ``params`` (None stays None), reading each needed kind once."""
    out = {}
    for option in options:
        out[option] = translate_rules(params.get(option), prefix + option, directory.resolve)
    return out


# --------------------------------------------------------------------------------------------
# Planning helpers shared by the modules
# --------------------------------------------------------------------------------------------


def policy_ids_in_order(app):
    """The ids of the policies linked to an application, in precedence order."""
    policies = app.get("policies") or []
    indexed = []
    for position, p in enumerate(policies):
        if isinstance(p, dict):
            precedence = p.get("precedence")
            indexed.append((precedence if isinstance(precedence, int) else position + 1, position, p.get("id")))
        else:
            indexed.append((position + 1, position, p))
    return [pid for _prec, _pos, pid in sorted(indexed)]


def same_set(a, b):
    return sorted(a or []) == sorted(b or [])


def merge_body(existing, desired, writable):
    """A full PUT body: the writable fields of ``existing`` overlaid with the non-None ``desired`` values."""
    body = {k: existing[k] for k in writable if k in existing and existing[k] is not None}
    body.update({k: v for k, v in desired.items() if v is not None})
    return body


def parse_timestamp(value):
    """Seconds since the epoch of an RFC 3339 UTC timestamp (``2026-01-01T00:00:00.000Z``); None if unusable."""
    if not _is_text(value):
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(x) for x in m.groups()[:6])
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    tz = m.group(7)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(seconds)


# --------------------------------------------------------------------------------------------
# The per-task context the modules share: account, directory, write helpers (check mode here)
# --------------------------------------------------------------------------------------------

LIST_PER_PAGE = 100


class AccessTask:
    """One module run against the account-level Access API.

    Reads go through ``directory`` (each kind listed at most once). Writes go through ``create``,
    ``replace``, ``remove`` and ``action``, which decide check mode: in check mode they send
    nothing and return None.
    """

    def __init__(self, cf, account_id=None, now=None):
        self.cf = cf
        self.client = cf.client
        self.check_mode = cf.check_mode
        self.account_id = account_id or self.client.resolve_account_id()
        self.directory = AccessDirectory(self._load, lenient=self.check_mode, warn=getattr(cf.module, "warn", None))
        self._now = now or time.time
        self._tags_known = set()
        # Owner tags carried by applications this task deleted (their tag may have to go too).
        self.tags_released = set()
        self.tags_created = set()

    def now(self):
        return self._now()

    def path(self, kind, obj_id=None, suffix=None):
        path = "/accounts/%s/access/%s" % (quote(self.account_id, safe=""), kind_path(kind))
        if obj_id:
            path += "/" + quote(obj_id, safe="")
        if suffix:
            path += "/" + suffix
        return path

    def _load(self, kind, params=None):
        items = self.client.paginate(self.path(kind), params=params, per_page=LIST_PER_PAGE)
        return items if isinstance(items, list) else []

    def find_by_name(self, kind, name, params=None):
        """The one object of ``kind`` named ``name`` or None.

        With ``params`` (a server-side filter such as ``{"name": name}``) the listing is narrowed and
        not cached as the full list; names are always matched exactly on this side too.
        """
        if params is None or self.directory.loaded(kind):
            # A task that reconciles many objects lists the kind once and finds each one in it.
            return self.directory.find_one(kind, name, "name")
        found = [o for o in self._load(kind, params) if isinstance(o, dict) and o.get("name") == name]
        if len(found) > 1:
            raise AccessError(
                "name: %d %ss are named %r (ids %s); delete the extra ones or rename them"
                % (len(found), kind_label(kind), name, ", ".join(o.get("id", "?") for o in found))
            )
        return found[0] if found else None

    def _recover(self, kind, name, params=None):
        """After an ambiguous create: the object if the create went through (a fresh listing), else None."""

        def recover():
            found = [o for o in self._load(kind, params) if isinstance(o, dict) and o.get("name") == name]
            return found[0] if len(found) == 1 else None

        return recover

    # ---------------------------------------------------------------- writes (check mode decided here)

    def create(self, kind, body, name_filter=None):
        if self.check_mode:
            return None
        params = {"name": body["name"]} if name_filter else None
        result = self.client.post(self.path(kind), json=body, recover=self._recover(kind, body["name"], params))
        self.directory.remember(kind, result)
        return result

    def replace(self, kind, obj_id, body):
        if self.check_mode:
            return None
        result = self.client.put(self.path(kind, obj_id), json=body)
        self.directory.remember(kind, result)
        return result

    def remove(self, kind, obj_id):
        if self.check_mode:
            return None
        result = self.client.delete(self.path(kind, obj_id))
        self.directory.drop(kind, obj_id)
        return result

    def ensure_tags(self, names, carried=()):
        """Make sure each Access tag in ``names`` exists before an application is written with it (the API
        refuses an application naming a tag that does not exist). ``carried``: tags the application has."""
        for name in names or []:
            if name not in (carried or []):
                self.ensure_tag(name)

    def ensure_tag(self, name):
        """Make sure the Access tag ``name`` exists.

        Free when an application in the listing already carries it; else one POST (a refusal because it
        exists is checked with a GET of the tag). Nothing is sent in check mode. Returns True when created.
        """
        if self.check_mode or name in self._tags_known:
            return False
        self._tags_known.add(name)
        if self.directory.loaded("application") and any(
            name in (a.get("tags") or []) for a in self.directory.list("application")
        ):
            return False
        try:
            self.client.post(self.path("tag"), json={"name": name}, recover=lambda: self._tag(name))
        except CloudflareError:
            if self._tag(name) is None:
                raise
            return False
        self.tags_created.add(name)
        return True

    def _tag(self, name):
        try:
            return self.client.get(self.path("tag", name)) or {"name": name}
        except CloudflareNotFoundError:
            return None

    def drop_tag_if_unused(self, name):
        """Delete the Access tag ``name`` when no listed application carries it any more. True when deleted."""
        if self.check_mode or not self.directory.loaded("application"):
            return False
        if any(name in (a.get("tags") or []) for a in self.directory.list("application")):
            return False
        try:
            self.client.delete(self.path("tag", name))
        except CloudflareNotFoundError:
            return False
        self._tags_known.discard(name)
        return True

    def action(self, kind, obj_id, suffix, idempotent=False):
        """POST ``.../{id}/{suffix}`` (rotate, refresh). A non-idempotent action is re-sent after an
        ambiguous failure (``recover`` answers "not applied"): for rotate the last answer wins."""
        if self.check_mode:
            return None
        recover = None if idempotent else (lambda: None)
        return self.client.post(self.path(kind, obj_id, suffix), json={}, idempotent=idempotent, recover=recover)


def view(obj, fields):
    """The given fields of an API object (missing ones left out), for return values and diffs."""
    if not obj:
        return {}
    return {k: obj.get(k) for k in fields if k in obj}


def upsert_named(task, kind, name, existing, want, tracker, spec, create_options=None):
    """Create the ``kind`` object ``name`` from ``want``, or update ``existing`` where it differs.

    ``spec`` holds the object's ``view_fields``, ``writable`` fields and ``comparators``. Options
    left out of ``want`` (None) keep their current values. Returns ``(changed, id, after, diff)``;
    ``diff`` is None when nothing changed. In check mode nothing is written and ``after`` is
    what the object would become.
    """
    if existing is None:
        body = {"name": name}
        body.update({k: v for k, v in want.items() if v is not None})
        created = task.create(kind, body, **(create_options or {})) or body
        after = view(created, spec["view_fields"])
        return True, created.get("id"), after, {"before": {}, "after": after}
    changes = changed_fields(existing, want, tracker, comparators=spec["comparators"])
    before = view(existing, spec["view_fields"])
    if not changes:
        return False, existing["id"], before, None
    body = merge_body(existing, changes, spec["writable"])
    body["name"] = name
    updated = task.replace(kind, existing["id"], body)
    after = view(updated, spec["view_fields"]) if updated else dict(before, **changes)
    return True, existing["id"], after, {"before": before, "after": after}
