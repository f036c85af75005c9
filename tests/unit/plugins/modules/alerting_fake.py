# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""An in-memory fake of the alerting API for the notification managers' unit tests (no network)."""

from __future__ import annotations

import copy
import itertools

ACCOUNT = "a0000000000000000000000000000001"
BASE = "/accounts/%s/alerting/v3/" % ACCOUNT


class FakeAlertingClient:
    """Just enough of CloudflareClient for the alerting paths: objects per kind, every call recorded."""

    KINDS = (("policies", "policies"), ("destinations/webhooks", "webhooks"))

    def __init__(self, policies=None, webhooks=None):
        self.data = {"policies": copy.deepcopy(policies or []), "webhooks": copy.deepcopy(webhooks or [])}
        self.calls = []
        self.ids = itertools.count(1)

    def resolve_account_id(self, zone=None):
        return ACCOUNT

    def _split(self, path):
        assert path.startswith(BASE), path
        rest = path[len(BASE) :]
        for prefix, kind in self.KINDS:
            if rest == prefix:
                return kind, None
            if rest.startswith(prefix + "/"):
                return kind, rest[len(prefix) + 1 :]
        raise AssertionError(path)

    def get(self, path, params=None):
        self.calls.append(("GET", path, params))
        kind, obj_id = self._split(path)
        assert obj_id is None and not params, "lists are read in one request, without paging"
        return copy.deepcopy(self.data[kind])

    def post(self, path, json=None, recover=None, **kwargs):
        self.calls.append(("POST", path, copy.deepcopy(json)))
        kind, _unused = self._split(path)
        obj = dict(copy.deepcopy(json), id="id-%d" % next(self.ids))
        obj.pop("secret", None)
        self.data[kind].append(obj)
        return {"id": obj["id"]}

    def put(self, path, json=None, **kwargs):
        self.calls.append(("PUT", path, copy.deepcopy(json)))
        kind, obj_id = self._split(path)
        obj = next(o for o in self.data[kind] if o["id"] == obj_id)
        obj.clear()
        obj.update(copy.deepcopy(json), id=obj_id)
        obj.pop("secret", None)
        return {"id": obj_id}

    def delete(self, path, **kwargs):
        self.calls.append(("DELETE", path, None))
        kind, obj_id = self._split(path)
        self.data[kind] = [o for o in self.data[kind] if o["id"] != obj_id]

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def reads(self):
        return [c[1][len(BASE) :] for c in self.calls if c[0] == "GET"]


class FakeModule:
    def __init__(self):
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeCf:
    def __init__(self, client, params, check_mode=False, diff=True):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.diff_mode = diff
        self.module = FakeModule()
