# The commands the README shows. Everything runs from a local .venv made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-profile bench-tap bench-redis bench-console bench-cases bench-province bench-streams-cluster fraud fraud-apart posters-bench clean

# Two installs, each remembered by a stamp file: the app alone (make run), and the app with
# the dev extras (tests, lint, benchmarks: pytest, playwright, mypy, matplotlib, py-spy, ...).
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The name the docs and helpers use for "the dev venv".
$(BIN)/ratingsvc: $(DEV)
	touch $@

## run: the app under gunicorn on 127.0.0.1:8000, with an embedded Redis and demo data
run: $(RUNTIME)
	$(BIN)/ratingsvc serve

# The Redis-facing tests that run a second time against a 3-master Redis Cluster the suite
# starts itself (tests marked single_redis stay out: they watch one server's commands).
CLUSTER_TESTS := $(addprefix tests/test_,$(addsuffix .py,api_rating api_scores api_registry api_cases \
	feed feed_idle feed_retention feed_rows followed feedhub cases citizen_cases review change closing recording import \
	unit_scores registry_steps limits rules scoring report cli contract access retention topology_client \
	channels visits statistics))

## test: lint, types, the whole suite against a redis-server the suite starts itself, then its
## Redis-facing tests against a Redis Cluster it starts
test: $(BIN)/ratingsvc lint
	$(BIN)/pytest
	RATINGSVC_TEST_TOPOLOGY=cluster $(BIN)/pytest -m "not single_redis" $(CLUSTER_TESTS)

lint: $(BIN)/ratingsvc
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache tests/artifacts

## bench: the app under gunicorn and wrk against a bare Flask POST and redis-benchmark (bench/web.py)
bench: $(BIN)/ratingsvc
	$(BIN)/python bench/web.py

## bench-profile: the same, with py-spy on the workers during the rating run
bench-profile: $(BIN)/ratingsvc
	$(BIN)/python bench/web.py --profile

## bench-tap: where a tap's time goes, in-process, against the bare Flask POST (bench/tapcost.py)
bench-tap: $(BIN)/ratingsvc
	$(BIN)/python bench/tapcost.py

## bench-redis: the Redis side of the rating loop against bare Redis (bench/loop.py)
bench-redis: $(BIN)/ratingsvc
	$(BIN)/python bench/loop.py

## bench-province: 30,000 units and 300,000 windows on one Redis and on a 3-master cluster (bench/province.py)
bench-province: $(BIN)/ratingsvc
	$(BIN)/python bench/province.py

## bench-streams-cluster: taps with and without 50 change streams open, on a 3-master cluster (bench/streams_cluster.py; needs wrk)
bench-streams-cluster: $(BIN)/ratingsvc
	$(BIN)/python bench/streams_cluster.py

## bench-console: the console's pages for a city of 3,000 units and 10,000 windows (bench/console.py)
bench-console: $(BIN)/ratingsvc
	$(BIN)/python bench/console.py

## bench-cases: what cases add to a tap and to a period's table (bench/cases.py)
bench-cases: $(BIN)/ratingsvc
	$(BIN)/python bench/cases.py

## fraud: the attack simulation (bench/fraud.py): honest and fraudulent taps, counted or not
fraud: $(BIN)/ratingsvc
	$(BIN)/python bench/fraud.py

## fraud-apart: the four attack simulations written apart from bench/fraud.py (bench/apart/)
fraud-apart: $(BIN)/ratingsvc
	$(BIN)/python bench/apart/first.py --seed 909
	$(BIN)/python bench/apart/second.py
	$(BIN)/python bench/apart/third.py
	$(BIN)/python bench/apart/fourth.py

## posters-bench: 1,000 posters in one PDF (bench/posters.py)
posters-bench: $(BIN)/ratingsvc
	$(BIN)/python bench/posters.py
