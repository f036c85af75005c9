# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""DNS records: the set planner, the API calls and the managers of cloudflare_dns_record(s).

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.
The rules for one record (validation, normalisation, ownership markers, plan limits) are in ``_dns``.

* ``plan_dns_records()``: existing records + desired records -> ``DnsPlan`` (creates, updates,
  deletes, unchanged), pure;
* ``list_dns_records``, ``find_dns_records``, ``create_dns_record``, ``apply_dns_batches``: the API calls,
  with retry safety for creates and batches;
* ``DnsRecordManager`` (one record, cloudflare_dns_record) and ``DnsRecordsManager`` (a set,
  cloudflare_dns_records), both ``_diff.Manager``s.
"""

from __future__ import annotations

import json

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import api_path
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome
from ansible_collections.homelab.mcp_edge.plugins.module_utils._dns import (
    DATA_TYPES,
    SOLO_DEFAULT_TYPES,
    apply_changes,
    describe_record,
    dns_limit_problems,
    foreign_reason,
    is_owned,
    mark_comment,
    ownership_marker,
    record_changes,
    record_create_body,
    record_identity,
    record_owner,
    record_view,
    split_marked_comment,
    validate_record,
    view_sort_key,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareAmbiguousWriteError,
    CloudflareInputError,
    CloudflareOwnershipError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import check_owner_id, normalise_name


def records_path(zone_id, *rest):
    """``/zones/<zone>/dns_records[/<id or batch>]``."""
    return api_path("zones", zone_id, "dns_records", *rest)


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
            after.append(record_view(apply_changes(cur, patch)))
        before.extend(record_view(r) for r in self.deletes)
        after.extend(record_view(b) for b in self.creates)
        # A mapping, not a bare list: Ansible's callbacks render only text or mappings as a diff.
        return {
            "before": {"records": sorted(before, key=view_sort_key)},
            "after": {"records": sorted(after, key=view_sort_key)},
        }

    def written(self):
        """Every record body this plan would send (creates, and updates as they would end up)."""
        return list(self.creates) + [apply_changes(cur, patch) for cur, patch in self.updates]

    def changes(self):
        """Per-record summary for the module's return value."""
        return {
            "created": sorted((record_view(b) for b in self.creates), key=view_sort_key),
            "updated": sorted(
                ({"before": record_view(c), "after": record_view(apply_changes(c, p))} for c, p in self.updates),
                key=lambda x: view_sort_key(x["before"]),
            ),
            "deleted": sorted((record_view(r) for r in self.deletes), key=view_sort_key),
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


DNS_LIST_PER_PAGE = 5000


def list_dns_records(client, zone_id, params=None):
    return client.paginate(records_path(zone_id), params=params, per_page=DNS_LIST_PER_PAGE)


def find_dns_records(client, zone_id, rtype, fqdn):
    """Records of one (type, name): one GET (the API's ``name`` filter is an exact match)."""
    return client.paginate(records_path(zone_id), params={"type": rtype, "name": fqdn}, per_page=100)


def create_dns_record(client, zone_id, body):
    """POST one record; after an ambiguous failure, re-read (type, name) before re-sending."""

    def recover():
        ident = record_identity(body)
        for rec in find_dns_records(client, zone_id, body["type"], body["name"]):
            if record_identity(rec) == ident:
                return rec
        return None

    return client.post(records_path(zone_id), json=body, recover=recover)


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
            client.post(records_path(zone_id, "batch"), json=batches[i])
        except CloudflareAmbiguousWriteError as exc:
            recoveries += 1
            client.wait_before_retry(recoveries, None, exc)
            batches = replan().batches(batch_size)
            i = 0
            continue
        done += 1
        i += 1
    return done


# ============================================================================================
# Managers
# ============================================================================================


class DnsRecordManager(Manager):
    """cloudflare_dns_record: one record of a (type, name), or all of them with solo."""

    def apply(self):
        p = self.params
        zone = self.client.resolve_zone(p["zone"], p["zone_id"])
        self.zone = zone
        self.zone_id = zone["id"]
        self.actions = set()
        present = p["state"] == "present"
        desired = validate_record(p, zone["name"], require_value=present)
        solo = p["solo"] if p["solo"] is not None else desired["type"] in SOLO_DEFAULT_TYPES
        group = find_dns_records(self.client, self.zone_id, desired["type"], desired["name"])
        before = sorted((record_view(r) for r in group), key=_key)
        result = {"record": {}, "deleted": []}
        if present:
            after_group = self.present(desired, group, solo, result)
        else:
            after_group = self.absent(desired, group, result)
        after = sorted((record_view(r) for r in after_group), key=_key)
        action = self.actions.pop() if len(self.actions) == 1 else ("update" if self.actions else "none")
        # Mappings, not bare lists: Ansible's callbacks render only text or mappings as a diff.
        header = "%s %s" % (desired["type"], desired["name"])
        return Outcome(action, {"records": before}, {"records": after}, header=header, **result)

    def present(self, desired, group, solo, result):
        ident = record_identity(desired)
        keep = next((r for r in group if record_identity(r) == ident), None)
        if keep is None and solo and group:
            keep = group[0]  # change in place instead of adding another
        others = [r for r in group if r is not keep] if solo else []
        after_group = [r for r in group if r not in others]
        for rec in others:
            self.delete(rec)
            result["deleted"].append(record_view(rec))
        if keep is None:
            record = self.create(record_create_body(desired))
            after_group.append(record)
        else:
            changes = record_changes(keep, desired)
            record = self.update(keep, changes) if changes else keep
            after_group = [record if r is keep else r for r in after_group]
        result["record"] = record
        return after_group

    def absent(self, desired, group, result):
        has_value = desired.get("content") is not None or desired.get("data") is not None
        ident = record_identity(desired) if has_value else None
        remaining = []
        for rec in group:
            if has_value and record_identity(rec) != ident:
                remaining.append(rec)
                continue
            self.delete(rec)
            result["deleted"].append(record_view(rec))
        return remaining

    # -- writes: check mode is decided here ---------------------------------------------------

    def check_limits(self, body):
        """The zone plan's limits (comment length, tags) before the write, not after a refusal."""
        problems = dns_limit_problems(self.zone, [body])
        if problems:
            raise CloudflareInputError("; ".join(problems), option="comment" if "comment" in problems[0] else "tags")

    def create(self, body):
        self.check_limits(body)
        self.actions.add("create")
        if self.cf.check_mode:
            return dict(body)
        return create_dns_record(self.client, self.zone_id, body)

    def update(self, current, changes):
        after = dict(current)
        after.update(changes)
        self.check_limits(after)
        self.actions.add("update")
        if self.cf.check_mode:
            return after
        return self.client.patch(records_path(self.zone_id, current["id"]), json=changes)

    def delete(self, record):
        self.actions.add("delete")
        if not self.cf.check_mode:
            self.client.delete(records_path(self.zone_id, record["id"]))


def _key(view):
    return (str(view.get("content") or view.get("data")), view.get("id") or "")


class DnsRecordsManager(Manager):
    """cloudflare_dns_records: a set of records of one zone, planned at once, written in batches."""

    def validate(self, zone_name):
        p = self.params
        check_owner_id(p["owner_id"])
        if p["purge"] and p["ownership"] == "none":
            raise CloudflareInputError(
                "purge needs ownership=comment or ownership=tag: without a marker the module cannot tell its "
                "records from the others",
                option="purge",
            )
        if not 1 <= p["batch_size"] <= 3500:
            raise CloudflareInputError("must be 1..3500 (200 at most on the Free plan)", option="batch_size")
        desired = []
        for i, spec in enumerate(p["records"]):
            state = spec.get("state") or "present"
            rec = validate_record(spec, zone_name, where="records[%d]." % i, require_value=state == "present")
            rec["state"] = state
            rec["_index"] = i
            desired.append(rec)
        return desired

    def apply(self):
        p = self.params
        zone = self.client.resolve_zone(p["zone"], p["zone_id"])
        desired = self.validate(zone["name"])
        ownership = None if p["ownership"] == "none" else p["ownership"]

        def plan_from(current):
            return plan_dns_records(
                current, desired, ownership=ownership, owner_id=p["owner_id"], purge=p["purge"], adopt=p["adopt"]
            )

        current = list_dns_records(self.client, zone["id"])
        plan = plan_from(current)
        # The zone's plan limits, before any write: one refused record would fail its whole batch.
        problems = dns_limit_problems(
            zone,
            plan.written(),
            records_after=len(current) + len(plan.creates) - len(plan.deletes) if plan.creates else None,
            batch_size=p["batch_size"] if plan.changed else None,
        )
        if problems:
            raise CloudflareInputError("; ".join(problems), option="records")
        batches = 0
        if plan.changed and not self.cf.check_mode:
            batches = apply_dns_batches(
                self.client,
                zone["id"],
                plan,
                p["batch_size"],
                replan=lambda: plan_from(list_dns_records(self.client, zone["id"])),
            )
        diff = plan.diff()
        return Outcome(
            "update" if plan.changed else "none",
            diff["before"],
            diff["after"],
            header="zone %s" % zone["name"],
            counts=plan.counts(),
            changes=plan.changes(),
            batches=batches,
        )
