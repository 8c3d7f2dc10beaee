# Two commands: `make run` (install, migrate, load the demo clinic, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The base of links in mail and of the URL the demo prints: where this server is reached. Follows
# HOST and PORT unless set already (a proxy in front, e.g. TESSERA_PUBLIC_URL=https://tessera.example).
TESSERA_PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint install install-dev migrate demo serve schema bench bench-inprocess clean graphiql-assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps are rebuilt whenever pyproject.toml changes, so a pulled dependency bump installs itself.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/tessera migrate

demo: install
	TESSERA_PUBLIC_URL=$(TESSERA_PUBLIC_URL) $(BIN)/tessera demo

run: install
	TESSERA_PUBLIC_URL=$(TESSERA_PUBLIC_URL) $(BIN)/tessera demo
	TESSERA_PUBLIC_URL=$(TESSERA_PUBLIC_URL) $(BIN)/tessera serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@echo "== tests on SQLite =="
	TESSERA_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q
	@if [ -n "$$TESSERA_TEST_POSTGRES_URL" ]; then \
		echo "== tests on PostgreSQL ($$TESSERA_TEST_POSTGRES_URL) =="; \
		TESSERA_TEST_DATABASE=postgres $(BIN)/python -m pytest -q || exit $$?; \
		echo "== backends run: SQLite, PostgreSQL =="; \
	else \
		echo "== backends run: SQLite only (set TESSERA_TEST_POSTGRES_URL to run PostgreSQL too) =="; \
	fi

schema: install
	$(BIN)/tessera export-schema > schema/schema.graphql

# Over HTTP: `tessera serve` against a hand-written asyncpg + orjson server (benchmarks/http_bench.py).
# Options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--reuse --requests 500".
bench: install-dev
	$(BIN)/python benchmarks/http_bench.py $(BENCH_ARGS)

# The older in-process benchmark (httpx.ASGITransport, no HTTP server): benchmarks/clients_page.py.
bench-inprocess: install-dev
	$(BIN)/python benchmarks/clients_page.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache *.egg-info

# GraphiQL from the project's own files (no CDN: a PHI system runs no third-party script). Fetches
# the pinned packages from the npm registry and copies what the page loads, with their licenses,
# into app/static/vendor/graphiql/ (vendor/: third-party files, kept apart from the project's own),
# which is committed: `make run` needs no npm. Run it to change versions.
GRAPHIQL_VERSION := 3.8.3
REACT_VERSION := 18.3.1
GRAPHIQL_DIR := app/static/vendor/graphiql
graphiql-assets:
	rm -rf .graphiql-build && mkdir -p .graphiql-build $(GRAPHIQL_DIR)
	cd .graphiql-build && npm pack --silent graphiql@$(GRAPHIQL_VERSION) react@$(REACT_VERSION) react-dom@$(REACT_VERSION)
	cd .graphiql-build && for p in graphiql-$(GRAPHIQL_VERSION) react-$(REACT_VERSION) react-dom-$(REACT_VERSION); do \
		mkdir -p $$p && tar -xzf $$p.tgz -C $$p; done
	cp .graphiql-build/graphiql-$(GRAPHIQL_VERSION)/package/graphiql.min.js $(GRAPHIQL_DIR)/
	cp .graphiql-build/graphiql-$(GRAPHIQL_VERSION)/package/graphiql.min.css $(GRAPHIQL_DIR)/
	cp .graphiql-build/graphiql-$(GRAPHIQL_VERSION)/package/LICENSE $(GRAPHIQL_DIR)/LICENSE.graphiql
	cp .graphiql-build/react-$(REACT_VERSION)/package/umd/react.production.min.js $(GRAPHIQL_DIR)/
	cp .graphiql-build/react-$(REACT_VERSION)/package/LICENSE $(GRAPHIQL_DIR)/LICENSE.react
	cp .graphiql-build/react-dom-$(REACT_VERSION)/package/umd/react-dom.production.min.js $(GRAPHIQL_DIR)/
	cp .graphiql-build/react-dom-$(REACT_VERSION)/package/LICENSE $(GRAPHIQL_DIR)/LICENSE.react-dom
	printf 'graphiql %s\nreact %s\nreact-dom %s\n' $(GRAPHIQL_VERSION) $(REACT_VERSION) $(REACT_VERSION) > $(GRAPHIQL_DIR)/VERSIONS
	rm -rf .graphiql-build
