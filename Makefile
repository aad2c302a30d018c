# Set-up needs only python3 (3.11+) and make: the first target that needs the
# environment builds it (a private uv in .tools/, the locked packages in .venv/).
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: help setup run test test-repeat test-unit test-integration test-e2e test-faults lint format bench bench-scale soak token contract lock clean replay-dlq rotate-keys verify-audit

help:
	@echo "make run     - start PostgreSQL, the broker and the four services (embedded default)"
	@echo "make run TRACES=1 - the same, with a trace viewer in the browser"
	@echo "make test    - run the whole test suite"
	@echo "make test-repeat N=5 - the whole suite N times, each in a new order, to hunt flakes"
	@echo "make test-faults - fault injection: kills, outages, rebalances under a load of journeys"
	@echo "make lint    - ruff, mypy and the import contracts (lint-imports)"
	@echo "make bench   - throughput, latency and memory figures on the embedded stack"
	@echo "make bench-scale SIZE=100k|5m - fill the databases with years of data (resumable), then measure"
	@echo "make soak    - journeys for minutes with random kills: throughput, p99, invariants, memory"
	@echo "make token ROLE=verifier [SUB=...] [COUNTER=...] [OPD=...] - mint a development bearer token"
	@echo "make rotate-keys [CHECK=1] - move stored personal data to the newest PII keys (resumable)"
	@echo "make verify-audit [DB=postgresql://.../mpp_intake] - check the services' audit chains (exit 0 intact)"
	@echo "make replay-dlq TOPIC=mpp.applications.dlq [SINCE=ISO] [EVENT_ID=...] [DRY_RUN=1] - put parked events back"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml services/*/pyproject.toml deploy/devstack/pyproject.toml
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced

lock: $(UV)
	$(UV) lock

# TRACES=1 also starts a trace viewer (Arize Phoenix, installed on first use in
# .tools/phoenix/, its data in .mpp/traces/) and sends every span to it; its
# URL is in the banner.
run: setup
	$(PY) -m mpp_devstack.launcher $(if $(filter 1 true yes,$(TRACES)),--traces)

# Every test, every fault case included (tests/faults, ~5 min on 2 cores,
# also alone as `make test-faults`). The order is shuffled within each suite
# (pytest-randomly); the header prints the seed, and
# PYTEST_ARGS="--randomly-seed=N" replays that order.
test: setup
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# Hunt flakes: the whole suite N times (default 5), each with a new order,
# stopping at the first failing run (its seed is in its header).
N ?= 5
test-repeat: setup
	@for run in $$(seq 1 $(N)); do \
		echo "== run $$run of $(N)"; \
		$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) || exit $$?; \
	done

test-unit: setup
	$(PY) -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

test-integration: setup
	$(PY) -m pytest -p no:cacheprovider tests/integration $(PYTEST_ARGS)

test-e2e: setup
	$(PY) -m pytest -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

test-faults: setup
	$(PY) -m pytest -p no:cacheprovider tests/faults $(PYTEST_ARGS)

# The same four commands run as pre-commit hooks (.pre-commit-config.yaml) and
# in CI before the tests. mypy checks the `files` of [tool.mypy] (services,
# shared and tests); lint-imports the contracts of [tool.importlinter].
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m tests.bench.run $(BENCH_ARGS)

# The four databases filled with a district's years of data (COPY, resumable:
# run it again after a stop), kept in .mpp/bench-scale/<SIZE>/, then the
# stack measured on them; with both sizes measured, 5m is compared with 100k.
# SCALE_ARGS="--rate 20 --duration 15 --samples 300"; `python -m tests.bench.scale
# fill|measure` runs one half.
SIZE ?= 100k
bench-scale: setup
	$(PY) -m tests.bench.scale all --size $(SIZE) $(SCALE_ARGS)

# Journeys at a steady rate with random kills (not in CI), e.g.
# make soak SOAK_ARGS="--minutes 10 --rate 4 --kill-every 60"
soak: setup
	$(PY) -m tests.bench.soak $(SOAK_ARGS)

token: setup
	@$(PY) -m mpp_shared.auth --role $(ROLE) $(if $(SUB),--sub $(SUB)) $(if $(COUNTER),--counter $(COUNTER)) $(if $(OPD),--opd $(OPD))

# Parked events of a dead-letter topic back onto their original topic (KAFKA_BOOTSTRAP_SERVERS).
replay-dlq: setup
	$(PY) -m mpp_shared.messaging.replay --topic $(TOPIC) $(if $(SINCE),--since $(SINCE)) $(if $(EVENT_ID),--event-id $(EVENT_ID)) $(if $(DRY_RUN),--dry-run)

# Move stored personal data to the active keys (PII_ENCRYPTION_KEYS,
# PII_INDEX_KEYS) in each service's database of `make run` (or of the server
# DATABASE_URL), while the services run; stopped, it carries on when run
# again. CHECK=1 only counts the rows still under older keys.
rotate-keys: setup
	$(PY) -m mpp_devstack.rotate_keys $(if $(CHECK),--check)

# The tamper-evident audit chains (docs/ARCHITECTURE.md, "Tamper-evident
# audit") of the four services' databases on the server DATABASE_URL, else on
# the one `make run` started (./.mpp/pgdata); DB=<url> checks one database.
# Exit 0 intact, 1 a broken link, 2 entries left unsealed too long, 3 unreadable.
# Keys: AUDIT_SIGNING_KEY / AUDIT_VERIFY_KEYS, or AUDIT_ARGS="--public-key ...".
verify-audit: setup
	$(PY) -m mpp_shared.audit_verify $(if $(DB),--database-url "$(DB)",$(if $(DATABASE_URL),--server "$(DATABASE_URL)",--pgdata .mpp/pgdata)) $(AUDIT_ARGS)

# The event contract (AsyncAPI + JSON Schemas) from the models; CHECK=1 only checks.
contract: setup
	$(PY) -m mpp_shared.events.contract $(if $(CHECK),--check)

clean:
	rm -rf $(VENV) $(TOOLS) .mpp
