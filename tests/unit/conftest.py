# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Import paths of the unit tests, set once here instead of at the top of every test file.

* ``.collections`` - the collection as ``ansible_collections.homelab.mcp_edge``, through the symlink
  ``.collections/ansible_collections/homelab/mcp_edge`` -> the repository.
* ``tests/cloudflare_emulator`` - the Cloudflare API emulator (``from inprocess import InProcessEmulator``).
* ``tests/doubles/cloudflared`` - the cloudflared test double (``import ingress_model``), which shares
  no code with plugins/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMPORT_PATHS = (
    REPO / ".collections",
    REPO / "tests" / "cloudflare_emulator",
    REPO / "tests" / "doubles" / "cloudflared",
)

for _entry in IMPORT_PATHS:
    if str(_entry) not in sys.path:
        sys.path.insert(0, str(_entry))


@pytest.fixture(scope="module")
def server():
    """The Cloudflare API emulator in this process, with its example seed (a module may override this)."""
    from inprocess import InProcessEmulator  # imported here: the paths above are set first

    emu = InProcessEmulator()
    yield emu
    emu.close()


@pytest.fixture
def emu(server):
    """``server``, reset: each test starts from the seed."""
    server.reset()
    return server
