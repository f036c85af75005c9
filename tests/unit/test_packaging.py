# SPDX-License-Identifier: GPL-3.0-or-later
"""The Galaxy tarball holds what users run and read, and nothing of a developer's tree.

The collection's files (those git tracks or would track) are copied to a temporary directory, which
is then made as dirty as a developer's tree gets (the demo's token, a virtualenv, caches, build
output, extra test files). The tarball `ansible-galaxy collection build` makes there must hold none
of it, no test or developer material at all (galaxy.yml `build_ignore`), and everything users need:
it is installed into an empty collections path, and `ansible-doc` and `ansible-playbook
--syntax-check` run from there, with no other collection than requirements.yml's.

The user-facing requirements (requirements.txt, requirements.yml) are held to what the collection
imports and uses, and a checkout finds the collection through ansible.cfg without `make venv` (the
committed `.collections/ansible_collections/homelab/mcp_edge` link).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from importlib.metadata import version as package_version
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_core_version
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LINK = Path(".collections/ansible_collections/homelab/mcp_edge")

# Measured for 0.3.0: 272 KB, 244 entries (183 files); before build_ignore a clean checkout built
# 566 KB (514 entries) and a developer's tree 627 KB (668 entries). 0.4.0 with the notification
# modules and the monitoring role: 402 KB; the limit still catches a test tree or a build slipping in.
MAX_TARBALL_BYTES = 450_000

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
    ".collections/ansible_collections/community/planted/x.yml",
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
    # The user's own inventory, where the README's quickstart copies the example to.
    "inventories/mine/hosts.yml",
    "inventories/mine/group_vars/homelab_servers/vault.yml",
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
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a clone holds: the files git tracks or would track, symbolic links kept as links."""
    git = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(git, cwd=REPO, capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    checkout = tmp_path_factory.mktemp("checkout")
    for name in listing.stdout.decode().split("\0"):
        source = REPO / name
        if not name or not (source.is_symlink() or source.is_file()):
            continue
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), checkout / name)
        else:
            shutil.copy2(source, checkout / name)
    return checkout


