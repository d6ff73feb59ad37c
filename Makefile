# honeyhive.platform - everything a clone needs, from a bare machine with Python 3.11.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LINK := .local/collections/ansible_collections/honeyhive/platform
SCENARIOS ?= substrate
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv up down demo test unit lint molecule integration build clean bench

help:
	@echo "make demo   converge the platform against local emulators and print the summary"
	@echo "make test   unit tests, lint, bad-input and secrets suites, and the molecule scenarios ($(SCENARIOS))"
	@echo "make up     start the local emulators in the background and write .local/env"
	@echo "make down   stop what make up started"
	@echo "make build  build the collection artifact"
	@echo "make bench  converge and no-op timings, AWS calls per resource, three regions (.local/bench.json)"

$(STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@

venv: $(STAMP) $(LINK)

up: venv
	@scripts/local.sh up .local
	@echo "run: . .local/env && ansible-playbook site.yml -i inventories/local"

down:
	@scripts/local.sh down .local

demo: venv
	@scripts/local.sh up .local/demo >/dev/null
	@trap 'scripts/local.sh down .local/demo >/dev/null' EXIT; \
	  . .local/demo/env; \
	  ansible-playbook site.yml -i inventories/local

unit: venv
	$(VENV)/bin/pytest tests/unit

lint: venv
	$(VENV)/bin/yamllint -s .
	$(VENV)/bin/ansible-lint --profile production
	scripts/lint-security.sh

integration: venv
	$(VENV)/bin/pytest tests/integration

molecule: venv
	@for s in $(SCENARIOS); do scripts/molecule.sh "$$s"; done

test: unit lint integration molecule

bench: venv
	$(VENV)/bin/python scripts/bench.py

build: venv
	$(VENV)/bin/ansible-galaxy collection build --force --output-path .local/build

clean:
	rm -rf .local/build tests/output
