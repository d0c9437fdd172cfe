# cbi-platform: the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# The demo's partitions start here; the first one carries the history back to
# CBI_HISTORY_START (2010-06-06). Dagster records a few events per partition and table, so
# sixteen years of partitions (weekdays, days, weeks, months) make a slow first demo; `make backfill`
# does the full 2010-06-06 range and records it in data/partitions_start for demo and ui.
PARTITIONS_START := $(shell cat data/partitions_start 2>/dev/null || echo 2026-01-01)
demo ui: export CBI_START_DATE ?= $(PARTITIONS_START)

.PHONY: demo demo-files test ui report bench backfill install clean-data

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

# The whole graph in files mode on the real exports in ../shared/real (and pre1990/), in its own
# data dir: partitions over the exports' last month, the first one carrying their history.
FILES_DIR ?= $(abspath ../shared/real)
FILES_DATA := $(CURDIR)/data/files-demo
demo-files: $(STAMP)
	CBI_SOURCE_MODE=files CBI_FILES_DIR=$(FILES_DIR) CBI_DATA_DIR=$(FILES_DATA) DAGSTER_HOME=$(FILES_DATA)/dagster_home \
	CBI_START_DATE=$${CBI_START_DATE:-2009-12-01} CBI_END_DATE=$${CBI_END_DATE:-2010-01-01} $(BIN)/python -m cbi_platform.demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# the latest report over http on 127.0.0.1:8765 (the UI's report_url link)
report: $(STAMP)
	$(BIN)/python -m cbi_platform.report_server

ui: $(STAMP)
	$(BIN)/python -m cbi_platform.ui

# every raw asset, every partition (weekday, day, week or month) from 2010-06-06 (long: Dagster bookkeeping per partition)
backfill: $(STAMP)
	CBI_START_DATE=2010-06-06 $(BIN)/python -m cbi_platform.demo --ingest-only
	@mkdir -p data && echo 2010-06-06 > data/partitions_start

bench: $(STAMP)
	$(BIN)/python -m cbi_platform_tests.bench

clean-data:
	rm -rf data
