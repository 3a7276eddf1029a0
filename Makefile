# Hakobu: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000

.PHONY: demo test test-sqlite test-postgres lint bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -c 'import routing.sisr; routing.sisr.warm_up()'
	touch $(STAMP)

## demo: set up .venv, load the sample region, seed a demo day and start the console
demo: $(STAMP)
	$(BIN)/hakobu demo --port $(PORT)

## test: set up .venv and run every test (on SQLite, then on PostgreSQL when HAKOBU_TEST_DATABASE_URL is set)
## the two passes run side by side (they share no database); the PostgreSQL pass prints when done
test: $(STAMP) browser
	@if [ -n "$$HAKOBU_TEST_DATABASE_URL" ]; then \
		mkdir -p test-artifacts; \
		( $(MAKE) --no-print-directory test-postgres > test-artifacts/test-postgres.log 2>&1; \
		  echo $$? > test-artifacts/test-postgres.rc ) & \
		$(MAKE) --no-print-directory test-sqlite; sqlite=$$?; wait; \
		echo "=== PostgreSQL pass (tests marked db) ==="; cat test-artifacts/test-postgres.log; \
		pg=$$(cat test-artifacts/test-postgres.rc); \
		echo "SQLite pass exit $$sqlite, PostgreSQL pass exit $$pg"; \
		[ "$$sqlite" = 0 ] && [ "$$pg" = 0 ]; \
	else $(MAKE) --no-print-directory test-sqlite && \
		echo "HAKOBU_TEST_DATABASE_URL not set: database tests ran on SQLite only"; fi

test-sqlite: $(STAMP)
	env -u HAKOBU_TEST_DATABASE_URL $(BIN)/python -m pytest

test-postgres: $(STAMP)
	$(BIN)/python -m pytest -m db

## browser: Debian's Chromium for the browser tests (never a browser download)
browser:
	@if [ -x /usr/bin/chromium ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null)); \
	else echo "chromium missing and cannot be installed here: browser tests will say so"; fi

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: routing benchmarks with the PyVRP and VROOM reference columns (see benchmarks/README.md)
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
