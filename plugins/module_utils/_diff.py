# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The one diff mechanism of the cloudflare_* modules, and the manager contract built on it.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.
Pure Python standard library.

* ``Manager``: what ``CloudflareModule(spec).run(SomeManager)`` runs. A manager's ``apply()`` reads
  the current state, writes only when not in check mode (the helpers that write decide), and
  returns an ``Outcome``: the action (``none``, ``create``, ``update``, ``delete``), the state
  before and after, and the module's own return fields. ``Outcome.result()`` turns that into the
  result: ``changed`` from the action, ``diff`` from before/after (in diff mode only).
* ``DifferenceTracker`` records each difference once (path, before, after); a manager that tracks
  fields one by one builds its Outcome from it (``Outcome.from_tracker``).
* ``changed_fields`` implements "options left out leave existing values alone" once;
  ``normalise`` is the comparable form it uses.
"""

from __future__ import annotations

ACTIONS = ("none", "create", "update", "delete")


class DifferenceTracker:
    """Records each difference once; feeds ``changed`` and Ansible's ``diff`` output."""

    def __init__(self):
        self._items = []
        self._paths = set()

    def add(self, path, before, after):
        if path in self._paths:
            return
        self._paths.add(path)
        self._items.append((path, before, after))

    @property
    def has_differences(self):
        return bool(self._items)

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    @property
    def paths(self):
        return [p for p, _b, _a in self._items]

    def get_before(self):
        return {p: b for p, b, _a in self._items}

    def get_after(self):
        return {p: a for p, _b, a in self._items}

    def diff(self, before_header=None, after_header=None):
        out = {"before": self.get_before(), "after": self.get_after()}
        if before_header:
            out["before_header"] = before_header
        if after_header:
            out["after_header"] = after_header
        return out


def normalise(value):
    """A comparable form: dict keys sorted, ``None`` values dropped from dicts, strings stripped."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def changed_fields(current, desired, tracker=None, prefix="", comparators=None):
    """Compare the options the user gave (non-None in ``desired``) with ``current``.

    Options left out (None) are never compared: they leave existing values alone. Returns the
    dict of fields to send; each difference is recorded in ``tracker`` under ``prefix + key``.
    ``comparators`` maps a key to ``f(current_value, desired_value) -> bool equal``.
    """
    current = current or {}
    changes = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key)
        cmp = (comparators or {}).get(key)
        equal = cmp(have, want) if cmp else normalise(have) == normalise(want)
        if not equal:
            changes[key] = want
            if tracker is not None:
                tracker.add(prefix + key, have, want)
    return changes


class Outcome:
    """What a manager did (or would do in check mode): ``action``, ``before``, ``after``, return fields.

    ``before``/``after`` are what the diff shows (a mapping: Ansible's callbacks render only text
    or mappings); ``None`` for both means the module has no diff to show (the info modules).
    """

    def __init__(self, action, before=None, after=None, header=None, **fields):
        if action not in ACTIONS:
            raise ValueError("action must be one of %s, got %r" % (", ".join(ACTIONS), action))
        self.action = action
        self.before = before
        self.after = after
        self.header = header
        self.fields = fields

    @classmethod
    def from_tracker(cls, tracker, action, header=None, **fields):
        """The differences ``tracker`` recorded; ``action`` applies only when there is one."""
        if not tracker.has_differences:
            action = "none"
        return cls(action, tracker.get_before(), tracker.get_after(), header=header, **fields)

    @property
    def changed(self):
        return self.action != "none"

    def result(self, diff_mode=False):
        out = dict(self.fields)
        out["changed"] = self.changed
        if diff_mode and (self.before is not None or self.after is not None):
            diff = {"before": self.before, "after": self.after}
            if self.header:
                diff["before_header"] = diff["after_header"] = self.header
            out["diff"] = diff
        return out


class Manager:
    """Base of every cloudflare_* manager: ``Manager(cf).run()`` returns the module's result.

    ``cf`` is the ``CloudflareModule`` (``params``, ``client``, ``check_mode``, ``diff_mode``).
    A subclass implements ``apply()`` returning an ``Outcome``.
    """

    def __init__(self, cf):
        self.cf = cf
        self.client = cf.client
        self.params = cf.params
        self.tracker = DifferenceTracker()

    def apply(self):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def run(self):
        return self.apply().result(self.cf.diff_mode)


class TaskManager(Manager):
    """A ``Manager`` over one task object (``task_class(cf)``) that lists each kind once per run: its own,
    or one shared with other managers of the same module run."""

    task_class = None

    def __init__(self, cf, task=None):
        super().__init__(cf)
        self._task = task

    @property
    def task(self):
        if self._task is None:
            self._task = self.task_class(self.cf)
        return self._task

    @staticmethod
    def outcome(action, before, after, **fields):
        """The ``Outcome``; the diff (``before``/``after``) is shown only when something changes."""
        if action == "none":
            before = after = None
        return Outcome(action, before, after, **fields)
