# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The Access API plumbing shared by the ``cloudflare_access_*`` managers (private: no API promise).

* ``AccessDirectory``: reads each Access resource kind at most once per task and resolves names
  (or ids) to ids, failing with the names that exist;
* ``AccessTask``: one module run against the account-level Access API; its writes decide check mode;
* ``upsert_named`` and the planning helpers (``merge_body``, ``view`` ...);
* ``AccessManager``: the base of the per-kind managers (``_access_<kind>.py``), a ``_diff.TaskManager``
  sharing one ``AccessTask`` when several run in one module (``cloudflare_access_config``).

The rule language itself (friendly rules, validation, comparison) is pure and lives in ``_access_rules``.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    AccessError,
    kind_label,
    translate_rules,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import TaskManager, changed_fields
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareError, CloudflareNotFoundError

# kind -> path below /accounts/{account}/access
KIND_PATHS = {
    "service_token": "service_tokens",
    "group": "groups",
    "identity_provider": "identity_providers",
    "policy": "policies",
    "application": "apps",
    "tag": "tags",
}

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


def translate_rule_options(params, directory, options):
    """Translate the rule lists in ``params`` (None stays None), reading each needed kind once."""
    return {option: translate_rules(params.get(option), option, directory.resolve) for option in options}


# --------------------------------------------------------------------------------------------
# Planning helpers shared by the managers
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


# --------------------------------------------------------------------------------------------
# The per-task context the managers share: account, directory, write helpers (check mode here)
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
        path = "/accounts/%s/access/%s" % (quote(self.account_id, safe=""), KIND_PATHS[kind])
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


def upsert_named(task, kind, name, existing, want, spec, create_options=None):
    """Create the ``kind`` object ``name`` from ``want``, or update ``existing`` where it differs.

    ``spec`` holds the object's ``view_fields``, ``writable`` fields and ``comparators``. Options
    left out of ``want`` (None) keep their current values. Returns ``(action, id, before, after)``
    (``before`` and ``after`` are views; the same view twice when nothing changed). In check mode
    nothing is written and ``after`` is what the object would become.
    """
    if existing is None:
        body = {"name": name}
        body.update({k: v for k, v in want.items() if v is not None})
        created = task.create(kind, body, **(create_options or {})) or body
        return "create", created.get("id"), {}, view(created, spec["view_fields"])
    changes = changed_fields(existing, want, comparators=spec["comparators"])
    before = view(existing, spec["view_fields"])
    if not changes:
        return "none", existing["id"], before, before
    body = merge_body(existing, changes, spec["writable"])
    body["name"] = name
    updated = task.replace(kind, existing["id"], body)
    after = view(updated, spec["view_fields"]) if updated else dict(before, **changes)
    return "update", existing["id"], before, after


# --------------------------------------------------------------------------------------------
# The managers' base
# --------------------------------------------------------------------------------------------


class AccessManager(TaskManager):
    """A ``_diff.TaskManager`` over one ``AccessTask``: its own, or one shared with other managers."""

    task_class = AccessTask
