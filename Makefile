# Developer entry points. `make demo` runs the demo playbook against the emulator; `make test`
# runs every suite CI runs; `make test-fast` is the quick inner loop (no sanity, no molecule).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv

.PHONY: demo test test-fast sanity units emulator documented conformance integration eda examples playbooks lint molecule faults fuzz races compat bench venv build

venv:
	@bash tests/utils/bootstrap-venv.sh "$(VENV)"

demo: venv
	@VENV="$(VENV)" bash playbooks/run-demo.sh

test: venv
	@VENV="$(VENV)" bash tests/run-tests.sh all

test-fast: venv
	@VENV="$(VENV)" bash tests/run-tests.sh units emulator documented conformance integration

sanity units emulator documented conformance integration eda examples playbooks lint molecule faults fuzz races compat: venv
	@VENV="$(VENV)" bash tests/run-tests.sh $@

bench: venv
	@VENV="$(VENV)" bash bench/run.sh

build: venv
	@"$(VENV)/bin/ansible-galaxy" collection build --force --output-path "$(CURDIR)/tests/output"
