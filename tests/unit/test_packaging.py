# SPDX-License-Identifier: GPL-3.0-or-later
"""The Galaxy tarball holds what users run and read, and nothing of a developer's tree.

The collection's files (those git tracks or would track) are copied to a temporary directory, which
is then made as dirty as a developer's tree gets (the demo's token, a virtualenv, caches, build
output, extra test files). The tarball `ansible-galaxy collection build` makes there must hold none
of it, no test or developer material at all (galaxy.yml `build_ignore`), and everything users need:
it is installed into an empty collections path, and `ansible-doc` and `ansible-playbook
--syntax-check` run from there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Measured for 0.3.0: 272 KB, 244 entries (183 files); before build_ignore a clean checkout built
# 566 KB (514 entries) and a developer's tree 627 KB (668 entries).
MAX_TARBALL_BYTES = 400_000

# Top-level entries a user's tarball may hold.
ALLOWED_TOP_LEVEL = {
    "FILES.json",
    "MANIFEST.json",
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "CHANGELOG.rst",
    "changelogs",
    "docs",
    "inventories",
    "meta",
    "playbooks",
    "plugins",
    "roles",
}
FORBIDDEN_TOP_LEVEL = {"molecule", "tests", "scripts", "build", ".demo", ".venv", ".ci", ".config"}
DEVELOPER_DOCS = {"docs/development-notes.md", "docs/test-images.md", "docs/cloudflare-api-facts.md"}

MARKER = "PLANTED-packaging-test-marker-4c1f"
# What a developer's tree holds that the repository does not track.
PLANTED = [
    ".demo/secret.txt",
    ".demo/state/tunnel.json",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/x.py",
    ".collections/ansible_collections/homelab/mcp_edge/x.yml",
    ".cache/x",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.17.5/x",
    ".mypy_cache/3.11/x.json",
    ".hypothesis/examples/x",
    "__pycache__/x.pyc",
    "plugins/modules/__pycache__/cloudflare_tunnel.cpython-311.pyc",
    "plugins/module_utils/x.pyc",
    "build/x",
    "build/molecule-durations",
    "molecule/planted/molecule.yml",
    "tests/planted.txt",
    "tests/output/junit.xml",
    "scripts/planted.sh",
    "changelogs/fragments/planted.yml",
    "changelogs/.plugin-cache.yaml",
    "roles/backup/tasks/.main.yml.swp",
    "roles/backup/tasks/main.yml~",
    "homelab-mcp_edge-0.2.0.tar.gz",
    "dist.tar.gz",
    "teardown.log",
]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or pytest.skip(f"{name} not found"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Ansible without the repository's ansible.cfg (its collections_path is the working tree)."""
    home = tmp_path_factory.mktemp("ansible-home")
    (home / "ansible.cfg").write_text("[defaults]\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(ANSIBLE_CONFIG=str(home / "ansible.cfg"), ANSIBLE_HOME=str(home), ANSIBLE_NOCOLOR="1")
    return environ


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the collection (tracked and new files, as `make sanity` copies it), made dirty."""
    git = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(git, cwd=REPO, capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    tree = tmp_path_factory.mktemp("tree")
    for name in listing.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    for name in PLANTED:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(f"{MARKER} {name}\n")
    return tree


@pytest.fixture(scope="module")
def tarball(tree: Path, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("out")
    _run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(tree)], tree, env)
    (built,) = out.glob("homelab-mcp_edge-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def members(tarball: Path) -> dict[str, bytes | None]:
    """Each entry's name and content (None for a directory)."""
    contents: dict[str, bytes | None] = {}
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            assert member.isfile() or member.isdir(), f"{member.name}: neither a file nor a directory"
            handle = tar.extractfile(member) if member.isfile() else None
            contents[member.name.removeprefix("./")] = handle.read() if handle else None
    return contents


def _galaxy() -> dict:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())


def test_nothing_planted_is_packaged(members: dict[str, bytes | None]) -> None:
    assert not set(PLANTED) & set(members)
    leaked = [name for name, data in members.items() if data and MARKER.encode() in data]
    assert not leaked


def test_only_what_users_need(members: dict[str, bytes | None]) -> None:
    tops = {name.split("/")[0] for name in members}
    assert tops <= ALLOWED_TOP_LEVEL, f"not for users: {sorted(tops - ALLOWED_TOP_LEVEL)}"
    assert not tops & FORBIDDEN_TOP_LEVEL
    for name in members:
        parts = name.split("/")
        assert not any(part.startswith(".") for part in parts), f"hidden path packaged: {name}"
        assert "__pycache__" not in parts, name
        assert not name.endswith((".pyc", ".pyo", ".log", ".tar.gz", "~", ".swp")), name
    assert not DEVELOPER_DOCS & set(members)
    assert not [name for name in members if name.startswith("changelogs/fragments")]


