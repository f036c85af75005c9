# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""playbooks/doctor.yml knows every placeholder of the example vault (its check for values never filled in)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_VAULT = REPO / "inventories" / "example" / "group_vars" / "homelab_servers" / "vault.yml.example"


def test_every_example_vault_value_is_a_known_placeholder():
    play = yaml.safe_load((REPO / "playbooks" / "doctor.yml").read_text(encoding="utf-8"))[0]
    known = play["vars"]["_doctor_example_secrets"]
    example = yaml.safe_load(EXAMPLE_VAULT.read_text(encoding="utf-8"))
    assert example and all(name.startswith("vault_") for name in example)
    missing = [name for name, value in example.items() if value not in known and not value.startswith("replace-with-")]
    assert missing == [], "add their values to _doctor_example_secrets in playbooks/doctor.yml: %s" % missing
