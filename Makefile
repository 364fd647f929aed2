# `make run`, `make test`, `make demo` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test demo lint install install-test browser wheel clean

run: $(VENV)/.installed
	$(BIN)/monitor run

demo: $(VENV)/.installed
	$(BIN)/python -m monitor.demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check monitor tests bench eval
	$(BIN)/ruff format --check monitor tests bench eval
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check monitor tests bench eval
	$(BIN)/ruff format --check monitor tests bench eval
	$(BIN)/mypy

# Debian's chromium for tests/test_browser.py (skipped without it); needs root, as in CI.
browser:
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The installable package for a server (deploy/README.md): dist/film_coop_monitor-VERSION-py3-none-any.whl
wheel: $(VENV)/.installed
	rm -rf build
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
