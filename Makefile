# honeyhive.platform - everything a clone needs, from a bare machine with Python 3.11.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LINK := .local/collections/ansible_collections/honeyhive/platform
# ansible.cfg runs plays with Mitogen's linear strategy; its plugin directory is inside the
# installed mitogen package (requirements.txt), linked here so ansible.cfg can name it.
STRATEGY := .local/strategy_plugins
# hosting converges site.yml (substrate and hosting) and runs the substrate scenario's
# verify and cleanup too; substrate alone: make molecule SCENARIOS=substrate.
SCENARIOS ?= hosting
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv kube up down demo test unit lint molecule integration reliability build clean bench

help:
	@echo "make demo   converge the platform against local emulators and print the summary"
	@echo "make test   unit tests, lint, bad-input and secrets suites, and the molecule scenarios ($(SCENARIOS))"
	@echo "make up     start the local emulators and Kubernetes control plane in the background, write .local/env"
	@echo "make down   stop what make up started"
	@echo "make build  build the collection artifact"
	@echo "make bench  converge and no-op timings, AWS calls per resource, three regions (.local/bench.json)"
	@echo "make reliability  converges under injected faults and runs killed mid-create"

$(STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@

$(STRATEGY): $(STAMP)
	@mkdir -p $(dir $@)
	@ln -sfn "$$($(VENV)/bin/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy" $@

venv: $(STAMP) $(LINK) $(STRATEGY)

# The local Kubernetes control plane, built from its Go modules into a cache outside the
# clone (tools/local-kube/README.md); the first build takes a while, later ones seconds.
kube:
	@tools/local-kube/build.sh >/dev/null

up: venv kube
	@HONEYHIVE_LOCAL_KUBE=1 scripts/local.sh up .local
	@echo "run: . .local/env && ansible-playbook site.yml -i inventories/local"

down:
	@scripts/local.sh down .local

demo: venv kube
	@HONEYHIVE_LOCAL_KUBE=1 scripts/local.sh up .local/demo >/dev/null
	@trap 'scripts/local.sh down .local/demo >/dev/null' EXIT; \
	  . .local/demo/env; \
	  ansible-playbook site.yml -i inventories/local; rc=$$?; \
	  $(VENV)/bin/python scripts/iam_usage.py --require-rules || { [ $$rc -ne 0 ] || rc=1; }; exit $$rc

unit: venv
	$(VENV)/bin/pytest tests/unit

lint: venv
	$(VENV)/bin/yamllint -s .
	$(VENV)/bin/ansible-lint --profile production
	scripts/lint-security.sh

integration: venv kube
	$(VENV)/bin/pytest tests/integration

molecule: venv
	@for s in $(SCENARIOS); do scripts/molecule.sh "$$s"; done

# Every tier; the control plane builds in the background while the AWS-only tiers run
# (scripts/test.sh makes the venv itself, after starting the build).
test:
	@SCENARIOS="$(SCENARIOS)" scripts/test.sh

# Only the converges under injected throttling and 5xx, and the runs killed mid-create.
reliability: venv kube
	$(VENV)/bin/pytest tests/integration/test_faults.py tests/integration/test_interrupted.py

bench: venv kube
	$(VENV)/bin/python scripts/bench.py

build: venv
	$(VENV)/bin/ansible-galaxy collection build --force --output-path .local/build

clean:
	rm -rf .local/build tests/output
