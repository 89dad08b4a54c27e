# Developer entry points. `make demo` runs the demo playbook against the emulator; `make test`
# runs every suite CI runs; `make test-fast` is the quick inner loop (the suites declared fast).
# `make <suite>` runs one suite: every tests/suites/<suite>.sh is a target (docs/developing.md).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
SUITES := $(basename $(notdir $(wildcard tests/suites/*.sh)))

.PHONY: demo test test-fast $(SUITES) bench venv build

venv:
	@bash tests/utils/bootstrap-venv.sh "$(VENV)"

demo: venv
	@VENV="$(VENV)" bash playbooks/run-demo.sh

test: venv
	@VENV="$(VENV)" bash tests/run-tests.sh all

test-fast: venv
	@VENV="$(VENV)" bash tests/run-tests.sh fast

$(SUITES): venv
	@VENV="$(VENV)" bash tests/run-tests.sh $@

bench: venv
	@VENV="$(VENV)" bash bench/run.sh

build: venv
	@"$(VENV)/bin/ansible-galaxy" collection build --force --output-path "$(CURDIR)/tests/output"
