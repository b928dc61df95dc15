# Everyday tasks. `make run` starts the whole app; `make test` runs the suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?= -n 2

export PORT

.PHONY: venv run test lint fmt clean axe messages screenshots mutants

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

run: venv
	bin/run

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Mutation testing of the guard modules (slow, so not part of `make test`; see tests/MUTANTS.md).
# Each mutant runs only the tests that call the function it changed. One module at a time:
# `make mutants MUTANTS='services.access.*'`. Low priority and one child: the machine is shared.
MUTANTS ?=
mutants: venv
	nice -n 19 $(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/mutmut results

# Translations: collect every marked string into locale/es/LC_MESSAGES/django.po (keeping
# what is translated), then compile django.mo. Commit both files.
messages: venv
	$(BIN)/python manage.py makemessages -l es --no-obsolete \
		--ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench --ignore=tests --ignore=docs
	$(BIN)/python manage.py compilemessages -l es --ignore=.venv

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The README's pictures, taken again from the demo data, saved where the README shows them.
screenshots: venv
	SCREENSHOTS_DIR=docs/screenshots REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/browser/test_screenshots.py -p no:xdist

# Refresh the vendored axe-core of the browser tests from the npm registry (needs npm).
axe:
	bin/vendor-axe

clean:
	rm -rf build *.egg-info staticfiles .pytest_cache .ruff_cache mutants
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
