# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# The port `make run` serves on: `make run PORT=8600`.
PORT ?= 8501

.PHONY: run test lint bench browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the project's dependency list changes. Running needs only the
# package's own dependencies; the tests add theirs (browser driver, database drivers).
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/conflictmap serve --port $(PORT)

# Browser tests need Chromium; Playwright's own browser download is not used.
browser-deps:
	@bash tests/setup_browser.sh
	@bash tests/setup_db.sh

test: $(TEST_STAMP) browser-deps
	$(BIN)/python -m pytest

# The house rules: ruff (rules and format), mypy on the package, ESLint on the map's script
# (tests/lint_js.sh installs it from package-lock.json). CI runs this before the tests.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	bash tests/lint_js.sh

bench: $(TEST_STAMP) browser-deps
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
