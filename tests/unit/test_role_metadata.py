# SPDX-License-Identifier: GPL-3.0-or-later
"""One supported-platforms list for every role, and the first release's version on every role."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in REPO.glob("roles/*/meta/main.yml"))
# What the README's "Installation" section states; Debian 12 is the one the tests run on.
SUPPORTED = [{"name": "Debian", "versions": ["bookworm"]}, {"name": "Ubuntu", "versions": ["jammy", "noble"]}]


def test_roles_found() -> None:
    assert len(ROLES) >= 9


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_role_states_the_one_platform_list(role: Path) -> None:
    info = yaml.safe_load((role / "meta/main.yml").read_text())["galaxy_info"]
    assert info["platforms"] == SUPPORTED


# Roles added after the first release, with the release that brought them.
ADDED_LATER = {"monitoring": "0.4.0"}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_entry_point_says_when_it_was_added(role: Path) -> None:
    specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]
    entry = specs.get("main") or next(iter(specs.values()))
    assert entry.get("version_added") == ADDED_LATER.get(role.name, "0.3.0"), role.name


def test_readme_names_the_same_platforms() -> None:
    readme = (REPO / "README.md").read_text()
    assert "Supported home servers: Debian 12 (bookworm; the one the tests run on), Ubuntu 22.04 and 24.04" in readme
