# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Zones and DNS records (including the batch endpoint) of the Cloudflare API emulator."""

from __future__ import annotations

import copy
import ipaddress
import re

from cfemu_core import ApiError, dns_error, new_hex_id, now_iso, paginate, qbool, qget, require_object, zone_is_free

TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS", "PTR", "HTTPS", "SVCB", "URI")
# Every type the API knows (the `type` list filter takes these; SDK 4.x RecordListParams.type).
API_TYPES = (
    "A",
    "AAAA",
    "CAA",
    "CERT",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "LOC",
    "MX",
    "NAPTR",
    "NS",
    "OPENPGPKEY",
    "PTR",
    "SMIMEA",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TXT",
    "URI",
)
PROXIABLE = ("A", "AAAA", "CNAME")
DATA_TYPES = ("SRV", "CAA", "HTTPS", "SVCB", "URI")
# Required `data` keys, in the order the API names the first missing one ("<key> is a required data field.").
DATA_REQUIRED = {
    "SRV": ("priority", "weight", "port", "target"),
    "CAA": ("tag", "value"),
    "HTTPS": ("priority", "target"),
    "SVCB": ("priority", "target"),
    "URI": ("weight", "target"),
}
USER_FIELDS = ("type", "name", "content", "ttl", "proxied", "comment", "tags", "priority", "data", "settings")
# The record schema gives every type `settings.ipv4_only`/`ipv6_only`; only CNAME has `flatten_cname`.
SETTINGS_KEYS = {"ipv4_only": None, "ipv6_only": None, "flatten_cname": ("CNAME",)}
LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
TAG_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
ORDER_FIELDS = ("type", "name", "content", "ttl", "proxied")
# Stored records keep these for the emulator's own bookkeeping; API answers never carry them.
INTERNAL_FIELDS = ("zone_id", "zone_name")
DNS_PER_PAGE_MAX = 5_000_000
BATCH_LIMIT_FREE = 200
BATCH_LIMIT_PAID = 3500
COMMENT_MAX_FREE = 100
COMMENT_MAX_PAID = 500


# --------------------------------------------------------------------------- zones


def list_zones(ctx):
    q = ctx.query
    zones = list(ctx.store.data["zones"])
    name = qget(q, "name")
    if name is not None:
        zones = [z for z in zones if z["name"] == name.lower().rstrip(".")]
    acct = qget(q, "account.id")
    if acct is not None:
        zones = [z for z in zones if z["account"]["id"] == acct]
    acct_name = qget(q, "account.name")
    if acct_name is not None:
        zones = [z for z in zones if z["account"]["name"] == acct_name]
    status = qget(q, "status")
    if status is not None:
        zones = [z for z in zones if z["status"] == status]
    order = qget(q, "order")
    if order in ("name", "status"):
        zones.sort(key=lambda z: z[order], reverse=qget(q, "direction") == "desc")
    chunk, info = paginate(zones, q, default=20, minimum=5, maximum=50)
    return 200, copy.deepcopy(chunk), info


def get_zone(ctx):
    return 200, copy.deepcopy(ctx.store.zone(ctx.params["zone"], ctx.rel_path)), None


# --------------------------------------------------------------------------- validation