def test_what_users_run_is_there(tree: Path, members: dict[str, bytes | None]) -> None:
    required = {
        "LICENSE",
        "README.md",
        "MANIFEST.json",
        "FILES.json",
        "meta/runtime.yml",
        "playbooks/site.yml",
        "changelogs/changelog.yaml",
        "changelogs/config.yaml",
        "inventories/example/hosts.yml",
        "inventories/example/group_vars/homelab_servers/main.yml",
    }
    patterns = [
        "plugins/modules/*.py",
        "plugins/module_utils/*.py",
        "plugins/filter/*",
        "plugins/doc_fragments/*.py",
        "roles/*/tasks/main.yml",
        "roles/*/meta/argument_specs.yml",
        "playbooks/*.yml",
        "docs/*.md",
    ]
    sources = [path for pattern in patterns for path in tree.glob(pattern) if path.is_file()]
    assert any(path.match("plugins/modules/*.py") for path in sources)
    assert any(path.match("roles/*/tasks/main.yml") for path in sources)
    required |= {str(path.relative_to(tree)) for path in sources if MARKER not in path.read_text()}
    required -= DEVELOPER_DOCS
    assert not required - set(members), f"missing: {sorted(required - set(members))}"
    assert b"GNU GENERAL PUBLIC LICENSE" in (members["LICENSE"] or b"")
    assert b"Version 3, 29 June 2007" in (members["LICENSE"] or b"")


def test_manifest_matches_galaxy_yml(members: dict[str, bytes | None]) -> None:
    galaxy = _galaxy()
    info = json.loads(members["MANIFEST.json"] or b"{}")["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("homelab", "mcp_edge", galaxy["version"])
    assert info["license"] == ["GPL-3.0-or-later"]
    assert info["dependencies"] == galaxy["dependencies"]
    listed = {entry["name"] for entry in json.loads(members["FILES.json"] or b"{}")["files"]} - {"."}
    assert listed == set(members) - {"MANIFEST.json", "FILES.json"}


def test_no_test_secret_or_placeholder_url(members: dict[str, bytes | None]) -> None:
    needles = {p.read_text().strip().encode() for p in REPO.glob("molecule/*/vault-password.txt")}
    needles = {n for n in needles if n} | {b"example.invalid"}
    assert len(needles) > 1, "no molecule vault password found to look for"
    for name, data in members.items():
        for needle in needles:
            assert not (data and needle in data), f"{name} holds {needle.decode()!r}"


def test_size(tarball: Path) -> None:
    assert tarball.stat().st_size < MAX_TARBALL_BYTES


def test_versions_declared_are_the_tested_ones() -> None:
    runtime = yaml.safe_load((REPO / "meta/runtime.yml").read_text())
    assert Version(ansible_core_version) in SpecifierSet(runtime["requires_ansible"])
    for name, spec in _galaxy()["dependencies"].items():
        # The collections the tests run with: the `ansible` package's, in the venv.
        found = importlib.util.find_spec(f"ansible_collections.{name}")
        assert found and found.submodule_search_locations, f"{name} is not installed"
        manifest = Path(next(iter(found.submodule_search_locations))) / "MANIFEST.json"
        tested = json.loads(manifest.read_text())["collection_info"]["version"]
        assert Version(tested) in SpecifierSet(spec), f"{name} {tested} does not meet {spec}"


def test_installed_tarball_documents_and_parses(tarball: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """A user's install: the tarball alone (dependencies come from the `ansible` package)."""
    install = tmp_path / "collections"
    galaxy = [_tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(install)]
    _run([*galaxy, str(tarball)], tmp_path, env)
    env = {**env, "ANSIBLE_COLLECTIONS_PATH": str(install)}
    installed = str(install / "ansible_collections/homelab/mcp_edge")

    module = _run([_tool("ansible-doc"), "homelab.mcp_edge.cloudflare_tunnel"], tmp_path, env).stdout
    assert f"{installed}/plugins/modules/cloudflare_tunnel.py" in module
    role = _run([_tool("ansible-doc"), "-t", "role", "homelab.mcp_edge.cloudflared"], tmp_path, env).stdout
    assert installed in role
    assert "ENTRY POINT: *main*" in role
    playbook = [_tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", "homelab.mcp_edge.site"]
    assert f"{installed}/playbooks/site.yml" in _run(playbook, tmp_path, env).stdout
