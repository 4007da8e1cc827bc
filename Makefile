# Two entry points on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test venv bench clean browser postgres

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,ray,postgres]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/govaudit demo

# Headless Chromium (Debian package) for the report and dashboard browser tests.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: chromium could not be installed; browser tests will be skipped"

# A throwaway PostgreSQL server on 127.0.0.1 (Debian package, installed when missing; runs as a non-root user) for the
# store, index and ledger tests; its URL goes to .pg-url. Without it those tests run on SQLite only.
postgres:
	@.ci/postgres.sh > .pg-url || { echo "note: PostgreSQL could not be started; PostgreSQL tests will be skipped"; : > .pg-url; }

test: $(STAMP) browser postgres
	GOVAUDIT_TEST_PG_URL="$${GOVAUDIT_TEST_PG_URL:-$$(cat .pg-url)}" $(PY) -m pytest -q

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