def _hostname(value, what: str, allow_wildcard: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise dns_error(9000, f"{what} is required and must be a non-empty string.")
    host = value.strip().rstrip(".").lower()
    try:
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise dns_error(9000, f"{what} '{value}' is not a valid hostname.") from None
    labels = host.split(".")
    if len(host) > 253 or not all(labels):
        raise dns_error(9000, f"{what} '{value}' is not a valid hostname.")
    for i, label in enumerate(labels):
        if label == "*" and allow_wildcard and i == 0:
            continue
        if not LABEL.match(label):
            raise dns_error(9000, f"{what} '{value}' is not a valid hostname.")
    return host


def normalize_name(name, zone_name: str) -> str:
    """Lower-case FQDN; '@' is the apex; a relative name is put under the zone."""
    if isinstance(name, str) and name.strip() in ("@", zone_name + ".", zone_name):
        return zone_name
    host = _hostname(name, "DNS name", allow_wildcard=True)
    if host == zone_name or host.endswith("." + zone_name):
        return host
    return host + "." + zone_name


def _int_in(value, lo: int, hi: int, code: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise dns_error(code, f"{what} must be an integer between {lo} and {hi}.")
    return value


def _data_content(rtype: str, data: dict, body_priority) -> tuple[str, dict, int | None]:
    """Validate a structured `data` object; return (content, data, priority)."""
    if not isinstance(data, dict):
        raise dns_error(9101, f"data must be an object for {rtype} records.")
    for key in DATA_REQUIRED[rtype]:
        if data.get(key) is None:
            raise dns_error(9101, f"{key} is a required data field.")
    if rtype == "SRV":
        d = {
            "priority": _int_in(data.get("priority"), 0, 65535, 9101, "data.priority"),
            "weight": _int_in(data.get("weight"), 0, 65535, 9101, "data.weight"),
            "port": _int_in(data.get("port"), 0, 65535, 9101, "data.port"),
            "target": "." if data.get("target") == "." else _hostname(data.get("target"), "data.target"),
        }
        # SRV content is "priority weight port target"; the record has no top-level priority (SDK 4.x SRVRecord).
        return f"{d['priority']} {d['weight']} {d['port']} {d['target']}", d, None
    if rtype == "CAA":
        tag = data.get("tag")
        if tag not in ("issue", "issuewild", "iodef"):
            raise dns_error(9101, "data.tag must be one of issue, issuewild, iodef.")
        value = data.get("value")
        if not isinstance(value, str):
            raise dns_error(9101, "data.value must be a string.")
        d = {"flags": _int_in(data.get("flags", 0), 0, 255, 9101, "data.flags"), "tag": tag, "value": value}
        return f'{d["flags"]} {tag} "{value}"', d, None
    if rtype in ("HTTPS", "SVCB"):
        target = data.get("target")
        target = "." if target == "." else _hostname(target, "data.target")
        value = data.get("value", "")
        if not isinstance(value, str):
            raise dns_error(9101, "data.value must be a string.")
        d = {
            "priority": _int_in(data.get("priority"), 0, 65535, 9101, "data.priority"),
            "target": target,
            "value": value,
        }
        return f"{d['priority']} {target} {value}".rstrip(), d, None
    # URI
    target = data.get("target")
    if not isinstance(target, str) or not target:
        raise dns_error(9101, "data.target must be a non-empty string.")
    d = {"weight": _int_in(data.get("weight"), 0, 65535, 9101, "data.weight"), "target": target}
    prio = _int_in(body_priority, 0, 65535, 9101, "priority")
    return f'{d["weight"]} "{target}"', d, prio


def validate_record(zone: dict, body: dict, base: dict | None = None) -> dict:
    """Return the normalised user-settable fields of a record, or raise ApiError."""
    body = require_object(body)
    merged = {k: base[k] for k in USER_FIELDS if base is not None and k in base}
    incoming = {k: v for k, v in body.items() if k in USER_FIELDS}
    merged.update(incoming)
    rtype = merged.get("type")
    if not isinstance(rtype, str) or not rtype:
        raise dns_error(9000, "type is required.")
    rtype = rtype.upper()
    if rtype not in TYPES:
        raise dns_error(
            9000, f"Unsupported DNS record type '{merged.get('type')}' (emulator supports {', '.join(TYPES)})."
        )
    if "name" not in merged:
        raise dns_error(9000, "name is required.")
    if rtype not in DATA_TYPES and "content" in incoming and "data" not in incoming:
        merged.pop("data", None)  # a PATCH that turns a data-based record into a content-based one
    out = {"type": rtype, "name": normalize_name(merged["name"], zone["name"])}

    ttl = merged.get("ttl", 1)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
        raise dns_error(9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
    proxied = merged.get("proxied", False)
    if proxied is None:
        proxied = False
    if not isinstance(proxied, bool):
        raise dns_error(9041, "proxied must be true or false.")
    if proxied and rtype not in PROXIABLE:
        raise dns_error(9041, "This record type cannot be proxied.")
    out["proxied"] = proxied
    out["ttl"] = 1 if proxied else ttl

    content = merged.get("content")
    if rtype == "A":
        try:
            out["content"] = str(ipaddress.IPv4Address(content.strip() if isinstance(content, str) else content))
        except (ipaddress.AddressValueError, ValueError, TypeError, AttributeError):
            raise dns_error(9005, "Content for A record must be a valid IPv4 address.") from None
    elif rtype == "AAAA":
        try:
            out["content"] = str(ipaddress.IPv6Address(content.strip() if isinstance(content, str) else content))
        except (ipaddress.AddressValueError, ValueError, TypeError, AttributeError):
            raise dns_error(9005, "Content for AAAA record must be a valid IPv6 address.") from None
    elif rtype in ("CNAME", "NS", "PTR", "MX"):
        if isinstance(content, str):
            try:
                ipaddress.ip_address(content.strip())
                raise dns_error(9007, f"Content for {rtype} record must be a hostname, not an IP address.")
            except ValueError:
                pass
        out["content"] = _hostname(content, f"Content for {rtype} record")
        if rtype == "CNAME" and out["content"] == out["name"]:
            raise dns_error(9007, "A CNAME record cannot point to itself.")
        if rtype == "MX":
            if merged.get("priority") is None:
                raise dns_error(9101, "priority is required for MX records.")
            out["priority"] = _int_in(merged.get("priority"), 0, 65535, 9101, "priority")
    elif rtype == "TXT":
        if not isinstance(content, str) or not content:
            raise dns_error(9009, "Content for TXT record is required.")
        if len(content) > 4096:
            raise dns_error(9009, "Content for TXT record is too long (max 4096 characters).")
        out["content"] = content
    else:  # structured types: `content` is read-only (formatted from `data`); `data` is required
        data = merged.get("data")
        if data is None:
            raise dns_error(9101, f"{DATA_REQUIRED[rtype][0]} is a required data field.")
        content_text, data, prio = _data_content(rtype, data, merged.get("priority"))
        if rtype == "SRV":
            labels = out["name"].split(".")
            if len(labels) < 3 or not labels[0].startswith("_") or not labels[1].startswith("_"):
                raise dns_error(9101, "SRV record name must look like _service._proto.name.")
        out["content"], out["data"] = content_text, data
        if prio is not None:
            out["priority"] = prio

    comment = merged.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise dns_error(9100, "comment must be a string.")
    limit = COMMENT_MAX_FREE if zone_is_free(zone) else COMMENT_MAX_PAID
    if comment and len(comment) > limit:
        raise dns_error(9100, f"comment is too long: at most {limit} characters on this zone's plan.")
    out["comment"] = comment or None

    tags = merged.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise dns_error(9102, "tags must be a list of strings of the form name:value.")
    for tag in tags:
        name, sep, _value = tag.partition(":")
        if not sep or not TAG_NAME.match(name):
            raise dns_error(
                9102,
                f"Invalid tag '{tag}': a tag has the form name:value, and the name consists of only "
                "letters, numbers, underscores and hyphens.",
            )
    if tags and zone_is_free(zone):
        raise dns_error(9300, f"DNS record has {len(tags)} tags, exceeding the quota of 0.")
    seen = []
    for tag in tags:
        name, sep, value = tag.partition(":")
        norm = name.strip().lower() + (sep + value if sep else "")
        if norm not in seen:
            seen.append(norm)
    out["tags"] = seen

    settings = merged.get("settings") or {}
    if not isinstance(settings, dict):
        raise dns_error(9103, "settings must be an object.")
    for key, val in settings.items():
        if key not in SETTINGS_KEYS:
            raise dns_error(9103, f"Unknown setting '{key}' (known: {', '.join(SETTINGS_KEYS)}).")
        if SETTINGS_KEYS[key] is not None and rtype not in SETTINGS_KEYS[key]:
            raise dns_error(9103, f"Setting '{key}' does not apply to {rtype} records.")
        if not isinstance(val, bool):
            raise dns_error(9103, f"Setting '{key}' must be true or false.")
    if settings.get("flatten_cname") and proxied:
        raise dns_error(
            9103, "flatten_cname is unavailable for proxied records: a proxied CNAME record is always flattened."
        )
    out["settings"] = dict(settings)
    return out


def check_conflicts(records: list, zone_id: str, rec: dict, exclude_id: str | None) -> None:
    same = [r for r in records if r["zone_id"] == zone_id and r["name"] == rec["name"] and r["id"] != exclude_id]
    for other in same:
        if other["type"] == rec["type"] and other["content"] == rec["content"]:
            if other["ttl"] == rec["ttl"] and other["proxied"] == rec["proxied"]:
                raise ApiError(400, 81058, "An identical record already exists.")
            raise ApiError(400, 81057, "Record already exists.")
    if rec["type"] == "CNAME" and same:
        raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
    if any(o["type"] == "CNAME" for o in same):
        raise ApiError(400, 81054, "A CNAME record with that host already exists.")


def _materialise(zone: dict, fields: dict, rid: str, created_on: str, old: dict | None) -> dict:
    ts = now_iso()
    rec = {
        "id": rid,
        "zone_id": zone["id"],
        "zone_name": zone["name"],
        "name": fields["name"],
        "type": fields["type"],
        "content": fields["content"],
        "proxiable": fields["type"] in PROXIABLE,
        "proxied": fields["proxied"],
        "ttl": fields["ttl"],
        "settings": fields["settings"],
        "meta": {"auto_added": False, "managed_by_apps": False, "managed_by_argo_tunnel": False},
        "comment": fields["comment"],
        "tags": fields["tags"],
        "created_on": created_on or ts,
        "modified_on": ts,
    }
    for key in ("priority", "data"):
        if key in fields:
            rec[key] = fields[key]
    if fields["comment"] is not None:
        same = old is not None and old.get("comment") == fields["comment"]
        rec["comment_modified_on"] = old.get("comment_modified_on", ts) if same else ts
    if fields["tags"]:
        same = old is not None and old.get("tags") == fields["tags"]
        rec["tags_modified_on"] = old.get("tags_modified_on", ts) if same else ts
    return rec


def public_record(rec: dict) -> dict:
    """A stored record as the API answers it: no zone_id/zone_name (dropped from the record schema)."""
    return {k: copy.deepcopy(v) for k, v in rec.items() if k not in INTERNAL_FIELDS}


def _find(records: list, zone_id: str, rid) -> int:
    for i, rec in enumerate(records):
        if rec["id"] == rid and rec["zone_id"] == zone_id:
            return i
    raise ApiError(404, 81044, "Record does not exist.")


def op_create(records: list, zone: dict, body) -> dict:
    fields = validate_record(zone, body)
    check_conflicts(records, zone["id"], fields, None)
    rec = _materialise(zone, fields, new_hex_id(), "", None)
    records.append(rec)
    return rec


def op_replace(records: list, zone: dict, rid, body, patch: bool) -> dict:
    idx = _find(records, zone["id"], rid)
    old = records[idx]
    body = require_object(body)
    if not patch and ("type" not in body or "name" not in body):
        raise dns_error(9000, "type and name are required when replacing a record (PUT).")
    fields = validate_record(zone, body, base=old if patch else None)
    check_conflicts(records, zone["id"], fields, rid)
    rec = _materialise(zone, fields, rid, old["created_on"], old)
    records[idx] = rec
    return rec


def op_delete(records: list, zone: dict, rid) -> dict:
    idx = _find(records, zone["id"], rid)
    return records.pop(idx)


# --------------------------------------------------------------------------- handlers


def _str_match(value, query: dict, field: str, casefold: bool = True) -> list:
    """Results of each `field[.op]` filter present in the query, as booleans."""
    results = []
    val = value if value is not None else ""
    if casefold:
        val = val.lower()
    for op in ("", ".exact", ".contains", ".startswith", ".endswith", ".present", ".absent"):
        for raw in query.get(field + op, []):
            want = raw.lower() if casefold else raw
            if field == "name" and op in ("", ".exact"):
                want = want.rstrip(".")
            if op in ("", ".exact"):
                results.append(val == want)
            elif op == ".contains":
                results.append(want in val)
            elif op == ".startswith":
                results.append(val.startswith(want))
            elif op == ".endswith":
                results.append(val.endswith(want))
            elif op == ".present":
                results.append(value not in (None, ""))
            else:
                results.append(value in (None, ""))
    return results


def _tag_match(rec: dict, query: dict) -> list:
    results = []
    tags = [t.lower() for t in rec.get("tags") or []]
    names = [t.partition(":")[0] for t in tags]
    for raw in query.get("tag", []) + query.get("tag.exact", []):
        raw = raw.lower()
        results.append(raw in tags if ":" in raw else raw in names)
    for raw in query.get("tag.present", []):
        results.append(raw.lower() in names)
    for raw in query.get("tag.absent", []):
        results.append(raw.lower() not in names)
    for op, fn in ((".contains", str.__contains__), (".startswith", str.startswith), (".endswith", str.endswith)):
        for raw in query.get("tag" + op, []):
            name, _unused, want = raw.lower().partition(":")
            results.append(any(n == name and fn(t.partition(":")[2], want) for n, t in zip(names, tags, strict=True)))
    return results


def _default_order_key(rec: dict) -> tuple:
    return (rec["type"], rec["name"], rec["content"])


def _choice(query: dict, name: str, allowed: tuple, default):
    val = qget(query, name)
    if val is None or val == "":
        return default
    if val not in allowed:
        raise ApiError(
            400, 1001, f"Invalid value for query parameter '{name}': '{val}' is not one of {', '.join(allowed)}"
        )
    return val


def list_records(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    q = ctx.query
    match_any = (qget(q, "match") or "all").lower() == "any"
    tag_any = (qget(q, "tag_match") or "all").lower() == "any"
    proxied = qbool(q, "proxied")
    rtype = qget(q, "type")
    if rtype and rtype.upper() not in API_TYPES:
        raise ApiError(400, 1001, f"Invalid value for query parameter 'type': '{rtype}' is not a DNS record type")
    order = _choice(q, "order", ORDER_FIELDS, None)
    direction = _choice(q, "direction", ("asc", "desc"), "asc")
    search = (qget(q, "search") or "").lower()
    out = []
    for rec in ctx.store.data["dns_records"]:
        if rec["zone_id"] != zone["id"]:
            continue
        checks = []
        if rtype:
            checks.append(rec["type"] == rtype.upper())
        if proxied is not None:
            checks.append(rec["proxied"] == proxied)
        checks += _str_match(rec["name"], q, "name")
        checks += _str_match(rec["content"], q, "content")
        checks += _str_match(rec["comment"], q, "comment")
        tag_checks = _tag_match(rec, q)
        if tag_checks:
            checks.append(any(tag_checks) if tag_any else all(tag_checks))
        if search:
            checks.append(any(search in (rec[k] or "").lower() for k in ("name", "content", "comment")))
        if checks and not (any(checks) if match_any else all(checks)):
            continue
        out.append(rec)
    # Without `order` the API lists by type, then name, then content (not in creation order).
    if order is None:
        out.sort(key=_default_order_key, reverse=direction == "desc")
    else:
        out.sort(key=lambda r: (r[order], *_default_order_key(r)), reverse=direction == "desc")
    chunk, info = paginate(out, q, default=100, minimum=1, maximum=DNS_PER_PAGE_MAX)
    return 200, [public_record(r) for r in chunk], info


def get_record(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    records = ctx.store.data["dns_records"]
    return 200, public_record(records[_find(records, zone["id"], ctx.params["id"])]), None


def create_record(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    return 200, public_record(op_create(ctx.store.data["dns_records"], zone, ctx.body)), None


def put_record(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    rec = op_replace(ctx.store.data["dns_records"], zone, ctx.params["id"], ctx.body, patch=False)
    return 200, public_record(rec), None


def patch_record(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    rec = op_replace(ctx.store.data["dns_records"], zone, ctx.params["id"], ctx.body, patch=True)
    return 200, public_record(rec), None


def delete_record(ctx):
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    rec = op_delete(ctx.store.data["dns_records"], zone, ctx.params["id"])
    return 200, {"id": rec["id"]}, None


def batch_records(ctx):
    """deletes, patches, puts, posts in that order, in one all-or-nothing transaction."""
    zone = ctx.store.zone(ctx.params["zone"], ctx.rel_path)
    body = require_object(ctx.body if ctx.body is not None else {})
    lists = {}
    for kind in ("deletes", "patches", "puts", "posts"):
        items = body.get(kind) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ApiError(400, 1004, f"Batch field '{kind}' must be a list of objects.")
        lists[kind] = items
    total = sum(len(v) for v in lists.values())
    limit = BATCH_LIMIT_FREE if zone_is_free(zone) else BATCH_LIMIT_PAID
    if total > limit:
        raise ApiError(
            400,
            81063,
            f"Too many changes in one batch: {total} given, at most {limit} allowed on this zone's plan.",
        )
    working = copy.deepcopy(ctx.store.data["dns_records"])
    result = {kind: [] for kind in lists}
    errors = []
    for kind, items in lists.items():
        for i, item in enumerate(items):
            try:
                if kind != "posts" and not item.get("id"):
                    raise ApiError(400, 81044, "Record does not exist.")
                if kind == "deletes":
                    rec = op_delete(working, zone, item["id"])
                elif kind == "posts":
                    rec = op_create(working, zone, item)
                else:
                    fields = {k: v for k, v in item.items() if k != "id"}
                    rec = op_replace(working, zone, item["id"], fields, patch=kind == "patches")
                result[kind].append(public_record(rec))
            except ApiError as exc:
                for err in exc.errors:
                    err = dict(err)
                    err["message"] = f"{kind}[{i}]: {err['message']}"
                    err["source"] = {"pointer": f"/{kind}/{i}"}
                    errors.append(err)
    if errors:
        raise ApiError(400, 0, "", errors=errors)
    ctx.store.data["dns_records"] = working
    return 200, result, None


ROUTES = [
    ("GET", "/zones", list_zones, "zone:read"),
    ("GET", "/zones/{zone}", get_zone, "zone:read"),
    ("GET", "/zones/{zone}/dns_records", list_records, "dns:read"),
    ("POST", "/zones/{zone}/dns_records", create_record, "dns:edit"),
    ("POST", "/zones/{zone}/dns_records/batch", batch_records, "dns:edit"),
    ("GET", "/zones/{zone}/dns_records/{id}", get_record, "dns:read"),
    ("PUT", "/zones/{zone}/dns_records/{id}", put_record, "dns:edit"),
    ("PATCH", "/zones/{zone}/dns_records/{id}", patch_record, "dns:edit"),
    ("DELETE", "/zones/{zone}/dns_records/{id}", delete_record, "dns:edit"),
]
