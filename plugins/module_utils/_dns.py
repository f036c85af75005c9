# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""DNS records: validation, normalisation, ownership markers and the zone plan's limits (pure functions).

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.
Pure Python standard library. The set planner and the record managers that use these rules are
in ``_dns_records``.

* ``validate_record()`` checks one desired record and returns it normalised (FQDN name, upper-case
  type); ``record_identity()`` is what tells records of one (type, name) apart;
* ``record_changes()`` compares a desired record with the API's (left-out options are not compared),
  ``record_create_body()`` is the POST body, ``record_view()`` the compact form diffs show;
* ownership: the ``managed-by`` comment or tag marking the records this collection (an owner id)
  created (``ownership_marker``, ``is_owned``, ``record_owner``, ``marker_owner``);
* ``dns_plan_limits()`` / ``dns_limit_problems()``: what the zone's plan allows, checked before writing.
"""

from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareInputError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import is_port, normalise_name

COLLECTION_NAME = "homelab.mcp_edge"

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
# The address family each address record takes, and its parser.
ADDRESS_TYPES = {"A": ("IPv4", ipaddress.IPv4Address), "AAAA": ("IPv6", ipaddress.IPv6Address)}
RECORD_FIELDS = ("type", "name", "content", "data", "ttl", "proxied", "comment", "tags", "priority", "settings")
MARKER_PREFIX = "managed-by: " + COLLECTION_NAME
TAG_NAME = "managed-by"
_MARKER_RE = re.compile(r"managed-by: homelab\.mcp_edge(?: ([A-Za-z0-9_.\-]+))?")


def record_argument_spec():
    """The options of one record: cloudflare_dns_record's, and each of cloudflare_dns_records' ``records``."""
    return dict(
        type=dict(type="str", required=True, choices=list(DNS_TYPES)),
        name=dict(type="str", required=True),
        content=dict(type="str"),
        data=dict(type="dict"),
        ttl=dict(type="int"),
        proxied=dict(type="bool"),
        comment=dict(type="str"),
        tags=dict(type="list", elements="str"),
        priority=dict(type="int"),
        settings=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
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


def marker_owner(text):
    """The owner id the ``managed-by`` marker in ``text`` names (``""`` for the bare marker), or None without one.

    Also what marks the other objects with a free-text field (notification policies' descriptions)."""
    m = _MARKER_RE.search(text or "")
    return (m.group(1) or "") if m else None


def record_owner(record, ownership):
    """The owner id a record's marker names (``""`` for the bare marker), or None when it carries none."""
    if ownership == "comment":
        return marker_owner(record.get("comment"))
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
            if rtype == "SRV" and not is_port(int(data.get("port")), minimum=0):
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
            if rtype in ADDRESS_TYPES:
                family, parse = ADDRESS_TYPES[rtype]
                try:
                    parse(content)
                except ValueError:
                    raise CloudflareInputError(
                        "must be an %s address for an %s record, got %r" % (family, rtype, content),
                        option=where + "content",
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


def view_sort_key(view):
    return (view.get("name") or "", view.get("type") or "", json.dumps(view.get("content") or view.get("data") or ""))


def apply_changes(current, changes):
    after = dict(current)
    after.update(changes)
    if after.get("proxied"):
        after["ttl"] = 1
    return after


def record_fqdn(name, zone_name):
    """``@`` or '' -> apex; relative names get the zone appended; FQDNs kept (lower-case)."""
    zone_name = normalise_name(zone_name)
    name = normalise_name(name if name is not None else "@")
    if name in ("", "@"):
        return zone_name
    if name == zone_name or name.endswith("." + zone_name):
        return name
    return "%s.%s" % (name, zone_name)


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
