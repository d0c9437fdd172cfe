# cbi-platform: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: demo test ui bench install clean-data

install: $(STAMP)

# Reinstall only when pyproject.toml or the lock changed. torch goes first, pinned, so the
# CPU build on disk is used and nothing pulls a CUDA build.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip==26.0.1"
	$(BIN)/pip install --quiet --disable-pip-version-check "torch==2.13.0"
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m cbi_platform.demo

test: $(STAMP)
	$(BIN)/python -m pytest

ui: $(STAMP)
	@$(BIN)/python -m cbi_platform.instance >/dev/null
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

bench: $(STAMP)
	$(BIN)/python -m cbi_platform_tests.bench

clean-data:
	rm -rf data