@pytest.fixture(scope="module")
def tree(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout made as dirty as a developer's tree gets."""
    tree = tmp_path_factory.mktemp("tree") / "mcp_edge"
    shutil.copytree(checkout, tree, symlinks=True)
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

    # Every module, filter and role of the collection documents itself from the installed tarball.
    wanted = {
        "module": sorted(p.stem for p in (REPO / "plugins/modules").glob("*.py") if p.stem != "__init__"),
        "filter": sorted(p.stem for p in (REPO / "plugins/filter").glob("*.yml")),
        "role": sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/meta/argument_specs.yml")),
    }
    assert len(wanted["module"]) >= 15 and len(wanted["filter"]) >= 19 and len(wanted["role"]) >= 9
    for kind, names in wanted.items():
        fqcns = [f"homelab.mcp_edge.{name}" for name in names]
        docs = json.loads(_run([_tool("ansible-doc"), "--json", "-t", kind, *fqcns], tmp_path, env).stdout)
        assert set(docs) == set(fqcns), f"{kind}s without docs from the tarball: {sorted(set(fqcns) - set(docs))}"


# --- the user-facing requirements and the two install routes -----------------------------------

# Collections that are not dependencies: ansible-core's own names and this collection.
NOT_DEPENDENCIES = {"ansible.builtin", "ansible.legacy", "homelab.mcp_edge"}
# Where a collection's roles, playbooks, templates and plugins name another collection's content.
USER_CONTENT = ("roles", "playbooks", "plugins", "meta")


def _user_requirements() -> dict[str, str]:
    """requirements.yml: collection name -> version range."""
    data = yaml.safe_load((REPO / "requirements.yml").read_text())
    assert set(data) == {"collections"}, "requirements.yml lists collections only"
    return {item["name"]: item["version"] for item in data["collections"]}


def _collection_dir(name: str) -> Path | None:
    """Where the venv's `ansible` package holds the collection `name`, if it does."""
    try:
        found = importlib.util.find_spec(f"ansible_collections.{name}")
    except ModuleNotFoundError:
        return None
    if not found or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def _used_content() -> dict[str, set[str]]:
    """Every `namespace.collection.name` the collection's content names, by collection.

    A dotted triple counts when its first two parts are a collection the venv has (so file names
    such as `services.yml.j2` and `ansible.module_utils.basic` do not), or this collection.
    """
    used: dict[str, set[str]] = {}
    pattern = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\b")
    for top in USER_CONTENT:
        for path in (REPO / top).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            for match in pattern.finditer(path.read_text(errors="replace")):
                collection = f"{match[1]}.{match[2]}"
                if collection in NOT_DEPENDENCIES or _collection_dir(collection):
                    used.setdefault(collection, set()).add(match[0])
    return used


def test_requirements_yml_is_galaxy_yml_dependencies() -> None:
    assert _user_requirements() == _galaxy()["dependencies"]


def test_requirements_yml_covers_every_collection_used() -> None:
    used = _used_content()
    assert "community.docker" in used, "the scan found no community.docker module: it is broken"
    dependencies = set(used) - NOT_DEPENDENCIES
    missing = {name: sorted(used[name]) for name in dependencies - set(_user_requirements())}
    assert not missing, f"used but not in requirements.yml / galaxy.yml dependencies: {missing}"
    unused = set(_user_requirements()) - dependencies
    assert not unused, f"required but never used: {sorted(unused)}"


def _requirement_lines(name: str) -> list[str]:
    lines = (REPO / name).read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_requirements_txt_is_only_what_the_controller_runs() -> None:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    requirements = {r.name: r for r in (Requirement(line) for line in lines if line and not line.startswith("#"))}
    assert set(requirements) == {"ansible-core", "ansible", "requests"}, "no developer tool in requirements.txt"
    # requests: the Cloudflare modules' HTTP layer (plugins/module_utils/_http.py); the tested pin is in range.
    dev = {r.name: r for r in (Requirement(line) for line in _requirement_lines("requirements-dev.txt"))}
    assert dev["requests"].specifier and requirements["requests"].specifier
    assert all(Version(spec.version) in requirements["requests"].specifier for spec in dev["requests"].specifier)
    runtime = yaml.safe_load((REPO / "meta/runtime.yml").read_text())
    assert requirements["ansible-core"].specifier == SpecifierSet(runtime["requires_ansible"])
    assert Version(ansible_core_version) in requirements["ansible-core"].specifier
    # The `ansible` package the tests run with is in the range (its collections meet requirements.yml:
    # test_versions_declared_are_the_tested_ones).
    assert Version(package_version("ansible")) in requirements["ansible"].specifier


def test_collection_code_imports_only_the_standard_library_and_ansible() -> None:
    """So requirements.txt needs nothing but ansible-core and requests for the modules and filters
    (urllib3 comes with requests, which requires it)."""
    assert "requests" in {Requirement(line).name for line in _requirement_lines("requirements.txt")}
    assert "urllib3" in {Requirement(dep).name for dep in importlib.metadata.requires("requests") or []}
    allowed = set(sys.stdlib_module_names) | {"ansible", "requests", "urllib3"}
    foreign: list[str] = []
    sources = [*(REPO / "plugins").rglob("*.py"), *(REPO / "roles").rglob("*.py")]
    assert len(sources) > 10
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "ansible_collections":
                    if not name.startswith("ansible_collections.homelab.mcp_edge."):
                        foreign.append(f"{path.relative_to(REPO)}: {name}")
                elif top not in allowed:
                    foreign.append(f"{path.relative_to(REPO)}: {name}")
    assert not foreign, foreign


@pytest.fixture(scope="module")
def user_collections(tarball: Path, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """A clean collections path: the tarball installed, and requirements.yml's collections (taken from
    the venv's `ansible` package, as a user's `pip install -r requirements.txt` provides them)."""
    install = tmp_path_factory.mktemp("user-collections")
    galaxy = [_tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(install)]
    _run([*galaxy, str(tarball)], install, env)
    for name in _user_requirements():
        source = _collection_dir(name)
        assert source, f"{name} is not in the venv"
        target = install / "ansible_collections" / Path(*name.split("."))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source, target_is_directory=True)
    return install


def _only(path: Path, env: dict[str, str]) -> dict[str, str]:
    """Ansible that sees the collections in `path` and none of the venv's."""
    return {**env, "ANSIBLE_COLLECTIONS_PATH": str(path), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false"}


PLAYBOOKS = ["site", "teardown", "backup", "restore", "cloudflared"]
# The kinds of another collection's plugins the content uses, and their directories.
PLUGIN_DIRS = {"module": "modules", "filter": "filter", "lookup": "lookup", "test": "test"}


def test_tarball_runs_with_only_the_user_requirements(
    user_collections: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """Every playbook parses, and every other collection's plugin the content names resolves, from a
    collections path holding the tarball and requirements.yml's collections, and nothing else."""
    env = _only(user_collections, env)
    installed = user_collections / "ansible_collections/homelab/mcp_edge"
    check = [_tool("ansible-playbook"), "--syntax-check", "-i", "localhost,"]
    out = _run([*check, *(f"homelab.mcp_edge.{name}" for name in PLAYBOOKS)], tmp_path, env).stdout
    for name in PLAYBOOKS:
        assert f"{installed}/playbooks/{name}.yml" in out
    # Syntax checks do not load dynamically included roles: ask ansible-doc for every plugin named.
    by_type: dict[str, list[str]] = {}
    for collection, names in _used_content().items():
        if collection in NOT_DEPENDENCIES:
            continue
        plugins = _collection_dir(collection) / "plugins"
        for fqcn in names:
            short = fqcn.rsplit(".", 1)[1]
            kind = next((k for k, d in PLUGIN_DIRS.items() if (plugins / d / f"{short}.py").exists()), None)
            assert kind, f"{fqcn}: no {' or '.join(PLUGIN_DIRS)} of that name in {collection}"
            by_type.setdefault(kind, []).append(fqcn)
    assert by_type.get("module"), "no module of another collection found: the scan is broken"
    for kind, names in by_type.items():
        docs = json.loads(_run([_tool("ansible-doc"), "--json", "-t", kind, *sorted(names)], tmp_path, env).stdout)
        assert set(docs) == set(names), f"{kind}s not resolved: {sorted(set(names) - set(docs))}"


def test_tarball_alone_lacks_the_dependencies(user_collections: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """The control: without requirements.yml's collections the same check fails, so the one above
    really ran with nothing from the venv's `ansible` package."""
    bare = tmp_path / "bare"
    (bare / "ansible_collections/homelab").mkdir(parents=True)
    (bare / "ansible_collections/homelab/mcp_edge").symlink_to(
        user_collections / "ansible_collections/homelab/mcp_edge"
    )
    # The playbooks include their roles dynamically (not loaded by a syntax check): a play that lists
    # a role whose tasks use community.docker loads them statically.
    (tmp_path / "uses_docker.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles: [homelab.mcp_edge.mcp_servers]\n", encoding="utf-8"
    )
    check = [_tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", str(tmp_path / "uses_docker.yml")]
    result = subprocess.run(
        check, cwd=tmp_path, env=_only(bare, env), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "community.docker" in result.stdout + result.stderr


def test_checkout_finds_the_collection_without_make(checkout: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """The plain route (`python3 -m venv .venv && .venv/bin/pip install -r ...`, no `make venv`): a
    fresh checkout's ansible.cfg finds homelab.mcp_edge through the committed link."""
    link = checkout / LINK
    assert link.is_symlink(), f"{LINK} is not committed (or .gitignore hides it)"
    assert os.readlink(link) == "../../.."
    assert link.resolve() == checkout.resolve()
    env = {**env, "ANSIBLE_CONFIG": str(checkout / "ansible.cfg")}
    role = _run([_tool("ansible-doc"), "-t", "role", "homelab.mcp_edge.common"], tmp_path, env).stdout
    assert f"({link})" in role
    assert "ENTRY POINT: *apt_lists*" in role
    playbook = [_tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", "homelab.mcp_edge.site"]
    assert f"{link}/playbooks/site.yml" in _run(playbook, tmp_path, env).stdout
