# Developer entry points for the dcos.marathon collection.
#   make demo   - PostgreSQL life cycle on a local Marathon (localmarathon)
#   make test   - the whole test gate (scripts/test.sh)
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
# The interpreter the venv is built from: Python >= 3.12 (ansible-core 2.21 needs it), 3.12
# first, on PATH or among pyenv's versions ($$PYENV_ROOT, else ~/.pyenv), resolved to the real
# binary: a venv made from a pyenv shim or another symlink breaks once that link changes.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell bash scripts/find-python.sh)
endif
VENV_STAMP := $(VENV)/.dcos-marathon-venv.stamp
# Lets ansible-playbook/ansible-doc in the checkout find dcos.marathon (see ansible.cfg).
COLLECTION_LINK := collections/ansible_collections/dcos/marathon

.PHONY: help venv test demo bench sanity units integration lint reliability docs clean distclean

help:
	@echo "make demo         run the PostgreSQL life cycle demo on localmarathon"
	@echo "make test         run every check (sanity, units, ansible-core matrix, localmarathon, integration, reliability, lint, docs, molecule, build, EE)"
	@echo "make venv         create $(VENV) from requirements/dev.txt (done by test/demo/bench)"
	@echo "make sanity|units|integration|lint   run one part of the test gate"
	@echo "make reliability  run the reliability suite and regenerate docs/reliability.md"
	@echo "make bench        run the benchmarks (bench/run.sh)"
	@echo "make docs         build the HTML docs site into build/docs/html (antsibull-docs, Sphinx)"
	@echo "make clean        remove generated files (keeps $(VENV)); make distclean also removes $(VENV)"

venv: $(VENV_STAMP) $(COLLECTION_LINK)

# localmarathon is installed editable in "compat" mode (a .pth path entry): the default
# import-hook mode loses to the localmarathon/ project directory whenever Python runs
# from the repo root, which then imports as an empty namespace package.
$(VENV_STAMP): requirements/dev.txt requirements/collections.txt scripts/install_collections.py localmarathon/pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "make venv: no Python 3.12 or newer found (ansible-core 2.21 needs it): looked for python3.12, python3.13 and python3 on PATH and in $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12.* and 3.13.*; install one (e.g. 'pyenv install 3.12') or run 'make venv PYTHON=/path/to/python3.12'" >&2; exit 1; fi
	@# A venv left by an older Python (3.11 before ansible-core 2.21) cannot take the pinned set: make it again.
	@if [ -x $(VENV)/bin/python ] && ! $(VENV)/bin/python -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then \
		echo "$(VENV) runs Python $$($(VENV)/bin/python -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'), older than 3.12: making it again"; rm -rf $(VENV); fi
	@if [ ! -x $(VENV)/bin/python ]; then echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); fi
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet "$$(grep -E '^pip==' requirements/dev.txt)"
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet --quiet -r requirements/dev.txt
	@echo "installing localmarathon (editable)"
	$(VENV)/bin/python -m pip install --disable-pip-version-check --quiet --no-deps -e ./localmarathon --config-settings editable_mode=compat
	@# community.postgresql (the role's backups) from the pinned ansible wheel; only that collection is unpacked.
	rm -rf $(VENV)/collection-wheels
	$(VENV)/bin/python -m pip download --disable-pip-version-check --quiet --no-deps --require-hashes \
		-r requirements/collections.txt -d $(VENV)/collection-wheels
	$(VENV)/bin/python scripts/install_collections.py $(VENV)/collection-wheels/ansible-*.whl
	rm -rf $(VENV)/collection-wheels
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../.. $@
	@echo "linked $@ -> the checkout"

# test and demo first install the system packages they need (as root; otherwise they name
# the command), then build the venv in a new make: its Python may have just been installed.
test:
	@bash scripts/system-packages.sh test
	@$(MAKE) --no-print-directory venv
	VENV=$(VENV) scripts/test.sh

sanity: venv
	VENV=$(VENV) scripts/test.sh sanity

units: venv
	VENV=$(VENV) scripts/test.sh units localmarathon

integration: venv
	VENV=$(VENV) scripts/test.sh integration

lint: venv
	VENV=$(VENV) scripts/test.sh lint changelog docs

# The report is written even when cases fail: it says which ones and what was lost.
reliability: venv
	rm -f tests/output/reliability/results.json
	RELIABILITY_RESULTS=$(CURDIR)/tests/output/reliability/results.json RELIABILITY_CHECK_REPORT=0 \
		VENV=$(VENV) scripts/test.sh reliability; rc=$$?; \
	$(VENV)/bin/python scripts/reliability_report.py && exit $$rc

demo:
	@bash scripts/system-packages.sh demo
	@$(MAKE) --no-print-directory venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh

bench: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash bench/run.sh

# The HTML docs site (modules, role, callback, playbooks, guides) in build/docs/html, warnings as errors.
docs: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/build_docs.sh

clean:
	rm -rf collections tests/output tests/integration/inventory .pytest_cache .hypothesis .ansible \
		importer_result.json changelogs/.plugin-cache.yaml dcos-marathon-*.tar.gz build/docs
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f $(VENV_STAMP)

distclean: clean
	rm -rf $(VENV)
