# One entry point for developers and CI. Every target sets up what it needs from nothing:
# the virtualenv, a Docker engine, the locally built images.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.requirements.sha
COLLECTION := .collections/ansible_collections/homelab/mcp_edge
SANITY_DIR := build/ansible_collections/homelab/mcp_edge
MOLECULE_LANES ?= 2
# pytest processes for unit and integration (pytest-xdist; one per core by default). A test
# file stays in one process (--dist loadfile), so its module fixtures run once.
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile
# Every Molecule scenario, plus the demo cycle (scripts/demo-cycle.sh), which shares their lanes.
SCENARIOS  ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))) demo-cycle
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- setup -----------------------------------------------------------------------------
.PHONY: venv
venv: $(STAMP) $(COLLECTION) ## Create the virtualenv with the pinned toolchain

$(STAMP): requirements-dev.txt
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(BIN)/python -m pip install -q -r requirements-dev.txt 2>&1 | grep -v '^WARNING: Location' || true
	@$(BIN)/python -c 'import ansible_collections.community.docker, molecule, testinfra, mcp'
	@sha256sum requirements-dev.txt > $(STAMP)

# The link is committed (a plain `pip install` checkout needs it too); this only restores a missing one.
$(COLLECTION):
	@mkdir -p $(dir $(COLLECTION)) && ln -sfn ../../.. $(COLLECTION)

.PHONY: docker
docker: ## Make sure a Docker engine answers (installs and starts one if needed)
	@scripts/ensure-docker.sh

.PHONY: images
images: docker ## Build the local target and application images (cached by recipe)
	@# The target image and the application images are independent: build them side by side.
	@scripts/build-target-image.sh & target=$$!; apps=0; scripts/build-app-images.sh || apps=$$?; \
	  target_rc=0; wait $$target || target_rc=$$?; \
	  [ $$target_rc -eq 0 ] || echo "target image build failed"; \
	  [ $$target_rc -eq 0 ] && [ $$apps -eq 0 ]

# --- checks ----------------------------------------------------------------------------
.PHONY: lint
lint: venv ## ansible-lint (production profile), ruff, ansible-doc of every module and filter, role specs vs defaults
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --profile production --strict
	$(BIN)/python scripts/check-plugin-docs.py
	$(BIN)/python scripts/check-role-specs.py

.PHONY: sanity
sanity: venv ## ansible-test sanity on a copy laid out as ansible_collections/homelab/mcp_edge
	@mkdir -p $(HOME)/.ansible/test/cache
	@for v in 24.2; do cp scripts/ansible-test-get-pip.py $(HOME)/.ansible/test/cache/get_pip_$${v/./_}.py; done
	@rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)
	@git ls-files -z --cached --others --exclude-standard | grep -zv '^\.collections/' | xargs -0 cp --parents -t $(SANITY_DIR)
	@cd $(SANITY_DIR) && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm sanity
	cd $(SANITY_DIR) && $(CURDIR)/$(BIN)/ansible-test sanity --color no --python 3.11 --requirements \
	  2>&1 | grep -v '^WARNING: Location'

.PHONY: unit
unit: venv ## Unit tests (pytest), incl. the monitoring role's rules and configs through Debian's promtool and amtool (unpacked into build/)
	@scripts/ensure-prometheus-tools.sh
	PROMETHEUS_TOOLS=$(CURDIR)/build/prometheus-tools/bin $(BIN)/python -m pytest tests/unit -q $(PYTEST_PARALLEL)

.PHONY: integration
integration: venv ## Modules run by ansible-playbook against the local Cloudflare API emulator
	$(BIN)/python -m pytest tests/integration -q --durations=10 $(PYTEST_PARALLEL)

.PHONY: molecule
molecule: venv images ## Every Molecule scenario, in MOLECULE_LANES parallel lanes (SCENARIOS="a b" to pick)
	@scripts/molecule-lanes.sh $(MOLECULE_LANES) $(SCENARIOS)

.PHONY: bench
bench: venv ## Scale benchmark (edge role at 1/10/30 services, DNS at 200/1,000 records) against the emulator; not part of make test
	$(BIN)/python tests/benchmark/scale_benchmark.py

.PHONY: test-quick
test-quick: lint sanity unit integration ## Everything but Molecule

.PHONY: test
test: venv docker ## The whole suite: lint, sanity, unit, integration, Molecule
	@# Images build in the background while the checks that need none run (on a fresh
	@# machine the n8n image alone takes 10-20 minutes).
	@mkdir -p build && ( $(MAKE) --no-print-directory images > build/images.log 2>&1; echo $$? > build/images.rc ) & \
	  quick=0; $(MAKE) --no-print-directory test-quick || quick=$$?; wait; \
	  cat build/images.log; \
	  [ "$$quick" -eq 0 ] || { echo "test-quick failed"; exit $$quick; }; \
	  [ "$$(cat build/images.rc)" -eq 0 ] || { echo "image build failed"; exit 1; }
	@$(MAKE) --no-print-directory molecule

# --- demo ------------------------------------------------------------------------------
.PHONY: demo
demo: venv images ## Converge the stack onto a throwaway local "home server" container
	@scripts/demo.sh up

.PHONY: demo-cycle
demo-cycle: venv images ## Test the demo cycle: demo, demo-down, demo, PURGE=1 demo-down
	@scripts/demo-cycle.sh

.PHONY: demo-down
demo-down: venv ## Remove the demo container and everything it started
	@scripts/demo.sh down

.PHONY: clean
clean: ## Remove build output (keeps the venv and images)
	rm -rf build tests/output .pytest_cache .ruff_cache
