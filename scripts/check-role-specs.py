# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Check that every role's defaults/main.yml and meta/argument_specs.yml say the same thing.

Ansible takes a role variable's value from defaults/main.yml; the default in argument_specs.yml is
documentation only (ansible-doc, the docs), so nothing but this check keeps the two in step.

defaults/main.yml is loaded whichever entry point runs (``tasks_from`` leaves ``defaults_from`` at
main), so for every entry point of a role:

* an option that defaults/main.yml sets documents that value as its default (a missing ``default``
  is Ansible's null and only matches a null value);
* an option that defaults/main.yml does not set has no ``default`` (nothing would provide it) and is
  ``required`` (else a run that leaves it out meets an undefined variable).

Every variable of defaults/main.yml is an option of some entry point: of main, or of the entry point
that alone reads it (backup's ``absent`` and ``backup_remove_repository``: listed under main, ansible-doc
would tell readers that main takes it). Values compare as parsed YAML, type included (``1`` is not
``true`` nor ``"1"``); templated strings compare as the strings they are.
"""

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROLES = ROOT / "roles"
MISSING = object()


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's ``!unsafe`` and ``!vault`` tags as the strings they wrap."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
_Loader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))


def load(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def same(a, b):
    """Equality of parsed YAML that also compares types (Python has True == 1 and 1 == 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def role_problems(role):
    where = "roles/%s" % role.name
    defaults_file = role / "defaults" / "main.yml"
    spec_file = role / "meta" / "argument_specs.yml"
    if not spec_file.exists():
        return ["%s: no meta/argument_specs.yml" % where]
    defaults = (load(defaults_file) if defaults_file.exists() else None) or {}
    if not isinstance(defaults, dict):
        return ["%s/defaults/main.yml: not a mapping" % where]
    specs = (load(spec_file) or {}).get("argument_specs") or {}
    problems = []
    if defaults and "main" not in specs:
        problems.append("%s: defaults/main.yml sets variables but argument_specs.yml has no main entry point" % where)
    documented = set()
    for spec in specs.values():
        documented.update((spec or {}).get("options") or {})
    for name in defaults:
        if name not in documented:
            problems.append("%s/meta/argument_specs.yml: %s is in defaults/main.yml but not documented" % (where, name))
    for entry, spec in sorted(specs.items()):
        options = (spec or {}).get("options") or {}
        here = "%s/meta/argument_specs.yml %s" % (where, entry)
        for name, option in sorted(options.items()):
            option = option or {}
            default = option.get("default", MISSING)
            if name in defaults:
                value = defaults[name]
                if default is MISSING and value is not None:
                    problems.append("%s: %s documents no default; defaults/main.yml has %r" % (here, name, value))
                elif default is not MISSING and not same(default, value):
                    problems.append(
                        "%s: %s documents default %r; defaults/main.yml has %r" % (here, name, default, value)
                    )
            elif default is not MISSING:
                problems.append(
                    "%s: %s documents default %r but defaults/main.yml does not set it" % (here, name, default)
                )
            elif not option.get("required"):
                problems.append(
                    "%s: %s is neither required nor set in defaults/main.yml (a run without it meets an "
                    "undefined variable)" % (here, name)
                )
    return problems


def main():
    roles = sorted(p for p in ROLES.iterdir() if p.is_dir())
    problems = []
    for role in roles:
        problems += role_problems(role)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("defaults/main.yml and meta/argument_specs.yml agree in %d roles" % len(roles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
